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
The kernel's per-QPU worker awaits :meth:`CalibrationManager.maintain` between jobs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

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
    settings_for,
)
from quantum_service.calibration.graph import (
    CALIBRATED_MODALITIES,
    CalibrationGraph,
    Task,
    default_graph,
)
from quantum_service.contract import CalibrationSnapshot
from quantum_service.errors import InvalidProgramError

__all__ = ["CalibrationPolicy", "CalibrationOutcome", "CalibrationManager"]


@dataclass(frozen=True, slots=True)
class CalibrationPolicy:
    """When calibration runs (device-clock seconds).

    Attributes:
        schedule_period_s: recalibrate nodes older than this; ``None`` disables the schedule.
        canary_period_s: run the drift canaries this often on every QPU; ``"auto"`` (default)
            takes each QPU's ``ExperimentSettings.canary_period_s`` (set per modality from its
            drift rates and shot cost); ``None`` disables drift detection.
    """

    schedule_period_s: float | None = 12 * 3600.0
    canary_period_s: float | Literal["auto"] | None = "auto"


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
        tasks: the (node, target) pairs run, in order.
    """

    snapshot: CalibrationSnapshot
    trigger: str
    experiments: tuple[str, ...]
    device_time_s: float
    recalibrated_qubits: tuple[int, ...]
    readings: tuple[CanaryReading, ...] = ()
    tasks: tuple[Task, ...] = ()


@dataclass(slots=True)
class _QpuState:
    graph: CalibrationGraph
    settings: ExperimentSettings
    last_run: dict[Task, float]
    last_canary_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class CalibrationManager:
    """Keeps the kernel's QPUs calibrated.

    Args:
        publish: called with each ``qcore.v1.CalibrationEvent`` (from worker threads; must be
            thread-safe and never block, as ``Kernel.emit`` is); ``None`` publishes nothing.
        policy: schedule and canary periods.
        seed: seed of experiment shot noise and random sequences.
        settings: experiment settings per QPU id (default: :func:`settings_for` its modality).
    """

    def __init__(self, publish: Callable[[object], None] | None = None, *,
                 policy: CalibrationPolicy = CalibrationPolicy(), seed: int = 0,
                 settings: dict[str, ExperimentSettings] | None = None) -> None:
        self._publish = publish
        self.policy = policy
        self._rng = np.random.default_rng(seed)
        self._settings = dict(settings or {})
        self._states: dict[str, _QpuState] = {}
        self._states_lock = threading.Lock()

    @staticmethod
    def supports(driver: object) -> bool:
        """Whether ``driver`` is calibrated here: a noisy simulated QPU (``execute_native``) of
        a modality with a calibration graph (superconducting, trapped ion)."""
        caps = getattr(driver, "capabilities", None)
        return (hasattr(driver, "execute_native") and caps is not None and caps.noisy
                and caps.modality in CALIBRATED_MODALITIES)

    def _state(self, driver) -> _QpuState:
        caps = driver.capabilities
        with self._states_lock:
            state = self._states.get(caps.qpu_id)
            if state is None:
                graph = default_graph(caps)
                clock = driver.device_clock_s
                state = _QpuState(graph, self._settings.get(caps.qpu_id,
                                                            settings_for(caps.modality)),
                                  dict.fromkeys(graph.tasks(), clock), clock)
                self._states[caps.qpu_id] = state
            return state

    def graph(self, driver) -> CalibrationGraph:
        """The calibration graph of ``driver``'s QPU."""
        return self._state(driver).graph

    # -- the kernel hook ----------------------------------------------------------------------

    async def maintain(self, slot) -> None:
        """Runs a due canary check or calibration on ``slot.driver`` (off the event loop)."""
        if self.supports(slot.driver):
            await asyncio.to_thread(self.maintain_blocking, slot)

    def is_due(self, slot) -> bool:
        """Whether :meth:`maintain` would run anything on ``slot.driver`` now (a scheduled node
        is stale or a canary check is due); cheap, runs no experiment."""
        driver = slot.driver
        if not self.supports(driver):
            return False
        state = self._state(driver)
        clock = driver.device_clock_s
        return bool(self._scheduled(state, clock)) or self._canary_due(state, clock)

    def maintain_blocking(self, slot) -> CalibrationOutcome | None:
        """Blocking :meth:`maintain`; returns what ran (``None`` when nothing was due)."""
        driver = slot.driver
        if not self.supports(driver):
            return None
        state = self._state(driver)
        with state.lock:
            clock = driver.device_clock_s
            stale = self._scheduled(state, clock)
            if stale:
                return self._run(driver, state, stale, trigger="schedule")
            if self._canary_due(state, clock):
                return self._check_and_run(driver, state, range(state.graph.qubit_count),
                                           state.graph.pairs, trigger="drift")
        return None

    def calibrate(self, slot, *, qubits: Sequence[int] = (), force: bool = False
                  ) -> CalibrationOutcome:
        """Calibrates now (blocking; for the ``Calibrate`` RPC).

        Args:
            slot: has ``.driver``.
            qubits: qubits to consider (pairs with both qubits listed); empty: all.
            force: recalibrate every node of those qubits/pairs, even fresh ones; otherwise
                only those stale on schedule or found drifted by the canaries.
        Raises:
            InvalidProgramError: a qubit index outside the device (reason
                ``QUBIT_OUT_OF_RANGE``).
        """
        driver = slot.driver
        n = driver.capabilities.qubit_count
        self.check_qubits(driver, qubits)
        if not self.supports(driver):  # an ideal device has nothing to calibrate
            return CalibrationOutcome(driver.calibration_snapshot(), "on_demand", (), 0.0, ())
        state = self._state(driver)
        chosen = sorted(set(qubits)) if qubits else list(range(n))
        pairs = [p for p in state.graph.pairs if p[0] in chosen and p[1] in chosen]
        with state.lock:
            if force:
                targets = set(chosen) | set(pairs)
                stale = [t for t in state.graph.tasks() if t[1] in targets]
                return self._run(driver, state, stale, trigger="on_demand")
            scheduled = [t for t in self._scheduled(state, driver.device_clock_s)
                         if t[1] in set(chosen) | set(pairs)]
            return self._check_and_run(driver, state, chosen, pairs, trigger="on_demand",
                                       extra=scheduled)

    @staticmethod
    def check_qubits(driver, qubits: Sequence[int]) -> None:
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

    def _scheduled(self, state: _QpuState, clock: float) -> list[Task]:
        period = self.policy.schedule_period_s
        if period is None:
            return []
        return [t for t, when in state.last_run.items() if clock - when >= period]

    def _context(self, driver, state: _QpuState) -> ExperimentContext:
        return ExperimentContext(driver, driver.calibration_snapshot().parameters, state.settings,
                                 np.random.default_rng(self._rng.integers(2**62)))

    def _check_and_run(self, driver, state: _QpuState, qubits: Iterable[int],
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

    def _run(self, driver, state: _QpuState, stale: Sequence[Task], *, trigger: str,
             readings: Sequence[CanaryReading] = (), canary_experiments: Sequence[str] = (),
             start_time: float | None = None) -> CalibrationOutcome:
        start = driver.calibration_device_time_s if start_time is None else start_time
        graph = state.graph
        tasks = graph.plan(stale)
        previous = driver.calibration_snapshot()
        if not tasks:
            return CalibrationOutcome(previous, trigger, tuple(canary_experiments),
                                      driver.calibration_device_time_s - start, (),
                                      tuple(readings))
        ctx = self._context(driver, state)
        planned = set(tasks)
        fresh = {t for t in graph.tasks() if t not in planned}
        for task in tasks:
            graph.check_ready(task, fresh)
            name, target = task
            if isinstance(target, int):
                QUBIT_EXPERIMENTS[name](ctx, target)
            else:
                PAIR_EXPERIMENTS[name](ctx, target)
            fresh.add(task)
            state.last_run[task] = driver.device_clock_s
        device_time = driver.calibration_device_time_s - start
        experiments = (*canary_experiments, *ctx.experiments)
        recalibrated = tuple(sorted({t for n, t in tasks if isinstance(t, int)}))
        snapshot = previous.derive(
            ctx.estimates, trigger=trigger, recalibrated_qubits=recalibrated,
            experiments=experiments, calibration_device_time_s=device_time,
            device_clock_s=driver.device_clock_s, qubit_uncertainties=ctx.uncertainties,
            pair_uncertainties=ctx.pair_uncertainties)
        driver.install_snapshot(snapshot)
        self._announce(snapshot, trigger, experiments)
        return CalibrationOutcome(snapshot, trigger, experiments, device_time, recalibrated,
                                  tuple(readings), tuple(tasks))

    def _announce(self, snapshot: CalibrationSnapshot, trigger: str,
                  experiments: Sequence[str]) -> None:
        if self._publish is None:
            return
        from datetime import UTC, datetime

        from qcore.v1 import telemetry_pb2
        from quantum_service.convert import snapshot_to_proto, timestamp

        self._publish(telemetry_pb2.CalibrationEvent(
            qpu_id=snapshot.qpu_id, snapshot=snapshot_to_proto(snapshot),
            time=timestamp(datetime.now(UTC)), trigger=trigger, experiments=list(experiments)))
