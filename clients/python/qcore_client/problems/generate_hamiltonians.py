"""Regenerates the molecular qubit Hamiltonians shipped in ``qcore_client/problems/data``.

Run ``python -m qcore_client.problems.generate_hamiltonians`` (add ``--check`` to compare with
the shipped files instead of writing them). Needs the optional ``chem`` extra (PySCF and
OpenFermion); nothing else in qcore does: the JSON files are the run-time input.

Choices (each one is also written into the JSON):

* Electronic structure: restricted Hartree–Fock in the STO-3G basis with PySCF, charge 0,
  singlet. H2 at R = 0.735 Å, LiH at R = 1.595 Å (equilibrium geometries used by O'Malley et
  al., PRX 6, 031007 (2016) and Kandala et al., Nature 549, 242 (2017)), both along z. BeH2
  linear with r_e(Be–H) = 1.3264 Å (Shayesteh, Tereszchuk, Bernath & Colin, J. Chem. Phys.
  118, 3622 (2003)). H2O at the experimental equilibrium geometry of NIST CCCBDB (entry
  7732-18-5): r(O–H) = 0.9578 Å, ∠HOH = 104.4776° (Hoy & Bunker, J. Mol. Spectrosc. 74, 1
  (1979)).
* Active space. H2: none needed (2 spatial orbitals, 2 electrons). LiH (6 spatial orbitals,
  4 electrons): the Li 1s orbital is frozen (doubly occupied core folded into the constant and
  one-body terms, OpenFermion's ``get_active_space_integrals``) and the two π orbitals (irreps
  E1x/E1y of C∞v) are removed, leaving the three σ (A1) orbitals with 2 electrons, as in
  Kandala et al. 2017. The price is 1.26 mHa of correlation energy versus full FCI (below
  chemical accuracy, 1.6 mHa), recorded as ``active_space_error``. BeH2 and H2O (7 spatial
  orbitals each): the Be 1s / O 1s orbital is frozen and the other 6 orbitals are active
  (BeH2: 4 electrons, H2O: 8), so each ends at 12 spin orbitals and 10 qubits; for them the
  reference is PySCF's frozen-core FCI (``fci_energy`` keeps the all-electron value and
  ``active_space_error`` the frozen-core cost).
* Mapping: second-quantised Hamiltonian (OpenFermion ``InteractionOperator``) → spin orbitals
  ordered α₀…α_{m−1}, β₀…β_{m−1} → parity encoding (Seeley, Richard, Love, J. Chem. Phys. 137,
  224109 (2012); qubit j holds the parity of spin orbitals 0…j) → two-qubit reduction (Bravyi,
  Gambetta, Mezzacapo, Temme, arXiv:1701.08213): qubits m−1 (α-electron parity) and 2m−1
  (total parity) carry only ``I``/``Z`` and are replaced by their eigenvalues in the
  Hartree–Fock sector, ``(−1)^{N_α}`` and ``(−1)^{N}``. H2 ends at 2 qubits, LiH at 4.
* Sector check: a two-qubit reduction fixes only particle-number *parities*, so the generator
  checks that the ground-state energy of the shipped qubit Hamiltonian (``exact_energy``, exact
  diagonalisation) equals PySCF's CASCI energy for the same active space and electron count
  (to 1e-8 Ha), and that the Hartree–Fock bitstring reproduces the RHF energy.
* ``fci_energy`` is PySCF's FCI of the whole molecule (no frozen core, no removed orbitals).
* Ansatz (BeH2, H2O): ADAPT-VQE (Grimsley et al., Nat. Commun. 10, 3007 (2019)) over the
  spin-conserving UCCSD pool (occupied → virtual singles and doubles of the HF reference,
  ``T − T†`` mapped and tapered like the Hamiltonian) selects excitations until the exact
  state-vector energy is within ``adapt_target_error`` of the ground state; the tapered Pauli
  form of each selected generator is stored under ``ansatz`` (see
  :func:`qcore_client.problems.molecules.excitation_ansatz`).

All energies are total energies in Hartree, nuclear repulsion included.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qcore_client.observable import Observable

__all__ = ["MoleculeSpec", "MOLECULES", "build_hamiltonian", "main"]

#: Tolerances of the generator's self-checks, Hartree.
_SECTOR_TOLERANCE = 1e-8
#: Coefficients below this magnitude are dropped, Hartree.
_COEFFICIENT_CUTOFF = 1e-10
#: Half of the H2O equilibrium angle, 104.4776° (NIST CCCBDB, Hoy & Bunker 1979).
_SIN_HALF_HOH = float(np.sin(np.radians(104.4776 / 2)))
_COS_HALF_HOH = float(np.cos(np.radians(104.4776 / 2)))


@dataclass(frozen=True, slots=True)
class MoleculeSpec:
    """What to compute for one molecule.

    Attributes:
        name: file stem, e.g. ``"lih"``.
        geometry_angstrom: ``(element, (x, y, z))`` per atom, Å.
        frozen_core_orbitals: number of lowest RHF orbitals kept doubly occupied.
        active_irrep: keep only non-core orbitals of this irrep (``None``: keep all).
        published_fci_energy: a literature FCI energy to compare with, Hartree (``None``:
            none recorded; PySCF's FCI is the reference).
        published_source: where that value comes from.
        active_space_note: the active space in words (written into the JSON).
        adapt_target_error: when set, an ADAPT-VQE excitation ansatz is selected and stored,
            reaching this error on exact state vectors, Hartree.
        adapt_max_operators: the ADAPT selection's limit on operators.
    """

    name: str
    formula: str
    geometry_angstrom: tuple[tuple[str, tuple[float, float, float]], ...]
    frozen_core_orbitals: int
    active_irrep: str | None
    published_fci_energy: float | None = None
    published_source: str = ""
    active_space_note: str = "all orbitals active"
    adapt_target_error: float | None = None
    adapt_max_operators: int = 40
    basis: str = "sto-3g"
    charge: int = 0
    multiplicity: int = 1


MOLECULES: dict[str, MoleculeSpec] = {
    "h2": MoleculeSpec(
        name="h2", formula="H2",
        geometry_angstrom=(("H", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, 0.735))),
        frozen_core_orbitals=0, active_irrep=None,
        published_fci_energy=-1.1373,
        published_source=("H2/STO-3G FCI at 0.735 Å, e.g. O'Malley et al., PRX 6, 031007 "
                          "(2016) and Qiskit Nature's ground-state tutorial (-1.137306 Ha)"),
    ),
    "lih": MoleculeSpec(
        name="lih", formula="LiH",
        geometry_angstrom=(("Li", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, 1.595))),
        frozen_core_orbitals=1, active_irrep="A1",
        active_space_note=("Li 1s frozen; π orbitals (E1x, E1y) removed; the 3 σ (A1) "
                           "orbitals are active"),
        published_fci_energy=-7.8825,
        published_source=("LiH/STO-3G FCI near equilibrium (1.595 Å), commonly quoted as "
                          "about -7.8825 Ha, e.g. the exact curve of Kandala et al., Nature "
                          "549, 242 (2017); PySCF gives -7.882402 Ha here"),
    ),
    "beh2": MoleculeSpec(
        name="beh2", formula="BeH2",
        geometry_angstrom=(("Be", (0.0, 0.0, 0.0)), ("H", (0.0, 0.0, 1.3264)),
                           ("H", (0.0, 0.0, -1.3264))),
        frozen_core_orbitals=1, active_irrep=None,
        active_space_note="Be 1s frozen; the other 6 orbitals (4 electrons) are active",
        adapt_target_error=2e-4,
    ),
    "h2o": MoleculeSpec(
        name="h2o", formula="H2O",
        geometry_angstrom=(("O", (0.0, 0.0, 0.0)),
                           ("H", (0.0, 0.9578 * _SIN_HALF_HOH, 0.9578 * _COS_HALF_HOH)),
                           ("H", (0.0, -0.9578 * _SIN_HALF_HOH, 0.9578 * _COS_HALF_HOH))),
        frozen_core_orbitals=1, active_irrep=None,
        active_space_note="O 1s frozen; the other 6 orbitals (8 electrons) are active",
        adapt_target_error=2e-4,
    ),
}


def _require_chem() -> tuple[Any, Any]:
    try:
        import openfermion
        import pyscf
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "regenerating Hamiltonians needs the 'chem' extra: pip install 'qcore[chem]' "
            f"(pyscf, openfermion); import failed: {error}") from error
    return pyscf, openfermion


def _taper(qubit_operator: Any, eigenvalues: dict[int, int], qubit_count: int
           ) -> dict[str, float]:
    """Replaces ``Z_q`` by ``eigenvalues[q]`` and renumbers the remaining qubits."""
    kept = [q for q in range(qubit_count) if q not in eigenvalues]
    new_index = {q: i for i, q in enumerate(kept)}
    terms: dict[str, float] = {}
    for term, coefficient in qubit_operator.terms.items():
        value = complex(coefficient)
        factors = []
        for qubit, pauli in term:
            if qubit in eigenvalues:
                if pauli != "Z":
                    raise RuntimeError(f"term {term} acts with {pauli} on symmetry qubit {qubit}")
                value *= eigenvalues[qubit]
            else:
                factors.append(f"{pauli}{new_index[qubit]}")
        if abs(value.imag) > 1e-12:
            raise RuntimeError(f"term {term} has a complex coefficient {value}")
        key = " ".join(factors)
        terms[key] = terms.get(key, 0.0) + value.real
    return terms


def _term_order(item: tuple[str, float]) -> tuple[int, list[tuple[int, str]]]:
    factors = [(int(f[1:]), f[0]) for f in item[0].split()]
    return len(factors), factors


def build_hamiltonian(spec: MoleculeSpec) -> dict[str, Any]:
    """Computes one molecule's qubit Hamiltonian and reference energies (the JSON content).

    Raises:
        RuntimeError: a self-check fails (ground state outside the HF particle-number sector,
            HF bitstring energy differs from RHF, a non-Z operator on a tapered qubit).
    """
    pyscf, openfermion = _require_chem()
    from openfermion.chem.molecular_data import spinorb_from_spatial
    from openfermion.ops.representations import get_active_space_integrals
    from pyscf import ao2mo, fci, gto, mcscf, scf, symm

    atom = [(element, xyz) for element, xyz in spec.geometry_angstrom]
    mol = gto.M(atom=atom, basis=spec.basis, charge=spec.charge, spin=spec.multiplicity - 1,
                symmetry=True, unit="Angstrom", verbose=0)
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-12
    hf_energy = float(mf.kernel())
    if not mf.converged:
        raise RuntimeError(f"RHF did not converge for {spec.name}")
    orbital_irreps = [str(s) for s in symm.label_orb_symm(
        mol, mol.irrep_name, mol.symm_orb, mf.mo_coeff)]
    orbital_count = mf.mo_coeff.shape[1]
    fci_energy = float(fci.FCI(mf).kernel()[0])

    core = list(range(spec.frozen_core_orbitals))
    active = [i for i in range(spec.frozen_core_orbitals, orbital_count)
              if spec.active_irrep is None or orbital_irreps[i] == spec.active_irrep]
    removed = [i for i in range(orbital_count) if i not in core and i not in active]
    electrons = mol.nelectron - 2 * len(core)
    alpha, beta = (electrons + spec.multiplicity - 1) // 2, (electrons - spec.multiplicity + 1) // 2
    m = len(active)

    # MO integrals; OpenFermion's two-body layout is (pq|rs) transposed to [p, r, s, q].
    mo = mf.mo_coeff
    one_body = mo.T @ mf.get_hcore() @ mo
    eri = ao2mo.restore(1, ao2mo.kernel(mol, mo), orbital_count)
    two_body = np.asarray(eri.transpose(0, 2, 3, 1), order="C")
    core_constant, one_active, two_active = get_active_space_integrals(
        one_body, two_body, core, active)
    one_spin, two_spin = spinorb_from_spatial(one_active, two_active)
    nuclear_repulsion = float(mol.energy_nuc())
    interaction = openfermion.InteractionOperator(
        nuclear_repulsion + core_constant, one_spin, 0.5 * two_spin)
    symmetry_qubits = {m - 1: (-1) ** alpha, 2 * m - 1: (-1) ** (alpha + beta)}

    def to_qubits(operator: Any) -> dict[str, float]:
        """Spin-orbital-interleaved fermion operator -> tapered parity Pauli terms."""
        fermion = openfermion.reorder(operator, openfermion.up_then_down, num_modes=2 * m)
        parity = openfermion.binary_code_transform(fermion, openfermion.parity_code(2 * m))
        return _taper(parity, symmetry_qubits, 2 * m)

    terms = to_qubits(openfermion.get_fermion_operator(interaction))
    observable = Observable.from_dict(terms).simplify(atol=_COEFFICIENT_CUTOFF)
    qubit_count = 2 * m - 2
    exact_energy = observable.ground_state_energy(qubit_count=qubit_count)

    # Hartree–Fock reference in the tapered parity encoding.
    occupation = [int(i < alpha) for i in range(m)] + [int(i < beta) for i in range(m)]
    parities = np.cumsum(occupation) % 2
    kept = [q for q in range(2 * m) if q not in symmetry_qubits]
    hf_index = sum(int(parities[q]) << i for i, q in enumerate(kept))
    hf_bitstring = format(hf_index, f"0{qubit_count}b")
    hf_check = float(observable.diagonal(qubit_count=qubit_count)[hf_index])
    if abs(hf_check - hf_energy) > _SECTOR_TOLERANCE:
        raise RuntimeError(f"{spec.name}: <HF|H|HF> = {hf_check} but RHF gives {hf_energy}")

    casci = mcscf.CASCI(mf, m, (alpha, beta))
    casci.verbose = 0
    casci.fcisolver.conv_tol = 1e-12
    casci_energy = float(casci.kernel(casci.sort_mo(active, base=0))[0])
    if abs(casci_energy - exact_energy) > _SECTOR_TOLERANCE:
        raise RuntimeError(
            f"{spec.name}: qubit ground state {exact_energy} differs from CASCI {casci_energy}; "
            "the tapered sector's ground state has the wrong electron number")

    ordered = sorted(observable.terms, key=_term_order)
    return {
        "schema_version": 1,
        "name": spec.name,
        "formula": spec.formula,
        "description": (f"{spec.formula}/{spec.basis.upper()} electronic Hamiltonian on "
                        f"{qubit_count} qubits (parity mapping, two-qubit reduction)"),
        "units": {"energy": "hartree", "length": "angstrom"},
        "molecule": {
            "geometry_angstrom": [[e, list(xyz)] for e, xyz in spec.geometry_angstrom],
            "basis": spec.basis, "charge": spec.charge, "multiplicity": spec.multiplicity,
            "electron_count": int(mol.nelectron), "spatial_orbital_count": orbital_count,
            "orbital_energies_hartree": [float(e) for e in mf.mo_energy],
            "orbital_irreps": orbital_irreps, "point_group": str(mol.groupname),
        },
        "active_space": {
            "frozen_core_orbitals": core, "active_orbitals": active, "removed_orbitals": removed,
            "active_electron_count": electrons, "alpha_electron_count": alpha,
            "beta_electron_count": beta,
            "frozen_core_energy": float(core_constant),
            "note": spec.active_space_note,
        },
        "mapping": {
            "encoding": "parity",
            "spin_orbital_order": "alpha orbitals 0..m-1, then beta orbitals 0..m-1",
            "reduction": "two-qubit reduction (Bravyi et al., arXiv:1701.08213)",
            "tapered_qubits": sorted(symmetry_qubits),
            "tapered_eigenvalues": [symmetry_qubits[q] for q in sorted(symmetry_qubits)],
            "qubit_convention": "qubit q is bit q of a basis index (qubit 0 least significant)",
        },
        "qubit_count": qubit_count,
        "terms": [{"pauli_string": s, "coefficient": c} for s, c in ordered],
        "exact_energy": exact_energy,
        "casci_energy": casci_energy,
        "fci_energy": fci_energy,
        "hf_energy": hf_energy,
        "nuclear_repulsion_energy": nuclear_repulsion,
        "active_space_error": exact_energy - fci_energy,
        "hf_bitstring": hf_bitstring,
        "hf_bitstring_order": "qubit 0 is the rightmost character (as in common.proto)",
        "hf_basis_index": hf_index,
        **({} if spec.published_fci_energy is None else {"published_reference": {
            "fci_energy": spec.published_fci_energy, "source": spec.published_source,
            "difference": fci_energy - spec.published_fci_energy}}),
        **({} if spec.adapt_target_error is None else {"ansatz": _adapt_ansatz(
            spec, observable, to_qubits, alpha, beta, m, hf_index, exact_energy)}),
        "generated_by": "python -m qcore_client.problems.generate_hamiltonians",
        "versions": {
            "python": platform.python_version(), "pyscf": pyscf.__version__,
            "openfermion": openfermion.__version__, "numpy": np.__version__,
        },
    }


def _excitation_pool(alpha: int, beta: int, m: int) -> list[tuple[str, Any]]:
    """Spin-conserving UCCSD pool: ``(label, T − T†)`` as OpenFermion FermionOperators.

    Spin orbitals interleaved (``2p`` = α of spatial orbital ``p``, ``2p + 1`` = β), as
    ``spinorb_from_spatial`` orders them; occupied are the HF orbitals ``p < alpha`` (α) and
    ``p < beta`` (β).
    """
    from openfermion import FermionOperator, hermitian_conjugated

    occupied = [2 * p for p in range(alpha)] + [2 * p + 1 for p in range(beta)]
    virtual = [2 * p for p in range(alpha, m)] + [2 * p + 1 for p in range(beta, m)]
    pool: list[tuple[str, Any]] = []
    for i in occupied:
        for a in virtual:
            if i % 2 == a % 2:
                t = FermionOperator(((a, 1), (i, 0)))
                pool.append((f"{a}^ {i}", t - hermitian_conjugated(t)))
    for x, i in enumerate(occupied):
        for j in occupied[x + 1:]:
            for y, a in enumerate(virtual):
                for b in virtual[y + 1:]:
                    if sorted((i % 2, j % 2)) == sorted((a % 2, b % 2)):
                        t = FermionOperator(((a, 1), (b, 1), (j, 0), (i, 0)))
                        pool.append((f"{a}^ {b}^ {j} {i}", t - hermitian_conjugated(t)))
    return pool


def _adapt_ansatz(spec: MoleculeSpec, observable: Observable, to_qubits: Any, alpha: int,
                  beta: int, m: int, hf_index: int, exact_energy: float) -> dict[str, Any]:
    """Selects the excitation ansatz by ADAPT-VQE and returns its JSON block."""
    from qcore_client.problems.adapt_selection import adapt_select

    n = 2 * m - 2
    pool = []
    for label, generator in _excitation_pool(alpha, beta, m):
        # A = −i(T − T†) is Hermitian with real Pauli coefficients; exp(θ(T − T†)) = exp(iθA).
        hermitian = to_qubits(-1j * generator)
        terms = Observable.from_dict(hermitian).simplify(atol=_COEFFICIENT_CUTOFF)
        pool.append((label, terms))
    matrices = [1j * terms.sparse_matrix(qubit_count=n) for _, terms in pool]
    reference = np.zeros(2**n)
    reference[hf_index] = 1.0
    result = adapt_select(observable.sparse_matrix(qubit_count=n), matrices, reference,
                          exact_energy=exact_energy, target_error=spec.adapt_target_error,
                          max_operators=spec.adapt_max_operators)
    return {
        "kind": "adapt-uccsd",
        "method": ("ADAPT-VQE selection (Grimsley et al., Nat. Commun. 10, 3007 (2019)) from "
                   "the spin-conserving UCCSD pool on exact state vectors"),
        "state": "prod_k exp(i theta_k A_k) |hf>, k = 0 first; A_k = sum_j c_j P_j",
        "pool_size": len(pool),
        "target_error": spec.adapt_target_error,
        "generators": [{"excitation": pool[i][0],
                        "spin_orbital_order": "interleaved (2p alpha, 2p+1 beta)",
                        "terms": [{"pauli_string": s, "coefficient": c}
                                  for s, c in sorted(pool[i][1].terms, key=_term_order)]}
                       for i in result.selected],
        "adapt_energies": list(result.energies),
        "adapt_angles": list(result.angles),
        "adapt_error": result.energies[-1] - exact_energy,
        "zero_start_error": result.zero_start_energy - exact_energy,
    }


def _default_output_dir() -> Path:
    return Path(str(resources.files("qcore_client.problems") / "data"))


def _max_difference(new: dict[str, Any], old: dict[str, Any]) -> float:
    new_terms = {t["pauli_string"]: t["coefficient"] for t in new["terms"]}
    old_terms = {t["pauli_string"]: t["coefficient"] for t in old["terms"]}
    keys = set(new_terms) | set(old_terms)
    diffs = [abs(new_terms.get(k, 0.0) - old_terms.get(k, 0.0)) for k in keys]
    diffs += [abs(new[k] - old[k]) for k in ("exact_energy", "fci_energy", "hf_energy")]
    return float(max(diffs))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: writes ``<name>.json`` per molecule, or with ``--check`` compares."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("molecules", nargs="*", metavar="MOLECULE",
                        help=f"molecules to build (default: all of {sorted(MOLECULES)})")
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--check", action="store_true",
                        help="compare with the existing files (tolerance 1e-8 Ha) instead")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.molecules) - set(MOLECULES))
    if unknown:
        parser.error(f"unknown molecule(s) {unknown}; choose from {sorted(MOLECULES)}")
    output_dir = args.output_dir or _default_output_dir()
    status = 0
    for name in args.molecules or sorted(MOLECULES):
        data = build_hamiltonian(MOLECULES[name])
        path = output_dir / f"{name}.json"
        if args.check:
            difference = _max_difference(data, json.loads(path.read_text()))
            ok = difference < 1e-8
            status |= not ok
            print(f"{path}: max difference {difference:.2e} Ha {'ok' if ok else 'MISMATCH'}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        print(f"{name}: {data['qubit_count']} qubits, {len(data['terms'])} terms, "
              f"exact {data['exact_energy']:.8f}, FCI {data['fci_energy']:.8f}, "
              f"HF {data['hf_energy']:.8f} Ha -> {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
