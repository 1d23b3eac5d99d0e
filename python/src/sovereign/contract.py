"""The contract between Sovereign's executor and a workload, read from the environment.

Sovereign starts every attempt of a workload as a process in its own process group with these variables
(see ``Examples/workloads/README.md`` in the repository):

``SOVEREIGN_WORKLOAD``
    the workload's name.
``SOVEREIGN_CHECKPOINT_DIR``
    a directory kept across attempts; checkpoints live here.
``SOVEREIGN_RESUME``
    ``1`` when this start resumes the workload after a pause.
``SOVEREIGN_ATTEMPT``, ``SOVEREIGN_SITE``, ``SOVEREIGN_ACCELERATORS``
    the attempt's number, the site it runs at and how many accelerators it was given.
``SOVEREIGN_CHECKPOINT_INTERVAL``
    optional: save a checkpoint at least this often (``"30 s"``, ``"5 min"``, or plain seconds); set it
    in the workload's ``run.env``.
``SOVEREIGN_PRECISION``
    optional: ``fp32``, ``bf16`` or ``fp16``; read by :func:`sovereign.torch.autocast`.

A pause is SIGTERM to the process group, then SIGKILL after the workload's grace period. The process
answers with its exit status: :data:`EXIT_COMPLETE` (0) only when the work is finished, :data:`EXIT_PAUSED`
(143, 128 + SIGTERM) after it saved a checkpoint for a pause; anything else is a failure that the server
retries with backoff.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

EXIT_COMPLETE = 0
"""The work is finished and its results are written. Never exit 0 for any other reason."""

EXIT_PAUSED = 128 + int(signal.SIGTERM)
"""143: the workload saved its checkpoint after SIGTERM and stopped; the next start resumes it."""

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|min|h)?\s*$")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "min": 60.0, "h": 3600.0, None: 1.0}


class ContractError(ValueError):
    """A variable of the Sovereign environment holds something that cannot be used."""


def parse_duration(name: str, text: str) -> float:
    """Seconds in a duration like ``"30 s"``, ``"5 min"``, ``"250 ms"``, ``"1 h"`` or a plain ``"90"``.

    Raises:
        ContractError: naming the variable, what was expected and what was found.
    """
    match = _DURATION.match(text)
    if match is None:
        raise ContractError(f'{name}: expected a duration like "30 s", "5 min" or "90", found {text!r}')
    seconds = float(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]
    if seconds <= 0:
        raise ContractError(f"{name}: expected a duration above zero, found {text!r}")
    return seconds


def _optional_int(environ: Mapping[str, str], name: str) -> int | None:
    text = environ.get(name)
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise ContractError(f"{name}: expected a whole number, found {text!r}") from None


@dataclass(frozen=True)
class Environment:
    """What Sovereign told this attempt, with defaults for a run by hand."""

    workload: str
    checkpoint_dir: Path
    resume: bool
    attempt: int | None
    site: str | None
    accelerators: int | None
    checkpoint_interval: float | None
    precision: str | None

    @staticmethod
    def read(environ: Mapping[str, str] | None = None) -> Environment:
        """Reads the variables from ``environ`` (default: ``os.environ``).

        Outside Sovereign the workload is ``job`` and checkpoints go to ``./checkpoints``.

        Raises:
            ContractError: a variable holds something that is not what the contract says.
        """
        env = os.environ if environ is None else environ
        interval_text = env.get("SOVEREIGN_CHECKPOINT_INTERVAL")
        interval = None if not interval_text else parse_duration("SOVEREIGN_CHECKPOINT_INTERVAL", interval_text)
        accelerators = _optional_int(env, "SOVEREIGN_ACCELERATORS")
        if accelerators is not None and accelerators < 0:
            raise ContractError(f"SOVEREIGN_ACCELERATORS: expected 0 or more, found {accelerators}")
        return Environment(
            workload=env.get("SOVEREIGN_WORKLOAD") or "job",
            checkpoint_dir=Path(env.get("SOVEREIGN_CHECKPOINT_DIR") or "checkpoints"),
            resume=env.get("SOVEREIGN_RESUME") == "1",
            attempt=_optional_int(env, "SOVEREIGN_ATTEMPT"),
            site=env.get("SOVEREIGN_SITE") or None,
            accelerators=accelerators,
            checkpoint_interval=interval,
            precision=env.get("SOVEREIGN_PRECISION") or None,
        )


def fsync_directory(directory: Path) -> None:
    """Makes a rename or a new entry in ``directory`` durable (best effort where the OS refuses)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Writes ``path`` so that a reader, or a process killed at any moment, sees the old file or the new one.

    ``write`` fills a temporary file beside ``path``; it is flushed, fsynced and renamed over ``path``.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
