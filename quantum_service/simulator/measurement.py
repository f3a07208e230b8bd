"""Computational-basis measurement: outcome probabilities and sampled shots.

Ordering: for measured qubits ``(q_0, q_1, ..., q_{m-1})``, outcome index ``k`` has bit ``j``
equal to the result of ``q_j``, and its bitstring prints ``q_{m-1}`` first and ``q_0`` last
(OpenQASM / Qiskit order: measured position 0 is the rightmost character).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.ops import check_qubits, state_qubit_count

__all__ = [
    "counts_from_bitstrings",
    "marginal_probabilities",
    "probabilities",
    "sample_bitstrings",
    "sample_counts",
]

#: Tolerance on ``|sum(probabilities) - 1|`` of a distribution to sample from.
_SUM_ATOL = 1e-6


def probabilities(state_vector: np.ndarray, qubits: Sequence[int] | None = None) -> np.ndarray:
    """Born-rule probabilities of measuring ``qubits`` of a pure state.

    Args:
        state_vector: shape ``(2**n,)``, complex; qubit ``q`` is bit ``q`` of the index.
        qubits: distinct qubits to measure (default: all, in order ``0..n-1``).
    Returns:
        float64, shape ``(2**len(qubits),)``; index bit ``j`` is the outcome of ``qubits[j]``.
    Raises:
        InvalidProgramError: the length is not a power of 2, or bad ``qubits``.
    """
    state_vector = np.asarray(state_vector)
    state_qubit_count(state_vector)
    full = (state_vector.real.astype(np.float64) ** 2 + state_vector.imag.astype(np.float64) ** 2)
    return full if qubits is None else marginal_probabilities(full, qubits)


def marginal_probabilities(probabilities: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
    """Sums a distribution over all qubits but ``qubits``.

    Args:
        probabilities: float, shape ``(2**n,)``; index bit ``q`` is qubit ``q``.
        qubits: distinct qubits to keep, in the order of the result's index bits.
    Returns:
        float64, shape ``(2**len(qubits),)``; index bit ``j`` is the outcome of ``qubits[j]``.
    Raises:
        InvalidProgramError: the length is not a power of 2, or bad ``qubits``.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n = state_qubit_count(probabilities)
    kept = check_qubits(n, qubits, what="measurement")
    if kept == tuple(range(n)):
        return probabilities.copy()
    # As an n-axis tensor in C order, axis a is qubit n-1-a.
    tensor = probabilities.reshape((2,) * n)
    summed = np.sum(tensor, axis=tuple(n - 1 - q for q in range(n) if q not in kept))
    remaining = sorted(kept, reverse=True)  # qubits of the axes of `summed`, in order
    # The result's first axis (most significant bit) is the last kept qubit.
    order = [remaining.index(q) for q in reversed(kept)]
    return np.ascontiguousarray(np.transpose(summed, order)).reshape(-1)


def _outcome_distribution(distribution: np.ndarray, qubits: Sequence[int] | None) -> np.ndarray:
    """Normalised outcome probabilities of ``qubits`` from amplitudes or probabilities."""
    distribution = np.asarray(distribution)
    state_qubit_count(distribution)
    if np.iscomplexobj(distribution):
        p = probabilities(distribution, qubits)
    elif np.issubdtype(distribution.dtype, np.floating):
        if np.any(distribution < -_SUM_ATOL) or not np.all(np.isfinite(distribution)):
            raise InvalidProgramError("probabilities must be finite and non-negative")
        p = np.clip(distribution.astype(np.float64), 0.0, None)
        p = p if qubits is None else marginal_probabilities(p, qubits)
    else:
        raise InvalidProgramError(
            "expected a complex state vector or real probabilities, got dtype "
            f"{distribution.dtype}"
        )
    total = float(p.sum())
    if abs(total - 1.0) > _SUM_ATOL:
        raise InvalidProgramError(f"the distribution sums to {total:.9g}, not 1")
    return p / total


def _check_shot_count(shot_count: int) -> int:
    if isinstance(shot_count, bool) or int(shot_count) != shot_count or shot_count < 1:
        raise InvalidProgramError(f"shot_count must be an integer >= 1, got {shot_count!r}")
    return int(shot_count)


def _sample_outcomes(p: np.ndarray, shot_count: int, rng: np.random.Generator) -> np.ndarray:
    """Outcome indices, shape ``(shot_count,)``, by inverse-CDF sampling."""
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    outcomes = np.searchsorted(cdf, rng.random(shot_count), side="right")
    return np.minimum(outcomes, p.size - 1)


def sample_bitstrings(
    distribution: np.ndarray,
    qubits: Sequence[int] | None = None,
    *,
    shot_count: int,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Samples computational-basis measurements of ``qubits``.

    Args:
        distribution: a state vector (complex, shape ``(2**n,)``) or the probabilities of all
            ``2**n`` basis states (float, non-negative, summing to 1 within 1e-6).
        qubits: distinct qubits to measure (default: all, ``0..n-1``).
        shot_count: number of shots, >= 1.
        rng: a NumPy generator, or a seed for one.
    Returns:
        uint8, shape ``(shot_count, len(qubits))``; column ``j`` is the outcome of ``qubits[j]``.
    Raises:
        InvalidProgramError: bad distribution, qubits, or ``shot_count``.
    """
    shot_count = _check_shot_count(shot_count)
    p = _outcome_distribution(distribution, qubits)
    outcomes = _sample_outcomes(p, shot_count, np.random.default_rng(rng))
    width = p.size.bit_length() - 1
    return ((outcomes[:, None] >> np.arange(width)) & 1).astype(np.uint8)


def sample_counts(
    distribution: np.ndarray,
    qubits: Sequence[int] | None = None,
    *,
    shot_count: int,
    rng: np.random.Generator | int | None = None,
) -> dict[str, int]:
    """Samples measurements of ``qubits`` and counts each outcome.

    Args:
        distribution, qubits, shot_count, rng: as in :func:`sample_bitstrings`.
    Returns:
        bitstring → count, sorted by bitstring, only outcomes seen; a bitstring prints the
        last measured qubit first and ``qubits[0]`` last (``"10"`` for ``qubits=(0, 1)`` means
        qubit 1 read 1, qubit 0 read 0). Counts sum to ``shot_count``.
    Raises:
        InvalidProgramError: bad distribution, qubits, or ``shot_count``.
    """
    shot_count = _check_shot_count(shot_count)
    p = _outcome_distribution(distribution, qubits)
    outcomes = _sample_outcomes(p, shot_count, np.random.default_rng(rng))
    width = p.size.bit_length() - 1
    values, counts = np.unique(outcomes, return_counts=True)
    return {format(int(v), f"0{width}b"): int(c) for v, c in zip(values, counts, strict=True)}


def counts_from_bitstrings(bitstrings: np.ndarray) -> dict[str, int]:
    """Counts the rows of a ``(shot_count, m)`` uint8 array, as :func:`sample_counts` keys them."""
    bitstrings = np.asarray(bitstrings)
    if bitstrings.ndim != 2:
        raise InvalidProgramError(f"expected shape (shot_count, m), got {bitstrings.shape}")
    rows, counts = np.unique(bitstrings[:, ::-1], axis=0, return_counts=True)
    return {"".join(str(int(b)) for b in row): int(c) for row, c in zip(rows, counts, strict=True)}
