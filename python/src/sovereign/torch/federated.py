"""A site's PyTorch trainer for ``sovereign agent --trainer-command``: :func:`train` and :func:`main`.

The agent runs the trainer once per round with the round's global model in a safetensors file and
reads back the trained weights; it keeps the protocol, secure aggregation and differential privacy to
itself. The environment (see ``Examples/federated/README.md``):

``SOVEREIGN_FL_GLOBAL_MODEL``, ``SOVEREIGN_FL_LOCAL_MODEL``
    the global model to start from, and where to write the trained one (same names and shapes, F32,
    with ``__metadata__ {"examples": "<count>"}``).
``SOVEREIGN_FL_DATA``
    the site's data, as given to ``sovereign agent --data``.
``SOVEREIGN_FL_ROUND``, ``SOVEREIGN_FL_EPOCHS``, ``SOVEREIGN_FL_BATCH_SIZE``, ``SOVEREIGN_FL_LEARNING_RATE``,
``SOVEREIGN_FL_PROXIMAL_MU``, ``SOVEREIGN_FL_SEED``
    the round, local epochs, minibatch size, SGD learning rate, FedProx μ (0 when not FedProx), seed.

A trainer script is then::

    from sovereign.torch import federated
    federated.main(lambda weights: MyModel(), load_my_dataset)
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader, Dataset

Weights = dict[str, torch.Tensor]
ModelSource = nn.Module | Callable[[Weights], nn.Module]
LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TrainerError(RuntimeError):
    """Something the site can fix: a missing variable, data that does not fit the global model, ..."""


@dataclass(frozen=True)
class Round:
    """One round's task, as the agent describes it in the environment."""

    global_model: Path
    local_model: Path
    data: str
    round: int
    epochs: int
    batch_size: int
    learning_rate: float
    proximal_mu: float
    seed: int

    @staticmethod
    def read(environ: Mapping[str, str] | None = None) -> Round:
        """Reads the round from ``environ`` (default: ``os.environ``).

        Raises:
            TrainerError: a variable is missing or is not the number it should be.
        """
        env = os.environ if environ is None else environ

        def text(name: str) -> str:
            value = env.get(name)
            if value is None:
                raise TrainerError(f"expected the environment variable {name}, found none")
            return value

        def number(name: str, kind: type[int] | type[float]) -> Any:
            value = text(name)
            try:
                return kind(value)
            except ValueError:
                raise TrainerError(f"{name}: expected a {kind.__name__}, found {value!r}") from None

        return Round(
            global_model=Path(text("SOVEREIGN_FL_GLOBAL_MODEL")),
            local_model=Path(text("SOVEREIGN_FL_LOCAL_MODEL")),
            data=text("SOVEREIGN_FL_DATA"),
            round=number("SOVEREIGN_FL_ROUND", int),
            epochs=number("SOVEREIGN_FL_EPOCHS", int),
            batch_size=number("SOVEREIGN_FL_BATCH_SIZE", int),
            learning_rate=number("SOVEREIGN_FL_LEARNING_RATE", float),
            proximal_mu=number("SOVEREIGN_FL_PROXIMAL_MU", float),
            seed=number("SOVEREIGN_FL_SEED", int),
        )


def load_global(task: Round, model: ModelSource) -> nn.Module:
    """The model with the round's global weights loaded; names and shapes must match exactly.

    Raises:
        TrainerError: the file's tensors differ from the model's, naming both.
    """
    weights = load_file(str(task.global_model))
    module = model(weights) if not isinstance(model, nn.Module) else model
    expected = {name: tuple(tensor.shape) for name, tensor in module.state_dict().items()}
    found = {name: tuple(tensor.shape) for name, tensor in weights.items()}
    if expected != found:
        raise TrainerError(
            f"{task.global_model}: expected the model's tensors {sorted(expected.items())}, "
            f"found {sorted(found.items())}"
        )
    module.load_state_dict({name: tensor.to(torch.float32) for name, tensor in weights.items()}, strict=True)
    return module


