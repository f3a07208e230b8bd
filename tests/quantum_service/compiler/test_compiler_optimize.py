"""Peephole optimisation and gate counts of the standard decompositions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from compiler_helpers import NATIVE_SETS, assert_equivalent, random_circuit, random_values

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.compiler.optimize import peephole

THETA = ParameterExpression.symbol("theta")
PHI = ParameterExpression.symbol("phi")
SC = NATIVE_SETS["superconducting"]


def op(name: str, *qubits: int, params: tuple[float | ParameterExpression, ...] = ()
       ) -> Operation:
    return Operation(name, qubits, tuple(ParameterExpression.of(p) for p in params))


def names(circuit: Circuit) -> list[str]:
    return [o.name for o in circuit.operations]


def test_adjacent_symbolic_rz_merge_into_one_affine_rz() -> None:
    source = Circuit(1, (op("rz", 0, params=(THETA,)), op("rz", 0, params=(2 * THETA + 0.5,)),
                         op("rz", 0, params=(PHI,))))
    compiled = compile_circuit(source, CompileTarget(1, SC)).circuit
    assert names(compiled) == ["rz"]
    assert compiled.operations[0].params[0] == 3 * THETA + PHI + 0.5


def test_inverse_rotations_and_full_turns_vanish() -> None:
    source = Circuit(2, (
        op("rz", 0, params=(THETA,)), op("rz", 0, params=(-THETA,)),
        op("rz", 1, params=(2 * math.pi,)), op("rx", 1, params=(4 * math.pi,)),
        op("rzz", 0, 1, params=(2 * math.pi,)),
    ))
    for natives in NATIVE_SETS.values():
        assert compile_circuit(source, CompileTarget(2, natives)).circuit.operations == ()


@pytest.mark.parametrize("native_set", sorted(NATIVE_SETS))
def test_self_inverse_pairs_cancel(native_set: str) -> None:
    source = Circuit(2, (op("h", 0), op("h", 0), op("x", 1), op("x", 1), op("cz", 0, 1),
                         op("cz", 1, 0), op("cx", 0, 1), op("cx", 0, 1), op("swap", 0, 1),
                         op("swap", 1, 0)))
    assert compile_circuit(source, CompileTarget(2, NATIVE_SETS[native_set])).circuit.operations \
        == ()


def test_peephole_does_not_merge_across_a_measurement() -> None:
    ops = [op("x", 0), Operation("measure", (0,), (), (0,)), op("x", 0),
           op("rz", 0, params=(THETA,)), op("rz", 0, params=(0.25,))]
    out = peephole(ops)
    assert [o.name for o in out] == ["x", "measure", "x", "rz"]
    assert out[-1].params[0] == THETA + 0.25


def test_peephole_cancels_nested_pairs() -> None:
    ops = [op("x", 0), op("cz", 0, 1), op("rz", 1, params=(0.3,)), op("rz", 1, params=(-0.3,)),
           op("cz", 1, 0), op("x", 0)]
    assert peephole(ops) == []


def test_peephole_keeps_gates_separated_by_another_gate_on_a_shared_qubit() -> None:
    ops = [op("cz", 0, 1), op("sx", 1), op("cz", 0, 1)]
    assert [o.name for o in peephole(ops)] == ["cz", "sx", "cz"]


@pytest.mark.parametrize(("gate", "native_set", "entangler", "count"), [
    ("swap", "superconducting", "cz", 3),
    ("swap", "trapped_ion", "rxx", 3),
    ("iswap", "neutral_atom", "cz", 2),
    ("cx", "trapped_ion", "rxx", 1),
    ("cx", "superconducting_ecr", "ecr", 1),
    ("ecr", "superconducting", "cz", 1),
    ("ccx", "superconducting", "cz", 6),
    ("ch", "superconducting", "cz", 1),
    ("c3x", "neutral_atom", "cz", 14),
])
def test_entangler_counts_of_standard_decompositions(gate: str, native_set: str, entangler: str,
                                                     count: int) -> None:
    arity = {"swap": 2, "iswap": 2, "cx": 2, "ecr": 2, "ch": 2, "ccx": 3, "c3x": 4}[gate]
    source = Circuit(arity, (op(gate, *range(arity)),))
    compiled = compile_circuit(source, CompileTarget(arity, NATIVE_SETS[native_set]))
    assert names(compiled.circuit).count(entangler) == count
    assert_equivalent(source, compiled)


def test_symbolic_rotations_cost_one_shift_rule_gate() -> None:
    source = Circuit(2, (op("rx", 0, params=(THETA,)), op("ry", 1, params=(PHI,)),
                         op("rzz", 0, 1, params=(THETA - PHI,))))
    ion = compile_circuit(source, CompileTarget(2, NATIVE_SETS["trapped_ion"])).circuit
    symbolic = [o for o in ion.operations if o.is_parametric]
    assert [o.name for o in symbolic] == ["r", "r", "rxx"]
    assert symbolic[0].params == (THETA, ParameterExpression(0.0))
    sc = compile_circuit(source, CompileTarget(2, SC)).circuit
    assert [o.name for o in sc.operations if o.is_parametric] == ["rz", "rz", "rz"]
    assert names(sc).count("cz") == 2


def test_depth_counts_native_gate_layers() -> None:
    source = Circuit(2, (op("rz", 0, params=(THETA,)), op("rz", 1, params=(PHI,)),
                         op("cz", 0, 1), op("rz", 1, params=(0.3,)),
                         Operation("measure", (0, 1), (), (0, 1))), clbit_count=2)
    compiled = compile_circuit(source, CompileTarget(2, SC))
    assert names(compiled.circuit) == ["rz", "rz", "cz", "rz", "measure"]
    assert compiled.depth == 3


@pytest.mark.parametrize("native_set", sorted(NATIVE_SETS))
def test_optimisation_never_adds_gates_and_stays_exact(native_set: str) -> None:
    rng = np.random.default_rng(17)
    natives = NATIVE_SETS[native_set]
    for _ in range(3):
        source = random_circuit(rng, 4, 12, measure=False)
        plain = compile_circuit(source, CompileTarget(4, natives), optimization_level=0)
        optimised = compile_circuit(source, CompileTarget(4, natives), optimization_level=1)
        assert optimised.circuit.gate_count <= plain.circuit.gate_count
        assert optimised.depth <= plain.depth
        assert_equivalent(source, optimised, random_values(rng, source))
