"""The fused density-matrix engine of noisy executables (small exact noisy runs)."""

from __future__ import annotations

import numpy as np

from quantum_service.engines.base import EngineChoice
from quantum_service.engines.exact import ExactStateEngine
from quantum_service.engines.executable import Executable
from quantum_service.simulator import (
    Channel,
    FusedProgram,
    PauliSum,
    dm_expectation_value,
    dm_probabilities,
    dm_term_expectations,
    dm_zero_state,
    fuse,
)

__all__ = ["DM_MAX_FUSED_QUBITS", "FusedDensityMatrixEngine"]

#: Largest fused block on the ``2n``-qubit vectorised density matrix: a 2-qubit channel's
#: superoperator already spans 4 of its qubits (``Q + (Q + n)``).
DM_MAX_FUSED_QUBITS = 4


class FusedDensityMatrixEngine(ExactStateEngine):
    """A noisy executable as one fused program on the vectorised density matrix.

    An ``n``-qubit density matrix is a ``2n``-qubit vector (layout in
    :mod:`quantum_service.simulator.density_matrix`): a unitary ``U`` on qubits ``Q`` is ``U``
    on ``Q`` and ``conj(U)`` on ``Q + n``; a channel ``{K_i}`` is the superoperator
    ``Σ K_i ⊗ conj(K_i)`` on ``Q + (Q + n)`` (Wood, Biamonte & Cory, QIC 15, 759 (2015), §3).
    These are plain matrices on the ``2n``-qubit vector, so the state-vector fusion planner
    merges gates, coherent errors and noise channels alike (superoperators compose by matrix
    product); the plan is made once per executable and parametric gates are rebound per
    parameter set.

    Args:
        exe: an executable (noisy or not) on at most
            :data:`~quantum_service.simulator.MAX_DENSITY_MATRIX_QUBITS` qubits.
        choice: the engine's name and reason, recorded on results.
    """

    def __init__(self, exe: Executable, choice: EngineChoice) -> None:
        self._exe = exe
        self._choice = choice
        n = exe.qubit_count
        ops: list[tuple[tuple[int, ...], np.ndarray | None]] = []
        # executable position of a parametric gate -> its two positions (U, conj U)
        self._parametric: dict[int, tuple[int, int]] = {}
        for position, op in enumerate(exe.steps):
            if isinstance(op, Channel):
                ops.append((op.qubits + tuple(q + n for q in op.qubits), op.superoperator))
            elif op is None:
                qubits = next(s.qubits for s in exe.parametric if s.position == position)
                self._parametric[position] = (len(ops), len(ops) + 1)
                ops.append((qubits, None))
                ops.append((tuple(q + n for q in qubits), None))
            else:
                qubits, matrix = op  # type: ignore[misc]
                ops.append((tuple(qubits), matrix))
                ops.append((tuple(q + n for q in qubits), np.conj(matrix)))
        positions = [p for pair in self._parametric.values() for p in pair]
        self._program: FusedProgram = fuse(2 * n, ops, parametric_positions=positions,
                                           max_fused_qubits=DM_MAX_FUSED_QUBITS).prepare()

    @property
    def choice(self) -> EngineChoice:
        return self._choice

    @property
    def pass_count(self) -> int:
        """Kernel passes per evaluation after fusion (diagnostics)."""
        return len(self._program.plan.steps)

    def state(self, x: np.ndarray, shift: tuple[int, float] | None = None) -> np.ndarray:
        bound: dict[int, np.ndarray] = {}
        for position, matrix in self._exe.parametric_matrices(x, shift).items():
            ket, bra = self._parametric[position]
            bound[ket] = matrix
            bound[bra] = np.conj(matrix)
        return self._program.run(dm_zero_state(self._exe.qubit_count), bound)

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        return dm_probabilities(state)  # round-off negatives clipped to 0

    def expectation(self, state: np.ndarray, pauli_sum: PauliSum) -> float:
        return float(dm_expectation_value(state, pauli_sum))

    def term_expectations(self, state: np.ndarray, pauli_sum: PauliSum) -> np.ndarray:
        return dm_term_expectations(state, pauli_sum)

    def adjoint_program(self, pauli_sum: PauliSum) -> None:
        """None: adjoint differentiation needs a pure state."""
        return None
