"""The simulated driver: compiled execution equals the ideal circuit, and the noise model gives
textbook values (depolarizing fidelity, T1 decay, readout assignment errors)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import circuit_unitary
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.contract import DeviceParameters, ExecutionOptions, QubitParameters
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import PauliSum

P = ParameterExpression.symbol


def random_circuit(rng: np.random.Generator, n: int, depth: int) -> Circuit:
    ops = []
    for _ in range(depth):
        kind = rng.integers(4)
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        if kind == 0:
            ops.append(Operation("ry", (a,), (P("t0") * float(rng.normal()) + 0.3,)))
        elif kind == 1:
            ops.append(Operation("cx", (a, b)))
        elif kind == 2:
            ops.append(Operation("rzz", (a, b), (P("t1") - P("t0") / 2,)))
        else:
            ops.append(Operation("u3", (a,), tuple(ParameterExpression(float(v))
                                                   for v in rng.normal(size=3))))
    return Circuit(n, tuple(ops), parameters=("t0", "t1"))


OBSERVABLE = [("Z0", 0.7), ("X1 X2", -0.4), ("Y0 Z3", 0.25), ("", -1.0), ("Z1 Z2 Z3", 0.3)]


def reference_energy(circuit: Circuit, values: np.ndarray) -> float:
    state = circuit_unitary(circuit.bind(values))[:, 0]
    matrix = PauliSum(OBSERVABLE, qubit_count=circuit.qubit_count).matrix()
    return float(np.real(state.conj() @ matrix @ state))


@pytest.mark.parametrize("device", ["grid", "ion"])
def test_ideal_execution_matches_the_uncompiled_circuit(device):
    """Routing + native decomposition + final-layout observable mapping, end to end."""
    if device == "grid":
        caps, params = superconducting_grid("sc-ideal", rows=2, cols=3, noisy=False)
    else:
        caps, params = trapped_ion_chain("ion-ideal", qubit_count=5, noisy=False)
    driver = SimulatedQpuDriver(caps, params)
    rng = np.random.default_rng(7)
    for _ in range(5):
        circuit = random_circuit(rng, 4, 14)
        program = driver.prepare(circuit, observable=OBSERVABLE)
        x = rng.normal(size=(3, 2))
        out = driver.execute(program, x, ExecutionOptions(gradient=True))
        np.testing.assert_allclose(out.expectation_values,
                                   [reference_energy(circuit, row) for row in x], atol=1e-9)
        h = 1e-6
        for row, point in enumerate(x):
            fd = [(reference_energy(circuit, point + h * e) -
                   reference_energy(circuit, point - h * e)) / (2 * h) for e in np.eye(2)]
            np.testing.assert_allclose(out.gradients[row], fd, atol=1e-6)


def _two_qubit_device(*, fidelity: float = 1.0, t1_us: float = 1e12, t2_us: float = 1e12,
                      p01: float = 0.0, p10: float = 0.0):
    caps, _ = superconducting_grid("sc-test", rows=1, cols=2, noisy=True)
    qubit = QubitParameters(frequency_hz=5e9, t1_us=t1_us, t2_us=t2_us, readout_p01=p01,
                            readout_p10=p10, single_qubit_gate_fidelity=fidelity)
    return SimulatedQpuDriver(caps, DeviceParameters((qubit, qubit), {}, fidelity))


def _x_then_z0(driver) -> float:
    circuit = Circuit(1, (Operation("x", (0,)),))
    program = driver.prepare(circuit, observable=[("Z0", 1.0)])
    return float(driver.execute(program, np.zeros((1, 0)), ExecutionOptions())
                 .expectation_values[0])


def test_depolarizing_noise_gives_the_calibrated_gate_fidelity():
    # For X on |0> under Pauli depolarizing p: P(1) = 1 - 2p/3 and F_avg = 1 - p d/(d+1)
    # = 1 - 2p/3 (Nielsen 2002), so P(1) equals the average gate fidelity.
    fidelity = 0.97
    z = _x_then_z0(_two_qubit_device(fidelity=fidelity))
    p1 = (1 - z) / 2
    assert p1 == pytest.approx(fidelity, abs=1e-9)


def test_energy_relaxation_during_a_gate_follows_t1():
    t1_us = 1.0
    z = _x_then_z0(_two_qubit_device(t1_us=t1_us, t2_us=2 * t1_us))
    p1 = (1 - z) / 2
    assert p1 == pytest.approx(math.exp(-36.0 / (t1_us * 1e3)), rel=1e-9)  # sx/x take 36 ns


def test_readout_errors_bias_expectation_values_and_counts():
    p01, p10 = 0.03, 0.08
    driver = _two_qubit_device(p01=p01, p10=p10)
    empty = Circuit(2, (Operation("id", (0,)), Operation("id", (1,))))
    program = driver.prepare(empty, observable=[("Z0", 1.0), ("Z0 Z1", 1.0)])
    value = driver.execute(program, np.zeros((1, 0)), ExecutionOptions()).expectation_values[0]
    # |00>: each readout flips with p01, so <Z> = 1 - 2 p01 and <ZZ> = (1 - 2 p01)^2.
    assert value == pytest.approx((1 - 2 * p01) + (1 - 2 * p01) ** 2, abs=1e-12)
    flipped = Circuit(2, (Operation("x", (0,)), Operation("x", (1,))))
    program = driver.prepare(flipped, observable=[("Z0", 1.0)])
    value = driver.execute(program, np.zeros((1, 0)), ExecutionOptions()).expectation_values[0]
    assert value == pytest.approx(-(1 - 2 * p10), abs=1e-12)
    measured = Circuit(1, (Operation("x", (0,)), Operation("measure", (0,), (), (0,))),
                       clbit_count=1)
    program = driver.prepare(measured, observable=None)
    counts = driver.execute(program, np.zeros((1, 0)),
                            ExecutionOptions(shot_count=20000, seed=3)).counts[0]
    assert counts["0"] / 20000 == pytest.approx(p10, abs=4 * math.sqrt(p10 / 20000))


def test_device_time_accounts_gates_readout_reset_and_shots():
    caps, params = trapped_ion_chain("ion-ideal", qubit_count=3, noisy=False)
    driver = SimulatedQpuDriver(caps, params)
    bell = Circuit(2, (Operation("h", (0,)), Operation("cx", (0, 1)),
                       Operation("measure", (0, 1), (), (0, 1))), clbit_count=2)
    program = driver.prepare(bell, observable=None)
    one = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=100, seed=1))
    two = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=200, seed=1))
    assert two.device_time_s == pytest.approx(2 * one.device_time_s)
    per_shot_s = one.device_time_s / 100
    # at least one Mølmer–Sørensen gate (200 µs), readout (130 µs) and cooling (50 µs)
    assert 380e-6 <= per_shot_s < 2e-3
    assert driver.device_time_s == pytest.approx(3 * one.device_time_s)


def test_noisy_gradient_matches_finite_differences():
    caps, params = superconducting_grid("sc-noisy", rows=2, cols=2, noisy=True)
    driver = SimulatedQpuDriver(caps, params)
    circuit = Circuit(3, (Operation("ry", (0,), (P("a"),)), Operation("cx", (0, 2)),
                          Operation("rx", (2,), (P("a") * 2 - P("b"),))), parameters=("a", "b"))
    program = driver.prepare(circuit, observable=[("Z0 Z2", 1.0), ("X2", 0.5)])
    x = np.array([[0.4, -0.9]])
    out = driver.execute(program, x, ExecutionOptions(gradient=True))
    h = 1e-5

    def energy(point):
        return driver.execute(program, point[None, :], ExecutionOptions()).expectation_values[0]

    fd = [(energy(x[0] + h * e) - energy(x[0] - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(out.gradients[0], fd, atol=1e-7)


def test_too_wide_and_unsupported_programs_are_rejected_before_execution():
    caps, params = trapped_ion_chain("ion", qubit_count=3, noisy=True)
    driver = SimulatedQpuDriver(caps, params)
    with pytest.raises(InvalidProgramError, match="3") as info:
        driver.prepare(Circuit(4, (Operation("h", (3,)),)), observable=[("Z0", 1.0)])
    assert info.value.reason == "TOO_MANY_QUBITS"
    mid = Circuit(1, (Operation("measure", (0,), (), (0,)), Operation("x", (0,))), clbit_count=1)
    static = SimulatedQpuDriver(dataclasses.replace(caps, dynamic_circuits=False), params)
    with pytest.raises(InvalidProgramError, match="dynamic circuit"):
        static.prepare(mid, observable=None)
    counts = driver.execute(driver.prepare(mid, observable=None), np.zeros((1, 0)),
                            ExecutionOptions(shot_count=100, seed=1)).counts[0]
    assert counts.get("0", 0) > 80  # the mid-circuit outcome is recorded (|0>, readout noise)
    with pytest.raises(InvalidProgramError, match="measures nothing"):
        driver.prepare(Circuit(1, (Operation("x", (0,)),)), observable=None)
    big = dataclasses.replace(caps, qubit_count=12, max_simulated_qubits=11)
    wide = SimulatedQpuDriver(big, DeviceParameters(params.qubits * 4, {}, 0.97))
    circuit = Circuit(12, tuple(Operation("h", (q,)) for q in range(12)))
    with pytest.raises(InvalidProgramError, match="at most 11"):
        wide.prepare(circuit, observable=[("Z0", 1.0)])


def test_noisy_programs_wider_than_a_density_matrix_run_as_trajectories():
    caps, params = trapped_ion_chain("ion-12", qubit_count=12, noisy=True)
    driver = SimulatedQpuDriver(caps, params)
    ghz = Circuit(12, (Operation("h", (0,)),)
                  + tuple(Operation("cx", (q, q + 1)) for q in range(11))
                  + (Operation("measure", tuple(range(12)), (), tuple(range(12))),),
                  clbit_count=12)
    out = driver.execute(driver.prepare(ghz, observable=None), np.zeros((1, 0)),
                         ExecutionOptions(shot_count=2000, seed=1))
    assert out.engine == "trajectories"
    counts = out.counts[0]
    assert sum(counts.values()) == 2000
    good = counts.get("0" * 12, 0) + counts.get("1" * 12, 0)
    assert 0.6 * 2000 < good < 2000  # noisy, but mostly GHZ
    assert abs(counts.get("0" * 12, 0) - counts.get("1" * 12, 0)) < 0.15 * good


def test_prepare_physical_keeps_the_named_qubits():
    caps, params = superconducting_grid("sc-mp", rows=2, cols=3, noisy=False)
    driver = SimulatedQpuDriver(caps, params)
    # qubits 4 and 5 are coupled on the 2x3 lattice (row 1: 3-4-5)
    bell = Circuit(6, (Operation("h", (4,)), Operation("cx", (4, 5)),
                       Operation("measure", (4, 5), (), (0, 1))), clbit_count=2)
    program = driver.prepare_physical(bell, observable=None)
    touched = {q for op in program.payload.compiled.operations for q in op.qubits}
    assert touched == {4, 5}
    counts = driver.execute(program, np.zeros((1, 0)),
                            ExecutionOptions(shot_count=200, seed=2)).counts[0]
    assert set(counts) == {"00", "11"}
    far = Circuit(6, (Operation("cx", (0, 5)), Operation("measure", (0,), (), (0,))),
                  clbit_count=1)
    with pytest.raises(InvalidProgramError) as info:
        driver.prepare_physical(far, observable=None)
    assert info.value.reason == "UNROUTABLE"
