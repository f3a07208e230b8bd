"""circuit_unitary against a plain basis-state-by-basis-state NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import circuit_unitary
from quantum_service.errors import InvalidProgramError


def embed(matrix: np.ndarray, qubits: tuple[int, ...], n: int) -> np.ndarray:
    """Reference: the full 2**n matrix of a gate, entry by entry (qubit 0 = LSB of the index;
    the gate's first qubit is its matrix's most significant bit)."""
    k = len(qubits)
    full = np.zeros((2**n, 2**n), dtype=np.complex128)
    for col in range(2**n):
        sub_in = sum(((col >> q) & 1) << (k - 1 - i) for i, q in enumerate(qubits))
        for sub_out in range(2**k):
            row = col
            for i, q in enumerate(qubits):
                bit = (sub_out >> (k - 1 - i)) & 1
                row = (row & ~(1 << q)) | (bit << q)
            full[row, col] += matrix[sub_out, sub_in]
    return full


def test_cx_control_is_first_qubit_and_qubit0_is_lsb() -> None:
    u = circuit_unitary(Circuit(2, (Operation("cx", (0, 1)),)))
    # control qubit 0 (LSB): |q1 q0> = |01> (index 1) -> |11> (index 3)
    expected = np.zeros((4, 4))
    for col, row in {0: 0, 1: 3, 2: 2, 3: 1}.items():
        expected[row, col] = 1
    np.testing.assert_allclose(u, expected, atol=1e-12)


def test_single_qubit_gate_on_msb_is_kron_on_the_left() -> None:
    h = gate_matrix("h")
    u = circuit_unitary(Circuit(2, (Operation("h", (1,)),)))
    np.testing.assert_allclose(u, np.kron(h, np.eye(2)), atol=1e-12)


def test_random_circuit_matches_entrywise_reference() -> None:
    rng = np.random.default_rng(7)
    n = 4
    ops = []
    for name, k, pc in [("u3", 1, 3), ("cx", 2, 0), ("rzz", 2, 1), ("ccx", 3, 0),
                        ("cu", 2, 4), ("cswap", 3, 0), ("iswap", 2, 0), ("ecr", 2, 0)] * 2:
        qubits = tuple(int(q) for q in rng.permutation(n)[:k])
        ops.append(Operation(name, qubits,
                             tuple(ParameterExpression(rng.uniform(-3, 3)) for _ in range(pc))))
    reference = np.eye(2**n, dtype=np.complex128)
    for op in ops:
        reference = embed(gate_matrix(op.name, op.bound_params({})), op.qubits, n) @ reference
    np.testing.assert_allclose(circuit_unitary(Circuit(n, tuple(ops))), reference, atol=1e-10)


def test_symbolic_parameters_are_bound_and_measure_barrier_ignored() -> None:
    theta = ParameterExpression.symbol("theta")
    circuit = Circuit(1, (Operation("rx", (0,), (2 * theta + 0.5,)),
                          Operation("barrier", (0,)),
                          Operation("measure", (0,), (), (0,))), clbit_count=1)
    u = circuit_unitary(circuit, {"theta": 0.3})
    angle = 2 * 0.3 + 0.5
    expected = np.array([[np.cos(angle / 2), -1j * np.sin(angle / 2)],
                         [-1j * np.sin(angle / 2), np.cos(angle / 2)]])
    np.testing.assert_allclose(u, expected, atol=1e-12)
    np.testing.assert_allclose(circuit_unitary(circuit, [0.3]), expected, atol=1e-12)


def test_reset_and_missing_values_are_rejected() -> None:
    with pytest.raises(InvalidProgramError, match="reset"):
        circuit_unitary(Circuit(1, (Operation("reset", (0,)),)))
    theta = ParameterExpression.symbol("theta")
    with pytest.raises(InvalidProgramError, match="theta"):
        circuit_unitary(Circuit(1, (Operation("rz", (0,), (theta,)),)))
