"""The calibration manager: triggers, runs and publishes calibrations of the kernel's QPUs.

Triggers (per QPU, on its device clock):

* ``schedule`` — a node whose last run is older than ``CalibrationPolicy.schedule_period_s``
  is stale;
* ``drift`` — every canary period (``CalibrationPolicy.canary_period_s``, by default the QPU's
  :attr:`~.experiments.ExperimentSettings.canary_period_s`) the canaries (:mod:`.canary`) run;
  nodes whose reading exceeds its threshold are stale;
* ``on_demand`` — :meth:`CalibrationManager.calibrate` (the ``Calibrate`` RPC).

A run recalibrates only the stale nodes and their descendants in the graph
(:mod:`.graph`), i.e. only the drifted qubits and pairs, and installs a new
:class:`~quantum_service.contract.parameters.CalibrationSnapshot` whose parent is the previous one.
Each node's new estimates must pass its σ ceilings (:mod:`.acceptance`: one retry with more
shots); a node rejected twice keeps its previous estimates, its descendants in the run are not
run on it (``PARENT_REJECTED``), and the rejections are recorded on the snapshot. A rejected
node counts as tried: it is due again one schedule period later, or when its canary flags it.

TLS events. A two-level system in resonance lowers a transmon's T1 and pulls its frequency for
minutes to hours (Klimov et al., PRL 121, 090502 (2018)); a calibration that happens to run
then measures the pulled frequency correctly, but that value is wrong by the pull as soon as the
TLS leaves, and would stay installed until the next scheduled run. So a ``t1`` fit below
``1 - t1_relative_threshold`` of the qubit's reference T1 (the largest accepted so far,
initially the installed snapshot's) puts the qubit's ``ramsey`` and ``t1`` nodes on re-check
every ``CalibrationPolicy.tls_recheck_s`` until its T1 is back (trigger ``"drift"``).

The manager is the kernel's :class:`~quantum_service.kernel.maintenance.Maintenance` hook: a QPU's
worker asks :meth:`CalibrationManager.is_due` between jobs and then awaits
:meth:`CalibrationManager.maintain`. New snapshots are announced through a callback (the
kernel publishes them as telemetry); calibration itself never builds messages.

Rolling runs. When the QPU's settings cap the qubits of a run
(:attr:`~.experiments.ExperimentSettings.max_qubits_per_run`; by default devices of more than
16 qubits, :func:`~.experiments.settings_for_device`), a run takes the stale nodes of the
stalest qubits up to the cap and defers the rest (pairs with a deferred qubit included): the
QPU stays due, and the next maintenance slots run the deferred nodes with the trigger that
found them, so a sweep of a 127-qubit device is spread over slots between jobs instead of
holding its lane for minutes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from quantum_service.calibration.acceptance import run_checked
from quantum_service.calibration.canary import (
    PAIR_CANARIES,
    CanaryReading,
    pair_canaries,
    qubit_canaries,
)
from quantum_service.calibration.experiments import (
    PAIR_EXPERIMENTS,
    QUBIT_EXPERIMENTS,
    ExperimentContext,
    ExperimentSettings,
    settings_for_device,
)
from quantum_service.calibration.graph import (
    CALIBRATED_MODALITIES,
    CalibrationGraph,
    Task,
    default_graph,
)
from quantum_service.contract import (
    CalibrationRejection,
    CalibrationSnapshot,
    DeviceParameters,
    QpuDriver,
    Simultaneous,
)
from quantum_service.errors import InvalidProgramError

__all__ = ["Announce", "CalibrationPolicy", "CalibrationOutcome", "CalibrationManager", "HasDriver"]

#: Called with each newly installed snapshot and the experiments that produced it (from worker
#: threads; must be thread-safe and never block, as ``Kernel.publish_calibration_snapshot``).
Announce = Callable[[CalibrationSnapshot, Sequence[str]], None]


class HasDriver(Protocol):
    """What the manager needs of a kernel QPU slot."""

    @property
    def driver(self) -> QpuDriver: ...


@dataclass(frozen=True, slots=True)
class CalibrationPolicy:
    """When calibration runs (device-clock seconds).

    Attributes:
        schedule_period_s: recalibrate nodes older than this; ``None`` disables the schedule.
        canary_period_s: run the drift canaries this often on every QPU; ``"auto"`` (default)
            takes each QPU's ``ExperimentSettings.canary_period_s`` (set per modality from its
            drift rates and shot cost); ``None`` disables drift detection.
        tls_recheck_s: re-measure the frequency and T1 of a qubit this long after a ``t1`` fit
            found it in a TLS event (see the module docstring), and again while it stays
            there; ``None`` disables the re-checks. Default 20 device-minutes: TLS dwell times
            are minutes to hours (``DRIFT_RATES``: 1.5 h mean on transmons), so the pulled
            frequency outlives the TLS by at most ~20 min instead of a whole schedule period.
    """

    schedule_period_s: float | None = 12 * 3600.0
    canary_period_s: float | Literal["auto"] | None = "auto"
    tls_recheck_s: float | None = 1200.0


@dataclass(frozen=True, slots=True)
class CalibrationOutcome:
    """What one calibration did.

    Attributes:
        snapshot: the snapshot now installed (the previous one when nothing was stale).
        trigger: ``"schedule"``, ``"drift"`` or ``"on_demand"``.
        experiments: experiments run, canaries included (``"canary:q3"``, ``"rabi:q3"``).
        device_time_s: device time they used.
        recalibrated_qubits: qubits whose qubit nodes ran.
        readings: the canary readings taken.
        tasks: the (node, target) pairs run, in order (rejected ones included).
        deferred: stale (node, target) pairs left for the next runs (rolling runs).
        rejections: the tasks whose new estimates were rejected (see
            :mod:`~quantum_service.calibration.acceptance`), also on ``snapshot``.
    """

    snapshot: CalibrationSnapshot
    trigger: str
    experiments: tuple[str, ...]
    device_time_s: float
    recalibrated_qubits: tuple[int, ...]
    readings: tuple[CanaryReading, ...] = ()
    tasks: tuple[Task, ...] = ()
    deferred: tuple[Task, ...] = ()
    rejections: tuple[CalibrationRejection, ...] = ()


@dataclass(slots=True)
class _QpuState:
    graph: CalibrationGraph
    settings: ExperimentSettings
    last_run: dict[Task, float]
    last_canary_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: stale tasks a capped run left for the next runs, and the trigger that found them
    deferred: list[Task] = field(default_factory=list)
    deferred_trigger: str = "schedule"
    #: per qubit, the T1 (µs) a TLS event is judged against: the largest accepted T1 so far
    t1_reference_us: dict[int, float] = field(default_factory=dict)
    #: tasks re-checked because their qubit is in a TLS event → device clock when due
    rechecks: dict[Task, float] = field(default_factory=dict)


class CalibrationManager:
    """Keeps the kernel's QPUs calibrated.

    Args:
        announce: called with each installed snapshot (see :data:`Announce`); ``None``
            announces nothing.
        policy: schedule and canary periods.
        seed: seed of experiment shot noise and random sequences.
        settings: experiment settings per QPU id (default: :func:`settings_for_device` its
            modality, qubit count and calibrated T2).
    """

    def __init__(self, announce: Announce | None = None, *,
                 policy: CalibrationPolicy = CalibrationPolicy(), seed: int = 0,
                 settings: dict[str, ExperimentSettings] | None = None) -> None:
        self._announce_to = announce
        self.policy = policy
        self._rng = np.random.default_rng(seed)
        self._settings = dict(settings or {})
        self._states: dict[str, _QpuState] = {}
        self._states_lock = threading.Lock()

    @staticmethod
    def device(driver: QpuDriver) -> Simultaneous | None:
        """``driver`` as the device calibration runs on, or ``None`` when it is not calibrated
        here: calibrated QPUs are noisy, declare the simultaneous-programs ability and have a
        modality with a calibration graph (superconducting, trapped ion)."""
        device = driver.simultaneous()
        caps = driver.capabilities
        if device is None or not caps.noisy or caps.modality not in CALIBRATED_MODALITIES:
            return None
        return device

    @classmethod
    def supports(cls, driver: QpuDriver) -> bool:
        """Whether ``driver`` is calibrated here (see :meth:`device`)."""
        return cls.device(driver) is not None

    def _state(self, driver: Simultaneous) -> _QpuState:
        caps = driver.capabilities
        with self._states_lock:
            state = self._states.get(caps.qpu_id)
            if state is None:
                clock = driver.device_clock_s
                settings = self._settings.get(caps.qpu_id) or settings_for_device(
                    caps.modality, caps.qubit_count,
                    [q.t2_us for q in driver.calibration_snapshot().parameters.qubits])
                graph = default_graph(caps, settings)
                state = _QpuState(graph, settings,
                                  dict.fromkeys(graph.tasks(), clock), clock)
                state.t1_reference_us = {
                    q: qp.t1_us
                    for q, qp in enumerate(driver.calibration_snapshot().parameters.qubits)}
                self._states[caps.qpu_id] = state
            return state

    def graph(self, driver: QpuDriver) -> CalibrationGraph:
        """The calibration graph of ``driver``'s QPU.

        Raises:
            InvalidProgramError: the QPU is not calibrated here (reason ``NOT_CALIBRATED``).
        """
        device = self.device(driver)
        if device is None:
            raise InvalidProgramError(f"QPU {driver.capabilities.qpu_id!r} is not calibrated",
                                      reason="NOT_CALIBRATED")
        return self._state(device).graph

    # -- the kernel hook ----------------------------------------------------------------------

    async def maintain(self, slot: HasDriver) -> None:
        """Runs a due canary check or calibration on ``slot.driver`` (off the event loop)."""
        if self.supports(slot.driver):
            await asyncio.to_thread(self.maintain_blocking, slot)

    def is_due(self, slot: HasDriver) -> bool:
        """Whether :meth:`maintain` would run anything on ``slot.driver`` now (a scheduled node
        is stale or a canary check is due); cheap, runs no experiment."""
        device = self.device(slot.driver)
        if device is None:
            return False
        state = self._state(device)
        clock = device.device_clock_s
        return (bool(state.deferred) or bool(self._scheduled(state, clock))
                or bool(self._rechecks_due(state, clock)) or self._canary_due(state, clock))

    def maintain_blocking(self, slot: HasDriver) -> CalibrationOutcome | None:
        """Blocking :meth:`maintain`; returns what ran (``None`` when nothing was due)."""
        device = self.device(slot.driver)
        if device is None:
            return None
        state = self._state(device)
        with state.lock:
            clock = device.device_clock_s
            stale = self._scheduled(state, clock)
            if state.deferred:
                carried = [t for t in state.deferred if t not in set(stale)]
                return self._run(device, state, [*carried, *stale],
                                 trigger=state.deferred_trigger)
            if stale:
                return self._run(device, state, stale, trigger="schedule")
            rechecks = self._rechecks_due(state, clock)
            if rechecks:
                for task in rechecks:  # a t1 still low puts them back (_watch_tls)
                    del state.rechecks[task]
                return self._run(device, state, rechecks, trigger="drift")
            if self._canary_due(state, clock):
                return self._check_and_run(device, state, range(state.graph.qubit_count),
                                           state.graph.pairs, trigger="drift")
        return None

    def calibrate(self, slot: HasDriver, *, qubits: Sequence[int] = (), force: bool = False
                  ) -> CalibrationOutcome:
        """Calibrates now (blocking; for the ``Calibrate`` RPC).

        Args:
            slot: has ``.driver``.
            qubits: qubits to consider (pairs with both qubits listed); empty: all.
            force: recalibrate every node of those qubits/pairs, even fresh ones; otherwise
                only those stale on schedule or found drifted by the canaries. On a device
                with rolling runs, nodes beyond the run's cap are deferred to the next
                maintenance slots (``CalibrationOutcome.deferred``).
        Raises:
            InvalidProgramError: a qubit index outside the device (reason
                ``QUBIT_OUT_OF_RANGE``).
        """
        driver = slot.driver
        n = driver.capabilities.qubit_count
        self.check_qubits(driver, qubits)
        device = self.device(driver)
        if device is None:  # an ideal device has nothing to calibrate
            return CalibrationOutcome(driver.calibration_snapshot(), "on_demand", (), 0.0, ())
        state = self._state(device)
        chosen = sorted(set(qubits)) if qubits else list(range(n))
        pairs = [p for p in state.graph.pairs if p[0] in chosen and p[1] in chosen]
        with state.lock:
            if force:
                targets = set(chosen) | set(pairs)
                stale = [t for t in state.graph.tasks() if t[1] in targets]
                return self._run(device, state, stale, trigger="on_demand")
            scheduled = [t for t in self._scheduled(state, device.device_clock_s)
                         if t[1] in set(chosen) | set(pairs)]
            return self._check_and_run(device, state, chosen, pairs, trigger="on_demand",
                                       extra=scheduled)

    @staticmethod
    def check_qubits(driver: QpuDriver, qubits: Sequence[int]) -> None:
        """Raises InvalidProgramError (reason ``QUBIT_OUT_OF_RANGE``) for a qubit outside
        ``driver``'s QPU."""
        caps = driver.capabilities
        bad = [q for q in qubits if not 0 <= q < caps.qubit_count]
        if bad:
            raise InvalidProgramError(
                f"qubits {bad} are outside QPU {caps.qpu_id!r} "
                f"(qubits 0..{caps.qubit_count - 1})", reason="QUBIT_OUT_OF_RANGE")

    # -- internals ----------------------------------------------------------------------------

    def _canary_due(self, state: _QpuState, clock: float) -> bool:
        period = self.policy.canary_period_s
        if period == "auto":
            period = state.settings.canary_period_s
        return period is not None and clock - state.last_canary_s >= period

    @staticmethod
    def _rechecks_due(state: _QpuState, clock: float) -> list[Task]:
        return [t for t, when in state.rechecks.items() if clock >= when]

    def _watch_tls(self, state: _QpuState, estimates: DeviceParameters,
                   accepted: Iterable[Task], clock: float) -> None:
        """After a run: a qubit whose accepted ``t1`` fell below ``1 - t1_relative_threshold``
        of its reference is in a TLS event (its frequency pulled with it), so its ``ramsey``
        and ``t1`` nodes are re-checked ``tls_recheck_s`` later; a qubit out of it leaves the
        watch and its T1 raises the reference."""
        period = self.policy.tls_recheck_s
        for name, q in accepted:
            if name != "t1" or not isinstance(q, int):
                continue
            t1_us = estimates.qubits[q].t1_us
            reference = state.t1_reference_us.get(q, t1_us)
            watched = [t for t in ((n, q) for n in ("ramsey", "t1")) if t in state.last_run]
            for task in watched:
                state.rechecks.pop(task, None)
            if t1_us < (1.0 - state.settings.t1_relative_threshold) * reference:
                if period is not None:
                    state.rechecks.update(dict.fromkeys(watched, clock + period))
            else:
                state.t1_reference_us[q] = max(reference, t1_us)

    def _scheduled(self, state: _QpuState, clock: float) -> list[Task]:
        period = self.policy.schedule_period_s
        if period is None:
            return []
        return [t for t, when in state.last_run.items() if clock - when >= period]

    def _context(self, driver: Simultaneous, state: _QpuState) -> ExperimentContext:
        return ExperimentContext(driver, driver.calibration_snapshot().parameters, state.settings,
                                 np.random.default_rng(self._rng.integers(2**62)))

    def _check_and_run(self, driver: Simultaneous, state: _QpuState, qubits: Iterable[int],
                       pairs: Iterable[tuple[int, int]], *, trigger: str,
                       extra: Sequence[Task] = ()) -> CalibrationOutcome:
        start = driver.calibration_device_time_s
        ctx = self._context(driver, state)
        names = frozenset(node.name for node in state.graph.nodes)
        readings: list[CanaryReading] = qubit_canaries(ctx, list(qubits), nodes=names)
        for node in state.graph.nodes:
            if node.name in PAIR_CANARIES:
                readings += pair_canaries(ctx, list(pairs), node=node.name)
        state.last_canary_s = driver.device_clock_s
        stale = [*extra, *((r.node, r.target) for r in readings if r.drifted)]
        return self._run(driver, state, stale, trigger=trigger, readings=readings,
                         canary_experiments=ctx.experiments, start_time=start)

    def _run(self, driver: Simultaneous, state: _QpuState, stale: Sequence[Task], *, trigger: str,
             readings: Sequence[CanaryReading] = (), canary_experiments: Sequence[str] = (),
             start_time: float | None = None) -> CalibrationOutcome:
        start = driver.calibration_device_time_s if start_time is None else start_time
        graph = state.graph
        stale = self._limit(state, stale, trigger=trigger)
        tasks = graph.plan(stale)
        previous = driver.calibration_snapshot()
        if not tasks:
            return CalibrationOutcome(previous, trigger, tuple(canary_experiments),
                                      driver.calibration_device_time_s - start, (),
                                      tuple(readings), deferred=tuple(state.deferred))
        ctx = self._context(driver, state)
        planned = set(tasks)
        fresh = {t for t in graph.tasks() if t not in planned}
        rejections: list[CalibrationRejection] = []
        rejected: set[Task] = set()
        for task in tasks:
            name, target = task
            state.last_run[task] = driver.device_clock_s  # tried: next due one period on
            failed_parents = [d for d in graph.dependencies(task) if d in rejected]
            if failed_parents:
                rejected.add(task)
                rejections.append(CalibrationRejection(
                    name, target, "PARENT_REJECTED",
                    "not run: " + ", ".join(f"{n} {t}" for n, t in failed_parents)
                    + " rejected"))
                continue
            graph.check_ready(task, fresh)
            experiment = (QUBIT_EXPERIMENTS[name] if isinstance(target, int)
                          else PAIR_EXPERIMENTS[name])
            rejection = run_checked(ctx, graph.node(name), target, experiment)
            if rejection is not None:
                rejected.add(task)
                rejections.append(rejection)
                continue
            fresh.add(task)
            state.last_run[task] = driver.device_clock_s
        self._watch_tls(state, ctx.estimates, [t for t in tasks if t not in rejected],
                        driver.device_clock_s)
        device_time = driver.calibration_device_time_s - start
        experiments = (*canary_experiments, *ctx.experiments)
        recalibrated = tuple(sorted({t for n, t in tasks
                                     if isinstance(t, int) and (n, t) not in rejected}))
        snapshot = previous.derive(
            ctx.estimates, trigger=trigger, recalibrated_qubits=recalibrated,
            experiments=experiments, calibration_device_time_s=device_time,
            device_clock_s=driver.device_clock_s, qubit_uncertainties=ctx.uncertainties,
            pair_uncertainties=ctx.pair_uncertainties, rejections=tuple(rejections))
        driver.install_snapshot(snapshot)
        if self._announce_to is not None:
            self._announce_to(snapshot, experiments)
        return CalibrationOutcome(snapshot, trigger, experiments, device_time, recalibrated,
                                  tuple(readings), tuple(tasks), tuple(state.deferred),
                                  tuple(rejections))

    @staticmethod
    def _limit(state: _QpuState, stale: Sequence[Task], *, trigger: str) -> list[Task]:
        """The stale tasks of this run under ``max_qubits_per_run``: taken stalest first (then
        in plan order) while their qubits fit under the cap; the others become
        ``state.deferred``."""
        cap = state.settings.max_qubits_per_run

        def qubits_of(task: Task) -> tuple[int, ...]:
            target = task[1]
            return (target,) if isinstance(target, int) else target

        unique = list(dict.fromkeys(stale))
        listed = set(unique)
        leftover = [t for t in state.deferred if t not in listed]  # other runs' deferrals
        qubits = {q for t in unique for q in qubits_of(t)}
        if cap is None or len(qubits) <= cap:
            state.deferred = leftover
            return unique
        # greedily, stalest task first: take its qubits while they fit under the cap
        chosen: set[int] = set()
        order = sorted(range(len(unique)), key=lambda i: (state.last_run.get(unique[i], 0.0), i))
        for i in order:
            wanted = chosen | set(qubits_of(unique[i]))
            if len(wanted) <= max(cap, 2):
                chosen = wanted
        kept = [t for t in unique if set(qubits_of(t)) <= chosen]
        state.deferred = [t for t in unique if not set(qubits_of(t)) <= chosen] + leftover
        state.deferred_trigger = trigger
        return kept
