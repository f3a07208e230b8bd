"""Layout, SWAP routing, measurement remapping and the errors of impossible targets."""

from __future__ import annotations

import numpy as np
import pytest
from compiler_helpers import (
    GRID_2X3,
    LINE_6,
    NATIVE_SETS,
    apply_circuit,
    assert_equivalent,
    assert_native,
    assert_two_qubit_gates_on_edges,
    layout_isometry,
    random_circuit,
)

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import CompileTarget, circuit_unitary, compile_circuit
from quantum_service.compiler.layout import CouplingGraph, greedy_layout
from quantum_service.compiler.routing import route
from quantum_service.errors import InvalidProgramError

SC = NATIVE_SETS["superconducting"]


def cx(a: int, b: int) -> Operation:
    return Operation("cx", (a, b))


def test_too_wide_circuit_is_rejected() -> None:
    source = Circuit(7, (Operation("h", (6,)),))
    with pytest.raises(InvalidProgramError, match=r"7 qubits.*only 6") as info:
        compile_circuit(source, CompileTarget(6, SC, GRID_2X3))
    assert info.value.reason == "TOO_MANY_QUBITS"
    with pytest.raises(InvalidProgramError) as info:
        compile_circuit(source, CompileTarget(6, NATIVE_SETS["trapped_ion"]))
    assert info.value.reason == "TOO_MANY_QUBITS"


def test_far_apart_gate_on_a_line_needs_distance_minus_one_swaps() -> None:
    source = Circuit(6, (cx(0, 5),))
    trivial = compile_circuit(source, CompileTarget(6, SC, LINE_6), optimization_level=0)
    assert trivial.initial_layout == tuple(range(6))
    assert trivial.swap_count == 4
    assert_two_qubit_gates_on_edges(trivial, LINE_6)
    assert_equivalent(source, trivial)
    placed = compile_circuit(source, CompileTarget(6, SC, LINE_6), optimization_level=1)
    assert placed.swap_count == 0
    assert abs(placed.initial_layout[0] - placed.initial_layout[5]) == 1


def test_path_interaction_graph_is_placed_without_swaps() -> None:
    # interaction graph 3-0-5-1-4-2 is a path: it embeds into the line exactly
    source = Circuit(6, (cx(3, 0), cx(0, 5), cx(5, 1), cx(1, 4), cx(4, 2), cx(3, 0)))
    compiled = compile_circuit(source, CompileTarget(6, SC, LINE_6))
    assert compiled.swap_count == 0
    assert compiled.initial_layout == compiled.final_layout
    assert_equivalent(source, compiled)


def test_greedy_layout_keeps_interacting_qubits_adjacent_on_a_grid() -> None:
    graph = CouplingGraph.build(6, GRID_2X3)
    pairs = [(0, 1), (1, 2), (2, 3), (3, 0)]  # a 4-cycle fits a 2x2 square of the grid
    layout = greedy_layout(pairs, 4, graph)
    assert sorted(layout) == list(range(6))
    for a, b in pairs:
        assert graph.distances[layout[a], layout[b]] == 1


def test_routing_emits_swaps_on_edges_and_tracks_the_layout() -> None:
    graph = CouplingGraph.build(6, LINE_6)
    ops = [cx(0, 5), cx(1, 4), cx(2, 3), cx(0, 3)]
    routed = route(ops, list(range(6)), graph)
    assert routed.swap_count == sum(op.name == "swap" for op in routed.operations) > 0
    # replay the swaps independently: a swap moves whatever virtual qubit sits on its qubits
    p2v = list(range(6))
    executed = []
    for op in routed.operations:
        assert graph.distances[op.qubits[0], op.qubits[1]] == 1
        if op.name == "swap":
            a, b = op.qubits
            p2v[a], p2v[b] = p2v[b], p2v[a]
        else:
            executed.append(cx(p2v[op.qubits[0]], p2v[op.qubits[1]]))
    # same gates, and on every qubit in the same order (independent gates may be reordered)
    assert sorted(executed, key=repr) == sorted(ops, key=repr)
    for v in range(6):
        assert [op for op in executed if v in op.qubits] == [op for op in ops if v in op.qubits]
    assert [p2v.index(v) for v in range(6)] == routed.final_layout


