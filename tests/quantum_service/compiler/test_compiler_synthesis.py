"""Building blocks: ZYZ angles, single-qubit synthesis, gate decompositions."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from compiler_helpers import equal_up_to_phase
from scipy.stats import unitary_group

from quantum_service.circuits.gates import GATES, controlled, gate_matrix
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import circuit_unitary
from quantum_service.compiler.decompose import (
    CANONICAL_2Q,
    controlled_1q,
    decompose_operations,
    multi_controlled_phase,
    validate_operation,
)
from quantum_service.compiler.euler import synthesize_1q, zyz_angles
from quantum_service.errors import InvalidProgramError

RNG = np.random.default_rng(20240601)
RANDOM_UNITARIES = [unitary_group.rvs(2, random_state=RNG) for _ in range(6)]


def product(ops: list[Operation]) -> np.ndarray:
    total = np.eye(2, dtype=np.complex128)
    for op in ops:
        total = gate_matrix(op.name, op.bound_params({})) @ total
    return total


@pytest.mark.parametrize("index", range(len(RANDOM_UNITARIES)))
def test_zyz_angles_reproduce_the_unitary(index: int) -> None:
    u = RANDOM_UNITARIES[index]
    theta, phi, lam = zyz_angles(u)
    assert 0 <= theta <= math.pi
    assert equal_up_to_phase(gate_matrix("u", [theta, phi, lam]), u, atol=1e-10)


@pytest.mark.parametrize("matrix", [np.eye(2), gate_matrix("x"), gate_matrix("y"),
                                    gate_matrix("z"), gate_matrix("h"), gate_matrix("sx")])
def test_zyz_angles_of_degenerate_cases(matrix: np.ndarray) -> None:
    assert equal_up_to_phase(gate_matrix("u", list(zyz_angles(matrix))), matrix, atol=1e-10)


def test_zyz_rejects_a_non_unitary() -> None:
    with pytest.raises(InvalidProgramError):
        zyz_angles(np.array([[1, 1], [0, 1]]))


@pytest.mark.parametrize("basis", ["r", "sx", "rx", "ry"])
@pytest.mark.parametrize("index", range(len(RANDOM_UNITARIES)))
def test_synthesis_is_exact_and_native(basis: str, index: int) -> None:
    u = RANDOM_UNITARIES[index]
    ops = synthesize_1q(u, 3, basis=basis, use_x=True)
    assert {op.name for op in ops} <= {"rz", basis, "x"}
    assert all(op.qubits == (3,) for op in ops)
    assert equal_up_to_phase(product(ops), u, atol=1e-10)
    # pulses: one for r/rx/ry, at most two sx
    assert sum(op.name != "rz" for op in ops) <= (2 if basis == "sx" else 1)


@pytest.mark.parametrize("basis", ["r", "sx", "rx", "ry"])
def test_synthesis_special_cases(basis: str) -> None:
    assert synthesize_1q(np.eye(2), 0, basis=basis) == []
    assert synthesize_1q(-1j * np.eye(2), 0, basis=basis) == []
    diagonal = synthesize_1q(gate_matrix("t"), 0, basis=basis)
    assert [op.name for op in diagonal] == ["rz"]
    assert diagonal[0].params[0].constant == pytest.approx(math.pi / 4)


def test_superconducting_special_cases() -> None:
    assert [op.name for op in synthesize_1q(gate_matrix("x"), 0, basis="sx", use_x=True)] == ["x"]
    assert [op.name for op in synthesize_1q(gate_matrix("sx"), 0, basis="sx")] == ["sx"]
    hadamard = synthesize_1q(gate_matrix("h"), 0, basis="sx")
    assert [op.name for op in hadamard] == ["rz", "sx", "rz"]  # H ∝ Rz(π/2)·SX·Rz(π/2)
    y_without_x = synthesize_1q(gate_matrix("y"), 0, basis="sx", use_x=False)
    assert sum(op.name == "sx" for op in y_without_x) == 2


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_multi_controlled_phase(m: int) -> None:
    qubits = tuple(int(q) for q in RNG.permutation(m + 1)[:m])
    angle = 0.7 * ParameterExpression.symbol("lam") - 0.2
    ops = multi_controlled_phase(qubits, angle)
    assert sum(op.name == "cx" for op in ops) == 2**m - 2
    u = circuit_unitary(Circuit(m + 1, tuple(ops)), {"lam": 1.3})
    phase = 0.7 * 1.3 - 0.2
    expected = np.diag([np.exp(1j * phase) if all(i >> q & 1 for q in qubits) else 1.0
                        for i in range(2 ** (m + 1))])
    assert equal_up_to_phase(u, expected, atol=1e-10)


def test_controlled_hadamard_costs_one_cz_and_generic_controlled_u_two_cx() -> None:
    ops = controlled_1q(1, 0, gate_matrix("h"))
    assert [op.name for op in ops].count("cz") == 1
    assert not any(op.name == "cx" for op in ops)
    u = circuit_unitary(Circuit(2, tuple(ops)))
    # controlled(H) with control 1, target 0 -> qubit 1 is the matrix's first (MSB) qubit
    assert equal_up_to_phase(u, controlled(gate_matrix("h")), atol=1e-10)
    generic = RANDOM_UNITARIES[0]
    ops = controlled_1q(0, 1, generic)
    assert [op.name for op in ops].count("cx") == 2
    swap = gate_matrix("swap")
    assert equal_up_to_phase(circuit_unitary(Circuit(2, tuple(ops))),
                             swap @ controlled(generic) @ swap, atol=1e-10)


def test_controlled_phase_of_identity_is_a_control_phase_only() -> None:
    ops = controlled_1q(0, 1, np.exp(0.4j) * np.eye(2))
    assert [op.name for op in ops] == ["rz"]
    expected = np.diag([1, np.exp(0.4j), 1, np.exp(0.4j)])  # phase when qubit 0 is 1
    assert equal_up_to_phase(circuit_unitary(Circuit(2, tuple(ops))), expected)


GATE_CASES = [(name, symbolic) for name, spec in sorted(GATES.items())
              for symbolic in ([False, True] if spec.param_count else [False])]


@pytest.mark.parametrize(("name", "symbolic"), GATE_CASES)
def test_every_gate_decomposes_exactly(name: str, symbolic: bool) -> None:
    spec = GATES[name]
    n = spec.qubit_count + 1
    rng = np.random.default_rng(zlib.crc32(f"{name}/{symbolic}".encode()))
    qubits = tuple(int(q) for q in rng.permutation(n)[:spec.qubit_count])
    values = {f"t{i}": float(rng.uniform(-4, 4)) for i in range(spec.param_count)}
    params = tuple(
        1.5 * ParameterExpression.symbol(f"t{i}") + 0.2 if symbolic
        else ParameterExpression(values[f"t{i}"]) for i in range(spec.param_count))
    source = Circuit(n, (Operation(name, qubits, params),))
    ops = decompose_operations(source.operations)
    for op in ops:
        assert len(op.qubits) == 1 or op.name in CANONICAL_2Q, op
        if op.is_parametric:
            assert op.name in {"rx", "ry", "rz", "rxx", "ryy", "rzz", "r"}, op
    bound = values if symbolic else {}
    assert equal_up_to_phase(circuit_unitary(source.with_operations(ops), bound),
                             circuit_unitary(source, bound), atol=1e-9)


def test_toffoli_uses_six_cx() -> None:
    ops = decompose_operations([Operation("ccx", (0, 1, 2))])
    assert sum(op.name == "cx" for op in ops) == 6


@pytest.mark.parametrize(("op", "match"), [
    (Operation("nope", (0,)), "unknown gate"),
    (Operation("cx", (0,)), "takes 2 qubit"),
    (Operation("rz", (0,)), "parameter"),
    (Operation("h", (5,)), "outside"),
    (Operation("rz", (0,), (ParameterExpression(float("nan")),)), "non-finite"),
    (Operation("rz", (0,), (ParameterExpression(0.0, (("a", float("inf")),)),)), "non-finite"),
    (Operation("cx", (1, 1)), "repeats"),
    (Operation("measure", (0,), (), ()), "classical bit"),
    (Operation("measure", (0,), (), (4,)), "classical bit"),
])
def test_validate_operation_rejects_malformed_operations(op: Operation, match: str) -> None:
    with pytest.raises(InvalidProgramError, match=match):
        validate_operation(op, qubit_count=2, clbit_count=1)
