#!/usr/bin/env python3
"""Example Sovereign training workload: softmax regression on the UCI handwritten digits.

The script follows the Sovereign workload contract (see README.md in this folder):

* SOVEREIGN_WORKLOAD        workload name, written into checkpoint.json and result.json
* SOVEREIGN_CHECKPOINT_DIR  directory kept across attempts (default ./checkpoints)
* SOVEREIGN_RESUME=1        this start is a resume after a pause

* exit 0    the training is complete and model.npz and result.json are written
* exit 143  SIGTERM (or SIGINT) arrived; the checkpoint was saved at the current mini-batch
* exit 2    the data file cannot be read or is not valid
* exit 3    a checkpoint exists but cannot be used (corrupt, or made with other settings)
* exit 1    any other failure (for example, the checkpoint directory cannot be written)

The training is deterministic. For a given --seed, a run that is paused and resumed any number
of times ends with the same weights, bit for bit, as a run that is never interrupted. The
checkpoint records the position inside the epoch (the shuffled order and the next batch index)
and the state of the numpy random generator.

Standard library plus numpy only.
"""

from __future__ import annotations

import signal

# Signals: the handler only records the request; the training loop checks it between batches.
# It is installed before anything else is imported, so a pause that arrives while numpy is still
# loading is also caught (and answered with a checkpoint and exit 143) rather than killing the
# process with the default action.
_stop_signal = None


def _request_stop(signum, _frame):
    global _stop_signal
    _stop_signal = signum


signal.signal(signal.SIGTERM, _request_stop)
signal.signal(signal.SIGINT, _request_stop)

import argparse  # noqa: E402
import gzip  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

EXIT_COMPLETE = 0
EXIT_FAILURE = 1
EXIT_BAD_DATA = 2
EXIT_BAD_CHECKPOINT = 3
EXIT_PAUSED = 128 + signal.SIGTERM  # 143, the usual status of a process ended by SIGTERM

CHECKPOINT_FORMAT = 1
N_FEATURES = 64
N_CLASSES = 10

# --------------------------------------------------------------------------------------------
# Pausing


def stop_requested() -> bool:
    return _stop_signal is not None


def pace(deadline: float) -> None:
    """Sleep until `deadline` (time.monotonic), waking early if a stop is requested."""
    while not stop_requested():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        time.sleep(min(remaining, 0.05))


# --------------------------------------------------------------------------------------------
# Errors that end the run with a specific exit status.


class WorkloadError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------------------------
# Data


def load_digits(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Read the 65-column digits CSV (gzip or plain). Returns float64 X (n, 64) and int64 y."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        text = raw.decode("ascii")
        table = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, EOFError, ValueError) as e:
        # gzip.BadGzipFile is an OSError; UnicodeDecodeError is a ValueError.
        raise WorkloadError(EXIT_BAD_DATA, f"cannot read data file {path}: {e}") from None
    if table.shape[0] == 0 or table.shape[1] != N_FEATURES + 1:
        raise WorkloadError(
            EXIT_BAD_DATA,
            f"data file {path}: expected rows of {N_FEATURES + 1} columns, got shape {table.shape}",
        )
    X, labels = table[:, :N_FEATURES], table[:, N_FEATURES]
    if not np.all(np.isfinite(X)) or np.any((labels != np.round(labels)) | (labels < 0) | (labels >= N_CLASSES)):
        raise WorkloadError(EXIT_BAD_DATA, f"data file {path}: bad pixel values or labels not in 0-9")
    return X, labels.astype(np.int64)


def split_and_standardise(X, y, seed_seq, test_fraction=0.2):
    """Fixed, seeded 80/20 split. Standardise with the training set's mean and deviation."""
    order = np.random.default_rng(seed_seq).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test_idx, train_idx = np.sort(order[:n_test]), np.sort(order[n_test:])
    mean = X[train_idx].mean(axis=0)
    std = X[train_idx].std(axis=0)
    std[std == 0] = 1.0  # some border pixels are always 0
    Xs = (X - mean) / std
    return Xs[train_idx], y[train_idx], Xs[test_idx], y[test_idx], mean, std