def test_disconnected_coupling_map_that_cannot_route_raises() -> None:
    two_triangles = ((0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5))
    source = Circuit(4, (cx(0, 1), cx(1, 2), cx(2, 3)))  # 4 interacting qubits, regions of 3
    with pytest.raises(InvalidProgramError, match="disconnected") as info:
        compile_circuit(source, CompileTarget(6, SC, two_triangles))
    assert info.value.reason == "UNROUTABLE"


def test_disconnected_coupling_map_that_fits_is_used() -> None:
    two_triangles = ((0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5))
    source = Circuit(6, (cx(0, 3), cx(3, 5), cx(5, 0), cx(1, 2), cx(2, 4), cx(4, 1)))
    for level in (0, 1, 2):
        compiled = compile_circuit(source, CompileTarget(6, SC, two_triangles),
                                   optimization_level=level)
        assert compiled.swap_count == 0
        assert_two_qubit_gates_on_edges(compiled, two_triangles)
        assert_equivalent(source, compiled)


def test_final_measurements_land_on_the_final_physical_qubits() -> None:
    rng = np.random.default_rng(5)
    source = random_circuit(rng, 6, 12, measure=True)
    compiled = compile_circuit(source, CompileTarget(6, SC, LINE_6))
    assert compiled.swap_count > 0
    assert compiled.circuit.clbit_count == 6
    measured = compiled.circuit.measured_qubits  # ordered by clbit; clbit c measured logical c
    assert measured == compiled.final_layout


def _reduced_density_matrix(state: np.ndarray, qubit: int) -> np.ndarray:
    n = state.size.bit_length() - 1
    tensor = state.reshape((2,) * n)
    axis = n - 1 - qubit
    moved = np.moveaxis(tensor, axis, 0).reshape(2, -1)
    return moved @ moved.conj().T


@pytest.mark.parametrize("kind", ["measure", "reset"])
def test_mid_circuit_operation_is_remapped_to_where_its_qubit_is(kind: str) -> None:
    rng = np.random.default_rng(11)
    prefix = random_circuit(rng, 5, 12, measure=False, symbolic_fraction=0.0)
    suffix = random_circuit(rng, 5, 12, measure=False, symbolic_fraction=0.0)
    middle = Operation(kind, (2,), (), (0,) if kind == "measure" else ())
    source = Circuit(5, prefix.operations + (middle,) + suffix.operations, clbit_count=1)
    compiled = compile_circuit(source, CompileTarget(6, SC, LINE_6))
    assert compiled.swap_count > 0
    ops = list(compiled.circuit.operations)
    assert [op.name for op in ops].count(kind) == 1
    position = next(i for i, op in enumerate(ops) if op.name == kind)
    assert ops[position].clbits == middle.clbits
    physical = ops[position].qubits[0]
    # Independent check: the compiled prefix leaves `physical` in the state logical qubit 2
    # has before the operation (for a random input state).
    psi = rng.normal(size=32) + 1j * rng.normal(size=32)
    psi /= np.linalg.norm(psi)
    start = layout_isometry(compiled.initial_layout, 6) @ psi
    after = apply_circuit(compiled.circuit.with_operations(ops[:position]), {}, start[:, None])
    expected = circuit_unitary(prefix) @ psi
    np.testing.assert_allclose(_reduced_density_matrix(after[:, 0], physical),
                               _reduced_density_matrix(expected, 2), atol=1e-9)


@pytest.mark.parametrize("native_set", sorted(NATIVE_SETS))
def test_higher_levels_do_not_route_worse_than_level_zero_on_average(native_set: str) -> None:
    rng = np.random.default_rng(3)
    swaps = {0: 0, 1: 0}
    for _ in range(3):
        source = random_circuit(rng, 6, 12, measure=False)
        for level in swaps:
            compiled = compile_circuit(source, CompileTarget(6, NATIVE_SETS[native_set],
                                                             GRID_2X3),
                                       optimization_level=level)
            assert_native(compiled, NATIVE_SETS[native_set])
            swaps[level] += compiled.swap_count
    assert swaps[1] <= swaps[0]


