"""Checkpointing in one process: a pause saves everything, and the resumed run ends bit for bit the same."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from sovereign.contract import EXIT_PAUSED
from sovereign.torch import CheckpointError, Checkpointing
from sovereign.torch.store import complete_checkpoints

DATA = TensorDataset(torch.randn(96, 8, generator=torch.Generator().manual_seed(1)), torch.arange(96) % 3)


def train(
    directory: Path,
    *,
    pause_at: int | None = None,
    batch_size: int = 16,
    epochs: int = 3,
    extra_env: dict[str, str] | None = None,
) -> dict[str, torch.Tensor]:
    """A small loop with every kind of state; SIGTERM to itself before step ``pause_at``."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    environ = {"SOVEREIGN_CHECKPOINT_DIR": str(directory), **(extra_env or {})}
    with Checkpointing(model, optimizer, scheduler, scaler, seed=3, environ=environ) as ckpt:
        loader = DataLoader(DATA, batch_sampler=ckpt.sampler(len(DATA), batch_size))
        for _ in ckpt.epochs(epochs):
            for x, y in ckpt.batches(loader):
                if ckpt.position.global_step == pause_at:
                    os.kill(os.getpid(), signal.SIGTERM)
                # Draw from every generator, as augmentation would, so their states matter.
                noise = random.random() + float(np.random.rand()) + torch.rand(()).item()
                loss = nn.functional.cross_entropy(model(x + noise * 1e-3), y)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                scheduler.step()
                ckpt.extras["seen"] = ckpt.extras.get("seen", 0) + len(y)
    return {**{k: v.clone() for k, v in model.state_dict().items()}, "seen": torch.tensor(ckpt.extras["seen"])}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_paused_twice_ends_with_the_same_weights_bit_for_bit(tmp_path: Path) -> None:
    reference = train(tmp_path / "reference")
    paused = tmp_path / "paused"
    for step in (4, 11):  # mid-epoch (6 steps an epoch), then in the next epoch
        with pytest.raises(SystemExit) as stopped:
            train(paused, pause_at=step)
        assert stopped.value.code == EXIT_PAUSED
    resumed = train(paused)
    assert same(resumed, reference)
    assert int(resumed["seen"]) == 3 * 96  # the extras came back: no example counted twice or lost


def test_without_restoring_the_generators_the_weights_differ(tmp_path: Path) -> None:
    # The check above can fail: a resume that lost the generators' states gives other weights.
    reference = train(tmp_path / "reference")
    with pytest.raises(SystemExit):
        train(tmp_path / "paused", pause_at=4)
    random.seed(99)
    np.random.seed(99)
    from sovereign.torch import rng

    original = rng.restore
    rng.restore = lambda state: None  # type: ignore[assignment]
    try:
        resumed = train(tmp_path / "paused")
    finally:
        rng.restore = original  # type: ignore[assignment]
    assert not same(resumed, reference)


def test_a_finished_job_started_again_does_no_work(tmp_path: Path) -> None:
    first = train(tmp_path)
    again = train(tmp_path)
    assert same(first, again)
    assert [p.name for p in complete_checkpoints(tmp_path)] == ["step-000000018"]


def test_periodic_checkpoints_follow_the_interval(tmp_path: Path) -> None:
    train(tmp_path, extra_env={"SOVEREIGN_CHECKPOINT_INTERVAL": "1 ms"}, epochs=1)
    # keep=1: one complete checkpoint is left, the final one; the summary says where it is.
    assert (tmp_path / "checkpoint.json").read_text().count('"global_step": 6') == 1


def test_a_checkpoint_with_other_data_settings_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        train(tmp_path, pause_at=2)
    with pytest.raises(
        CheckpointError,
        match=r"expected the data settings it was saved with.*'batch_size': 16.*"
        r"found.*'batch_size': 32",
    ):
        train(tmp_path, batch_size=32)


def test_a_corrupt_checkpoint_fails_loudly_instead_of_starting_again(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        train(tmp_path, pause_at=2)
    (checkpoint,) = complete_checkpoints(tmp_path)
    (checkpoint / "state.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"cannot read checkpoint .*state\.pt"):
        train(tmp_path)


def test_a_loader_that_cannot_resume_mid_epoch_is_refused(tmp_path: Path) -> None:
    model = nn.Linear(8, 3)
    with Checkpointing(model, environ={"SOVEREIGN_CHECKPOINT_DIR": str(tmp_path)}) as ckpt:
        ckpt.sampler(len(DATA), 16)
        with pytest.raises(ValueError, match=r"expected a DataLoader whose batch_sampler is ckpt\.sampler"):
            next(ckpt.batches(DataLoader(DATA, batch_size=16, shuffle=True)))
