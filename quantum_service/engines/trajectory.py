"""Shot-branching quantum trajectories: noisy and dynamic circuits on pure states.

A noisy executable's channels are *unravelled*: each shot follows one pure-state trajectory in
which, at every channel ``{K_0, K_1, ...}``, one Kraus operator acts (Monte-Carlo wave function
method: Dalibard, Castin & Mølmer, PRL 68, 580 (1992); Plenio & Knight, Rev. Mod. Phys. 70,
101 (1998), §II.C; the Kraus-sampling form used by Qiskit Aer's statevector noise,
Aer ``docs/explanations/noise``). The mixture over trajectories is the density matrix the
:class:`~.density_matrix.FusedDensityMatrixEngine` evolves exactly.

Two things make it fast:

* **Waiting-time (no-jump) evolution.** Per channel the dominant operator ``K_0`` is the
  *no-jump* evolution; the rest are *jumps*. Every shot draws a threshold ``r ~ U(0, 1)``; the
  state evolves with the ``K_0`` of every channel, unnormalised, so ``||ψ||²`` is the
  probability that no jump has happened yet, and a shot's first jump is at the channel where
  ``||ψ||²`` falls below its ``r`` (Dalibard et al., §2). A channel whose ``K_0`` is a multiple
  of the identity (depolarizing: ``sqrt(1 - p) I``) costs no state pass at all, only a factor
  on the norm. So the no-jump stretch between two dynamic events is **one fused segment**
  (:func:`quantum_service.simulator.fuse` merges gates and non-unitary ``K_0`` alike), and the
  norm after it says which shots jumped inside it.
* **Shot branching.** All shots start as one branch; a segment is simulated once for every
  shot that did not jump in it. Only where shots jump is the segment replayed operator by
  operator (from a saved copy), to find each jump's channel and operator (``p_j =
  Tr(K_j^† K_j ρ_Q)`` from the reduced density matrix of the channel's qubits); the shots that
  jump alike continue as a new branch, with fresh thresholds, depth first. Mid-circuit
  measurement and reset split a branch by the outcome (multinomial over its shots); classical
  feed-forward evaluates the condition per classical register. The same idea as Aer's
  shot-branching (Ishikawa et al., "Shot-branching" in Qiskit Aer 0.14, Aer release notes;
  Doi & Horii, IEEE QCE 2020 for the cached-prefix form).

Memory is a few states per level of branching depth (a level per jump along one shot's
history), never one per shot. With a seed, results are reproducible: every draw comes from one
generator in a fixed order.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from quantum_service.engines.backend import PureStateBackend
from quantum_service.engines.base import EngineChoice, TermMixture
from quantum_service.engines.executable import (
    ConditionalStep,
    Executable,
    MeasureStep,
    ResetStep,
)
from quantum_service.engines.sampling import count_clbit_words, register_dtype
from quantum_service.simulator import AdjointProgram, Channel, PauliSum

__all__ = ["EXACT_MODE_TRAJECTORIES", "TrajectoryEngine"]

#: Trajectories behind an "exact" (``shot_count = 0``) value on a noisy device wider than the
#: density-matrix engine: the value is their mean and its standard error is reported.
EXACT_MODE_TRAJECTORIES = 512

_IDENTITY_ATOL = 1e-12

#: A segment ends once the lower bound of its no-jump probability falls below this: shots that
#: jump replay at most one segment operator by operator.
SEGMENT_MIN_FLOOR = 0.8


@dataclass(frozen=True, slots=True)
class _Unravelled:
    """A channel split into its no-jump operator and jumps.

    ``k0`` is None when ``K_0 = c·I`` (then ``scalar = |c|²`` and no pass is needed); jumps are
    ``(matrix, weight)``: for a mixed-unitary channel (every ``K_j^† K_j = q_j I``) ``weight =
    q_j`` and the jump probability is state independent; otherwise ``weight`` is None.
    ``floor`` bounds the no-jump factor from below: ``||K_0 ψ||² >= floor·||ψ||²``.
    """

    qubits: tuple[int, ...]
    k0: np.ndarray | None
    scalar: float
    jumps: tuple[tuple[np.ndarray, float | None], ...]
    floor: float
    gram: tuple[np.ndarray, ...]  # K_j^† K_j of the jumps (state-dependent probabilities)


def _unravel(channel: Channel) -> _Unravelled:
    kraus = channel.kraus_operators
    dim = kraus[0].shape[0]
    norms = [float(np.vdot(k, k).real) for k in kraus]
    i0 = int(np.argmax(norms))
    k0 = kraus[i0]
    c = k0[0, 0]
    scalar_k0 = np.allclose(k0, c * np.eye(dim), atol=_IDENTITY_ATOL, rtol=0.0)
    jumps: list[tuple[np.ndarray, float | None]] = []
    grams: list[np.ndarray] = []
    for i, k in enumerate(kraus):
        if i == i0 or not np.any(k):
            continue
        gram = k.conj().T @ k
        q = gram[0, 0].real
        mixed = np.allclose(gram, q * np.eye(dim), atol=_IDENTITY_ATOL, rtol=0.0)
        jumps.append((k / math.sqrt(q) if mixed else k, q if mixed else None))
        grams.append(gram)
    floor = float(np.linalg.svd(k0, compute_uv=False).min() ** 2)
    return _Unravelled(channel.qubits, None if scalar_k0 else k0,
                       float(abs(c) ** 2) if scalar_k0 else 1.0, tuple(jumps), floor,
                       tuple(grams))


@dataclass(slots=True)
class _Segment:
    """A no-jump stretch: ops for the backend (gates, parametric slots, non-scalar ``K_0``),
    its replay list (gates and channels in order), and its constant norm factor."""

    ops: list[tuple[tuple[int, ...], np.ndarray | None]] = field(default_factory=list)
    parametric: dict[int, int] = field(default_factory=dict)  # local op index -> exe position
    replay: list[tuple[str, Any]] = field(default_factory=list)
    scalar: float = 1.0
    floor: float = 1.0
    prepared: Any = None


#: A program item: a segment or a dynamic event.
_Item = Any


@dataclass(slots=True)
class _Group:
    """Shots of a branch that share a classical register: thresholds, one per shot."""

    register: int
    thresholds: np.ndarray


class TrajectoryEngine:
    """Runs an executable as shot-branching trajectories on a :class:`PureStateBackend`.

    Args:
        exe: any executable (noisy or not, dynamic or not).
        backend: the pure-state form (state vector, matrix-product state).
        choice: name and reason recorded on results.
        exact_trajectories: trajectories behind ``shot_count = 0`` estimates.
    """

    def __init__(self, exe: Executable, backend: PureStateBackend, choice: EngineChoice, *,
                 exact_trajectories: int = EXACT_MODE_TRAJECTORIES) -> None:
        self._exe = exe
        self._backend = backend
        self._choice = choice
        self._exact_trajectories = exact_trajectories
        self._unravelled: dict[int, _Unravelled] = {}
        self._items = self._plan(list(enumerate(exe.steps)))
        self._last = threading.local()  # truncation error of this thread's last run

    # -- planning ----------------------------------------------------------------------------

    def _unravel(self, channel: Channel) -> _Unravelled:
        key = id(channel)
        found = self._unravelled.get(key)
        if found is None:
            found = self._unravelled[key] = _unravel(channel)
        return found

    def _plan(self, steps: Sequence[tuple[int | None, object]]) -> list[_Item]:
        """Splits steps into segments and events (events: measure, reset, conditional)."""
        items: list[_Item] = []
        segment = _Segment()
        parametric = {s.position: s.qubits for s in self._exe.parametric}
        for position, step in steps:
            if isinstance(step, (MeasureStep, ResetStep)):
                items.append(segment)
                items.append(step)
                segment = _Segment()
            elif isinstance(step, ConditionalStep):
                items.append(segment)
                items.append((step.condition,
                              self._plan([(None, s) for s in step.steps])))
                segment = _Segment()
            elif isinstance(step, Channel):
                u = self._unravel(step)
                if u.k0 is not None:
                    segment.ops.append((u.qubits, u.k0))
                segment.scalar *= u.scalar
                segment.floor *= u.floor * (u.scalar if u.k0 is None else 1.0)
                segment.replay.append(("c", u))
                if segment.floor < SEGMENT_MIN_FLOOR:
                    items.append(segment)
                    segment = _Segment()
            elif step is None:
                assert position is not None, "parametric gates are not classically controlled"
                segment.parametric[len(segment.ops)] = position
                segment.ops.append((parametric[position], None))
                segment.replay.append(("p", (parametric[position], position)))
            else:
                qubits, matrix = step  # type: ignore[misc]
                segment.ops.append((tuple(qubits), matrix))
                segment.replay.append(("u", (tuple(qubits), matrix)))
        items.append(segment)
        out = [item for item in items if not (isinstance(item, _Segment) and not item.replay)]
        for item in out:
            if isinstance(item, _Segment):
                item.prepared = self._backend.prepare(item.ops, list(item.parametric))
                item.replay = [self._prepare_replay(kind, payload)
                               for kind, payload in item.replay]
        return out

    def _prepare_replay(self, kind: str, payload: Any) -> tuple[str, Any]:
        """A replay entry with its op prepared once as a one-op backend segment: a gate
        ``("u", segment)``, a parametric gate ``("p", ((qubits, position), segment))``, a
        channel ``("c", (unravelled, segment of K_0 or None when K_0 = c·I))``."""
        backend = self._backend
        if kind == "u":
            return kind, backend.prepare([payload], [])
        if kind == "p":
            return kind, (payload, backend.prepare([(payload[0], None)], [0]))
        k0 = None if payload.k0 is None else backend.prepare([(payload.qubits, payload.k0)], [])
        return kind, (payload, k0)

    # -- Engine ------------------------------------------------------------------------------

    @property
    def choice(self) -> EngineChoice:
        return self._choice

    @property
    def truncation_error(self) -> float:
        """The largest accumulated discarded weight of a finished branch in this thread's last
        run (:meth:`~.backend.PureStateBackend.truncation_error`; 0 for exact forms)."""
        return float(getattr(self._last, "error", 0.0))

    def counts(self, x: np.ndarray, shot_count: int, rng: np.random.Generator
               ) -> dict[str, int]:
        exe = self._exe
        qubits = sorted({q for q, _ in exe.measured})
        dtype = register_dtype(exe.clbit_count)
        words: list[np.ndarray] = []

        def sink(state: Any, groups: list[_Group]) -> None:
            self._note_truncation(state)
            n = sum(g.thresholds.size for g in groups)
            registers = np.concatenate([np.full(g.thresholds.size, g.register, dtype=dtype)
                                        for g in groups])
            read = (self._backend.sample(state, qubits, n, rng) if qubits
                    else np.zeros((n, 0), dtype=np.uint8))
            words.append(count_clbit_words(read, qubits, exe.measured, registers,
                                           readout_errors=exe.readout_errors, rng=rng))

        self._simulate(x, None, shot_count, rng, sink)
        values, freq = np.unique(np.concatenate(words), return_counts=True)
        width = exe.clbit_count
        return {format(int(v), f"0{width}b"): int(n) for v, n in zip(values, freq)}

    def term_mixture(self, x: np.ndarray, pauli_sum: PauliSum, shot_count: int,
                     rng: np.random.Generator, shift: tuple[int, float] | None = None
                     ) -> TermMixture:
        weights: list[int] = []
        values: list[np.ndarray] = []

        def sink(state: Any, groups: list[_Group]) -> None:
            self._note_truncation(state)
            weights.append(sum(g.thresholds.size for g in groups))
            values.append(self._backend.term_expectations(state, pauli_sum))

        trajectories = shot_count if shot_count > 0 else self._exact_trajectories
        self._simulate(x, shift, trajectories, rng, sink)
        return TermMixture(np.array(weights, dtype=np.int64), np.stack(values))

    def adjoint_program(self, pauli_sum: PauliSum) -> AdjointProgram | None:
        """None: trajectories have no single pure state to differentiate."""
        return None

    def _note_truncation(self, state: Any) -> None:
        self._last.error = max(self.truncation_error, self._backend.truncation_error(state))

    # -- simulation --------------------------------------------------------------------------

    def _simulate(self, x: np.ndarray, shift: tuple[int, float] | None, shot_count: int,
                  rng: np.random.Generator, sink: Callable[[Any, list[_Group]], None]) -> None:
        bound = self._exe.parametric_matrices(x, shift)
        groups = [_Group(0, rng.random(shot_count))]
        self._last.error = 0.0
        self._run_items(self._items, 0, self._backend.zero_state(), groups, bound, rng, sink)

    def _run_items(self, items: list[_Item], start: int, state: Any, groups: list[_Group],
                   bound: dict[int, np.ndarray], rng: np.random.Generator,
                   sink: Callable[[Any, list[_Group]], None]) -> None:
        """Runs ``items[start:]`` on a normalised ``state`` for ``groups``; every finished
        branch goes to ``sink``. Depth first: a new branch (a jump, a second measurement
        outcome, a condition that holds for some registers only) is finished by a recursive
        call while its parent waits; the parent's own path continues in this loop."""
        backend = self._backend
        index = start
        while index < len(items):
            item = items[index]
            if isinstance(item, _Segment):
                state, groups = self._run_segment(item, items, index, state, groups, bound,
                                                  rng, sink)
                if not groups:
                    return  # every shot jumped inside the segment and was finished there
            elif isinstance(item, (MeasureStep, ResetStep)):
                branches = self._branch_on_outcome(item, state, groups, rng)
                for other_state, other_groups in branches[:-1]:
                    self._run_items(items, index + 1, other_state, other_groups, bound, rng,
                                    sink)
                state, groups = branches[-1]
            else:
                condition, inner = item
                taken = [g for g in groups if condition.holds(g.register)]
                skipped = [g for g in groups if not condition.holds(g.register)]
                if taken:
                    if skipped:
                        self._run_items(items, index + 1, backend.copy(state), skipped, bound,
                                        rng, sink)
                    items, index, groups = inner + items[index + 1:], 0, taken
                    continue
            index += 1
        sink(state, groups)

    def _run_segment(self, segment: _Segment, items: list[_Item], index: int, state: Any,
                     groups: list[_Group], bound: dict[int, np.ndarray],
                     rng: np.random.Generator, sink: Callable[[Any, list[_Group]], None]
                     ) -> tuple[Any, list[_Group]]:
        """Runs one segment; returns the no-jump branch (normalised, thresholds rescaled).
        Shots that jump inside it are continued to the end of the program here, depth first.
        When every shot jumps, the returned branch has no groups."""
        backend = self._backend
        highest = max(float(g.thresholds.max()) for g in groups)
        saved = backend.copy(state) if highest > segment.floor else None
        local = {i: bound[p] for i, p in segment.parametric.items()}
        state = backend.run(segment.prepared, state, local)
        norm2 = backend.norm_squared(state)
        weight = segment.scalar * norm2
        if saved is None or highest <= weight:
            self._renormalise(state, groups, norm2, weight)
            return state, groups
        return self._replay(segment, 0, saved, 1.0, groups, items, index, bound, rng, sink)

    def _renormalise(self, state: Any, groups: list[_Group], norm2: float, weight: float
                     ) -> None:
        """Normalises ``state`` (its norm² is ``norm2``; scalar no-jump factors are kept out of
        the state) and rescales the thresholds of the shots that did not jump by the no-jump
        probability ``weight``: given no jump, ``r ~ U(0, weight)``, so ``r/weight ~ U(0, 1)``."""
        self._backend.scale(state, 1.0 / math.sqrt(norm2))
        for g in groups:
            g.thresholds = g.thresholds / weight

    def _replay(self, segment: _Segment, start: int, state: Any, scalar: float,
                groups: list[_Group], items: list[_Item], index: int,
                bound: dict[int, np.ndarray], rng: np.random.Generator,
                sink: Callable[[Any, list[_Group]], None]) -> tuple[Any, list[_Group]]:
        """Op by op from ``segment.replay[start]``: finds where shots jump and continues each
        jump as a new branch to the end of the program (depth first); returns the shots that
        did not jump, at the segment's end."""
        backend = self._backend
        weight = scalar * backend.norm_squared(state)
        for position in range(start, len(segment.replay)):
            kind, payload = segment.replay[position]
            if kind == "u":
                state = backend.run(payload, state, {})
                continue
            if kind == "p":
                (_, exe_position), one = payload
                state = backend.run(one, state, {0: bound[exe_position]})
                continue
            u: _Unravelled = payload[0]
            if all(w is not None for _, w in u.jumps):
                p = np.array([w for _, w in u.jumps], dtype=np.float64) * weight
            else:
                rho = backend.reduced_density_matrix(state, u.qubits)
                p = np.maximum([scalar * float(np.trace(g @ rho).real) for g in u.gram], 0.0)
            after = weight - float(p.sum())
            jumped: list[list[_Group]] = [[] for _ in u.jumps]
            stay: list[_Group] = []
            for g in groups:
                hit = g.thresholds > after
                if not hit.any():
                    stay.append(g)
                    continue
                choice = rng.choice(len(u.jumps), size=int(hit.sum()), p=p / p.sum())
                for j in range(len(u.jumps)):
                    n = int(np.count_nonzero(choice == j))
                    if n:
                        jumped[j].append(_Group(g.register, rng.random(n)))
                if (~hit).any():
                    stay.append(_Group(g.register, g.thresholds[~hit]))
            for j, child_groups in enumerate(jumped):
                if not child_groups:
                    continue
                child = backend.copy(state)
                backend.apply(child, u.qubits, u.jumps[j][0])
                backend.scale(child, 1.0 / math.sqrt(backend.norm_squared(child)))
                child, child_groups = self._replay(segment, position + 1, child, 1.0,
                                                   child_groups, items, index, bound, rng, sink)
                if child_groups:
                    self._run_items(items, index + 1, child, child_groups, bound, rng, sink)
            if not stay:
                return state, []
            groups = stay
            if payload[1] is not None:
                state = backend.run(payload[1], state, {})
            scalar *= u.scalar
            weight = after
        self._renormalise(state, groups, weight / scalar, weight)
        return state, groups

    def _branch_on_outcome(self, step: MeasureStep | ResetStep, state: Any,
                           groups: list[_Group], rng: np.random.Generator
                           ) -> list[tuple[Any, list[_Group]]]:
        """Splits a branch by a measurement's (or reset's) outcome: per outcome that some
        shot sees, the collapsed state and its shots (a measurement also writes the clbit,
        as read out through the readout assignment error)."""
        rho = self._backend.reduced_density_matrix(state, (step.qubit,))
        total = rho[0, 0].real + rho[1, 1].real
        p1 = min(1.0, max(0.0, float(rho[1, 1].real / total)))
        split: list[list[_Group]] = [[], []]
        for g in groups:
            ones = rng.random(g.thresholds.size) < p1
            if (~ones).any():
                split[0].append(_Group(g.register, g.thresholds[~ones]))
            if ones.any():
                split[1].append(_Group(g.register, g.thresholds[ones]))
        outcomes = [o for o in (0, 1) if split[o]]
        out: list[tuple[Any, list[_Group]]] = []
        for k, outcome in enumerate(outcomes):
            branch = state if k == len(outcomes) - 1 else self._backend.copy(state)
            projector = np.zeros((2, 2), dtype=np.complex128)
            if isinstance(step, ResetStep) and outcome:
                projector[0, 1] = 1.0  # |0><1|: the projection on |1>, then X
            else:
                projector[outcome, outcome] = 1.0
            self._backend.apply(branch, (step.qubit,), projector)
            branch = self._backend.scale(branch, 1.0 / math.sqrt(p1 if outcome else 1.0 - p1))
            if isinstance(step, ResetStep):
                out.append((branch, split[outcome]))
                continue
            bit = 1 << step.clbit
            recorded: dict[int, list[np.ndarray]] = {}
            for g in split[outcome]:
                flips = rng.random(g.thresholds.size) < step.readout_error[outcome]
                for value, mask in ((outcome, ~flips), (1 - outcome, flips)):
                    if mask.any():
                        register = (g.register & ~bit) | (bit if value else 0)
                        recorded.setdefault(register, []).append(g.thresholds[mask])
            out.append((branch, [_Group(r, np.concatenate(t)) for r, t in recorded.items()]))
        return out
