"""Molecular ground-state problems (H2, LiH, BeH2, H2O) and variational ansätze for them.

The qubit Hamiltonians are shipped as JSON in ``qcore_client/problems/data`` (STO-3G, parity
mapping with two-qubit reduction; LiH with a frozen Li 1s core and σ-only active space; BeH2
and H2O with a frozen 1s core, 6 active orbitals, 10 qubits) and
were produced by :mod:`qcore_client.problems.generate_hamiltonians` with PySCF and OpenFermion,
which are not needed at run time. Each file records every modelling choice.

Example::

    problem = load_molecule("lih")            # 4 qubits, 100 Pauli terms
    circuit = ansatz(problem)                 # HF reference + 2 RY/CX layers, 12 parameters
    # minimise <ψ(θ)|H|ψ(θ)> over circuit.parameters, starting at zeros (= the HF energy)
    water = load_molecule("h2o")              # 10 qubits, 551 Pauli terms
    circuit = excitation_ansatz(water)        # 25 ADAPT-selected excitations, 25 parameters
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

from qcore_client.circuit import Circuit, Parameter, ParameterExpression
from qcore_client.observable import Observable

__all__ = [
    "CHEMICAL_ACCURACY_HARTREE", "MolecularProblem", "ansatz", "available_molecules",
    "excitation_ansatz", "has_excitation_ansatz", "load_molecule",
]

#: The customary "chemical accuracy" target, Hartree: 1.6 mHa, about 1 kcal/mol
#: (1 / 627.5095 Ha = 1.594 mHa).
CHEMICAL_ACCURACY_HARTREE = 1.6e-3

_DATA_PACKAGE = "qcore_client.problems.data"


@dataclass(frozen=True, slots=True)
class MolecularProblem:
    """A molecular ground-state problem on qubits.

    Attributes:
        name: ``"h2"``, ``"lih"``, ``"beh2"`` or ``"h2o"``.
        observable: the qubit Hamiltonian, Hartree (nuclear repulsion and frozen-core energy
            included in the identity term).
        qubit_count: width of the Hamiltonian.
        exact_energy: its lowest eigenvalue (exact diagonalisation), Hartree; equals PySCF's
            CASCI energy for the active space (``metadata["casci_energy"]``, the FCI of the
            active space). The VQE target.
        fci_energy: full-molecule FCI energy (no active space), Hartree.
        hf_energy: restricted Hartree–Fock energy, Hartree; ``<hf|H|hf>``.
        hf_bitstring: the Hartree–Fock basis state, qubit 0 the rightmost character.
        metadata: the rest of the JSON file (geometry, basis, active space, mapping, versions).
    """

    name: str
    observable: Observable
    qubit_count: int
    exact_energy: float
    fci_energy: float
    hf_energy: float
    hf_bitstring: str
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def hf_basis_index(self) -> int:
        """Basis-state index of the Hartree–Fock state (qubit q = bit q)."""
        return int(self.hf_bitstring, 2)

    def error(self, energy: float) -> float:
        """``energy - exact_energy``, Hartree."""
        return float(energy) - self.exact_energy

    def is_chemically_accurate(self, energy: float) -> bool:
        """Whether ``|energy - exact_energy| < 1.6 mHa``."""
        return abs(self.error(energy)) < CHEMICAL_ACCURACY_HARTREE


def available_molecules() -> tuple[str, ...]:
    """Names accepted by :func:`load_molecule`, e.g. ``("h2", "lih")``."""
    root = resources.files(_DATA_PACKAGE)
    return tuple(sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".json")))


def load_molecule(name: str) -> MolecularProblem:
    """Loads a shipped molecular problem.

    Args:
        name: case-insensitive molecule name from :func:`available_molecules`.
    Raises:
        ValueError: unknown molecule.
    """
    key = name.lower()
    if key not in available_molecules():
        raise ValueError(f"unknown molecule {name!r}; available: {list(available_molecules())}")
    data = json.loads((resources.files(_DATA_PACKAGE) / f"{key}.json").read_text("utf-8"))
    qubit_count = int(data["qubit_count"])
    observable = Observable(
        ((t["pauli_string"], t["coefficient"]) for t in data["terms"]), qubit_count=qubit_count)
    core = {"name", "qubit_count", "terms", "exact_energy", "fci_energy", "hf_energy",
            "hf_bitstring"}
    return MolecularProblem(
        name=data["name"], observable=observable, qubit_count=qubit_count,
        exact_energy=float(data["exact_energy"]), fci_energy=float(data["fci_energy"]),
        hf_energy=float(data["hf_energy"]), hf_bitstring=data["hf_bitstring"],
        metadata=MappingProxyType({k: v for k, v in data.items() if k not in core}),
    )


def _ladder_preimage(index: int, qubit_count: int, layers: int) -> int:
    """The basis state that ``layers`` CX ladders (cx(0,1), cx(1,2), ...) map onto ``index``."""
    for _ in range(layers):
        for qubit in reversed(range(qubit_count - 1)):
            if (index >> qubit) & 1:
                index ^= 1 << (qubit + 1)
    return index


def ansatz(problem: MolecularProblem, *, layers: int | None = None,
           parameter_prefix: str = "theta") -> Circuit:
    """A hardware-efficient real-amplitude ansatz anchored at the Hartree–Fock state.

    ``layers`` repetitions of (RY on every qubit, then a CX ladder ``cx(0,1), cx(1,2), ...``)
    and a final RY layer, as in Kandala et al., Nature 549, 242 (2017) and Qiskit's
    ``RealAmplitudes``: ``(layers + 1) * n`` parameters and ``layers * (n - 1)`` CX. The
    Hamiltonians are real, so real amplitudes suffice. The initial X gates prepare the basis
    state that the CX ladders map onto the HF state, so *zero parameters give exactly the HF
    state* and an optimiser starts from ``hf_energy``. (RY layers with diagonal entanglers would
    leave the HF state a stationary point: by Brillouin's theorem every single-qubit rotation
    then has zero gradient there.)

    With the default ``layers = max(1, n // 2)`` (H2: 1 layer, 4 parameters; LiH: 2 layers,
    12 parameters), noiseless L-BFGS-B from zeros reaches chemical accuracy for both shipped
    molecules.

    Args:
        problem: from :func:`load_molecule`.
        layers: entangling layers, >= 1.
        parameter_prefix: symbols are named ``{prefix}_{k}``.
    Returns:
        A parametric :class:`Circuit` named ``"{name}-ansatz"`` without measurements; its
        parameters are ordered layer by layer, qubit 0 first.
    Raises:
        ValueError: ``layers < 1``.
    """
    n = problem.qubit_count
    layers = max(1, n // 2) if layers is None else layers
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    circuit = Circuit(n, name=f"{problem.name}-ansatz")
    reference = _ladder_preimage(problem.hf_basis_index, n, layers)
    for qubit in range(n):
        if (reference >> qubit) & 1:
            circuit.x(qubit)
    index = 0
    for layer in range(layers + 1):
        for qubit in range(n):
            circuit.ry(Parameter(f"{parameter_prefix}_{index}"), qubit)
            index += 1
        if layer < layers:
            for qubit in range(n - 1):
                circuit.cx(qubit, qubit + 1)
    return circuit


def has_excitation_ansatz(problem: MolecularProblem) -> bool:
    """Whether the molecule's data file carries an ADAPT-selected excitation ansatz."""
    return "ansatz" in problem.metadata


