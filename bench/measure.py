"""Runs each target in a fresh interpreter and collects what the child measured about itself."""

from __future__ import annotations

import compileall
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import BARE, BASELINE, FUNCTION, Measurement, Sample
from local import template as tpl

ROOT = tpl.ROOT
LAYER = ROOT / "layers" / "core"  # what SAM puts in the layer's python/, i.e. /opt/python in Lambda
REGION = "us-east-1"
TIMEOUT_SECONDS = 60.0

# The plain import of every runtime dependency, as TOOLING-NOTES measured it: the figure to beat.
BASELINE_BODY = """\
import boto3
import httpx
import lxml.etree
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from intuitlib.client import AuthClient
from pydantic import BaseModel

Logger()
Tracer()
APIGatewayHttpResolver(enable_validation=True)
"""

# The child: only `body` is timed. Network access is refused (an audit hook sees every socket call, even
# from C), so a handler that reaches out at import fails here instead of waiting on a timeout. Peak RSS and
# module count are read right after the import; the JSON result goes to stdout as the last line.
CHILD = """\
import importlib.util, resource, sys, time

_network = []

def _refuse_network(event, args, _watch=frozenset({{"socket.connect", "socket.getaddrinfo",
                                                   "socket.gethostbyname", "socket.gethostbyaddr"}})):
    if event in _watch:
        _network.append(f"{{event}} {{args!r}}"[:200])
        print(f"bench: network access during import: {{_network[-1]}}", file=sys.stderr, flush=True)
        raise PermissionError(f"bench: network access during import: {{event}}")

sys.addaudithook(_refuse_network)
_modules = len(sys.modules)
_t0 = time.perf_counter()
{body}
_t1 = time.perf_counter()
_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
_modules = len(sys.modules) - _modules
import json
print(json.dumps({{
    "import_ms": (_t1 - _t0) * 1000.0,
    "maxrss_kb": _rss // 1024 if sys.platform == "darwin" else _rss,
    "modules": _modules,
    "network": _network,
}}))
"""

# Loads the handler as the Lambda runtime does: module `app` from the code directory, then its handler.
HANDLER_BODY = """\
_spec = importlib.util.spec_from_file_location({module!r}, {path!r})
_module = importlib.util.module_from_spec(_spec)
sys.modules[{module!r}] = _module
_spec.loader.exec_module(_module)
if not callable(getattr(_module, {attr!r}, None)):
    raise SystemExit("bench: {path} has no callable {attr}")
"""


class MeasureError(RuntimeError):
    """A child failed; the message says how."""


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    body: str | None  # statements timed in the child; None runs a bare `python -c pass`
    cwd: Path
    env: Mapping[str, str]

    def child_code(self) -> str:
        """The child's program; for the bare interpreter, the same program importing nothing."""
        return CHILD.format(body="pass" if self.body is None else self.body)


def base_environment(service: str) -> dict[str, str]:
    """What a handler needs at import, and no more: no credentials, no endpoints (it must do no I/O then)."""
    return {
        "PYTHONPATH": str(LAYER),
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": REGION,
    }


def function_target(spec: tpl.Function) -> Target:
    module, _, attr = spec.handler.rpartition(".")
    if not module:
        raise ValueError(f"{spec.logical_id}: handler {spec.handler!r} is not module.attribute")
    path = spec.code_uri / (module.replace(".", "/") + ".py")
    # The function's own literal settings (its service name, metrics namespace); references to resources stay
    # unresolved, since nothing may read them at import.
    literal = {k: v for k, v in spec.environment.items() if isinstance(v, str)}
    env = {**literal, **base_environment(str(literal.get("POWERTOOLS_SERVICE_NAME", spec.logical_id)))}
    # The code directory is the working directory and sys.path[0], as /var/task is in Lambda.
    return Target(
        name=spec.logical_id,
        kind=FUNCTION,
        body=HANDLER_BODY.format(module=module, path=str(path), attr=attr),
        cwd=spec.code_uri,
        env=env,
    )


def targets(template: Mapping[str, object] | None = None) -> list[Target]:
    """The bare interpreter, the baseline, then every function of template.yaml in template order."""
    functions = tpl.functions(tpl.load() if template is None else template)
    return [
        Target(name="python -c pass", kind=BARE, body=None, cwd=ROOT, env=base_environment("bench")),
        Target(
            name="all runtime dependencies",
            kind=BASELINE,
            body=BASELINE_BODY,
            cwd=ROOT,
            env=base_environment("bench"),
        ),
        *(function_target(spec) for spec in functions.values()),
    ]


