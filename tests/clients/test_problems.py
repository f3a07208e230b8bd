"""Tests of observables and of the real problems: H2/LiH Hamiltonians and QAOA MaxCut
(BeH2 and H2O: ``test_big_molecules``).

References are independent of the code under test: Kronecker-product matrices, textbook
spectra, published FCI energies, a plain-NumPy state-vector simulator written here, brute-force
enumeration with networkx, and the closed-form p = 1 QAOA MaxCut expectation of Wang, Hadfield,
Jiang & Rieffel, PRA 97, 022304 (2018).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import reduce

import networkx as nx
import numpy as np
import pytest
from qcore.v1 import common_pb2
from qcore_client.circuit import Circuit
from qcore_client.observable import Observable
from qcore_client.problems import (
    CHEMICAL_ACCURACY_HARTREE,
    MolecularProblem,
    ansatz,
    approximation_ratio,
    available_molecules,
    load_molecule,
    maxcut_problem,
    maxcut_problem_from_graph,
    qaoa_ansatz,
)
from scipy.optimize import minimize

# -- plain NumPy references (qubit 0 = least-significant bit of a basis index) ---------------

_PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
          "Z": np.diag([1.0, -1.0])}


def kron_matrix(terms: Sequence[tuple[str, float]], n: int) -> np.ndarray:
    """Σ c·P with P = P_{n-1} ⊗ ... ⊗ P_0 (qubit 0 rightmost factor)."""
    total = np.zeros((2**n, 2**n), dtype=np.complex128)
    for pauli_string, coefficient in terms:
        letters = ["I"] * n
        for factor in pauli_string.split():
            letters[int(factor[1:])] = factor[0]
        total += coefficient * reduce(np.kron, [_PAULI[p] for p in reversed(letters)])
    return total


def _gate(name: str, angle: float | None) -> np.ndarray:
    if name == "x":
        return _PAULI["X"].astype(np.complex128)
    if name == "h":
        return np.array([[1, 1], [1, -1]], dtype=np.complex128) / np.sqrt(2)
    if name == "cx":
        return np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], np.complex128)
    c, s = np.cos(angle / 2), np.sin(angle / 2)
    if name == "ry":
        return np.array([[c, -s], [s, c]], dtype=np.complex128)
    if name == "rx":
        return np.array([[c, -1j * s], [-1j * s, c]], dtype=np.complex128)
    if name == "rz":
        return np.diag([np.exp(-0.5j * angle), np.exp(0.5j * angle)])
    if name == "rzz":
        return np.diag(np.exp(-0.5j * angle * np.array([1, -1, -1, 1])))
    raise AssertionError(f"the reference simulator has no gate {name!r}")


def simulate(circuit: Circuit, values: Sequence[float]) -> np.ndarray:
    """State vector of ``circuit`` with its parameters set to ``values`` (from |0...0>)."""
    n = circuit.qubit_count
    mapping = dict(zip(circuit.parameters, values, strict=True))
    state = np.zeros([2] * n, dtype=np.complex128)
    state[(0,) * n] = 1.0
    for inst in circuit.instructions:
        angle = inst.params[0].bind(mapping) if inst.params else None
        k, axes = len(inst.qubits), [n - 1 - q for q in inst.qubits]
        matrix = _gate(inst.name, angle).reshape([2] * (2 * k))
        state = np.moveaxis(np.tensordot(matrix, state, axes=(list(range(k, 2 * k)), axes)),
                            list(range(k)), axes)
    return state.reshape(-1)


def energy(matrix: np.ndarray, state: np.ndarray) -> float:
    return float(np.real(np.vdot(state, matrix @ state)))


# -- observables --------------------------------------------------------------------------


def test_observable_matrix_matches_kronecker_reference() -> None:
    terms = [("X0 Z2", 0.5), ("Y1", -1.25), ("Z0 Z1", 0.3), ("", 2.0), ("Y0 X1 Y2", 0.7)]
    observable = Observable(terms)
    assert observable.qubit_count == 3
    np.testing.assert_allclose(observable.matrix(), kron_matrix(terms, 3), atol=1e-12)
    np.testing.assert_allclose(Observable([("Z0", 1.0)], qubit_count=2).matrix(),
                               np.diag([1, -1, 1, -1]))  # qubit 0 is the least-significant bit
    rng = np.random.default_rng(7)
    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    psi /= np.linalg.norm(psi)
    assert observable.expectation_value(psi) == pytest.approx(energy(kron_matrix(terms, 3), psi))
    assert observable.ground_state_energy() == pytest.approx(
        np.linalg.eigvalsh(kron_matrix(terms, 3))[0])


def test_observable_algebra_and_proto() -> None:
    a = Observable.from_dict({"Z1 X0": 1.0, "X0 Z1": 0.5, "I2": -1.0})
    assert a.terms == (("X0 Z1", 1.5), ("", -1.0))
    assert a.qubit_count == 2
    b = Observable.from_terms([("X0 Z1", -1.5), ("Y3", 2.0)])
    total = a + b
    assert total.to_dict() == {"": -1.0, "Y3": 2.0}
    assert total.qubit_count == 4
    assert (2 * a - a) == a
    assert sum([a, a]) == 2.0 * a
    assert (a + 1.0).terms == (("X0 Z1", 1.5),)  # the identity terms cancel
    message = a.to_proto()
    assert isinstance(message, common_pb2.Observable)
    assert [(t.pauli_string, t.coefficient) for t in message.terms] == [("X0 Z1", 1.5), ("", -1.0)]
    assert Observable.from_proto(message) == a
    for bad in ["X0 Z0", "A1", "X-1", "x0"]:
        with pytest.raises(ValueError):
            Observable([(bad, 1.0)])
    with pytest.raises(ValueError, match="too small"):
        Observable([("Z3", 1.0)], qubit_count=2)


def test_sparse_ground_state_energy_against_closed_form() -> None:
    # Σ_i (a_i X_i + b_i Z_i) has ground energy −Σ sqrt(a_i² + b_i²); 12 qubits -> Lanczos path.
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-1, 1, 12), rng.uniform(-1, 1, 12)
    observable = Observable([(f"X{i}", a[i]) for i in range(12)]
                            + [(f"Z{i}", b[i]) for i in range(12)])
    assert observable.ground_state_energy() == pytest.approx(-np.hypot(a, b).sum(), abs=1e-9)


# -- molecules ------------------------------------------------------------------------------

# Published STO-3G FCI energies (Hartree): H2 at 0.735 Å (-1.137306, e.g. Qiskit Nature's
# ground-state tutorial); LiH at 1.595 Å (about -7.8825, the value commonly quoted near
# equilibrium, cf. Kandala et al., Nature 549, 242 (2017)).
PUBLISHED_FCI = {"h2": (-1.137306, 1e-6), "lih": (-7.8825, 2e-4)}


@pytest.fixture(scope="module", params=["h2", "lih"])
def molecule(request: pytest.FixtureRequest) -> MolecularProblem:
    return load_molecule(request.param)


def test_shipped_molecules() -> None:
    assert available_molecules() == ("beh2", "h2", "h2o", "lih")
    assert load_molecule("H2").qubit_count == 2
    assert load_molecule("LiH").qubit_count == 4
    with pytest.raises(ValueError, match="unknown molecule"):
        load_molecule("n2")


def test_hamiltonian_energies(molecule: MolecularProblem) -> None:
    n = molecule.qubit_count
    matrix = kron_matrix(molecule.observable.terms, n)
    assert np.allclose(matrix, matrix.T.conj()) and np.allclose(matrix.imag, 0)
    spectrum = np.linalg.eigvalsh(matrix)
    assert spectrum[0] == pytest.approx(molecule.exact_energy, abs=1e-9)
    # The HF basis state reproduces the RHF energy and lies above the exact ground state.
    hf = molecule.hf_basis_index
    assert matrix[hf, hf].real == pytest.approx(molecule.hf_energy, abs=1e-9)
    assert molecule.hf_energy > molecule.exact_energy + 1e-3
    # FCI of the whole molecule agrees with the literature; the active space costs < 1.6 mHa.
    published, tolerance = PUBLISHED_FCI[molecule.name]
    assert molecule.fci_energy == pytest.approx(published, abs=tolerance)
    assert 0.0 <= molecule.exact_energy - molecule.fci_energy + 1e-9 < CHEMICAL_ACCURACY_HARTREE
    assert molecule.metadata["mapping"]["encoding"] == "parity"
    assert molecule.metadata["molecule"]["basis"] == "sto-3g"


def test_ground_state_has_the_molecules_electron_count(molecule: MolecularProblem) -> None:
    """Decodes the tapered parity basis back to spin-orbital occupations (Bravyi et al.)."""
    meta = molecule.metadata
    m = len(meta["active_space"]["active_orbitals"])
    electrons = meta["active_space"]["active_electron_count"]
    mapping = meta["mapping"]
    tapered = dict(zip(mapping["tapered_qubits"], mapping["tapered_eigenvalues"], strict=True))
    kept = [q for q in range(2 * m) if q not in tapered]
    counts = []
    for index in range(2**molecule.qubit_count):
        parity = [0] * (2 * m)
        for q, value in tapered.items():
            parity[q] = int(value == -1)
        for i, q in enumerate(kept):
            parity[q] = (index >> i) & 1
        occupation = [parity[j] ^ (parity[j - 1] if j else 0) for j in range(2 * m)]
        counts.append(sum(occupation))
    assert counts[molecule.hf_basis_index] == electrons
    values, vectors = np.linalg.eigh(kron_matrix(molecule.observable.terms, molecule.qubit_count))
    weight = sum(abs(vectors[i, 0]) ** 2 for i in range(len(counts)) if counts[i] == electrons)
    assert weight == pytest.approx(1.0, abs=1e-10)


def test_ansatz_reaches_chemical_accuracy(molecule: MolecularProblem) -> None:
    circuit = ansatz(molecule)
    assert circuit.parameter_count <= 30
    assert circuit.gate_count <= 40
    matrix = kron_matrix(molecule.observable.terms, molecule.qubit_count)
    zeros = np.zeros(circuit.parameter_count)
    # Zero parameters prepare exactly the Hartree–Fock state.
    reference = np.zeros(2**molecule.qubit_count)
    reference[molecule.hf_basis_index] = 1.0
    assert abs(np.vdot(reference, simulate(circuit, zeros))) == pytest.approx(1.0)
    result = minimize(lambda x: energy(matrix, simulate(circuit, x)), zeros, method="L-BFGS-B")
    error = result.fun - molecule.exact_energy
    assert -1e-9 < error < CHEMICAL_ACCURACY_HARTREE
    assert molecule.is_chemically_accurate(result.fun)


def test_ansatz_layers() -> None:
    problem = load_molecule("lih")
    circuit = ansatz(problem, layers=3, parameter_prefix="w")
    assert circuit.parameter_count == 16 and circuit.parameters[0] == "w_0"
    assert sum(1 for i in circuit.instructions if i.name == "cx") == 9
    with pytest.raises(ValueError, match="layers"):
        ansatz(problem, layers=0)


# -- MaxCut ---------------------------------------------------------------------------------


def brute_force_maxcut(graph: nx.Graph) -> int:
    nodes = list(graph.nodes)
    first, rest = nodes[0], nodes[1:]
    best = 0
    for size in range(len(rest) + 1):
        for subset in itertools.combinations(rest, size):
            best = max(best, nx.cut_size(graph, {first, *subset}))
    return best


@pytest.mark.parametrize("name", ["florentine", "florentine_2core"])
def test_maxcut_value_by_brute_force(name: str) -> None:
    problem = maxcut_problem(name)
    graph = nx.florentine_families_graph()
    if name == "florentine_2core":
        graph = nx.k_core(graph, 2)
    assert problem.qubit_count == graph.number_of_nodes()
    assert len(problem.edges) == graph.number_of_edges()
    assert problem.max_cut_value == brute_force_maxcut(graph)
    assert problem.cut_value(problem.max_cut_bitstring) == problem.max_cut_value
    assert problem.observable.diagonal().min() == pytest.approx(-problem.max_cut_value)
    assert approximation_ratio(problem, -problem.max_cut_value) == pytest.approx(1.0)


def test_florentine_graph_facts() -> None:
    problem = maxcut_problem()
    assert (problem.qubit_count, len(problem.edges)) == (15, 20)
    assert "Medici" in problem.nodes
    assert problem.random_cut_expectation == 10.0
    with pytest.raises(ValueError, match="unknown graph"):
        maxcut_problem("karate")


def test_weighted_graph_observable() -> None:
    graph = nx.Graph()
    graph.add_edge("a", "b", weight=2.0)
    graph.add_edge("b", "c", weight=0.5)
    problem = maxcut_problem_from_graph(graph, name="path")
    assert problem.max_cut_value == 2.5
    np.testing.assert_allclose(
        problem.observable.matrix(),
        kron_matrix([("Z0 Z1", 1.0), ("", -1.0), ("Z1 Z2", 0.25), ("", -0.25)], 3))


def wang_p1_cut(graph: nx.Graph, gamma: float, beta: float) -> float:
    """Closed-form p = 1 QAOA cut expectation (Wang et al. 2018, Theorem 1) for the circuit
    exp(-iβΣX) exp(+iγC), i.e. Farhi's with γ -> -γ (our cost observable is H = -C)."""
    g = -gamma
    total = 0.0
    for u, v in graph.edges:
        d_u, d_v = graph.degree[u] - 1, graph.degree[v] - 1
        lam = len(set(graph[u]) & set(graph[v]))  # triangles containing the edge
        total += (0.5 + 0.25 * np.sin(4 * beta) * np.sin(g) * (np.cos(g) ** d_u + np.cos(g) ** d_v)
                  - 0.25 * np.sin(2 * beta) ** 2 * np.cos(g) ** (d_u + d_v - 2 * lam)
                  * (1 - np.cos(2 * g) ** lam))
    return total


