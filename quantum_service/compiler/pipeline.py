"""The compiler pipeline: validate → decompose → lay out and route → translate → optimise."""

from __future__ import annotations

from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler.cache import CompileCache
from quantum_service.compiler.decompose import decompose_operations, validate_operation
from quantum_service.compiler.layout import (
    CouplingGraph,
    check_routable,
    greedy_layout,
    perfect_layout,
    trivial_layout,
)
from quantum_service.compiler.measurement import (
    place_terminal_measurements,
    split_terminal_measurements,
)
from quantum_service.compiler.operations import gate_depth, is_gate, relabeled
from quantum_service.compiler.optimize import (
    optimize_native,
    peephole,
    synthesize_single_qubit_gates,
)
from quantum_service.compiler.region import connected_regions, region_graph
from quantum_service.compiler.routing import RoutedCircuit, refine_layout, route
from quantum_service.compiler.target import CompiledCircuit, CompileTarget
from quantum_service.compiler.translate import translate_operations
from quantum_service.errors import InvalidProgramError

__all__ = ["COMPILE_CACHE", "COMPILE_CACHE_BYTES", "COMPILE_CACHE_SIZE", "OPTIMIZATION_LEVELS",
           "compile_circuit"]

#: Accepted ``optimization_level`` values.
OPTIMIZATION_LEVELS = (0, 1, 2, 3)

# VF2 state expansions allowed in the search for a SWAP-free layout, per optimisation level
# (Qiskit's preset pass managers: ``get_vf2_limits``).
_VF2_CALL_LIMITS = {1: 50_000, 2: 5_000_000, 3: 30_000_000}

# Bidirectional SABRE layout-refinement rounds per optimisation level.
_REFINEMENT_ROUNDS = {0: 0, 1: 2, 2: 4, 3: 6}

#: Densest connected regions routed on when a circuit must fit the target's simulable width.
_REGION_CANDIDATES = 6


def compile_circuit(circuit: Circuit, target: CompileTarget, *, optimization_level: int = 1
                    ) -> CompiledCircuit:
    """Compiles a circuit for a QPU: native gates, routed on its coupling map.

    Symbolic parameters stay symbolic: every compiled gate with a symbolic parameter is ``rz``,
    ``rx``, ``ry``, ``rxx``, ``rzz`` (those native to the target) or ``r`` with a symbolic θ and a
    constant φ, and its parameter is an affine expression of the source's symbols, so the
    two-term parameter-shift rule applies and a session only rebinds values.

    Steps: every gate is decomposed into one- and two-qubit gates
    (:mod:`~quantum_service.compiler.decompose`); on a coupling map, an initial layout is chosen
    (optimisation level 0: trivial, when routable; otherwise interaction-aware greedy placement
    refined by SABRE's bidirectional search) and SWAPs are inserted by SABRE
    (:mod:`~quantum_service.compiler.routing`); gates are translated to the native set
    (:mod:`~quantum_service.compiler.translate`); single-qubit runs are synthesised and, at
    level >= 1, merged, with adjacent rotations merged and inverse pairs cancelled
    (:mod:`~quantum_service.compiler.optimize`). ``barrier`` and ``id`` are dropped. Terminal
    measurements (no gate or ``reset`` follows on their qubit) are taken out before routing and
    appended after the last operation, on the physical qubit where their logical qubit ends
    (deferred measurement, :mod:`~quantum_service.compiler.measurement`), so routing SWAPs
    through a measured qubit cannot change what a classical bit reads; other ``measure`` and
    ``reset`` operations are kept on the physical qubit holding their logical qubit at that
    point. When ``target.max_active_qubits`` is smaller than the device and routing on the
    whole coupling map would act on more qubits than that, layout and routing are confined to
    a dense connected region of that many qubits (:mod:`~quantum_service.compiler.region`).

    Args:
        circuit: the source circuit on logical qubits.
        target: the QPU's qubit count, native gates, coupling map and simulable width.
        optimization_level: 0 (no optimisation), 1 (default), 2 or 3 (more layout search).
    Returns:
        The compiled circuit, equal to the source up to global phase once qubits are mapped
        through the layouts.
    Raises:
        InvalidProgramError: the circuit is wider than the target (reason ``TOO_MANY_QUBITS``);
            a malformed operation or unknown gate; the coupling map cannot connect interacting
            qubits (reason ``UNROUTABLE``); the native set lacks a needed gate (reason
            ``UNSUPPORTED_NATIVE_GATES``); a bad ``optimization_level``.
    Compilation is deterministic, so results are memoised per ``(circuit, target, level)`` in
    :data:`COMPILE_CACHE` (LRU, at most :data:`COMPILE_CACHE_SIZE` entries and
    :data:`COMPILE_CACHE_BYTES` estimated retained bytes): the scheduler's placement estimate
    and the chosen driver's ``prepare`` compile a job once between them.
    """
    if optimization_level not in OPTIMIZATION_LEVELS:
        raise InvalidProgramError(
            f"optimization_level must be one of {OPTIMIZATION_LEVELS}, got {optimization_level}",
            reason="INVALID_OPTIMIZATION_LEVEL",
        )
    return COMPILE_CACHE.get_or_compile(
        circuit, (circuit, target, optimization_level),
        lambda: _compile(circuit, target, optimization_level))


