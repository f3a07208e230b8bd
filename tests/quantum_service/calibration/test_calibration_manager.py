"""Triggers: only drifted qubits are recalibrated, schedule and canary periods, on-demand
calibration, snapshots with parents, telemetry, and the restored fidelity."""

from __future__ import annotations

import numpy as np
import pytest
from calibration_helpers import FAST, miscalibrated_driver, slot_of

from qcore.v1 import telemetry_pb2
from quantum_service.calibration.manager import CalibrationManager, CalibrationPolicy
from quantum_service.convert import calibration_event, snapshot_to_proto
from quantum_service.devices.drift import DriftRates
from quantum_service.drivers.fleet import trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import InvalidProgramError


def test_only_the_drifted_qubit_and_its_pairs_are_recalibrated(grid_2x2):
    caps, nominal = grid_2x2
    q2 = nominal.qubits[2]
    true = nominal.with_qubit(2, pi_pulse_amplitude=1.03, frequency_hz=q2.frequency_hz + 50e3)
    driver = miscalibrated_driver(true, nominal, caps)
    events = []
    manager = CalibrationManager(lambda snapshot, experiments: events.append(
        calibration_event(snapshot, experiments=experiments)), seed=2,
        settings={caps.qpu_id: FAST})
    before = driver.calibration_snapshot()
    outcome = manager.calibrate(slot_of(driver))
    drifted = {(r.node, r.target) for r in outcome.readings if r.drifted}
    assert drifted == {("rabi", 2), ("ramsey", 2)}
    assert outcome.recalibrated_qubits == (2,)
    assert outcome.tasks == (("rabi", 2), ("ramsey", 2), ("cphase", (0, 2)),
                             ("cphase", (2, 3)))
    snapshot = driver.calibration_snapshot()
    assert snapshot is outcome.snapshot and snapshot.parent_snapshot_id == before.snapshot_id
    assert snapshot.trigger == "on_demand" and snapshot.recalibrated_qubits == (2,)
    assert snapshot.calibration_device_time_s == pytest.approx(outcome.device_time_s)
    assert outcome.device_time_s == pytest.approx(driver.calibration_device_time_s)
    fitted = snapshot.parameters.qubits[2]
    assert fitted.pi_pulse_amplitude == pytest.approx(1.03, abs=0.004)
    assert fitted.frequency_hz == pytest.approx(true.qubits[2].frequency_hz, abs=4e3)
    assert snapshot.parameters.qubits[0] == nominal.qubits[0]  # carried over untouched
    # telemetry: one CalibrationEvent with the proto snapshot
    (event,) = events
    assert isinstance(event, telemetry_pb2.CalibrationEvent)
    assert event.trigger == "on_demand" and "rabi:q2" in event.experiments
    assert event.snapshot.parent_snapshot_id == before.snapshot_id
    assert list(event.snapshot.recalibrated_qubits) == [2]
    assert event.snapshot.qubits[2].uncertainties["pi_pulse_amplitude"] > 0
    # now nothing is drifted: a second check runs canaries only
    again = manager.calibrate(slot_of(driver))
    assert again.tasks == () and again.snapshot is snapshot
    assert all(e.startswith("canary:") for e in again.experiments)


def test_forced_calibration_of_chosen_qubits(grid_2x2):
    caps, nominal = grid_2x2
    driver = miscalibrated_driver(nominal, nominal, caps)
    manager = CalibrationManager(seed=1, settings={caps.qpu_id: FAST})
    outcome = manager.calibrate(slot_of(driver), qubits=[0, 1], force=True)
    assert outcome.recalibrated_qubits == (0, 1)
    assert {t for _, t in outcome.tasks} == {0, 1, (0, 1), (0, 2), (1, 3)}
    assert not outcome.readings
    with pytest.raises(InvalidProgramError) as info:
        CalibrationManager().calibrate(slot_of(driver), qubits=[7])
    assert info.value.reason == "QUBIT_OUT_OF_RANGE"


