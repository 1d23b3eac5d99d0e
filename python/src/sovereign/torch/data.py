"""The agent's training-data format as a PyTorch dataset: a numeric CSV, plain or gzip, label last."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset


def load_csv(path: str | Path, *, feature_scale: float = 1.0) -> TensorDataset:
    """Features (float32, divided by ``feature_scale``) and labels (int64) from a CSV like the agent's ``--data``.

    One example per row, the label (a non-negative integer) last, an optional header row; gzip is
    recognised by its first bytes. Every site of a federation must scale its features the same way
    (the digits demo divides pixels 0–16 by 16).

    Raises:
        ValueError: the file is empty, not numeric, or has labels that are not non-negative integers.
    """
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    lines = [line for line in raw.decode("utf-8").splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{path}: expected at least one example, found an empty file")
    try:
        [float(cell) for cell in lines[0].split(",")]
    except ValueError:
        lines = lines[1:]  # a header row
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise ValueError(f"{path}: expected numbers separated by commas: {error}") from None
    labels = table[:, -1]
    if np.any(labels < 0) or np.any(labels != np.floor(labels)):
        raise ValueError(f"{path}: expected labels (last column) that are non-negative integers")
    features = (table[:, :-1] / feature_scale).astype(np.float32)
    return TensorDataset(torch.from_numpy(features), torch.from_numpy(labels.astype(np.int64)))
