"""Real problem inputs for qcore: molecular Hamiltonians (H2, LiH, BeH2, H2O) and QAOA MaxCut.

Molecular Hamiltonians are shipped as data (``data/*.json``) and regenerated with PySCF and
OpenFermion by ``python -m qcore_client.problems.generate_hamiltonians`` (the ``chem`` extra);
MaxCut graphs come from networkx's bundled real-world networks.
"""

from __future__ import annotations

from qcore_client.problems.maxcut import (
    MaxCutProblem,
    approximation_ratio,
    available_graphs,
    maxcut_problem,
    maxcut_problem_from_graph,
    qaoa_ansatz,
)
from qcore_client.problems.molecules import (
    CHEMICAL_ACCURACY_HARTREE,
    MolecularProblem,
    ansatz,
    available_molecules,
    excitation_ansatz,
    has_excitation_ansatz,
    load_molecule,
)

__all__ = [
    "CHEMICAL_ACCURACY_HARTREE", "MaxCutProblem", "MolecularProblem", "ansatz",
    "approximation_ratio", "available_graphs", "available_molecules", "excitation_ansatz",
    "has_excitation_ansatz", "load_molecule",
    "maxcut_problem", "maxcut_problem_from_graph", "qaoa_ansatz",
]
