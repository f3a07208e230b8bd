"""Numba kernel for the reduced matrix of two states on a few qubits, and so for matrix
elements ``<bra| M_Q |ket>`` of any small matrix ``M`` on qubits ``Q``.

One pass reading both vectors, no copy and no temporary state: the adjoint gradient
(:mod:`quantum_service.simulator.adjoint`) needs ``<lambda| G |psi>`` for every parametric gate's
generator ``G``. Qubit sets are passed as in :mod:`quantum_service.simulator.kernels`
(``low_masks``, ``offsets``); the kernels are generic in the complex dtype and release the GIL.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from quantum_service.simulator.kernels import PARALLEL_LOCK, insert_zeros

__all__ = ["reduced_matrix"]

_CHUNKS_PER_THREAD = 4


@njit(nogil=True, cache=True, fastmath={"contract"})
def _reduced_block(bra: np.ndarray, ket: np.ndarray, low_masks: np.ndarray, offsets: np.ndarray,
                   start: int, stop: int, out: np.ndarray) -> None:
    dim = offsets.size
    for i in range(start, stop):
        base = insert_zeros(np.uint64(i), low_masks)
        for r in range(dim):
            b = np.conj(bra[base | offsets[r]])
            for c in range(dim):
                out[r * dim + c] += b * ket[base | offsets[c]]


@njit(nogil=True, cache=True)
def _reduced_serial(bra: np.ndarray, ket: np.ndarray, low_masks: np.ndarray,
                    offsets: np.ndarray, out: np.ndarray) -> None:
    _reduced_block(bra, ket, low_masks, offsets, 0, ket.size >> low_masks.size, out[0])


@njit(nogil=True, cache=True, parallel=True)
def _reduced_parallel(bra: np.ndarray, ket: np.ndarray, low_masks: np.ndarray,
                      offsets: np.ndarray, out: np.ndarray) -> None:
    total = ket.size >> low_masks.size
    chunks = out.shape[0]
    for c in prange(chunks):
        _reduced_block(bra, ket, low_masks, offsets, total * c // chunks,
                       total * (c + 1) // chunks, out[c])


def reduced_matrix(bra: np.ndarray, ket: np.ndarray, low_masks: np.ndarray,
                   offsets: np.ndarray, *, parallel: bool) -> np.ndarray:
    """``R[r, c] = Σ_b conj(bra[b | offsets[r]]) ket[b | offsets[c]]`` over the other qubits.

    Then ``<bra| M |ket> = Σ_rc M[r, c] R[r, c]`` for every matrix ``M`` on these qubits: one
    pass serves any number of matrix elements.

    Args:
        bra, ket: shape ``(2**n,)``, the same complex dtype, C-contiguous (unchecked).
        low_masks, offsets: uint64, as built by :mod:`~.dispatch` for the ``k`` qubits.
        parallel: use the multi-threaded kernel.
    Returns:
        complex128 ``(2**k, 2**k)``.
    """
    dim = offsets.size
    # One row per chunk, padded to whole cache lines (4 complex128) against false sharing.
    stride = (dim * dim + 3) // 4 * 4
    if parallel:
        chunks = max(1, min(numba.get_num_threads() * _CHUNKS_PER_THREAD,
                            ket.size >> low_masks.size))
        out = np.zeros((chunks, stride), dtype=np.complex128)
        with PARALLEL_LOCK:
            _reduced_parallel(bra, ket, low_masks, offsets, out)
    else:
        out = np.zeros((1, stride), dtype=np.complex128)
        _reduced_serial(bra, ket, low_masks, offsets, out)
    return out[:, :dim * dim].sum(axis=0).reshape(dim, dim)
