"""Under `sovereign serve`: a PyTorch job paused twice by power drops ends with the same weights, bit for bit,
as the same job run without interruption."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from conftest import JOB, REPOSITORY, Processes, job_command
from safetensors.torch import load_file
from server import Server, write_tokens

NAME = "digits-torch"
ARGUMENTS = ["--epochs", "4", "--seed", "5"]


def workload_document() -> bytes:
    """Examples/workloads/digits-dar.yaml (only processable at dar-1), running the PyTorch example job."""
    example = (REPOSITORY / "Examples" / "workloads" / "digits-dar.yaml").read_text()
    command = json.dumps([sys.executable, str(JOB), *ARGUMENTS, "--seconds-per-step", "0.04"])
    lines = [line for line in example.splitlines() if not line.lstrip().startswith("command:")]
    document = "\n".join(lines).replace("name: digits-dar", f"name: {NAME}")
    document = document.replace("  run:\n", f"  run:\n    command: {command}\n")
    assert command in document
    return document.encode()


def log(server: Server, attempt: int) -> str:
    status, body = server.request("GET", f"/v1/workloads/{NAME}/log?attempt={attempt}")
    return body.decode(errors="replace") if status == 200 else ""


def drop_and_restore_power(server: Server, attempt: int, progress: str) -> None:
    server.wait(f"attempt {attempt} to reach {progress!r}", lambda: progress in log(server, attempt))
    server.set_power("dar-1", 0)
    server.wait("the pause", lambda: server.state(NAME) == "paused")
    assert "exiting 143 for a pause" in log(server, attempt)
    server.set_power("dar-1", 96)


def test_a_job_paused_twice_by_power_drops_ends_bit_identical(tmp_path: Path, processes: Processes) -> None:
    reference = processes.start(job_command(*ARGUMENTS), env={"SOVEREIGN_CHECKPOINT_DIR": str(tmp_path / "ref")},
                                log=tmp_path / "reference.log")  # fmt: skip
    assert reference.wait() == 0, (tmp_path / "reference.log").read_text()

    server = Server(processes, tmp_path, ["Examples/east-africa"], write_tokens(tmp_path / "tokens.txt", []))
    status, body = server.request("POST", "/v1/workloads", workload_document())
    assert status == 201, body
    drop_and_restore_power(server, 1, "epoch 1/4")
    drop_and_restore_power(server, 2, "epoch 2/4")
    server.wait("completion", lambda: server.state(NAME) == "completed")

    detail = server.json(f"/v1/workloads/{NAME}")
    assert [a["outcome"] for a in detail["attempts"]] == ["paused", "paused", "completed"]
    for attempt in (2, 3):  # each resume continued from its checkpoint, not from the beginning
        assert "sovereign: resumed from epoch" in log(server, attempt)
        assert "starting from the beginning" not in log(server, attempt)
    final = load_file(str(tmp_path / "work" / NAME / "checkpoint" / "model.safetensors"))
    expected = load_file(str(tmp_path / "ref" / "model.safetensors"))
    assert final.keys() == expected.keys()
    assert all(torch.equal(final[name], expected[name]) for name in expected)
