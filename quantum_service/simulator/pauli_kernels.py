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

import numba
import numpy as np
from numba import njit, prange

from quantum_service.simulator.kernels import PARALLEL_LOCK
from quantum_service.simulator.pauli import PauliGroups

__all__ = ["density_matrix_term_sums", "statevector_term_sums"]

_CHUNKS_PER_THREAD = 4

#: Indices per buffered block in the state-vector kernel (16 KiB of products).
_BLOCK = 1024


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


@njit(nogil=True, cache=True)
def _statevector_block(state: np.ndarray, group_x: np.ndarray, group_offsets: np.ndarray,
                       z_masks: np.ndarray, chunk: int, chunks: int, sums: np.ndarray) -> None:
    """Adds chunk ``chunk`` of ``chunks``'s share of every group's sums into ``sums``.

    A group with ``x != 0`` visits only indices ``j`` whose highest x bit is 0: the partner
    ``j ^ x`` contributes ``(-1)**popcount(x & z) * conj(term of j)`` (``|psi|**2`` and the sign
    are symmetric), which the caller folds in. Products are buffered per block of indices so
    that a group's terms each run a tight loop over cached data.
    """
    block_values = np.empty(_BLOCK, dtype=np.complex128)
    block_indices = np.empty(_BLOCK, dtype=np.int64)
    for g in range(group_x.size):
        x = group_x[g]
        first = group_offsets[g]
        last = group_offsets[g + 1]
        total = state.size if x == 0 else state.size >> 1
        start = total * chunk // chunks
        stop = total * (chunk + 1) // chunks
        high = 63
        while x != 0 and not (x >> high) & 1:
            high -= 1
        for block_start in range(start, stop, _BLOCK):
            count = min(_BLOCK, stop - block_start)
            for b in range(count):
                i = block_start + b
                if x == 0:
                    a = state[i]
                    block_values[b] = a.real * a.real + a.imag * a.imag
                    block_indices[b] = i
                else:
                    j = _insert_zero(i, high)
                    block_values[b] = np.conj(state[j ^ x]) * state[j]
                    block_indices[b] = j
            for t in range(first, last):
                z = z_masks[t]
                acc = 0j
                for b in range(count):
                    acc += (1 - 2 * _parity(block_indices[b] & z)) * block_values[b]
                sums[t] += acc


@njit(nogil=True, cache=True)
def _statevector_serial(state: np.ndarray, group_x: np.ndarray, group_offsets: np.ndarray,
                        z_masks: np.ndarray) -> np.ndarray:
    sums = np.zeros(z_masks.size, dtype=np.complex128)
    _statevector_block(state, group_x, group_offsets, z_masks, 0, 1, sums)
    return sums


@njit(nogil=True, cache=True, parallel=True)
def _statevector_parallel(state: np.ndarray, group_x: np.ndarray, group_offsets: np.ndarray,
                          z_masks: np.ndarray, threads: int) -> np.ndarray:
    chunks = max(1, min(threads * _CHUNKS_PER_THREAD, state.size >> 1))
    partial = np.zeros((chunks, z_masks.size), dtype=np.complex128)
    for c in prange(chunks):
        _statevector_block(state, group_x, group_offsets, z_masks, c, chunks, partial[c])
    return partial.sum(axis=0)


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
                             threads: int) -> np.ndarray:
    total = 1 << qubit_count
    chunks = max(1, min(threads * _CHUNKS_PER_THREAD, total))
    partial = np.zeros((chunks, z_masks.size), dtype=np.complex128)
    for c in prange(chunks):
        _density_matrix_block(rho, qubit_count, group_x, group_offsets, z_masks,
                              total * c // chunks, total * (c + 1) // chunks, partial[c])
    return partial.sum(axis=0)


def statevector_term_sums(state: np.ndarray, groups: PauliGroups, *,
                          parallel: bool) -> np.ndarray:
    """Per-term ``sum_j conj(psi[j ^ x]) psi[j] (-1)**popcount(j & z)``, complex128 ``(T,)``.

    Args:
        state: shape ``(2**n,)``, complex128 or complex64, C-contiguous.
        groups: from :meth:`PauliSum.grouped`; the result follows its sorted term order.
        parallel: use the multi-threaded kernel.
    """
    arguments = (state, groups.group_x, groups.group_offsets, groups.z_masks)
    if parallel:
        with PARALLEL_LOCK:
            half_sums = _statevector_parallel(*arguments, numba.get_num_threads())
    else:
        half_sums = _statevector_serial(*arguments)
    # Fold in the partners j ^ x that the kernel skipped (see _statevector_block).
    return half_sums + groups.fold_signs * np.conj(half_sums)


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
        with PARALLEL_LOCK:
            return _density_matrix_parallel(*arguments, numba.get_num_threads())
    return _density_matrix_serial(*arguments)
