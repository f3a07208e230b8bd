"""SWAP insertion on a coupling map: the SABRE heuristic.

Li, Ding and Xie, "Tackling the Qubit Mapping Problem for NISQ-Era Quantum Devices", ASPLOS 2019
(arXiv:1809.02573). The front layer holds the operations whose predecessors have all run; those
that can run (single-qubit ones, and two-qubit gates on coupled qubits) are emitted, and when
none can, the SWAP on an edge touching the front layer that minimises

    H = max(decay_a, decay_b) · ( mean_{g ∈ F} D[g] + W · mean_{g ∈ E} D[g] )

is inserted (``D``: hop distance between a gate's physical qubits; ``E``: the next
``extended_set_size`` two-qubit gates; ``W = 0.5``; ``decay`` grows by 0.001 per SWAP on a
qubit and resets after 5 SWAPs or on progress). If no gate has run after ``2·P + 10`` SWAPs, the
oldest front gate is routed along a shortest path, which guarantees termination.
:func:`refine_layout` runs SABRE's reverse-traversal layout refinement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from quantum_service.circuits.ir import Operation
from quantum_service.compiler.layout import CouplingGraph
from quantum_service.compiler.operations import is_gate, relabeled, wires
from quantum_service.errors import InvalidProgramError

__all__ = ["RoutedCircuit", "refine_layout", "route"]

_EXTENDED_SET_WEIGHT = 0.5
_DECAY_DELTA = 0.001
_DECAY_RESET_INTERVAL = 5


@dataclass(frozen=True)
class RoutedCircuit:
    """Routing result.

    Attributes:
        operations: on physical qubits; every two-qubit gate acts on coupled qubits.
        initial_layout: ``v2p`` before the first operation (a permutation of ``range(P)``).
        final_layout: ``v2p`` after the last operation.
        swap_count: inserted ``swap`` operations.
    """

    operations: list[Operation]
    initial_layout: list[int]
    final_layout: list[int]
    swap_count: int


def _is_two_qubit_gate(op: Operation) -> bool:
    return len(op.qubits) == 2 and is_gate(op)


def route(operations: Sequence[Operation], layout: Sequence[int], graph: CouplingGraph, *,
          extended_set_size: int = 20) -> RoutedCircuit:
    """Routes operations on virtual qubits onto the coupling graph.

    Args:
        operations: gates on at most two qubits, plus ``measure``/``reset`` on any number;
            qubits are virtual indices in ``[0, P)``. Conditional operations are routed like
            unconditional ones, after the measurements writing the bits they read; inserted
            SWAPs are never conditional.
        layout: initial ``v2p``, a permutation of ``range(P)``.
        graph: the coupling graph (``P`` qubits).
        extended_set_size: look-ahead window of two-qubit gates.
    Returns:
        The routed circuit; ``swap`` operations act on physical qubits.
    Raises:
        InvalidProgramError: a gate on three or more qubits, or a two-qubit gate whose qubits
            sit in different connected regions of the coupling map (reason ``UNROUTABLE``).
    """
    ops = list(operations)
    count = len(ops)
    successors: list[list[int]] = [[] for _ in range(count)]
    pending_predecessors = [0] * count
    last_on_qubit: dict[int, int] = {}
    for index, op in enumerate(ops):
        if is_gate(op) and len(op.qubits) > 2:
            raise InvalidProgramError(
                f"routing needs one- and two-qubit gates; decompose {op.name!r} first"
            )
        # classical bits are wires too: a conditional operation waits for the measurements
        # writing the bits it reads, and a measurement for the conditions reading its bits
        on = wires(op)
        predecessors = {last_on_qubit[w] for w in on if w in last_on_qubit}
        pending_predecessors[index] = len(predecessors)
        for p in predecessors:
            successors[p].append(index)
        for w in on:
            last_on_qubit[w] = index
    two_qubit = [i for i, op in enumerate(ops) if _is_two_qubit_gate(op)]

    v2p = list(layout)
    p2v = [0] * len(v2p)
    for v, p in enumerate(v2p):
        p2v[p] = v
    decay = [1.0] * graph.qubit_count
    done = [False] * count
    front = [i for i in range(count) if pending_predecessors[i] == 0]
    out: list[Operation] = []
    swap_count = 0
    swaps_since_progress = 0
    lookahead_start = 0
    stall_limit = 2 * graph.qubit_count + 10
    hops: list[list[float]] = graph.distances.tolist()

    def distance(index: int) -> float:
        a, b = ops[index].qubits
        return hops[v2p[a]][v2p[b]]  # list lookups: numpy scalar indexing dominated routing

    def apply_swap(p: int, q: int) -> None:
        nonlocal swap_count, swaps_since_progress
        out.append(Operation("swap", (p, q)))
        va, vb = p2v[p], p2v[q]
        p2v[p], p2v[q] = vb, va
        v2p[va], v2p[vb] = q, p
        swap_count += 1
        swaps_since_progress += 1
        decay[p] += _DECAY_DELTA
        decay[q] += _DECAY_DELTA
        if swap_count % _DECAY_RESET_INTERVAL == 0:
            decay[:] = [1.0] * len(decay)

    while front:
        ready = [i for i in front if not _is_two_qubit_gate(ops[i]) or distance(i) == 1.0]
        if ready:
            ready_set = set(ready)
            front = [i for i in front if i not in ready_set]
            for index in ready:
                op = ops[index]
                out.append(relabeled(op, v2p))
                done[index] = True
                for s in successors[index]:
                    pending_predecessors[s] -= 1
                    if pending_predecessors[s] == 0:
                        front.append(s)
            decay[:] = [1.0] * len(decay)
            swaps_since_progress = 0
            continue

        blocked = [i for i in front if not math.isfinite(distance(i))]
        if blocked:
            a, b = ops[blocked[0]].qubits
            raise InvalidProgramError(
                f"qubits {a} and {b} of gate {ops[blocked[0]].name!r} sit in different connected "
                "regions of the coupling map and can never be made adjacent",
                reason="UNROUTABLE",
            )
        if swaps_since_progress >= stall_limit:
            oldest = min(front)
            a, b = ops[oldest].qubits
            path = graph.path(v2p[a], v2p[b])
            for k in range(len(path) - 2):
                apply_swap(path[k], path[k + 1])
            swaps_since_progress = 0
            continue

        while lookahead_start < len(two_qubit) and done[two_qubit[lookahead_start]]:
            lookahead_start += 1
        front_set = set(front)
        extended: list[int] = []
        for index in two_qubit[lookahead_start:]:
            if len(extended) >= extended_set_size:
                break
            if not done[index] and index not in front_set:
                extended.append(index)

        candidates = sorted({
            (min(p, q), max(p, q))
            for i in front for v in ops[i].qubits for p in (v2p[v],)
            for q in graph.neighbors[p]
        })
        best = _best_swap(candidates, [ops[i].qubits for i in front],
                          [ops[i].qubits for i in extended], v2p, hops, decay)
        apply_swap(*best)

    return RoutedCircuit(out, list(layout), v2p, swap_count)


def _best_swap(candidates: list[tuple[int, int]], front: list[tuple[int, ...]],
               extended: list[tuple[int, ...]], v2p: list[int], hops: list[list[float]],
               decay: list[float]) -> tuple[int, int]:
    """The candidate SWAP with the lowest SABRE score (ties: the smallest edge).

    Only gates touching a SWAP's qubits change distance, so each score is the layer's total
    distance plus the change of those gates.
    """
    layers = [(1.0 / len(front), front)]
    if extended:
        layers.append((_EXTENDED_SET_WEIGHT / len(extended), extended))
    base = 0.0
    touching: dict[int, list[tuple[float, int, int]]] = {}
    for weight, gates in layers:
        for a, b in gates:
            pa, pb = v2p[a], v2p[b]
            base += weight * hops[pa][pb]
            touching.setdefault(pa, []).append((weight, pa, pb))
            touching.setdefault(pb, []).append((weight, pa, pb))
    best, best_score = candidates[0], float("inf")
    for p, q in candidates:
        change = 0.0
        # a gate on exactly (p, q) sits in both lists but its distance does not change
        for weight, pa, pb in touching.get(p, []) + touching.get(q, []):
            new_a = q if pa == p else p if pa == q else pa
            new_b = q if pb == p else p if pb == q else pb
            change += weight * (hops[new_a][new_b] - hops[pa][pb])
        score = (base + change) * max(decay[p], decay[q])
        if score < best_score - 1e-12:
            best, best_score = (p, q), score
    return best


def refine_layout(operations: Sequence[Operation], layout: Sequence[int], graph: CouplingGraph,
                  *, rounds: int) -> tuple[list[int], int]:
    """SABRE's bidirectional layout search: route forward then backward from ``layout``
    ``rounds`` times, and return the start layout (among those visited) whose forward routing
    needs the fewest SWAPs.

    Args:
        operations: as for :func:`route` (only two-qubit gates matter).
        layout: starting ``v2p``.
        rounds: forward/backward round trips, >= 0.
    Returns:
        The best ``v2p`` permutation and the SWAP count of routing from it.
    """
    skeleton = [op for op in operations if _is_two_qubit_gate(op)]
    reverse = skeleton[::-1]
    current = list(layout)
    best, best_swaps = current, -1
    for round_index in range(rounds + 1):
        forward = route(skeleton, current, graph)
        if best_swaps < 0 or forward.swap_count < best_swaps:
            best, best_swaps = current, forward.swap_count
        if best_swaps == 0 or round_index == rounds:
            break
        current = route(reverse, forward.final_layout, graph).final_layout
    return best, best_swaps
