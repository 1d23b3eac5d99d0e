"""SOVEREIGN_PRECISION picks the autocast dtype and whether a gradient scaler is needed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sovereign.torch import autocast, grad_scaler, precision


def test_without_the_variable_a_cpu_gets_fp32() -> None:
    assert precision({}) == "fp32"  # no CUDA device on the test machines
    with autocast("cpu", environ={}):
        assert nn.Linear(4, 4)(torch.ones(1, 4)).dtype == torch.float32


def test_bf16_is_applied_to_the_forward_pass() -> None:
    with autocast("cpu", environ={"SOVEREIGN_PRECISION": "bf16"}):
        assert nn.Linear(4, 4)(torch.ones(1, 4)).dtype == torch.bfloat16


@pytest.mark.parametrize(("chosen", "scaled"), [("fp16", True), ("bf16", False), ("fp32", False)])
def test_only_fp16_gets_an_enabled_gradient_scaler(chosen: str, scaled: bool) -> None:
    assert grad_scaler("cpu", environ={"SOVEREIGN_PRECISION": chosen}).is_enabled() == scaled


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="SOVEREIGN_PRECISION: expected one of fp32, bf16, fp16, found 'fp8'"):
        precision({"SOVEREIGN_PRECISION": "FP8"})
