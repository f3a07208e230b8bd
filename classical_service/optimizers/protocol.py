"""The vocabulary shared by qcore's optimisers and the hybrid loop runner that calls them.

The classical service never sees circuits: an optimiser sees an :class:`Objective` that maps a
batch of parameter sets to energies (expectation values of the session's observable) and, on
request, their gradients. One call is one message to a quantum-service session, so optimisers
batch the parameter sets they already know they need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = [
    "IterationCallback",
    "IterationReport",
    "Objective",
    "OptimizationResult",
    "StopOptimization",
]


class Objective(Protocol):
    """A batched energy function, evaluated on a quantum-service session."""

    def __call__(
        self, parameter_sets: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluates a batch of parameter sets.

        Args:
            parameter_sets: float64, shape ``(m, n)``: ``m`` parameter sets of ``n`` parameters.
            gradient: Also return the gradient of each energy.
        Returns:
            ``(energies, gradients)``: energies float64 shape ``(m,)``; gradients float64 shape
            ``(m, n)`` when ``gradient`` is true, else ``None``.
        Raises:
            Whatever the session raises; optimisers propagate it unchanged.
        """
        ...


class StopOptimization(Exception):
    """Raised by an iteration callback to stop the run early (e.g. the client cancelled).

    The run then returns the point reached so far, with ``converged=False`` and the exception's
    text in the result message.
    """


@dataclass(frozen=True, slots=True)
class IterationReport:
    """What an optimiser reports after each of its iterations.

    Attributes:
        iteration: 1-based iteration number.
        x: The iterate the energy belongs to, float64 shape ``(n,)``, read-only.
        energy: Energy at ``x`` (for SPSA, the mean of the ``±`` perturbed energies, an
            estimate accurate to second order in the perturbation size).
        evaluation_count: Parameter sets evaluated so far in this run (a gradient request does
            not change the count: it is the session's job to account shifted circuits).
        gradient_norm: Euclidean norm of the gradient (or of SPSA's gradient estimate) at ``x``;
            ``None`` for gradient-free methods.
    """

    iteration: int
    x: np.ndarray
    energy: float
    evaluation_count: int
    gradient_norm: float | None


#: Called once per iteration; returning ``True`` or raising :class:`StopOptimization` stops the run.
IterationCallback = Callable[[IterationReport], "bool | None"]


@dataclass(frozen=True, slots=True)
class OptimizationResult:
    """The outcome of :meth:`Optimizer.minimize`.

    Attributes:
        x: Final (for SPSA: best) parameter set, float64 shape ``(n,)``, read-only.
        energy: Energy at ``x`` as evaluated during the run (SPSA: its ``±`` estimate).
        iteration_count: Iterations completed (callbacks made).
        evaluation_count: Parameter sets evaluated in total.
        converged: The method's convergence test passed (never true after an early stop or when
            ``max_iterations`` ran out).
        message: Why the run ended, in words.
    """

    x: np.ndarray
    energy: float
    iteration_count: int
    evaluation_count: int
    converged: bool
    message: str
