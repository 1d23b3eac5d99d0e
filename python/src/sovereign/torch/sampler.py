"""A batch sampler whose order depends only on the seed and the epoch, never on the number of processes.

A global batch of ``batch_size`` examples is one optimizer step. Epoch ``e`` shuffles the dataset with a
generator seeded by ``(seed, e)``; step ``s`` takes examples ``[s·B, (s+1)·B)`` of that order. With ``W``
processes, rank ``r`` takes the ``r``-th ``B/W`` of them and splits them into micro-batches of
``micro_batch_size``: ``B / (W·micro)`` micro-batches per step, whose gradients the loop accumulates.
So the examples of every step, and the learning-rate schedule counted in steps, are the same whether the
job runs on 4 processes, 2 or 1; only the order of floating-point additions changes.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class GlobalBatchSampler(Sampler[list[int]]):
    """Yields this rank's micro-batches (lists of dataset indices), step after step, from a position.

    Use it as a ``DataLoader``'s ``batch_sampler``. :class:`sovereign.torch.Checkpointing` makes one with
    :meth:`~sovereign.torch.Checkpointing.sampler` and moves it to the right epoch and step on resume.
    Only full global batches are used: an epoch has ``len(dataset) // batch_size`` steps.
    """

    def __init__(
        self,
        dataset_size: int,
        batch_size: int,
        *,
        micro_batch_size: int | None = None,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
    ) -> None:
        micro = micro_batch_size or batch_size // world_size
        if batch_size < 1 or dataset_size < batch_size:
            raise ValueError(
                f"batch_size: expected from 1 to the dataset's {dataset_size} examples, found {batch_size}"
            )
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank: expected 0 ≤ rank < world size {world_size}, found {rank}")
        if micro < 1 or batch_size % (world_size * micro) != 0:
            raise ValueError(
                f"batch_size: expected a multiple of world size × micro-batch ({world_size} × {micro}), "
                f"found {batch_size}; pick a micro-batch that divides batch_size / world size"
            )
        self.dataset_size = dataset_size
        self.batch_size = batch_size
        self.micro_batch_size = micro
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.shuffle = shuffle
        self.epoch = 0
        self.start_step = 0

    @property
    def accumulation(self) -> int:
        """Micro-batches per optimizer step on this rank."""
        return self.batch_size // (self.world_size * self.micro_batch_size)

    @property
    def steps_per_epoch(self) -> int:
        """Optimizer steps in one epoch (full global batches only)."""
        return self.dataset_size // self.batch_size

    def set_position(self, epoch: int, step: int) -> None:
        """The next iteration yields epoch ``epoch`` from step ``step`` on."""
        if epoch < 0 or not 0 <= step <= self.steps_per_epoch:
            raise ValueError(
                f"position: expected epoch ≥ 0 and step in 0...{self.steps_per_epoch}, found {epoch}, {step}"
            )
        self.epoch = epoch
        self.start_step = step

    def order(self, epoch: int) -> torch.Tensor:
        """The dataset's order in ``epoch``: a permutation seeded by ``(seed, epoch)``, or 0..n-1."""
        if not self.shuffle:
            return torch.arange(self.dataset_size)
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.dataset_size, generator=generator)

    def __iter__(self) -> Iterator[list[int]]:
        order = self.order(self.epoch)
        share = self.batch_size // self.world_size
        for step in range(self.start_step, self.steps_per_epoch):
            first = step * self.batch_size + self.rank * share
            mine = order[first : first + share]
            for offset in range(0, share, self.micro_batch_size):
                yield mine[offset : offset + self.micro_batch_size].tolist()

    def __len__(self) -> int:
        return (self.steps_per_epoch - self.start_step) * self.accumulation

    def settings(self) -> dict[str, int | bool]:
        """What a checkpoint must agree with to be resumed by this sampler (the world size may change)."""
        return {
            "dataset_size": self.dataset_size,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "shuffle": self.shuffle,
        }
