"""CompileTarget validation and compile_circuit argument errors."""

from __future__ import annotations

import pytest

from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.errors import InvalidProgramError


def test_bases_and_entanglers_are_recognised() -> None:
    sc = CompileTarget(5, frozenset({"rz", "sx", "x", "cz"}), ((0, 1), (1, 2)))
    assert (sc.one_qubit_basis, sc.entangler, sc.all_to_all) == ("sx", "cz", False)
    ion = CompileTarget(3, frozenset({"r", "rz", "rxx"}))
    assert (ion.one_qubit_basis, ion.entangler, ion.all_to_all) == ("r", "rxx", True)
    lists = CompileTarget(3, {"rz", "sx", "ecr"}, [[0, 1], [1, 2]])  # type: ignore[arg-type]
    assert lists.coupling_map == ((0, 1), (1, 2))
    assert lists.native_gates == frozenset({"rz", "sx", "ecr"})


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"qubit_count": 0, "native_gates": frozenset({"rz", "sx"})}, "INVALID_TARGET"),
    ({"qubit_count": 2, "native_gates": frozenset({"rz", "sx", "magic"})},
     "UNSUPPORTED_NATIVE_GATES"),
    ({"qubit_count": 2, "native_gates": frozenset({"sx", "x", "cz"})}, "UNSUPPORTED_NATIVE_GATES"),
    ({"qubit_count": 2, "native_gates": frozenset({"rz", "cz"})}, "UNSUPPORTED_NATIVE_GATES"),
    ({"qubit_count": 2, "native_gates": frozenset({"rz", "sx"}), "coupling_map": ((0, 2),)},
     "INVALID_COUPLING_MAP"),
    ({"qubit_count": 2, "native_gates": frozenset({"rz", "sx"}), "coupling_map": ((1, 1),)},
     "INVALID_COUPLING_MAP"),
])
def test_invalid_targets_are_rejected(kwargs: dict, reason: str) -> None:
    with pytest.raises(InvalidProgramError) as info:
        CompileTarget(**kwargs)
    assert info.value.reason == reason


def test_two_qubit_gate_without_a_native_entangler_is_rejected() -> None:
    target = CompileTarget(2, frozenset({"rz", "sx"}))
    compiled = compile_circuit(Circuit(2, (Operation("h", (0,)),)), target)
    assert {op.name for op in compiled.circuit.operations} <= {"rz", "sx"}
    with pytest.raises(InvalidProgramError, match="two-qubit native gate") as info:
        compile_circuit(Circuit(2, (Operation("cx", (0, 1)),)), target)
    assert info.value.reason == "UNSUPPORTED_NATIVE_GATES"


def test_bad_optimization_level_and_unknown_gates_are_rejected() -> None:
    target = CompileTarget(2, frozenset({"rz", "sx", "cz"}))
    with pytest.raises(InvalidProgramError) as info:
        compile_circuit(Circuit(1), target, optimization_level=7)
    assert info.value.reason == "INVALID_OPTIMIZATION_LEVEL"
    with pytest.raises(InvalidProgramError) as info:
        compile_circuit(Circuit(1, (Operation("warp", (0,)),)), target)
    assert info.value.reason == "UNKNOWN_GATE"
