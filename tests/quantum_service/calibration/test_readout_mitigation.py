"""Readout-error mitigation recovers known distributions and expectation values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from calibration_helpers import miscalibrated_driver

from quantum_service.calibration.mitigation import assignment_matrix, mitigate_counts
from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.contract import DeviceParameters, ExecutionOptions, QubitParameters
from quantum_service.errors import FailedPreconditionError


def test_tensored_inverse_recovers_a_known_distribution():
    rng = np.random.default_rng(3)
    true = rng.dirichlet(np.ones(8))  # index = b0 + 2 b1 + 4 b2 over clbits 0, 2, 3
    errors = {0: (0.02, 0.05), 2: (0.04, 0.01), 3: (0.1, 0.07)}
    full = np.kron(assignment_matrix(*errors[3]),
                   np.kron(assignment_matrix(*errors[2]), assignment_matrix(*errors[0])))
    noisy = full @ true
    counts = {}
    for index, (b3, b2, b0) in enumerate(itertools.product((0, 1), repeat=3)):
        i = b0 + 2 * b2 + 4 * b3
        counts[f"{b3}{b2}0{b0}"] = round(noisy[i] * 1e9)
    out = mitigate_counts(counts, clbit_errors=errors, clbit_count=4)
    for index, (b3, b2, b0) in enumerate(itertools.product((0, 1), repeat=3)):
        assert out[f"{b3}{b2}0{b0}"] == pytest.approx(true[b0 + 2 * b2 + 4 * b3], abs=1e-8)
    assert sum(out.values()) == pytest.approx(1.0)
    with pytest.raises(FailedPreconditionError):
        mitigate_counts({"0": 1}, clbit_errors={0: (0.5, 0.5)}, clbit_count=1)


def _readout_only_device(p01: float, p10: float):
    caps, _ = superconducting_grid("sc-ro", rows=1, cols=2)
    qubit = QubitParameters(frequency_hz=5e9, t1_us=1e12, t2_us=1e12, readout_p01=p01,
                            readout_p10=p10, single_qubit_gate_fidelity=1.0)
    params = DeviceParameters((qubit, qubit), {}, 1.0)
    return miscalibrated_driver(params, params, caps)


def test_driver_mitigates_bell_counts_with_the_calibrated_matrices():
    driver = _readout_only_device(0.04, 0.09)
    bell = Circuit(2, (Operation("h", (0,)), Operation("cx", (0, 1)),
                       Operation("measure", (0, 1), (), (0, 1))), clbit_count=2)
    program = driver.prepare(bell, observable=None)
    shots = 200_000
    out = driver.execute(program, np.zeros((1, 0)),
                         ExecutionOptions(shot_count=shots, seed=5, readout_mitigation=True))
    raw = {k: v / shots for k, v in out.counts[0].items()}
    mitigated = out.mitigated_probabilities[0]
    tolerance = 5 * np.sqrt(0.25 / shots) * 1.3  # shot noise, amplified by the inverse
    assert raw["01"] > 0.03 and raw["00"] < 0.5 - 0.02  # readout errors are visible
    for key, expected in {"00": 0.5, "11": 0.5, "01": 0.0, "10": 0.0}.items():
        assert mitigated.get(key, 0.0) == pytest.approx(expected, abs=tolerance)
    plain = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=10, seed=1))
    assert plain.mitigated_probabilities is None


def test_expectation_values_are_scaled_by_the_readout_contrast():
    p = 0.06
    driver = _readout_only_device(p, p)  # symmetric: the scaling is exact
    circuit = Circuit(2, (Operation("x", (0,)), Operation("h", (1,))))
    program = driver.prepare(circuit, observable=[("Z0", 1.0), ("Z0 X1", 0.5)])
    raw = driver.execute(program, np.zeros((1, 0)), ExecutionOptions())
    assert raw.expectation_values[0] == pytest.approx(-(1 - 2 * p) - 0.5 * (1 - 2 * p) ** 2)
    fixed = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(readout_mitigation=True))
    assert fixed.expectation_values[0] == pytest.approx(-1.5, abs=1e-9)
    sampled = driver.execute(program, np.zeros((1, 0)),
                             ExecutionOptions(shot_count=50_000, seed=2,
                                              readout_mitigation=True))
    assert sampled.expectation_values[0] == pytest.approx(-1.5, abs=5 * sampled.standard_errors[0])
