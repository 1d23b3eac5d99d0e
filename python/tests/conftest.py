"""Fixtures shared by the tests: the repository, the example job, processes stopped by their id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
JOB = REPOSITORY / "python" / "examples" / "digits_job.py"


class Processes:
    """Processes a test started, each in its own process group; teardown stops every one by its id."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(
        self, command: list[str], *, env: dict[str, str] | None = None, log: Path | None = None, cwd: Path = REPOSITORY
    ) -> subprocess.Popen[bytes]:
        # Append mode: a child that reopens its standard error (Foundation does) must not write over others.
        output = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def processes() -> Iterator[Processes]:
    running = Processes()
    yield running
    running.stop_all()


def job_command(*arguments: str) -> list[str]:
    """The example job, run by this interpreter."""
    return [sys.executable, str(JOB), *arguments]
