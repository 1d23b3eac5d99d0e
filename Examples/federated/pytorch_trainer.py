#!/usr/bin/env python3
"""A site's own PyTorch trainer for one Sovereign federated round (the external-trainer contract).

The Sovereign agent runs this script (no shell) once per round instead of its built-in trainer, with:

  SOVEREIGN_FL_GLOBAL_MODEL    safetensors file holding the round's global model (float32)
  SOVEREIGN_FL_LOCAL_MODEL     where to write the trained weights (safetensors, same names and shapes)
  SOVEREIGN_FL_DATA            the site's data, as given to `sovereign agent --data`
  SOVEREIGN_FL_ROUND           the round number
  SOVEREIGN_FL_EPOCHS          local epochs
  SOVEREIGN_FL_BATCH_SIZE      minibatch size
  SOVEREIGN_FL_LEARNING_RATE   SGD learning rate
  SOVEREIGN_FL_PROXIMAL_MU     FedProx mu (0 when the strategy is not FedProx)
  SOVEREIGN_FL_SEED            the seed for this round and site

It trains the same model as the built-in `multilayerPerceptron`: nn.Linear layers named `hidden` and
`output` with a ReLU between them, so the tensors are `hidden.weight` [hidden, features], `hidden.bias`,
`output.weight` [classes, hidden] and `output.bias`. The sizes come from the global model. The data is a
CSV (plain or gzip) of 64 pixel values 0..16 and a label, like Examples/data/digits.csv.gz; pixels are
divided by 16, as the federation's built-in trainer does with `.divide(by: 16)`.

It writes the local model with `__metadata__` {"examples": "<number of training examples>"} and exits 0.
Any error exits non-zero with a message on stderr, which the agent reports with the round's failure.

Needs: torch, numpy, safetensors (pip install torch numpy safetensors).
"""

import gzip
import os
import sys

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

PIXEL_SCALE = 16.0


def fail(message):
    print(f"pytorch_trainer.py: {message}", file=sys.stderr)
    sys.exit(1)


def env(name, parse=str):
    value = os.environ.get(name)
    if value is None:
        fail(f"expected the environment variable {name}, found none")
    try:
        return parse(value)
    except ValueError:
        fail(f"{name}: expected a {parse.__name__}, found {value!r}")


def load_examples(path):
    """Features (float32, scaled) and labels (int64) from a numeric CSV, plain or gzip, label last."""
    with open(path, "rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8") as text:
        lines = [line for line in text if line.strip()]
    if not lines:
        fail(f"{path}: expected at least one example, found an empty file")
    try:
        [float(cell) for cell in lines[0].split(",")]
    except ValueError:
        lines = lines[1:]  # a header row
    try:
        table = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        fail(f"{path}: {error}")
    labels = table[:, -1]
    if np.any(labels < 0) or np.any(labels != np.floor(labels)):
        fail(f"{path}: expected labels that are non-negative integers")
    features = (table[:, :-1] / PIXEL_SCALE).astype(np.float32)
    return torch.from_numpy(features), torch.from_numpy(labels.astype(np.int64))


class MultilayerPerceptron(nn.Module):
    """The built-in `multilayerPerceptron(hiddenUnits:)`: Linear, ReLU, Linear."""

    def __init__(self, features, hidden, classes):
        super().__init__()
        self.hidden = nn.Linear(features, hidden)
        self.output = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.output(torch.relu(self.hidden(x)))


def main():
    global_path = env("SOVEREIGN_FL_GLOBAL_MODEL")
    local_path = env("SOVEREIGN_FL_LOCAL_MODEL")
    data_path = env("SOVEREIGN_FL_DATA")
    round_number = env("SOVEREIGN_FL_ROUND", int)
    epochs = env("SOVEREIGN_FL_EPOCHS", int)
    batch_size = env("SOVEREIGN_FL_BATCH_SIZE", int)
    learning_rate = env("SOVEREIGN_FL_LEARNING_RATE", float)
    mu = env("SOVEREIGN_FL_PROXIMAL_MU", float)
    seed = env("SOVEREIGN_FL_SEED", int)

    global_state = load_file(global_path)
    expected = {"hidden.weight", "hidden.bias", "output.weight", "output.bias"}
    if set(global_state) != expected:
        fail(f"{global_path}: expected tensors {sorted(expected)}, found {sorted(global_state)}")
    hidden, features = global_state["hidden.weight"].shape
    classes = global_state["output.weight"].shape[0]

    x, y = load_examples(data_path)
    if x.shape[1] != features:
        fail(f"{data_path}: expected {features} features per example (as the global model), found {x.shape[1]}")
    if int(y.max()) >= classes:
        fail(f"{data_path}: expected labels below {classes} (the global model's classes), found {int(y.max())}")

    torch.manual_seed(seed)
    model = MultilayerPerceptron(features, hidden, classes)
    model.load_state_dict({name: tensor.to(torch.float32) for name, tensor in global_state.items()}, strict=True)
    # FedProx's anchor: the global model this round started from.
    anchor = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for features_batch, labels_batch in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(features_batch), labels_batch)
            if mu > 0:
                # mu/2 * ||w - w_global||^2; its gradient is mu * (w - w_global).
                proximal = sum((p - anchor[name]).pow(2).sum() for name, p in model.named_parameters())
                loss = loss + mu / 2 * proximal
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels_batch)
        if not np.isfinite(total):
            fail(f"round {round_number}, epoch {epoch + 1}: the loss became {total}; lower the learning rate")
        print(f"round {round_number} epoch {epoch + 1}: mean loss {total / len(y):.4f}", file=sys.stderr)

    state = {name: tensor.detach().to(torch.float32).contiguous() for name, tensor in model.state_dict().items()}
    # Write beside the target and rename, so the agent never reads a half-written file.
    temporary = local_path + ".partial"
    save_file(state, temporary, metadata={"examples": str(len(y))})
    os.replace(temporary, local_path)


if __name__ == "__main__":
    main()
