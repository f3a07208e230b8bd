"""The optimiser interface of the classical service.

An :class:`Optimizer` is stateless: one shared instance serves any number of concurrent runs.
:meth:`Optimizer.minimize` validates everything (starting point, limits, options) before the
first evaluation, then hands a :class:`RunTracker` to the method's ``_minimize``.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from classical_service.optimizers.options import OptionSpec, resolve_options
from classical_service.optimizers.protocol import (
    IterationCallback,
    IterationReport,
    Objective,
    OptimizationResult,
    StopOptimization,
)
from classical_service.optimizers.run_tracker import RunTracker

__all__ = [
    "IterationCallback",
    "IterationReport",
    "Objective",
    "OptimizationResult",
    "Optimizer",
    "StopOptimization",
]


class Optimizer(ABC):
    """A minimiser of a batched objective.

    Class attributes:
        name: Registry key, e.g. ``"spsa"``.
        description: One line for ``ListOptimizers``.
        uses_gradient: Whether the method requests gradients from the objective.
        option_specs: The method's options (see :class:`OptionSpec`).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    uses_gradient: ClassVar[bool]
    option_specs: ClassVar[Mapping[str, OptionSpec]]

    @property
    def default_options(self) -> dict[str, float]:
        """Option names mapped to their defaults."""
        return {name: float(spec.default) for name, spec in self.option_specs.items()}

    def validate_options(self, options: Mapping[str, float] | None) -> dict[str, float]:
        """Checks ``options`` and returns them completed with defaults.

        Raises:
            ValueError: an unknown option (the message lists the valid ones) or a bad value.
        """
        return resolve_options(self.name, self.option_specs, options)

    def minimize(
        self,
        objective: Objective,
        x0: np.ndarray,
        *,
        max_iterations: int,
        tolerance: float,
        options: Mapping[str, float] | None = None,
        rng: np.random.Generator | None = None,
        callback: IterationCallback | None = None,
    ) -> OptimizationResult:
        """Minimises ``objective`` starting from ``x0``.

        Args:
            objective: Batched energy function (see :class:`Objective`).
            x0: Starting parameter set, shape ``(n,)`` with ``n >= 1``, finite.
            max_iterations: At most this many iterations (callbacks), >= 1.
            tolerance: Convergence tolerance, > 0; its meaning is the method's own (see each
                optimiser's docstring).
            options: Method options (see ``default_options``); missing ones take defaults.
            rng: Source of randomness for stochastic methods; ``None`` seeds a fresh generator.
            callback: Called once per iteration with an :class:`IterationReport`; returning
                ``True`` or raising :class:`StopOptimization` stops the run early.
        Returns:
            The :class:`OptimizationResult`.
        Raises:
            ValueError: bad ``x0``, ``max_iterations``, ``tolerance`` or options, raised before
                any evaluation.
            RuntimeError: the objective returned malformed output.
            Anything the objective or the callback raises (other than ``StopOptimization``).
        """
        start = _check_start(x0)
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, numbers.Integral):
            raise ValueError(f"max_iterations must be an integer >= 1, got {max_iterations!r}")
        if max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {max_iterations}")
        if (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, numbers.Real)
            or not math.isfinite(tolerance)
            or tolerance <= 0
        ):
            raise ValueError(f"tolerance must be a finite number > 0, got {tolerance!r}")
        resolved = self.validate_options(options)
        self._check_settings(start, tolerance=float(tolerance), options=resolved)
        if rng is None:
            rng = np.random.default_rng()
        elif not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        if callback is not None and not callable(callback):
            raise ValueError(f"callback must be callable, got {type(callback).__name__}")
        tracker = RunTracker(objective, parameter_count=start.size, callback=callback)
        return self._minimize(
            tracker,
            start,
            max_iterations=int(max_iterations),
            tolerance=float(tolerance),
            options=resolved,
            rng=rng,
        )

    def _check_settings(
        self, x0: np.ndarray, *, tolerance: float, options: Mapping[str, float]
    ) -> None:
        """Checks that need more than one option at a time; raises ValueError. Default: none."""
        return None

    @abstractmethod
    def _minimize(
        self,
        tracker: RunTracker,
        x0: np.ndarray,
        *,
        max_iterations: int,
        tolerance: float,
        options: Mapping[str, float],
        rng: np.random.Generator,
    ) -> OptimizationResult:
        """Runs the method; inputs are already validated and ``x0`` is a private float64 copy."""


def _check_start(x0: np.ndarray) -> np.ndarray:
    try:
        start = np.array(x0, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"x0 must be a 1-D array of real numbers: {exc}") from None
    if start.ndim != 1 or start.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array, got shape {start.shape}")
    if not np.all(np.isfinite(start)):
        raise ValueError(f"x0 must be finite, got {start.tolist()}")
    return start
