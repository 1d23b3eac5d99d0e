#!/usr/bin/env python3
"""A site's own PyTorch trainer for one Sovereign federated round (the external-trainer contract).

The agent runs it once per round (`sovereign agent ... --trainer-command python3 pytorch_trainer.py`);
`sovereign.torch.federated.main` reads the round from the SOVEREIGN_FL_* environment, loads the global
model's safetensors into the module, trains with SGD (plus FedProx's term when asked), writes the update
as safetensors with `__metadata__.examples` and exits 0, or prints the reason on stderr and exits 1.

The module is chosen from the global model's tensors, so one script serves both built-in model shapes:
`linear.*` is the logistic regression, `hidden.*` and `output.*` the MLP. The data is a CSV of 64 pixel
values 0..16 and a label; pixels are divided by 16, as the federation's `featureScale: 16` does.

Needs: pip install ./python torch (the `sovereign` package from this repository).
"""

from torch import Tensor, nn

from sovereign.torch import federated
from sovereign.torch.data import load_csv


class LogisticRegression(nn.Module):
    """The built-in `logistic-regression`: one nn.Linear named `linear`."""

    def __init__(self, features: int, classes: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)


class MultilayerPerceptron(nn.Module):
    """The built-in `multilayerPerceptron(hiddenUnits:)`: Linear `hidden`, ReLU, Linear `output`."""

    def __init__(self, features: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(features, hidden)
        self.output = nn.Linear(hidden, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.output(self.hidden(x).relu())


def model_for(weights: dict[str, Tensor]) -> nn.Module:
    """The module whose tensors the global model holds, sized from them."""
    if "linear.weight" in weights:
        classes, features = weights["linear.weight"].shape
        return LogisticRegression(features, classes)
    if "hidden.weight" in weights and "output.weight" in weights:
        hidden, features = weights["hidden.weight"].shape
        return MultilayerPerceptron(features, hidden, weights["output.weight"].shape[0])
    raise federated.TrainerError(
        f"expected the tensors of logistic-regression (linear.*) or of the MLP (hidden.*, output.*), "
        f"found {sorted(weights)}"
    )


if __name__ == "__main__":
    federated.main(model_for, lambda path: load_csv(path, feature_scale=16.0))
