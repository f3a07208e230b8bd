"""Bookkeeping for one optimisation run: evaluations, iterations and the iteration callback.

Every optimiser goes through a :class:`RunTracker` rather than calling the objective or the
callback directly, so counting, output checks and early stopping behave the same for all.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from classical_service.optimizers.protocol import (
    IterationCallback,
    IterationReport,
    Objective,
    OptimizationResult,
    StopOptimization,
)

__all__ = ["RunTracker"]


def _frozen(array: np.ndarray) -> np.ndarray:
    copy = np.array(array, dtype=np.float64, copy=True)
    copy.setflags(write=False)
    return copy


class RunTracker:
    """Wraps the objective and the callback of one run.

    Args:
        objective: The batched objective (see :class:`Objective`).
        parameter_count: ``n``, the length of every parameter set.
        callback: Called once per iteration, or ``None``.
        memory: How many recent evaluations :meth:`recall` can look up.
    """

    def __init__(
        self,
        objective: Objective,
        *,
        parameter_count: int,
        callback: IterationCallback | None,
        memory: int = 64,
    ) -> None:
        self._objective = objective
        self._parameter_count = parameter_count
        self._callback = callback
        self._memory = memory
        self._recent: OrderedDict[bytes, tuple[float, np.ndarray | None]] = OrderedDict()
        self.evaluation_count = 0
        self.batch_count = 0
        self.iteration_count = 0
        #: Why the callback stopped the run; set when :meth:`report` returns ``True``.
        self.stop_reason = ""

    def evaluate(
        self, parameter_sets: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluates a batch as one objective call.

        Args:
            parameter_sets: float64, shape ``(m, n)``.
            gradient: Also request gradients.
        Returns:
            energies float64 ``(m,)`` and, when ``gradient``, gradients float64 ``(m, n)``.
        Raises:
            RuntimeError: the objective returned arrays of the wrong shape or non-finite values.
            Anything the objective raises, unchanged.
        """
        batch = np.array(parameter_sets, dtype=np.float64, copy=True)
        count, n = batch.shape
        energies_raw, gradients_raw = self._objective(batch, gradient=gradient)
        self.batch_count += 1
        self.evaluation_count += count
        energies = np.asarray(energies_raw, dtype=np.float64)
        if energies.shape != (count,):
            raise RuntimeError(
                f"objective returned energies of shape {energies.shape} for {count} parameter "
                f"sets; expected ({count},)"
            )
        if not np.all(np.isfinite(energies)):
            raise RuntimeError(f"objective returned non-finite energies {energies.tolist()}")
        gradients: np.ndarray | None = None
        if gradient:
            if gradients_raw is None:
                raise RuntimeError("objective returned no gradients although they were requested")
            gradients = np.asarray(gradients_raw, dtype=np.float64)
            if gradients.shape != (count, n):
                raise RuntimeError(
                    f"objective returned gradients of shape {gradients.shape}; expected "
                    f"({count}, {n})"
                )
            if not np.all(np.isfinite(gradients)):
                raise RuntimeError("objective returned non-finite gradients")
        for row in range(count):
            key = batch[row].tobytes()
            self._recent[key] = (
                float(energies[row]),
                None if gradients is None else gradients[row].copy(),
            )
            self._recent.move_to_end(key)
        while len(self._recent) > self._memory:
            self._recent.popitem(last=False)
        return energies, gradients

    def evaluate_one(self, x: np.ndarray) -> float:
        """Evaluates one parameter set ``x`` (shape ``(n,)``) as a batch of one: its energy."""
        energies, _ = self.evaluate(np.reshape(x, (1, self._parameter_count)))
        return float(energies[0])

    def evaluate_one_with_gradient(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Evaluates energy and gradient (float64 ``(n,)``) at ``x`` as a batch of one."""
        energies, gradients = self.evaluate(
            np.reshape(x, (1, self._parameter_count)), gradient=True
        )
        assert gradients is not None  # evaluate() raises when gradients are missing
        return float(energies[0]), gradients[0]

    def recall(self, x: np.ndarray) -> tuple[float, np.ndarray | None] | None:
        """The energy (and gradient, if one was requested) of a recent evaluation at exactly ``x``,
        or ``None`` when ``x`` was not among the last ``memory`` parameter sets evaluated."""
        return self._recent.get(np.asarray(x, dtype=np.float64).tobytes())

    def report(self, x: np.ndarray, energy: float, *, gradient_norm: float | None = None) -> bool:
        """Records one finished iteration and calls the callback.

        Returns:
            ``True`` when the run must stop: the callback returned true or raised
            :class:`StopOptimization` (``stop_reason`` then says which).
        Raises:
            Any other exception from the callback, unchanged.
        """
        self.iteration_count += 1
        if self._callback is None:
            return False
        report = IterationReport(
            iteration=self.iteration_count,
            x=_frozen(x),
            energy=float(energy),
            evaluation_count=self.evaluation_count,
            gradient_norm=None if gradient_norm is None else float(gradient_norm),
        )
        try:
            stop = self._callback(report)
        except StopOptimization as exc:
            detail = f": {exc}" if str(exc) else ""
            self.stop_reason = (
                f"stopped by the callback after {self.iteration_count} iterations{detail}"
            )
            return True
        if stop:
            self.stop_reason = f"stopped by the callback after {self.iteration_count} iterations"
            return True
        return False

    def result(
        self, x: np.ndarray, energy: float, *, converged: bool, message: str
    ) -> OptimizationResult:
        """Packs the run's outcome with its counts."""
        return OptimizationResult(
            x=_frozen(x),
            energy=float(energy),
            iteration_count=self.iteration_count,
            evaluation_count=self.evaluation_count,
            converged=converged,
            message=message,
        )
