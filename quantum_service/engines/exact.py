"""The part of the Engine contract common to engines that hold one exact final state."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from quantum_service.engines.base import TermMixture
from quantum_service.engines.executable import Executable
from quantum_service.engines.sampling import sample_clbit_counts
from quantum_service.simulator import PauliSum

__all__ = ["ExactStateEngine"]


class ExactStateEngine(ABC):
    """Counts and term values from one exact final state (a state vector or a vectorised
    density matrix); subclasses give :meth:`state`, :meth:`probabilities` and
    :meth:`term_expectations` in their own form."""

    _exe: Executable

    @abstractmethod
    def state(self, x: np.ndarray, shift: tuple[int, float] | None = None) -> np.ndarray:
        """The final state for parameter vector ``x`` (``shift`` as in the Engine protocol)."""

    @abstractmethod
    def probabilities(self, state: np.ndarray) -> np.ndarray:
        """float64 ``(2**k,)`` computational-basis probabilities of ``state``."""

    @abstractmethod
    def term_expectations(self, state: np.ndarray, pauli_sum: PauliSum) -> np.ndarray:
        """float64 ``(term_count,)``: every term's expectation value on ``state``."""

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
