"""BeH2 and H2O (10 qubits): the shipped Hamiltonians, their excitation ansatz, and VQE through
the real services.

References are independent of the code under test: Pauli matrices combined with
``scipy.sparse.kron``, SciPy's Lanczos, ``scipy.sparse.linalg.expm_multiply`` of the stored
generators, and the plain-NumPy state-vector simulator of ``test_problems``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from qcore_client.client import ClassicalClient
from qcore_client.launcher import LocalStack
from qcore_client.problems import (
    CHEMICAL_ACCURACY_HARTREE,
    MolecularProblem,
    ansatz,
    excitation_ansatz,
    has_excitation_ansatz,
    load_molecule,
)

from test_problems import simulate

_PAULI = {"I": sp.identity(2, format="csr", dtype=np.complex128),
          "X": sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=np.complex128)),
          "Y": sp.csr_matrix(np.array([[0, -1j], [1j, 0]], dtype=np.complex128)),
          "Z": sp.csr_matrix(np.diag([1.0 + 0j, -1.0]))}


def sparse_kron(terms: Sequence[tuple[str, float]], n: int) -> sp.csr_matrix:
    """Σ c·P with P = P_{n-1} ⊗ ... ⊗ P_0 (qubit 0 rightmost factor), sparse."""
    total = sp.csr_matrix((2**n, 2**n), dtype=np.complex128)
    for pauli_string, coefficient in terms:
        letters = ["I"] * n
        for factor in pauli_string.split():
            letters[int(factor[1:])] = factor[0]
        total = total + coefficient * reduce(
            lambda a, b: sp.kron(a, b, format="csr"), [_PAULI[p] for p in reversed(letters)])
    return total.tocsr()


@pytest.fixture(scope="module", params=["beh2", "h2o"])
def molecule(request: pytest.FixtureRequest) -> MolecularProblem:
    return load_molecule(request.param)


def test_hamiltonian_data(molecule: MolecularProblem) -> None:
    n = molecule.qubit_count
    assert n >= 8
    assert all(isinstance(c, float) for _, c in molecule.observable.terms)
    matrix = sparse_kron(molecule.observable.terms, n)
    assert abs(matrix - matrix.conj().T).max() < 1e-12
    lowest = spla.eigsh(matrix, k=1, which="SA", v0=np.ones(2**n), return_eigenvectors=False)
    assert lowest[0] == pytest.approx(molecule.exact_energy, abs=1e-8)
    # The stored FCI of the active space (PySCF CASCI) is the same energy.
    assert molecule.metadata["casci_energy"] == pytest.approx(molecule.exact_energy, abs=1e-8)
    # Freezing the 1s core raises the energy above the all-electron FCI, by < 1.6 mHa here.
    assert 0.0 < molecule.exact_energy - molecule.fci_energy < CHEMICAL_ACCURACY_HARTREE
    hf = molecule.hf_basis_index
    assert matrix[hf, hf].real == pytest.approx(molecule.hf_energy, abs=1e-9)
    assert molecule.hf_energy > molecule.exact_energy + 1e-2
    meta = molecule.metadata
    assert meta["molecule"]["basis"] == "sto-3g"
    assert meta["active_space"]["frozen_core_orbitals"] == [0]
    assert len(meta["active_space"]["active_orbitals"]) == 6
    assert meta["mapping"]["encoding"] == "parity"


def test_geometries() -> None:
    beh2 = load_molecule("beh2").metadata["molecule"]["geometry_angstrom"]
    assert [e for e, _ in beh2] == ["Be", "H", "H"]
    assert np.linalg.norm(np.subtract(beh2[1][1], beh2[0][1])) == pytest.approx(1.3264)
    h2o = load_molecule("h2o").metadata["molecule"]["geometry_angstrom"]
    o, h1, h2 = (np.array(xyz) for _, xyz in h2o)
    assert np.linalg.norm(h1 - o) == pytest.approx(0.9578)
    angle = np.degrees(np.arccos(np.dot(h1 - o, h2 - o) / np.linalg.norm(h1 - o) ** 2))
    assert angle == pytest.approx(104.4776)


def test_excitation_ansatz(molecule: MolecularProblem) -> None:
    assert has_excitation_ansatz(molecule) and not has_excitation_ansatz(load_molecule("lih"))
    circuit = excitation_ansatz(molecule)
    generators = molecule.metadata["ansatz"]["generators"]
    assert circuit.parameter_count == len(generators) <= 30
    n = molecule.qubit_count
    reference = np.zeros(2**n, dtype=np.complex128)
    reference[molecule.hf_basis_index] = 1.0
    np.testing.assert_allclose(simulate(circuit, np.zeros(circuit.parameter_count)), reference,
                               atol=1e-12)
    # The circuit prepares Π_k exp(i θ_k A_k)|HF> with the stored Pauli terms of A_k ...
    rng = np.random.default_rng(5)
    angles = rng.uniform(-0.3, 0.3, circuit.parameter_count)
    expected = reference
    for generator, angle in zip(generators, angles, strict=True):
        a = sparse_kron([(t["pauli_string"], t["coefficient"]) for t in generator["terms"]], n)
        expected = spla.expm_multiply(1j * angle * a, expected)
    np.testing.assert_allclose(simulate(circuit, angles), expected, atol=1e-9)
    # ... and the offline ADAPT angles put it within chemical accuracy.
    matrix = sparse_kron(molecule.observable.terms, n)
    state = simulate(circuit, molecule.metadata["ansatz"]["adapt_angles"])
    error = float(np.real(np.vdot(state, matrix @ state))) - molecule.exact_energy
    assert -1e-9 < error < CHEMICAL_ACCURACY_HARTREE
    with pytest.raises(ValueError, match="no stored excitation ansatz"):
        excitation_ansatz(load_molecule("h2"))
    assert ansatz(molecule).qubit_count == n  # the hardware-efficient ansatz still builds


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory):
    stack = LocalStack(workdir=tmp_path_factory.mktemp("stack"))
    stack.start(timeout_s=120)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("name", ["beh2", "h2o"])
def test_vqe_reaches_chemical_accuracy_on_the_ideal_qpu(local_stack: LocalStack,
                                                        name: str) -> None:
    problem = load_molecule(name)
    circuit = excitation_ansatz(problem)
    with ClassicalClient(local_stack.classical_address, token=local_stack.token) as classical:
        responses = list(classical.minimize(
            circuit, problem.observable, optimizer="l-bfgs-b", qpu_id="ion-ideal-24",
            max_iterations=200, tolerance=1e-10, seed=7, adjoint_gradient=True))
    result = responses[-1].result
    assert result.qpu_id == "ion-ideal-24"
    iterations = [r.iteration for r in responses if r.WhichOneof("response") == "iteration"]
    assert iterations and iterations[0].energy < problem.hf_energy  # the first step descends
    assert abs(result.energy - problem.exact_energy) < CHEMICAL_ACCURACY_HARTREE
    assert result.energy > problem.exact_energy - 1e-9


@pytest.mark.slow
@pytest.mark.integration
def test_main_job_full_reports_the_noisy_error_at_the_ideal_optimum(local_stack: LocalStack
                                                                    ) -> None:
    """``--full``: BeH2's ideal optimum evaluated on the noisy ion chain. A noisy state's
    energy obeys the variational bound Tr(ρH) >= E_0, so the reported error is >= 0 and, the
    noise being real, larger than the ideal run's."""
    from rich.console import Console

    from qcore_client.mainjob import IDEAL_QPU, NOISY_AT_OPTIMUM_QPU, RunSpec, main_job

    summary = main_job(local_stack, (RunSpec("beh2", IDEAL_QPU, adjoint_gradient=True,
                                             tolerance=1e-10),),
                       Console(quiet=True), noisy_at_optimum=("beh2",))
    ideal, noisy = summary["runs"]
    assert (ideal["qpu_id"], noisy["qpu_id"]) == (IDEAL_QPU, NOISY_AT_OPTIMUM_QPU)
    assert noisy["noisy"] and noisy["evaluations"] == 1
    assert noisy["exact_energy"] == ideal["exact_energy"]
    assert noisy["error"] > ideal["error"] + 1e-3 >= -1e-9 + 1e-3
    assert noisy["error"] == pytest.approx(noisy["energy"] - noisy["exact_energy"])
