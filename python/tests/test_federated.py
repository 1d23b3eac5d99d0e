"""The federated trainer: one round in process, and digits-eac end to end with the PyTorch trainer at every site."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from conftest import REPOSITORY, Processes
from safetensors import safe_open
from safetensors.torch import load, save_file
from server import Server, binary, site_token, write_tokens
from torch import nn

from sovereign.torch import federated
from sovereign.torch.data import load_csv

DATA = REPOSITORY / "Examples" / "federated" / "data"
SITES = {"nairobi-1": "ke", "kampala-1": "ug", "dar-1": "tz"}
TRAINER = REPOSITORY / "Examples" / "federated" / "pytorch_trainer.py"
WRAPPER = (
    "import os, runpy, sys\n"
    "log, script = sys.argv[1:3]\n"
    "sys.argv = [script]\n"
    "runpy.run_path(script, run_name='__main__')\n"
    "with open(log, 'a') as rounds:\n"
    "    rounds.write(os.environ['SOVEREIGN_FL_ROUND'] + '\\n')\n"
)


class Linear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)  # type: ignore[no-any-return]


def round_environment(tmp_path: Path, mu: float = 0.0) -> dict[str, str]:
    save_file({"linear.weight": torch.zeros(10, 64), "linear.bias": torch.zeros(10)}, str(tmp_path / "g.st"))
    return {
        "SOVEREIGN_FL_GLOBAL_MODEL": str(tmp_path / "g.st"), "SOVEREIGN_FL_LOCAL_MODEL": str(tmp_path / "l.st"),
        "SOVEREIGN_FL_DATA": str(DATA / "ke.csv"), "SOVEREIGN_FL_ROUND": "1", "SOVEREIGN_FL_EPOCHS": "1",
        "SOVEREIGN_FL_BATCH_SIZE": "16", "SOVEREIGN_FL_LEARNING_RATE": "0.1", "SOVEREIGN_FL_PROXIMAL_MU": str(mu),
        "SOVEREIGN_FL_SEED": "4",
    }  # fmt: skip


def test_a_round_writes_the_update_with_its_example_count(tmp_path: Path) -> None:
    environ = round_environment(tmp_path)
    examples = federated.train(Linear(), lambda path: load_csv(path, feature_scale=16), environ=environ)
    assert examples == 561
    with safe_open(str(tmp_path / "l.st"), framework="pt") as update:
        assert update.metadata() == {"examples": "561"}
        assert sorted(update.keys()) == ["linear.bias", "linear.weight"]
        assert update.get_tensor("linear.weight").dtype == torch.float32
        assert update.get_tensor("linear.weight").abs().sum() > 0  # it trained
    assert not (tmp_path / "l.st.partial").exists()


def test_fedprox_pulls_the_update_towards_the_global_model(tmp_path: Path) -> None:
    def norm(mu: float) -> float:
        environ = round_environment(tmp_path, mu)
        federated.train(Linear(), lambda path: load_csv(path, feature_scale=16), environ=environ)
        return float(sum(t.norm() ** 2 for t in load((tmp_path / "l.st").read_bytes()).values()))

    assert norm(5.0) < norm(0.0)


def test_a_model_that_does_not_match_the_global_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(federated.TrainerError, match=r"expected the model's tensors .*'0.weight'.*found.*linear"):
        federated.train(nn.Sequential(nn.Linear(64, 10)), load_csv, environ=round_environment(tmp_path))


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(federated.TrainerError, match="expected the environment variable SOVEREIGN_FL_GLOBAL_MODEL"):
        federated.Round.read({})


def accuracy(model_bytes: bytes) -> float:
    weights = load(model_bytes)
    features, labels = load_csv(DATA / "test.csv", feature_scale=16).tensors
    predicted = (features @ weights["linear.weight"].T + weights["linear.bias"]).argmax(dim=1)
    return float((predicted == labels).double().mean())


def test_digits_eac_with_the_pytorch_trainer_at_every_site_reaches_90_percent(
    tmp_path: Path, processes: Processes
) -> None:
    example = (REPOSITORY / "Examples" / "federated" / "digits-eac.yaml").read_text()
    assert "secureAggregation: {threshold: 2, clip: 1}" in example
    # A trainer is a Python process that imports torch every round: give a busy machine time for it.
    spec = tmp_path / "digits-eac.yaml"
    spec.write_text(example.replace("roundTimeout: 30 s", "roundTimeout: 120 s"))
    tokens = write_tokens(tmp_path / "tokens.txt", list(SITES))
    server = Server(processes, tmp_path, ["Examples/east-africa", str(spec)], tokens, "--federation-poll", "200 ms")
    for site, share in SITES.items():
        # The example trainer, wrapped to append the round to a file of its own once it has written the update.
        trainer = [sys.executable, "-c", WRAPPER, str(tmp_path / f"{site}.rounds"), str(TRAINER)]
        command = [binary(), "agent", "--site", site, "--coordinator", server.url, "--data", str(DATA / f"{share}.csv"),
                   "--poll", "200 ms", "--trainer-command", *trainer]  # fmt: skip
        processes.start(command, env={"SOVEREIGN_TOKEN": site_token(site)}, log=tmp_path / f"{site}.log")
    server.wait("the federation to complete", lambda: server.state("digits-eac") == "completed", seconds=900)

    rounds = server.ledger("federation.round")
    assert [r["round"] for r in rounds] == list(range(1, 16))
    assert all(r["secureAggregation"] is True for r in rounds)
    assert all(sorted(r["sites"]) == sorted(SITES) for r in rounds), rounds
    for site in SITES:  # every site trained every round with the PyTorch trainer
        trained = {int(line) for line in (tmp_path / f"{site}.rounds").read_text().split()}
        assert trained == set(range(1, 16)), (site, trained)
    status, model = server.request("GET", "/v1/workloads/digits-eac/model")
    assert status == 200
    held_back = accuracy(model)
    print(f"digits-eac with the PyTorch trainer: held-back accuracy {held_back:.4f}")
    assert held_back >= 0.90
