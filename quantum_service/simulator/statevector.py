"""The state-vector simulator: runs a numeric program on a pure state."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.dispatch import prepare_matrix, use_parallel
from quantum_service.simulator.ops import UnitaryOp, check_qubit_count, check_unitary_ops

__all__ = ["simulate_statevector", "zero_state"]

#: Tolerance on ``| ||initial_state|| - 1 |``.
_NORM_ATOL = 1e-6


def zero_state(qubit_count: int, *, dtype: npt.DTypeLike = np.complex128) -> np.ndarray:
    """``|0...0>``: shape ``(2**qubit_count,)``, ``dtype`` complex128 or complex64.

    Raises:
        InvalidProgramError / ResourceExhaustedError: see :func:`~.ops.check_qubit_count`.
    """
    state = np.zeros(1 << check_qubit_count(qubit_count), dtype=dtype)
    state[0] = 1.0
    return state


def simulate_statevector(
    qubit_count: int,
    ops: Iterable[UnitaryOp],
    *,
    initial_state: np.ndarray | None = None,
    dtype: npt.DTypeLike = np.complex128,
) -> np.ndarray:
    """Applies ``ops`` in order to ``initial_state`` (default ``|0...0>``).

    Every operation is checked before the first one runs.

    Args:
        qubit_count: ``n``, 1 <= n <= :data:`~.ops.MAX_STATEVECTOR_QUBITS`.
        ops: ``(qubits, matrix)`` pairs; ``matrix`` is ``(2**k, 2**k)`` with the first listed
            qubit as its most significant bit (unitarity is not checked).
        initial_state: shape ``(2**n,)``, unit norm; copied, never modified.
        dtype: ``np.complex128`` (default) or ``np.complex64`` (half the memory, ~1e-6 error).
    Returns:
        the state vector, shape ``(2**n,)``, ``dtype``; qubit ``q`` is bit ``q`` of the index.
    Raises:
        InvalidProgramError: a bad operation (its index is in the message), or an initial state
            of the wrong length or norm.
        ResourceExhaustedError: ``n`` is above the limit.
    """
    state_dtype = np.dtype(dtype)
    if state_dtype not in (np.complex128, np.complex64):
        raise InvalidProgramError(f"dtype must be complex128 or complex64, got {state_dtype}")
    qubit_count = check_qubit_count(qubit_count)
    program = check_unitary_ops(qubit_count, ops)
    if initial_state is None:
        state = zero_state(qubit_count, dtype=state_dtype)
    else:
        state = np.array(initial_state, dtype=state_dtype, order="C", copy=True)
        if state.shape != (1 << qubit_count,):
            raise InvalidProgramError(
                f"initial_state must have shape ({1 << qubit_count},) for {qubit_count} "
                f"qubit(s), got {state.shape}"
            )
        norm = float(np.linalg.norm(state))
        if abs(norm - 1.0) > _NORM_ATOL:
            raise InvalidProgramError(f"initial_state must have unit norm, got {norm:.6g}")
    parallel = use_parallel(qubit_count)
    calls = [prepare_matrix(qubits, matrix, dtype=state_dtype, parallel=parallel)
             for qubits, matrix in program]
    for call in calls:
        if call is not None:
            call[0](state, *call[1])
    return state
