"""Adjoint differentiation: ``<H>`` and its gradient in one forward and one backward sweep.

Jones & Gacon, "Efficient calculation of gradients in classical simulations of variational
quantum algorithms", arXiv:2009.02823 (2020), Algorithm 1. With
``psi_k = U_k ... U_1 |0>``, ``lambda_k = U_{k+1}^† ... U_N^† H psi_N`` and a parametric gate
``U_k = exp(-i theta_k G_k / 2)`` (``G_k`` Hermitian, ``G_k**2 = I``, so ``dU_k/dtheta =
-i/2 G_k U_k``):

    dE/dtheta_k = 2 Re <lambda_k| (-i/2) G_k |psi_k> = Im <lambda_k| G_k |psi_k>.

The backward sweep walks ``k = N..1`` keeping two states (``psi_k`` and ``lambda_k``), so the
whole gradient costs about three state-vector simulations plus one Pauli-sum application,
whatever the number of parameters. Constant runs of gates are fused (:mod:`.fusion`) in both
sweeps; parametric gates are never fused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator.dispatch import index_offsets, insertion_masks, prepare_matrix
from quantum_service.simulator.element_kernels import reduced_matrix
from quantum_service.simulator.fusion import (
    FusedProgram,
    FusionPlan,
    embed_matrix,
    fuse,
    prepare_step,
)
from quantum_service.simulator.ops import UnitaryOp
from quantum_service.simulator.pauli import PauliSum
from quantum_service.simulator.pauli_kernels import apply_pauli_sum

__all__ = ["AdjointProgram", "adjoint_gradient", "check_generator", "pauli_generator"]

_PAULI = {
    "I": np.eye(2, dtype=np.complex128),
    "X": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "Z": np.array([[1, 0], [0, -1]], dtype=np.complex128),
}

#: Tolerance of the checks ``G = G^†`` and ``G**2 = I``.
_GENERATOR_ATOL = 1e-10


def pauli_generator(letters: str) -> np.ndarray:
    """The Pauli product ``letters[0] ⊗ letters[1] ⊗ ...`` (first letter = first qubit = most
    significant bit), complex128 ``(2**k, 2**k)``: the generator of ``rx`` (``"X"``), ``ry``
    (``"Y"``), ``rz`` (``"Z"``), ``rxx`` (``"XX"``), ``ryy``, ``rzz``, ``rzx`` ...

    Raises:
        InvalidProgramError: an empty string or a letter other than I, X, Y, Z.
    """
    if not letters or any(p not in _PAULI for p in letters):
        raise InvalidProgramError(f"a Pauli generator is a string over IXYZ, got {letters!r}")
    out = np.eye(1, dtype=np.complex128)
    for p in letters:
        out = np.kron(out, _PAULI[p])
    return out


def check_generator(generator: object, arity: int, *, what: str) -> np.ndarray:
    """Checks that ``generator`` is a Hermitian involution on ``arity`` qubits.

    Returns:
        it as complex128 ``(2**arity, 2**arity)``.
    Raises:
        InvalidProgramError: wrong shape, not Hermitian, or ``G**2 != I`` (then
            ``exp(-i theta G / 2)`` does not have the derivative the adjoint method uses).
    """
    g = np.asarray(generator, dtype=np.complex128)
    dim = 1 << arity
    if g.shape != (dim, dim):
        raise InvalidProgramError(f"{what}: the generator must have shape ({dim}, {dim}) for "
                                  f"{arity} qubit(s), got {g.shape}")
    if not np.allclose(g, g.conj().T, atol=_GENERATOR_ATOL, rtol=0.0):
        raise InvalidProgramError(f"{what}: the generator is not Hermitian")
    if not np.allclose(g @ g, np.eye(dim), atol=_GENERATOR_ATOL, rtol=0.0):
        raise InvalidProgramError(
            f"{what}: the generator must square to the identity (a Pauli product, or e.g. "
            "cos(phi) X + sin(phi) Y for r(theta, phi)); rescale the parameter otherwise")
    return g


class AdjointProgram:
    """A parametric program prepared once for repeated energies and adjoint gradients.

    Args:
        qubit_count: ``n``.
        ops: ``(qubits, matrix)`` pairs; at parametric positions the matrix may be None.
        parametric_positions: indices into ``ops`` of the gates ``exp(-i theta G / 2)``.
        generators: one ``G`` per parametric position (same order, sorted ascending by
            position), on that gate's qubits; see :func:`check_generator`.
        pauli_sum: the observable ``H`` (on at most ``n`` qubits).
        dtype: complex128 (default) or complex64.
        max_fused_qubits: passed to :func:`~.fusion.fuse`.
        plan: the fusion plan of ``ops`` with these parametric positions, when the caller has
            made it already (then ``max_fused_qubits`` is not used).
        parallel: force the multi-threaded kernels (default: by size).
    Raises:
        InvalidProgramError: bad operations, positions, generators or observable width.
    """

    def __init__(self, qubit_count: int, ops: Sequence[UnitaryOp | tuple[Sequence[int], None]],
                 parametric_positions: Sequence[int], generators: Sequence[np.ndarray],
                 pauli_sum: PauliSum, *, dtype: npt.DTypeLike = np.complex128,
                 max_fused_qubits: int | None = None, parallel: bool | None = None,
                 plan: FusionPlan | None = None) -> None:
        positions = [int(p) for p in parametric_positions]
        if positions != sorted(set(positions)):
            raise InvalidProgramError("parametric positions must be distinct and ascending")
        if len(generators) != len(positions):
            raise InvalidProgramError(f"expected {len(positions)} generators, got "
                                      f"{len(generators)}")
        if not isinstance(pauli_sum, PauliSum) or pauli_sum.qubit_count > qubit_count:
            raise InvalidProgramError("the observable must be a PauliSum on at most "
                                      f"{qubit_count} qubits")
        options = {} if max_fused_qubits is None else {"max_fused_qubits": max_fused_qubits}
        if plan is None:
            plan = fuse(qubit_count, ops, parametric_positions=positions, **options)
        elif plan.parametric_positions != tuple(positions) or plan.source_count != len(ops):
            raise InvalidProgramError("the fusion plan was made for another program")
        self.program: FusedProgram = plan.prepare(dtype=dtype, parallel=parallel)
        self.pauli_sum = pauli_sum
        self.qubit_count = plan.qubit_count
        self._parallel = self.program.parallel
        dtype = self.program.dtype
        qubits_of = {p: q for step in plan.steps for p, q, m in step.members if m is None}
        self._generators: dict[int, np.ndarray] = {
            position: check_generator(g, len(qubits_of[position]), what=f"operation {position}")
            for position, g in zip(positions, generators, strict=True)
        }
        # Generators stacked by size, for :meth:`rotations`.
        order = [self._generators[p] for p in positions]
        self._stacks_index = list(range(len(order)))
        self._stacks = []
        for dim in sorted({g.shape[0] for g in order}):
            indices = np.array([i for i, g in enumerate(order) if g.shape[0] == dim], dtype=int)
            self._stacks.append((indices, np.stack([order[i] for i in indices])))
        self._step_masks = {s: (insertion_masks(step.qubits), index_offsets(step.qubits))
                            for s, step in enumerate(plan.steps) if step.is_parametric}
        self._inverse_calls = [
            prepare_step(plan.qubit_count, s, dtype=dtype, parallel=self._parallel, inverse=True)
            for s in plan.steps
        ]

    @property
    def generators(self) -> tuple[np.ndarray, ...]:
        """The checked generators, complex128, in position order."""
        return tuple(self._generators[p] for p in self.program.plan.parametric_positions)

    def rotations(self, angles: np.ndarray) -> list[np.ndarray]:
        """``exp(-i θ_k G_k / 2) = cos(θ_k/2) I - i sin(θ_k/2) G_k`` (as ``G_k**2 = I``) for
        every parametric gate: the matrices :meth:`energy` and :meth:`gradient` take.

        Args:
            angles: float64 ``(P,)``, radians, in position order.
        Raises:
            InvalidProgramError: wrong length or non-finite angles.
        """
        theta = np.asarray(angles, dtype=np.float64)
        if theta.shape != (len(self._stacks_index),) or not np.isfinite(theta).all():
            raise InvalidProgramError(f"expected {len(self._stacks_index)} finite angles, "
                                      f"got shape {theta.shape}")
        out: list[np.ndarray] = [np.empty(0)] * theta.size
        for indices, stack in self._stacks:
            half = 0.5 * theta[indices]
            eye = np.eye(stack.shape[1])
            mats = np.cos(half)[:, None, None] * eye - 1j * np.sin(half)[:, None, None] * stack
            for i, m in zip(indices, mats, strict=True):
                out[i] = m
        return out

    def _forward(self, matrices: Sequence[np.ndarray]) -> np.ndarray:
        state = np.zeros(1 << self.qubit_count, dtype=self.program.dtype)
        state[0] = 1.0
        return self.program.run(state, matrices)

    def energy(self, matrices: Sequence[np.ndarray]) -> float:
        """``<psi(θ)|H|psi(θ)>`` with the parametric gates bound to ``matrices`` (in position
        order)."""
        from quantum_service.simulator.expectation import expectation_value

        return expectation_value(self._forward(matrices), self.pauli_sum)

    def energies(self, angle_sets: np.ndarray) -> np.ndarray:
        """``<H>`` for many parameter sets (the batched evaluation of a session).

        Args:
            angle_sets: float64 ``(m, P)``: per set, the rotation angle of every parametric
                gate (position order); the caller maps its parameters to angles.
        Returns:
            float64 ``(m,)``.
        Raises:
            InvalidProgramError: wrong shape or non-finite angles.
        """
        from quantum_service.simulator.expectation import expectation_value

        sets = np.atleast_2d(np.asarray(angle_sets, dtype=np.float64))
        state = np.empty(1 << self.qubit_count, dtype=self.program.dtype)
        out = np.empty(sets.shape[0])
        for row, angles in enumerate(sets):
            state.fill(0.0)
            state[0] = 1.0
            self.program.run(state, self.rotations(angles))
            out[row] = expectation_value(state, self.pauli_sum)
        return out

    def gradients(self, angle_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(energies (m,), dE/dθ (m, P))`` for many parameter sets; see :meth:`energies`."""
        sets = np.atleast_2d(np.asarray(angle_sets, dtype=np.float64))
        energies = np.empty(sets.shape[0])
        grads = np.empty((sets.shape[0], len(self._stacks_index)))
        for row, angles in enumerate(sets):
            energies[row], grads[row] = self.gradient(self.rotations(angles))
        return energies, grads

    def gradient(self, matrices: Sequence[np.ndarray]) -> tuple[float, np.ndarray]:
        """``(E, dE/dθ_k for each parametric gate)``, float and float64 ``(P,)``.

        A fused parametric step ``V = U_m ... U_1`` (its members) is undone in one pass: at its
        output, ``<λ_k|G_k|ψ_k> = <λ|A_k G_k A_k^†|ψ>`` with ``A_k`` the members after ``k``,
        and every such element is ``Σ_rc M[r, c] R[r, c]`` with the step's reduced matrix
        ``R[r, c] = Σ_b conj(λ[b | r]) ψ[b | c]``, one pass for all members.

        Args:
            matrices: the bound parametric matrices ``exp(-i θ_k G_k / 2)``, position order.
        Raises:
            InvalidProgramError: a matrix is missing.
        """
        plan = self.program.plan
        lookup = plan.lookup(matrices)
        psi = self._forward(matrices)
        lam = np.zeros_like(psi)
        apply_pauli_sum(psi, self.pauli_sum.grouped(), self.pauli_sum.coefficients, lam,
                        parallel=self._parallel)
        energy = float(np.vdot(psi, lam).real)
        grads = np.zeros(len(plan.parametric_positions), dtype=np.float64)
        index_of = {p: i for i, p in enumerate(plan.parametric_positions)}
        steps = plan.steps
        for s in range(len(steps) - 1, -1, -1):
            step = steps[s]
            if step.is_parametric:
                low_masks, offsets = self._step_masks[s]
                r = reduced_matrix(lam, psi, low_masks, offsets, parallel=self._parallel)
                after = np.eye(1 << len(step.qubits), dtype=np.complex128)
                for position, qubits, constant in reversed(step.members):
                    if constant is None:
                        g = self._generators[position]
                        if qubits != step.qubits:
                            g = embed_matrix(g, qubits, step.qubits)
                        g = after @ g @ after.conj().T
                        grads[index_of[position]] = float(np.sum(g * r).imag)
                    m = np.asarray(lookup[position] if constant is None else constant)
                    if qubits != step.qubits:
                        m = embed_matrix(m, qubits, step.qubits)
                    after = after @ m
                if s == 0:
                    break
                call = prepare_matrix(step.qubits, after.conj().T, dtype=psi.dtype,
                                      parallel=self._parallel)
            else:
                if s == 0:
                    break
                call = self._inverse_calls[s]
            if call is not None:
                call[0](psi, *call[1])
                call[0](lam, *call[1])
        return energy, grads