def test_symbolic_circuit_routes_on_a_grid() -> None:
    theta = ParameterExpression.symbol("theta")
    source = Circuit(6, (Operation("rzz", (0, 5), (theta,)), Operation("crx", (2, 3), (-theta,))))
    compiled = compile_circuit(source, CompileTarget(6, SC, GRID_2X3), optimization_level=0)
    assert_two_qubit_gates_on_edges(compiled, GRID_2X3)
    assert_equivalent(source, compiled, {"theta": 0.9})
    assert compiled.physical_qubits == tuple(sorted(
        {q for op in compiled.circuit.operations for q in op.qubits}))


def _staggered_measurements() -> Circuit:
    """Logical qubit 0 is measured first; later gates between far-apart qubits make routing
    move qubits through its physical qubit."""
    ops = [Operation("h", (0,)), cx(0, 1), Operation("measure", (0,), (), (2,)),
           Operation("x", (3,)), cx(1, 5), cx(2, 4), cx(5, 3), cx(4, 1), cx(3, 2),
           Operation("measure", (1, 2), (), (0, 3)), cx(5, 4),
           Operation("measure", (3, 4, 5), (), (1, 4, 5))]
    return Circuit(6, tuple(ops), clbit_count=6)


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_terminal_measurements_come_last_on_the_final_physical_qubits(level: int) -> None:
    source = _staggered_measurements()
    compiled = compile_circuit(source, CompileTarget(6, SC, LINE_6), optimization_level=level)
    assert compiled.swap_count > 0
    ops = compiled.circuit.operations
    first = next(i for i, op in enumerate(ops) if op.name == "measure")
    assert all(op.name == "measure" for op in ops[first:])  # deferred past every gate
    read = {c: q for op in ops[first:] for q, c in zip(op.qubits, op.clbits)}
    logical = {c: q for op in source.operations if op.name == "measure"
               for q, c in zip(op.qubits, op.clbits)}
    assert read == {c: compiled.final_layout[q] for c, q in logical.items()}
    # grouping of the source's measure ops is kept
    assert [len(op.qubits) for op in ops[first:]] == [1, 2, 3]
    assert_equivalent(source, compiled)


def test_a_measurement_followed_by_a_gate_is_not_deferred() -> None:
    ops = (Operation("h", (0,)), Operation("measure", (0,), (), (0,)), cx(0, 3),
           Operation("measure", (3,), (), (1,)))
    compiled = compile_circuit(Circuit(4, ops, clbit_count=2), CompileTarget(6, SC, LINE_6))
    names = [op.name for op in compiled.circuit.operations]
    assert names.index("measure") < len(names) - 1  # the mid-circuit one stays in place
    assert compiled.circuit.operations[-1].qubits == (compiled.final_layout[3],)


def _region_is_connected(qubits: set[int], edges: tuple[tuple[int, int], ...]) -> bool:
    seen, frontier = set(), [min(qubits)]
    while frontier:
        p = frontier.pop()
        if p in seen:
            continue
        seen.add(p)
        frontier += [b if a == p else a for a, b in edges if p in (a, b) and {a, b} <= qubits]
    return seen == qubits


