"""The simulator's input: numeric operations, checked before any compute is spent.

A unitary operation is a pair ``(qubits, matrix)``: ``matrix`` is complex, shape
``(2**k, 2**k)``, in the gate-matrix convention of :mod:`quantum_service.circuits.gates` (the
first listed qubit is the most significant bit). A noise channel is a :class:`Channel`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np

from quantum_service.errors import InvalidProgramError, ResourceExhaustedError

__all__ = [
    "MAX_STATEVECTOR_QUBITS",
    "Channel",
    "DensityMatrixOp",
    "UnitaryOp",
    "check_qubit_count",
    "check_qubits",
    "check_unitary_op",
    "check_unitary_ops",
    "state_qubit_count",
]

#: ``(qubits, matrix)``: a matrix of shape ``(2**k, 2**k)`` on ``k`` distinct qubits.
UnitaryOp: TypeAlias = tuple[Sequence[int], np.ndarray]

#: Largest state vector the simulator allocates (2**30 complex128 amplitudes = 16 GiB).
MAX_STATEVECTOR_QUBITS = 30

#: Absolute tolerance of the trace-preservation check of a channel.
_TRACE_PRESERVATION_ATOL = 1e-8


def state_qubit_count(vector: np.ndarray, *, per_qubit_dimension: int = 2) -> int:
    """The number of qubits ``n`` of a vector of length ``per_qubit_dimension**n``.

    Args:
        vector: a state vector (``per_qubit_dimension=2``) or a vectorised density matrix (4).
    Raises:
        InvalidProgramError: ``vector`` is not 1-D or its length is not such a power.
    """
    if vector.ndim != 1:
        raise InvalidProgramError(f"expected a 1-D vector, got shape {vector.shape}")
    size = vector.shape[0]
    bits = size.bit_length() - 1
    bits_per_qubit = per_qubit_dimension.bit_length() - 1
    if size < 1 or size != 1 << bits or bits % bits_per_qubit:
        raise InvalidProgramError(f"vector length {size} is not a power of {per_qubit_dimension}")
    return bits // bits_per_qubit


def check_qubit_count(qubit_count: int, *, maximum: int = MAX_STATEVECTOR_QUBITS) -> int:
    """Checks a register width.

    Raises:
        InvalidProgramError: ``qubit_count`` is not an integer >= 1.
        ResourceExhaustedError: ``qubit_count`` exceeds ``maximum``.
    """
    if isinstance(qubit_count, bool) or int(qubit_count) != qubit_count or qubit_count < 1:
        raise InvalidProgramError(f"qubit_count must be an integer >= 1, got {qubit_count!r}")
    if qubit_count > maximum:
        raise ResourceExhaustedError(
            f"{qubit_count} qubits exceed this simulator's limit of {maximum}"
        )
    return int(qubit_count)


def check_qubits(qubit_count: int, qubits: Sequence[int], *, what: str) -> tuple[int, ...]:
    """Checks that ``qubits`` are distinct indices in ``[0, qubit_count)``.

    Args:
        what: names the operation in error messages, e.g. ``"operation 3"``.
    Raises:
        InvalidProgramError: a qubit is not an integer, repeated, or out of range.
    """
    try:
        checked = tuple(map(operator.index, qubits))
    except TypeError:
        raise InvalidProgramError(f"{what}: qubits must be integers, got {qubits!r}") from None
    if not checked:
        raise InvalidProgramError(f"{what}: acts on no qubits")
    if len(set(checked)) != len(checked):
        raise InvalidProgramError(f"{what}: qubits {checked} are not distinct")
    if min(checked) < 0 or max(checked) >= qubit_count:
        bad = [q for q in checked if not 0 <= q < qubit_count]
        raise InvalidProgramError(
            f"{what}: qubit(s) {bad} out of range for {qubit_count} qubit(s) "
            f"(valid: 0..{qubit_count - 1})"
        )
    return checked


def _check_square(matrix: object, arity: int, *, what: str) -> np.ndarray:
    array = np.asarray(matrix)
    dim = 1 << arity
    if array.shape != (dim, dim):
        raise InvalidProgramError(
            f"{what}: a matrix on {arity} qubit(s) must have shape ({dim}, {dim}), "
            f"got {array.shape}"
        )
    if array.dtype.kind not in "biufc" or not np.isfinite(array).all():
        raise InvalidProgramError(f"{what}: the matrix must hold finite numbers")
    return array.astype(np.complex128, copy=False)


def check_unitary_op(qubit_count: int, op: UnitaryOp, *, what: str
                     ) -> tuple[tuple[int, ...], np.ndarray]:
    """Checks one ``(qubits, matrix)`` operation (shape, qubits, finiteness; not unitarity).

    Args:
        what: names the operation in error messages, e.g. ``"operation 3"``.
    Returns:
        ``(qubit tuple, complex128 matrix)``.
    Raises:
        InvalidProgramError: the operation is malformed.
    """
    if isinstance(op, Channel):
        raise InvalidProgramError(f"{what}: a noise channel needs the density-matrix simulator")
    try:
        qubits, matrix = op
    except (TypeError, ValueError):
        raise InvalidProgramError(
            f"{what}: expected a (qubits, matrix) pair, got {type(op).__name__}"
        ) from None
    checked = check_qubits(qubit_count, qubits, what=what)
    return checked, _check_square(matrix, len(checked), what=what)


def check_unitary_ops(qubit_count: int, ops: Iterable[UnitaryOp]
                      ) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Checks every operation of a program; see :func:`check_unitary_op`.

    Raises:
        InvalidProgramError: the first bad operation, by index.
    """
    return [check_unitary_op(qubit_count, op, what=f"operation {index}")
            for index, op in enumerate(ops)]


