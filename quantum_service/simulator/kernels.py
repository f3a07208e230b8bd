"""Numba kernels that apply a k-qubit matrix to a state vector in place, and their dispatch.

Conventions (see :mod:`quantum_service.circuits.ir`): bit ``q`` of a state index is qubit ``q``;
a matrix on ``(q_0, ..., q_{k-1})`` has ``q_0`` as the most significant bit of its row/column
index. Every kernel makes one pass over the state, visiting the ``2**k`` amplitudes that a
``k``-qubit matrix mixes together; the index of the first of them is built by inserting zero
bits into a loop counter (the layout used by qulacs, Suzuki et al., arXiv:2011.13524, §3).

Each kernel has a serial and a parallel (``prange`` over contiguous chunks) variant with the
same block function inside; :func:`apply_matrix` picks the parallel one from
:data:`PARALLEL_MIN_QUBITS` qubits up, where the state is large enough to repay the thread
start-up cost. All kernels release the GIL and are cached on disk. They are generic in the
complex dtype (complex128, or complex64 for memory-bound runs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numba
import numpy as np
from numba import njit, prange

from quantum_service.errors import InvalidProgramError

__all__ = [
    "PARALLEL_MIN_QUBITS",
    "KERNELS",
    "apply_matrix",
    "apply_diagonal",
    "select_kernel",
    "state_qubit_count",
]

#: States with at least this many qubits use the parallel kernels.
PARALLEL_MIN_QUBITS = 14

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


def state_qubit_count(state: np.ndarray, *, per_qubit_dimension: int = 2) -> int:
    """The number of qubits ``n`` of a vector of length ``per_qubit_dimension**n``.

    Raises:
        InvalidProgramError: ``state`` is not 1-D or its length is not such a power.
    """
    if state.ndim != 1:
        raise InvalidProgramError(f"expected a 1-D vector, got shape {state.shape}")
    size = state.shape[0]
    bits = size.bit_length() - 1
    if size < 1 or size != 1 << bits or bits % (per_qubit_dimension.bit_length() - 1):
        raise InvalidProgramError(
            f"vector length {size} is not a power of {per_qubit_dimension}"
        )
    return bits // (per_qubit_dimension.bit_length() - 1)


def select_kernel(matrix: np.ndarray) -> str:
    """The kernel kind :func:`apply_matrix` uses for ``matrix`` (a key part of :data:`KERNELS`).

    Args:
        matrix: shape ``(2**k, 2**k)``, k >= 1.
    Returns:
        ``"diag1"``/``"diag2"``/``"diagk"`` for diagonal matrices, ``"phase"`` for diagonal
        matrices of k >= 2 qubits whose only entry other than 1 is the last one (``cz``, ``cp``),
        else ``"dense1"``/``"dense2"``/``"densek"``; ``"identity"`` for the identity.
    """
    diagonal = np.diagonal(matrix)
    if np.count_nonzero(matrix) != np.count_nonzero(diagonal):
        dim = matrix.shape[0]
        return "dense1" if dim == 2 else "dense2" if dim == 4 else "densek"
    return _diagonal_kind(diagonal)


def _diagonal_kind(diagonal: np.ndarray) -> str:
    dim = diagonal.shape[0]
    if np.all(diagonal[:-1] == 1.0):
        if diagonal[-1] == 1.0:
            return "identity"
        if dim > 2:
            return "phase"
    return "diag1" if dim == 2 else "diag2" if dim == 4 else "diagk"


def _check_state(state: np.ndarray) -> int:
    if not isinstance(state, np.ndarray) or state.dtype not in (np.complex128, np.complex64):
        raise InvalidProgramError("the state must be a complex128 or complex64 numpy array")
    if not (state.flags.c_contiguous and state.flags.writeable):
        raise InvalidProgramError("the state must be a C-contiguous, writeable array")
    return state_qubit_count(state)


def _check_qubits(qubit_count: int, qubits: Sequence[int], dim: int) -> tuple[int, ...]:
    checked = tuple(int(q) for q in qubits)
    if dim != 1 << len(checked):
        raise InvalidProgramError(
            f"a matrix of dimension {dim} cannot act on {len(checked)} qubit(s) {checked}"
        )
    if len(set(checked)) != len(checked):
        raise InvalidProgramError(f"qubits {checked} are not distinct")
    bad = [q for q in checked if not 0 <= q < qubit_count]
    if bad:
        raise InvalidProgramError(
            f"qubit(s) {bad} out of range for a {qubit_count}-qubit state (valid: 0..{qubit_count - 1})"
        )
    return checked


def _offsets(qubits: tuple[int, ...]) -> np.ndarray:
    """State-index offset of each matrix row ``r`` (bit ``k-1-j`` of ``r`` is qubit ``qubits[j]``)."""
    k = len(qubits)
    rows = np.arange(1 << k, dtype=np.int64)
    offsets = np.zeros(1 << k, dtype=np.int64)
    for j, q in enumerate(qubits):
        offsets |= ((rows >> (k - 1 - j)) & 1) << q
    return offsets


def apply_matrix(
    state: np.ndarray,
    qubits: Sequence[int],
    matrix: np.ndarray,
    *,
    parallel: bool | None = None,
) -> None:
    """Applies ``matrix`` to ``qubits`` of ``state``, in place.

    Args:
        state: amplitudes, shape ``(2**n,)``, complex128 or complex64, C-contiguous, writeable;
            qubit ``q`` is bit ``q`` of the index.
        qubits: the ``k`` distinct qubits the matrix acts on, first = most significant bit of
            the matrix index.
        matrix: shape ``(2**k, 2**k)``, any complex matrix (unitarity is not checked). It is
            cast to ``state.dtype``.
        parallel: force the parallel (True) or serial (False) kernel; by default parallel from
            :data:`PARALLEL_MIN_QUBITS` qubits up.
    Raises:
        InvalidProgramError: bad state, matrix shape, or qubits (repeated, out of range).
    """
    qubit_count = _check_state(state)
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidProgramError(f"a gate matrix must be square, got shape {matrix.shape}")
    checked = _check_qubits(qubit_count, qubits, matrix.shape[0])
    if parallel is None:
        parallel = qubit_count >= PARALLEL_MIN_QUBITS
    kind = select_kernel(matrix)
    if kind == "identity":
        return
    if kind.startswith("diag") or kind == "phase":
        _apply_diagonal_kind(state, checked, np.diagonal(matrix), kind, parallel)
        return
    m = np.array(matrix, dtype=state.dtype, order="C")
    if kind == "dense1":
        _run(kind, parallel, state, checked[0], m)
    elif kind == "dense2":
        _run(kind, parallel, state, checked[0], checked[1], m)
    else:
        _run(kind, parallel, state, np.array(sorted(checked), dtype=np.int64), _offsets(checked), m)


def apply_diagonal(
    state: np.ndarray,
    qubits: Sequence[int],
    diagonal: np.ndarray,
    *,
    parallel: bool | None = None,
) -> None:
    """Applies the diagonal matrix ``diag(diagonal)`` to ``qubits`` of ``state``, in place.

    Args:
        state: as in :func:`apply_matrix`.
        qubits: the ``k`` distinct qubits, first = most significant bit of the diagonal's index.
        diagonal: shape ``(2**k,)``, complex.
        parallel: as in :func:`apply_matrix`.
    Raises:
        InvalidProgramError: bad state, diagonal length, or qubits.
    """
    qubit_count = _check_state(state)
    diagonal = np.asarray(diagonal)
    if diagonal.ndim != 1:
        raise InvalidProgramError(f"a diagonal must be 1-D, got shape {diagonal.shape}")
    checked = _check_qubits(qubit_count, qubits, diagonal.shape[0])
    if parallel is None:
        parallel = qubit_count >= PARALLEL_MIN_QUBITS
    kind = _diagonal_kind(diagonal)
    if kind != "identity":
        _apply_diagonal_kind(state, checked, diagonal, kind, parallel)


def _apply_diagonal_kind(state: np.ndarray, qubits: tuple[int, ...], diagonal: np.ndarray,
                         kind: str, parallel: bool) -> None:
    d = np.array(diagonal, dtype=state.dtype)
    if kind == "diag1":
        _run(kind, parallel, state, qubits[0], d)
    elif kind == "diag2":
        _run(kind, parallel, state, qubits[0], qubits[1], d)
    elif kind == "phase":
        mask = sum(1 << q for q in qubits)
        _run(kind, parallel, state, np.array(sorted(qubits), dtype=np.int64), mask, d[-1:])
    else:
        _run(kind, parallel, state, np.array(sorted(qubits), dtype=np.int64), _offsets(qubits), d)


def _run(kind: str, parallel: bool, *args: object) -> None:
    """Calls the kernel; parallel kernels take the thread count as their last argument."""
    if parallel:
        KERNELS[kind, True](*args, numba.get_num_threads())
    else:
        KERNELS[kind, False](*args)