def _proximal_term(module: nn.Module, anchor: Weights) -> torch.Tensor:
    # mu/2 * ||w - w_global||^2 without mu/2: the caller scales it. Its gradient pulls w back to the anchor.
    total = torch.zeros(())
    for name, parameter in module.named_parameters():
        total = total + (parameter - anchor[name]).pow(2).sum()
    return total


def _train_epochs(module: nn.Module, loader: DataLoader[Any], task: Round, loss_fn: LossFunction) -> None:
    anchor = {name: parameter.detach().clone() for name, parameter in module.named_parameters()}
    optimizer = torch.optim.SGD(module.parameters(), lr=task.learning_rate)
    module.train()
    for epoch in range(task.epochs):
        total, seen = 0.0, 0
        for features, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(module(features), labels)
            if task.proximal_mu > 0:
                loss = loss + task.proximal_mu / 2 * _proximal_term(module, anchor)
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves Tensor.backward untyped
            optimizer.step()
            total += float(loss.item()) * len(labels)
            seen += len(labels)
        if not math.isfinite(total):
            raise TrainerError(
                f"round {task.round}, epoch {epoch + 1}: expected a finite loss, found {total}; lower the learning rate"
            )
        print(f"round {task.round} epoch {epoch + 1}: mean loss {total / max(seen, 1):.4f}", file=sys.stderr)


def write_update(module: nn.Module, path: Path, examples: int) -> None:
    """Writes the trained weights as F32 safetensors with ``__metadata__.examples``, then renames into place."""
    state = {name: tensor.detach().to(torch.float32).contiguous() for name, tensor in module.state_dict().items()}
    temporary = path.with_name(path.name + ".partial")
    save_file(state, str(temporary), metadata={"examples": str(examples)})
    os.replace(temporary, path)


def train(
    model: ModelSource,
    dataset_fn: Callable[[str], Dataset[Any]],
    *,
    loss_fn: LossFunction = nn.functional.cross_entropy,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Trains one federated round as the agent asks and writes the update; returns the examples used.

    Local training is ``torch.optim.SGD`` over shuffled minibatches (seeded by the round), plus
    FedProx's ``μ/2·‖w − w_global‖²`` when the strategy is FedProx: the same rule as the built-in trainer.

    Args:
        model: the module to train, or a function from the global weights to one (to size it from them).
        dataset_fn: builds the site's dataset of ``(features, label)`` pairs from ``SOVEREIGN_FL_DATA``.
        loss_fn: the loss of a batch's outputs against its labels (default: cross-entropy).
        environ: the environment to read instead of ``os.environ``.

    Raises:
        TrainerError: the environment, the global model or the data does not fit.
    """
    task = Round.read(environ)
    torch.manual_seed(task.seed)
    module = load_global(task, model)
    dataset = dataset_fn(task.data)
    examples = len(dataset)  # type: ignore[arg-type]
    if examples < 1:
        raise TrainerError(f"{task.data}: expected at least one training example, found none")
    loader: DataLoader[Any] = DataLoader(
        dataset, batch_size=task.batch_size, shuffle=True, generator=torch.Generator().manual_seed(task.seed)
    )
    _train_epochs(module, loader, task, loss_fn)
    write_update(module, task.local_model, examples)
    print(f"pytorch trainer: round {task.round}: trained on {examples} examples", flush=True)
    return examples


def main(
    model: ModelSource,
    dataset_fn: Callable[[str], Dataset[Any]],
    *,
    loss_fn: LossFunction = nn.functional.cross_entropy,
) -> None:
    """Runs :func:`train` as a ``--trainer-command`` program: exit 0, or a message on stderr and exit 1."""
    try:
        train(model, dataset_fn, loss_fn=loss_fn)
    except (TrainerError, OSError, ValueError) as error:
        print(f"{Path(sys.argv[0]).name}: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
