"""COBYLA, Nelder–Mead and L-BFGS-B through :func:`scipy.optimize.minimize`.

scipy calls the objective one point at a time, so each call is a batch of one parameter set;
the one exception is Nelder–Mead's initial simplex, whose ``n + 1`` vertices are known up
front and evaluated as one batch. Iterations are reported through scipy's
``callback(intermediate_result)``, whose ``fun`` is the energy scipy already holds for the
callback's ``x`` (no extra evaluation). Reference: scipy.optimize.minimize documentation
(scipy >= 1.11, https://docs.scipy.org/doc/scipy/reference/generated/scipy.optimize.minimize.html).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import OptimizeResult, minimize

from classical_service.optimizers.base import Optimizer
from classical_service.optimizers.options import OptionSpec
from classical_service.optimizers.protocol import OptimizationResult
from classical_service.optimizers.run_tracker import RunTracker

__all__ = ["CobylaOptimizer", "LbfgsbOptimizer", "NelderMeadOptimizer"]


class _ScipyOptimizer(Optimizer):
    """Shared driver: objective wrapping, the iteration callback and the result."""

    scipy_method: ClassVar[str]

    @abstractmethod
    def _scipy_options(
        self, x0: np.ndarray, *, max_iterations: int, tolerance: float, options: Mapping[str, float]
    ) -> dict[str, Any]:
        """The ``options`` dict for :func:`scipy.optimize.minimize`."""

    def _prefetch(
        self, tracker: RunTracker, x0: np.ndarray, scipy_options: Mapping[str, Any]
    ) -> dict[bytes, float]:
        """Energies of points scipy is known to request first, evaluated as one batch."""
        return {}

    def _make_fun(
        self, tracker: RunTracker, prefetched: dict[bytes, float]
    ) -> Callable[[np.ndarray], Any]:
        def fun(x: np.ndarray) -> float:
            energy = prefetched.pop(np.asarray(x, dtype=np.float64).tobytes(), None)
            if energy is None:
                energy = tracker.evaluate_one(x)
            return energy

        return fun

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
        scipy_options = self._scipy_options(
            x0, max_iterations=max_iterations, tolerance=tolerance, options=options
        )
        prefetched = self._prefetch(tracker, x0, scipy_options)
        limit_reached = False

        # scipy passes an OptimizeResult only to a callback whose single parameter has this name.
        def callback(intermediate_result: OptimizeResult) -> None:
            nonlocal limit_reached
            x = np.asarray(intermediate_result.x, dtype=np.float64)
            # The energy evaluated at exactly x: from the tracker's memory of recent evaluations,
            # else the value scipy holds for x (Nelder-Mead's best vertex may be older).
            remembered = tracker.recall(x)
            if remembered is None:
                energy, gradient_norm = float(intermediate_result.fun), None
            else:
                energy, gradient = remembered
                gradient_norm = None if gradient is None else float(np.linalg.norm(gradient))
            if tracker.report(x, energy, gradient_norm=gradient_norm):
                raise StopIteration
            if tracker.iteration_count >= max_iterations:
                limit_reached = True
                raise StopIteration

        result = minimize(
            self._make_fun(tracker, prefetched),
            x0,
            method=self.scipy_method,
            jac=True if self.uses_gradient else None,
            callback=callback,
            options=scipy_options,
        )
        if tracker.stop_reason:
            converged, message = False, tracker.stop_reason
        elif limit_reached:
            converged, message = (
                False,
                f"reached max_iterations={max_iterations} without converging",
            )
        else:
            converged, message = bool(result.success), f"{self.name}: {result.message}"
        return tracker.result(
            np.asarray(result.x, dtype=np.float64),
            float(result.fun),
            converged=converged,
            message=message,
        )


class CobylaOptimizer(_ScipyOptimizer):
    """COBYLA: derivative-free linear-approximation trust-region method.

    Powell, "A direct search optimization method that models the objective and constraint
    functions by linear interpolation" (1994); scipy >= 1.16 runs the PRIMA implementation.
    ``tolerance`` is the final trust-region radius (scipy's ``tol``, PRIMA's ``rhoend``), in the
    parameters' units; it must not exceed ``rhobeg``. scipy's ``maxiter`` for COBYLA counts
    function evaluations, not iterations, so it is set to cover ``max_iterations`` trust-region
    iterations (at most two evaluations each) after the ``n + 1`` initial ones, and the iteration
    limit itself is enforced by the callback.
    """

    name = "cobyla"
    description = "COBYLA (Powell 1994; PRIMA via scipy): gradient-free linear trust-region method."
    uses_gradient = False
    scipy_method = "COBYLA"
    option_specs: ClassVar[Mapping[str, OptionSpec]] = {
        "rhobeg": OptionSpec(
            1.0,
            "initial trust-region radius: the size of the first parameter changes (rad)",
            minimum=0.0,
            exclusive_minimum=True,
        ),
    }

    def _check_settings(
        self, x0: np.ndarray, *, tolerance: float, options: Mapping[str, float]
    ) -> None:
        if tolerance > options["rhobeg"]:
            raise ValueError(
                f"cobyla: tolerance (the final trust-region radius, {tolerance:g}) must not "
                f"exceed the option rhobeg ({options['rhobeg']:g}); lower the tolerance or "
                "raise rhobeg"
            )

    def _scipy_options(
        self, x0: np.ndarray, *, max_iterations: int, tolerance: float, options: Mapping[str, float]
    ) -> dict[str, Any]:
        return {
            "rhobeg": options["rhobeg"],
            "tol": tolerance,
            "maxiter": x0.size + 2 + 2 * max_iterations,
        }


class NelderMeadOptimizer(_ScipyOptimizer):
    """Nelder–Mead downhill simplex (Nelder & Mead, Comput. J. 7, 308 (1965)).

    The initial simplex is ``x0`` and ``x0 + initial_simplex_size * e_i`` for each parameter
    ``i``, evaluated as one batch. ``tolerance`` is scipy's ``tol`` for this method: the run
    converges when both the simplex's extent (``xatol``, parameter units) and the spread of its
    energies (``fatol``) are at most ``tolerance``. ``adaptive=1`` uses the dimension-dependent
    coefficients of Gao & Han, Comput. Optim. Appl. 51, 259 (2012), better for many parameters.
    """

    name = "nelder-mead"
    description = "Nelder-Mead downhill simplex (scipy): gradient-free."
    uses_gradient = False
    scipy_method = "Nelder-Mead"
    option_specs: ClassVar[Mapping[str, OptionSpec]] = {
        "initial_simplex_size": OptionSpec(
            0.25,
            "edge length of the initial simplex along each parameter (rad)",
            minimum=0.0,
            exclusive_minimum=True,
        ),
        "adaptive": OptionSpec(
            0.0, "1: Gao-Han coefficients adapted to the parameter count", kind="flag"
        ),
    }

    def _scipy_options(
        self, x0: np.ndarray, *, max_iterations: int, tolerance: float, options: Mapping[str, float]
    ) -> dict[str, Any]:
        simplex = np.vstack([x0, x0 + options["initial_simplex_size"] * np.eye(x0.size)])
        return {
            "initial_simplex": simplex,
            "xatol": tolerance,
            "fatol": tolerance,
            "adaptive": bool(options["adaptive"]),
            # scipy counts the simplex set-up as iteration 1 and stops when iterations == maxiter.
            "maxiter": max_iterations + 1,
        }

    def _prefetch(
        self, tracker: RunTracker, x0: np.ndarray, scipy_options: Mapping[str, Any]
    ) -> dict[bytes, float]:
        simplex = np.asarray(scipy_options["initial_simplex"], dtype=np.float64)
        energies, _ = tracker.evaluate(simplex)
        return {vertex.tobytes(): float(e) for vertex, e in zip(simplex, energies, strict=True)}


class LbfgsbOptimizer(_ScipyOptimizer):
    """L-BFGS-B quasi-Newton method with the objective's gradient.

    Byrd, Lu, Nocedal & Zhu, SIAM J. Sci. Comput. 16, 1190 (1995); scipy's implementation.
    Each evaluation requests energy and gradient together (the quantum service computes the
    gradient by the parameter-shift rule). ``tolerance`` is scipy's ``tol`` for this method:
    both ``ftol`` (relative energy reduction ``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)``)
    and ``gtol`` (largest projected-gradient component). ``max_iterations`` is scipy's
    ``maxiter``; line searches may use up to ``max_line_search_steps`` evaluations per iteration.
    """

    name = "l-bfgs-b"
    description = "L-BFGS-B quasi-Newton (scipy) using parameter-shift gradients."
    uses_gradient = True
    scipy_method = "L-BFGS-B"
    option_specs: ClassVar[Mapping[str, OptionSpec]] = {
        "history_size": OptionSpec(
            10.0, "number of correction pairs kept (scipy's maxcor)", kind="integer", minimum=1
        ),
        "max_line_search_steps": OptionSpec(
            20.0, "evaluations allowed per line search (scipy's maxls)", kind="integer", minimum=1
        ),
    }

    def _scipy_options(
        self, x0: np.ndarray, *, max_iterations: int, tolerance: float, options: Mapping[str, float]
    ) -> dict[str, Any]:
        max_line_search_steps = int(options["max_line_search_steps"])
        return {
            "maxiter": max_iterations,
            "maxfun": (max_iterations + 1) * (max_line_search_steps + 1),
            "ftol": tolerance,
            "gtol": tolerance,
            "maxcor": int(options["history_size"]),
            "maxls": max_line_search_steps,
        }

    def _make_fun(
        self, tracker: RunTracker, prefetched: dict[bytes, float]
    ) -> Callable[[np.ndarray], Any]:
        def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
            return tracker.evaluate_one_with_gradient(x)

        return fun
