"""Offline ADAPT-VQE operator selection for the shipped molecular ansätze.

Grimsley, Economou, Barnes & Mayhall, "An adaptive variational algorithm for exact molecular
simulations on a quantum computer", Nat. Commun. 10, 3007 (2019): starting from the
Hartree–Fock state, repeatedly append the pool generator ``G_k`` with the largest energy
gradient ``|<ψ|[H, G_k]|ψ>|`` and re-optimise all angles of
``|ψ(θ)> = Π_k exp(θ_k G_k) |HF>`` (first selected operator applied first), until the energy is
within a target of the exact ground state. Run by
:mod:`qcore_client.problems.generate_hamiltonians` with exact state vectors; the selected
generators are stored with the Hamiltonian, and the main job optimises their angles from zero
on a QPU through the services. Only NumPy and SciPy are needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import minimize

__all__ = ["AdaptResult", "adapt_select", "ansatz_energy_and_gradient"]


@dataclass(frozen=True, slots=True)
class AdaptResult:
    """Selected pool indices (in circuit order), optimised angles and energies, Hartree."""

    selected: tuple[int, ...]
    angles: tuple[float, ...]
    energies: tuple[float, ...]
    zero_start_energy: float


def ansatz_energy_and_gradient(hamiltonian: sp.csr_matrix, generators: Sequence[sp.csr_matrix],
                               reference: np.ndarray, angles: np.ndarray
                               ) -> tuple[float, np.ndarray]:
    """``E(θ) = <ψ(θ)|H|ψ(θ)>`` and ``dE/dθ`` by adjoint differentiation.

    Args:
        hamiltonian: Hermitian CSR matrix, shape ``(d, d)``.
        generators: anti-Hermitian CSR matrices ``G_k``, shape ``(d, d)``.
        reference: the normalised start state, shape ``(d,)``.
        angles: ``θ``, shape ``(len(generators),)``.
    Returns:
        ``(energy, gradient)``; the gradient has the shape of ``angles``.
    """
    states = [np.asarray(reference, dtype=np.complex128)]
    for generator, angle in zip(generators, angles, strict=True):
        states.append(spla.expm_multiply(angle * generator, states[-1]))
    psi = states[-1]
    bra = hamiltonian @ psi
    energy = float(np.real(np.vdot(psi, bra)))
    gradient = np.zeros(len(generators))
    for k in reversed(range(len(generators))):
        gradient[k] = 2.0 * float(np.real(np.vdot(bra, generators[k] @ states[k + 1])))
        bra = spla.expm_multiply(-angles[k] * generators[k], bra)
    return energy, gradient


def adapt_select(hamiltonian: sp.csr_matrix, pool: Sequence[sp.csr_matrix], reference: np.ndarray,
                 *, exact_energy: float, target_error: float, max_operators: int
                 ) -> AdaptResult:
    """Greedy ADAPT-VQE selection (Grimsley et al. 2019) until ``E - exact < target_error``.

    Args:
        hamiltonian, reference: as :func:`ansatz_energy_and_gradient`.
        pool: candidate anti-Hermitian generators.
        exact_energy: the lowest eigenvalue of ``hamiltonian``, Hartree.
        target_error: stop once the optimised energy is this close, Hartree (> 0).
        max_operators: at most this many operators (an operator may be chosen again).
    Returns:
        The selection; ``zero_start_energy`` is the energy L-BFGS-B reaches with all selected
        angles started at zero (what a VQE of the stored ansatz starts from).
    Raises:
        RuntimeError: the target is not reached within ``max_operators``.
    """
    selected: list[int] = []
    angles = np.zeros(0)
    energies: list[float] = []
    psi = np.asarray(reference, dtype=np.complex128)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        return ansatz_energy_and_gradient(hamiltonian, [pool[i] for i in selected], reference, x)

    while len(selected) < max_operators:
        bra = hamiltonian @ psi
        scores = [abs(2.0 * float(np.real(np.vdot(bra, g @ psi)))) for g in pool]
        selected.append(int(np.argmax(scores)))
        result = minimize(objective, np.append(angles, 0.0), jac=True, method="BFGS",
                          options={"gtol": 1e-8})
        angles = np.asarray(result.x)
        energies.append(float(result.fun))
        psi = reference.astype(np.complex128)
        for i, angle in zip(selected, angles, strict=True):
            psi = spla.expm_multiply(angle * pool[i], psi)
        if energies[-1] - exact_energy < target_error:
            zero = minimize(objective, np.zeros(len(selected)), jac=True, method="L-BFGS-B",
                            options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-8})
            return AdaptResult(tuple(selected), tuple(float(a) for a in angles),
                               tuple(energies), float(zero.fun))
    raise RuntimeError(f"ADAPT did not reach {target_error} Ha within {max_operators} operators "
                       f"(last error {energies[-1] - exact_energy:.2e} Ha)")
