"""Shared helpers for the compiler tests: random circuits, targets and equivalence checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from quantum_service.circuits.gates import GATES, gate_matrix
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import CompiledCircuit, circuit_unitary
from quantum_service.compiler.unitary import apply_gate

NATIVE_SETS: dict[str, frozenset[str]] = {
    "superconducting": frozenset({"rz", "sx", "x", "cz"}),
    "superconducting_ecr": frozenset({"rz", "sx", "x", "ecr"}),
    "trapped_ion": frozenset({"r", "rz", "rxx"}),
    "neutral_atom": frozenset({"rz", "r", "cz"}),
}

#: 2x3 grid:  0-1-2 / 3-4-5 with vertical edges.
GRID_2X3 = ((0, 1), (1, 2), (3, 4), (4, 5), (0, 3), (1, 4), (2, 5))
#: 3x3 grid, row-major.
GRID_3X3 = tuple([(r * 3 + c, r * 3 + c + 1) for r in range(3) for c in range(2)]
                 + [(r * 3 + c, (r + 1) * 3 + c) for r in range(2) for c in range(3)])
LINE_6 = tuple((i, i + 1) for i in range(5))

SHIFT_RULE_NAMES = {"rz", "rx", "ry", "rxx", "rzz"}


def random_circuit(rng: np.random.Generator, qubit_count: int, gate_count: int, *,
                   symbolic_fraction: float = 0.5, names: Sequence[str] | None = None,
                   measure: bool = True) -> Circuit:
    """Random gates from the whole library; parameters are constants or affine expressions
    ``a·θ_k + b`` of fresh symbols; optionally barriers and a final measurement of all qubits."""
    pool = [n for n in (names or sorted(GATES)) if GATES[n].qubit_count <= qubit_count]
    ops: list[Operation] = []
    symbols = 0
    for _ in range(gate_count):
        name = pool[rng.integers(len(pool))]
        spec = GATES[name]
        qubits = tuple(int(q) for q in rng.permutation(qubit_count)[:spec.qubit_count])
        params = []
        for _ in range(spec.param_count):
            if rng.random() < symbolic_fraction:
                expr = (ParameterExpression.symbol(f"theta_{symbols}") * rng.uniform(-2, 2)
                        + rng.uniform(-1, 1))
                symbols += 1
            else:
                expr = ParameterExpression(rng.uniform(-4, 4))
            params.append(expr)
        ops.append(Operation(name, qubits, tuple(params)))
        if rng.random() < 0.1:
            ops.append(Operation("barrier", tuple(range(qubit_count))))
    clbits = 0
    if measure:
        ops.append(Operation("measure", tuple(range(qubit_count)), (),
                             tuple(range(qubit_count))))
        clbits = qubit_count
    return Circuit(qubit_count, tuple(ops), clbits)


def random_values(rng: np.random.Generator, circuit: Circuit) -> dict[str, float]:
    return {name: float(rng.uniform(-np.pi, np.pi)) for name in circuit.parameters}


def layout_isometry(layout: Sequence[int], physical_count: int) -> np.ndarray:
    """Maps logical basis states to physical ones: logical qubit i's bit goes to physical bit
    ``layout[i]``; the other physical qubits are |0>. Shape ``(2**P, 2**n)``."""
    n = len(layout)
    iso = np.zeros((2**physical_count, 2**n), dtype=np.complex128)
    for index in range(2**n):
        physical = sum(1 << layout[q] for q in range(n) if index >> q & 1)
        iso[physical, index] = 1.0
    return iso


def apply_circuit(circuit: Circuit, values: Mapping[str, float], columns: np.ndarray
                  ) -> np.ndarray:
    """Applies the circuit's gates (measure/barrier skipped) to each column."""
    for op in circuit.operations:
        if op.name in ("measure", "barrier"):
            continue
        columns = apply_gate(gate_matrix(op.name, op.bound_params(values)), op.qubits, columns)
    return columns


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, *, atol: float = 1e-8) -> bool:
    index = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    if abs(b[index]) < 1e-12:
        return bool(np.allclose(a, b, atol=atol))
    phase = a[index] / b[index]
    return bool(abs(abs(phase) - 1.0) < atol and np.allclose(a, phase * b, atol=atol))


def assert_equivalent(source: Circuit, compiled: CompiledCircuit,
                      values: Mapping[str, float] | None = None) -> None:
    """``compiled · E(initial) == e^{iα} E(final) · source`` on the logical subspace."""
    values = values or {}
    physical = compiled.circuit.qubit_count
    expected = layout_isometry(compiled.final_layout, physical) @ circuit_unitary(source, values)
    actual = apply_circuit(compiled.circuit, values,
                           layout_isometry(compiled.initial_layout, physical))
    assert equal_up_to_phase(actual, expected), "compiled circuit differs from the source"


def assert_native(compiled: CompiledCircuit, natives: frozenset[str]) -> None:
    names = {op.name for op in compiled.circuit.operations}
    assert names <= natives | {"measure", "reset"}, names - natives


def assert_shift_rule_invariant(compiled: CompiledCircuit) -> None:
    """Every symbolic gate is a shift-rule rotation with an affine symbolic parameter 0."""
    for op in compiled.circuit.operations:
        if not op.is_parametric:
            continue
        assert op.name in SHIFT_RULE_NAMES | {"r"}, op
        assert all(p.is_constant for p in op.params[1:]), op
        assert isinstance(op.params[0], ParameterExpression)
        assert set(op.params[0].symbols) <= set(compiled.circuit.parameters)


def assert_two_qubit_gates_on_edges(compiled: CompiledCircuit,
                                    edges: Sequence[tuple[int, int]]) -> None:
    allowed = {frozenset(e) for e in edges}
    for op in compiled.circuit.operations:
        if op.name not in ("measure", "reset") and len(op.qubits) == 2:
            assert frozenset(op.qubits) in allowed, op
