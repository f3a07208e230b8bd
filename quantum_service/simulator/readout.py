"""Readout (assignment) error: a classical channel on measurement-outcome probabilities.

Each measured qubit ``j`` reports the wrong bit with probabilities ``p(1|0) = p1_given_0[j]``
and ``p(0|1) = p0_given_1[j]``, independently of the others (the tensored, uncorrelated
assignment-error model; Nation et al., "Scalable mitigation of measurement errors on quantum
computers", PRX Quantum 2, 040326 (2021)). Its per-qubit confusion matrix
``A[measured, prepared]`` is ``[[1 - p(1|0), p(0|1)], [p(1|0), 1 - p(0|1)]]`` and the readout
fidelity is ``1 - (p(1|0) + p(0|1)) / 2``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.ops import state_qubit_count

__all__ = ["apply_readout_error", "confusion_matrix"]


def confusion_matrix(p1_given_0: float, p0_given_1: float) -> np.ndarray:
    """``A[measured, prepared]`` of one qubit, float64 ``(2, 2)``, columns summing to 1.

    Raises:
        InvalidProgramError: a probability outside ``[0, 1]``.
    """
    for name, value in (("p1_given_0", p1_given_0), ("p0_given_1", p0_given_1)):
        if not 0.0 <= float(value) <= 1.0:
            raise InvalidProgramError(f"{name} must be in [0, 1], got {value!r}")
    return np.array([[1.0 - p1_given_0, p0_given_1], [p1_given_0, 1.0 - p0_given_1]],
                    dtype=np.float64)


def apply_readout_error(probabilities: np.ndarray, *, p1_given_0: Sequence[float],
                        p0_given_1: Sequence[float]) -> np.ndarray:
    """Outcome probabilities as a faulty readout reports them.

    Args:
        probabilities: float, shape ``(2**m,)``: true probabilities of the ``m`` measured
            qubits; index bit ``j`` is measured position ``j`` (as returned by
            :func:`~quantum_service.simulator.measurement.probabilities` with ``qubits``).
        p1_given_0, p0_given_1: length ``m``; entry ``j`` is for measured position ``j``.
    Returns:
        float64, shape ``(2**m,)``: ``(A_{m-1} ⊗ ... ⊗ A_0) @ probabilities``.
    Raises:
        InvalidProgramError: lengths that do not match ``m``, or probabilities outside [0, 1].
    """
    p = np.array(probabilities, dtype=np.float64)
    m = state_qubit_count(p)
    if len(p1_given_0) != m or len(p0_given_1) != m:
        raise InvalidProgramError(
            f"expected {m} readout error rate(s) per kind for {m} measured qubit(s), got "
            f"{len(p1_given_0)} p(1|0) and {len(p0_given_1)} p(0|1)"
        )
    for j in range(m):
        a = confusion_matrix(p1_given_0[j], p0_given_1[j])
        # View bit j as the middle axis: (higher bits, bit j, lower bits).
        view = p.reshape(-1, 2, 1 << j)
        zero, one = view[:, 0, :].copy(), view[:, 1, :].copy()
        view[:, 0, :] = a[0, 0] * zero + a[0, 1] * one
        view[:, 1, :] = a[1, 0] * zero + a[1, 1] * one
    return p
