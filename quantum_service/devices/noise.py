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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.simulator.channels import depolarizing_kraus, thermal_relaxation_kraus

__all__ = ["entanglement_fidelity", "residual_depolarizing_p", "relaxation_kraus"]


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
