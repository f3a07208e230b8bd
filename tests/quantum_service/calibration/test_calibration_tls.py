"""A qubit found in a TLS event (T1 well below its reference, frequency pulled) has its
frequency and T1 re-checked every ``tls_recheck_s`` until its T1 is back, so the pulled
frequency does not stay installed for a whole schedule period."""

from __future__ import annotations

from calibration_helpers import FAST, miscalibrated_driver, slot_of

from quantum_service.calibration.manager import CalibrationManager, CalibrationPolicy


def test_a_tls_event_is_rechecked_until_t1_recovers(grid_2x2):
    caps, nominal = grid_2x2
    q0 = nominal.qubits[0]
    in_tls = nominal.with_qubit(0, t1_us=0.4 * q0.t1_us, t2_us=0.5 * q0.t2_us,
                                frequency_hz=q0.frequency_hz + 40e3)
    policy = CalibrationPolicy(schedule_period_s=4 * 3600.0, canary_period_s=None,
                               tls_recheck_s=1200.0)
    manager = CalibrationManager(policy=policy, seed=5, settings={caps.qpu_id: FAST})
    driver = miscalibrated_driver(in_tls, nominal, caps)
    manager.calibrate(slot_of(driver), qubits=[0], force=True)
    pulled = driver.calibration_snapshot()
    assert abs(pulled.parameters.qubits[0].frequency_hz - in_tls.qubits[0].frequency_hz) < 4e3
    slot = slot_of(driver)
    driver.advance_clock(600.0)
    assert not manager.is_due(slot)
    driver.advance_clock(600.0)
    assert manager.is_due(slot)
    again = manager.maintain_blocking(slot)
    assert again.trigger == "drift" and ("ramsey", 0) in again.tasks and ("t1", 0) in again.tasks
    assert all(t[1] in (0, (0, 1), (0, 2)) for t in again.tasks)  # qubit 0 and its pairs only
    # the TLS leaves: the next re-check measures the unpulled frequency, then the watch ends
    healthy = miscalibrated_driver(nominal, driver.calibration_snapshot().parameters, caps)
    healthy.advance_clock(driver.device_clock_s + 1200.0)
    slot = slot_of(healthy)
    back = manager.maintain_blocking(slot)
    assert back is not None and ("ramsey", 0) in back.tasks
    fitted = healthy.calibration_snapshot().parameters.qubits[0]
    assert abs(fitted.frequency_hz - q0.frequency_hz) < 4e3
    healthy.advance_clock(1200.0)
    assert not manager.is_due(slot)


def test_rechecks_can_be_disabled(grid_2x2):
    caps, nominal = grid_2x2
    q0 = nominal.qubits[0]
    in_tls = nominal.with_qubit(0, t1_us=0.4 * q0.t1_us, t2_us=0.5 * q0.t2_us)
    policy = CalibrationPolicy(schedule_period_s=4 * 3600.0, canary_period_s=None,
                               tls_recheck_s=None)
    manager = CalibrationManager(policy=policy, seed=5, settings={caps.qpu_id: FAST})
    driver = miscalibrated_driver(in_tls, nominal, caps)
    manager.calibrate(slot_of(driver), qubits=[0], force=True)
    driver.advance_clock(3600.0)
    assert not manager.is_due(slot_of(driver))