def _pauli_rotation(circuit: Circuit, pauli_string: str, angle: ParameterExpression) -> None:
    """Appends ``exp(-i angle/2 P)``: basis change to Z (H for X, RX(π/2) for Y), a CX ladder
    onto the last qubit of ``P``, RZ(angle), and the inverse (Nielsen & Chuang §4.7.3)."""
    factors = [(int(f[1:]), f[0]) for f in pauli_string.split()]
    qubits = [q for q, _ in factors]
    for qubit, pauli in factors:
        if pauli == "X":
            circuit.h(qubit)
        elif pauli == "Y":
            circuit.rx(math.pi / 2, qubit)
    for a, b in zip(qubits, qubits[1:]):
        circuit.cx(a, b)
    circuit.rz(angle, qubits[-1])
    for a, b in reversed(list(zip(qubits, qubits[1:]))):
        circuit.cx(a, b)
    for qubit, pauli in factors:
        if pauli == "X":
            circuit.h(qubit)
        elif pauli == "Y":
            circuit.rx(-math.pi / 2, qubit)


def excitation_ansatz(problem: MolecularProblem, *, parameter_prefix: str = "theta") -> Circuit:
    """The stored ADAPT-VQE excitation ansatz: ``Π_k exp(i θ_k A_k) |HF>``.

    Each ``A_k = -i(T_k − T_k†)`` is a fermionic single or double excitation of the
    Hartree–Fock reference, mapped and tapered like the Hamiltonian, stored as real Pauli
    terms ``Σ_j c_j P_j`` (selected offline by ADAPT-VQE, Grimsley et al., Nat. Commun. 10,
    3007 (2019)). The terms of one excitation commute, so ``exp(i θ A) = Π_j exp(i θ c_j P_j)``
    exactly, each a Pauli rotation with angle ``-2 c_j θ``. Zero parameters give exactly the
    HF state; one parameter per selected excitation (BeH2: 20, H2O: 25).

    Args:
        problem: from :func:`load_molecule`, with :func:`has_excitation_ansatz` true.
        parameter_prefix: symbols are named ``{prefix}_{k}``, in the stored order.
    Returns:
        A parametric :class:`Circuit` named ``"{name}-adapt"`` without measurements.
    Raises:
        ValueError: the molecule has no stored excitation ansatz.
    """
    if not has_excitation_ansatz(problem):
        raise ValueError(f"{problem.name} has no stored excitation ansatz; use ansatz()")
    circuit = Circuit(problem.qubit_count, name=f"{problem.name}-adapt")
    for qubit in range(problem.qubit_count):
        if (problem.hf_basis_index >> qubit) & 1:
            circuit.x(qubit)
    for k, generator in enumerate(problem.metadata["ansatz"]["generators"]):
        theta = Parameter(f"{parameter_prefix}_{k}")
        for term in generator["terms"]:
            angle = -2.0 * float(term["coefficient"]) * theta
            _pauli_rotation(circuit, term["pauli_string"], angle)
    return circuit
