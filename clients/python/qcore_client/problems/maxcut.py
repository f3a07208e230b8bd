"""QAOA MaxCut on small real graphs.

The default graph is Padgett's Florentine families network: marriage ties between 15 leading
families of Renaissance Florence (Padgett & Ansell, "Robust Action and the Rise of the Medici,
1400–1434", Am. J. Sociol. 98, 1259 (1993); data as in Breiger & Pattison, Social Networks 8,
215 (1986)), 15 nodes and 20 edges, shipped with networkx as ``florentine_families_graph()``.
``"florentine_2core"`` is its 2-core (10 families, 15 ties: pendant families removed), small
enough for a noisy density-matrix QPU.

Sign convention (Farhi, Goldstone, Gutmann, arXiv:1411.4028, with the cost negated so that
VQE-style minimisation applies): the cost observable is

    H = Σ_{(i,j)∈E} w_ij (Z_i Z_j − 1) / 2,

so a basis state's energy is minus its cut weight, ``min H = −maxcut`` and the approximation
ratio of an energy ``E`` is ``−E / maxcut``. Qubit ``q`` is node ``nodes[q]`` (nodes sorted by
name); bit value 1 puts the node on the other side of the cut.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from qcore_client.circuit import Circuit, Parameter
from qcore_client.observable import Observable

__all__ = [
    "MaxCutProblem", "approximation_ratio", "available_graphs", "maxcut_problem",
    "maxcut_problem_from_graph", "qaoa_ansatz",
]

#: Brute force enumerates 2**n cuts; beyond this many nodes it is refused.
_BRUTE_FORCE_LIMIT = 24

_FLORENTINE_SOURCE = (
    "Padgett's Florentine families marriage network (Padgett & Ansell, Am. J. Sociol. 98, "
    "1259 (1993); Breiger & Pattison, Social Networks 8, 215 (1986)); "
    "networkx.florentine_families_graph()"
)

_GRAPHS: dict[str, tuple[Callable[[], nx.Graph], str]] = {
    "florentine": (nx.florentine_families_graph, _FLORENTINE_SOURCE),
    "florentine_2core": (lambda: nx.k_core(nx.florentine_families_graph(), 2),
                         "2-core of " + _FLORENTINE_SOURCE),
}


@dataclass(frozen=True, slots=True)
class MaxCutProblem:
    """A weighted MaxCut instance on qubits.

    Attributes:
        name: graph name.
        graph: the networkx graph (original node labels).
        nodes: ``nodes[q]`` is the node held by qubit ``q``.
        edges: ``(qubit_i, qubit_j, weight)`` with ``qubit_i < qubit_j``.
        observable: ``Σ w_ij (Z_i Z_j − 1)/2``; its minimum is ``−max_cut_value``.
        max_cut_value: the exact maximum cut weight (brute force).
        max_cut_bitstring: one optimal assignment, qubit 0 the rightmost character.
        source: where the graph comes from.
    """

    name: str
    graph: nx.Graph
    nodes: tuple[Hashable, ...]
    edges: tuple[tuple[int, int, float], ...]
    observable: Observable
    max_cut_value: float
    max_cut_bitstring: str
    source: str

    @property
    def qubit_count(self) -> int:
        return len(self.nodes)

    @property
    def total_weight(self) -> float:
        return float(sum(w for _, _, w in self.edges))

    @property
    def random_cut_expectation(self) -> float:
        """Expected cut weight of a uniformly random assignment: half the total weight."""
        return self.total_weight / 2

    def cut_value(self, bitstring: str) -> float:
        """Cut weight of an assignment given as a bitstring (qubit 0 rightmost).

        Raises:
            ValueError: wrong length or characters other than 0/1.
        """
        if len(bitstring) != self.qubit_count or set(bitstring) - {"0", "1"}:
            raise ValueError(f"expected a {self.qubit_count}-character 0/1 bitstring, "
                             f"got {bitstring!r}")
        index = int(bitstring, 2)
        return float(sum(w for i, j, w in self.edges if ((index >> i) ^ (index >> j)) & 1))

    def approximation_ratio(self, energy: float) -> float:
        """``−energy / max_cut_value``: 1 for an optimal cut, 0.5 for random guessing."""
        return approximation_ratio(self, energy)


def approximation_ratio(problem: MaxCutProblem, energy: float) -> float:
    """Approximation ratio ``⟨cut⟩ / maxcut = −energy / max_cut_value`` of an energy of
    ``problem.observable`` (e.g. a QAOA expectation value)."""
    return -float(energy) / problem.max_cut_value


def available_graphs() -> tuple[str, ...]:
    return tuple(sorted(_GRAPHS))


def _cut_values(qubit_count: int, edges: Sequence[tuple[int, int, float]]) -> np.ndarray:
    """Cut weight of every basis state, float64 shape ``(2**n,)``."""
    basis = np.arange(1 << qubit_count, dtype=np.int64)
    values = np.zeros(basis.size, dtype=np.float64)
    for i, j, weight in edges:
        values += weight * (((basis >> i) ^ (basis >> j)) & 1)
    return values


def maxcut_problem_from_graph(graph: nx.Graph, *, name: str = "graph", source: str = "",
                              weight: str = "weight") -> MaxCutProblem:
    """Builds a MaxCut problem from any undirected graph (edge attribute ``weight``, default 1).

    Raises:
        ValueError: a directed graph or multigraph, self-loops, no edges, or more than 24
            nodes (brute force is exponential).
    """
    if graph.is_directed() or graph.is_multigraph():
        raise ValueError("MaxCut needs a simple undirected graph")
    if nx.number_of_selfloops(graph):
        raise ValueError("MaxCut graphs may not have self-loops")
    if graph.number_of_edges() == 0:
        raise ValueError("the graph has no edges")
    if graph.number_of_nodes() > _BRUTE_FORCE_LIMIT:
        raise ValueError(f"{graph.number_of_nodes()} nodes is too many for brute force "
                         f"(limit {_BRUTE_FORCE_LIMIT})")
    nodes = tuple(sorted(graph.nodes, key=str))
    qubit = {node: q for q, node in enumerate(nodes)}
    edges = tuple(sorted(
        (min(qubit[u], qubit[v]), max(qubit[u], qubit[v]), float(data.get(weight, 1.0)))
        for u, v, data in graph.edges(data=True)))
    observable = Observable.from_terms(
        [term for i, j, w in edges for term in ((f"Z{i} Z{j}", w / 2), ("", -w / 2))],
        qubit_count=len(nodes))
    cuts = _cut_values(len(nodes), edges)
    best = int(np.argmax(cuts))
    return MaxCutProblem(
        name=name, graph=graph, nodes=nodes, edges=edges, observable=observable,
        max_cut_value=float(cuts[best]), max_cut_bitstring=format(best, f"0{len(nodes)}b"),
        source=source,
    )


def maxcut_problem(name: str = "florentine") -> MaxCutProblem:
    """A shipped MaxCut instance: ``"florentine"`` (15 qubits) or ``"florentine_2core"`` (10).

    Raises:
        ValueError: unknown name.
    """
    if name not in _GRAPHS:
        raise ValueError(f"unknown graph {name!r}; available: {list(available_graphs())}")
    factory, source = _GRAPHS[name]
    return maxcut_problem_from_graph(nx.Graph(factory()), name=name, source=source)


def qaoa_ansatz(problem: MaxCutProblem, *, layers: int = 1) -> Circuit:
    """The QAOA circuit of depth ``p = layers`` (Farhi et al., arXiv:1411.4028).

    ``H`` on every qubit, then per layer ``k``: the cost unitary ``exp(−i γ_k H)`` as
    ``rzz(w_ij·γ_k)`` on every edge (``exp(−i γ w (Z_iZ_j − 1)/2)`` up to a global phase), and
    the mixer ``exp(−i β_k Σ X)`` as ``rx(2·β_k)`` on every qubit. Its expectation value of
    ``problem.observable`` is minus the expected cut weight.

    Returns:
        A circuit with parameters ``gamma_0, beta_0, gamma_1, beta_1, ...`` (radians), without
        measurements, named ``"qaoa-{name}-p{layers}"``.
    Raises:
        ValueError: ``layers < 1``.
    """
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    names = [f"{kind}_{k}" for k in range(layers) for kind in ("gamma", "beta")]
    circuit = Circuit(problem.qubit_count, name=f"qaoa-{problem.name}-p{layers}",
                      parameters=names)
    for q in range(problem.qubit_count):
        circuit.h(q)
    for k in range(layers):
        gamma, beta = Parameter(f"gamma_{k}"), Parameter(f"beta_{k}")
        for i, j, weight in problem.edges:
            circuit.rzz(weight * gamma, i, j)
        for q in range(problem.qubit_count):
            circuit.rx(2 * beta, q)
    return circuit
