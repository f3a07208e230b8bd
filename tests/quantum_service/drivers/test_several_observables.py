"""A program prepared with several observables: each observable's values equal those of a
program prepared with it alone (exact, with gradients, on noiseless and noisy QPUs), terms shared
between observables are read once, and device time counts the settings of all terms together."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.contract import ExecutionOptions
from quantum_service.contract.device_time import measurement_settings
from quantum_service.drivers.fleet import photonic_dual_rail, superconducting_grid
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.engines import stack_observables
from quantum_service.errors import InvalidProgramError
from tests.quantum_service.drivers.test_simulated_driver import OBSERVABLE, random_circuit

P = ParameterExpression.symbol
OBSERVABLES = [OBSERVABLE, [("Z0", 1.0), ("X1 X2", 2.0)], [("Y3", -0.5), ("", 0.2)]]
X = np.array([[0.3, -0.2], [0.1, 0.5], [1.4, -0.9]])


def _driver(noisy: bool) -> SimulatedQpuDriver:
    caps, params = superconducting_grid("sc-test", rows=2, cols=3, noisy=noisy)
    return SimulatedQpuDriver(caps, params, drift=False)


def test_stack_observables_merges_equal_terms_written_differently():
    terms, rows = stack_observables([[("Z0 X1", 1.0), ("Y2", 2.0)], [("X1 Z0", 3.0)]])
    assert terms == [("Z0 X1", 1.0), ("Y2", 1.0)]
    np.testing.assert_array_equal(rows, [[1.0, 2.0], [3.0, 0.0]])


@pytest.mark.parametrize("noisy", [False, True])
@pytest.mark.parametrize("gradient", [False, True])
def test_exact_values_equal_those_of_each_observable_alone(noisy, gradient):
    driver = _driver(noisy)
    circuit = random_circuit(np.random.default_rng(3), 4, 12)
    options = ExecutionOptions(shot_count=0, gradient=gradient)
    together = driver.execute(driver.prepare(circuit, observable=None, observables=OBSERVABLES),
                              X, options)
    assert together.expectation_values.shape == together.standard_errors.shape == (3, 3)
    for k, observable in enumerate(OBSERVABLES):
        alone = driver.execute(driver.prepare(circuit, observable=observable), X, options)
        np.testing.assert_allclose(together.expectation_values[:, k], alone.expectation_values,
                                   atol=1e-10)
        if gradient:
            assert together.gradients.shape == (3, 3, 2)
            np.testing.assert_allclose(together.gradients[:, k], alone.gradients, atol=1e-9)
        assert together.circuit_executions == alone.circuit_executions
    assert together.device_time_s == 0


def test_shot_estimates_share_settings_and_device_time():
    driver = _driver(True)
    circuit = random_circuit(np.random.default_rng(5), 4, 10)
    options = ExecutionOptions(shot_count=2000, seed=11)
    program = driver.prepare(circuit, observable=None, observables=OBSERVABLES)
    union = [t for o in OBSERVABLES for t in o]
    settings = measurement_settings(union)
    assert measurement_settings(program.observable) == settings
    assert settings < sum(measurement_settings(o) for o in OBSERVABLES)
    together = driver.execute(program, X, options)
    alone = driver.execute(driver.prepare(circuit, observable=union), X, options)
    assert alone.device_time_s > 0
    assert together.device_time_s == pytest.approx(alone.device_time_s, rel=1e-12)
    exact = driver.execute(program, X, ExecutionOptions(shot_count=0))
    z = (together.expectation_values - exact.expectation_values) / np.where(
        together.standard_errors > 0, together.standard_errors, 1.0)
    assert np.all(np.abs(z) < 4.5)
    assert np.all(together.standard_errors[:, 2] > 0)  # Y3 is estimated, the identity exact


def test_both_observable_and_observables_are_refused():
    driver = _driver(False)
    circuit = random_circuit(np.random.default_rng(1), 4, 6)
    with pytest.raises(InvalidProgramError, match="not both") as info:
        driver.prepare(circuit, observable=OBSERVABLE, observables=OBSERVABLES)
    assert info.value.reason == "INVALID_OBSERVABLE"
    program = driver.prepare(circuit, observable=None, observables=OBSERVABLES)
    with pytest.raises(InvalidProgramError, match="exactly one observable"):
        driver.state_expectation(program, X[0])


def test_post_selecting_devices_keep_the_observable_axis():
    """Photonic shots are post-selected per parameter set; each observable keeps its column,
    and a gradient its (observable, parameter) block."""
    driver = photonic_dual_rail(qubit_count=4, noisy=False, drift=False)
    circuit = Circuit(4, (Operation("ry", (0,), (P("t0"),)), Operation("ry", (1,), (P("t1"),)),
                          Operation("h", (3,)), Operation("cx", (1, 2))),
                      parameters=("t0", "t1"))  # one two-qubit gate: most shots are kept
    program = driver.prepare(circuit, observable=None, observables=OBSERVABLES)
    out = driver.execute(program, X, ExecutionOptions(shot_count=2000, seed=2, gradient=True))
    assert out.expectation_values.shape == out.standard_errors.shape == (3, 3)
    assert out.gradients.shape == (3, 3, 2)
    kept = 2000 - np.array(out.discarded_shot_counts)
    assert np.all(kept > 200) and np.all(kept < 2000)
    exact = driver.execute(program, X, ExecutionOptions(shot_count=0)).expectation_values
    errors = np.where(out.standard_errors > 0, out.standard_errors, 1.0)
    assert np.all(np.abs(out.expectation_values - exact) / errors < 4.5)
