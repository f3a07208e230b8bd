"""The classical service's optimisers: minimisers of batched energy objectives.

Use :func:`get_optimizer` (or :data:`OPTIMIZERS`) to pick one by name and call
:meth:`Optimizer.minimize` with an :class:`Objective` that evaluates batches of parameter sets
on a quantum-service session.
"""

from __future__ import annotations

from classical_service.optimizers.adam import AdamOptimizer
from classical_service.optimizers.base import Optimizer
from classical_service.optimizers.options import OptionSpec
from classical_service.optimizers.protocol import (
    IterationCallback,
    IterationReport,
    Objective,
    OptimizationResult,
    StopOptimization,
)
from classical_service.optimizers.registry import OPTIMIZERS, get_optimizer
from classical_service.optimizers.scipy_optimizers import (
    CobylaOptimizer,
    LbfgsbOptimizer,
    NelderMeadOptimizer,
)
from classical_service.optimizers.spsa import SpsaOptimizer

__all__ = [
    "OPTIMIZERS",
    "AdamOptimizer",
    "CobylaOptimizer",
    "IterationCallback",
    "IterationReport",
    "LbfgsbOptimizer",
    "NelderMeadOptimizer",
    "Objective",
    "OptimizationResult",
    "Optimizer",
    "OptionSpec",
    "SpsaOptimizer",
    "StopOptimization",
    "get_optimizer",
]
