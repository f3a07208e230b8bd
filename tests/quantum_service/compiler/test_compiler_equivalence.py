"""End-to-end: compiled circuits equal their source (up to global phase and qubit layout) for
every native gate set and topology, with symbolic parameters bound only after compiling."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from compiler_helpers import (
    GRID_2X3,
    GRID_3X3,
    LINE_6,
    NATIVE_SETS,
    apply_circuit,
    assert_equivalent,
    assert_native,
    assert_shift_rule_invariant,
    assert_two_qubit_gates_on_edges,
    layout_isometry,
    random_circuit,
    random_values,
)

from quantum_service.circuits.gates import GATES
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import CompileTarget, circuit_unitary, compile_circuit

TOPOLOGIES = {"grid_2x3": GRID_2X3, "line_6": LINE_6, "all_to_all": None}


@pytest.mark.parametrize("level", [0, 1])
@pytest.mark.parametrize("topology", sorted(TOPOLOGIES))
@pytest.mark.parametrize("native_set", sorted(NATIVE_SETS))
def test_random_circuits_compile_exactly(native_set: str, topology: str, level: int) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{native_set}/{topology}/{level}".encode()))
    natives, edges = NATIVE_SETS[native_set], TOPOLOGIES[topology]
    target = CompileTarget(6, natives, edges)
    source = random_circuit(rng, 6, 16)
    compiled = compile_circuit(source, target, optimization_level=level)

    assert compiled.circuit.qubit_count == 6
    assert compiled.circuit.parameters == source.parameters
    assert_native(compiled, natives)
    assert_shift_rule_invariant(compiled)
    if edges is None:
        assert compiled.swap_count == 0
        assert compiled.initial_layout == compiled.final_layout == tuple(range(6))
    else:
        assert_two_qubit_gates_on_edges(compiled, edges)
    for _ in range(2):  # compile once, bind many
        assert_equivalent(source, compiled, random_values(rng, source))


GATE_CASES = [(name, symbolic) for name, spec in sorted(GATES.items())
              for symbolic in ([False, True] if spec.param_count else [False])]


@pytest.mark.parametrize("native_set", sorted(NATIVE_SETS))
def test_every_gate_compiles_for_every_native_set(native_set: str) -> None:
    natives = NATIVE_SETS[native_set]
    rng = np.random.default_rng(zlib.crc32(native_set.encode()))
    for name, symbolic in GATE_CASES:
        spec = GATES[name]
        n = spec.qubit_count
        qubits = tuple(int(q) for q in rng.permutation(n))
        params = tuple(
            rng.uniform(-2, 2) * ParameterExpression.symbol(f"t{i}") + rng.uniform(-1, 1)
            if symbolic else ParameterExpression(rng.uniform(-4, 4))
            for i in range(spec.param_count))
        source = Circuit(n, (Operation(name, qubits, params),))
        compiled = compile_circuit(source, CompileTarget(n, natives))
        assert_native(compiled, natives)
        assert_shift_rule_invariant(compiled)
        assert_equivalent(source, compiled, random_values(rng, source))


@pytest.mark.parametrize("native_set", ["superconducting", "neutral_atom"])
def test_narrow_circuit_on_a_3x3_grid(native_set: str) -> None:
    rng = np.random.default_rng(33)
    natives = NATIVE_SETS[native_set]
    source = random_circuit(rng, 4, 14)
    compiled = compile_circuit(source, CompileTarget(9, natives, GRID_3X3))
    assert compiled.circuit.qubit_count == 9
    assert len(set(compiled.initial_layout)) == 4
    assert_native(compiled, natives)
    assert_shift_rule_invariant(compiled)
    assert_two_qubit_gates_on_edges(compiled, GRID_3X3)
    assert_equivalent(source, compiled, random_values(rng, source))


def _expectation_zz(circuit: Circuit, values: dict[str, float], layout: tuple[int, ...],
                    final: tuple[int, ...], qubits: tuple[int, int]) -> float:
    """<Z_a Z_b> after the circuit from |0...0>, logical qubits mapped through the layouts."""
    start = layout_isometry(layout, circuit.qubit_count)[:, :1]
    state = apply_circuit(circuit, values, start)[:, 0]
    a, b = final[qubits[0]], final[qubits[1]]
    signs = np.array([(-1) ** ((i >> a & 1) + (i >> b & 1)) for i in range(state.size)])
    return float(np.sum(signs * np.abs(state) ** 2))


@pytest.mark.parametrize(("native_set", "edges"), [
    ("superconducting", ((0, 1), (1, 2))),
    ("trapped_ion", None),
])
def test_parameter_shift_on_compiled_gates_gives_the_source_gradient(
        native_set: str, edges: tuple[tuple[int, int], ...] | None) -> None:
    t0, t1, t2 = (ParameterExpression.symbol(s) for s in ("t0", "t1", "t2"))
    source = Circuit(3, (
        Operation("ry", (0,), (t0,)), Operation("rx", (1,), (2 * t1 + 0.3,)),
        Operation("cx", (0, 2)), Operation("crz", (1, 2), (t0 - t1,)),
        Operation("u3", (2,), (t2, ParameterExpression(0.2), t0)),
        Operation("rzz", (0, 2), (t1,)), Operation("cp", (0, 1), (t2,)),
        Operation("r", (1,), (t2, ParameterExpression(0.4))),
    ))
    compiled = compile_circuit(source, CompileTarget(3, NATIVE_SETS[native_set], edges))
    assert_shift_rule_invariant(compiled)
    values = {"t0": 0.37, "t1": -1.1, "t2": 0.8}
    identity = tuple(range(3))
    pair = (0, 2)

    def source_energy(vals: dict[str, float]) -> float:
        return _expectation_zz(source, vals, identity, identity, pair)

    def compiled_energy(circuit: Circuit) -> float:
        return _expectation_zz(circuit, values, compiled.initial_layout, compiled.final_layout,
                               pair)

    assert compiled_energy(compiled.circuit) == pytest.approx(source_energy(values), abs=1e-9)
    gradient = dict.fromkeys(values, 0.0)
    ops = list(compiled.circuit.operations)
    for index, op in enumerate(ops):
        if not op.is_parametric:
            continue
        shifted = []
        for shift in (math.pi / 2, -math.pi / 2):
            new_op = Operation(op.name, op.qubits, (op.params[0] + shift,) + op.params[1:])
            shifted.append(compiled_energy(
                compiled.circuit.with_operations(ops[:index] + [new_op] + ops[index + 1:])))
        for symbol, coefficient in op.params[0].terms:
            gradient[symbol] += coefficient * (shifted[0] - shifted[1]) / 2
    step = 1e-5
    for symbol, value in values.items():
        up = dict(values, **{symbol: value + step})
        down = dict(values, **{symbol: value - step})
        finite_difference = (source_energy(up) - source_energy(down)) / (2 * step)
        assert gradient[symbol] == pytest.approx(finite_difference, abs=1e-6)


def test_unbound_source_matches_compiled_at_several_points() -> None:
    theta = ParameterExpression.symbol("theta")
    source = Circuit(2, (Operation("h", (0,)), Operation("crx", (0, 1), (theta,))))
    compiled = compile_circuit(source, CompileTarget(2, NATIVE_SETS["superconducting"]))
    for value in (-2.0, 0.0, 0.5, math.pi):
        assert_equivalent(source, compiled, {"theta": value})
    assert not np.allclose(circuit_unitary(compiled.circuit, {"theta": 0.5}),
                           circuit_unitary(compiled.circuit, {"theta": 0.6}))


@pytest.mark.parametrize("natives", [
    frozenset({"rz", "sx", "cx"}),
    frozenset({"rz", "rx", "cz"}),
    frozenset({"rz", "ry", "rzz"}),
    frozenset({"rz", "r", "rzz", "rxx"}),
    frozenset({"rz", "sx", "x", "rx", "ry", "cz", "rxx", "rzz"}),
], ids=lambda natives: "-".join(sorted(natives)))
def test_other_supported_native_sets(natives: frozenset[str]) -> None:
    rng = np.random.default_rng(zlib.crc32("-".join(sorted(natives)).encode()))
    source = random_circuit(rng, 4, 14)
    compiled = compile_circuit(source, CompileTarget(4, natives, ((0, 1), (1, 2), (2, 3))))
    assert_native(compiled, natives)
    assert_shift_rule_invariant(compiled)
    assert_equivalent(source, compiled, random_values(rng, source))
