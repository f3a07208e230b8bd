"""Coherent errors from stale calibration, against closed forms: over-rotation from the π
amplitude, Z precession from detuning, conditional phase of cz; ideal devices stay ideal."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.contract import (
    CalibrationSnapshot,
    DeviceParameters,
    ExecutionOptions,
    QubitParameters,
)
from quantum_service.drivers.simulated import SimulatedQpuDriver

C = ParameterExpression


def _clean_pair(caps_id: str = "sc-coh") -> tuple[object, DeviceParameters]:
    caps, _ = superconducting_grid(caps_id, rows=1, cols=2)
    qubit = QubitParameters(frequency_hz=5e9, t1_us=1e12, t2_us=1e12, readout_p01=0.0,
                            readout_p10=0.0, single_qubit_gate_fidelity=1.0)
    return caps, DeviceParameters((qubit, qubit), {}, 1.0)


def _driver(caps, true, believed):
    driver = SimulatedQpuDriver(caps, true, drift=False)
    driver.install_snapshot(CalibrationSnapshot.create(caps.qpu_id, believed))
    return driver


def _z0(driver, circuit, observable=(("Z0", 1.0),)) -> float:
    program = driver.prepare(circuit, observable=list(observable))
    return float(driver.execute(program, np.zeros((1, 0)), ExecutionOptions())
                 .expectation_values[0])


def test_drifted_pi_amplitude_over_rotates():
    caps, clean = _clean_pair()
    true = clean.with_qubit(0, pi_pulse_amplitude=1.04)
    driver = _driver(caps, true, clean)
    # x plays amplitude A_cal = 1: rotation π/1.04, so <Z> = cos(π/1.04).
    assert _z0(driver, Circuit(1, (Operation("x", (0,)),))) == pytest.approx(
        math.cos(math.pi / 1.04), abs=1e-12)
    assert _z0(_driver(caps, true, true), Circuit(1, (Operation("x", (0,)),))) == \
        pytest.approx(-1.0, abs=1e-12)
    # eleven sx pulses, uncompiled: rotation 5.5π/1.04, P1 = sin²(5.5π/(2 · 1.04))
    eleven = Circuit(caps.qubit_count, (*(Operation("sx", (0,)) for _ in range(11)),
                                        Operation("measure", (0,), (), (0,))), clbit_count=1)
    shots = 200_000
    counts = driver.execute_native(eleven, np.zeros((1, 0)), shot_count=shots, seed=3).counts[0]
    expected = math.sin(5.5 * math.pi / 1.04 / 2) ** 2
    assert counts["1"] / shots == pytest.approx(expected, abs=5 * math.sqrt(0.25 / shots))
    assert abs(expected - 0.5) > 0.15  # far from the calibrated 1/2


def test_detuning_precesses_during_idle_time():
    caps, clean = _clean_pair()
    delta_hz, tau_ns = 40e3, 3000.0
    true = clean.with_qubit(0, frequency_hz=5e9 + delta_hz)
    driver = _driver(caps, true, clean)
    ramsey = Circuit(caps.qubit_count, (
        Operation("r", (0,), (C(math.pi / 2), C(0.0))), Operation("delay", (0,), (C(tau_ns),)),
        Operation("r", (0,), (C(math.pi / 2), C(math.pi / 2))),
        Operation("measure", (0,), (), (0,))), clbit_count=1)
    shots = 400_000
    counts = driver.execute_native(ramsey, np.zeros((1, 0)), shot_count=shots, seed=1).counts[0]
    # Phase accrues from the centre of the first pulse to the centre of the second.
    pulse_ns = caps.gate_duration_ns("x")
    expected = (1 + math.sin(2 * math.pi * delta_hz * (tau_ns + pulse_ns) * 1e-9)) / 2
    assert counts["1"] / shots == pytest.approx(expected, abs=5 * math.sqrt(0.25 / shots))
    assert driver.calibration_device_time_s == pytest.approx(driver.device_time_s)


def test_conditional_phase_error_of_cz():
    caps, clean = _clean_pair()
    delta = 0.3
    driver = _driver(caps, clean.with_pair(0, 1, two_qubit_phase_rad=delta), clean)
    circuit = Circuit(2, (Operation("h", (0,)), Operation("h", (1,)), Operation("cz", (0, 1))))
    # |++> through diag(1, 1, 1, -e^{iδ}): <X0> = (1 + cos(π + δ))/2 ... computed directly
    plus = np.full(4, 0.5, dtype=complex)
    state = np.diag([1, 1, 1, -np.exp(1j * delta)]) @ plus
    x0 = np.kron(np.eye(2), np.array([[0, 1], [1, 0]]))  # qubit 0 = least significant
    expected = float(np.real(state.conj() @ x0 @ state))
    assert _z0(driver, circuit, [("X0", 1.0)]) == pytest.approx(expected, abs=1e-9)
    assert _z0(_driver(caps, clean, clean), circuit, [("X0", 1.0)]) == pytest.approx(0.0,
                                                                                      abs=1e-9)


def test_ms_angle_error_scales_rxx():
    caps, params = trapped_ion_chain("ion-coh", qubit_count=2, noisy=True)
    perfect = DeviceParameters(tuple(QubitParameters(12.6e9, 1e12, 1e12, 0.0, 0.0, 1.0)
                                     for _ in range(2)), {}, 1.0)
    delta = 0.1
    driver = _driver(caps, perfect.with_pair(0, 1, two_qubit_phase_rad=delta), perfect)
    circuit = Circuit(2, (Operation("rxx", (0, 1), (C(math.pi / 2),)),))
    assert _z0(driver, circuit) == pytest.approx(math.cos(math.pi / 2 + delta), abs=1e-9)


def test_ideal_devices_stay_ideal_whatever_the_snapshot():
    caps, params = trapped_ion_chain("ion-ideal-c", qubit_count=2, noisy=False)
    wrong = params.with_qubit(0, pi_pulse_amplitude=1.3, frequency_hz=1.0)
    driver = _driver(caps, params, wrong)
    circuit = Circuit(1, (Operation("x", (0,)),))
    assert _z0(driver, circuit) == pytest.approx(-1.0, abs=1e-12)