def test_qaoa_p1_beats_random_cut_on_florentine() -> None:
    problem = maxcut_problem("florentine")
    circuit = qaoa_ansatz(problem, layers=1)
    assert circuit.parameters == ("gamma_0", "beta_0")
    assert circuit.qubit_count == 15
    graph = nx.relabel_nodes(problem.graph, {node: q for q, node in enumerate(problem.nodes)})
    grid = [(g, b) for g in np.linspace(-np.pi / 2, np.pi / 2, 25)
            for b in np.linspace(-np.pi / 4, np.pi / 4, 13)]
    gamma, beta = max(grid, key=lambda p: wang_p1_cut(graph, *p))
    diagonal = problem.observable.diagonal()
    for point in [(gamma, beta), (0.3, -0.2)]:
        state = simulate(circuit, point)
        simulated = float(np.dot(np.abs(state) ** 2, diagonal))
        assert simulated == pytest.approx(-wang_p1_cut(graph, *point), abs=1e-9)
        assert problem.observable.expectation_value(state) == pytest.approx(simulated)
    best_energy = float(np.dot(np.abs(simulate(circuit, (gamma, beta))) ** 2, diagonal))
    assert -best_energy > problem.random_cut_expectation + 1.0
    assert 0.5 < problem.approximation_ratio(best_energy) < 1.0
