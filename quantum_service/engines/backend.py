"""Pure-state representations the trajectory engine branches over.

A :class:`PureStateBackend` holds one pure state of ``qubit_count`` qubits in its own form (a
dense state vector, a matrix-product state) and offers the few operations the shot-branching
trajectory engine (:mod:`quantum_service.engines.trajectory`) needs. States may be
*unnormalised*: the trajectory engine applies no-jump Kraus operators without renormalising and
reads the norm to decide where quantum jumps happen.

Conventions: qubit ``q`` is bit ``q`` of a basis index; a matrix on ``(q_0, q_1, ...)`` has the
first listed qubit as its most significant bit (as gate matrices,
:mod:`quantum_service.circuits.ir`). An op is ``(qubits, matrix)``; ``matrix`` is complex128
``(2**m, 2**m)`` and need not be unitary, or ``None`` at a parametric position (bound per
parameter set).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numba

from quantum_service.simulator import (
    FusedProgram,
    PauliSum,
    apply_matrix,
    fuse,
    sample_bitstrings,
    term_expectations,
)
from quantum_service.simulator.dispatch import index_offsets, insertion_masks

__all__ = ["PureStateBackend", "StateVectorBackend", "reduced_density_matrix"]

Op = tuple[tuple[int, ...], "np.ndarray | None"]


class PureStateBackend(Protocol):
    """One pure-state form; every method may raise only on programming errors.

    ``Segment`` objects are the backend's own prepared form of a list of ops (for a state
    vector, a fused kernel program).
    """

    @property
    def qubit_count(self) -> int:
        """Simulated qubits ``k``."""
        ...

    @property
    def name(self) -> str:
        """The form's name as recorded on results: ``"statevector"`` or ``"mps"``."""
        ...

    def zero_state(self) -> Any:
        """``|0...0>``."""
        ...

    def copy(self, state: Any) -> Any:
        """An independent copy of ``state``."""
        ...

    def prepare(self, ops: Sequence[Op], parametric_positions: Sequence[int]) -> Any:
        """The backend's prepared form of ``ops`` (a segment), once per executable;
        ``parametric_positions`` index ``ops`` entries whose matrix is ``None``."""
        ...

    def run(self, segment: Any, state: Any, bound: Mapping[int, np.ndarray]) -> Any:
        """Applies ``segment`` to ``state`` (in place where the form allows) and returns the
        result; ``bound`` maps parametric positions of the segment to their matrices."""
        ...

    def apply(self, state: Any, qubits: tuple[int, ...], matrix: np.ndarray) -> Any:
        """Applies one (possibly non-unitary) matrix; returns the result."""
        ...

    def norm_squared(self, state: Any) -> float:
        """``<ψ|ψ>``."""
        ...

    def scale(self, state: Any, factor: float) -> Any:
        """``factor · ψ``; returns the result."""
        ...

    def reduced_density_matrix(self, state: Any, qubits: tuple[int, ...]) -> np.ndarray:
        """complex128 ``(2**m, 2**m)``: ``Tr_rest |ψ><ψ|`` on ``qubits`` (first listed = most
        significant), trace ``<ψ|ψ>`` (not normalised)."""
        ...

    def sample(self, state: Any, qubits: Sequence[int], shot_count: int,
               rng: np.random.Generator) -> np.ndarray:
        """uint8 ``(shot_count, len(qubits))``: computational-basis outcomes of ``qubits``
        (column ``j`` = ``qubits[j]``) drawn from the normalised ``state``."""
        ...

    def term_expectations(self, state: Any, pauli_sum: PauliSum) -> np.ndarray:
        """float64 ``(term_count,)``: ``<ψ|P_t|ψ>`` of the normalised ``state`` per term,
        coefficients not applied."""
        ...

    def truncation_error(self, state: Any) -> float:
        """Discarded weight (sum of squared discarded singular values) accumulated by
        ``state``; 0 for exact forms."""
        ...


@numba.njit(cache=True, nogil=True)
def _rdm_kernel(state: np.ndarray, offsets: np.ndarray, masks: np.ndarray) -> np.ndarray:
    dim = offsets.shape[0]
    out = np.zeros((dim, dim), dtype=np.complex128)
    amplitudes = np.empty(dim, dtype=np.complex128)
    blocks = state.shape[0] // dim
    for block in range(blocks):
        base = np.uint64(block)
        for mask in masks:  # insert a 0 bit at each target position, ascending
            base = (base & mask) | ((base & ~mask) << np.uint64(1))
        for r in range(dim):
            amplitudes[r] = state[base | offsets[r]]
        for r in range(dim):
            a = amplitudes[r]
            for c in range(dim):
                out[r, c] += a * np.conj(amplitudes[c])
    return out


@functools.lru_cache(maxsize=4096)
def _rdm_indices(qubits: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    return index_offsets(qubits), insertion_masks(qubits)


def reduced_density_matrix(state: np.ndarray, qubits: tuple[int, ...]) -> np.ndarray:
    """``Tr_rest |ψ><ψ|`` of a state vector on ``qubits`` (first listed = most significant),
    complex128 ``(2**m, 2**m)``, one read-only pass; trace ``<ψ|ψ>``."""
    return _rdm_kernel(state, *_rdm_indices(tuple(qubits)))


class StateVectorBackend:
    """Dense complex128 state vectors ``(2**k,)``; segments are fused kernel programs
    (:func:`quantum_service.simulator.fuse`).

    Args:
        qubit_count: ``k``.
    """

    name = "statevector"

    def __init__(self, qubit_count: int) -> None:
        self._n = qubit_count

    @property
    def qubit_count(self) -> int:
        return self._n

    def zero_state(self) -> np.ndarray:
        state = np.zeros(1 << self._n, dtype=np.complex128)
        state[0] = 1.0
        return state

    def copy(self, state: np.ndarray) -> np.ndarray:
        return state.copy()

    def prepare(self, ops: Sequence[Op], parametric_positions: Sequence[int]) -> FusedProgram:
        return fuse(self._n, list(ops), parametric_positions=list(parametric_positions)).prepare()

    def run(self, segment: FusedProgram, state: np.ndarray, bound: Mapping[int, np.ndarray]
            ) -> np.ndarray:
        return segment.run(state, bound)

    def apply(self, state: np.ndarray, qubits: tuple[int, ...], matrix: np.ndarray
              ) -> np.ndarray:
        apply_matrix(state, qubits, matrix)
        return state

    def norm_squared(self, state: np.ndarray) -> float:
        return float(np.vdot(state, state).real)

    def scale(self, state: np.ndarray, factor: float) -> np.ndarray:
        state *= factor
        return state

    def reduced_density_matrix(self, state: np.ndarray, qubits: tuple[int, ...]) -> np.ndarray:
        return reduced_density_matrix(state, qubits)

    def sample(self, state: np.ndarray, qubits: Sequence[int], shot_count: int,
               rng: np.random.Generator) -> np.ndarray:
        p = state.real**2 + state.imag**2
        return sample_bitstrings(p / p.sum(), list(qubits), shot_count=shot_count, rng=rng)

    def term_expectations(self, state: np.ndarray, pauli_sum: PauliSum) -> np.ndarray:
        return term_expectations(state, pauli_sum)

    def truncation_error(self, state: np.ndarray) -> float:
        return 0.0
