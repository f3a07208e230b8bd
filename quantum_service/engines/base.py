"""The engine interface every simulated-QPU job path runs through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from quantum_service.simulator import AdjointProgram, PauliSum

__all__ = ["Engine", "EngineChoice", "TermMixture"]


@dataclass(frozen=True, slots=True)
class EngineChoice:
    """Which engine runs an executable, and why (recorded on results).

    Attributes:
        name: an entry of :data:`~.select.ENGINE_NAMES`.
        reason: one sentence a user can read (e.g. "noiseless device: fused state vector").
    """

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class TermMixture:
    """Per-term expectation values of a mixture of states, as an engine produced them.

    An exact engine returns one row of weight 1 (its state); a trajectory engine one row per
    branch of trajectories, weighted by the shots (trajectories) that followed it.

    Attributes:
        weights: int64 ``(B,)``, > 0: shots (trajectories) per row.
        values: float64 ``(B, term_count)``: ``<P_t>`` of each row's state, coefficients not
            applied.
    """

    weights: np.ndarray
    values: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """float64 ``(term_count,)``: the weighted mean over rows."""
        return (self.weights @ self.values) / self.weights.sum()

    @property
    def exact(self) -> bool:
        """Whether the mixture is one exact state (no sampling of trajectories)."""
        return self.weights.size == 1


class Engine(Protocol):
    """Runs one executable (a compiled native program bound to a device model).

    ``x`` is a parameter vector (float64 ``(parameter_count,)``); ``shift = (i, delta)`` adds
    ``delta`` rad to the first angle of parametric gate ``i`` (parameter-shift rule). ``rng``
    is the job's generator: every random draw comes from it, so a seed reproduces a job.
    """

    @property
    def choice(self) -> EngineChoice:
        """The engine's name and why it was chosen."""
        ...

    @property
    def truncation_error(self) -> float:
        """Discarded weight of the last run's states (matrix-product states); 0 when exact."""
        ...

    def counts(self, x: np.ndarray, shot_count: int, rng: np.random.Generator
               ) -> dict[str, int]:
        """``shot_count`` shots of the executable's measurements, read out through its
        readout assignment errors: bitstring (highest clbit first) -> count, summing to
        ``shot_count``."""
        ...

    def term_mixture(self, x: np.ndarray, pauli_sum: PauliSum, shot_count: int,
                     rng: np.random.Generator, shift: tuple[int, float] | None = None
                     ) -> TermMixture:
        """Every term's expectation value on the final state(s): one exact row, or the
        branches of ``shot_count`` trajectories (an engine-chosen number when 0)."""
        ...

    def adjoint_program(self, pauli_sum: PauliSum) -> AdjointProgram | None:
        """The fused program for exact ``<H>`` and adjoint gradients of ``pauli_sum``, or None
        where the engine has none (noisy states, gates that are not Pauli rotations)."""
        ...
