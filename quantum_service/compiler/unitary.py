"""The full unitary of a circuit, in plain NumPy (for equivalence checks, small circuits only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Circuit
from quantum_service.errors import InvalidProgramError

__all__ = ["apply_gate", "circuit_unitary"]

#: Widest circuit :func:`circuit_unitary` accepts (a 2**14-square complex matrix is 4 GiB).
MAX_UNITARY_QUBITS = 12


def apply_gate(matrix: np.ndarray, qubits: Sequence[int], columns: np.ndarray) -> np.ndarray:
    """Applies a ``k``-qubit gate to every column of ``columns``.

    Args:
        matrix: complex, shape ``(2**k, 2**k)``; the first of ``qubits`` is its most significant
            bit.
        qubits: ``k`` distinct qubit indices.
        columns: complex, shape ``(2**n, m)``: ``m`` vectors over ``n`` qubits, qubit 0 the
            least-significant bit of the row index.
    Returns:
        A new complex128 array of the same shape.
    """
    dim, m = columns.shape
    n = dim.bit_length() - 1
    k = len(qubits)
    if k == 1:  # fast path: rows split as (higher bits, qubit bit, lower bits)
        q = qubits[0]
        view = columns.reshape(dim >> (q + 1), 2, (1 << q) * m)
        result: np.ndarray = np.asarray(matrix, dtype=np.complex128) @ view
        return result.reshape(dim, m)
    tensor = columns.reshape((2,) * n + (m,))
    axes = [n - 1 - q for q in qubits]  # qubit q is tensor axis n-1-q (C order, LSB last)
    gate_tensor = np.asarray(matrix, dtype=np.complex128).reshape((2,) * (2 * k))
    moved = np.tensordot(gate_tensor, tensor, axes=(list(range(k, 2 * k)), axes))
    # tensordot puts the gate's output axes first; move them back where they came from.
    result = np.moveaxis(moved, list(range(k)), axes)
    return result.reshape(dim, m)


def circuit_unitary(circuit: Circuit,
                    values: Sequence[float] | Mapping[str, float] | None = None) -> np.ndarray:
    """The unitary a circuit implements, ignoring ``measure`` and ``barrier``.

    Args:
        circuit: at most :data:`MAX_UNITARY_QUBITS` qubits, no ``reset``.
        values: values of the circuit's symbolic parameters (a vector in
            ``circuit.parameters`` order, or a name → value mapping); ``None`` for a circuit
            without symbols.
    Returns:
        complex128 array, shape ``(2**n, 2**n)`` with ``n = circuit.qubit_count``; qubit 0 is the
        least-significant bit of the basis index. Exact, including global phase.
    Raises:
        InvalidProgramError: the circuit contains ``reset``, is too wide, a parameter has no
            value, or a gate is unknown.
    """
    n = circuit.qubit_count
    if n > MAX_UNITARY_QUBITS:
        raise InvalidProgramError(
            f"circuit_unitary builds a dense 2**n matrix; {n} qubits exceed the limit of "
            f"{MAX_UNITARY_QUBITS}"
        )
    mapping = circuit.parameter_map(values) if values is not None else {}
    unitary = np.eye(2**n, dtype=np.complex128)
    for op in circuit.operations:
        if op.name in ("measure", "barrier"):
            continue
        if op.name == "reset":
            raise InvalidProgramError("a circuit with 'reset' has no unitary")
        unitary = apply_gate(gate_matrix(op.name, op.bound_params(mapping)), op.qubits, unitary)
    return unitary
