"""The device-time model and the ability declarations of the driver contract."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.calibration.manager import CalibrationManager
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.contract import (
    ExecutionOptions,
    ExecutionResult,
    PreparedProgram,
    QpuCapabilities,
    QpuDriver,
)
from quantum_service.contract.device_time import (
    attempted_shot_time_s,
    batch_device_time_s,
    measurement_settings,
    predicted_device_time_s,
    shot_duration_ns,
    simultaneous_device_time_s,
    time_shares,
)
from quantum_service.drivers.fleet import (
    neutral_atom_drivers,
    photonic_drivers,
    superconducting_grid,
    trapped_ion_chain,
)
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.multiprogramming import supports_fixed_layout
from quantum_service.kernel.qpus import qpu_supports

BELL = "OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;"


def test_formulas():
    caps, _ = superconducting_grid("sc-test", rows=2, cols=2, seed=1)
    assert shot_duration_ns(300.0, caps) == 300.0 + 1500.0 + 1000.0
    assert batch_device_time_s(executions=3, settings=2, shot_count=100,
                               shot_ns=1000.0) == pytest.approx(3 * 2 * 100 * 1e-6)
    assert batch_device_time_s(executions=3, settings=2, shot_count=0,
                               shot_ns=1000.0) == 0.0  # exact: simulator-only
    assert simultaneous_device_time_s([100.0, 700.0], shot_count=10, caps=caps) == \
        pytest.approx(10 * (700.0 + 2500.0) * 1e-9)
    assert simultaneous_device_time_s([], shot_count=10, caps=caps) == 0.0
    assert attempted_shot_time_s(2.0, ran_shots=25, attempted_shots=100) == pytest.approx(8.0)
    shares = time_shares([0.0, 2500.0], caps)
    assert shares == pytest.approx([1 / 3, 2 / 3]) and sum(shares) == pytest.approx(1.0)
    assert measurement_settings(None) == 1
    assert measurement_settings([("Z0 Z1", 1.0), ("Z0", 0.5), ("X0 X1", 0.2)]) == 2


def test_the_simulated_driver_and_the_prediction_agree():
    caps, params = trapped_ion_chain("ion-test", qubit_count=3, seed=2)
    driver = SimulatedQpuDriver(caps, params, drift=False)
    observable = [("Z0 Z1", 1.0), ("X0 X1", 1.0)]  # two measurement settings
    program = driver.prepare(parse_qasm("OPENQASM 2.0; qreg q[2]; h q[0]; cx q[0],q[1];"),
                             observable=observable)
    assert program.duration_ns > 0
    out = driver.execute(program, np.zeros((4, 0)), ExecutionOptions(shot_count=50, seed=1))
    expected = batch_device_time_s(executions=4, settings=2, shot_count=50,
                                   shot_ns=shot_duration_ns(program.duration_ns, caps))
    assert out.device_time_s == pytest.approx(expected)
    assert predicted_device_time_s([program], caps, shot_count=50,
                                   parameter_set_count=4) == pytest.approx(expected)
    assert driver.device_time_s == pytest.approx(expected)


def test_post_selection_counts_every_attempted_shot():
    (driver,) = photonic_drivers()
    program = driver.prepare(parse_qasm(BELL), observable=None)
    p_keep = driver.keep_probability(program)
    assert 0.0 < p_keep < 1.0
    out = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=400, seed=3))
    assert sum(out.counts[0].values()) + out.discarded_shot_counts[0] == 400
    assert out.device_time_s == pytest.approx(batch_device_time_s(
        executions=1, settings=1, shot_count=400,
        shot_ns=shot_duration_ns(program.duration_ns, driver.capabilities)))


class _Minimal(QpuDriver):
    """A driver implementing only what the interface requires."""

    def __init__(self, caps: QpuCapabilities, snapshot) -> None:
        self._caps, self._snapshot = caps, snapshot

    @property
    def capabilities(self) -> QpuCapabilities:
        return self._caps

    def prepare(self, circuit, *, observable, observables=()) -> PreparedProgram:
        raise NotImplementedError

    def execute(self, program, parameter_sets, options) -> ExecutionResult:
        raise NotImplementedError

    def calibration_snapshot(self):
        return self._snapshot


def test_abilities_are_declared_not_probed():
    caps, params = superconducting_grid("sc-test", rows=2, cols=2, seed=1)
    simulated = SimulatedQpuDriver(caps, params, drift=False)
    assert simulated.calibratable() is simulated and simulated.simultaneous() is simulated
    assert simulated.fixed_layout() is simulated and simulated.post_selecting() is None
    (atoms,) = neutral_atom_drivers()
    assert atoms.post_selecting() is atoms
    minimal = _Minimal(caps, simulated.calibration_snapshot())
    assert minimal.calibratable() is None and minimal.fixed_layout() is None
    assert not CalibrationManager.supports(minimal) and CalibrationManager.supports(simulated)
    assert not supports_fixed_layout(minimal) and supports_fixed_layout(simulated)
    flags = qpu_supports(minimal, multi_programming=False, calibration=False)
    assert flags["post_selection"] is False and flags["gradients"] is True
    assert qpu_supports(atoms, multi_programming=False, calibration=False)["atom_loss"] is True
