"""Lambda SnapStart (template.yaml, docs/deploy.md): what a function does before its snapshot is taken, and
after a copy of it is restored.

Handlers import little (a cold start without SnapStart answers sooner) and load the rest at their first
call. With SnapStart, the snapshot is taken after the import, so `prepare` has that rest built and loaded
before the snapshot instead: restored copies start with it. What it builds must open no connection and read
no secret (a snapshot must hold neither); building resolvers, importing modules and reading templates is fine.

After a restore, every copy seeds the random generator again (copies of one snapshot would draw the same
numbers) and drops the composition root, so that each copy makes its own AWS clients, with credentials of
its own, at its first call.

Hooks are registered only where Lambda initialises the function for a snapshot
(AWS_LAMBDA_INITIALIZATION_TYPE is `snap-start`), through `snapshot_restore_py`, which Lambda's Python
runtimes (3.12 and later) include; elsewhere (on-demand starts, tests, the local stack) nothing is.
Sources: AWS Lambda Developer Guide, "Lambda SnapStart runtime hooks for Python", "Handling uniqueness with
Lambda SnapStart" and "Defined runtime environment variables".
"""

from __future__ import annotations

import importlib
import os
import random
from collections.abc import Callable

SNAP_START = "snap-start"


def prepare(*build: Callable[[], object], modules: tuple[str, ...] = ()) -> bool:
    """Before the snapshot, call each of `build` (the function's cached resolver, say) and import `modules`;
    after each restore, `restored`. Whether the hooks were registered (not unless the function is being
    initialised for a snapshot)."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != SNAP_START:
        return False
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False

    def warm() -> None:
        for make in build:
            make()
        for name in modules:
            importlib.import_module(name)

    register_before_snapshot(warm)
    register_after_restore(restored)
    return True


def restored() -> None:
    """After a restore: a fresh random seed, and a composition root (AWS clients) of this copy's own."""
    random.seed()
    from qbsync import composition

    composition.container.cache_clear()
