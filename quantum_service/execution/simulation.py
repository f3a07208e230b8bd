"""Pure simulation tasks: executable + parameter sets + shots + seed → counts or values.

What an executor ships to a worker is a :class:`SimulationProgram` (a bound executable and its
read-out observable, keyed by the SHA-256 of its pickled form) once, and items: one parameter
set each, with its seed and its index. The batch functions :func:`run_counts`,
:func:`run_estimates` and :func:`run_exact` are pure: an item's result depends only on the
program and on the item, so items may be grouped into tasks in any way and run on any number of
workers with identical results.

Random streams: parameter set ``row`` draws from
``numpy.random.SeedSequence(entropy, spawn_key=(row,))`` (:func:`row_generator`), never from
one generator shared across rows, so neither the order in which rows run nor where they run
changes what they draw.

Shots of one parameter set are not split across tasks: the state-vector and density-matrix
engines simulate a state once and sample all shots from it (sampling is the cheap part), and
shot-branching trajectories share their evolution among shots until they branch, so blocks of
shots would repeat that shared work.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from quantum_service.engines import Engine, ReadoutObservable, estimate_observables, select_engine
from quantum_service.engines.executable import Executable
from quantum_service.engines.mps import DEFAULT_MAX_BOND_DIMENSION
from quantum_service.simulator import AdjointProgram

__all__ = [
    "CountsItem",
    "EstimateItem",
    "CountsOutcome",
    "EstimateOutcome",
    "ExactItem",
    "SimulationProgram",
    "estimated_row_s",
    "row_generator",
    "run_counts",
    "run_estimates",
    "run_exact",
]


def row_generator(entropy: int, row: int) -> np.random.Generator:
    """The random stream of parameter set ``row`` of a batch seeded with ``entropy``
    (``SeedSequence(entropy, spawn_key=(row,))``, numpy's independent-stream derivation)."""
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(row,)))


class SimulationProgram:
    """A bound executable and its read-out observable, as shipped to workers.

    Picklable; the engine (fusion plan) and the adjoint program are built on first use in
    whichever process holds the object and kept with it (they are not pickled), so a worker
    that holds a program plans it once for every task that uses it.

    Args:
        executable: the bound executable.
        observable: its read-out observable, or ``None`` for a sampling program.
        max_bond_dimension: the cap of a matrix-product state's bonds, >= 1
            (:func:`~quantum_service.engines.select_engine`).
    """

    def __init__(self, executable: Executable, observable: ReadoutObservable | None, *,
                 max_bond_dimension: int = DEFAULT_MAX_BOND_DIMENSION) -> None:
        self.executable = executable
        self.observable = observable
        self.max_bond_dimension = int(max_bond_dimension)
        self._key: str | None = None
        self._engine: Engine | None = None
        self._adjoint: tuple[AdjointProgram | None, ...] | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"executable": self.executable, "observable": self.observable, "key": self._key,
                "max_bond_dimension": self.max_bond_dimension}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.executable = state["executable"]
        self.observable = state["observable"]
        self.max_bond_dimension = state.get("max_bond_dimension", DEFAULT_MAX_BOND_DIMENSION)
        self._key = state["key"]
        self._engine = None
        self._adjoint = None
        self._lock = threading.Lock()

    @property
    def content_key(self) -> str:
        """SHA-256 (hex) of the pickled executable, observable and bond cap, computed once and
        pickled with the program (a copy keeps the key; re-pickling may order the bytes
        differently, e.g. after an observable's cached forms were filled)."""
        if self._key is None:
            data = pickle.dumps((self.executable, self.observable, self.max_bond_dimension),
                                protocol=pickle.HIGHEST_PROTOCOL)
            self._key = hashlib.sha256(data).hexdigest()
        return self._key

    def engine(self) -> Engine:
        """The engine of the executable (:func:`~quantum_service.engines.select_engine`),
        planned once per process."""
        with self._lock:
            if self._engine is None:
                self._engine = select_engine(self.executable,
                                             max_bond_dimension=self.max_bond_dimension)
            return self._engine

    def adjoint(self) -> AdjointProgram | None:
        """The fused exact-expectation program of the (first) observable as read out, or
        ``None`` where the engine has none (noisy states) or the program has no observable."""
        return self.adjoints()[0]

    def adjoints(self) -> tuple[AdjointProgram | None, ...]:
        """One fused exact-expectation program per observable of the read-out observable
        (:attr:`~quantum_service.engines.ReadoutObservable.totals`), in order; ``(None,)``
        without observable, ``None`` entries where the engine has none (noisy states)."""
        engine = self.engine()
        with self._lock:
            if self._adjoint is None:
                obs = self.observable
                self._adjoint = ((None,) if obs is None else
                                 tuple(engine.adjoint_program(t) for t in obs.totals))
            return self._adjoint


def estimated_row_s(program: SimulationProgram, shot_count: int) -> float:
    """A first estimate of one parameter set's compute time, seconds, before any is measured.

    ``(steps + 1) × amplitudes × 2 ns + shots × 0.2 µs`` with ``2**k`` amplitudes for a state
    vector and ``4**k`` for a density matrix of ``k`` active qubits (the order of a fused pass
    per step on this project's numba kernels); trajectories count one state per 32 shots.
    Executors replace it with measured times."""
    exe = program.executable
    name = program.engine().choice.name
    amplitudes = 4.0 ** exe.qubit_count if name == "density_matrix" else 2.0 ** exe.qubit_count
    states = max(1.0, shot_count / 32.0) if name in ("trajectories", "mps") and exe.noisy else 1.0
    return (len(exe.steps) + 1) * amplitudes * 2e-9 * states + shot_count * 2e-7


