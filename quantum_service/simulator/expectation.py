"""Exact expectation values of Pauli sums on pure states and density matrices."""

from __future__ import annotations

import numpy as np

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.dispatch import PARALLEL_MIN_QUBITS
from quantum_service.simulator.ops import state_qubit_count
from quantum_service.simulator.pauli import PauliGroups, PauliSum
from quantum_service.simulator.pauli_kernels import (
    density_matrix_term_sums,
    statevector_term_sums,
)

__all__ = [
    "dm_expectation_value",
    "dm_term_expectations",
    "expectation_value",
    "term_expectations",
]

#: Use the parallel kernels from this many (amplitude x term) products up.
_PARALLEL_MIN_WORK = 1 << (PARALLEL_MIN_QUBITS + 2)


def _check_width(qubit_count: int, pauli_sum: PauliSum) -> None:
    if not isinstance(pauli_sum, PauliSum):
        raise InvalidProgramError(f"expected a PauliSum, got {type(pauli_sum).__name__}")
    if pauli_sum.qubit_count > qubit_count:
        raise InvalidProgramError(
            f"the observable is defined on {pauli_sum.qubit_count} qubits but the state has "
            f"only {qubit_count}"
        )


def _use_parallel(iterations: int, pauli_sum: PauliSum, parallel: bool | None) -> bool:
    if parallel is not None:
        return parallel
    return iterations * max(1, pauli_sum.term_count) >= _PARALLEL_MIN_WORK


def _finish(sums: np.ndarray, groups: PauliGroups) -> np.ndarray:
    values = np.empty(sums.size, dtype=np.float64)
    values[groups.order] = (groups.phases * sums).real
    return values


def term_expectations(state_vector: np.ndarray, pauli_sum: PauliSum, *,
                      parallel: bool | None = None) -> np.ndarray:
    """``<psi|P_t|psi>`` for every term ``P_t`` of ``pauli_sum`` (coefficients not applied).

    One pass over the state per distinct x mask (:attr:`PauliSum.group_count`). A term's
    single-shot variance is ``1 - value**2``.

    Args:
        state_vector: shape ``(2**n,)``, complex128 or complex64, normalised.
        pauli_sum: an observable on at most ``n`` qubits.
        parallel: force the multi-threaded (True) or serial (False) kernel.
    Returns:
        float64, shape ``(pauli_sum.term_count,)``, in term order, each in ``[-1, 1]``.
    Raises:
        InvalidProgramError: a bad state, or the observable acts on qubits the state lacks.
    """
    state = np.ascontiguousarray(state_vector)
    if state.dtype not in (np.complex128, np.complex64):
        state = state.astype(np.complex128)
    qubit_count = state_qubit_count(state)
    _check_width(qubit_count, pauli_sum)
    groups = pauli_sum.grouped()
    sums = statevector_term_sums(state, groups,
                                 parallel=_use_parallel(state.size, pauli_sum, parallel))
    return _finish(sums, groups)


def expectation_value(state_vector: np.ndarray, pauli_sum: PauliSum, *,
                      parallel: bool | None = None) -> float:
    """``<psi| sum_t c_t P_t |psi>``; see :func:`term_expectations` for the arguments."""
    return float(pauli_sum.coefficients @ term_expectations(state_vector, pauli_sum,
                                                            parallel=parallel))


def dm_term_expectations(rho: np.ndarray, pauli_sum: PauliSum, *,
                         parallel: bool | None = None) -> np.ndarray:
    """``tr(rho P_t)`` for every term ``P_t`` of ``pauli_sum`` (coefficients not applied).

    Args:
        rho: vectorised density matrix, shape ``(4**n,)`` (layout in
            :mod:`quantum_service.simulator.density_matrix`), trace 1.
        pauli_sum: an observable on at most ``n`` qubits.
        parallel: force the multi-threaded (True) or serial (False) kernel.
    Returns:
        float64, shape ``(pauli_sum.term_count,)``, in term order.
    Raises:
        InvalidProgramError: a bad ``rho``, or the observable acts on qubits ``rho`` lacks.
    """
    vector = np.ascontiguousarray(rho)
    if vector.dtype not in (np.complex128, np.complex64):
        vector = vector.astype(np.complex128)
    qubit_count = state_qubit_count(vector, per_qubit_dimension=4)
    _check_width(qubit_count, pauli_sum)
    groups = pauli_sum.grouped()
    sums = density_matrix_term_sums(vector, qubit_count, groups,
                                    parallel=_use_parallel(1 << qubit_count, pauli_sum, parallel))
    return _finish(sums, groups)


def dm_expectation_value(rho: np.ndarray, pauli_sum: PauliSum, *,
                         parallel: bool | None = None) -> float:
    """``tr(rho sum_t c_t P_t)``; see :func:`dm_term_expectations` for the arguments."""
    return float(pauli_sum.coefficients @ dm_term_expectations(rho, pauli_sum,
                                                               parallel=parallel))
