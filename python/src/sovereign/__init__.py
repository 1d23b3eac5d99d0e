"""Sovereign's Python side: the workload contract, and PyTorch jobs that pause, resume and train federated.

``sovereign.contract`` reads the environment Sovereign gives every attempt and names the exit statuses;
``sovereign.torch`` (needs torch) makes a training loop pausable (:class:`sovereign.torch.Checkpointing`),
picks the precision for the hardware (:func:`sovereign.torch.autocast`) and trains a federated round
(:mod:`sovereign.torch.federated`).
"""

from sovereign.contract import EXIT_COMPLETE, EXIT_PAUSED, ContractError, Environment

__all__ = ["EXIT_COMPLETE", "EXIT_PAUSED", "ContractError", "Environment"]
__version__ = "0.1.0"
