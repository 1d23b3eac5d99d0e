"""Pausable, resumable training loops: :class:`Checkpointing`.

The five lines that make a loop pausable::

    with Checkpointing(model, optimizer, scheduler, seed=0) as ckpt:   # SIGTERM handler; resumes if it can
        loader = DataLoader(dataset, batch_sampler=ckpt.sampler(len(dataset), batch_size=64))
        for epoch in ckpt.epochs(10):
            for x, y in ckpt.batches(loader):                           # a pause saves here and exits 143
                train_step(x, y)

Between two optimizer steps it looks at what happened: after SIGTERM (or SIGINT) it saves everything and
exits with :data:`~sovereign.contract.EXIT_PAUSED` (143), the status Sovereign reads as "paused"; every
``SOVEREIGN_CHECKPOINT_INTERVAL`` it saves and goes on. Leaving the ``with`` block normally saves the
final state, so a finished job started again does no work twice. Under ``torchrun`` every rank takes
part: the ranks agree on each decision (one all-reduce of two numbers per step), save with
``torch.distributed.checkpoint`` and may resume on another number of processes.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

from sovereign.contract import EXIT_PAUSED, Environment
from sovereign.torch import rng, store
from sovereign.torch.sampler import GlobalBatchSampler

FORMAT = 1
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass
class Position:
    """Where training is: ``epoch`` epochs are finished, and ``step`` optimizer steps of the next one."""

    epoch: int = 0
    step: int = 0
    global_step: int = 0


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _rank() -> int:
    return dist.get_rank() if _distributed() else 0


def _world_size() -> int:
    return dist.get_world_size() if _distributed() else 1


class Checkpointing:
    """Saves and restores a training loop's whole state, and turns SIGTERM into a checkpoint and exit 143.

    It saves the model, the optimizer, the LR scheduler, the gradient scaler, every random generator
    (Python, numpy, torch CPU and CUDA, per rank), the data position (epoch, step, the sampler's seed and
    batch size) and :attr:`extras`, a dictionary the loop may fill (tensors, numbers, strings, lists and
    dictionaries). A checkpoint is written to a temporary directory and renamed when complete.

    Args:
        model: the module being trained (plain, or wrapped in ``DistributedDataParallel``).
        optimizer: its optimizer, if any.
        scheduler: a learning-rate scheduler, stepped once per optimizer step or per epoch.
        scaler: a ``torch.amp.GradScaler``, when training in fp16.
        seed: the seed of the data order (see :meth:`sampler`) and of ranks that join later.
        keep: how many complete checkpoints to keep (at least 1).
        environ: the environment to read instead of ``os.environ``.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        scaler: torch.amp.GradScaler | None = None,
        *,
        seed: int = 0,
        keep: int = 1,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if keep < 1:
            raise ValueError(f"keep: expected at least 1 checkpoint to keep, found {keep}")
        self.model = model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.scaler = scaler
        self.seed = seed
        self.keep = keep
        self.environment = Environment.read(environ)
        self.directory: Path = self.environment.checkpoint_dir
        self.extras: dict[str, Any] = {}
        self.position = Position()
        self.resumed_from: Path | None = None
        self._sampler: GlobalBatchSampler | None = None
        self._saved_sampler: dict[str, Any] | None = None
        self._signal: int | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._last_save = time.monotonic()

    # Entering and leaving

    def __enter__(self) -> Checkpointing:
        for number in _SIGNALS:
            self._previous_handlers[number] = signal.signal(number, self._on_signal)
        self.restore()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        self._previous_handlers.clear()
        if kind is None:
            self.save()

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        # Only a flag: the loop saves at the next step boundary, outside the handler.
        self._signal = number

    @property
    def stop_requested(self) -> bool:
        """Whether SIGTERM or SIGINT arrived in this process."""
        return self._signal is not None

    def log(self, message: str) -> None:
        """Prints one flushed line on rank 0 (the attempt's log)."""
        if _rank() == 0:
            print(f"sovereign: {message}", flush=True)

    # The loop

    def sampler(
        self, dataset_size: int, batch_size: int, *, micro_batch_size: int | None = None, shuffle: bool = True
    ) -> GlobalBatchSampler:
        """The batch sampler for the loop's ``DataLoader(dataset, batch_sampler=...)``.

        ``batch_size`` is the global batch (one optimizer step), the same on any number of processes;
        each rank gets ``batch_size / world_size`` examples per step in micro-batches of
        ``micro_batch_size`` (default: all of them at once).

        Raises:
            store.CheckpointError: the checkpoint being resumed used another dataset size, batch or seed.
            ValueError: the batch does not split evenly over the ranks and micro-batches.
        """
        made = GlobalBatchSampler(
            dataset_size,
            batch_size,
            micro_batch_size=micro_batch_size,
            seed=self.seed,
            rank=_rank(),
            world_size=_world_size(),
            shuffle=shuffle,
        )
        if self._saved_sampler is not None and self._saved_sampler != made.settings():
            raise store.CheckpointError(
                f"checkpoint {self.resumed_from}: expected the data settings it was saved with, "
                f"{self._saved_sampler}, found {made.settings()}"
            )
        self._sampler = made
        return made

    def epochs(self, count: int) -> Iterator[int]:
        """Yields the epochs left to train, from the resumed one to ``count - 1``."""
        while self.position.epoch < count:
            yield self.position.epoch
            self.position = Position(self.position.epoch + 1, 0, self.position.global_step)
            if self.position.epoch < count:  # after the last epoch the work is done: finish, do not pause
                self._boundary()

    def steps(self, loader: Iterable[Any]) -> Iterator[list[Any]]:
        """Yields this epoch's remaining optimizer steps, each the list of this rank's micro-batches.

        After each step it saves and exits 143 on a pause request, or saves when the interval is due.

        Raises:
            ValueError: ``loader`` does not draw its batches from :meth:`sampler`.
        """
        sampler = self._sampler
        drawn_by: object = getattr(loader, "batch_sampler", None)
        if sampler is None or drawn_by is not sampler:
            raise ValueError(
                "loader: expected a DataLoader whose batch_sampler is ckpt.sampler(...), found "
                f"{type(loader).__name__} with {type(drawn_by).__name__}: "
                "only that order can be resumed in the middle of an epoch"
            )
        yield from self._steps_from(sampler, loader)

    def _steps_from(self, sampler: GlobalBatchSampler, loader: Iterable[Any]) -> Iterator[list[Any]]:
        sampler.set_position(self.position.epoch, self.position.step)
        if self.position.step == 0:
            batches = iter(loader)
        else:
            # Starting an iteration draws a worker seed from torch's generator. An uninterrupted run drew it
            # at the start of this epoch, before the checkpoint; drawing again would shift every later draw.
            before = torch.get_rng_state()
            batches = iter(loader)
            torch.set_rng_state(before)
        for _ in range(sampler.steps_per_epoch - self.position.step):
            yield [next(batches) for _ in range(sampler.accumulation)]
            self.position.step += 1
            self.position.global_step += 1
            self._boundary()

    def batches(self, loader: Iterable[Any]) -> Iterator[Any]:
        """Like :meth:`steps` for a loop without gradient accumulation: yields each step's one batch.

        Raises:
            ValueError: the sampler gives this rank several micro-batches per step (use :meth:`steps`).
        """
        if self._sampler is not None and self._sampler.accumulation != 1:
            raise ValueError(
                f"batches: expected one micro-batch per step, found {self._sampler.accumulation} "
                f"(batch {self._sampler.batch_size} over {self._sampler.world_size} processes in micro-batches "
                f"of {self._sampler.micro_batch_size}); iterate ckpt.steps(loader) and accumulate"
            )
        for micro_batches in self.steps(loader):
            yield micro_batches[0]

    def _boundary(self) -> None:
        interval = self.environment.checkpoint_interval
        due = interval is not None and time.monotonic() - self._last_save >= interval
        stop = self.stop_requested
        if _world_size() > 1:
            flags = torch.tensor([float(stop), float(due)])
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
            stop, due = bool(flags[0].item()), bool(flags[1].item())
        if stop:
            self.save()
            where = f"epoch {self.position.epoch} step {self.position.step}"
            self.log(f"checkpointed at {where}; exiting {EXIT_PAUSED} for a pause")
            sys.stdout.flush()
            raise SystemExit(EXIT_PAUSED)
        if due:
            self.save()

    # Saving

    def _extra_state(self) -> dict[str, Any]:
        states = [rng.capture()]
        if _world_size() > 1:
            gathered: list[Any] = [None] * _world_size()
            dist.all_gather_object(gathered, states[0])
            states = gathered
        return {
            "format": FORMAT,
            "position": asdict(self.position),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "extras": dict(self.extras),
            "rng": states,
            "world_size": _world_size(),
            "sampler": self._sampler.settings() if self._sampler is not None else None,
        }

    def _tensor_state(self) -> dict[str, Any]:
        optimizers = [self.optimizer] if self.optimizer is not None else []
        model_state, optimizer_state = get_state_dict(self.model, optimizers)
        return {"model": model_state, "optimizer": optimizer_state}

    def save(self) -> Path:
        """Saves a checkpoint now (a collective under torchrun: every rank must call it)."""
        summary = {**asdict(self.position), "world_size": _world_size(), "workload": self.environment.workload}
        tensors, extra = self._tensor_state(), self._extra_state()
        if _distributed():
            saved = store.save_sharded(self.directory, self.position.global_step, tensors, extra, summary)
        else:
            saved = store.save_single(self.directory, self.position.global_step, {**tensors, **extra}, summary)
        if _rank() == 0:
            store.prune(self.directory, self.keep)
        if _distributed():
            dist.barrier()
        self._last_save = time.monotonic()
        return saved

    # Restoring

    def restore(self) -> bool:
        """Loads the newest complete checkpoint, if there is one; returns whether it did.

        Raises:
            store.CheckpointError: a checkpoint exists but cannot be read or does not fit this job.
        """
        if _rank() == 0 and self.directory.is_dir():
            store.remove_leftovers(self.directory)
        if _distributed():
            dist.barrier()
        checkpoint = store.latest(self.directory)
        if checkpoint is None:
            if self.environment.resume:
                self.log(f"SOVEREIGN_RESUME=1 but no checkpoint in {self.directory}; starting from the beginning")
            else:
                self.log("starting from the beginning")
            return False
        if store.is_sharded(checkpoint):
            tensors = self._tensor_state()
            extra = store.load_sharded(checkpoint, tensors)
        else:
            extra = store.load_single(checkpoint)
            tensors = extra
        self._apply(checkpoint, tensors, extra)
        self.resumed_from = checkpoint
        saved_by = extra["world_size"]
        self.log(
            f"resumed from epoch {self.position.epoch} step {self.position.step} "
            f"({checkpoint.name}, saved by {saved_by} process{'es' if saved_by != 1 else ''})"
        )
        return True

    def _apply(self, checkpoint: Path, tensors: dict[str, Any], extra: dict[str, Any]) -> None:
        if extra.get("format") != FORMAT:
            raise store.CheckpointError(f"{checkpoint}: expected format {FORMAT}, found {extra.get('format')!r}")
        for name, part in (("scheduler", self.scheduler), ("scaler", self.scaler)):
            if (extra[name] is None) != (part is None):
                raise store.CheckpointError(
                    f"{checkpoint}: expected a {name} state {'and' if part else 'but'} the loop "
                    f"{'has' if part else 'has no'} {name}; found {'none' if extra[name] is None else 'one'}"
                )
        optimizers = [self.optimizer] if self.optimizer is not None else []
        set_state_dict(self.model, optimizers, model_state_dict=tensors["model"], optim_state_dict=tensors["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(extra["scheduler"])
        if self.scaler is not None:
            self.scaler.load_state_dict(extra["scaler"])
        self.extras = dict(extra["extras"])
        self.position = Position(**extra["position"])
        self._saved_sampler = extra["sampler"]
        self._restore_generators(extra["rng"])

    def _restore_generators(self, states: list[Any]) -> None:
        # A rank that existed when the checkpoint was taken continues its own generators; a rank that
        # joins as the job grows gets fresh ones, seeded from (seed, rank, step).
        rank = _rank()
        if rank < len(states):
            rng.restore(states[rank])
        else:
            rng.reseed(self.seed, rank, self.position.global_step)
