"""The fused state-vector engine of noiseless executables."""

from __future__ import annotations

import numpy as np

from quantum_service.engines.base import EngineChoice
from quantum_service.engines.exact import ExactStateEngine
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


class FusedStateVectorEngine(ExactStateEngine):
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