def test_schedule_and_canary_periods(grid_2x2):
    caps, nominal = grid_2x2
    driver = SimulatedQpuDriver(caps, nominal, drift=False)
    manager = CalibrationManager(policy=CalibrationPolicy(schedule_period_s=3600.0,
                                                          canary_period_s=600.0),
                                 settings={caps.qpu_id: FAST})
    slot = slot_of(driver)
    assert manager.maintain_blocking(slot) is None  # nothing due at clock 0
    driver.advance_clock(700.0)
    checked = manager.maintain_blocking(slot)
    assert checked.trigger == "drift" and checked.tasks == ()
    assert manager.maintain_blocking(slot) is None  # canaries just ran
    driver.advance_clock(3600.0)
    scheduled = manager.maintain_blocking(slot)
    assert scheduled.trigger == "schedule"
    assert scheduled.recalibrated_qubits == (0, 1, 2, 3)
    assert driver.calibration_snapshot().trigger == "schedule"


async def test_maintain_is_awaitable_and_skips_ideal_devices():
    caps, params = trapped_ion_chain("ion-ideal-t", qubit_count=3, noisy=False)
    driver = SimulatedQpuDriver(caps, params)
    manager = CalibrationManager(policy=CalibrationPolicy(canary_period_s=0.0))
    before = driver.calibration_snapshot()
    await manager.maintain(slot_of(driver))
    outcome = manager.calibrate(slot_of(driver), force=True)
    assert outcome.experiments == () and driver.calibration_snapshot() is before
    assert driver.device_time_s == 0.0


def test_drift_degrades_and_calibration_restores_ghz_fidelity(grid_2x2):
    from quantum_service.circuits.ir import Circuit, Operation

    caps, nominal = grid_2x2
    strong = DriftRates(frequency_sigma_hz=80e3, frequency_tau_s=7200.0, amplitude_sigma=0.03,
                        amplitude_tau_s=7200.0, two_qubit_phase_sigma_rad=0.15,
                        two_qubit_phase_tau_s=7200.0, readout_sigma=0.1, readout_tau_s=7200.0,
                        dephasing_sigma=0.1, dephasing_tau_s=7200.0, tls_rate_per_s=0.0,
                        tls_dwell_s=3600.0, tls_t1_factor=(1.0, 1.0), tls_frequency_shift_hz=0.0)
    driver = SimulatedQpuDriver(caps, nominal, drift=strong, seed=7)
    ghz = Circuit(3, (Operation("h", (0,)), Operation("cx", (0, 1)), Operation("cx", (1, 2))))
    projector = [("", 0.125), ("Z0 Z1", 0.125), ("Z1 Z2", 0.125), ("Z0 Z2", 0.125),
                 ("X0 X1 X2", 0.125), ("X0 Y1 Y2", -0.125), ("Y0 X1 Y2", -0.125),
                 ("Y0 Y1 X2", -0.125)]
    program = driver.prepare(ghz, observable=projector)
    x = np.zeros(0)
    fresh = driver.state_expectation(program, x)
    driver.advance_clock(10 * 3600.0)
    drifted = driver.state_expectation(program, x)
    assert drifted < fresh - 0.02
    CalibrationManager(seed=4, settings={caps.qpu_id: FAST}).calibrate(slot_of(driver),
                                                                       qubits=[0, 1, 2, 3])
    restored = driver.state_expectation(program, x)
    assert restored > fresh - 0.01
    assert restored > drifted + 0.02


def test_snapshot_proto_carries_calibration_fields(grid_2x2):
    caps, nominal = grid_2x2
    driver = miscalibrated_driver(nominal, nominal, caps)
    manager = CalibrationManager(seed=1, settings={caps.qpu_id: FAST})
    outcome = manager.calibrate(slot_of(driver), qubits=[3], force=True)
    msg = snapshot_to_proto(outcome.snapshot)
    assert msg.trigger == "on_demand" and list(msg.recalibrated_qubits) == [3]
    assert msg.calibration_device_time_s == pytest.approx(outcome.device_time_s)
    q3 = msg.qubits[3]
    assert q3.pi_pulse_amplitude == pytest.approx(outcome.snapshot.parameters.qubits[3]
                                                  .pi_pulse_amplitude)
    assert set(q3.uncertainties) >= {"t1_us", "t2_us", "frequency_hz", "readout_p01"}
    assert q3.calibrate_time.seconds > 0
