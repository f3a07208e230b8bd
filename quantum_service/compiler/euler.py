"""Exact synthesis of a constant single-qubit unitary into a native basis.

Every 2x2 unitary is ``U = e^{iγ} Rz(φ) Ry(θ) Rz(λ)`` (ZYZ Euler decomposition; Nielsen &
Chuang, *Quantum Computation and Quantum Information*, Theorem 4.1). From the three angles:

* ``rz`` + ``r``:  ``U ∝ R(θ, φ + π/2) · Rz(φ + λ)``, using ``Rz(a) R(θ, α) Rz(-a) = R(θ, α + a)``
  and ``Ry(θ) = R(θ, π/2)`` — one pulse plus a virtual Z.
* ``rz`` + ``sx``: ``U ∝ Rz(φ + π) · SX · Rz(θ + π) · SX · Rz(λ)`` (McKay et al., "Efficient Z
  gates for quantum computing", PRA 96, 022330 (2017); Qiskit's ``U3 → RZ·SX·RZ·SX·RZ`` rule),
  with one-``sx`` (θ = π/2) and ``x`` (θ = π) special cases.
* ``rz`` + ``rx``: ``U ∝ Rz(φ + π/2) · Rx(θ) · Rz(λ − π/2)``; ``rz`` + ``ry``: ZYZ directly.

Global phase is dropped. Rotations by a multiple of 2π are omitted.
"""

from __future__ import annotations

import cmath
import math

import numpy as np

from quantum_service.circuits.ir import Operation
from quantum_service.compiler.operations import ANGLE_TOLERANCE, gate, wrap_angle
from quantum_service.errors import InvalidProgramError

__all__ = ["synthesize_1q", "zyz_angles"]

_EPS = 1e-9


def zyz_angles(matrix: np.ndarray) -> tuple[float, float, float]:
    """ZYZ Euler angles ``(θ, φ, λ)`` with ``matrix ∝ Rz(φ) Ry(θ) Rz(λ)``.

    Args:
        matrix: a 2x2 unitary, complex.
    Returns:
        ``θ`` in ``[0, π]``; ``φ`` and ``λ`` in ``(-π, π]`` (radians). These are also the
        parameters of qcore's ``u(θ, φ, λ)`` gate, which equals ``matrix`` up to global phase.
    Raises:
        InvalidProgramError: ``matrix`` is not a 2x2 unitary.
    """
    u = np.asarray(matrix)
    if u.shape != (2, 2):
        raise InvalidProgramError(f"ZYZ decomposition needs a 2x2 unitary, got shape {u.shape}")
    u00, u01, u10, u11 = (complex(x) for x in u.ravel())
    det = u00 * u11 - u01 * u10
    if (abs(abs(u00) ** 2 + abs(u10) ** 2 - 1.0) > 1e-8 or abs(abs(det) - 1.0) > 1e-8
            or abs(u00.conjugate() * u01 + u10.conjugate() * u11) > 1e-8):
        raise InvalidProgramError("ZYZ decomposition needs a 2x2 unitary matrix")
    root = cmath.sqrt(det)
    a, b = u00 / root, u10 / root  # the SU(2) matrix is [[a, -b*], [b, a*]]
    theta = 2.0 * math.atan2(abs(b), abs(a))
    # a = e^{-i(φ+λ)/2} cos(θ/2), b = e^{i(φ-λ)/2} sin(θ/2)
    plus = -2.0 * cmath.phase(a) if abs(a) > _EPS else 0.0
    minus = 2.0 * cmath.phase(b) if abs(b) > _EPS else 0.0
    phi, lam = (plus + minus) / 2.0, (plus - minus) / 2.0
    return theta, wrap_angle(phi), wrap_angle(lam)


def _rz(qubit: int, angle: float) -> list[Operation]:
    angle = wrap_angle(angle)
    return [] if abs(angle) < ANGLE_TOLERANCE else [gate("rz", (qubit,), angle)]


def synthesize_1q(matrix: np.ndarray, qubit: int, *, basis: str, use_x: bool = False
                  ) -> list[Operation]:
    """Native gates implementing a constant single-qubit unitary up to global phase.

    Args:
        matrix: a 2x2 unitary, complex.
        qubit: the qubit the gates act on.
        basis: ``"r"``, ``"sx"``, ``"rx"`` or ``"ry"`` (each together with ``rz``; see
            :data:`quantum_service.compiler.target.ONE_QUBIT_BASES`).
        use_x: for ``basis="sx"``, whether ``x`` is native (a π rotation then costs one pulse).
    Returns:
        Operations in circuit order; empty for an identity (up to phase).
    Raises:
        InvalidProgramError: unknown ``basis`` or a non-unitary ``matrix``.
    """
    theta, phi, lam = zyz_angles(matrix)
    if theta < _EPS:
        return _rz(qubit, phi + lam)
    q = (qubit,)
    if basis == "r":
        return _rz(qubit, phi + lam) + [gate("r", q, theta, wrap_angle(phi + math.pi / 2))]
    if basis == "sx":
        if abs(theta - math.pi / 2) < _EPS:
            return _rz(qubit, lam - math.pi / 2) + [gate("sx", q)] + _rz(qubit, phi + math.pi / 2)
        if use_x and abs(theta - math.pi) < _EPS:
            return _rz(qubit, lam - phi + math.pi) + [gate("x", q)]
        return (_rz(qubit, lam) + [gate("sx", q)] + _rz(qubit, theta + math.pi)
                + [gate("sx", q)] + _rz(qubit, phi + math.pi))
    if basis == "rx":
        return (_rz(qubit, lam - math.pi / 2) + [gate("rx", q, theta)]
                + _rz(qubit, phi + math.pi / 2))
    if basis == "ry":
        return _rz(qubit, lam) + [gate("ry", q, theta)] + _rz(qubit, phi)
    raise InvalidProgramError(f"unknown single-qubit basis {basis!r}")
