#!/usr/bin/env python3
"""Checkpoint cost for a 100M-parameter model on this machine's CPU: save and load time and size, as one
file (one process, torch.save) and sharded (torch.distributed.checkpoint from 2 gloo processes), and the
overhead of periodic checkpoints on training steps.

    python3 python/benchmarks/checkpoint_bench.py [--layers 6] [--width 4096] [--steps 12] [--directory DIR]

It reports; it asserts nothing about speed. Numbers and the machine they came from: README.md beside it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from sovereign.torch import Checkpointing


def model_for(layers: int, width: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(*(nn.Linear(width, width) for _ in range(layers)))


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, width: int) -> None:
    loss = model(torch.randn(8, width)).square().mean()
    loss.backward()  # type: ignore[no-untyped-call]
    optimizer.step()
    optimizer.zero_grad()


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def save_and_load(layers: int, width: int, directory: Path, rounds: int = 3) -> dict[str, float]:
    """Saves and loads model + Adam state ``rounds`` times in this process (or rank); medians in seconds."""
    model = model_for(layers, width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    train_step(model, optimizer, width)  # Adam's moments exist: the state is 3 × the weights
    environ = {"SOVEREIGN_CHECKPOINT_DIR": str(directory)}
    saves, loads = [], []
    for number in range(rounds):
        ckpt = Checkpointing(model, optimizer, environ=environ)
        ckpt.position.global_step = number
        started = time.perf_counter()
        saved = ckpt.save()
        saves.append(time.perf_counter() - started)
        fresh = Checkpointing(model, optimizer, environ=environ)
        started = time.perf_counter()
        fresh.restore()
        loads.append(time.perf_counter() - started)
    return {"save": statistics.median(saves), "load": statistics.median(loads), "bytes": size_of(saved)}


def _sharded_rank(rank: int, world: int, port: int, layers: int, width: int, directory: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    result = save_and_load(layers, width, Path(directory))
    if rank == 0:
        Path(out).write_text(f"{result['save']} {result['load']} {result['bytes']}")
    dist.destroy_process_group()


def sharded(layers: int, width: int, directory: Path, world: int = 2) -> dict[str, float]:
    """The same with torch.distributed.checkpoint from ``world`` gloo processes on 127.0.0.1."""
    out = directory / "result.txt"
    port = 29_500 + os.getpid() % 1000
    mp.spawn(_sharded_rank, args=(world, port, layers, width, str(directory / "ckpt"), str(out)), nprocs=world)
    save, load, size = (float(x) for x in out.read_text().split())
    return {"save": save, "load": load, "bytes": size}


def periodic_overhead(layers: int, width: int, directory: Path, steps: int) -> dict[str, float]:
    """Mean training-step time without checkpoints, and with one checkpoint every 4 steps."""
    model = model_for(layers, width)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    train_step(model, optimizer, width)
    timings: dict[str, float] = {}
    for label, every in (("plain", 0), ("every 4 steps", 4)):
        ckpt = Checkpointing(model, optimizer, environ={"SOVEREIGN_CHECKPOINT_DIR": str(directory / label)})
        started = time.perf_counter()
        for step in range(1, steps + 1):
            train_step(model, optimizer, width)
            ckpt.position.global_step = step
            if every and step % every == 0:
                ckpt.save()
        timings[label] = (time.perf_counter() - started) / steps
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--directory", type=Path, default=None, help="where to write (default: a temporary one)")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(dir=options.directory))
    parameters = sum(p.numel() for p in model_for(options.layers, options.width).parameters())
    print(f"model: {parameters / 1e6:.1f}M parameters, fp32, Adam (state = 3 × weights); torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs")  # fmt: skip
    try:
        for label, result in (
            ("single file (torch.save, 1 process)", save_and_load(options.layers, options.width, root / "single")),
            ("sharded (torch.distributed.checkpoint, 2 ranks)", sharded(options.layers, options.width, root)),
        ):
            gigabytes = result["bytes"] / 1e9
            print(f"{label}: save {result['save']:.2f} s, load {result['load']:.2f} s, {gigabytes:.2f} GB, "
                  f"save {gigabytes / result['save']:.2f} GB/s")  # fmt: skip
        steps = periodic_overhead(options.layers, options.width, root / "periodic", options.steps)
        plain, with_ckpt = steps["plain"], steps["every 4 steps"]
        print(f"training step (batch 8): {plain:.3f} s; with a checkpoint every 4 steps {with_ckpt:.3f} s "
              f"(+{100 * (with_ckpt / plain - 1):.0f} %)")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
