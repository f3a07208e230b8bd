"""Numba kernels for Pauli-sum expectation values, without building any matrix.

For a Pauli product with masks ``(x, z)`` (see :mod:`quantum_service.simulator.pauli`):

* pure state: ``<psi|P|psi> = phase * sum_j conj(psi[j ^ x]) psi[j] (-1)**popcount(j & z)``;
* density matrix: ``tr(rho P) = phase * sum_j rho[j, j ^ x] (-1)**popcount(j & z)``.

Terms sharing an x mask share the products ``conj(psi[j ^ x]) psi[j]`` (``rho[j, j ^ x]``), so
each group of terms costs one pass over the state; ``x = 0`` groups (Z products) read only
``|psi[j]|**2`` (the diagonal of ``rho``). The kernels return per-term sums *without* the phase
``i**popcount(x & z)``; callers multiply it in.
"""

from __future__ import annotations

import functools

import numba
import numpy as np
from numba import njit, prange

from quantum_service.simulator.kernels import PARALLEL_LOCK
from quantum_service.simulator.pauli import PauliGroups

__all__ = ["apply_pauli_sum", "density_matrix_term_sums", "statevector_term_sums"]

_CHUNKS_PER_THREAD = 4

@njit(nogil=True, cache=True)
def _parity(value: int) -> int:
    """popcount(value) mod 2 for a non-negative int64."""
    value ^= value >> 32
    value ^= value >> 16
    value ^= value >> 8
    value ^= value >> 4
    value ^= value >> 2
    value ^= value >> 1
    return value & 1


@njit(nogil=True, cache=True)
def _insert_zero(index: int, position: int) -> int:
    low = index & ((1 << position) - 1)
    return ((index >> position) << (position + 1)) | low


#: Index bits handled by sign tables: an index ``j`` is split as ``(hi, lo)`` with ``lo`` its low
#: ``_LOW_BITS`` bits, so ``(-1)**popcount(j & z)`` is a table entry for ``lo`` times one sign
#: per ``hi`` (tables of 256 float64 per term stay in L1/L2; the inner loops are contiguous).
_LOW_BITS = 8


@njit(nogil=True, cache=True)
def _highest_bit(value: int) -> int:
    high = 63
    while not (value >> high) & 1:
        high -= 1
    return high


