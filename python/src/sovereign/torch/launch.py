"""``python -m sovereign.torch.launch SCRIPT [ARGS...]``: torchrun with as many processes as Sovereign gave.

It runs ``torchrun --standalone --nproc-per-node N SCRIPT ARGS`` with ``N`` from ``--nproc-per-node``, else
``SOVEREIGN_ACCELERATORS``, else 1, in the same process group, so the SIGTERM of a pause reaches torchrun
and every rank. It answers Sovereign with the status it expects: 0 when the ranks finished, 143 when a
pause was asked for and the ranks stopped, torchrun's own status otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType

from sovereign.contract import EXIT_COMPLETE, EXIT_PAUSED, Environment

_requested: list[int] = []


def _record(number: int, frame: FrameType | None) -> None:
    # torchrun and the ranks are in this process group and get the signal themselves; only remember it.
    _requested.append(number)


def processes(requested: int | None, environ: dict[str, str] | None = None) -> int:
    """How many ranks to start: ``requested``, else ``SOVEREIGN_ACCELERATORS`` (at least 1), else 1."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"--nproc-per-node: expected at least 1, found {requested}")
        return requested
    accelerators = Environment.read(environ).accelerators
    return max(accelerators or 1, 1)


def status(returncode: int, paused: bool) -> int:
    """The exit status for Sovereign from torchrun's ``returncode`` (negative: killed by that signal)."""
    if returncode == EXIT_COMPLETE:
        return EXIT_COMPLETE
    if paused:
        return EXIT_PAUSED
    return 128 - returncode if returncode < 0 else returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Runs torchrun; returns the status to exit with."""
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, _record)
    parser = argparse.ArgumentParser(prog="python -m sovereign.torch.launch", description=__doc__)
    parser.add_argument("--nproc-per-node", type=int, default=None, help="ranks (default: SOVEREIGN_ACCELERATORS)")
    parser.add_argument("script", help="the training script")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="the script's arguments")
    options = parser.parse_args(argv)
    try:
        count = processes(options.nproc_per_node, dict(os.environ))
    except ValueError as error:
        parser.error(str(error))
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={count}",
        options.script, *options.arguments,
    ]  # fmt: skip
    print(f"sovereign: launching {count} process{'es' if count != 1 else ''}", flush=True)
    child = subprocess.Popen(command)
    returncode = child.wait()
    return status(returncode, paused=bool(_requested))


if __name__ == "__main__":
    sys.exit(main())
