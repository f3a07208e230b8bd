"""Numba kernels that apply a k-qubit matrix to a state vector in place.

Conventions (see :mod:`quantum_service.circuits.ir`): bit ``q`` of a state index is qubit ``q``;
a matrix on ``(q_0, ..., q_{k-1})`` has ``q_0`` as the most significant bit of its row/column
index. Every kernel makes one pass over the state, visiting the ``2**k`` amplitudes that a
``k``-qubit matrix mixes together; the index of the first of them is built by inserting zero
bits into a loop counter (as in qulacs: Suzuki et al., Quantum 5, 559 (2021), arXiv:2011.13524).

Indices are uint64, which spares numba's negative-index wrap-around test on every access, and
``fastmath={"contract"}`` lets LLVM fuse multiply-adds (FMA; no other IEEE relaxation). Each
kernel has a serial and a parallel variant with the same block function inside; the parallel
one splits the loop into contiguous chunks (``prange``) and takes the thread count as its last
argument. :mod:`quantum_service.simulator.dispatch` chooses among them. All kernels release
the GIL, are cached on disk, and are generic in the complex dtype (complex128, or complex64 for
memory-bound runs). Arguments are trusted: callers check them.

Qubit sets of the k-qubit kernels are passed as ``low_masks``: ``2**p - 1`` for each qubit ``p``
in ascending order (uint64), with ``offsets[r]`` (uint64) the index bits of matrix row ``r``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import numpy as np
from numba import njit, prange

__all__ = ["KERNELS", "PARALLEL_LOCK"]

#: Chunks per thread in the parallel kernels (some slack for load balancing).
_CHUNKS_PER_THREAD = 4

#: Held while a parallel kernel runs: one thread team at a time uses the cores (two would only
#: oversubscribe them), and numba's ``workqueue`` threading layer, the one always present, must
#: not be entered from two threads at once (numba docs, "The Threading Layers").
PARALLEL_LOCK = threading.Lock()

#: Threads of a finished parallel region sleep instead of spinning (GNU OpenMP, behind numba's
#: ``omp`` threading layer, reads this when it loads, at the first parallel kernel). On a busy
#: machine spinning threads steal the cores that the region's stragglers need: measured here
#: with one competing process, 20-qubit circuits ran 4x slower with the default policy.
#: ``setdefault``: an explicit setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_ONE = np.uint64(1)
_FMA = {"contract"}


@njit(nogil=True, cache=True)
def _insert_zero(index: np.uint64, low_mask: np.uint64) -> np.uint64:
    """``index`` with a 0 bit inserted above ``low_mask`` (a ``2**p - 1`` mask), uint64."""
    return ((index & ~low_mask) << _ONE) | (index & low_mask)


@njit(nogil=True, cache=True)
def insert_zeros(index: np.uint64, low_masks: np.ndarray) -> np.uint64:
    """``index`` with 0 bits inserted at ascending positions given by ``low_masks``."""
    for mask in low_masks:
        index = _insert_zero(index, mask)
    return index


@njit(nogil=True, cache=True)
def _low_mask(qubit: int) -> np.uint64:
    return (_ONE << np.uint64(qubit)) - _ONE


@njit(nogil=True, cache=True)
def _chunk_count(total: int, threads: int) -> int:
    return max(1, min(threads * _CHUNKS_PER_THREAD, total))


# --- dense 1-qubit ----------------------------------------------------------------------------

#: Below this qubit, the 1-qubit kernels visit amplitudes one pair at a time; from it up, in
#: contiguous runs of ``2**qubit`` pairs, which LLVM vectorises.
_RUN_MIN_QUBIT = 2


@njit(nogil=True, cache=True, fastmath=_FMA)
def _dense1_block(state: np.ndarray, qubit: int, matrix: np.ndarray, start: int, stop: int) -> None:
    m00, m01, m10, m11 = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    low = _low_mask(qubit)
    bit = low + _ONE
    if qubit < _RUN_MIN_QUBIT:
        for i in range(start, stop):
            i0 = _insert_zero(np.uint64(i), low)
            i1 = i0 | bit
            a0 = state[i0]
            a1 = state[i1]
            state[i0] = m00 * a0 + m01 * a1
            state[i1] = m10 * a0 + m11 * a1
        return
    # Pair p is (i0, i0 + half) with i0 = insert_zero(p); runs of pairs are contiguous.
    half = np.int64(1) << qubit
    p = np.int64(start)
    while p < stop:
        run = min(half - (p & (half - 1)), stop - p)
        i0 = np.int64(_insert_zero(np.uint64(p), low))
        upper = state[i0:i0 + run]
        lower = state[i0 + half:i0 + half + run]
        for t in range(run):
            a0 = upper[t]
            a1 = lower[t]
            upper[t] = m00 * a0 + m01 * a1
            lower[t] = m10 * a0 + m11 * a1
        p += run


@njit(nogil=True, cache=True)
def dense1_serial(state: np.ndarray, qubit: int, matrix: np.ndarray) -> None:
    _dense1_block(state, qubit, matrix, 0, state.size >> 1)


@njit(nogil=True, cache=True, parallel=True)
def dense1_parallel(state: np.ndarray, qubit: int, matrix: np.ndarray, threads: int) -> None:
    total = state.size >> 1
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _dense1_block(state, qubit, matrix, total * c // chunks, total * (c + 1) // chunks)


# --- dense 2-qubit ----------------------------------------------------------------------------

@njit(nogil=True, cache=True, fastmath=_FMA)
def _dense2_block(state: np.ndarray, qubit_a: int, qubit_b: int, matrix: np.ndarray, start: int,
                  stop: int) -> None:
    # qubit_a is the matrix's most significant bit: row/column r = 2 * bit_a + bit_b.
    m00, m01, m02, m03 = matrix[0, 0], matrix[0, 1], matrix[0, 2], matrix[0, 3]
    m10, m11, m12, m13 = matrix[1, 0], matrix[1, 1], matrix[1, 2], matrix[1, 3]
    m20, m21, m22, m23 = matrix[2, 0], matrix[2, 1], matrix[2, 2], matrix[2, 3]
    m30, m31, m32, m33 = matrix[3, 0], matrix[3, 1], matrix[3, 2], matrix[3, 3]
    low = _low_mask(min(qubit_a, qubit_b))
    high = _low_mask(max(qubit_a, qubit_b))
    bit_a = _low_mask(qubit_a) + _ONE
    bit_b = _low_mask(qubit_b) + _ONE
    for i in range(start, stop):
        i0 = _insert_zero(_insert_zero(np.uint64(i), low), high)
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
def dense2_serial(state: np.ndarray, qubit_a: int, qubit_b: int, matrix: np.ndarray) -> None:
    _dense2_block(state, qubit_a, qubit_b, matrix, 0, state.size >> 2)


@njit(nogil=True, cache=True, parallel=True)
def dense2_parallel(state: np.ndarray, qubit_a: int, qubit_b: int, matrix: np.ndarray,
                    threads: int) -> None:
    total = state.size >> 2
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _dense2_block(state, qubit_a, qubit_b, matrix, total * c // chunks,
                      total * (c + 1) // chunks)


# --- dense k-qubit ----------------------------------------------------------------------------

@njit(nogil=True, cache=True, fastmath=_FMA)
def _densek_block(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                  matrix: np.ndarray, start: int, stop: int) -> None:
    dim = offsets.size
    buffer = np.empty(dim, dtype=state.dtype)
    for i in range(start, stop):
        base = insert_zeros(np.uint64(i), low_masks)
        for c in range(dim):
            buffer[c] = state[base | offsets[c]]
        for r in range(dim):
            acc = matrix[r, 0] * buffer[0]
            for c in range(1, dim):
                acc += matrix[r, c] * buffer[c]
            state[base | offsets[r]] = acc


@njit(nogil=True, cache=True)
def densek_serial(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                  matrix: np.ndarray) -> None:
    _densek_block(state, low_masks, offsets, matrix, 0, state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def densek_parallel(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                    matrix: np.ndarray, threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _densek_block(state, low_masks, offsets, matrix, total * c // chunks,
                      total * (c + 1) // chunks)


# --- sparse k-qubit (multi-controlled gates, channel superoperators) ------------------------

@njit(nogil=True, cache=True, fastmath=_FMA)
def _sparsek_block(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                   row_starts: np.ndarray, columns: np.ndarray, values: np.ndarray, start: int,
                   stop: int) -> None:
    # The matrix in compressed sparse row form: row r holds values[row_starts[r]:row_starts[r+1]]
    # in columns columns[...].
    dim = offsets.size
    buffer = np.empty(dim, dtype=state.dtype)
    zero = np.zeros(1, dtype=state.dtype)[0]
    for i in range(start, stop):
        base = insert_zeros(np.uint64(i), low_masks)
        for c in range(dim):
            buffer[c] = state[base | offsets[c]]
        for r in range(dim):
            acc = zero
            for p in range(row_starts[r], row_starts[r + 1]):
                acc += values[p] * buffer[columns[p]]
            state[base | offsets[r]] = acc


@njit(nogil=True, cache=True)
def sparsek_serial(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                   row_starts: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
    _sparsek_block(state, low_masks, offsets, row_starts, columns, values, 0,
                   state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def sparsek_parallel(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                     row_starts: np.ndarray, columns: np.ndarray, values: np.ndarray,
                     threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _sparsek_block(state, low_masks, offsets, row_starts, columns, values,
                       total * c // chunks, total * (c + 1) // chunks)


# --- diagonal ---------------------------------------------------------------------------------

@njit(nogil=True, cache=True, fastmath=_FMA)
def _diag1_block(state: np.ndarray, qubit: int, diagonal: np.ndarray, start: int,
                 stop: int) -> None:
    d0, d1 = diagonal[0], diagonal[1]
    low = _low_mask(qubit)
    bit = low + _ONE
    if qubit < _RUN_MIN_QUBIT:
        for i in range(start, stop):
            i0 = _insert_zero(np.uint64(i), low)
            state[i0] *= d0
            state[i0 | bit] *= d1
        return
    half = np.int64(1) << qubit
    p = np.int64(start)
    while p < stop:
        run = min(half - (p & (half - 1)), stop - p)
        i0 = np.int64(_insert_zero(np.uint64(p), low))
        upper = state[i0:i0 + run]
        lower = state[i0 + half:i0 + half + run]
        for t in range(run):
            upper[t] *= d0
            lower[t] *= d1
        p += run


@njit(nogil=True, cache=True)
def diag1_serial(state: np.ndarray, qubit: int, diagonal: np.ndarray) -> None:
    _diag1_block(state, qubit, diagonal, 0, state.size >> 1)


@njit(nogil=True, cache=True, parallel=True)
def diag1_parallel(state: np.ndarray, qubit: int, diagonal: np.ndarray, threads: int) -> None:
    total = state.size >> 1
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diag1_block(state, qubit, diagonal, total * c // chunks, total * (c + 1) // chunks)


@njit(nogil=True, cache=True, fastmath=_FMA)
def _diag2_block(state: np.ndarray, qubit_a: int, qubit_b: int, diagonal: np.ndarray, start: int,
                 stop: int) -> None:
    d0, d1, d2, d3 = diagonal[0], diagonal[1], diagonal[2], diagonal[3]
    low = _low_mask(min(qubit_a, qubit_b))
    high = _low_mask(max(qubit_a, qubit_b))
    bit_a = _low_mask(qubit_a) + _ONE
    bit_b = _low_mask(qubit_b) + _ONE
    for i in range(start, stop):
        i0 = _insert_zero(_insert_zero(np.uint64(i), low), high)
        state[i0] *= d0
        state[i0 | bit_b] *= d1
        state[i0 | bit_a] *= d2
        state[i0 | bit_a | bit_b] *= d3


@njit(nogil=True, cache=True)
def diag2_serial(state: np.ndarray, qubit_a: int, qubit_b: int, diagonal: np.ndarray) -> None:
    _diag2_block(state, qubit_a, qubit_b, diagonal, 0, state.size >> 2)


@njit(nogil=True, cache=True, parallel=True)
def diag2_parallel(state: np.ndarray, qubit_a: int, qubit_b: int, diagonal: np.ndarray,
                   threads: int) -> None:
    total = state.size >> 2
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diag2_block(state, qubit_a, qubit_b, diagonal, total * c // chunks,
                     total * (c + 1) // chunks)


@njit(nogil=True, cache=True, fastmath=_FMA)
def _diagk_block(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                 diagonal: np.ndarray, start: int, stop: int) -> None:
    for i in range(start, stop):
        base = insert_zeros(np.uint64(i), low_masks)
        for r in range(offsets.size):
            state[base | offsets[r]] *= diagonal[r]


@njit(nogil=True, cache=True)
def diagk_serial(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                 diagonal: np.ndarray) -> None:
    _diagk_block(state, low_masks, offsets, diagonal, 0, state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def diagk_parallel(state: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                   diagonal: np.ndarray, threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diagk_block(state, low_masks, offsets, diagonal, total * c // chunks,
                     total * (c + 1) // chunks)


# --- phase on the all-ones subspace (z, t, p, cz, cp, ccz, ...) ----------------------------

@njit(nogil=True, cache=True, fastmath=_FMA)
def _phase_block(state: np.ndarray, low_masks: np.ndarray, ones: np.uint64, phase: np.ndarray,
                 start: int, stop: int) -> None:
    value = phase[0]
    for i in range(start, stop):
        state[insert_zeros(np.uint64(i), low_masks) | ones] *= value


@njit(nogil=True, cache=True)
def phase_serial(state: np.ndarray, low_masks: np.ndarray, ones: np.uint64,
                 phase: np.ndarray) -> None:
    _phase_block(state, low_masks, ones, phase, 0, state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def phase_parallel(state: np.ndarray, low_masks: np.ndarray, ones: np.uint64, phase: np.ndarray,
                   threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _phase_block(state, low_masks, ones, phase, total * c // chunks,
                     total * (c + 1) // chunks)


# --- permutations and controlled gates (x, cx, ccx, swap, cswap, controlled-U) --------------

@njit(nogil=True, cache=True)
def _ctrlx_block(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                 target_bit: np.uint64, start: int, stop: int) -> None:
    # Swaps the amplitude pairs (i, i | target_bit) whose control bits are all set.
    for i in range(start, stop):
        i0 = insert_zeros(np.uint64(i), low_masks) | controls
        i1 = i0 | target_bit
        a0 = state[i0]
        state[i0] = state[i1]
        state[i1] = a0


@njit(nogil=True, cache=True)
def ctrlx_serial(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                 target_bit: np.uint64) -> None:
    _ctrlx_block(state, low_masks, controls, target_bit, 0, state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def ctrlx_parallel(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                   target_bit: np.uint64, threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _ctrlx_block(state, low_masks, controls, target_bit, total * c // chunks,
                     total * (c + 1) // chunks)


@njit(nogil=True, cache=True)
def _swap_block(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                bit_a: np.uint64, bit_b: np.uint64, start: int, stop: int) -> None:
    # Swaps the amplitudes of |..1_a 0_b..> and |..0_a 1_b..> whose control bits are all set.
    for i in range(start, stop):
        i0 = insert_zeros(np.uint64(i), low_masks) | controls
        ia = i0 | bit_a
        ib = i0 | bit_b
        a = state[ia]
        state[ia] = state[ib]
        state[ib] = a


@njit(nogil=True, cache=True)
def swap_serial(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                bit_a: np.uint64, bit_b: np.uint64) -> None:
    _swap_block(state, low_masks, controls, bit_a, bit_b, 0, state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def swap_parallel(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                  bit_a: np.uint64, bit_b: np.uint64, threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _swap_block(state, low_masks, controls, bit_a, bit_b, total * c // chunks,
                    total * (c + 1) // chunks)


@njit(nogil=True, cache=True, fastmath=_FMA)
def _ctrlu_block(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                 target_bit: np.uint64, matrix: np.ndarray, start: int, stop: int) -> None:
    # A 2x2 matrix on the target, on the pairs whose control bits are all set.
    m00, m01, m10, m11 = matrix[0, 0], matrix[0, 1], matrix[1, 0], matrix[1, 1]
    for i in range(start, stop):
        i0 = insert_zeros(np.uint64(i), low_masks) | controls
        i1 = i0 | target_bit
        a0 = state[i0]
        a1 = state[i1]
        state[i0] = m00 * a0 + m01 * a1
        state[i1] = m10 * a0 + m11 * a1


@njit(nogil=True, cache=True)
def ctrlu_serial(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                 target_bit: np.uint64, matrix: np.ndarray) -> None:
    _ctrlu_block(state, low_masks, controls, target_bit, matrix, 0,
                 state.size >> low_masks.size)


@njit(nogil=True, cache=True, parallel=True)
def ctrlu_parallel(state: np.ndarray, low_masks: np.ndarray, controls: np.uint64,
                   target_bit: np.uint64, matrix: np.ndarray, threads: int) -> None:
    total = state.size >> low_masks.size
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _ctrlu_block(state, low_masks, controls, target_bit, matrix, total * c // chunks,
                     total * (c + 1) // chunks)


#: (kernel kind, parallel) → kernel. Kinds: ``dense1``, ``dense2``, ``densek``, ``sparsek``
#: (compressed sparse rows), ``diag1``, ``diag2``, ``diagk``, ``phase`` (a phase on the all-ones
#: state of the listed qubits), ``ctrlx`` (x on one target where all controls are 1: x, cx, ccx),
#: ``swap`` (swap two qubits where all controls are 1: swap, cswap), ``ctrlu`` (a 2x2 matrix on
#: one target where all controls are 1: cy, ch, crx, ...). The last three touch only the
#: amplitudes they change: half the state for ``cx``, a quarter for ``ccx``.
KERNELS: dict[tuple[str, bool], Callable[..., None]] = {
    ("dense1", False): dense1_serial, ("dense1", True): dense1_parallel,
    ("dense2", False): dense2_serial, ("dense2", True): dense2_parallel,
    ("densek", False): densek_serial, ("densek", True): densek_parallel,
    ("sparsek", False): sparsek_serial, ("sparsek", True): sparsek_parallel,
    ("diag1", False): diag1_serial, ("diag1", True): diag1_parallel,
    ("diag2", False): diag2_serial, ("diag2", True): diag2_parallel,
    ("diagk", False): diagk_serial, ("diagk", True): diagk_parallel,
    ("phase", False): phase_serial, ("phase", True): phase_parallel,
    ("ctrlx", False): ctrlx_serial, ("ctrlx", True): ctrlx_parallel,
    ("swap", False): swap_serial, ("swap", True): swap_parallel,
    ("ctrlu", False): ctrlu_serial, ("ctrlu", True): ctrlu_parallel,
}


# --- diagonal batches (many diagonal gates sharing one pivot qubit, one pass) --------------

@njit(nogil=True, cache=True, fastmath=_FMA)
def _diagbatch_block(state: np.ndarray, pivot: int, shifts: np.ndarray, tables: np.ndarray,
                     start: int, stop: int) -> None:
    # tables[b, t, v]: the factor of byte value v of index byte shifts[t] when the pivot bit
    # is b; the diagonal is their product. shifts[0] == 0: runs of 256 amplitudes share every
    # factor but the first (and the pivot bit, when the pivot is above bit 7).
    count = shifts.size
    one = np.ones(1, dtype=state.dtype)[0]
    for h in range(start, stop):
        base = h << 8
        f0 = one
        f1 = one
        for t in range(1, count):
            v = (base >> shifts[t]) & 255
            f0 *= tables[0, t, v]
            f1 *= tables[1, t, v]
        block = state[base:base + 256]
        if pivot >= 8:
            if (base >> pivot) & 1:
                row = tables[1, 0]
                for v in range(256):
                    block[v] *= row[v] * f1
            else:
                row = tables[0, 0]
                for v in range(256):
                    block[v] *= row[v] * f0
        else:
            low0 = tables[0, 0]
            low1 = tables[1, 0]
            for v in range(256):
                if (v >> pivot) & 1:
                    block[v] *= low1[v] * f1
                else:
                    block[v] *= low0[v] * f0


@njit(nogil=True, cache=True)
def diagbatch_serial(state: np.ndarray, pivot: int, shifts: np.ndarray,
                     tables: np.ndarray) -> None:
    _diagbatch_block(state, pivot, shifts, tables, 0, state.size >> 8)


@njit(nogil=True, cache=True, parallel=True)
def diagbatch_parallel(state: np.ndarray, pivot: int, shifts: np.ndarray, tables: np.ndarray,
                       threads: int) -> None:
    total = state.size >> 8
    chunks = _chunk_count(total, threads)
    for c in prange(chunks):
        _diagbatch_block(state, pivot, shifts, tables, total * c // chunks,
                         total * (c + 1) // chunks)


KERNELS[("diagbatch", False)] = diagbatch_serial
KERNELS[("diagbatch", True)] = diagbatch_parallel