def precompile(targets_: Sequence[Target], python: str = sys.executable) -> None:
    """Write `python`'s .pyc files first, as `make build` does, so that no run pays for compiling the
    sources."""
    if python == sys.executable:
        compileall.compile_dir(LAYER / "qbsync", quiet=1)
        for t in targets_:
            if t.kind == FUNCTION:
                compileall.compile_dir(t.cwd, quiet=1, maxlevels=0)
        return
    dirs = [str(LAYER / "qbsync"), *(str(t.cwd) for t in targets_ if t.kind == FUNCTION)]
    subprocess.run([python, "-m", "compileall", "-q", *dirs], check=True, capture_output=True)


def version_of(python: str) -> str:
    """`Python 3.13.0 (/path/to/python)`: which interpreter the figures are of."""
    if python == sys.executable:
        return f"Python {platform.python_version()} ({python})"
    found = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return f"Python {found.stdout.strip()} ({python})"


# Linux carries a process's peak RSS over fork and exec, so a child spawned straight from this process would
# report at least this process's own peak. A small shell in between forks the interpreter from its own tiny
# address space instead; `; exit $?` keeps the shell from exec'ing the command in its place.
_VIA_SHELL = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]


@dataclass(frozen=True)
class _Finished:
    wall_ms: float
    returncode: int
    stdout: str
    stderr: str


def _spawn(argv: list[str], target: Target, timeout: float) -> _Finished:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*_VIA_SHELL, *argv],
        cwd=target.cwd,
        env=dict(target.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        os.killpg(proc.pid, signal.SIGKILL)  # the shell and the interpreter under it
        proc.communicate()
        raise MeasureError(f"took more than {timeout:.0f} s (does the import wait on the network?)") from exc
    return _Finished((time.perf_counter() - start) * 1000.0, proc.returncode, stdout, stderr)


def _child(target: Target, timeout: float, python: str) -> tuple[float, dict[str, Any]]:
    """Runs the child program; its wall time as seen from here, and what it measured about itself."""
    done = _spawn([python, "-c", target.child_code()], target, timeout)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        network = sorted({line for line in lines if line.startswith("bench: network access")})
        raise MeasureError(f"exit {done.returncode}: " + " | ".join(network or lines[-3:]))
    last = next((line for line in reversed(done.stdout.splitlines()) if line.startswith("{")), None)
    if last is None:
        raise MeasureError("the child printed no result")
    data: dict[str, Any] = json.loads(last)
    if data["network"]:
        raise MeasureError("network access during import: " + "; ".join(data["network"]))
    return done.wall_ms, data


def run_once(target: Target, timeout: float = TIMEOUT_SECONDS, python: str = sys.executable) -> Sample:
    """One fresh `python` for the target; the bare row's wall time is a literal `python -c pass`'s."""
    wall_ms, data = _child(target, timeout, python)
    if target.body is None:
        bare = _spawn([python, "-c", "pass"], target, timeout)
        if bare.returncode != 0:
            raise MeasureError(
                f"`python -c pass` exited with {bare.returncode}: {bare.stderr.strip()[-200:]}"
            )
        wall_ms = bare.wall_ms
    return Sample(
        import_ms=float(data["import_ms"]),
        wall_ms=wall_ms,
        maxrss_kb=int(data["maxrss_kb"]),
        modules=int(data["modules"]),
    )


def run_all(
    targets_: Sequence[Target],
    runs: int,
    *,
    timeout: float = TIMEOUT_SECONDS,
    progress: Callable[[int, int], None] | None = None,
    python: str = sys.executable,
) -> list[Measurement]:
    """`runs` rounds over all targets, one subprocess at a time (so they do not compete for the cores), taking
    the targets in turn within a round so that drift in the machine's speed spreads over all of them alike."""
    samples: dict[str, list[Sample]] = {t.name: [] for t in targets_}
    errors: dict[str, str] = {}
    for round_ in range(1, runs + 1):
        if progress is not None:
            progress(round_, runs)
        for t in targets_:
            if t.name in errors:
                continue
            try:
                samples[t.name].append(run_once(t, timeout, python))
            except MeasureError as exc:
                errors[t.name] = str(exc)
    return [
        Measurement(name=t.name, kind=t.kind, samples=tuple(samples[t.name]), error=errors.get(t.name))
        for t in targets_
    ]
