"""The torchrun launcher's process count and the status it answers Sovereign with."""

from __future__ import annotations

import pytest

from sovereign.contract import EXIT_PAUSED
from sovereign.torch.launch import processes, status


def test_the_process_count_comes_from_the_accelerators_sovereign_gave() -> None:
    assert processes(None, {"SOVEREIGN_ACCELERATORS": "4"}) == 4
    assert processes(None, {"SOVEREIGN_ACCELERATORS": "0"}) == 1  # a CPU-only pool still runs one process
    assert processes(None, {}) == 1
    assert processes(2, {"SOVEREIGN_ACCELERATORS": "4"}) == 2
    with pytest.raises(ValueError, match="expected at least 1, found 0"):
        processes(0, {})


@pytest.mark.parametrize(
    ("returncode", "paused", "answer"),
    [(0, False, 0), (0, True, 0), (1, True, EXIT_PAUSED), (-15, True, EXIT_PAUSED), (1, False, 1), (-9, False, 137)],
)
def test_the_status_is_complete_paused_or_torchruns_own(returncode: int, paused: bool, answer: int) -> None:
    assert status(returncode, paused) == answer