#: Compiled circuits kept by :func:`compile_circuit`'s memo, at most.
COMPILE_CACHE_SIZE = 256
#: Estimated bytes (:func:`~quantum_service.compiler.cache.retained_bytes`) the memo keeps
#: alive, at most: about 650 000 kept operations.
COMPILE_CACHE_BYTES = 128 * 1024 * 1024
#: :func:`compile_circuit`'s memo.
COMPILE_CACHE = CompileCache(max_entries=COMPILE_CACHE_SIZE, max_bytes=COMPILE_CACHE_BYTES)


def _compile(circuit: Circuit, target: CompileTarget, optimization_level: int
             ) -> CompiledCircuit:
    logical_count, physical_count = circuit.qubit_count, target.qubit_count
    if logical_count > physical_count:
        raise InvalidProgramError(
            f"circuit {circuit.name!r} uses {logical_count} qubits but the target QPU has only "
            f"{physical_count}; reduce the circuit width or choose a larger QPU",
            reason="TOO_MANY_QUBITS",
        )
    for op in circuit.operations:
        validate_operation(op, qubit_count=logical_count, clbit_count=circuit.clbit_count)

    operations, terminal = split_terminal_measurements(decompose_operations(circuit.operations))
    if optimization_level >= 1:
        operations = peephole(operations)

    if target.coupling_map is None:
        initial = final = trivial_layout(physical_count)
        swap_count = 0
    else:
        graph = CouplingGraph.build(physical_count, target.coupling_map)
        routed = _route(operations, terminal, logical_count, graph, target.max_active_qubits,
                        optimization_level)
        operations, initial, final = routed.operations, routed.initial_layout, routed.final_layout
        swap_count = routed.swap_count

    operations = translate_operations(operations, target)
    if optimization_level == 0:
        operations = synthesize_single_qubit_gates(operations, target, merge=False)
    else:
        operations = optimize_native(operations, target)
    operations += place_terminal_measurements(terminal, final)

    return CompiledCircuit(
        circuit=circuit.with_operations(operations, qubit_count=physical_count),
        initial_layout=tuple(initial[:logical_count]),
        final_layout=tuple(final[:logical_count]),
        swap_count=swap_count,
        depth=gate_depth(operations),
    )


