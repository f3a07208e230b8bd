"""Noise derived from a device's physical parameters.

For a compiled circuit the model inserts, in an as-soon-as-possible schedule:

* thermal relaxation (amplitude + phase damping from T1, T2) on every qubit for the duration of
  each gate it takes part in, and for the idle time it waits before a gate and before readout;
* after each gate, a depolarizing channel carrying the rest of the gate's error budget: the
  calibrated average gate infidelity ``1 - F`` minus the infidelity that relaxation during the
  gate already causes (never negative);
* readout assignment errors ``p(1|0)``, ``p(0|1)`` per qubit, applied to measured outcomes.

Average gate fidelity and entanglement fidelity of a channel with Kraus operators ``K_k`` in
dimension ``d``: ``F_e = Σ_k |Tr K_k|² / d²`` and ``F_avg = (d F_e + 1)/(d + 1)`` (Nielsen,
"A simple formula for the average gate fidelity of a quantum dynamical operation",
Phys. Lett. A 303, 249 (2002)). A completely depolarizing channel
Pauli depolarizing channel with error probability ``p``
(``ρ → (1 - p) ρ + p/(d² - 1) Σ_{P≠I} P ρ P``) has ``1 - F_avg = p d/(d + 1)``.

Coherent errors come from the mismatch between a device's true parameters and the OS's
calibrated estimates (what the control system uses to shape pulses):

* **over-rotation**: a drive pulse meant to rotate by ``θ`` uses amplitude
  ``θ/π · A_cal`` and so rotates by ``θ · A_cal/A_true`` (:func:`rotation_scale`; Rabi's
  formula, Krantz et al., Appl. Phys. Rev. 6, 021318 (2019), §IV.B);
* **detuning**: the drive frame rotates at the calibrated frequency, so in that frame the qubit
  precesses about Z at ``Δ = f_true - f_cal``: a time ``t`` adds ``Rz(2π Δ t)``
  (:func:`detuning_phase_rad`; the Ramsey picture of Krantz et al., §V.B.2);
* **2-qubit phase**: the uncompensated part ``δ = φ_true - φ_cal`` of the native gate's
  conditional phase (``cz``: ``diag(1, 1, 1, e^{iδ})``, :func:`conditional_phase_error`;
  for ``rxx`` an angle error, :func:`two_qubit_angle_scale`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.simulator.channels import depolarizing_kraus, thermal_relaxation_kraus

__all__ = [
    "entanglement_fidelity",
    "residual_depolarizing_p",
    "relaxation_kraus",
    "depolarizing",
    "rotation_scale",
    "detuning_phase_rad",
    "conditional_phase_error",
    "two_qubit_angle_scale",
]


def entanglement_fidelity(kraus: Sequence[np.ndarray]) -> float:
    """``F_e = Σ_k |Tr K_k|² / d²`` (Nielsen 2002)."""
    d = kraus[0].shape[0]
    return float(sum(abs(np.trace(k)) ** 2 for k in kraus) / d**2)


def relaxation_kraus(t1_us: float, t2_us: float, duration_ns: float) -> list[np.ndarray]:
    """Kraus operators of thermal relaxation of one qubit over ``duration_ns``."""
    return list(thermal_relaxation_kraus(t1_us=t1_us, t2_us=t2_us, duration_ns=duration_ns))


def residual_depolarizing_p(gate_fidelity: float, relaxation_fe: float, qubit_count: int
                            ) -> float:
    """Depolarizing probability ``p`` that brings a gate to its average fidelity.

    Args:
        gate_fidelity: the gate's calibrated average fidelity.
        relaxation_fe: entanglement fidelity of the relaxation during the gate (product over
            the gate's qubits).
        qubit_count: 1 or 2.
    Returns:
        Pauli-error probability ``p`` in ``[0, 1]`` (see the module docstring),
        ``d = 2**qubit_count``.
    """
    d = 2**qubit_count
    relaxation_infidelity = d * (1.0 - relaxation_fe) / (d + 1)
    residual = max(0.0, (1.0 - gate_fidelity) - relaxation_infidelity)
    return min(1.0, residual * (d + 1) / d)


def depolarizing(p: float, qubit_count: int) -> list[np.ndarray]:
    """Kraus operators of the Pauli depolarizing channel with error probability ``p``."""
    return list(depolarizing_kraus(p, qubit_count=qubit_count))


def rotation_scale(*, true_amplitude: float, calibrated_amplitude: float) -> float:
    """Factor by which drive rotations over- or under-rotate: ``A_cal / A_true``."""
    return calibrated_amplitude / true_amplitude


def detuning_phase_rad(*, true_frequency_hz: float, calibrated_frequency_hz: float,
                       duration_ns: float) -> float:
    """Angle of the Z rotation ``2π (f_true - f_cal) t`` accumulated over ``duration_ns``."""
    return 2.0 * np.pi * (true_frequency_hz - calibrated_frequency_hz) * duration_ns * 1e-9


def conditional_phase_error(delta_rad: float) -> np.ndarray:
    """``diag(1, 1, 1, e^{iδ})``, complex128 ``(4, 4)``: a conditional-phase error."""
    return np.diag([1.0, 1.0, 1.0, np.exp(1j * delta_rad)]).astype(np.complex128)


def two_qubit_angle_scale(delta_rad: float) -> float:
    """Angle factor of an ``rxx`` gate whose ``rxx(π/2)`` over-rotates by ``δ``:
    ``1 + 2δ/π`` (the Mølmer–Sørensen angle is proportional to the laser intensity)."""
    return 1.0 + 2.0 * delta_rad / np.pi
