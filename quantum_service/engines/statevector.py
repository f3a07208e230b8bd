"""The fused state-vector engine of noiseless executables."""

from __future__ import annotations

import numpy as np

from quantum_service.engines.base import EngineChoice, TermMixture
from quantum_service.engines.sampling import sample_clbit_counts
from quantum_service.engines.executable import Executable, ParametricStep
from quantum_service.errors import QcoreError
from quantum_service.simulator import (
    AdjointProgram,
    FusedProgram,
    FusionPlan,
    PauliSum,
    expectation_value,
    fuse,
    pauli_generator,
    probabilities,
    term_expectations,
)

__all__ = ["FusedStateVectorEngine", "rotation_generator"]

_PAULI_GENERATORS = {"rz": "Z", "rx": "X", "ry": "Y", "rxx": "XX", "ryy": "YY", "rzz": "ZZ"}


def rotation_generator(step: ParametricStep) -> np.ndarray | None:
    """``G`` with ``gate = exp(-i θ G/2)`` in the gate's first angle θ, or None when the gate
    is not such a rotation (``r(θ, φ)`` qualifies with a constant φ:
    ``G = cos φ X + sin φ Y``)."""
    if step.name in _PAULI_GENERATORS and step.A.shape[0] == 1:
        return pauli_generator(_PAULI_GENERATORS[step.name])
    if step.name == "r" and not step.A[1].any():
        phi = step.b[1]
        return np.cos(phi) * pauli_generator("X") + np.sin(phi) * pauli_generator("Y")
    return None


class FusedStateVectorEngine:
    """A noiseless executable as one fused program, planned once and rebound per parameter set.

    The plan (:func:`quantum_service.simulator.fuse`) merges runs of native 1-qubit gates and
    2-3-qubit blocks into single kernel passes and batches diagonal gates sharing a qubit, the
    scheme of qsim's gate fuser (Quantum AI team, qsim ``docs/fusion``); parametric gates join
    1-qubit blocks and are multiplied in per parameter set (2x2 products, no extra pass).

    Args:
        exe: a noiseless executable (no channels among its steps).
        choice: the engine's name and reason, recorded on results.
    Raises:
        InvalidProgramError: the executable holds a noise channel.
    """

    def __init__(self, exe: Executable, choice: EngineChoice) -> None:
        self._exe = exe
        self._choice = choice
        positions = [step.position for step in exe.parametric]
        ops = list(exe.steps)
        for step in exe.parametric:
            ops[step.position] = (step.qubits, None)
        self._ops = ops
        self._plan: FusionPlan = fuse(exe.qubit_count, ops, parametric_positions=positions)
        self._program: FusedProgram | None = None  # kernel calls, prepared on first use
        self._adjoint: dict[PauliSum, AdjointProgram | None] = {}

    @property
    def choice(self) -> EngineChoice:
        return self._choice

    @property
    def pass_count(self) -> int:
        """Kernel passes per evaluation after fusion (diagnostics)."""
        return len(self._plan.steps)

    def state(self, x: np.ndarray, shift: tuple[int, float] | None = None) -> np.ndarray:
        state = np.zeros(1 << self._exe.qubit_count, dtype=np.complex128)
        state[0] = 1.0
        if self._program is None:
            self._program = self._plan.prepare()
        return self._program.run(state, self._exe.parametric_matrices(x, shift))

    @property
    def truncation_error(self) -> float:
        """0: the state is exact."""
        return 0.0

    def counts(self, x: np.ndarray, shot_count: int, rng: np.random.Generator
               ) -> dict[str, int]:
        exe = self._exe
        return sample_clbit_counts(self.probabilities(self.state(x)), exe.measured,
                                   clbit_count=exe.clbit_count, shot_count=shot_count, rng=rng,
                                   readout_errors=exe.readout_errors if exe.noisy else None)

    def term_mixture(self, x: np.ndarray, pauli_sum: PauliSum, shot_count: int,
                     rng: np.random.Generator, shift: tuple[int, float] | None = None
                     ) -> TermMixture:
        """One exact row: the final state's term expectations (``shot_count`` and ``rng``
        are not needed)."""
        values = self.term_expectations(self.state(x, shift), pauli_sum)
        return TermMixture(np.ones(1, dtype=np.int64), values[None, :])

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        return probabilities(state)

    def expectation(self, state: np.ndarray, pauli_sum: PauliSum) -> float:
        return float(expectation_value(state, pauli_sum))

    def term_expectations(self, state: np.ndarray, pauli_sum: PauliSum) -> np.ndarray:
        return term_expectations(state, pauli_sum)

    def adjoint_program(self, pauli_sum: PauliSum) -> AdjointProgram | None:
        """The fused forward/adjoint program for exact ``<H>`` and adjoint gradients of
        ``pauli_sum`` (Jones & Gacon, arXiv:2009.02823), built once per observable; None when a
        parametric gate is not a rotation ``exp(-i θ G/2)``."""
        if pauli_sum in self._adjoint:
            return self._adjoint[pauli_sum]
        generators = [rotation_generator(step) for step in self._exe.parametric]
        program = None
        if all(g is not None for g in generators):
            try:
                program = AdjointProgram(self._exe.qubit_count, self._ops,
                                         [step.position for step in self._exe.parametric],
                                         generators, pauli_sum, plan=self._plan)
            except QcoreError:
                program = None
        self._adjoint[pauli_sum] = program
        return program