def _route(operations: list[Operation], terminal: list[Operation], logical_count: int,
           graph: CouplingGraph, max_active: int | None, optimization_level: int
           ) -> RoutedCircuit:
    """Lays out and routes on the whole coupling map; when that makes more than
    ``max_active`` physical qubits active although the circuit acts on at most ``max_active``
    logical qubits, routes instead inside the connected region of ``max_active`` qubits (among
    the :data:`_REGION_CANDIDATES` densest, :func:`~.region.connected_regions`) that needs the
    fewest SWAPs."""
    layout = _initial_layout(operations, logical_count, graph, optimization_level)
    routed = route(operations, layout, graph)
    if max_active is None or max_active >= graph.qubit_count:
        return routed
    used = sorted({q for op in operations + terminal for q in op.qubits})
    active = ({q for op in routed.operations for q in op.qubits}
              | {routed.final_layout[q] for op in terminal for q in op.qubits})
    if len(active) <= max_active or len(used) > max_active:
        return routed
    best: RoutedCircuit | None = None
    for region in connected_regions(graph, max_active)[:_REGION_CANDIDATES]:
        candidate = _route_in_region(operations, used, logical_count, graph, region,
                                     optimization_level)
        if best is None or candidate.swap_count < best.swap_count:
            best = candidate
    return routed if best is None else best


def _route_in_region(operations: list[Operation], used: list[int], logical_count: int,
                     graph: CouplingGraph, region: tuple[int, ...], optimization_level: int
                     ) -> RoutedCircuit:
    """Routes the ``used`` logical qubits inside ``region``; logical qubits without operations
    take the physical qubits outside it first, then the region's spare ones."""
    sub = region_graph(graph, region)
    local = {v: i for i, v in enumerate(used)}
    compact = [relabeled(op, local) for op in operations]
    # no SWAP-free search here: the whole coupling map's found none, and a region is a subgraph
    layout = _initial_layout(compact, len(used), sub, optimization_level, perfect=False)
    routed = route(compact, layout, sub)
    ops = [relabeled(op, region) for op in routed.operations]
    inside = set(region)
    # (start, end) physical qubit of each slot an unused logical qubit can take
    slots = [(p, p) for p in range(graph.qubit_count) if p not in inside]
    slots += [(region[routed.initial_layout[j]], region[routed.final_layout[j]])
              for j in range(len(used), len(region))]
    initial, final = [0] * logical_count, [0] * logical_count
    for v in range(logical_count):
        if v in local:
            j = local[v]
            initial[v] = region[routed.initial_layout[j]]
            final[v] = region[routed.final_layout[j]]
        else:
            initial[v], final[v] = slots.pop(0)
    initial += [start for start, _ in slots]
    final += [end for _, end in slots]
    return RoutedCircuit(ops, initial, final, routed.swap_count)


def _initial_layout(operations: list[Operation], logical_count: int, graph: CouplingGraph,
                    optimization_level: int, *, perfect: bool = True) -> list[int]:
    """The starting ``v2p`` (a permutation of the physical qubits) for routing; ``perfect``:
    first look for a SWAP-free one (:func:`~.layout.perfect_layout`)."""
    pairs = [(op.qubits[0], op.qubits[1]) for op in operations
             if is_gate(op) and len(op.qubits) == 2]
    trivial = trivial_layout(graph.qubit_count)
    try:
        check_routable(pairs, trivial, graph)
        trivial_ok = True
    except InvalidProgramError:
        trivial_ok = False
    if optimization_level == 0 and trivial_ok:
        return trivial
    if perfect and optimization_level > 0:
        found = perfect_layout(pairs, logical_count, graph,
                               call_limit=_VF2_CALL_LIMITS[optimization_level])
        if found is not None:
            return found
    rounds = _REFINEMENT_ROUNDS[optimization_level]
    layout, swaps = refine_layout(operations, greedy_layout(pairs, logical_count, graph), graph,
                                  rounds=rounds)
    if optimization_level >= 2 and trivial_ok and swaps > 0:
        alternative, alternative_swaps = refine_layout(operations, trivial, graph, rounds=rounds)
        if alternative_swaps < swaps:
            layout = alternative
    return layout
