"""Numba kernels that apply a k-qubit matrix to a state vector in place, and their dispatch.

Conventions (see :mod:`quantum_service.circuits.ir`): bit ``q`` of a state index is qubit ``q``;
a matrix on ``(q_0, ..., q_{k-1})`` has ``q_0`` as the most significant bit of its row/column
index. Every kernel makes one pass over the state, visiting the ``2**k`` amplitudes that a
``k``-qubit matrix mixes together; the index of the first of them is built by inserting zero
bits into a loop counter (the layout used by qulacs, Suzuki et al., arXiv:2011.13524, §3).

Each kernel has a serial and a parallel variant with the same block function inside; the
parallel one splits the loop into contiguous chunks (``prange``) and takes the thread count as
its last argument. :mod:`quantum_service.simulator.dispatch` chooses among them. All kernels
release the GIL, are cached on disk, and are generic in the complex dtype (complex128, or
complex64 for memory-bound runs). Arguments are trusted: callers check them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

__all__ = ["KERNELS"]

#: Chunks per thread in the parallel kernels (some slack for load balancing).
_CHUNKS_PER_THREAD = 4


@njit(nogil=True, cache=True)
def _insert_zero(index: int, position: int) -> int:
    """``index`` with a 0 bit inserted at ``position`` (higher bits move up by one)."""
    low = index & ((1 << position) - 1)
    return ((index >> position) << (position + 1)) | low


@njit(nogil=True, cache=True)
def _insert_zeros(index: int, sorted_positions: np.ndarray) -> int:
    """``index`` with 0 bits inserted at ``sorted_positions`` (ascending, final positions)."""
    for p in sorted_positions:
        index = _insert_zero(index, p)
    return index


@njit(nogil=True, cache=True)
def _chunk_count(total: int, threads: int) -> int:
    return max(1, min(threads * _CHUNKS_PER_THREAD, total))


# --- dense 1-qubit ----------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def _dense1_block(state, qubit, matrix, start, stop):
    m00, m01, m10, m11 = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    bit = 1 << qubit
    for i in range(start, stop):
        i0 = _insert_zero(i, qubit)
        i1 = i0 | bit
        a0 = state[i0]
        a1 = state[i1]
        state[i0] = m00 * a0 + m01 * a1
        state[i1] = m10 * a0 + m11 * a1


@njit(nogil=True, cache=True)
def dense1_serial(state, qubit, matrix):
    _dense1_block(state, qubit, matrix, 0, state.size >> 1)


@njit(nogil=True, cache=True, parallel=True)
def dense1_parallel(state, qubit, matrix, threads):
    total = state.size >> 1
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _dense1_block(state, qubit, matrix, total * c // chunks, total * (c + 1) // chunks)


# --- dense 2-qubit ----------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def _dense2_block(state, qubit_a, qubit_b, matrix, start, stop):
    # qubit_a is the matrix's most significant bit: row/column r = 2 * bit_a + bit_b.
    m00, m01, m02, m03 = matrix[0, 0], matrix[0, 1], matrix[0, 2], matrix[0, 3]
    m10, m11, m12, m13 = matrix[1, 0], matrix[1, 1], matrix[1, 2], matrix[1, 3]
    m20, m21, m22, m23 = matrix[2, 0], matrix[2, 1], matrix[2, 2], matrix[2, 3]
    m30, m31, m32, m33 = matrix[3, 0], matrix[3, 1], matrix[3, 2], matrix[3, 3]
    low = min(qubit_a, qubit_b)
    high = max(qubit_a, qubit_b)
    bit_a = 1 << qubit_a
    bit_b = 1 << qubit_b
    for i in range(start, stop):
        i0 = _insert_zero(_insert_zero(i, low), high)
        i1 = i0 | bit_b
        i2 = i0 | bit_a
        i3 = i2 | bit_b
        a0 = state[i0]
        a1 = state[i1]
        a2 = state[i2]
        a3 = state[i3]
        state[i0] = m00 * a0 + m01 * a1 + m02 * a2 + m03 * a3
        state[i1] = m10 * a0 + m11 * a1 + m12 * a2 + m13 * a3
        state[i2] = m20 * a0 + m21 * a1 + m22 * a2 + m23 * a3
        state[i3] = m30 * a0 + m31 * a1 + m32 * a2 + m33 * a3


@njit(nogil=True, cache=True)
def dense2_serial(state, qubit_a, qubit_b, matrix):
    _dense2_block(state, qubit_a, qubit_b, matrix, 0, state.size >> 2)


@njit(nogil=True, cache=True, parallel=True)
def dense2_parallel(state, qubit_a, qubit_b, matrix, threads):
    total = state.size >> 2
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _dense2_block(state, qubit_a, qubit_b, matrix, total * c // chunks,
                      total * (c + 1) // chunks)


# --- dense k-qubit ----------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def _densek_block(state, sorted_qubits, offsets, matrix, start, stop):
    dim = offsets.size
    buffer = np.empty(dim, dtype=state.dtype)
    for i in range(start, stop):
        base = _insert_zeros(i, sorted_qubits)
        for c in range(dim):
            buffer[c] = state[base + offsets[c]]
        for r in range(dim):
            acc = matrix[r, 0] * buffer[0]
            for c in range(1, dim):
                acc += matrix[r, c] * buffer[c]
            state[base + offsets[r]] = acc


@njit(nogil=True, cache=True)
def densek_serial(state, sorted_qubits, offsets, matrix):
    _densek_block(state, sorted_qubits, offsets, matrix, 0, state.size >> sorted_qubits.size)


@njit(nogil=True, cache=True, parallel=True)
def densek_parallel(state, sorted_qubits, offsets, matrix, threads):
    total = state.size >> sorted_qubits.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _densek_block(state, sorted_qubits, offsets, matrix, total * c // chunks,
                      total * (c + 1) // chunks)


# --- diagonal ---------------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def _diag1_block(state, qubit, diagonal, start, stop):
    d0, d1 = diagonal[0], diagonal[1]
    bit = 1 << qubit
    for i in range(start, stop):
        i0 = _insert_zero(i, qubit)
        state[i0] *= d0
        state[i0 | bit] *= d1


@njit(nogil=True, cache=True)
def diag1_serial(state, qubit, diagonal):
    _diag1_block(state, qubit, diagonal, 0, state.size >> 1)


@njit(nogil=True, cache=True, parallel=True)
def diag1_parallel(state, qubit, diagonal, threads):
    total = state.size >> 1
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diag1_block(state, qubit, diagonal, total * c // chunks, total * (c + 1) // chunks)


@njit(nogil=True, cache=True)
def _diag2_block(state, qubit_a, qubit_b, diagonal, start, stop):
    d0, d1, d2, d3 = diagonal[0], diagonal[1], diagonal[2], diagonal[3]
    low = min(qubit_a, qubit_b)
    high = max(qubit_a, qubit_b)
    bit_a = 1 << qubit_a
    bit_b = 1 << qubit_b
    for i in range(start, stop):
        i0 = _insert_zero(_insert_zero(i, low), high)
        state[i0] *= d0
        state[i0 | bit_b] *= d1
        state[i0 | bit_a] *= d2
        state[i0 | bit_a | bit_b] *= d3


@njit(nogil=True, cache=True)
def diag2_serial(state, qubit_a, qubit_b, diagonal):
    _diag2_block(state, qubit_a, qubit_b, diagonal, 0, state.size >> 2)


@njit(nogil=True, cache=True, parallel=True)
def diag2_parallel(state, qubit_a, qubit_b, diagonal, threads):
    total = state.size >> 2
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diag2_block(state, qubit_a, qubit_b, diagonal, total * c // chunks,
                     total * (c + 1) // chunks)


@njit(nogil=True, cache=True)
def _diagk_block(state, sorted_qubits, offsets, diagonal, start, stop):
    for i in range(start, stop):
        base = _insert_zeros(i, sorted_qubits)
        for r in range(offsets.size):
            state[base + offsets[r]] *= diagonal[r]


@njit(nogil=True, cache=True)
def diagk_serial(state, sorted_qubits, offsets, diagonal):
    _diagk_block(state, sorted_qubits, offsets, diagonal, 0, state.size >> sorted_qubits.size)


@njit(nogil=True, cache=True, parallel=True)
def diagk_parallel(state, sorted_qubits, offsets, diagonal, threads):
    total = state.size >> sorted_qubits.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diagk_block(state, sorted_qubits, offsets, diagonal, total * c // chunks,
                     total * (c + 1) // chunks)


# --- phase on the all-ones subspace (cz, cp, ccz, ...) ----------------------------------------

@njit(nogil=True, cache=True)
def _phase_block(state, sorted_qubits, mask, phase, start, stop):
    for i in range(start, stop):
        state[_insert_zeros(i, sorted_qubits) | mask] *= phase


@njit(nogil=True, cache=True)
def phase_serial(state, sorted_qubits, mask, phase):
    phase_value = phase[0]
    _phase_block(state, sorted_qubits, mask, phase_value, 0, state.size >> sorted_qubits.size)


@njit(nogil=True, cache=True, parallel=True)
def phase_parallel(state, sorted_qubits, mask, phase, threads):
    phase_value = phase[0]
    total = state.size >> sorted_qubits.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _phase_block(state, sorted_qubits, mask, phase_value, total * c // chunks,
                     total * (c + 1) // chunks)


#: (kernel kind, parallel) → kernel. Kinds: ``dense1``, ``dense2``, ``densek``, ``diag1``,
#: ``diag2``, ``diagk``, ``phase`` (a phase on the all-ones state of the listed qubits).
KERNELS: dict[tuple[str, bool], Callable[..., None]] = {
    ("dense1", False): dense1_serial, ("dense1", True): dense1_parallel,
    ("dense2", False): dense2_serial, ("dense2", True): dense2_parallel,
    ("densek", False): densek_serial, ("densek", True): densek_parallel,
    ("diag1", False): diag1_serial, ("diag1", True): diag1_parallel,
    ("diag2", False): diag2_serial, ("diag2", True): diag2_parallel,
    ("diagk", False): diagk_serial, ("diagk", True): diagk_parallel,
    ("phase", False): phase_serial, ("phase", True): phase_parallel,
}
