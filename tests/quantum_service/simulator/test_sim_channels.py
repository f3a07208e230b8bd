"""Noise channels: trace preservation, textbook Bloch-vector maps, T1/T2 decay, fidelities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import (
    Channel,
    amplitude_damping_kraus,
    average_gate_fidelity,
    depolarizing_kraus,
    depolarizing_p_from_fidelity,
    dm_to_matrix,
    fidelity_from_depolarizing_p,
    phase_damping_kraus,
    reset_kraus,
    simulate_density_matrix,
    thermal_relaxation_kraus,
)
from quantum_service.simulator.reference import (
    embed_operator,
    random_density_matrix,
    random_unitary,
)

_X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
_Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
_Z = np.diag([1.0, -1.0]).astype(np.complex128)

CHANNELS = {
    "depolarizing_1q": depolarizing_kraus(0.2),
    "depolarizing_2q": depolarizing_kraus(0.3, qubit_count=2),
    "depolarizing_full": depolarizing_kraus(1.0),
    "amplitude_damping": amplitude_damping_kraus(0.3),
    "phase_damping": phase_damping_kraus(0.4),
    "thermal": thermal_relaxation_kraus(t1_us=50.0, t2_us=70.0, duration_ns=20_000.0),
    "thermal_t2_eq_2t1": thermal_relaxation_kraus(t1_us=50.0, t2_us=100.0, duration_ns=1e4),
    "reset": reset_kraus(),
}


def _apply(kraus: tuple[np.ndarray, ...], rho: np.ndarray) -> np.ndarray:
    return sum(k @ rho @ k.conj().T for k in kraus)


def _bloch(rho: np.ndarray) -> np.ndarray:
    return np.array([np.trace(rho @ p).real for p in (_X, _Y, _Z)])


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_kraus_operators_are_trace_preserving(name: str) -> None:
    kraus = CHANNELS[name]
    d = kraus[0].shape[0]
    np.testing.assert_allclose(sum(k.conj().T @ k for k in kraus), np.eye(d), atol=1e-12)
    Channel(tuple(range(d.bit_length() - 1)), kraus)  # accepted by the channel check


def test_channel_rejects_non_trace_preserving_operators() -> None:
    with pytest.raises(InvalidProgramError, match="not trace preserving"):
        Channel((0,), (np.diag([1.0, 0.5]),))
    with pytest.raises(InvalidProgramError, match="shape"):
        Channel((0, 1), depolarizing_kraus(0.1))
    with pytest.raises(InvalidProgramError, match="at least one"):
        Channel((0,), ())


@pytest.mark.parametrize("p", [0.0, 0.03, 0.5, 0.75, 1.0])
def test_depolarizing_shrinks_the_bloch_vector(p: float) -> None:
    rho = dm_to_matrix(simulate_density_matrix(1, [Channel((0,), depolarizing_kraus(p))]))
    np.testing.assert_allclose(_bloch(rho), [0, 0, 1 - 4 * p / 3], atol=1e-12)


@pytest.mark.parametrize("qubit_count", [1, 2])
def test_depolarizing_equals_the_mixing_form(qubit_count: int) -> None:
    """(1-p) rho + p/(d²-1) sum_{P≠I} P rho P == (1-lam) rho + lam I/d, lam = p d²/(d²-1)."""
    p, d = 0.12, 2**qubit_count
    rho = random_density_matrix(qubit_count, np.random.default_rng(qubit_count))
    lam = p * d**2 / (d**2 - 1)
    np.testing.assert_allclose(_apply(depolarizing_kraus(p, qubit_count=qubit_count), rho),
                               (1 - lam) * rho + lam * np.eye(d) / d, atol=1e-12)


def test_amplitude_and_phase_damping_on_the_bloch_sphere() -> None:
    gamma, lam = 0.3, 0.4
    plus = np.full((2, 2), 0.5, dtype=np.complex128)
    one = np.diag([0.0, 1.0]).astype(np.complex128)
    assert _apply(amplitude_damping_kraus(gamma), one)[1, 1].real == pytest.approx(1 - gamma)
    np.testing.assert_allclose(_bloch(_apply(amplitude_damping_kraus(gamma), plus)),
                               [math.sqrt(1 - gamma), 0, gamma], atol=1e-12)
    np.testing.assert_allclose(_bloch(_apply(phase_damping_kraus(lam), plus)),
                               [math.sqrt(1 - lam), 0, 0], atol=1e-12)
    rho = random_density_matrix(1, np.random.default_rng(0))
    np.testing.assert_allclose(np.diag(_apply(phase_damping_kraus(lam), rho)), np.diag(rho),
                               atol=1e-12)


@pytest.mark.parametrize("t_ns", [0.0, 1_000.0, 25_000.0, 80_000.0])
def test_thermal_relaxation_decays_with_t1_and_t2(t_ns: float) -> None:
    t1_us, t2_us = 40.0, 55.0
    channel = Channel((0,), thermal_relaxation_kraus(t1_us=t1_us, t2_us=t2_us, duration_ns=t_ns))
    one = np.array([0, 1], dtype=np.complex128)
    rho = dm_to_matrix(simulate_density_matrix(1, [channel], initial_state=one))
    assert rho[1, 1].real == pytest.approx(math.exp(-t_ns * 1e-3 / t1_us), abs=1e-12)
    plus = np.array([1, 1], dtype=np.complex128) / math.sqrt(2)
    rho = dm_to_matrix(simulate_density_matrix(1, [channel], initial_state=plus))
    assert abs(rho[0, 1]) == pytest.approx(0.5 * math.exp(-t_ns * 1e-3 / t2_us), abs=1e-12)


def test_thermal_relaxation_composes_over_time() -> None:
    half = Channel((0,), thermal_relaxation_kraus(t1_us=30.0, t2_us=20.0, duration_ns=7_000.0))
    full = Channel((0,), thermal_relaxation_kraus(t1_us=30.0, t2_us=20.0, duration_ns=14_000.0))
    rho0 = random_density_matrix(1, np.random.default_rng(1))
    np.testing.assert_allclose(
        dm_to_matrix(simulate_density_matrix(1, [half, half], initial_state=rho0)),
        dm_to_matrix(simulate_density_matrix(1, [full], initial_state=rho0)), atol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"t1_us": 10.0, "t2_us": 25.0, "duration_ns": 1.0}, "must not exceed 2 T1"),
     ({"t1_us": 0.0, "t2_us": 1.0, "duration_ns": 1.0}, "> 0"),
     ({"t1_us": 10.0, "t2_us": 5.0, "duration_ns": -1.0}, "duration_ns")],
)
def test_thermal_relaxation_rejects_unphysical_times(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidProgramError, match=message):
        thermal_relaxation_kraus(**kwargs)


def test_probabilities_out_of_range_are_rejected() -> None:
    for factory in (amplitude_damping_kraus, phase_damping_kraus, depolarizing_kraus):
        with pytest.raises(InvalidProgramError, match=r"\[0, 1\]"):
            factory(1.5)
    with pytest.raises(InvalidProgramError, match="1 or 2 qubits"):
        depolarizing_kraus(0.1, qubit_count=3)


def test_reset_sends_every_state_to_zero() -> None:
    rho = random_density_matrix(1, np.random.default_rng(2))
    np.testing.assert_allclose(_apply(reset_kraus(), rho), [[1, 0], [0, 0]], atol=1e-12)


_OCTAHEDRON = [np.array(v, dtype=np.complex128) / np.linalg.norm(v)
               for v in ([1, 0], [0, 1], [1, 1], [1, -1], [1, 1j], [1, -1j])]


def _design_average_fidelity(kraus: tuple[np.ndarray, ...]) -> float:
    """Average of <psi|E(psi)|psi> over the six Pauli eigenstates, a 2-design, which equals
    the Haar average for this quadratic function of psi (Dankert et al., PRA 80, 012304)."""
    return float(np.mean([np.vdot(v, _apply(kraus, np.outer(v, v.conj())) @ v).real
                          for v in _OCTAHEDRON]))


def _choi_average_fidelity(kraus: tuple[np.ndarray, ...]) -> float:
    """F_avg = (d F_e + 1)/(d + 1), F_e = <Phi|(E ⊗ I)(|Phi><Phi|)|Phi> from the Choi state."""
    d = kraus[0].shape[0]
    k = d.bit_length() - 1
    phi = np.eye(d).reshape(-1) / np.sqrt(d)  # sum_i |i>|i> / sqrt(d), system = high qubits
    ops = [embed_operator(2 * k, tuple(range(2 * k - 1, k - 1, -1)), m) for m in kraus]
    choi = sum(m @ np.outer(phi, phi.conj()) @ m.conj().T for m in ops)
    f_e = np.vdot(phi, choi @ phi).real
    return (d * f_e + 1) / (d + 1)


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_average_gate_fidelity_formula(name: str) -> None:
    kraus = CHANNELS[name]
    expected = (_design_average_fidelity(kraus) if kraus[0].shape[0] == 2
                else _choi_average_fidelity(kraus))
    assert average_gate_fidelity(kraus) == pytest.approx(expected, abs=1e-12)
    assert _choi_average_fidelity(kraus) == pytest.approx(expected, abs=1e-12)


def test_average_gate_fidelity_to_a_target_unitary() -> None:
    u = random_unitary(2, np.random.default_rng(3))
    assert average_gate_fidelity((u,), target=u) == pytest.approx(1.0)
    # An over-rotation by eps about X: F_avg = (|tr R|² + d)/(d(d+1)) = (4cos²(eps/2) + 2)/6.
    eps = 0.1
    rx = np.cos(eps / 2) * np.eye(2) - 1j * np.sin(eps / 2) * _X
    assert average_gate_fidelity((rx,)) == pytest.approx((4 * np.cos(eps / 2) ** 2 + 2) / 6)


@pytest.mark.parametrize("qubit_count", [1, 2])
@pytest.mark.parametrize("p", [0.0, 0.001, 0.02, 0.5])
def test_depolarizing_fidelity_conversions(p: float, qubit_count: int) -> None:
    d = 2**qubit_count
    fidelity = fidelity_from_depolarizing_p(p, qubit_count)
    assert fidelity == pytest.approx(1 - p * d / (d + 1))
    assert fidelity == pytest.approx(
        average_gate_fidelity(depolarizing_kraus(p, qubit_count=qubit_count)), abs=1e-12)
    assert depolarizing_p_from_fidelity(fidelity, qubit_count) == pytest.approx(p, abs=1e-12)


def test_depolarizing_p_from_typical_fidelities() -> None:
    assert depolarizing_p_from_fidelity(0.999, 1) == pytest.approx(0.0015)
    assert depolarizing_p_from_fidelity(0.99, 2) == pytest.approx(0.0125)
    with pytest.raises(InvalidProgramError, match="outside"):
        depolarizing_p_from_fidelity(0.1, 1)
