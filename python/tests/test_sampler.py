"""The data order depends on the seed and the epoch, never on the number of processes."""

from __future__ import annotations

import pytest

from sovereign.torch import GlobalBatchSampler


def steps(world_size: int, micro: int, epoch: int = 0, start: int = 0) -> list[set[int]]:
    """Each step's examples, gathered over every rank."""
    ranks = []
    for rank in range(world_size):
        sampler = GlobalBatchSampler(100, 16, micro_batch_size=micro, seed=7, rank=rank, world_size=world_size)
        sampler.set_position(epoch, start)
        micro_batches = list(sampler)
        per_step = sampler.accumulation
        starts = range(0, len(micro_batches), per_step)
        ranks.append([[i for batch in micro_batches[s : s + per_step] for i in batch] for s in starts])
    return [set().union(*(rank[step] for rank in ranks)) for step in range(len(ranks[0]))]


def test_every_step_holds_the_same_examples_on_one_two_or_four_ranks() -> None:
    one = steps(1, 16)
    assert len(one) == 100 // 16
    assert all(len(step) == 16 for step in one)
    assert steps(2, 8) == one
    assert steps(2, 4) == one
    assert steps(4, 2) == one


def test_epochs_shuffle_differently_and_a_position_skips_finished_steps() -> None:
    assert steps(1, 16, epoch=1) != steps(1, 16, epoch=0)
    assert steps(2, 4, epoch=1, start=3) == steps(1, 16, epoch=1)[3:]


def test_accumulation_makes_up_for_missing_ranks() -> None:
    assert GlobalBatchSampler(100, 16, micro_batch_size=4, world_size=2).accumulation == 2
    assert GlobalBatchSampler(100, 16, micro_batch_size=4, world_size=1).accumulation == 4


def test_a_batch_that_does_not_split_over_the_ranks_is_refused() -> None:
    with pytest.raises(ValueError, match=r"expected a multiple of world size × micro-batch \(3 × 5\), found 16"):
        GlobalBatchSampler(100, 16, world_size=3)
