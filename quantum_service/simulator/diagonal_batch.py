"""Diagonal batching: many diagonal gates that share one *pivot* qubit, applied in one pass.

For a fixed value of the pivot bit, a product of 1-qubit diagonals and of 2-qubit diagonals
that all contain the pivot is a product of 1-qubit diagonals, hence *separable*: its entry for
index ``i`` is a product of one factor per index byte. :func:`batch_tables` tabulates those
factors (``2 × bytes × 256`` complex values), and the ``diagbatch`` kernel multiplies each
amplitude by 2–4 table entries: one pass for, e.g., all ``n - 1`` controlled phases of a QFT
stage (Nielsen & Chuang §5.1), instead of one pass per gate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MIN_BATCH_QUBITS", "batch_tables", "common_pivots"]

#: Index bits per table.
_BYTE = 8

#: Smallest state the ``diagbatch`` kernel handles.
MIN_BATCH_QUBITS = _BYTE


def common_pivots(qubit_sets: Sequence[tuple[int, ...]]) -> set[int] | None:
    """The qubits every 2-qubit set contains (None when there is no 2-qubit set: any pivot)."""
    pivots: set[int] | None = None
    for qubits in qubit_sets:
        if len(qubits) == 2:
            pivots = set(qubits) if pivots is None else pivots & set(qubits)
    return pivots


def batch_tables(qubit_count: int, pivot: int,
                 gates: Sequence[tuple[tuple[int, ...], np.ndarray]], *,
                 dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's tables for the product of diagonal ``gates``.

    Args:
        qubit_count: ``n`` >= :data:`MIN_BATCH_QUBITS` (the kernel walks runs of 256
            amplitudes).
        pivot: a qubit that every 2-qubit gate acts on.
        gates: ``(qubits, diagonal)`` with 1 or 2 qubits; ``diagonal`` has ``2**k`` entries,
            the first listed qubit being the most significant bit of its index.
        dtype: the state's dtype.
    Returns:
        ``(shifts, tables)``: int64 ``(T,)`` byte offsets of byte 0 and of the other index
        bytes that carry a factor, and ``tables`` of shape ``(2, T, 256)``: ``D[i] = prod_t tables[b, t,
        (i >> shifts[t]) & 255]`` with ``b`` the pivot bit of ``i``.
    Raises:
        ValueError: a gate on more than 2 qubits, or a 2-qubit gate without the pivot.
    """
    byte_count = (qubit_count + _BYTE - 1) // _BYTE
    tables = np.ones((2, byte_count, 1 << _BYTE), dtype=np.complex128)
    values = np.arange(1 << _BYTE)
    for qubits, diagonal in gates:
        d = np.asarray(diagonal, dtype=np.complex128)
        if len(qubits) == 1:
            q = qubits[0]
            if q == pivot:
                tables[0, 0] *= d[0]
                tables[1, 0] *= d[1]
            else:
                bits = (values >> (q % _BYTE)) & 1
                tables[:, q // _BYTE] *= d[bits][None, :]
            continue
        if len(qubits) != 2 or pivot not in qubits:
            raise ValueError(f"gate on {qubits} does not fit a batch with pivot {pivot}")
        other = qubits[1] if qubits[0] == pivot else qubits[0]
        bits = (values >> (other % _BYTE)) & 1
        for b in (0, 1):
            rows = 2 * b + bits if qubits[0] == pivot else 2 * bits + b
            tables[b, other // _BYTE] *= d[rows]
    # Byte 0 always first (the kernel's inner loop); the others only where they carry factors.
    active = [0] + [t for t in range(1, byte_count) if not np.all(tables[:, t] == 1.0)]
    shifts = np.array([_BYTE * t for t in active], dtype=np.int64)
    return shifts, np.ascontiguousarray(tables[:, active]).astype(dtype)
