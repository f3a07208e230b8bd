"""Tests of the classical service's optimisers against objectives with known minima.

References used here: analytic minima (a convex quadratic, E(θ) = Σ cos θ_i with minimum -n at
θ_i = π, the 2-D Rosenbrock function with minimum 0 at (1, 1)); the update rules of Adam
(Kingma & Ba 2015, Algorithm 1) and SPSA (Spall 1998) re-derived in plain NumPy.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from classical_service.optimizers import (
    OPTIMIZERS,
    AdamOptimizer,
    IterationReport,
    LbfgsbOptimizer,
    NelderMeadOptimizer,
    Optimizer,
    SpsaOptimizer,
    StopOptimization,
    get_optimizer,
)

ALL_NAMES = ["cobyla", "nelder-mead", "l-bfgs-b", "spsa", "adam"]

EnergyFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

QUADRATIC_MINIMUM = np.array([0.3, -0.7, 1.1])
QUADRATIC_CURVATURE = np.array([1.0, 2.0, 0.5])


def quadratic(parameter_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E = Σ k_i (x_i - t_i)², minimum 0 at t."""
    offset = parameter_sets - QUADRATIC_MINIMUM
    return (
        np.sum(QUADRATIC_CURVATURE * offset**2, axis=1),
        2.0 * QUADRATIC_CURVATURE * offset,
    )