def adjoint_gradient(qubit_count: int, ops: Sequence[UnitaryOp],
                     parametric_positions: Sequence[int], generators: Sequence[np.ndarray],
                     pauli_sum: PauliSum, *, dtype: npt.DTypeLike = np.complex128
                     ) -> tuple[float, np.ndarray]:
    """``(E, dE/dθ)`` for ``E = <0|U^† H U|0>``, ``U = ops[-1] ... ops[0]``, by the adjoint
    method; see the module docstring.

    Every parametric gate must equal ``exp(-i θ_k G_k / 2)`` for its generator ``G_k``: the
    derivative is taken with respect to that ``θ_k``; the caller applies the chain rule to its
    own parameters. For many evaluations of one program build an :class:`AdjointProgram` once.

    Args:
        qubit_count: ``n``.
        ops: ``(qubits, matrix)`` pairs with the parametric matrices bound.
        parametric_positions: ascending indices into ``ops``.
        generators: ``G_k`` per parametric position, on that gate's qubits (e.g.
            ``pauli_generator("Z")`` for ``rz``, ``pauli_generator("XX")`` for ``rxx``).
        pauli_sum: ``H``.
        dtype: complex128 or complex64 (gradients then carry ~1e-6 relative error).
    Returns:
        ``(E, grads)``: float, float64 ``(P,)`` in position order.
    Raises:
        InvalidProgramError: see :class:`AdjointProgram`.
    """
    positions = [int(p) for p in parametric_positions]
    program = AdjointProgram(qubit_count, ops, positions, generators, pauli_sum, dtype=dtype)
    return program.gradient([ops[p][1] for p in positions])
