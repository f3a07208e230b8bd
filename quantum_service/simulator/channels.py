"""Kraus operators of the standard noise channels, and gate-fidelity conversions.

Every function returns a tuple of complex128 ``(2**k, 2**k)`` matrices ``K_i`` with
``sum_i K_i^† K_i = I``, for use in :class:`~quantum_service.simulator.ops.Channel`. Formulas
follow Nielsen & Chuang, *Quantum Computation and Quantum Information* (10th anniversary ed.),
§8.3 ("N&C" below).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from quantum_service.errors import InvalidProgramError

__all__ = [
    "amplitude_damping_kraus",
    "average_gate_fidelity",
    "depolarizing_kraus",
    "depolarizing_p_from_fidelity",
    "fidelity_from_depolarizing_p",
    "phase_damping_kraus",
    "reset_kraus",
    "thermal_relaxation_kraus",
]

_PAULIS = (
    np.eye(2, dtype=np.complex128),
    np.array([[0, 1], [1, 0]], dtype=np.complex128),
    np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    np.array([[1, 0], [0, -1]], dtype=np.complex128),
)


def _check_probability(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise InvalidProgramError(f"{name} must be in [0, 1], got {value!r}")
    return value


def _check_arity(qubit_count: int) -> int:
    if qubit_count not in (1, 2):
        raise InvalidProgramError(
            f"depolarizing noise is defined here on 1 or 2 qubits, got {qubit_count!r}"
        )
    return qubit_count


def depolarizing_kraus(p: float, *, qubit_count: int = 1) -> tuple[np.ndarray, ...]:
    """The depolarizing channel in its Pauli-error form.

    ``rho -> (1 - p) rho + p / (d**2 - 1) * sum_{P != I} P rho P`` with ``d = 2**qubit_count``
    and ``P`` over the non-identity Pauli products: with probability ``p`` one of the
    ``d**2 - 1`` non-identity Paulis, uniformly chosen, hits the state. Equivalently
    ``rho -> (1 - lam) rho + lam * I / d`` with ``lam = p * d**2 / (d**2 - 1)`` (the ``param`` of
    Qiskit Aer's ``depolarizing_error``). On one qubit the Bloch vector shrinks by
    ``1 - 4p/3`` (the form N&C §8.3.3 also gives). Its average gate fidelity is
    ``1 - p * d / (d + 1)`` (:func:`fidelity_from_depolarizing_p`).

    Args:
        p: Pauli-error probability in ``[0, 1]``.
        qubit_count: 1 or 2.
    Returns:
        ``d**2`` Kraus operators: ``sqrt(1 - p) I``, then ``sqrt(p / (d**2 - 1)) P`` with the
        Pauli products in ``I, X, Y, Z`` order, first qubit most significant.
    Raises:
        InvalidProgramError: ``p`` outside ``[0, 1]`` or an unsupported ``qubit_count``.
    """
    p = _check_probability(p, "the depolarizing probability p")
    k = _check_arity(qubit_count)
    d2 = 4**k
    operators = []
    for index, factors in enumerate(itertools.product(_PAULIS, repeat=k)):
        product = factors[0] if k == 1 else np.kron(factors[0], factors[1])
        weight = 1.0 - p if index == 0 else p / (d2 - 1)
        operators.append(math.sqrt(weight) * product)
    return tuple(operators)


def amplitude_damping_kraus(gamma: float) -> tuple[np.ndarray, ...]:
    """Amplitude damping (energy loss to a zero-temperature bath), N&C §8.3.4.

    ``K0 = [[1, 0], [0, sqrt(1 - gamma)]]``, ``K1 = [[0, sqrt(gamma)], [0, 0]]``: the excited
    population decays by ``1 - gamma`` and coherences by ``sqrt(1 - gamma)``.

    Raises:
        InvalidProgramError: ``gamma`` outside ``[0, 1]``.
    """
    gamma = _check_probability(gamma, "the damping probability gamma")
    return (
        np.array([[1.0, 0.0], [0.0, math.sqrt(1.0 - gamma)]], dtype=np.complex128),
        np.array([[0.0, math.sqrt(gamma)], [0.0, 0.0]], dtype=np.complex128),
    )


def phase_damping_kraus(lam: float) -> tuple[np.ndarray, ...]:
    """Phase damping (pure dephasing), N&C §8.3.5.

    ``K0 = [[1, 0], [0, sqrt(1 - lam)]]``, ``K1 = [[0, 0], [0, sqrt(lam)]]``: populations are
    unchanged, coherences decay by ``sqrt(1 - lam)``.

    Raises:
        InvalidProgramError: ``lam`` outside ``[0, 1]``.
    """
    lam = _check_probability(lam, "the phase-damping probability lam")
    return (
        np.array([[1.0, 0.0], [0.0, math.sqrt(1.0 - lam)]], dtype=np.complex128),
        np.array([[0.0, 0.0], [0.0, math.sqrt(lam)]], dtype=np.complex128),
    )


def thermal_relaxation_kraus(*, t1_us: float, t2_us: float, duration_ns: float
                             ) -> tuple[np.ndarray, ...]:
    """T1 energy relaxation and T2 dephasing for ``duration_ns``, at zero temperature.

    Amplitude damping with ``gamma = 1 - exp(-t / T1)`` followed by phase damping with
    ``lam = 1 - exp(-2 t / T_phi)``, where ``1 / T_phi = 1 / T2 - 1 / (2 T1)``: the excited
    population decays as ``exp(-t / T1)`` and coherences as
    ``sqrt(1 - gamma) * sqrt(1 - lam) = exp(-t / T2)`` (N&C §8.3.4-8.3.5; the Bloch equations'
    T1/T2). Physical only for ``T2 <= 2 T1``.

    Args:
        t1_us: energy-relaxation time T1, µs, > 0 (``math.inf`` for none).
        t2_us: coherence time T2, µs, in ``(0, 2 * t1_us]``.
        duration_ns: idle or gate time ``t``, ns, >= 0.
    Returns:
        up to 3 Kraus operators (products of the two channels' operators, zeros dropped).
    Raises:
        InvalidProgramError: a non-positive time, a negative duration, or ``T2 > 2 T1``.
    """
    t1_us, t2_us, duration_ns = float(t1_us), float(t2_us), float(duration_ns)
    if not t1_us > 0.0 or not t2_us > 0.0:
        raise InvalidProgramError(f"T1 and T2 must be > 0 µs, got t1_us={t1_us}, t2_us={t2_us}")
    if not (duration_ns >= 0.0 and math.isfinite(duration_ns)):
        raise InvalidProgramError(f"duration_ns must be finite and >= 0, got {duration_ns}")
    if t2_us > 2.0 * t1_us * (1.0 + 1e-12):
        raise InvalidProgramError(
            f"T2 ({t2_us} µs) must not exceed 2 T1 ({2.0 * t1_us} µs): T2 <= 2 T1 holds for "
            "every physical qubit"
        )
    t_us = duration_ns * 1e-3
    gamma = -math.expm1(-t_us / t1_us)
    dephasing_rate = max(0.0, 1.0 / t2_us - 0.5 / t1_us)  # 1 / T_phi, per µs
    lam = -math.expm1(-2.0 * t_us * dephasing_rate)
    operators = [
        b @ a for a in amplitude_damping_kraus(gamma) for b in phase_damping_kraus(lam)
    ]
    return tuple(k for k in operators if np.any(k))


def reset_kraus() -> tuple[np.ndarray, ...]:
    """Reset to ``|0>``: ``K0 = |0><0|``, ``K1 = |0><1|`` (amplitude damping with gamma = 1)."""
    return (
        np.array([[1.0, 0.0], [0.0, 0.0]], dtype=np.complex128),
        np.array([[0.0, 1.0], [0.0, 0.0]], dtype=np.complex128),
    )


def fidelity_from_depolarizing_p(p: float, qubit_count: int) -> float:
    """Average gate fidelity of :func:`depolarizing_kraus` with probability ``p``.

    The channel's entanglement fidelity is ``F_e = 1 - p`` (only the identity Kraus operator
    has a trace), and ``F_avg = (d F_e + 1) / (d + 1)`` (Horodecki, Horodecki & Horodecki,
    PRA 60, 1888 (1999); M. A. Nielsen, "A simple formula for the average gate fidelity of a
    quantum dynamical operation", Phys. Lett. A 303, 249 (2002), eq. 3), so
    ``F_avg = 1 - p * d / (d + 1)``, ``d = 2**qubit_count``.

    Raises:
        InvalidProgramError: ``p`` outside ``[0, 1]`` or ``qubit_count`` not 1 or 2.
    """
    p = _check_probability(p, "the depolarizing probability p")
    d = 2 ** _check_arity(qubit_count)
    return 1.0 - p * d / (d + 1)


def depolarizing_p_from_fidelity(average_gate_fidelity: float, qubit_count: int) -> float:
    """The ``p`` of :func:`depolarizing_kraus` whose average gate fidelity is the one given.

    Inverts ``F_avg = 1 - p * d / (d + 1)`` (see :func:`fidelity_from_depolarizing_p`):
    ``p = (1 - F_avg) * (d + 1) / d``, ``d = 2**qubit_count``. For example a 99.9 % one-qubit
    gate has ``p = 0.0015``, a 99 % two-qubit gate ``p = 0.0125``.

    Raises:
        InvalidProgramError: ``average_gate_fidelity`` outside ``[1 / (d + 1), 1]`` (no
            depolarizing channel has it) or ``qubit_count`` not 1 or 2.
    """
    d = 2 ** _check_arity(qubit_count)
    fidelity = float(average_gate_fidelity)
    if not 1.0 / (d + 1) <= fidelity <= 1.0:
        raise InvalidProgramError(
            f"an average gate fidelity of {fidelity!r} is outside [1/{d + 1}, 1], the range "
            f"of {qubit_count}-qubit depolarizing channels"
        )
    return min(1.0, (1.0 - fidelity) * (d + 1) / d)


def average_gate_fidelity(kraus_operators: Sequence[np.ndarray], *,
                          target: np.ndarray | None = None) -> float:
    """Average gate fidelity of a channel to the identity (or to unitary ``target``).

    ``F_avg = (sum_i |tr(U^† K_i)|**2 + d) / (d (d + 1))`` (Nielsen 2002, eq. 3 with
    ``F_e = sum_i |tr(U^† K_i)|**2 / d**2``; see :func:`fidelity_from_depolarizing_p`).

    Args:
        kraus_operators: complex ``(d, d)`` matrices of a trace-preserving channel.
        target: the ideal unitary ``U`` (default identity), ``(d, d)``.
    Raises:
        InvalidProgramError: no operators, or shapes that differ.
    """
    if not kraus_operators:
        raise InvalidProgramError("a channel needs at least one Kraus operator")
    d = np.asarray(kraus_operators[0]).shape[0]
    u_dagger = np.eye(d) if target is None else np.asarray(target).conj().T
    total = 0.0
    for k in kraus_operators:
        k = np.asarray(k)
        if k.shape != (d, d) or u_dagger.shape != (d, d):
            raise InvalidProgramError("Kraus operators and target must all be (d, d)")
        total += abs(np.trace(u_dagger @ k)) ** 2
    return float((total + d) / (d * (d + 1)))
