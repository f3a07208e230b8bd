"""Shot sampling from a final distribution: all shots in one vectorised draw."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["sample_clbit_counts"]


def sample_clbit_counts(probabilities: np.ndarray, measured: Sequence[tuple[int, int]], *,
                        clbit_count: int, shot_count: int, rng: np.random.Generator,
                        readout_errors: np.ndarray | None = None) -> dict[str, int]:
    """Draws ``shot_count`` shots and counts the classical registers they write.

    The basis-state index of every shot is drawn at once from the cumulative distribution
    (inverse-CDF sampling, one binary search per shot, no Python per shot); each measured qubit's
    bit then goes to its clbit, flipped with its readout assignment error when given
    (``p(1|0)`` for a 0, ``p(0|1)`` for a 1, independently per shot and qubit).

    Args:
        probabilities: float64 ``(2**k,)``, non-negative, summing to 1; bit ``q`` of an index is
            simulated qubit ``q``.
        measured: ``(simulated qubit, clbit)`` pairs; a clbit written twice keeps the last.
        clbit_count: width of the classical register, >= every clbit + 1.
        shot_count: shots, >= 1.
        rng: the generator (seeded by the caller for reproducible jobs).
        readout_errors: float64 ``(k, 2)`` per simulated qubit ``(p(1|0), p(0|1))``, or None.
    Returns:
        bitstring → count over the shots, highest clbit first (OpenQASM order); unmeasured
        clbits read 0. Counts sum to ``shot_count``.
    """
    cdf = np.cumsum(probabilities)
    cdf /= cdf[-1]
    outcomes = np.searchsorted(cdf, rng.random(shot_count), side="right")
    np.minimum(outcomes, probabilities.size - 1, out=outcomes)
    if not measured:
        return {"0" * clbit_count: shot_count}
    qubits = np.array([q for q, _ in measured], dtype=np.int64)
    clbits = [c for _, c in measured]
    bits = ((outcomes[:, None] >> qubits[None, :]) & 1).astype(np.uint8)
    if readout_errors is not None and np.any(readout_errors[qubits]):
        flip_p = np.where(bits == 0, readout_errors[qubits, 0], readout_errors[qubits, 1])
        bits ^= (rng.random(bits.shape) < flip_p).astype(np.uint8)
    # pack the clbits of each shot into integers (highest clbit = most significant)
    words = np.zeros(shot_count, dtype=object if clbit_count > 62 else np.int64)
    weights = {c: i for i, c in enumerate(clbits)}  # last write of a clbit wins
    for c, i in weights.items():
        if clbit_count > 62:
            words = words + (bits[:, i].astype(object) << c)
        else:
            words |= bits[:, i].astype(np.int64) << c
    values, freq = np.unique(words, return_counts=True)
    return {format(int(v), f"0{clbit_count}b"): int(n) for v, n in zip(values, freq)}
