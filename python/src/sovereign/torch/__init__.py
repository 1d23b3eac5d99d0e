"""PyTorch jobs under Sovereign: pausable loops, resumable on another number of processes, in the right precision.

See :class:`Checkpointing` for the loop, :class:`GlobalBatchSampler` for the data order that survives a
change of world size, :func:`autocast` and :func:`grad_scaler` for precision, and
:mod:`sovereign.torch.federated` for a site's trainer in a federated round.
"""

from sovereign.torch.checkpointing import Checkpointing, Position
from sovereign.torch.precision import autocast, grad_scaler, precision
from sovereign.torch.sampler import GlobalBatchSampler
from sovereign.torch.store import CheckpointError

__all__ = [
    "CheckpointError",
    "Checkpointing",
    "GlobalBatchSampler",
    "Position",
    "autocast",
    "grad_scaler",
    "precision",
]
