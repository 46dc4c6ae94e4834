"""Starting the local stack as `make run` does: a subprocess, its output read until it says `ready`, then
read on by a thread for as long as it runs (a pipe nobody reads fills up, and a process writing its logs to
it then stops)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from local import stack as local_stack

ROOT = Path(__file__).resolve().parents[2]
# The system Chromium, headless, in a container: no sandbox or GPU, and nothing reaching beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LocalProcess:
    process: subprocess.Popen[str]
    output: list[str]  # every line printed so far (until `ready`, then as the reader gets it)
    reader: threading.Thread | None = None

    @property
    def api(self) -> str:
        return self.printed(r"API\s+(http://\S+)")

    @property
    def qbo(self) -> str:
        return self.printed(r"QBO sandbox\s+(http://\S+)")

    @property
    def qbd(self) -> str:
        return self.printed(r"QBD stand-ins\s+(http://\S+)/_qbd")

    @property
    def key(self) -> str:
        return self.printed(r"API key\s+(qbs_\S+)")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def printed(self, pattern: str) -> str:
        """The first group of `pattern` in what the stack printed before `ready`."""
        text = "".join(self.output)
        found = re.search(pattern, text)
        assert found, text
        return found.group(1)

    def stop(self, timeout: float = 30) -> str:
        """Ctrl-C, as a user stops `make run`; everything it printed, once it has exited."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # the stacks of its threads, to say where it hangs
            time.sleep(2)
            tail = "".join(self.output)[-12000:]
            raise AssertionError(f"the stack did not stop within {timeout} s after Ctrl-C:\n{tail}") from None
        if self.reader is not None:
            self.reader.join(timeout)
        return "".join(self.output)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_local_stack(preexec_fn: Callable[[], object] | None = None) -> LocalProcess:
    """`python -m local` on free ports, with none of this process's AWS or stack variables."""
    stack_vars = ("AWS_", "TABLE_", "JOBS_", "EVENT_", "TOKEN_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(stack_vars)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local",
            "--port",
            "0",
            "--aws-port",
            "0",
            "--qbo-port",
            "0",
            "--qbd-port",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=preexec_fn,  # noqa: PLW1509 - only to hand it the signal state a shell may
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (line := process.stdout.readline()):
        lines.append(line)
        if line.strip() == "ready":
            break
    stdout = process.stdout
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")), daemon=True)
    reader.start()
    return LocalProcess(process, lines, reader)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalProcess]:
    """The stack as `make run` starts it, in its own process, for a module's tests."""
    started = start_local_stack()
    yield started
    started.kill()


@pytest.fixture(scope="module")
def running() -> Iterator[local_stack.RunningStack]:
    """The whole stack in this process (no queue pollers), for a module's tests; the environment and the
    composition root are put back afterwards."""
    from local import stack as local_stack
    from qbsync import composition

    saved = dict(os.environ)
    composition.container.cache_clear()
    stack = local_stack.start(port=0, aws_port=0, qbo_port=0, run_consumers=False)
    yield stack
    stack.stop()
    os.environ.clear()
    os.environ.update(saved)
    composition.container.cache_clear()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """The system Chromium through Playwright, for a module's browser tests."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    assert executable, "Chromium is missing: `make test` installs it (apt-get install chromium)"
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
