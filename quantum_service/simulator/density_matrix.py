"""The density-matrix simulator, for noisy programs on up to ~12 qubits.

Layout: an ``n``-qubit density matrix is stored as a vector of ``4**n`` amplitudes, i.e. a
``2n``-qubit state: qubits ``0..n-1`` index the row (ket), qubits ``n..2n-1`` the column (bra),
so ``rho[ket, bra]`` is element ``ket | bra << n``. Then

* a unitary ``U`` on qubits ``Q`` (``rho -> U rho U^†``) is ``U`` on ``Q`` and ``conj(U)`` on
  ``Q + n``;
* a channel with Kraus operators ``{K_i}`` on ``Q`` (``rho -> sum_i K_i rho K_i^†``) is the
  superoperator ``sum_i K_i ⊗ conj(K_i)`` on qubits ``Q + (Q + n)``
  (Wood, Biamonte & Cory, "Tensor networks and graphical calculus for open quantum systems",
  QIC 15, 759 (2015), §3: vectorisation),

all applied by the state-vector kernels of :mod:`quantum_service.simulator.kernels`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.dispatch import (
    KernelCall,
    apply_matrix,
    prepare_matrix,
    use_parallel,
)
from quantum_service.simulator.measurement import marginal_probabilities
from quantum_service.simulator.ops import (
    Channel,
    DensityMatrixOp,
    check_qubit_count,
    check_qubits,
    check_unitary_op,
    state_qubit_count,
)

__all__ = [
    "MAX_DENSITY_MATRIX_QUBITS",
    "dm_apply_channel",
    "dm_apply_unitary",
    "dm_from_matrix",
    "dm_from_state_vector",
    "dm_probabilities",
    "dm_to_matrix",
    "dm_zero_state",
    "simulate_density_matrix",
]

#: Largest density matrix the simulator allocates (4**13 complex128 = 1 GiB).
MAX_DENSITY_MATRIX_QUBITS = 13

#: Tolerances on the trace and Hermiticity of an initial density matrix.
_TRACE_ATOL = 1e-6


def dm_zero_state(qubit_count: int) -> np.ndarray:
    """``|0...0><0...0|`` vectorised: complex128, shape ``(4**qubit_count,)``."""
    rho = np.zeros(1 << (2 * check_qubit_count(qubit_count, maximum=MAX_DENSITY_MATRIX_QUBITS)),
                   dtype=np.complex128)
    rho[0] = 1.0
    return rho


def dm_to_matrix(rho: np.ndarray) -> np.ndarray:
    """The ``(2**n, 2**n)`` matrix of a vectorised density matrix (a copy).

    Raises:
        InvalidProgramError: the length is not a power of 4.
    """
    rho = np.asarray(rho)
    dim = 1 << state_qubit_count(rho, per_qubit_dimension=4)
    # Row-major reshape puts the bra (high bits) first: element [bra, ket].
    return np.ascontiguousarray(rho.reshape(dim, dim).T)


def dm_from_matrix(matrix: np.ndarray) -> np.ndarray:
    """Vectorises a ``(2**n, 2**n)`` density matrix: complex128, shape ``(4**n,)`` (a copy).

    Raises:
        InvalidProgramError: the matrix is not square with a power-of-2 side.
    """
    matrix = np.asarray(matrix, dtype=np.complex128)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise InvalidProgramError(f"a density matrix must be square, got shape {matrix.shape}")
    state_qubit_count(matrix[0])
    return np.ascontiguousarray(matrix.T).reshape(-1)


def dm_from_state_vector(state_vector: np.ndarray) -> np.ndarray:
    """``|psi><psi|`` vectorised: complex128, shape ``(4**n,)`` from a ``(2**n,)`` state."""
    psi = np.asarray(state_vector, dtype=np.complex128)
    state_qubit_count(psi)
    # Element ket | bra << n is psi[ket] * conj(psi[bra]): outer(conj(psi), psi) row-major.
    return np.outer(psi.conj(), psi).reshape(-1)


def dm_apply_unitary(rho: np.ndarray, qubits: Sequence[int], matrix: np.ndarray) -> None:
    """``rho -> U rho U^†`` in place, ``U = matrix`` on ``qubits`` (first = most significant).

    Raises:
        InvalidProgramError: bad ``rho``, qubits or matrix shape.
    """
    n = state_qubit_count(rho, per_qubit_dimension=4)
    qubits = check_qubits(n, qubits, what="unitary")
    apply_matrix(rho, qubits, matrix)
    apply_matrix(rho, tuple(q + n for q in qubits), np.conj(matrix))


def dm_apply_channel(rho: np.ndarray, channel: Channel) -> None:
    """``rho -> sum_i K_i rho K_i^†`` in place, via ``channel.superoperator``.

    Raises:
        InvalidProgramError: bad ``rho``, or the channel's qubits are out of range.
    """
    n = state_qubit_count(rho, per_qubit_dimension=4)
    qubits = check_qubits(n, channel.qubits, what="channel")
    apply_matrix(rho, qubits + tuple(q + n for q in qubits), channel.superoperator)


def _prepare(qubit_count: int, ops: Iterable[DensityMatrixOp]) -> list[KernelCall]:
    """Checks every operation, then turns each into kernel calls on the ``2n``-qubit vector."""
    n = qubit_count
    checked: list[tuple[tuple[int, ...], np.ndarray]] = []
    for index, op in enumerate(ops):
        if isinstance(op, Channel):
            qubits = check_qubits(n, op.qubits, what=f"operation {index} (channel)")
            checked.append((qubits + tuple(q + n for q in qubits), op.superoperator))
        else:
            qubits, matrix = check_unitary_op(n, op, what=f"operation {index}")
            checked.append((qubits, matrix))
            checked.append((tuple(q + n for q in qubits), np.conj(matrix)))
    parallel = use_parallel(2 * n)
    calls = (prepare_matrix(q, m, dtype=np.dtype(np.complex128), parallel=parallel)
             for q, m in checked)
    return [call for call in calls if call is not None]


def _initial_rho(qubit_count: int, initial_state: np.ndarray | None) -> np.ndarray:
    if initial_state is None:
        return dm_zero_state(qubit_count)
    initial = np.asarray(initial_state, dtype=np.complex128)
    dim = 1 << qubit_count
    if initial.shape == (dim,):
        if abs(np.linalg.norm(initial) - 1.0) > _TRACE_ATOL:
            raise InvalidProgramError("initial_state must have unit norm")
        return dm_from_state_vector(initial)
    if initial.shape == (dim, dim):
        if abs(np.trace(initial) - 1.0) > _TRACE_ATOL:
            raise InvalidProgramError(
                f"an initial density matrix must have trace 1, got {np.trace(initial):.6g}"
            )
        if not np.allclose(initial, initial.conj().T, atol=_TRACE_ATOL):
            raise InvalidProgramError("an initial density matrix must be Hermitian")
        return dm_from_matrix(initial)
    raise InvalidProgramError(
        f"initial_state must be a state vector ({dim},) or a density matrix ({dim}, {dim}) "
        f"for {qubit_count} qubit(s), got shape {initial.shape}"
    )


def simulate_density_matrix(
    qubit_count: int,
    ops: Iterable[DensityMatrixOp],
    *,
    initial_state: np.ndarray | None = None,
) -> np.ndarray:
    """Applies unitaries and channels in order to ``initial_state`` (default ``|0...0>``).

    Every operation is checked before the first one runs.

    Args:
        qubit_count: ``n``, 1 <= n <= :data:`MAX_DENSITY_MATRIX_QUBITS`.
        ops: ``(qubits, matrix)`` unitaries (first listed qubit = most significant bit of the
            matrix index; unitarity is not checked) and :class:`~.ops.Channel` instances.
        initial_state: a state vector ``(2**n,)`` or a density matrix ``(2**n, 2**n)``.
    Returns:
        the vectorised density matrix, complex128, shape ``(4**n,)``: ``rho[ket, bra]`` is
        element ``ket | bra << n``; :func:`dm_to_matrix` gives the square matrix.
    Raises:
        InvalidProgramError: a bad operation (its index is in the message) or initial state.
        ResourceExhaustedError: ``n`` is above the limit.
    """
    qubit_count = check_qubit_count(qubit_count, maximum=MAX_DENSITY_MATRIX_QUBITS)
    calls = _prepare(qubit_count, ops)
    rho = _initial_rho(qubit_count, initial_state)
    for kernel, arguments in calls:
        kernel(rho, *arguments)
    return rho


def dm_probabilities(rho: np.ndarray, qubits: Sequence[int] | None = None) -> np.ndarray:
    """Probabilities of measuring ``qubits``: the diagonal of ``rho``, marginalised.

    Args:
        rho: vectorised density matrix, shape ``(4**n,)``.
        qubits: distinct qubits to measure (default: all, ``0..n-1``).
    Returns:
        float64, shape ``(2**len(qubits),)``; index bit ``j`` is the outcome of ``qubits[j]``.
        Round-off negatives are clipped to 0.
    Raises:
        InvalidProgramError: the length is not a power of 4, or bad ``qubits``.
    """
    rho = np.asarray(rho)
    n = state_qubit_count(rho, per_qubit_dimension=4)
    diagonal = np.clip(rho[:: (1 << n) + 1].real.astype(np.float64), 0.0, None)
    return diagonal if qubits is None else marginal_probabilities(diagonal, qubits)
