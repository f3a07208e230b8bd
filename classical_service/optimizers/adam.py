"""Adam: adaptive moment estimation with the objective's gradient.

Kingma & Ba, "Adam: A method for stochastic optimization", ICLR 2015, arXiv:1412.6980,
Algorithm 1: with gradient ``g_t`` at ``x_{t-1}``,

``m_t = β1 m_{t-1} + (1 - β1) g_t``, ``v_t = β2 v_{t-1} + (1 - β2) g_t²``,
``m̂_t = m_t / (1 - β1^t)``, ``v̂_t = v_t / (1 - β2^t)``,
``x_t = x_{t-1} - learning_rate · m̂_t / (√v̂_t + ε)``.

Each iteration is one update followed by one evaluation (energy and gradient, a batch of one)
at the new point, which is the point reported. The run converges when the gradient's Euclidean
norm is below ``tolerance`` (energy per radian), including at ``x0`` (zero iterations).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from classical_service.optimizers.base import Optimizer
from classical_service.optimizers.options import OptionSpec
from classical_service.optimizers.protocol import OptimizationResult
from classical_service.optimizers.run_tracker import RunTracker

__all__ = ["AdamOptimizer"]


class AdamOptimizer(Optimizer):
    """Adam (Kingma & Ba 2015). Defaults are the paper's except ``learning_rate`` (paper: 0.001),
    raised to 0.01 as in PennyLane's ``AdamOptimizer`` because rotation angles are O(1) rad."""

    name = "adam"
    description = "Adam (Kingma & Ba 2015) using parameter-shift gradients."
    uses_gradient = True
    option_specs: ClassVar[Mapping[str, OptionSpec]] = {
        "learning_rate": OptionSpec(
            0.01, "step size alpha (rad per step, roughly)", minimum=0.0, exclusive_minimum=True
        ),
        "beta1": OptionSpec(
            0.9,
            "decay rate of the first-moment estimate",
            minimum=0.0,
            maximum=1.0,
            exclusive_maximum=True,
        ),
        "beta2": OptionSpec(
            0.999,
            "decay rate of the second-moment estimate",
            minimum=0.0,
            maximum=1.0,
            exclusive_maximum=True,
        ),
        "epsilon": OptionSpec(
            1e-8, "denominator offset for numerical stability", minimum=0.0, exclusive_minimum=True
        ),
    }

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
        learning_rate, beta1 = options["learning_rate"], options["beta1"]
        beta2, epsilon = options["beta2"], options["epsilon"]
        x = x0.copy()
        energy, gradient = tracker.evaluate_one_with_gradient(x)
        gradient_norm = float(np.linalg.norm(gradient))
        first_moment = np.zeros_like(x)
        second_moment = np.zeros_like(x)
        t = 0
        while gradient_norm >= tolerance:
            if t == max_iterations:
                return tracker.result(
                    x,
                    energy,
                    converged=False,
                    message=f"reached max_iterations={max_iterations} without converging",
                )
            t += 1
            first_moment = beta1 * first_moment + (1.0 - beta1) * gradient
            second_moment = beta2 * second_moment + (1.0 - beta2) * gradient**2
            corrected_first = first_moment / (1.0 - beta1**t)
            corrected_second = second_moment / (1.0 - beta2**t)
            x = x - learning_rate * corrected_first / (np.sqrt(corrected_second) + epsilon)
            energy, gradient = tracker.evaluate_one_with_gradient(x)
            gradient_norm = float(np.linalg.norm(gradient))
            if (
                tracker.report(x, energy, gradient_norm=gradient_norm)
                and gradient_norm >= tolerance
            ):
                return tracker.result(x, energy, converged=False, message=tracker.stop_reason)
        return tracker.result(
            x,
            energy,
            converged=True,
            message=f"adam: gradient norm {gradient_norm:.3g} < tolerance {tolerance:g}",
        )
