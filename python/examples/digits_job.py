#!/usr/bin/env python3
"""A pausable PyTorch job: an MLP on the bundled handwritten digits, with sovereign.torch.Checkpointing.

Run alone (one process) or under torchrun / ``python -m sovereign.torch.launch`` (DDP over gloo on CPU).
Adam, a cosine learning-rate schedule, dropout and the precision Sovereign chose all survive a pause:
a paused and resumed single-process run ends with the same weights, bit for bit, as an uninterrupted one.
With several processes the global batch and the schedule stay the same whatever the number of ranks
(gradient accumulation makes up for missing ones); the loss then agrees to rounding (see python/README.md).

On completion rank 0 writes ``model.safetensors`` and ``result.json`` (final training loss, accuracy) to
``$SOVEREIGN_CHECKPOINT_DIR`` and the job exits 0; a pause saves and exits 143.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import save_file
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset

from sovereign.contract import Environment, atomic_write
from sovereign.torch import Checkpointing, autocast, grad_scaler
from sovereign.torch.data import load_csv

DATA = Path(__file__).resolve().parents[2] / "Examples" / "data" / "digits.csv.gz"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--data", default=str(DATA), help="digits CSV (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64, help="global batch: one optimizer step")
    parser.add_argument("--micro-batch-size", type=int, default=None, help="per rank (default: its whole share)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds-per-step", type=float, default=0.0, help="slow down, so a demo can pause it")
    return parser.parse_args()


def model_for(hidden: int, dropout: float) -> nn.Module:
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 10))


def evaluate(model: nn.Module, data: TensorDataset) -> tuple[float, float]:
    """Mean cross-entropy (in float64, summed in a fixed order) and accuracy on the whole set."""
    model.eval()
    with torch.no_grad():
        features, labels = data.tensors
        logits = model(features).double()
        loss = nn.functional.cross_entropy(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).double().mean().item()
    model.train()
    return float(loss), float(accuracy)


def finish(directory: Path, model: nn.Module, data: TensorDataset, epochs: int) -> None:
    loss, accuracy = evaluate(model, data)
    weights = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    save_file(weights, str(directory / ".model.safetensors.tmp"))
    os.replace(directory / ".model.safetensors.tmp", directory / "model.safetensors")
    result = json.dumps({"loss": loss, "accuracy": accuracy, "epochs": epochs}, indent=2).encode()
    atomic_write(directory / "result.json", lambda file: file.write(result))
    print(f"done: loss {loss:.9f} accuracy {accuracy:.4f}", flush=True)


def main() -> int:
    options = arguments()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    distributed = "WORLD_SIZE" in os.environ
    if distributed:
        dist.init_process_group("gloo")
    torch.manual_seed(options.seed)
    data = load_csv(options.data, feature_scale=16.0)
    plain = model_for(options.hidden, options.dropout)
    model: nn.Module = DistributedDataParallel(plain) if distributed else plain
    optimizer = torch.optim.Adam(model.parameters(), lr=options.lr)
    steps = options.epochs * (len(data) // options.batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    scaler = grad_scaler()

    with Checkpointing(model, optimizer, scheduler, scaler, seed=options.seed) as ckpt:
        sampler = ckpt.sampler(len(data), options.batch_size, micro_batch_size=options.micro_batch_size)
        loader = DataLoader(data, batch_sampler=sampler)
        for epoch in ckpt.epochs(options.epochs):
            for micro_batches in ckpt.steps(loader):
                for index, (features, labels) in enumerate(micro_batches):
                    last = index == len(micro_batches) - 1
                    # DDP: all-reduce the gradients once per step, on the last micro-batch.
                    sync = model.no_sync() if distributed and not last else torch.enable_grad()
                    with sync, autocast():
                        loss = nn.functional.cross_entropy(model(features), labels) / len(micro_batches)
                    scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad()
                scheduler.step()
                time.sleep(options.seconds_per_step)
            loss_now, accuracy = evaluate(plain, data)
            ckpt.log(f"epoch {epoch + 1}/{options.epochs} loss {loss_now:.6f} accuracy {accuracy:.4f}")
    if not distributed or dist.get_rank() == 0:
        finish(Environment.read().checkpoint_dir, plain, data, options.epochs)
    if distributed:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
