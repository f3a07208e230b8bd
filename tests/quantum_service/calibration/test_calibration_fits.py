"""Each calibration experiment, run on a device with known true parameters that differ from the
estimates, recovers them within its reported one-sigma uncertainty (4σ bounds; fixed seeds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from calibration_helpers import miscalibrated_driver

from quantum_service.calibration import experiments as ex
from quantum_service.calibration import fitting
from quantum_service.drivers.fleet import trapped_ion_chain


def _context(driver, believed, seed=11):
    return ex.ExperimentContext(driver, believed, ex.settings_for(driver.capabilities.modality),
                                np.random.default_rng(seed))


@pytest.fixture
def perturbed(grid_2x2):
    caps, nominal = grid_2x2
    q = nominal.qubits[0]
    true = (nominal.with_qubit(0, pi_pulse_amplitude=1.025, frequency_hz=q.frequency_hz + 60e3,
                               t1_us=70.0, t2_us=55.0, readout_p01=0.03, readout_p10=0.06)
            .with_pair(0, 1, two_qubit_phase_rad=0.12))
    return caps, nominal, true


def test_single_qubit_chain_recovers_true_parameters(perturbed):
    caps, nominal, true = perturbed
    driver = miscalibrated_driver(true, nominal, caps)
    ctx = _context(driver, nominal)
    for name in ("readout", "rabi", "ramsey", "t1", "t2_echo"):
        ex.QUBIT_EXPERIMENTS[name](ctx, 0)
    fitted, sigma, truth = ctx.estimates.qubits[0], ctx.uncertainties[0], true.qubits[0]
    for field in ("readout_p01", "readout_p10", "pi_pulse_amplitude", "frequency_hz", "t1_us"):
        assert sigma[field] > 0
        assert abs(getattr(fitted, field) - getattr(truth, field)) < 4 * sigma[field], field
    # Hahn echo: the exponential model ignores T1 mixing during the echo (few-% bias).
    assert abs(fitted.t2_us - truth.t2_us) < 4 * sigma["t2_us"] + 0.05 * truth.t2_us
    assert ctx.experiments == ["readout:q0", "rabi:q0", "ramsey:q0", "t1:q0", "t2_echo:q0"]
    assert driver.calibration_device_time_s > 0


def test_rb_measures_the_gate_fidelity_of_a_calibrated_qubit(grid_2x2):
    caps, nominal = grid_2x2
    driver = miscalibrated_driver(nominal, nominal, caps)
    ctx = _context(driver, nominal)
    ex.rb_1q(ctx, 1)
    fitted = ctx.estimates.qubits[1].single_qubit_gate_fidelity
    truth = nominal.qubits[1].single_qubit_gate_fidelity
    assert abs(fitted - truth) < 4 * ctx.uncertainties[1]["single_qubit_gate_fidelity"]


def test_rb_sees_a_miscalibrated_pulse_as_extra_error(grid_2x2):
    caps, nominal = grid_2x2
    true = nominal.with_qubit(1, pi_pulse_amplitude=1.05)
    ctx = _context(miscalibrated_driver(true, nominal, caps), nominal)
    ex.rb_1q(ctx, 1)
    # A coherent over-rotation ε = 1/1.05 - 1 per π pulse: RB error per pulse grows by
    # ~ (π ε / 2)² / 3 (average infidelity of Rx(θ) is θ²/6 for small θ, half a π pulse each).
    assert ctx.estimates.qubits[1].single_qubit_gate_fidelity < \
        nominal.qubits[1].single_qubit_gate_fidelity - 2e-4


def test_cphase_and_xeb_recover_the_pair(perturbed):
    caps, nominal, true = perturbed
    driver = miscalibrated_driver(true, nominal.with_qubit(0, **{
        f: getattr(true.qubits[0], f) for f in ("pi_pulse_amplitude", "frequency_hz",
                                                "readout_p01", "readout_p10")}), caps)
    believed = driver.calibration_snapshot().parameters
    ctx = _context(driver, believed, seed=3)
    ex.cphase(ctx, (0, 1))
    sigma = ctx.pair_uncertainties[(0, 1)]["two_qubit_phase_rad"]
    assert abs(ctx.estimates.pair(0, 1).two_qubit_phase_rad - 0.12) < 4 * sigma
    assert sigma < 0.03
    ex.xeb_2q(ctx, (0, 1))
    sigma = ctx.pair_uncertainties[(0, 1)]["two_qubit_gate_fidelity"]
    truth = true.pair(0, 1).two_qubit_gate_fidelity
    assert abs(ctx.estimates.pair(0, 1).two_qubit_gate_fidelity - truth) < 4 * sigma


def test_ion_ramsey_and_ms_angle():
    caps, nominal = trapped_ion_chain("ion-cal", qubit_count=2, seed=4)
    q = nominal.qubits[0]
    true = (nominal.with_qubit(0, frequency_hz=q.frequency_hz + 7.0)
            .with_pair(0, 1, two_qubit_phase_rad=-0.05))
    ctx = _context(miscalibrated_driver(true, nominal, caps), nominal)
    ex.ramsey(ctx, 0)
    ex.ms_angle(ctx, (0, 1))
    sigma = ctx.uncertainties[0]["frequency_hz"]
    assert abs(ctx.estimates.qubits[0].frequency_hz - true.qubits[0].frequency_hz) < 4 * sigma
    sigma = ctx.pair_uncertainties[(0, 1)]["two_qubit_phase_rad"]
    assert abs(ctx.estimates.pair(0, 1).two_qubit_phase_rad + 0.05) < 4 * sigma


def test_fit_uncertainty_covers_synthetic_truth():
    # Binomial data from a known decay; the 1σ interval covers the truth ~68 % of the time.
    rng = np.random.default_rng(0)
    t = np.linspace(0, 300, 21)
    hits = 0
    for _ in range(60):
        p = 0.9 * np.exp(-t / 100.0) + 0.05
        y = rng.binomial(500, p) / 500
        result = fitting.fit(fitting.exponential_model, t, y, shots=500, p0=(1, 80, 0))
        hits += abs(result.values[1] - 100.0) < result.errors[1]
    assert 0.5 < hits / 60 < 0.85


def test_wrap():
    assert ex.wrap(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert ex.wrap(-0.1) == pytest.approx(-0.1)