@dataclass(frozen=True, slots=True)
class CountsItem:
    """One parameter set of a sampling batch.

    Attributes:
        x: float64 ``(parameter_count,)``.
        shot_count: shots, >= 1.
        entropy: the batch's seed.
        row: the stream index (:func:`row_generator`).
    """

    x: np.ndarray
    shot_count: int
    entropy: int
    row: int


@dataclass(frozen=True, slots=True)
class CountsOutcome:
    """One :class:`CountsItem`'s ``counts`` (bitstring, highest clbit first → count, summing to
    its shots) and the ``truncation_error`` of the states behind them (the largest accumulated
    discarded weight of a matrix-product-state trajectory; 0 for exact engines)."""

    counts: dict[str, int]
    truncation_error: float = 0.0


def run_counts(program: SimulationProgram, items: Sequence[CountsItem]) -> list[CountsOutcome]:
    """Counts of each item, with the truncation error of its states."""
    engine = program.engine()
    out: list[CountsOutcome] = []
    for item in items:
        counts = engine.counts(item.x, item.shot_count, row_generator(item.entropy, item.row))
        out.append(CountsOutcome(counts, engine.truncation_error))
    return out


@dataclass(frozen=True, slots=True)
class EstimateItem:
    """One parameter set of an expectation-value batch estimated with shots or trajectories.

    Attributes:
        x: float64 ``(parameter_count,)``.
        shot_count: shots per measurement setting (0: exact, or trajectories' own count).
        entropy, row: the stream (:func:`row_generator`).
        mitigate: divide each term by its calibrated readout contrast.
        gradient: also the parameter-shift gradient.
    """

    x: np.ndarray
    shot_count: int
    entropy: int
    row: int
    mitigate: bool
    gradient: bool


@dataclass(frozen=True, slots=True)
class EstimateOutcome:
    """One :class:`EstimateItem`'s ``values`` and ``standard_errors`` (float64 ``(k,)``, one per
    observable of the program's read-out observable), ``gradients`` (float64
    ``(k, parameter_count)``, or ``None``) and ``truncation_error`` (as
    :class:`CountsOutcome`'s, the largest over the item's runs)."""

    values: np.ndarray
    standard_errors: np.ndarray
    gradients: np.ndarray | None
    truncation_error: float = 0.0


def run_estimates(program: SimulationProgram, items: Sequence[EstimateItem]
                  ) -> list[EstimateOutcome]:
    """Each item's estimates (:func:`~quantum_service.engines.estimate_observables`: every
    measured term serves each observable that contains it) and, when asked, their gradients by
    the two-term parameter-shift rule on every parametric native gate
    (``∂E/∂θ = [E(θ + π/2) - E(θ - π/2)]/2``, Mitarai et al., PRA 98, 032309 (2018)) and the
    chain rule through the affine parameter expressions."""
    engine, obs, exe = program.engine(), program.observable, program.executable
    assert obs is not None, "an estimate needs an observable"
    out: list[EstimateOutcome] = []
    for item in items:
        rng = row_generator(item.entropy, item.row)
        values, errors = estimate_observables(engine, obs, item.x, item.shot_count, rng,
                                              mitigate=item.mitigate)
        truncation = engine.truncation_error
        grads = None
        if item.gradient:
            shifts = np.empty((len(exe.parametric), obs.observable_count))
            for i in range(len(exe.parametric)):
                e_plus, _ = estimate_observables(engine, obs, item.x, item.shot_count, rng,
                                                 mitigate=item.mitigate, shift=(i, np.pi / 2))
                truncation = max(truncation, engine.truncation_error)
                e_minus, _ = estimate_observables(engine, obs, item.x, item.shot_count, rng,
                                                  mitigate=item.mitigate,
                                                  shift=(i, -np.pi / 2))
                truncation = max(truncation, engine.truncation_error)
                shifts[i] = 0.5 * (e_plus - e_minus)
            grads = (exe.shift_coefficients().T @ shifts).T
        out.append(EstimateOutcome(values, errors, grads, truncation))
    return out


@dataclass(frozen=True, slots=True)
class ExactItem:
    """One parameter set of an exact noiseless batch: ``angles`` float64 ``(P,)``, the angle
    of every parametric gate; ``gradient``: also ``dE/dθ`` per gate (adjoint sweep)."""

    angles: np.ndarray
    gradient: bool


def run_exact(program: SimulationProgram, items: Sequence[ExactItem]
              ) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Per item, ``<H_i>`` of every observable (float64 ``(k,)``) and, when asked,
    ``dE_i/dθ`` per observable and parametric gate (float64 ``(k, P)``; else ``None``), on the
    fused adjoint programs (Jones & Gacon, arXiv:2009.02823), one per observable; items of a
    group are evaluated in one batched call per observable."""
    programs = program.adjoints()
    assert all(fast is not None for fast in programs), "exact items need adjoint programs"
    if not items:
        return []
    angles = np.stack([item.angles for item in items])
    if items[0].gradient:
        swept = [fast.gradients(angles) for fast in programs]  # type: ignore[union-attr]
        values = np.stack([v for v, _ in swept], axis=1)  # (items, k)
        grads = np.stack([g for _, g in swept], axis=1)  # (items, k, P)
        return list(zip(values, grads))
    energies = [fast.energies(angles) for fast in programs]  # type: ignore[union-attr]
    return [(v, None) for v in np.stack(energies, axis=1)]