# --------------------------------------------------------------------------------------------
# Model: multinomial logistic regression


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sgd_step(W, b, Xb, yb, lr, weight_decay):
    p = softmax(Xb @ W + b)
    p[np.arange(len(yb)), yb] -= 1.0
    p /= len(yb)
    W -= lr * (Xb.T @ p + weight_decay * W)
    b -= lr * p.sum(axis=0)


def evaluate(W, b, X, y) -> tuple[float, float]:
    p = softmax(X @ W + b)
    loss = float(-np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
    acc = float(np.mean(p.argmax(axis=1) == y))
    return loss, acc


# --------------------------------------------------------------------------------------------
# Atomic files


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _file_mode()  # what open() would give; mkstemp alone makes files 0600


def atomic_write(path: str, write) -> None:
    """Write with write(fileobj) to a temp file in the same dir, fsync, then os.replace."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def atomic_write_json(path: str, obj) -> None:
    data = (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()
    atomic_write(path, lambda f: f.write(data))


# --------------------------------------------------------------------------------------------
# Checkpoint


class State:
    """Everything needed to continue training exactly where it stopped."""

    def __init__(self, W, b, rng, epochs_done, batch, perm, perm_drawn, resumed_times, test_acc):
        self.W = W
        self.b = b
        self.rng = rng
        self.epochs_done = epochs_done  # epochs finished
        self.batch = batch  # batches finished in epoch epochs_done + 1 (0 = not started)
        self.perm = perm  # shuffled order for epoch epochs_done + 1, valid when perm_drawn
        self.perm_drawn = perm_drawn  # the generator has already drawn perm for that epoch
        self.resumed_times = resumed_times
        self.test_acc = test_acc  # test accuracy after the last finished epoch, or None


OUTPUT_FILES = ("checkpoint.npz", "checkpoint.json", "model.npz", "result.json")


def remove_stale_temp_files(ckpt_dir: str) -> None:
    """Remove temp files left by an attempt that was killed (SIGKILL) in the middle of a write."""
    for name in os.listdir(ckpt_dir):
        if name.endswith(".tmp") and any(name.startswith("." + f + ".") for f in OUTPUT_FILES):
            try:
                os.unlink(os.path.join(ckpt_dir, name))
            except OSError:
                pass


def save_checkpoint(ckpt_dir, state: State, settings: dict, workload: str, epochs_total: int) -> None:
    arrays = dict(
        format=np.int64(CHECKPOINT_FORMAT),
        W=state.W,
        b=state.b,
        epochs_done=np.int64(state.epochs_done),
        batch=np.int64(state.batch),
        perm=state.perm,
        perm_drawn=np.bool_(state.perm_drawn),
        rng_state=np.array(json.dumps(state.rng.bit_generator.state)),
        resumed_times=np.int64(state.resumed_times),
        test_acc=np.float64(np.nan if state.test_acc is None else state.test_acc),
        settings=np.array(json.dumps(settings, sort_keys=True)),
    )
    atomic_write(os.path.join(ckpt_dir, "checkpoint.npz"), lambda f: np.savez(f, **arrays))
    # The .npz is the checkpoint. The .json is a small summary for people and for the server.
    atomic_write_json(
        os.path.join(ckpt_dir, "checkpoint.json"),
        {
            "workload": workload,
            "epoch": state.epochs_done,  # epochs finished
            "batch": state.batch,  # batches finished in the next epoch (epoch + 1)
            "epochs": epochs_total,
            "test_accuracy": state.test_acc,
            "resumed_times": state.resumed_times,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )


def load_checkpoint(path: str, settings: dict, n_train: int) -> State:
    def bad(reason):
        return WorkloadError(EXIT_BAD_CHECKPOINT, f"cannot use checkpoint {path}: {reason}")

    try:
        with open(path, "rb") as f:
            if f.read(4) != b"PK\x03\x04":
                raise bad("not an .npz file (no zip header); it may be truncated or overwritten")
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        fmt = int(d["format"])
        if fmt != CHECKPOINT_FORMAT:
            raise bad(f"format {fmt}, this script reads format {CHECKPOINT_FORMAT}")
        saved_settings = json.loads(str(d["settings"]))
        W = np.array(d["W"], dtype=np.float64)
        b = np.array(d["b"], dtype=np.float64)
        epochs_done = int(d["epochs_done"])
        batch = int(d["batch"])
        perm = np.array(d["perm"], dtype=np.int64)
        perm_drawn = bool(d["perm_drawn"])
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = json.loads(str(d["rng_state"]))
        resumed_times = int(d["resumed_times"])
        test_acc = float(d["test_acc"])
    except WorkloadError:
        raise
    except Exception as e:  # zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, ...
        raise bad(f"{type(e).__name__}: {e}") from None

    if saved_settings != settings:
        diff = {k: (saved_settings.get(k), settings.get(k))
                for k in sorted(set(saved_settings) | set(settings))
                if saved_settings.get(k) != settings.get(k)}
        raise bad(f"made with other settings (saved, now): {diff}")
    n_batches = math.ceil(n_train / settings["batch_size"])
    if W.shape != (N_FEATURES, N_CLASSES) or b.shape != (N_CLASSES,) or not (
        np.all(np.isfinite(W)) and np.all(np.isfinite(b))
    ):
        raise bad(f"weights have shape {W.shape}/{b.shape} or are not finite")
    if epochs_done < 0 or not (0 <= batch < n_batches) or resumed_times < 0:
        raise bad(f"position epoch {epochs_done} batch {batch} is out of range")
    if batch > 0 and not perm_drawn:
        raise bad(f"position epoch {epochs_done} batch {batch} has no saved batch order")
    if perm_drawn and not np.array_equal(np.sort(perm), np.arange(n_train)):
        raise bad("saved batch order is not a permutation of the training set")
    return State(W, b, rng, epochs_done, batch, perm, perm_drawn, resumed_times,
                 None if math.isnan(test_acc) else test_acc)


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(
        description="Softmax regression on the UCI digits, following the Sovereign workload contract."
    )
    ap.add_argument("--data", default=os.path.join(here, "..", "data", "digits.csv.gz"),
                    help="digits CSV, gzip or plain, 65 columns, label last (default: %(default)s)")
    ap.add_argument("--epochs", type=int, default=60, help="epochs to train (default: %(default)s)")
    ap.add_argument("--seconds-per-epoch", type=float, default=0.5,
                    help="make each epoch take at least this long, spread over its batches, so "
                         "a demo can pause the job mid-run; 0 trains at full speed "
                         "(default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0, help="seed for the split and the training (default: %(default)s)")
    ap.add_argument("--batch-size", type=int, default=32, help="mini-batch size (default: %(default)s)")
    ap.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (default: %(default)s)")
    ap.add_argument("--weight-decay", type=float, default=1e-4, help="L2 penalty (default: %(default)s)")
    args = ap.parse_args(argv)
    if args.epochs < 1:
        ap.error("--epochs must be at least 1")
    if args.seconds_per_epoch < 0:
        ap.error("--seconds-per-epoch must be 0 or more")
    if args.batch_size < 1:
        ap.error("--batch-size must be at least 1")
    if args.seed < 0:
        ap.error("--seed must be 0 or more")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        ap.error("--lr must be a positive number")
    if not (args.weight_decay >= 0 and math.isfinite(args.weight_decay)):
        ap.error("--weight-decay must be 0 or more")
    return args


def run(args) -> int:
    workload = os.environ.get("SOVEREIGN_WORKLOAD", "train-digits")
    ckpt_dir = os.environ.get("SOVEREIGN_CHECKPOINT_DIR") or "checkpoints"
    resume_requested = os.environ.get("SOVEREIGN_RESUME") == "1"

    X, y = load_digits(args.data)
    split_seq, train_seq = np.random.SeedSequence(args.seed).spawn(2)
    Xtr, ytr, Xte, yte, mean, std = split_and_standardise(X, y, split_seq)
    n_train = len(ytr)
    n_batches = math.ceil(n_train / args.batch_size)
    # Anything that changes the arithmetic must match between a checkpoint and this run.
    # --epochs may change (train further); --seconds-per-epoch only changes the pacing.
    settings = {"seed": args.seed, "batch_size": args.batch_size, "lr": args.lr,
                "weight_decay": args.weight_decay, "n_train": n_train, "n_test": len(yte)}

    try:
        os.makedirs(ckpt_dir, exist_ok=True)
        remove_stale_temp_files(ckpt_dir)
    except OSError as e:
        raise WorkloadError(EXIT_FAILURE, f"cannot create checkpoint directory {ckpt_dir}: {e}") from None
    ckpt_path = os.path.join(ckpt_dir, "checkpoint.npz")

    if os.path.exists(ckpt_path):
        state = load_checkpoint(ckpt_path, settings, n_train)
        if state.epochs_done < args.epochs:
            state.resumed_times += 1  # not counted when the work was already complete
        if state.batch == 0:
            print(f"resumed from epoch {state.epochs_done}", flush=True)
        else:
            print(f"resumed from epoch {state.epochs_done + 1} batch {state.batch}", flush=True)
    else:
        if resume_requested:
            print(f"SOVEREIGN_RESUME=1 but no checkpoint at {ckpt_path}; starting from epoch 0", flush=True)
        else:
            print("starting from epoch 0", flush=True)
        rng = np.random.default_rng(train_seq)
        W = rng.normal(0.0, 0.01, size=(N_FEATURES, N_CLASSES))
        b = np.zeros(N_CLASSES)
        state = State(W, b, rng, 0, 0, np.arange(n_train), False, 0, None)

    def checkpoint():
        try:
            save_checkpoint(ckpt_dir, state, settings, workload, args.epochs)
        except OSError as e:
            raise WorkloadError(EXIT_FAILURE, f"cannot write checkpoint in {ckpt_dir}: {e}") from None

    def pause_and_exit(epoch_shown, batch_shown):
        checkpoint()
        print(f"checkpointed at epoch {epoch_shown} batch {batch_shown}; exiting for pause", flush=True)
        return EXIT_PAUSED

    while state.epochs_done < args.epochs:
        epoch = state.epochs_done + 1
        if not state.perm_drawn:
            # Drawn once per epoch and saved with a mid-epoch checkpoint together with the
            # generator state after the draw, so a resume neither redraws nor skips a draw.
            state.perm = state.rng.permutation(n_train)
            state.perm_drawn = True
        started = time.monotonic() - args.seconds_per_epoch * state.batch / n_batches
        while state.batch < n_batches:
            if stop_requested():
                return pause_and_exit(epoch, state.batch)
            idx = state.perm[state.batch * args.batch_size:(state.batch + 1) * args.batch_size]
            sgd_step(state.W, state.b, Xtr[idx], ytr[idx], args.lr, args.weight_decay)
            state.batch += 1
            pace(started + args.seconds_per_epoch * state.batch / n_batches)

        loss, train_acc = evaluate(state.W, state.b, Xtr, ytr)
        _, test_acc = evaluate(state.W, state.b, Xte, yte)
        state.epochs_done, state.batch, state.perm_drawn, state.test_acc = epoch, 0, False, test_acc
        checkpoint()
        print(f"epoch {epoch}/{args.epochs} loss {loss:.4f} train_acc {train_acc:.4f} test_acc {test_acc:.4f}",
              flush=True)
        if stop_requested() and state.epochs_done < args.epochs:
            print(f"checkpointed at epoch {epoch} batch {n_batches}; exiting for pause", flush=True)
            return EXIT_PAUSED

    # Complete. A stop request from here on is ignored: the work is done, so the exit is 0.
    _, test_acc = evaluate(state.W, state.b, Xte, yte)
    try:
        atomic_write(os.path.join(ckpt_dir, "model.npz"),
                     lambda f: np.savez(f, W=state.W, b=state.b, mean=mean, std=std))
        atomic_write_json(os.path.join(ckpt_dir, "result.json"),
                          {"test_accuracy": test_acc, "epochs": state.epochs_done,
                           "resumed_times": state.resumed_times, "workload": workload,
                           "seed": args.seed})
    except OSError as e:
        raise WorkloadError(EXIT_FAILURE, f"cannot write results in {ckpt_dir}: {e}") from None
    print(f"done: test accuracy {test_acc:.4f}", flush=True)
    return EXIT_COMPLETE


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        status = run(args)
    except WorkloadError as e:
        print(f"train_digits: {e}", file=sys.stderr, flush=True)
        status = e.status
    return status


if __name__ == "__main__":
    code = main()
    # Leave without the interpreter's shutdown. During shutdown Python puts the default signal
    # actions back, so a SIGTERM arriving then (for example just after the work completed) would
    # kill the process and the server would see "ended by signal 15" instead of the status chosen
    # here. Everything written is already fsynced; only the standard streams need flushing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
