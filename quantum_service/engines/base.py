"""The engine interface every simulated-QPU job path runs through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from quantum_service.simulator import AdjointProgram, PauliSum

__all__ = ["Engine", "EngineChoice"]


@dataclass(frozen=True, slots=True)
class EngineChoice:
    """Which engine runs an executable, and why (recorded on results).

    Attributes:
        name: an entry of :data:`~.select.ENGINE_NAMES`.
        reason: one sentence a user can read (e.g. "noiseless device: fused state vector").
    """

    name: str
    reason: str


class Engine(Protocol):
    """Runs one executable (a compiled native program bound to a device model).

    A *state* is the engine's own representation: a state vector ``(2**k,)`` or a vectorised
    density matrix ``(4**k,)``, complex128, for ``k`` simulated qubits (qubit ``i`` is bit ``i``
    of a basis index).
    """

    @property
    def choice(self) -> EngineChoice:
        """The engine's name and why it was chosen."""
        ...

    def state(self, x: np.ndarray, shift: tuple[int, float] | None = None) -> np.ndarray:
        """The final state for parameter vector ``x`` (float64 ``(parameter_count,)``);
        ``shift = (i, delta)`` adds ``delta`` rad to the first angle of parametric gate ``i``
        (parameter-shift rule)."""
        ...

    def probabilities(self, state: np.ndarray) -> np.ndarray:
        """Computational-basis probabilities of ``state``: float64 ``(2**k,)``, non-negative,
        summing to 1 up to rounding."""
        ...

    def expectation(self, state: np.ndarray, pauli_sum: PauliSum) -> float:
        """``<H>`` of ``state`` for ``pauli_sum`` on the simulated qubits."""
        ...

    def term_expectations(self, state: np.ndarray, pauli_sum: PauliSum) -> np.ndarray:
        """float64 ``(term_count,)``: every term's expectation value, coefficients not applied."""
        ...

    def adjoint_program(self, pauli_sum: PauliSum) -> AdjointProgram | None:
        """The fused program for exact ``<H>`` and adjoint gradients of ``pauli_sum``, or None
        where the engine has none (noisy states, gates that are not Pauli rotations)."""
        ...
