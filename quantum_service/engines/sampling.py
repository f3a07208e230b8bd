"""Shot sampling from a final distribution: all shots in one vectorised draw."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from quantum_service.simulator import sample_bitstrings

__all__ = ["count_clbit_words", "register_dtype", "sample_clbit_counts"]


def sample_clbit_counts(probabilities: np.ndarray, measured: Sequence[tuple[int, int]], *,
                        clbit_count: int, shot_count: int, rng: np.random.Generator,
                        readout_errors: np.ndarray | None = None) -> dict[str, int]:
    """Draws ``shot_count`` shots and counts the classical registers they write.

    The measured qubits' outcomes are drawn at once by
    :func:`quantum_service.simulator.sample_bitstrings` (inverse-CDF sampling of their marginal
    distribution, no Python per shot); each measured qubit's bit then goes to its clbit,
    flipped with its readout assignment error when given (``p(1|0)`` for a 0, ``p(0|1)`` for a
    1, independently per shot and qubit).

    Args:
        probabilities: float64 ``(2**k,)``, non-negative, summing to 1 within 1e-6; bit ``q``
            of an index is simulated qubit ``q``.
        measured: ``(simulated qubit, clbit)`` pairs; a clbit written twice keeps the last.
        clbit_count: width of the classical register, >= every clbit + 1.
        shot_count: shots, >= 1.
        rng: the generator (seeded by the caller for reproducible jobs).
        readout_errors: float64 ``(k, 2)`` per simulated qubit ``(p(1|0), p(0|1))``, or None.
    Returns:
        bitstring → count over the shots, highest clbit first (OpenQASM order); unmeasured
        clbits read 0. Counts sum to ``shot_count``.
    """
    if not measured:
        return {"0" * clbit_count: shot_count}
    qubits = sorted({q for q, _ in measured})
    read = sample_bitstrings(probabilities, qubits, shot_count=shot_count, rng=rng)
    words = count_clbit_words(read, qubits, measured,
                              np.zeros(shot_count, dtype=register_dtype(clbit_count)),
                              readout_errors=readout_errors, rng=rng)
    values, freq = np.unique(words, return_counts=True)
    return {format(int(v), f"0{clbit_count}b"): int(n) for v, n in zip(values, freq)}


def count_clbit_words(read: np.ndarray, qubits: Sequence[int],
                      measured: Sequence[tuple[int, int]], registers: np.ndarray, *,
                      readout_errors: np.ndarray | None, rng: np.random.Generator
                      ) -> np.ndarray:
    """The classical register of every shot after its terminal measurements.

    Args:
        read: uint8 ``(shots, len(qubits))``: the measured qubits' outcomes (modified in place
            by readout errors).
        qubits: the measured simulated qubits, one per column of ``read``.
        measured: ``(simulated qubit, clbit)`` pairs; a clbit written twice keeps the last.
        registers: ``(shots,)`` of :func:`register_dtype`: each shot's register before (bits set
            by mid-circuit measurements); terminal measurements overwrite their clbits.
        readout_errors: float64 ``(k, 2)`` per simulated qubit ``(p(1|0), p(0|1))``, or None;
            each measured bit flips with its error, independently per shot.
        rng: the generator.
    Returns:
        ``(shots,)``, the dtype of ``registers``.
    """
    column = {q: j for j, q in enumerate(qubits)}
    if readout_errors is not None and len(qubits) and np.any(readout_errors[list(qubits)]):
        errors = readout_errors[list(qubits)]
        flip_p = np.where(read == 0, errors[:, 0], errors[:, 1])
        read ^= (rng.random(read.shape) < flip_p).astype(np.uint8)
    words = registers.copy()
    dtype = words.dtype
    last_write = {c: column[q] for q, c in measured}  # clbit -> column of its qubit
    for c, j in last_write.items():
        keep = ~(1 << c)
        words = (words & (keep if dtype == object else dtype.type(keep))) \
            | (read[:, j].astype(dtype) << (c if dtype == object else dtype.type(c)))
    return words


def register_dtype(clbit_count: int) -> np.dtype:
    """int64 for registers of up to 62 clbits, else object (Python integers)."""
    return np.dtype(object) if clbit_count > 62 else np.dtype(np.int64)
