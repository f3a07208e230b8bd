"""Readout-error mitigation with calibrated per-qubit assignment matrices.

Each measured qubit ``i`` has the assignment matrix (columns: prepared state, rows: read)
``A_i = [[1 - p01, p10], [p01, 1 - p10]]`` (``p01 = P(read 1 | 0)``, ``p10 = P(read 0 | 1)``).
With independent readout errors the whole register's matrix is ``⊗_i A_i``, so the mitigated
quasi-probabilities are ``(⊗_i A_i^{-1}) p_read`` — applied one qubit axis at a time, never
forming the ``2^k × 2^k`` matrix (tensored mitigation: Bravyi et al., "Mitigating measurement
errors in multiqubit experiments", PRA 103, 042605 (2021); Nation et al., "Scalable mitigation of
measurement errors on quantum computers", PRX Quantum 2, 040326 (2021)). The result sums to 1 and
may have small negative entries (quasi-probabilities).

For a Pauli expectation value, each qubit's read value ``z' = ±1`` has ``E[z'|z] = a + b z``
with ``b = 1 - p01 - p10`` and ``a = p10 - p01``; dividing a term by ``Π_i b_i`` over its support
removes the contrast loss (exact for symmetric errors, ``a = 0``, as after readout twirling:
van den Berg et al., "Model-free readout-error mitigation for quantum expectation values",
PRA 105, 032620 (2022)).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantum_service.errors import FailedPreconditionError

__all__ = ["assignment_matrix", "mitigate_counts", "pauli_readout_factor"]


def assignment_matrix(p01: float, p10: float) -> np.ndarray:
    """``[[1 - p01, p10], [p01, 1 - p10]]``, float64 ``(2, 2)``; column = prepared state."""
    return np.array([[1.0 - p01, p10], [p01, 1.0 - p10]])


def mitigate_counts(counts: Mapping[str, int], *, clbit_errors: Mapping[int, tuple[float, float]],
                    clbit_count: int) -> dict[str, float]:
    """Mitigated quasi-probabilities of a counts dictionary.

    Args:
        counts: bitstring (highest clbit first, ``clbit_count`` characters) → count.
        clbit_errors: per measured clbit, the calibrated ``(p01, p10)`` of the qubit it reads.
            Clbits not listed are taken as error-free.
        clbit_count: length of the bitstrings.
    Returns:
        bitstring → quasi-probability, over every bitstring of the measured clbits (others
        ``"0"``), entries with ``|value| < 1e-12`` dropped; the values sum to 1.
    Raises:
        FailedPreconditionError: an assignment matrix is singular (``p01 + p10 = 1``).
    """
    total = sum(counts.values())
    clbits = sorted(clbit_errors)
    k = len(clbits)
    if total == 0 or k == 0:
        return {key: value / max(total, 1) for key, value in counts.items()}
    probs = np.zeros((2,) * k)
    for key, value in counts.items():
        index = tuple(int(key[clbit_count - 1 - c]) for c in clbits)
        probs[index] += value / total
    for axis, c in enumerate(clbits):
        p01, p10 = clbit_errors[c]
        if abs(1.0 - p01 - p10) < 1e-9:
            raise FailedPreconditionError(
                f"the calibrated readout of clbit {c} carries no information (p01 + p10 = 1); "
                f"recalibrate the QPU", reason="READOUT_UNCALIBRATED")
        inverse = np.linalg.inv(assignment_matrix(p01, p10))
        probs = np.moveaxis(np.tensordot(inverse, probs, axes=([1], [axis])), 0, axis)
    out: dict[str, float] = {}
    for index in np.ndindex(probs.shape):
        quasi = float(probs[index])
        if abs(quasi) < 1e-12:
            continue
        chars = ["0"] * clbit_count
        for bit, c in zip(index, clbits):
            chars[clbit_count - 1 - c] = str(bit)
        out["".join(chars)] = quasi
    return out


def pauli_readout_factor(errors: Sequence[tuple[float, float]]) -> float:
    """``Π_i (1 - p01_i - p10_i)`` over a Pauli term's support (``errors`` per qubit)."""
    return float(np.prod([1.0 - p01 - p10 for p01, p10 in errors])) if errors else 1.0