def cosine_landscape(parameter_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E(θ) = Σ cos θ_i, the landscape of independent single-qubit RY rotations measured in Z."""
    return np.sum(np.cos(parameter_sets), axis=1), -np.sin(parameter_sets)


def rosenbrock(parameter_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E = (1 - x)² + 100 (y - x²)², minimum 0 at (1, 1)."""
    x, y = parameter_sets[:, 0], parameter_sets[:, 1]
    energies = (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2
    gradients = np.stack([-2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)], axis=1)
    return energies, gradients


def linear(parameter_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E = 3 x on one parameter (constant gradient)."""
    return 3.0 * parameter_sets[:, 0], np.full_like(parameter_sets, 3.0)


class RecordingObjective:
    """An :class:`Objective` that records every call: batch, gradient flag."""

    def __init__(self, function: EnergyFunction) -> None:
        self.function = function
        self.batches: list[np.ndarray] = []
        self.gradient_flags: list[bool] = []

    def __call__(
        self, parameter_sets: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, np.ndarray | None]:
        assert parameter_sets.dtype == np.float64 and parameter_sets.ndim == 2
        self.batches.append(parameter_sets.copy())
        self.gradient_flags.append(gradient)
        energies, gradients = self.function(parameter_sets)
        return energies, gradients if gradient else None

    @property
    def set_count(self) -> int:
        return sum(batch.shape[0] for batch in self.batches)


def never_called(parameter_sets: np.ndarray, *, gradient: bool = False) -> tuple[np.ndarray, None]:
    raise AssertionError("the objective must not be evaluated")


def energy_of(function: EnergyFunction, x: np.ndarray) -> float:
    return float(function(np.asarray(x, dtype=np.float64)[None, :])[0][0])


# Per optimiser: tolerance passed, and how close the final energy must be to the minimum.
SETTINGS: dict[str, tuple[float, float]] = {
    "cobyla": (1e-6, 1e-8),
    "nelder-mead": (1e-8, 1e-8),
    "l-bfgs-b": (1e-10, 1e-8),
    "spsa": (1e-4, 1e-3),
    "adam": (1e-5, 1e-8),
}


@pytest.mark.parametrize("name", ALL_NAMES)
def test_minimises_convex_quadratic(name: str) -> None:
    tolerance, energy_error = SETTINGS[name]
    objective = RecordingObjective(quadratic)
    result = get_optimizer(name).minimize(
        objective,
        np.zeros(3),
        max_iterations=1000,
        tolerance=tolerance,
        rng=np.random.default_rng(11),
    )
    assert result.converged, result.message
    assert result.energy == pytest.approx(energy_of(quadratic, result.x), abs=1e-12)
    assert 0.0 <= result.energy < energy_error
    # For E = Σ k (x - t)², |x - t|_i <= sqrt(E / k_i).
    assert np.all(
        np.abs(result.x - QUADRATIC_MINIMUM) <= np.sqrt(energy_error / QUADRATIC_CURVATURE)
    )
    assert result.evaluation_count == objective.set_count
    assert 1 <= result.iteration_count <= 1000


@pytest.mark.parametrize("name", ALL_NAMES)
def test_minimises_cosine_landscape(name: str) -> None:
    tolerance, energy_error = SETTINGS[name]
    result = get_optimizer(name).minimize(
        RecordingObjective(cosine_landscape),
        np.full(4, 2.0),
        max_iterations=1000,
        tolerance=tolerance,
        rng=np.random.default_rng(5),
    )
    assert result.converged, result.message
    assert result.energy == pytest.approx(energy_of(cosine_landscape, result.x), abs=1e-12)
    assert result.energy == pytest.approx(-4.0, abs=energy_error)
    # Every angle near π (mod 2π): the minimiser of cos.
    assert np.allclose(np.cos(result.x), -1.0, atol=2 * energy_error)


@pytest.mark.parametrize("name", ["nelder-mead", "l-bfgs-b"])
def test_minimises_rosenbrock(name: str) -> None:
    result = get_optimizer(name).minimize(
        RecordingObjective(rosenbrock),
        np.array([-1.2, 1.0]),
        max_iterations=1000,
        tolerance=1e-10,
    )
    assert result.converged, result.message
    assert result.energy < 1e-8
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-4)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_callback_once_per_iteration_with_true_energies(name: str) -> None:
    objective = RecordingObjective(cosine_landscape)
    reports: list[IterationReport] = []
    result = get_optimizer(name).minimize(
        objective,
        np.full(2, 2.0),
        max_iterations=40,
        tolerance=1e-12,
        rng=np.random.default_rng(3),
        callback=reports.append,
    )
    assert [r.iteration for r in reports] == list(range(1, result.iteration_count + 1))
    counts = [r.evaluation_count for r in reports]
    # COBYLA may spend an iteration shrinking its trust region without evaluating.
    if name == "cobyla":
        assert all(b >= a for a, b in itertools.pairwise(counts))
        assert counts[-1] > counts[0]
    else:
        assert all(b > a for a, b in itertools.pairwise(counts))
    assert counts[-1] <= result.evaluation_count == objective.set_count
    for report in reports:
        assert not report.x.flags.writeable
        exact = energy_of(cosine_landscape, report.x)
        if name == "spsa":  # mean of E(x ± c_k Δ) = E(x) + O(c_k²); here c_k <= 0.1, n = 2.
            assert report.energy == pytest.approx(exact, abs=0.02)
        else:  # the energy scipy/Adam holds for x, evaluated at exactly that x
            assert report.energy == exact
        if name in ("l-bfgs-b", "adam"):
            assert report.gradient_norm == pytest.approx(
                np.linalg.norm(np.sin(report.x)), abs=1e-12
            )
        elif name != "spsa":
            assert report.gradient_norm is None


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("how", ["return_true", "raise_stop"])
def test_callback_stops_run_early(name: str, how: str) -> None:
    objective = RecordingObjective(quadratic)
    seen: list[int] = []

    def callback(report: IterationReport) -> bool:
        seen.append(report.evaluation_count)
        if report.iteration == 3:
            if how == "raise_stop":
                raise StopOptimization("client cancelled")
            return True
        return False

    result = get_optimizer(name).minimize(
        objective,
        np.zeros(3),
        max_iterations=500,
        tolerance=1e-12,
        rng=np.random.default_rng(0),
        callback=callback,
    )
    assert result.iteration_count == 3 and len(seen) == 3
    assert not result.converged
    assert "stopped by the callback after 3 iterations" in result.message
    if how == "raise_stop":
        assert "client cancelled" in result.message
    # Nothing is evaluated after the stop.
    assert objective.set_count == result.evaluation_count == seen[-1]
    if name == "spsa":  # no final evaluation after a stop: the best iterate's ± estimate
        assert result.energy == pytest.approx(energy_of(quadratic, result.x), abs=0.1)
    else:
        assert result.energy == energy_of(quadratic, result.x)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_max_iterations_bounds_the_run(name: str) -> None:
    reports: list[IterationReport] = []
    result = get_optimizer(name).minimize(
        RecordingObjective(rosenbrock),
        np.array([-1.2, 1.0]),
        max_iterations=5,
        tolerance=1e-12,
        rng=np.random.default_rng(0),
        callback=reports.append,
    )
    assert result.iteration_count == len(reports) == 5
    assert not result.converged
    assert "max_iterations=5" in result.message


@pytest.mark.parametrize("name", ALL_NAMES)
def test_gradients_requested_only_by_gradient_methods(name: str) -> None:
    optimizer = get_optimizer(name)
    objective = RecordingObjective(quadratic)
    optimizer.minimize(
        objective, np.zeros(3), max_iterations=20, tolerance=1e-6, rng=np.random.default_rng(0)
    )
    assert objective.gradient_flags
    assert all(flag is optimizer.uses_gradient for flag in objective.gradient_flags)
    assert optimizer.uses_gradient is (name in ("l-bfgs-b", "adam"))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_objective_and_callback_errors_propagate(name: str) -> None:
    def failing(parameter_sets: np.ndarray, *, gradient: bool = False) -> tuple[np.ndarray, None]:
        raise ConnectionError("session closed")

    with pytest.raises(ConnectionError, match="session closed"):
        get_optimizer(name).minimize(failing, np.zeros(2), max_iterations=5, tolerance=1e-6)

    def bad_callback(report: IterationReport) -> None:
        raise KeyError("callback bug")

    with pytest.raises(KeyError, match="callback bug"):
        get_optimizer(name).minimize(
            RecordingObjective(quadratic),
            np.zeros(3),
            max_iterations=5,
            tolerance=1e-6,
            callback=bad_callback,
        )


def test_malformed_objective_output_is_rejected() -> None:
    def wrong_shape(
        parameter_sets: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, None]:
        return np.zeros(parameter_sets.shape[0] + 1), None

    with pytest.raises(RuntimeError, match="shape"):
        get_optimizer("spsa").minimize(wrong_shape, np.zeros(2), max_iterations=5, tolerance=1e-3)

    def no_gradient(
        parameter_sets: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, None]:
        return np.zeros(parameter_sets.shape[0]), None

    with pytest.raises(RuntimeError, match="no gradients"):
        get_optimizer("adam").minimize(no_gradient, np.zeros(2), max_iterations=5, tolerance=1e-3)

    def not_finite(
        parameter_sets: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, None]:
        return np.full(parameter_sets.shape[0], np.nan), None

    with pytest.raises(RuntimeError, match="non-finite"):
        get_optimizer("cobyla").minimize(not_finite, np.zeros(2), max_iterations=5, tolerance=1e-3)


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("adam", {"lr": 0.1}, r"unknown option.*'lr'.*beta1=0\.9.*learning_rate=0\.01"),
        ("adam", {"learning_rate": -0.1}, r"'learning_rate'.*\(0, inf\)"),
        ("adam", {"beta1": 1.0}, r"'beta1'.*\[0, 1\)"),
        ("adam", {"epsilon": float("nan")}, "'epsilon'"),
        ("adam", {"beta2": "0.9"}, "'beta2'.*str"),
        ("cobyla", {"rhobeg": 0.0}, "'rhobeg'"),
        ("cobyla", {"maxiter": 10}, r"unknown option.*valid options.*rhobeg=1"),
        ("nelder-mead", {"adaptive": 0.5}, r"'adaptive'.*0 or 1"),
        ("nelder-mead", {"initial_simplex_size": True}, "'initial_simplex_size'"),
        ("l-bfgs-b", {"history_size": 2.5}, r"'history_size'.*integer"),
        ("spsa", {"window": 0}, r"'window'.*integer in \[1, inf\)"),
        ("spsa", {"alpha": 1.5}, r"'alpha'.*\(0, 1\]"),
        ("spsa", {"a": 0.3}, "calibrate=0"),
        ("spsa", {"a": 0.3, "calibrate": 1}, "calibrate=0"),
    ],
)
def test_bad_options_rejected_before_any_evaluation(
    name: str, options: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        get_optimizer(name).minimize(
            never_called, np.zeros(2), max_iterations=10, tolerance=1e-3, options=options
        )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x0": np.zeros(0)}, "non-empty 1-D"),
        ({"x0": np.zeros((2, 2))}, "non-empty 1-D"),
        ({"x0": np.array([0.0, np.inf])}, "finite"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"max_iterations": 2.5}, "max_iterations"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"tolerance": float("nan")}, "tolerance"),
        ({"tolerance": 2.0}, "rhobeg"),  # COBYLA: final radius above the initial one
    ],
)
def test_bad_run_settings_rejected_before_any_evaluation(
    kwargs: dict[str, object], match: str
) -> None:
    settings: dict[str, object] = {"x0": np.zeros(2), "max_iterations": 10, "tolerance": 1e-3}
    settings.update(kwargs)
    with pytest.raises(ValueError, match=match):
        get_optimizer("cobyla").minimize(never_called, **settings)  # type: ignore[arg-type]


def test_valid_options_are_completed_with_defaults() -> None:
    options = AdamOptimizer().validate_options({"learning_rate": 0.1, "beta1": np.float32(0.5)})
    assert options == {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.999, "epsilon": 1e-8}
    assert SpsaOptimizer().validate_options({"a": 0.3, "calibrate": 0})["a"] == 0.3
    assert NelderMeadOptimizer().validate_options({"adaptive": True})["adaptive"] == 1.0


def test_spsa_evaluates_each_perturbation_pair_as_one_batch_with_spall_gains() -> None:
    a, c, stability, alpha, gamma = 0.3, 0.15, 2.0, 0.602, 0.101
    objective = RecordingObjective(quadratic)
    reports: list[IterationReport] = []
    result = SpsaOptimizer().minimize(
        objective,
        np.zeros(3),
        max_iterations=30,
        tolerance=1e-12,
        options={"a": a, "c": c, "A": stability, "calibrate": 0, "final_evaluation": 0},
        rng=np.random.default_rng(1),
        callback=reports.append,
    )
    assert len(objective.batches) == 30 == result.iteration_count
    assert all(batch.shape == (2, 3) for batch in objective.batches)
    x = np.zeros(3)
    for k, (batch, report) in enumerate(zip(objective.batches, reports, strict=True)):
        c_k = c / (k + 1) ** gamma
        a_k = a / (stability + k + 1) ** alpha
        plus, minus = batch
        np.testing.assert_allclose(report.x, x, atol=1e-12)
        np.testing.assert_allclose(0.5 * (plus + minus), x, atol=1e-12)
        delta = (plus - minus) / (2.0 * c_k)
        np.testing.assert_allclose(np.abs(delta), 1.0, atol=1e-9)  # Rademacher ±1
        (y_plus, y_minus), _ = quadratic(batch)
        assert report.energy == pytest.approx(0.5 * (y_plus + y_minus), abs=1e-12)
        gradient_estimate = (y_plus - y_minus) / (2.0 * c_k) * delta
        assert report.gradient_norm == pytest.approx(np.linalg.norm(gradient_estimate))
        x = x - a_k * gradient_estimate
    best = min(reports, key=lambda r: r.energy)
    np.testing.assert_array_equal(result.x, best.x)
    assert result.energy == best.energy  # no final evaluation requested


def test_spsa_returns_best_iterate_not_last() -> None:
    # a = 2 overshoots on this quadratic (curvature up to 4): the iterates oscillate outwards.
    objective = RecordingObjective(quadratic)
    reports: list[IterationReport] = []
    result = SpsaOptimizer().minimize(
        objective,
        np.zeros(3),
        max_iterations=8,
        tolerance=1e-12,
        options={"a": 2.0, "calibrate": 0},
        rng=np.random.default_rng(6),
        callback=reports.append,
    )
    best = min(reports, key=lambda r: r.energy)
    assert best is not reports[-1]
    np.testing.assert_array_equal(result.x, best.x)
    # final_evaluation (default): the result's energy is measured at x, one extra parameter set.
    assert result.energy == energy_of(quadratic, best.x)
    assert objective.batches[-1].shape == (1, 3)
    assert result.evaluation_count == 2 * 8 + 1


def test_spsa_calibration_is_one_batch_and_sets_first_step() -> None:
    objective = RecordingObjective(linear)
    reports: list[IterationReport] = []
    SpsaOptimizer().minimize(
        objective,
        np.array([0.5]),
        max_iterations=2,
        tolerance=1e-12,
        options={"calibration_steps": 7, "target_step": 0.4, "A": 3.0},
        rng=np.random.default_rng(2),
        callback=reports.append,
    )
    sizes = [batch.shape[0] for batch in objective.batches]
    assert sizes == [14, 2, 2, 1]  # calibration, two iterations, final evaluation
    # For E = 3x, |y+ - y-| / 2c = 3 exactly, so a = 0.4 (A+1)^α / 3; the first gain is
    # a_0 = a / (A+1)^α = 0.4 / 3 and ĝ_0 = 3Δ·Δ = 3: the first update is exactly -target_step.
    assert reports[1].x[0] - reports[0].x[0] == pytest.approx(-0.4, abs=1e-12)
    # The final evaluation re-measures the best (lowest-estimate) iterate, here the last one.
    np.testing.assert_array_equal(objective.batches[-1], [reports[1].x])


def test_spsa_is_reproducible_and_finds_minimum_under_shot_noise() -> None:
    noise = np.random.default_rng(99)

    def noisy(parameter_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        energies, gradients = cosine_landscape(parameter_sets)
        return energies + noise.normal(0.0, 0.02, energies.shape), gradients

    result = SpsaOptimizer().minimize(
        RecordingObjective(noisy),
        np.full(3, 0.5),
        max_iterations=300,
        tolerance=1e-4,
        rng=np.random.default_rng(4),
    )
    assert energy_of(cosine_landscape, result.x) < -3.0 + 0.05
    again = [
        SpsaOptimizer().minimize(
            RecordingObjective(quadratic),
            np.zeros(3),
            max_iterations=50,
            tolerance=1e-3,
            rng=np.random.default_rng(8),
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(again[0].x, again[1].x)
    assert again[0].energy == again[1].energy


def test_adam_follows_kingma_ba_update() -> None:
    learning_rate, beta1, beta2, epsilon = 0.05, 0.8, 0.99, 1e-6
    reports: list[IterationReport] = []
    AdamOptimizer().minimize(
        RecordingObjective(quadratic),
        np.zeros(3),
        max_iterations=25,
        tolerance=1e-12,
        options={
            "learning_rate": learning_rate,
            "beta1": beta1,
            "beta2": beta2,
            "epsilon": epsilon,
        },
        callback=reports.append,
    )
    x, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t, report in enumerate(reports, start=1):
        g = 2.0 * QUADRATIC_CURVATURE * (x - QUADRATIC_MINIMUM)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        x = x - learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + epsilon)
        np.testing.assert_allclose(report.x, x, rtol=1e-12, atol=1e-14)
        assert report.evaluation_count == t + 1  # x0, then one per iteration


def test_adam_converged_at_start_spends_no_iteration() -> None:
    objective = RecordingObjective(quadratic)
    result = AdamOptimizer().minimize(
        objective, QUADRATIC_MINIMUM, max_iterations=10, tolerance=1e-9
    )
    assert result.converged and result.iteration_count == 0 and result.evaluation_count == 1


def test_nelder_mead_evaluates_initial_simplex_as_one_batch_without_repeats() -> None:
    objective = RecordingObjective(cosine_landscape)
    x0 = np.array([2.0, 1.5, -2.5])
    NelderMeadOptimizer().minimize(
        objective, x0, max_iterations=200, tolerance=1e-8, options={"initial_simplex_size": 0.3}
    )
    np.testing.assert_array_equal(objective.batches[0], np.vstack([x0, x0 + 0.3 * np.eye(3)]))
    assert all(batch.shape[0] == 1 for batch in objective.batches[1:])
    every_set = np.concatenate(objective.batches)
    assert len({row.tobytes() for row in every_set}) == len(every_set)


def test_lbfgsb_spends_one_gradient_evaluation_per_point() -> None:
    objective = RecordingObjective(quadratic)
    result = LbfgsbOptimizer().minimize(objective, np.zeros(3), max_iterations=100, tolerance=1e-10)
    every_set = np.concatenate(objective.batches)
    assert len({row.tobytes() for row in every_set}) == len(every_set) == result.evaluation_count
    assert result.evaluation_count <= 3 * result.iteration_count


def test_registry() -> None:
    assert list(OPTIMIZERS) == ALL_NAMES
    for name, optimizer in OPTIMIZERS.items():
        assert isinstance(optimizer, Optimizer) and optimizer.name == name
        assert optimizer.description
        assert optimizer.default_options == optimizer.validate_options(None)
        assert all(isinstance(v, float) for v in optimizer.default_options.values())
    assert get_optimizer("L-BFGS-B") is OPTIMIZERS["l-bfgs-b"]
    assert SpsaOptimizer().default_options["alpha"] == 0.602
    assert SpsaOptimizer().default_options["gamma"] == 0.101
    with pytest.raises(ValueError, match=r"unknown optimizer 'bfgs'.*cobyla, nelder-mead"):
        get_optimizer("bfgs")
