"""SnapStart's hooks (qbsync/snapstart.py), registered through the library Lambda's Python runtimes include
and run as the runtime runs them: before the snapshot, each function that answers people or Intuit builds
what its first call would, without opening a connection; after a restore, a copy draws its own random
numbers and makes its own AWS clients, and answers."""

from __future__ import annotations

import inspect
import random
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import snapshot_restore_py

from local import lambdas
from local import template as tpl
from local.aws import LocalStack
from qbsync import composition, snapstart
from tests.conftest import load_event

SNAPSTARTED = ("ApiFunction", "AuthorizerFunction", "ConnectFunction", "QboWebhookFunction", "QbwcFunction")
# What each warm-up builds: the function's cached resolver, empty until its first call.
BUILT = {"ApiFunction": "api", "ConnectFunction": "pages", "QbwcFunction": "endpoint"}


@pytest.fixture
def hooks() -> Iterator[tuple[list[Any], list[Any]]]:
    """The library's registries, emptied before and after (the runtime reads them after the import)."""
    before = snapshot_restore_py._before_snapshot_registry
    after = snapshot_restore_py._after_restore_registry
    before.clear()
    after.clear()
    yield before, after
    before.clear()
    after.clear()


def load(aws_env: LocalStack, logical_id: str) -> dict[str, Any]:
    """The function's handler module loaded as its cold start would; its globals."""
    spec = tpl.functions(aws_env.template)[logical_id]
    handler = lambdas.load_instance(spec, aws_env.function_environment(spec))
    module_globals: dict[str, Any] = inspect.unwrap(handler).__globals__
    return module_globals


def run(registry: list[Any]) -> None:
    for func, args, kwargs in registry:
        func(*args, **kwargs)


def test_on_demand_starts_register_no_hook(
    aws_env: LocalStack, hooks: tuple[list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    for logical_id in SNAPSTARTED:
        load(aws_env, logical_id)
    assert hooks == ([], [])


def test_before_the_snapshot_each_function_builds_what_its_first_call_would_without_a_connection(
    aws_env: LocalStack, hooks: tuple[list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", snapstart.SNAP_START)
    modules = {logical_id: load(aws_env, logical_id) for logical_id in SNAPSTARTED}
    before, after = hooks
    assert len(before) == len(after) == len(SNAPSTARTED)
    for logical_id, name in BUILT.items():
        assert modules[logical_id][name].cache_info().currsize == 0, logical_id  # the import built nothing

    def refused(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a snapshot must hold no connection (tried {address!r})")

    with monkeypatch.context() as no_network:
        no_network.setattr(socket.socket, "connect", refused)
        run(list(reversed(before)))  # the runtime runs them in the reverse order of registration
    for logical_id, name in BUILT.items():
        assert modules[logical_id][name].cache_info().currsize == 1, logical_id


def test_a_restored_copy_draws_its_own_random_numbers_makes_its_own_clients_and_answers(
    aws_env: LocalStack, hooks: tuple[list[Any], list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", snapstart.SNAP_START)
    spec = tpl.functions(aws_env.template)["ApiFunction"]
    handler = lambdas.load_instance(spec, aws_env.function_environment(spec))
    before, after = hooks
    run(list(reversed(before)))
    snapshot_container = composition.container()
    random.seed(7)  # the state a snapshot would hold
    snapshot_draw = random.random()
    random.seed(7)

    run(after)

    assert random.random() != snapshot_draw
    assert composition.container() is not snapshot_container
    answer = handler(load_event("api_health.json"), lambdas.LambdaContext("api", 512, 30))
    assert answer["statusCode"] == 200
