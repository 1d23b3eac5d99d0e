"""The arithmetic precision for the accelerator the job was given: ``SOVEREIGN_PRECISION``.

``bf16`` where the accelerator has it (A100, H100, MI300X, Gaudi, recent CPUs), ``fp16`` on V100 and T4,
``fp32`` on CPU. Set it in the workload's ``run.env``; when it is not set, the choice is made from the
hardware this process sees (a CUDA device with bf16, a CUDA device without it, or none).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Literal

import torch

Precision = Literal["fp32", "bf16", "fp16"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def default_device_type() -> str:
    """``cuda`` when a CUDA (or ROCm) device is visible, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def detect() -> Precision:
    """The precision this process's hardware supports best."""
    if not torch.cuda.is_available():
        return "fp32"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def precision(environ: Mapping[str, str] | None = None) -> Precision:
    """``SOVEREIGN_PRECISION`` if set, else :func:`detect`.

    Raises:
        ValueError: the variable holds something other than ``fp32``, ``bf16`` or ``fp16``.
    """
    text = (os.environ if environ is None else environ).get("SOVEREIGN_PRECISION", "").strip().lower()
    if not text:
        return detect()
    for known in PRECISIONS:
        if text == known:
            return known
    raise ValueError(f"SOVEREIGN_PRECISION: expected one of {', '.join(PRECISIONS)}, found {text!r}")


def autocast(device_type: str | None = None, environ: Mapping[str, str] | None = None) -> AbstractContextManager[Any]:
    """A ``torch.autocast`` context for the forward pass in the chosen precision (disabled for fp32).

    Args:
        device_type: ``cuda`` or ``cpu`` (default: :func:`default_device_type`).
        environ: the environment to read instead of ``os.environ``.
    """
    chosen = precision(environ)
    device = device_type or default_device_type()
    if chosen == "fp32":
        return torch.autocast(device_type=device, enabled=False)
    return torch.autocast(device_type=device, dtype=_DTYPES[chosen])


def grad_scaler(device_type: str | None = None, environ: Mapping[str, str] | None = None) -> torch.amp.GradScaler:
    """A gradient scaler, enabled only for fp16 (whose small range loses small gradients without one).

    Disabled, its ``scale``, ``step`` and ``update`` pass values through, so one loop serves every
    precision; give it to :class:`~sovereign.torch.Checkpointing` so its scale survives a pause.
    """
    device = device_type or default_device_type()
    return torch.amp.GradScaler(device, enabled=precision(environ) == "fp16")
