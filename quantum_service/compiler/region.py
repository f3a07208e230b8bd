"""Connected regions of a coupling map: where a circuit may live when a device can only
simulate some of its qubits at once.

:func:`connected_regions` grows a region from every physical qubit in turn, each step adding
the neighbouring qubit with the most couplings into the region (ties: the smallest total hop
distance to it, then the smallest index) — a greedy heuristic for the densest connected
``k``-subgraph, which is NP-hard in general (Feige, Peleg and Kortsarz, "The dense k-subgraph
problem", Algorithmica 29, 410 (2001)). Dense regions give routing short paths; the compiler
routes the circuit on the densest few and keeps the one needing the fewest SWAPs.
"""

from __future__ import annotations

from quantum_service.compiler.layout import CouplingGraph

__all__ = ["connected_regions", "region_graph"]


def _internal_edges(graph: CouplingGraph, region: frozenset[int]) -> int:
    return sum(len(graph.neighbors[p] & region) for p in region) // 2


def _grow(graph: CouplingGraph, seed: int, size: int) -> frozenset[int] | None:
    region = {seed}
    while len(region) < size:
        frontier = {q for p in region for q in graph.neighbors[p]} - region
        if not frontier:
            return None  # the seed's connected component is smaller than ``size``
        best = min(frontier, key=lambda q: (
            -len(graph.neighbors[q] & region),
            sum(graph.distances[q, p] for p in region), q))
        region.add(best)
    return frozenset(region)


def connected_regions(graph: CouplingGraph, size: int) -> list[tuple[int, ...]]:
    """Distinct connected sets of ``size`` physical qubits, densest first.

    Args:
        graph: the coupling graph (``P`` qubits).
        size: qubits per region, ``1 <= size <= P``.
    Returns:
        Sorted qubit tuples, ordered by internal couplings (most first), then by the sum of
        pairwise hop distances (smallest first), then lexicographically; empty when no
        connected component has ``size`` qubits.
    """
    regions = {r for seed in range(graph.qubit_count)
               if (r := _grow(graph, seed, size)) is not None}

    def key(region: frozenset[int]) -> tuple[int, float, tuple[int, ...]]:
        spread = float(sum(graph.distances[p, q] for p in region for q in region))
        return -_internal_edges(graph, region), spread, tuple(sorted(region))

    return [tuple(sorted(r)) for r in sorted(regions, key=key)]


def region_graph(graph: CouplingGraph, region: tuple[int, ...]) -> CouplingGraph:
    """The sub-graph induced on ``region``, relabelled: local qubit ``i`` is ``region[i]``."""
    local = {p: i for i, p in enumerate(region)}
    edges = [(local[p], local[q]) for p in region for q in graph.neighbors[p]
             if q in local and p < q]
    return CouplingGraph.build(len(region), edges)