@njit(nogil=True, cache=True, fastmath={"contract"})
def _statevector_block(state: np.ndarray, low_bits: int, group_x: np.ndarray,
                       group_offsets: np.ndarray, z_masks: np.ndarray, tables: np.ndarray,
                       chunk: int, chunks: int, sums: np.ndarray, buffer: np.ndarray) -> None:
    """Adds chunk ``chunk`` of ``chunks``'s share of every group's sums into ``sums``.

    With ``x_hi = x >> low_bits``: if ``x_hi != 0`` only indices whose highest ``x_hi`` bit is 0
    are visited (the partner ``j ^ x`` contributes ``(-1)**popcount(x & z) * conj(term of j)``,
    which the caller folds in); else every index is visited (no fold). Products
    ``conj(psi[j ^ x]) psi[j]`` are buffered per ``hi`` (in ``buffer``, complex128
    ``(2**low_bits,)``) so that each term runs a tight loop. The caller allocates ``sums`` and
    ``buffer``: allocating inside a parallel region costs more than the work here.
    """
    width = 1 << low_bits
    low_mask = width - 1
    hi_count = state.size >> low_bits
    for g in range(group_x.size):
        x = group_x[g]
        x_lo = x & low_mask
        x_hi = x >> low_bits
        first = group_offsets[g]
        last = group_offsets[g + 1]
        top = _highest_bit(x_hi) if x_hi != 0 else -1
        count = hi_count if top < 0 else hi_count >> 1
        for h in range(count * chunk // chunks, count * (chunk + 1) // chunks):
            hi = h if top < 0 else _insert_zero(h, top)
            base = hi << low_bits
            if x == 0:
                for lo in range(width):
                    a = state[base + lo]
                    buffer[lo] = a.real * a.real + a.imag * a.imag
            else:
                partner = (hi ^ x_hi) << low_bits
                for lo in range(width):
                    buffer[lo] = np.conj(state[partner + (lo ^ x_lo)]) * state[base + lo]
            for t in range(first, last):
                table = tables[t]
                re = 0.0
                im = 0.0
                for lo in range(width):
                    re += table[lo] * buffer[lo].real
                    im += table[lo] * buffer[lo].imag
                if _parity(hi & (z_masks[t] >> low_bits)):
                    sums[t] -= complex(re, im)
                else:
                    sums[t] += complex(re, im)


@njit(nogil=True, cache=True)
def _statevector_serial(state: np.ndarray, low_bits: int, group_x: np.ndarray,
                        group_offsets: np.ndarray, z_masks: np.ndarray,
                        tables: np.ndarray) -> np.ndarray:
    sums = np.zeros(z_masks.size, dtype=np.complex128)
    buffer = np.empty(1 << low_bits, dtype=np.complex128)
    _statevector_block(state, low_bits, group_x, group_offsets, z_masks, tables, 0, 1, sums,
                       buffer)
    return sums


@njit(nogil=True, cache=True, parallel=True)
def _statevector_parallel(state: np.ndarray, low_bits: int, group_x: np.ndarray,
                          group_offsets: np.ndarray, z_masks: np.ndarray, tables: np.ndarray,
                          partial: np.ndarray, buffers: np.ndarray) -> None:
    # Only the prange here: any array expression (np.zeros, +=, .sum) in a parallel function
    # becomes a parallel region of its own, each a thread wake-up.
    chunks = partial.shape[0]
    for c in prange(chunks):
        _statevector_block(state, low_bits, group_x, group_offsets, z_masks, tables, c, chunks,
                           partial[c], buffers[c])


@functools.lru_cache(maxsize=64)
def _sign_tables(z_bytes: bytes, low_bits: int) -> np.ndarray:
    """float64 ``(T, 2**low_bits)``: ``(-1)**popcount(lo & z_t)``."""
    z = np.frombuffer(z_bytes, dtype=np.int64)
    lo = np.arange(1 << low_bits, dtype=np.int64)
    masked = lo[None, :] & z[:, None]
    parity = np.zeros(masked.shape, dtype=np.int64)
    for b in range(low_bits):
        parity ^= (masked >> b) & 1
    tables = 1.0 - 2.0 * parity
    tables.setflags(write=False)
    return tables


@functools.lru_cache(maxsize=64)
def _fold_signs(x_bytes: bytes, offsets_bytes: bytes, fold_bytes: bytes,
                low_bits: int) -> np.ndarray:
    """Per sorted term: its fold sign, or 0 where the kernel visited every index."""
    group_x = np.frombuffer(x_bytes, dtype=np.int64)
    counts = np.diff(np.frombuffer(offsets_bytes, dtype=np.int64))
    full = np.repeat((group_x >> low_bits) == 0, counts)
    folds = np.where(full, 0.0, np.frombuffer(fold_bytes, dtype=np.float64))
    folds.setflags(write=False)
    return folds


@njit(nogil=True, cache=True)
def _density_matrix_block(rho: np.ndarray, qubit_count: int, group_x: np.ndarray,
                          group_offsets: np.ndarray, z_masks: np.ndarray, start: int, stop: int,
                          sums: np.ndarray) -> None:
    # rho[ket, bra] is rho_vector[ket | bra << qubit_count].
    for g in range(group_x.size):
        x = group_x[g]
        first = group_offsets[g]
        last = group_offsets[g + 1]
        for j in range(start, stop):
            a = rho[j | ((j ^ x) << qubit_count)]
            for t in range(first, last):
                if _parity(j & z_masks[t]):
                    sums[t] -= a
                else:
                    sums[t] += a


@njit(nogil=True, cache=True)
def _density_matrix_serial(rho: np.ndarray, qubit_count: int, group_x: np.ndarray,
                           group_offsets: np.ndarray, z_masks: np.ndarray) -> np.ndarray:
    sums = np.zeros(z_masks.size, dtype=np.complex128)
    _density_matrix_block(rho, qubit_count, group_x, group_offsets, z_masks, 0,
                          1 << qubit_count, sums)
    return sums


@njit(nogil=True, cache=True, parallel=True)
def _density_matrix_parallel(rho: np.ndarray, qubit_count: int, group_x: np.ndarray,
                             group_offsets: np.ndarray, z_masks: np.ndarray,
                             partial: np.ndarray) -> None:
    total = 1 << qubit_count
    chunks = partial.shape[0]
    for c in prange(chunks):
        _density_matrix_block(rho, qubit_count, group_x, group_offsets, z_masks,
                              total * c // chunks, total * (c + 1) // chunks, partial[c])


def statevector_term_sums(state: np.ndarray, groups: PauliGroups, *,
                          parallel: bool) -> np.ndarray:
    """Per-term ``sum_j conj(psi[j ^ x]) psi[j] (-1)**popcount(j & z)``, complex128 ``(T,)``.

    Args:
        state: shape ``(2**n,)``, complex128 or complex64, C-contiguous.
        groups: from :meth:`PauliSum.grouped`; the result follows its sorted term order.
        parallel: use the multi-threaded kernel.
    """
    qubit_count = state.size.bit_length() - 1
    low_bits = min(_LOW_BITS, qubit_count)
    tables = _sign_tables(groups.z_masks.tobytes(), low_bits)
    arguments = (state, low_bits, groups.group_x, groups.group_offsets, groups.z_masks, tables)
    if parallel:
        chunks = max(1, min(numba.get_num_threads() * _CHUNKS_PER_THREAD,
                            state.size >> (low_bits + 1)))
        # One row per chunk, padded to 8 complex values (two cache lines) against false sharing.
        stride = (groups.z_masks.size + 7) // 8 * 8
        partial = np.zeros((chunks, stride), dtype=np.complex128)
        buffers = np.empty((chunks, 1 << low_bits), dtype=np.complex128)
        with PARALLEL_LOCK:
            _statevector_parallel(*arguments, partial, buffers)
        half_sums = partial[:, :groups.z_masks.size].sum(axis=0)
    else:
        half_sums = _statevector_serial(*arguments)
    # Fold in the partners j ^ x that the kernel skipped (see _statevector_block).
    folds = _fold_signs(groups.group_x.tobytes(), groups.group_offsets.tobytes(),
                        groups.fold_signs.tobytes(), low_bits)
    return half_sums + folds * np.conj(half_sums)


def density_matrix_term_sums(rho: np.ndarray, qubit_count: int, groups: PauliGroups, *,
                             parallel: bool) -> np.ndarray:
    """Per-term ``sum_j rho[j, j ^ x] (-1)**popcount(j & z)``, complex128 ``(T,)``.

    Args:
        rho: vectorised density matrix, shape ``(4**n,)``; ``rho[ket, bra]`` is element
            ``ket | bra << n``.
        qubit_count: ``n``.
        groups, parallel: as in :func:`statevector_term_sums`.
    """
    arguments = (rho, qubit_count, groups.group_x, groups.group_offsets, groups.z_masks)
    if parallel:
        chunks = max(1, min(numba.get_num_threads() * _CHUNKS_PER_THREAD, 1 << qubit_count))
        stride = (groups.z_masks.size + 7) // 8 * 8
        partial = np.zeros((chunks, stride), dtype=np.complex128)
        with PARALLEL_LOCK:
            _density_matrix_parallel(*arguments, partial)
        return partial[:, :groups.z_masks.size].sum(axis=0)
    return _density_matrix_serial(*arguments)


@njit(nogil=True, cache=True, fastmath={"contract"})
def _apply_block(state: np.ndarray, out: np.ndarray, low_bits: int, group_x: np.ndarray,
                 group_offsets: np.ndarray, z_masks: np.ndarray, weights: np.ndarray,
                 tables: np.ndarray, chunk: int, chunks: int, buffer: np.ndarray) -> None:
    """``out[j ^ x] += psi[j] * sum_t w_t (-1)**popcount(j & z_t)`` for the destinations of
    chunk ``chunk`` of ``chunks`` (so chunks never write the same entry)."""
    width = 1 << low_bits
    low_mask = width - 1
    hi_count = state.size >> low_bits
    for dest_hi in range(hi_count * chunk // chunks, hi_count * (chunk + 1) // chunks):
        dest = dest_hi << low_bits
        for g in range(group_x.size):
            x = group_x[g]
            x_lo = x & low_mask
            src_hi = dest_hi ^ (x >> low_bits)
            source = src_hi << low_bits
            for lo in range(width):
                buffer[lo] = 0.0
            for t in range(group_offsets[g], group_offsets[g + 1]):
                w = weights[t]
                if _parity(src_hi & (z_masks[t] >> low_bits)):
                    w = -w
                table = tables[t]
                for lo in range(width):
                    buffer[lo] += table[lo] * w
            for lo in range(width):
                out[dest + (lo ^ x_lo)] += buffer[lo] * state[source + lo]


@njit(nogil=True, cache=True)
def _apply_serial(state: np.ndarray, out: np.ndarray, low_bits: int, group_x: np.ndarray,
                  group_offsets: np.ndarray, z_masks: np.ndarray, weights: np.ndarray,
                  tables: np.ndarray, buffers: np.ndarray) -> None:
    _apply_block(state, out, low_bits, group_x, group_offsets, z_masks, weights, tables, 0, 1,
                 buffers[0])


@njit(nogil=True, cache=True, parallel=True)
def _apply_parallel(state: np.ndarray, out: np.ndarray, low_bits: int, group_x: np.ndarray,
                    group_offsets: np.ndarray, z_masks: np.ndarray, weights: np.ndarray,
                    tables: np.ndarray, buffers: np.ndarray) -> None:
    chunks = buffers.shape[0]
    for c in prange(chunks):
        _apply_block(state, out, low_bits, group_x, group_offsets, z_masks, weights, tables, c,
                     chunks, buffers[c])


def apply_pauli_sum(state: np.ndarray, groups: PauliGroups, coefficients: np.ndarray,
                    out: np.ndarray, *, parallel: bool) -> np.ndarray:
    """``out += (sum_t c_t P_t) psi``, without matrices; one pass per call.

    Args:
        state: ``psi``, shape ``(2**n,)``, complex128 or complex64, C-contiguous.
        groups: from :meth:`PauliSum.grouped`.
        coefficients: float64 ``(T,)`` in the PauliSum's term order.
        out: complex, same shape as ``state``, C-contiguous; accumulated into.
        parallel: use the multi-threaded kernel.
    Returns:
        ``out``.
    """
    qubit_count = state.size.bit_length() - 1
    low_bits = min(_LOW_BITS, qubit_count)
    tables = _sign_tables(groups.z_masks.tobytes(), low_bits)
    # P|j> = phase (-1)**popcount(j & z) |j ^ x>: the weight of term t is c_t * phase_t.
    weights = (np.asarray(coefficients, dtype=np.float64)[groups.order] * groups.phases
               ).astype(np.complex128)
    chunks = max(1, min(numba.get_num_threads() * _CHUNKS_PER_THREAD,
                        state.size >> low_bits)) if parallel else 1
    buffers = np.empty((chunks, 1 << low_bits), dtype=np.complex128)
    arguments = (state, out, low_bits, groups.group_x, groups.group_offsets, groups.z_masks,
                 weights, tables, buffers)
    if parallel:
        with PARALLEL_LOCK:
            _apply_parallel(*arguments)
    else:
        _apply_serial(*arguments)
    return out
