"""Compiles (or loads from numba's on-disk cache) every kernel ahead of the first program.

The first call of a numba kernel compiles it (seconds; once per machine thanks to
``cache=True``) or loads it from the cache (milliseconds). A service calls :func:`warm_up`
at start-up so that no job pays that cost.
"""

from __future__ import annotations

import time

import numpy as np

from quantum_service.simulator.channels import depolarizing_kraus
from quantum_service.simulator.density_matrix import simulate_density_matrix
from quantum_service.simulator.diagonal_batch import MIN_BATCH_QUBITS
from quantum_service.simulator.dispatch import (
    insertion_masks,
    index_offsets,
    apply_matrix,
    prepare_diagonal_batch,
)
from quantum_service.simulator.element_kernels import reduced_matrix
from quantum_service.simulator.expectation import dm_expectation_value, expectation_value
from quantum_service.simulator.ops import Channel
from quantum_service.simulator.pauli import PauliSum
from quantum_service.simulator.pauli_kernels import apply_pauli_sum

__all__ = ["warm_up"]


def _masks(qubits: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    return insertion_masks(qubits), index_offsets(qubits)

_H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)


def _matrices() -> list[tuple[tuple[int, ...], np.ndarray]]:
    """One operation per kernel kind, on 3 qubits."""
    dense3 = np.kron(np.kron(_H, _H), _H)
    ccx = np.eye(8, dtype=np.complex128)[[0, 1, 2, 3, 4, 5, 7, 6]]
    sparse3 = ccx.copy()
    sparse3[6:, 6:] = _H  # a Hadamard under two controls, with a phase on |000>
    sparse3[0, 0] = 1j
    cswap = np.eye(8, dtype=np.complex128)[[0, 1, 2, 3, 4, 6, 5, 7]]
    cy = np.eye(4, dtype=np.complex128)
    cy[2:, 2:] = [[0, -1j], [1j, 0]]
    return [
        ((0,), _H),                                   # dense1
        ((0, 1), np.kron(_H, _H)),                    # dense2
        ((0, 1, 2), dense3),                          # densek
        ((2, 0, 1), sparse3),                         # sparsek
        ((1,), np.diag([1j, -1.0])),                  # diag1
        ((0, 2), np.diag([1j, -1.0, 1.0, 1j])),       # diag2
        ((0, 1, 2), np.diag(np.exp(1j * np.arange(8)))),  # diagk
        ((1, 2), np.diag([1.0, 1.0, 1.0, 1j])),       # phase
        ((2, 0, 1), ccx),                             # ctrlx
        ((1, 2, 0), cswap),                           # swap
        ((2, 1), cy),                                 # ctrlu
    ]


def _warm_batch_and_adjoint(observable: PauliSum, *, parallel: bool) -> None:
    """The diagonal-batch kernel (8 qubits, its minimum), the Pauli-sum application and the
    reduced-matrix kernel of the adjoint gradient."""
    state = np.zeros(1 << MIN_BATCH_QUBITS, dtype=np.complex128)
    state[0] = 1.0
    cp = np.array([1.0, 1.0, 1.0, 1j])
    call = prepare_diagonal_batch(MIN_BATCH_QUBITS, 7, [((0, 7), cp), ((7, 3), cp)],
                                  dtype=state.dtype, parallel=parallel)
    call[0](state, *call[1])
    out = np.zeros_like(state)
    apply_pauli_sum(state, observable.grouped(), observable.coefficients, out,
                    parallel=parallel)
    reduced_matrix(out, state, *_masks((1, 2)), parallel=parallel)


def warm_up(*, parallel: bool = True) -> float:
    """Runs every complex128 kernel once on a tiny state (8 qubits for diagonal batches).

    Args:
        parallel: also the multi-threaded variants.
    Returns:
        the seconds it took.
    """
    start = time.perf_counter()
    observable = PauliSum([("Z0 X1", 1.0), ("Y2", 0.5)], qubit_count=3)
    rho = simulate_density_matrix(3, [Channel((0, 1), depolarizing_kraus(0.1, qubit_count=2))])
    for use_parallel in (False, True) if parallel else (False,):
        state = np.zeros(8, dtype=np.complex128)
        state[0] = 1.0
        for qubits, matrix in _matrices():
            apply_matrix(state, qubits, matrix, parallel=use_parallel)
        expectation_value(state, observable, parallel=use_parallel)
        dm_expectation_value(rho, observable, parallel=use_parallel)
        _warm_batch_and_adjoint(observable, parallel=use_parallel)
    return time.perf_counter() - start
