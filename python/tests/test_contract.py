"""The environment Sovereign gives an attempt, read and checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from sovereign.contract import EXIT_PAUSED, ContractError, Environment, atomic_write, parse_duration


def test_the_pause_status_is_128_plus_sigterm() -> None:
    assert EXIT_PAUSED == 143


@pytest.mark.parametrize(
    ("text", "seconds"), [("30 s", 30.0), ("5 min", 300.0), ("250 ms", 0.25), ("1 h", 3600.0), ("90", 90.0)]
)
def test_durations_read_with_their_units(text: str, seconds: float) -> None:
    assert parse_duration("X", text) == seconds


@pytest.mark.parametrize("text", ["soon", "-3 s", "0", "5 days"])
def test_a_bad_duration_says_what_was_expected_and_found(text: str) -> None:
    with pytest.raises(ContractError, match=rf"X: expected a duration.*found {text!r}"):
        parse_duration("X", text)


def test_the_environment_is_read_with_defaults_for_a_run_by_hand() -> None:
    assert Environment.read({}) == Environment(
        workload="job", checkpoint_dir=Path("checkpoints"), resume=False, attempt=None, site=None,
        accelerators=None, checkpoint_interval=None, precision=None,
    )  # fmt: skip
    read = Environment.read({
        "SOVEREIGN_WORKLOAD": "w", "SOVEREIGN_CHECKPOINT_DIR": "/c", "SOVEREIGN_RESUME": "1",
        "SOVEREIGN_ATTEMPT": "3", "SOVEREIGN_SITE": "dar-1", "SOVEREIGN_ACCELERATORS": "4",
        "SOVEREIGN_CHECKPOINT_INTERVAL": "2 min", "SOVEREIGN_PRECISION": "bf16",
    })  # fmt: skip
    assert read == Environment("w", Path("/c"), True, 3, "dar-1", 4, 120.0, "bf16")


def test_a_bad_accelerator_count_is_refused() -> None:
    with pytest.raises(ContractError, match="SOVEREIGN_ACCELERATORS: expected a whole number, found 'many'"):
        Environment.read({"SOVEREIGN_ACCELERATORS": "many"})


def test_an_atomic_write_that_fails_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "f"
    atomic_write(target, lambda file: file.write(b"old"))

    def broken(file: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]
