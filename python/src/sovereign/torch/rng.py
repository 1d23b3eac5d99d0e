"""Every random generator a training step may draw from: Python's, numpy's, torch's CPU and CUDA ones.

States are plain lists, tuples, numbers and tensors, so they load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

RngState = dict[str, Any]


def capture() -> RngState:
    """The current state of every generator of this process."""
    kind, keys, position, has_gauss, gauss = np.random.get_state(legacy=True)
    return {
        "python": random.getstate(),
        "numpy": [str(kind), [int(k) for k in keys], int(position), int(has_gauss), float(gauss)],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore(state: RngState) -> None:
    """Puts every generator back where ``state`` (from :func:`capture`) found it."""
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    cuda = state["cuda"]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def reseed(seed: int, rank: int, step: int) -> None:
    """Seeds every generator for a rank that has no saved state (the job grew to more processes)."""
    value = (seed * 1_000_003 + rank * 10_007 + step) % (2**32)
    random.seed(value)
    np.random.seed(value)
    torch.manual_seed(value)