GRID_3X3_EDGES = tuple([(r * 3 + c, r * 3 + c + 1) for r in range(3) for c in range(2)]
                       + [(r * 3 + c, (r + 1) * 3 + c) for r in range(2) for c in range(3)])


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_routing_stays_within_the_simulable_width(level: int) -> None:
    rng = np.random.default_rng(0)
    body = random_circuit(rng, 7, 40, symbolic_fraction=0.0,
                          names=["cx", "cz", "h", "rx", "swap", "iswap"])
    # an eighth declared qubit without operations must not count as active
    source = Circuit(8, body.operations, clbit_count=7)
    unlimited = compile_circuit(source, CompileTarget(9, SC, GRID_3X3_EDGES),
                                optimization_level=level)
    assert len({q for op in unlimited.circuit.operations for q in op.qubits}) > 7
    compiled = compile_circuit(source, CompileTarget(9, SC, GRID_3X3_EDGES,
                                                     max_active_qubits=7),
                               optimization_level=level)
    active = {q for op in compiled.circuit.operations for q in op.qubits}
    assert len(active) <= 7 and _region_is_connected(active, GRID_3X3_EDGES)
    assert len(set(compiled.initial_layout)) == 8 == len(set(compiled.final_layout))
    assert compiled.initial_layout[7] == compiled.final_layout[7] not in active
    assert_two_qubit_gates_on_edges(compiled, GRID_3X3_EDGES)
    assert_native(compiled, SC)
    assert_equivalent(source, compiled)


def test_a_circuit_that_fits_is_compiled_as_without_a_width_limit() -> None:
    rng = np.random.default_rng(4)
    source = random_circuit(rng, 4, 20, symbolic_fraction=0.0)
    free = compile_circuit(source, CompileTarget(9, SC, GRID_3X3_EDGES))
    limited = compile_circuit(source, CompileTarget(9, SC, GRID_3X3_EDGES, max_active_qubits=8))
    assert limited.circuit == free.circuit and limited.final_layout == free.final_layout


def test_a_non_positive_width_limit_is_rejected() -> None:
    with pytest.raises(InvalidProgramError) as err:
        CompileTarget(4, SC, LINE_6[:3], max_active_qubits=0)
    assert err.value.reason == "INVALID_TARGET"


def test_a_circuit_on_couplers_keeps_the_trivial_layout() -> None:
    # every gate on a coupler of the 3x3 grid: the author's placement is kept, no SWAP
    from compiler_helpers import GRID_3X3

    source = Circuit(9, tuple(cx(a, b) for a, b in GRID_3X3) + (cx(4, 1),))
    compiled = compile_circuit(source, CompileTarget(9, SC, GRID_3X3))
    assert compiled.swap_count == 0
    assert compiled.initial_layout == tuple(range(9))
    assert_equivalent(source, compiled)


def test_vf2_embeds_a_grid_interaction_graph_without_swaps() -> None:
    # a 3x4 grid program in scrambled logical labels onto a 4x5 device grid
    from quantum_service.compiler.layout import perfect_layout
    from quantum_service.drivers.lattices import square_lattice

    device = square_lattice(4, 5)
    rng = np.random.default_rng(7)
    label = rng.permutation(12)
    program = [(int(label[a]), int(label[b])) for a, b in square_lattice(3, 4)]
    graph = CouplingGraph.build(20, device)
    layout = perfect_layout(program, 12, graph, call_limit=50_000)
    assert layout is not None and sorted(layout) == list(range(20))
    edges = {frozenset(e) for e in device}
    assert all(frozenset((layout[a], layout[b])) in edges for a, b in program)
    ops = []
    for a, b in program:
        ops += [Operation("h", (a,)), cx(a, b)]
    compiled = compile_circuit(Circuit(12, tuple(ops)), CompileTarget(20, SC, device))
    assert compiled.swap_count == 0
    assert_two_qubit_gates_on_edges(compiled, device)


def test_no_swap_free_layout_falls_back_to_routing() -> None:
    # a triangle has no monomorphism into a bipartite grid: VF2 says so, SABRE routes
    from quantum_service.compiler.layout import perfect_layout

    graph = CouplingGraph.build(6, GRID_2X3)
    assert perfect_layout([(0, 1), (1, 2), (2, 0)], 3, graph, call_limit=50_000) is None
    source = Circuit(3, (cx(0, 1), cx(1, 2), cx(2, 0)))
    compiled = compile_circuit(source, CompileTarget(6, SC, GRID_2X3))
    assert compiled.swap_count >= 1
    assert_two_qubit_gates_on_edges(compiled, GRID_2X3)
    assert_equivalent(source, compiled)