@dataclass(frozen=True, eq=False)
class Channel:
    """A completely positive, trace-preserving map given by Kraus operators.

    ``rho -> sum_i K_i rho K_i^†`` (Nielsen & Chuang, *Quantum Computation and Quantum
    Information*, §8.2.3).

    Attributes:
        qubits: the ``k`` distinct qubits it acts on; the first is the most significant bit of
            the Kraus matrices' index.
        kraus_operators: complex128 matrices, each ``(2**k, 2**k)``.
        superoperator: ``sum_i K_i ⊗ conj(K_i)``, shape ``(4**k, 4**k)``: the channel acting on a
            vectorised density matrix whose row index is the most significant part (see
            :mod:`quantum_service.simulator.density_matrix`). Computed once.
    Raises:
        InvalidProgramError: no operators, a bad shape, repeated qubits, or
            ``sum_i K_i^† K_i != I`` (not trace preserving).
    """

    qubits: tuple[int, ...]
    kraus_operators: tuple[np.ndarray, ...]
    superoperator: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        qubits = check_qubits(1 << 62, self.qubits, what="channel")
        if not self.kraus_operators:
            raise InvalidProgramError("channel: needs at least one Kraus operator")
        kraus = tuple(
            _check_square(k, len(qubits), what=f"channel Kraus operator {i}").copy()
            for i, k in enumerate(self.kraus_operators)
        )
        for k in kraus:
            k.setflags(write=False)
        dim = 1 << len(qubits)
        completeness = sum(k.conj().T @ k for k in kraus)
        if not np.allclose(completeness, np.eye(dim), rtol=0.0, atol=_TRACE_PRESERVATION_ATOL):
            raise InvalidProgramError(
                "channel: the Kraus operators are not trace preserving "
                f"(max |sum K^dagger K - I| = {np.max(np.abs(completeness - np.eye(dim))):.3g})"
            )
        superoperator = sum(np.kron(k, k.conj()) for k in kraus)
        superoperator.setflags(write=False)
        object.__setattr__(self, "qubits", qubits)
        object.__setattr__(self, "kraus_operators", kraus)
        object.__setattr__(self, "superoperator", superoperator)

    def remap(self, qubits: Sequence[int]) -> Channel:
        """The same channel on other qubits."""
        return Channel(tuple(qubits), self.kraus_operators)


#: An operation of the density-matrix simulator.
DensityMatrixOp: TypeAlias = UnitaryOp | Channel
