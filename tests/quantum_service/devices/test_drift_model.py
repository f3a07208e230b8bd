"""Drift of true parameters: OU statistics, telegraph T1 switching, clock-only dependence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantum_service.devices.drift import DRIFT_RATES, DriftingDevice, DriftRates
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.contract import Modality
from quantum_service.drivers.simulated import SimulatedQpuDriver

HOUR = 3600.0


def _wide_device(n: int = 400):
    caps, params = superconducting_grid("sc-wide", rows=20, cols=n // 20, seed=1)
    return caps, params


def test_ornstein_uhlenbeck_spreads_reach_the_stationary_sigma():
    caps, base = _wide_device()
    rates = DRIFT_RATES[Modality.SUPERCONDUCTING]
    device = DriftingDevice(base, rates, pairs=caps.coupling_map, seed=3, step_s=600.0)
    device.advance(20 * rates.frequency_tau_s)
    now = device.parameters
    amp = np.array([q.pi_pulse_amplitude for q in now.qubits]) - 1.0
    phase = np.array([p.two_qubit_phase_rad for p in now.pairs.values()])
    n = len(amp)
    # Stationary OU variance is σ²; sample std within 4 standard errors (σ/sqrt(2n)).
    assert amp.std() == pytest.approx(rates.amplitude_sigma, abs=4 * rates.amplitude_sigma
                                      / math.sqrt(2 * n))
    assert phase.std() == pytest.approx(rates.two_qubit_phase_sigma_rad,
                                        abs=4 * rates.two_qubit_phase_sigma_rad
                                        / math.sqrt(2 * len(phase)))
    t1_ratio = np.array([a.t1_us / b.t1_us for a, b in zip(now.qubits, base.qubits)])
    stationary = rates.tls_rate_per_s / (rates.tls_rate_per_s + 1 / rates.tls_dwell_s)
    lowered = float(np.mean(t1_ratio < 0.999))
    assert lowered == pytest.approx(stationary, abs=4 * math.sqrt(stationary / n))
    assert np.all(t1_ratio[t1_ratio < 0.999] >= rates.tls_t1_factor[0] - 1e-12)
    assert all(q.t2_us <= 2 * q.t1_us + 1e-9 for q in now.qubits)


def test_trajectory_depends_on_the_clock_only():
    caps, base = superconducting_grid("sc-c", rows=2, cols=2)
    rates = DRIFT_RATES[Modality.SUPERCONDUCTING]
    one = DriftingDevice(base, rates, pairs=caps.coupling_map, seed=9)
    many = DriftingDevice(base, rates, pairs=caps.coupling_map, seed=9)
    one.advance(5 * HOUR)
    for _ in range(500):
        many.advance(5 * HOUR / 500)
    assert one.clock_s == pytest.approx(many.clock_s)
    assert one.parameters == many.parameters
    assert one.parameters != base
    assert not one.advance(1.0)  # within a step: unchanged
    with pytest.raises(ValueError):
        one.advance(-1.0)


def test_short_runs_do_not_drift_and_ideal_devices_never_do():
    caps, base = superconducting_grid("sc-s", rows=1, cols=2)
    driver = SimulatedQpuDriver(caps, base)
    driver.advance_clock(9.0)  # below one 10 s drift step
    assert driver.true_parameters() == base
    driver.advance_clock(HOUR)
    assert driver.true_parameters() != base
    assert driver.device_clock_s == pytest.approx(HOUR + 9.0) and driver.device_time_s == 0.0
    caps, base = trapped_ion_chain("ion-i", qubit_count=3, noisy=False)
    ideal = SimulatedQpuDriver(caps, base)
    ideal.advance_clock(100 * HOUR)
    assert not ideal.drifts and ideal.true_parameters() == base


def test_custom_rates_are_used():
    caps, base = superconducting_grid("sc-r", rows=1, cols=2)
    still = DriftRates(frequency_sigma_hz=0.0, frequency_tau_s=1.0, amplitude_sigma=0.0,
                       amplitude_tau_s=1.0, two_qubit_phase_sigma_rad=0.0,
                       two_qubit_phase_tau_s=1.0, readout_sigma=0.0, readout_tau_s=1.0,
                       dephasing_sigma=0.0, dephasing_tau_s=1.0, tls_rate_per_s=0.0,
                       tls_dwell_s=1.0, tls_t1_factor=(1.0, 1.0), tls_frequency_shift_hz=0.0)
    driver = SimulatedQpuDriver(caps, base, drift=still)
    driver.advance_clock(HOUR)
    for a, b in zip(driver.true_parameters().qubits, base.qubits):
        assert a.frequency_hz == b.frequency_hz and a.t1_us == pytest.approx(b.t1_us)
