"""The coupling graph of a target and initial layouts (logical → physical qubit placement).

:func:`greedy_layout` places the circuit's interaction graph onto the coupling map: connected
groups of interacting logical qubits, largest first, each into the connected region of the
coupling map with the most free qubits ("first-fit decreasing"); inside a group, the logical
qubit with the most interactions goes to the best-connected, most central free physical qubit,
then each next one (most interactions with those already placed) to the free physical qubit
minimising the interaction-weighted hop distance to its placed partners. SABRE's bidirectional
refinement (:mod:`quantum_service.compiler.routing`) then improves on it.

Before either, :func:`perfect_layout` looks for a placement that needs no SWAP at all: every
two-qubit gate on a coupler, i.e. a subgraph monomorphism of the interaction graph into the
coupling map, found by VF2 (Cordella et al., IEEE TPAMI 26, 1367 (2004)) as rustworkx
implements it, within a call limit, the search Qiskit's ``VF2Layout`` pass runs first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rustworkx
import scipy.sparse
import scipy.sparse.csgraph

from quantum_service.errors import InvalidProgramError

__all__ = ["CouplingGraph", "check_routable", "greedy_layout", "perfect_layout",
           "trivial_layout"]


@dataclass(frozen=True)
class CouplingGraph:
    """Distances and neighbours of a coupling map.

    Attributes:
        qubit_count: physical qubits ``P``.
        neighbors: ``neighbors[p]``: the qubits coupled to ``p``.
        distances: float64, shape ``(P, P)``: hop counts, ``inf`` between disconnected qubits.
        predecessors: int32, shape ``(P, P)``: ``predecessors[s, t]`` is the qubit before ``t``
            on a shortest path from ``s`` (-9999 when none).
        components: int, shape ``(P,)``: connected-component label of each qubit.
    """

    qubit_count: int
    neighbors: tuple[frozenset[int], ...]
    distances: np.ndarray
    predecessors: np.ndarray
    components: np.ndarray

    @staticmethod
    def build(qubit_count: int, edges: Sequence[tuple[int, int]]) -> CouplingGraph:
        neighbor_sets: list[set[int]] = [set() for _ in range(qubit_count)]
        for a, b in edges:
            neighbor_sets[a].add(b)
            neighbor_sets[b].add(a)
        cols = [b for nbrs in neighbor_sets for b in sorted(nbrs)]
        rows = [a for a, nbrs in enumerate(neighbor_sets) for _ in sorted(nbrs)]
        matrix = scipy.sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(qubit_count, qubit_count)
        )
        distances, predecessors = scipy.sparse.csgraph.shortest_path(
            matrix, directed=False, unweighted=True, return_predecessors=True
        )
        _, components = scipy.sparse.csgraph.connected_components(matrix, directed=False)
        return CouplingGraph(
            qubit_count, tuple(frozenset(n) for n in neighbor_sets), distances, predecessors,
            components,
        )

    def path(self, source: int, target: int) -> list[int]:
        """A shortest path ``[source, ..., target]`` (both connected)."""
        path = [target]
        while path[-1] != source:
            path.append(int(self.predecessors[source, path[-1]]))
        return path[::-1]


def trivial_layout(physical_count: int) -> list[int]:
    """Virtual qubit ``i`` on physical qubit ``i``."""
    return list(range(physical_count))


def perfect_layout(pairs: Sequence[tuple[int, int]], logical_count: int, graph: CouplingGraph,
                   *, call_limit: int) -> list[int] | None:
    """A layout under which every two-qubit gate acts on coupled qubits, or ``None``.

    The trivial layout is kept when it already is one (a circuit written on physical qubits
    stays where its author put it); otherwise VF2 searches a subgraph monomorphism of the
    interaction graph into the coupling map (``rustworkx.vf2_mapping(..., subgraph=True,
    induced=False)``), stopping after ``call_limit`` state expansions, so the time is bounded
    however hard the instance.

    Args:
        pairs: the logical qubit pairs of the circuit's two-qubit gates.
        logical_count: logical qubits ``n <= graph.qubit_count``.
        graph: the coupling graph.
        call_limit: VF2 state expansions allowed, >= 1 (Qiskit's preset pass managers allow
            5e4, 5e6 and 3e7 at optimisation levels 1, 2 and 3: ``get_vf2_limits`` in
            ``qiskit.transpiler.preset_passmanagers.common``).
    Returns:
        A permutation ``v2p`` of ``range(P)`` as :func:`greedy_layout` returns (qubits without
        two-qubit gates on the physical qubits left over, lowest first), or ``None`` when no
        SWAP-free placement was found within the limit.
    """
    edges = _interaction_weights(pairs)
    physical = graph.qubit_count
    if all(b in graph.neighbors[a] for a, b in edges):
        return trivial_layout(physical)
    interacting = sorted({q for pair in edges for q in pair})
    coupling = rustworkx.PyGraph()
    coupling.add_nodes_from(range(physical))
    coupling.add_edges_from_no_data([(a, b) for a in range(physical)
                                     for b in graph.neighbors[a] if a < b])
    local = {v: i for i, v in enumerate(interacting)}
    interaction = rustworkx.PyGraph()
    interaction.add_nodes_from(interacting)
    interaction.add_edges_from_no_data([(local[a], local[b]) for a, b in edges])
    mappings = rustworkx.vf2_mapping(coupling, interaction, subgraph=True, induced=False,
                                     id_order=False, call_limit=int(call_limit))
    found = next(iter(mappings), None)
    if found is None:
        return None
    return _completed({interacting[i]: p for p, i in found.items()}, logical_count, physical)


def _completed(placed: dict[int, int], logical_count: int, physical_count: int) -> list[int]:
    """The ``v2p`` permutation with ``placed`` logical qubits where they are and every other
    virtual qubit on the physical qubits left over, lowest first."""
    leftovers = sorted(set(range(physical_count)) - set(placed.values()))
    layout = [placed[v] if v in placed else -1 for v in range(logical_count)]
    for v in range(logical_count):
        if layout[v] < 0:
            layout[v] = leftovers.pop(0)
    return layout + leftovers


def _interaction_weights(pairs: Sequence[tuple[int, int]]) -> Counter[tuple[int, int]]:
    return Counter((min(a, b), max(a, b)) for a, b in pairs)


def greedy_layout(pairs: Sequence[tuple[int, int]], logical_count: int, graph: CouplingGraph
                  ) -> list[int]:
    """An interaction-aware initial layout (see the module docstring).

    Args:
        pairs: the logical qubit pairs of the circuit's two-qubit gates, in order.
        logical_count: logical qubits ``n <= graph.qubit_count``.
        graph: the coupling graph.
    Returns:
        A permutation ``v2p`` of ``range(P)``: virtual qubit ``v`` (logical for ``v < n``, an
        idle placeholder otherwise) starts on physical qubit ``v2p[v]``.
    Raises:
        InvalidProgramError: a group of interacting logical qubits is larger than every
            connected region of the coupling map (reason ``UNROUTABLE``).
    """
    weights = _interaction_weights(pairs)
    partners: dict[int, Counter[int]] = {v: Counter() for v in range(logical_count)}
    for (a, b), w in weights.items():
        partners[a][b] += w
        partners[b][a] += w
    free = set(range(graph.qubit_count))
    placed: dict[int, int] = {}

    for group in _interaction_groups(partners):
        region = _roomiest_region(graph, free, len(group), group)
        start = max(group, key=lambda v: (sum(partners[v].values()), -v))
        placed[start] = _central_qubit(graph, region)
        free.discard(placed[start])
        region.discard(placed[start])
        remaining = set(group) - {start}
        while remaining:
            v = max(remaining, key=lambda u: (
                sum(w for p, w in partners[u].items() if p in placed), sum(partners[u].values()),
                -u))
            placed[v] = min(region, key=lambda p: (
                sum(w * graph.distances[p, placed[u]] for u, w in partners[v].items()
                    if u in placed),
                -len(graph.neighbors[p] & free), p))
            free.discard(placed[v])
            region.discard(placed[v])
            remaining.discard(v)

    return _completed(placed, logical_count, graph.qubit_count)


def _interaction_groups(partners: dict[int, Counter[int]]) -> list[list[int]]:
    """Connected groups of interacting logical qubits, largest first (isolated ones skipped)."""
    seen: set[int] = set()
    groups: list[list[int]] = []
    for v in sorted(partners):
        if v in seen or not partners[v]:
            continue
        group, frontier = [], [v]
        seen.add(v)
        while frontier:
            u = frontier.pop()
            group.append(u)
            for w in partners[u]:
                if w not in seen:
                    seen.add(w)
                    frontier.append(w)
        groups.append(sorted(group))
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def _roomiest_region(graph: CouplingGraph, free: set[int], size: int, group: list[int]
                     ) -> set[int]:
    """The free qubits of the connected component with the most free qubits."""
    counts = Counter(int(graph.components[p]) for p in free)
    label, room = max(counts.items(), key=lambda item: (item[1], -item[0]))
    if room < size:
        raise InvalidProgramError(
            f"logical qubits {group} interact through two-qubit gates, so they must share a "
            f"connected region of the coupling map, but the largest free connected region has "
            f"{room} qubit(s); the coupling map is disconnected",
            reason="UNROUTABLE",
        )
    return {p for p in free if graph.components[p] == label}


def _central_qubit(graph: CouplingGraph, region: set[int]) -> int:
    """The region's qubit with the most free neighbours, then the smallest total distance."""
    return min(region, key=lambda p: (
        -len(graph.neighbors[p] & region),
        sum(graph.distances[p, q] for q in region), p))


def check_routable(pairs: Sequence[tuple[int, int]], layout: Sequence[int],
                   graph: CouplingGraph) -> None:
    """Raises InvalidProgramError (reason ``UNROUTABLE``) when an interacting pair of logical
    qubits starts in different connected regions of the coupling map."""
    for a, b in _interaction_weights(pairs):
        if not np.isfinite(graph.distances[layout[a], layout[b]]):
            raise InvalidProgramError(
                f"logical qubits {a} and {b} interact but sit on physical qubits {layout[a]} and "
                f"{layout[b]}, which the coupling map does not connect",
                reason="UNROUTABLE",
            )
