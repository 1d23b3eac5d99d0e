"""Checkpoints on disk: one directory per checkpoint, complete the moment it is renamed into place.

``CHECKPOINT_DIR/step-000000123/`` holds either ``state.pt`` (one process: a plain ``torch.save`` of the
whole state) or a ``torch.distributed.checkpoint`` directory (``.metadata`` and one ``.distcp`` shard per
rank, resharded on load to any number of processes) plus ``extra.pt`` (what is not a tensor: position,
scheduler, scaler, random generators, extras). A checkpoint is written under ``.step-000000123.tmp`` and
renamed when every byte is on disk, so a process killed mid-save leaves the previous checkpoint as the
newest complete one; the next save clears the leftover.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict_loader import load as dcp_load
from torch.distributed.checkpoint.state_dict_saver import save as dcp_save

from sovereign.contract import atomic_write, fsync_directory

SINGLE_FILE = "state.pt"
EXTRA_FILE = "extra.pt"
DCP_METADATA = ".metadata"
SUMMARY_FILE = "checkpoint.json"
_PREFIX = "step-"


class CheckpointError(RuntimeError):
    """A checkpoint exists but cannot be used; it is never silently replaced by a fresh start."""


def step_directory(root: Path, global_step: int) -> Path:
    """Where the checkpoint taken after ``global_step`` optimizer steps lives."""
    return root / f"{_PREFIX}{global_step:09d}"


def complete_checkpoints(root: Path) -> list[Path]:
    """Every complete checkpoint under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(_PREFIX) and p.name[5:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(_PREFIX) :]))


def latest(root: Path) -> Path | None:
    """The newest complete checkpoint, or None when there is none."""
    found = complete_checkpoints(root)
    return found[-1] if found else None


def is_sharded(checkpoint: Path) -> bool:
    """Whether ``checkpoint`` was written by ``torch.distributed.checkpoint``."""
    return (checkpoint / DCP_METADATA).exists()


def _temporary(root: Path, global_step: int) -> Path:
    return root / f".{_PREFIX}{global_step:09d}.tmp"


def remove_leftovers(root: Path) -> None:
    """Removes half-written checkpoints of processes that were killed while saving."""
    for path in root.glob(f".{_PREFIX}*.tmp"):
        shutil.rmtree(path, ignore_errors=True)


def _save_file(path: Path, obj: Any) -> None:
    with open(path, "wb") as file:
        torch.save(obj, file)
        file.flush()
        os.fsync(file.fileno())


def _publish(root: Path, temporary: Path, final: Path, summary: dict[str, Any]) -> None:
    fsync_directory(temporary)
    if final.exists():  # a checkpoint of this very step (saved again after a resume): replace it
        shutil.rmtree(final)
    os.replace(temporary, final)
    fsync_directory(root)
    summary = {**summary, "checkpoint": final.name, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    text = (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode()
    atomic_write(root / SUMMARY_FILE, lambda file: file.write(text))


def save_single(root: Path, global_step: int, state: dict[str, Any], summary: dict[str, Any]) -> Path:
    """Saves the whole state of a single process as one ``torch.save`` file; returns the checkpoint."""
    root.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(root, global_step)
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    _save_file(temporary / SINGLE_FILE, state)
    final = step_directory(root, global_step)
    _publish(root, temporary, final, summary)
    return final


def save_sharded(
    root: Path, global_step: int, tensors: dict[str, Any], extra: dict[str, Any], summary: dict[str, Any]
) -> Path:
    """Saves with ``torch.distributed.checkpoint`` from every rank (a collective); returns the checkpoint."""
    temporary = _temporary(root, global_step)
    if dist.get_rank() == 0:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir()
    dist.barrier()
    dcp_save(tensors, checkpoint_id=str(temporary))
    final = step_directory(root, global_step)
    if dist.get_rank() == 0:
        _save_file(temporary / EXTRA_FILE, extra)
        _publish(root, temporary, final, summary)
    dist.barrier()
    return final


def prune(root: Path, keep: int) -> None:
    """Removes all but the ``keep`` newest complete checkpoints."""
    for old in complete_checkpoints(root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def _load_dictionary(path: Path) -> dict[str, Any]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"cannot read checkpoint {path}: {error}") from error
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: expected a dictionary, found {type(state).__name__}")
    return state


def load_single(checkpoint: Path) -> dict[str, Any]:
    """The whole state saved by :func:`save_single`.

    Raises:
        CheckpointError: the file is missing, truncated or not a checkpoint.
    """
    return _load_dictionary(checkpoint / SINGLE_FILE)


def load_sharded(checkpoint: Path, tensors: dict[str, Any]) -> dict[str, Any]:
    """Loads the shards into ``tensors`` (in place, resharded for this world) and returns the extra state.

    Raises:
        CheckpointError: the shards or the extra file cannot be read.
    """
    try:
        dcp_load(tensors, checkpoint_id=str(checkpoint))
    except Exception as error:
        raise CheckpointError(f"cannot read checkpoint {checkpoint}: {error}") from error
    return _load_dictionary(checkpoint / EXTRA_FILE)
