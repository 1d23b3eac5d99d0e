"""A process killed with SIGKILL in the middle of a save leaves the previous checkpoint, and it loads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from sovereign.torch import Checkpointing
from sovereign.torch.store import complete_checkpoints

# The child saves checkpoints whose weights all equal the save's number; on its third save the chosen
# moment blocks (after the bytes were half written, or after all were written but before the rename),
# the child says so, and the test kills it.
CHILD = """
import io, os, sys, time, torch
from torch import nn
from sovereign.torch import Checkpointing, store

moment = sys.argv[1]
real_save_file = store._save_file

def blocking_save_file(path, obj):
    if ckpt.position.global_step < 3:
        return real_save_file(path, obj)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    with open(path, "wb") as file:
        file.write(data if moment == "before-rename" else data[: len(data) // 2])
        file.flush()
        print("blocked", len(data), flush=True)
        time.sleep(600)

store._save_file = blocking_save_file
model = nn.Linear(1000, 1000)
optimizer = torch.optim.Adam(model.parameters())
with Checkpointing(model, optimizer) as ckpt:
    for number in range(1, 4):
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.fill_(float(number))
        ckpt.position.global_step = number
        ckpt.save()
        print("saved", number, flush=True)
"""


@pytest.mark.parametrize("moment", ["mid-write", "before-rename"])
def test_a_save_killed_midway_leaves_the_previous_checkpoint_loadable(tmp_path: Path, moment: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, moment], env={**os.environ, "SOVEREIGN_CHECKPOINT_DIR": str(tmp_path)},
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        lines = []
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.strip())
            if line.startswith("blocked"):
                break
        assert lines[-1].startswith("blocked"), lines
        assert lines[-3:-1] == ["saved 1", "saved 2"]
        os.killpg(child.pid, signal.SIGKILL)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    # The half-written checkpoint is there, but only under its temporary name.
    assert (tmp_path / ".step-000000003.tmp" / "state.pt").exists()
    assert [p.name for p in complete_checkpoints(tmp_path)] == ["step-000000002"]

    model = nn.Linear(1000, 1000)
    optimizer = torch.optim.Adam(model.parameters())
    with Checkpointing(model, optimizer, environ={"SOVEREIGN_CHECKPOINT_DIR": str(tmp_path)}) as ckpt:
        assert ckpt.resumed_from == tmp_path / "step-000000002"
        assert ckpt.position.global_step == 2
        assert all(bool((p == 2.0).all()) for p in model.parameters())
        assert not (tmp_path / ".step-000000003.tmp").exists()  # the leftover is cleared
