"""Simultaneous perturbation stochastic approximation (SPSA).

Spall, "Implementation of the simultaneous perturbation algorithm for stochastic
optimization", IEEE Trans. Aerosp. Electron. Syst. 34(3), 817 (1998). Iteration ``k = 0, 1, ...``:

* draw ``Δ_k`` with independent ±1 (Rademacher) entries;
* evaluate ``y± = E(x_k ± c_k Δ_k)`` as ONE batch of two parameter sets;
* gradient estimate ``ĝ_k = (y+ - y-) / (2 c_k) · Δ_k`` (``1/Δ_ki = Δ_ki`` for ±1 entries);
* update ``x_{k+1} = x_k - a_k ĝ_k``, with gains ``a_k = a / (A + k + 1)^α`` and
  ``c_k = c / (k + 1)^γ`` (Spall's practical choices ``α = 0.602``, ``γ = 0.101``).

The energy reported for ``x_k`` is ``(y+ + y-) / 2``, which equals ``E(x_k)`` up to
``O(c_k²)``; no extra evaluation is spent on it. The run returns the best iterate by that
estimate; with ``final_evaluation=1`` (default) that point is evaluated once more (a batch of
one) so the result's energy is measured at ``x`` rather than estimated, since the estimate's
``O(c_k²)`` bias decays slowly (``γ`` is small). There is no final evaluation after a stop by the
callback. It converges when the mean estimate over the last ``window`` iterations differs from
the mean over the ``window`` before by less than ``tolerance`` (energy units).

Calibration (Spall 1998, Sec. III, step 2; as Qiskit's ``SPSA.calibrate`` does): before the
first iteration, ``calibration_steps`` random ± pairs around ``x0`` are evaluated in one batch
and ``a`` is set so that the first step moves each parameter by about ``target_step``:
``a = target_step · (A + 1)^α / m`` with ``m = mean|y+ - y-| / (2c)``, the mean magnitude of a
gradient-estimate component (``a = target_step · (A + 1)^α`` if ``m`` is below 1e-10).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from classical_service.optimizers.base import Optimizer
from classical_service.optimizers.options import OptionSpec
from classical_service.optimizers.protocol import OptimizationResult
from classical_service.optimizers.run_tracker import RunTracker

__all__ = ["SpsaOptimizer"]

#: Below this mean |ĝ| the calibration cannot scale ``a`` and uses ``target_step · (A+1)^α``.
_FLAT_GRADIENT = 1e-10


class SpsaOptimizer(Optimizer):
    """SPSA with Spall's gain sequences, optional calibration of ``a`` and best-point tracking.

    Options: ``a``, ``c``, ``A``, ``alpha``, ``gamma`` (the gains above); ``calibrate`` (1:
    compute ``a`` from ``target_step``; giving ``a`` together with ``calibrate=1`` is an error);
    ``calibration_steps``; ``target_step`` (rad); ``window`` (iterations); ``final_evaluation``.
    """

    name = "spsa"
    description = (
        "SPSA (Spall 1998): two evaluations per iteration whatever the parameter count; "
        "suited to shot noise."
    )
    uses_gradient = False
    option_specs: ClassVar[Mapping[str, OptionSpec]] = {
        "a": OptionSpec(
            0.2,
            "step-size gain numerator a in a_k = a/(A+k+1)^alpha (used when calibrate=0)",
            minimum=0.0,
            exclusive_minimum=True,
        ),
        "c": OptionSpec(
            0.1,
            "perturbation gain numerator c in c_k = c/(k+1)^gamma (rad)",
            minimum=0.0,
            exclusive_minimum=True,
        ),
        "A": OptionSpec(
            0.0,
            "stability constant A (Spall suggests up to 10% of the iterations)",
            minimum=0.0,
        ),
        "alpha": OptionSpec(
            0.602,
            "step-size decay exponent alpha",
            minimum=0.0,
            maximum=1.0,
            exclusive_minimum=True,
        ),
        "gamma": OptionSpec(
            0.101,
            "perturbation decay exponent gamma",
            minimum=0.0,
            maximum=1.0,
            exclusive_minimum=True,
        ),
        "calibrate": OptionSpec(
            1.0, "1: calibrate a from the initial gradient magnitude", kind="flag"
        ),
        "calibration_steps": OptionSpec(
            25.0, "random +/- pairs evaluated (one batch) to calibrate a", kind="integer", minimum=1
        ),
        "target_step": OptionSpec(
            0.2 * np.pi,
            "calibrated size of the first update of each parameter (rad)",
            minimum=0.0,
            exclusive_minimum=True,
        ),
        "window": OptionSpec(
            10.0, "iterations per window of the convergence test", kind="integer", minimum=1
        ),
        "final_evaluation": OptionSpec(
            1.0, "1: evaluate the returned best point once more for its energy", kind="flag"
        ),
    }

    def validate_options(self, options: Mapping[str, float] | None) -> dict[str, float]:
        resolved = super().validate_options(options)
        if options is not None and "a" in options and resolved["calibrate"] == 1.0:
            raise ValueError(
                "spsa: option 'a' is computed by calibration when calibrate=1 (the default); "
                "pass calibrate=0 to use a fixed a, or drop a"
            )
        return resolved

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
        c, stability, alpha, gamma = options["c"], options["A"], options["alpha"], options["gamma"]
        window = int(options["window"])
        if options["calibrate"]:
            a = self._calibrate(tracker, x0, options=options, rng=rng)
        else:
            a = options["a"]
        x = x0.copy()
        best_x, best_energy = x0.copy(), np.inf
        estimates: list[float] = []
        for k in range(max_iterations):
            a_k = a / (stability + k + 1) ** alpha
            c_k = c / (k + 1) ** gamma
            delta = _rademacher(rng, x.size)
            (y_plus, y_minus), _ = tracker.evaluate(np.stack([x + c_k * delta, x - c_k * delta]))
            gradient = (y_plus - y_minus) / (2.0 * c_k) * delta
            energy = 0.5 * (y_plus + y_minus)
            estimates.append(energy)
            if energy < best_energy:
                best_x, best_energy = x.copy(), energy
            stop = tracker.report(x, energy, gradient_norm=float(np.linalg.norm(gradient)))
            if _window_converged(estimates, window=window, tolerance=tolerance):
                change = abs(
                    np.mean(estimates[-window:]) - np.mean(estimates[-2 * window : -window])
                )
                message = (
                    f"spsa: mean energy changed by {change:.3g} < tolerance {tolerance:g} over "
                    f"the last {window} iterations"
                )
                return self._finish(
                    tracker, best_x, best_energy, converged=True, message=message, options=options
                )
            if stop:
                return tracker.result(
                    best_x, best_energy, converged=False, message=tracker.stop_reason
                )
            x = x - a_k * gradient
        message = f"reached max_iterations={max_iterations} without converging"
        return self._finish(
            tracker, best_x, best_energy, converged=False, message=message, options=options
        )

    @staticmethod
    def _finish(
        tracker: RunTracker,
        best_x: np.ndarray,
        best_energy: float,
        *,
        converged: bool,
        message: str,
        options: Mapping[str, float],
    ) -> OptimizationResult:
        """The result at the best iterate, re-evaluated there when ``final_evaluation`` is set."""
        if options["final_evaluation"]:
            best_energy = tracker.evaluate_one(best_x)
        return tracker.result(best_x, best_energy, converged=converged, message=message)

    @staticmethod
    def _calibrate(
        tracker: RunTracker,
        x0: np.ndarray,
        *,
        options: Mapping[str, float],
        rng: np.random.Generator,
    ) -> float:
        """Returns ``a`` such that the first update moves each parameter by ~``target_step``."""
        steps, c = int(options["calibration_steps"]), options["c"]
        deltas = np.stack([_rademacher(rng, x0.size) for _ in range(steps)])
        energies, _ = tracker.evaluate(np.concatenate([x0 + c * deltas, x0 - c * deltas]))
        magnitude = float(np.mean(np.abs(energies[:steps] - energies[steps:]))) / (2.0 * c)
        scale = options["target_step"] * (options["A"] + 1.0) ** options["alpha"]
        return scale if magnitude < _FLAT_GRADIENT else scale / magnitude


def _rademacher(rng: np.random.Generator, size: int) -> np.ndarray:
    """Independent ±1 entries, float64 shape ``(size,)``."""
    return rng.integers(0, 2, size=size).astype(np.float64) * 2.0 - 1.0


def _window_converged(estimates: list[float], *, window: int, tolerance: float) -> bool:
    if len(estimates) < 2 * window:
        return False
    recent = np.mean(estimates[-window:])
    previous = np.mean(estimates[-2 * window : -window])
    return bool(abs(recent - previous) < tolerance)
