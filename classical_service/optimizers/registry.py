"""The optimisers the classical service offers, by name (``ListOptimizers``, ``Minimize``)."""

from __future__ import annotations

from classical_service.optimizers.adam import AdamOptimizer
from classical_service.optimizers.base import Optimizer
from classical_service.optimizers.scipy_optimizers import (
    CobylaOptimizer,
    LbfgsbOptimizer,
    NelderMeadOptimizer,
)
from classical_service.optimizers.spsa import SpsaOptimizer

__all__ = ["OPTIMIZERS", "get_optimizer"]

#: Shared, stateless instances keyed by name, in the order ``ListOptimizers`` shows them.
OPTIMIZERS: dict[str, Optimizer] = {
    optimizer.name: optimizer
    for optimizer in (
        CobylaOptimizer(),
        NelderMeadOptimizer(),
        LbfgsbOptimizer(),
        SpsaOptimizer(),
        AdamOptimizer(),
    )
}


def get_optimizer(name: str) -> Optimizer:
    """The optimiser registered as ``name`` (case-insensitive).

    Raises:
        ValueError: no such optimiser; the message lists the valid names.
    """
    optimizer = OPTIMIZERS.get(name.lower()) if isinstance(name, str) else None
    if optimizer is None:
        raise ValueError(f"unknown optimizer {name!r}; valid optimizers: {', '.join(OPTIMIZERS)}")
    return optimizer
