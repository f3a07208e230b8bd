"""The kernel: jobs, scheduling onto QPUs, and their lifecycle.

Jobs are validated, placed (:mod:`.placement`), compiled and checked against the owner's quotas
(:mod:`.quotas`) before they are stored (nothing invalid is ever queued), persisted in the
:class:`~quantum_service.kernel.store.JobStore`, and queued on their QPU's
:class:`~quantum_service.kernel.scheduler.QpuQueue`, ordered by the multifactor priority score
(fair share, priority, age). One worker per QPU (:mod:`.dispatch`) takes the best-scored job —
packing further queued jobs onto disjoint qubit regions with it when multi-programming pays off
(:mod:`.multiprogramming`) — and executes it on the QPU's own execution lane
(:mod:`.lanes`; the simulator releases the GIL): the chunks of parameter sets of one job run
concurrently, jobs on different QPUs run concurrently and never wait for each other, and
admission (parsing, placement, compiling) runs on a pool of its own, so every RPC is answered
while simulations run. Between jobs the worker runs the optional
:class:`~quantum_service.kernel.maintenance.Maintenance` hook (calibration), only when work is
due; session evaluations wait in a separate lane that the worker serves first, between jobs and
between the chunks of a running job. Every state change is stored, pushed to watchers and
published as telemetry (:mod:`.events`).

Restarts and stops: on start, jobs left QUEUED or RUNNING by a previous process are queued
again, except those whose cancel was requested (stored with the job at once), which end
CANCELLED. A stop (:meth:`Kernel.interrupt`) asks running simulations to return at their next
parameter set and stores their jobs QUEUED, to run again after the next start.

A QPU is ``CALIBRATING`` while maintenance or a ``Calibrate`` call (:meth:`Kernel.calibrate`)
runs on it and ``ONLINE`` otherwise; every change is published as a ``QpuStatusEvent``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from opentelemetry import trace

from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.circuits.ir import Circuit
from quantum_service.contract import (
    CalibrationSnapshot,
    MitigationOptions,
    PreparedProgram,
    QpuCapabilities,
)
from quantum_service.contract.device_time import predicted_device_time_s
from quantum_service.errors import (
    FailedPreconditionError,
    InvalidProgramError,
    NotFoundError,
    QcoreError,
    UnavailableError,
)
from quantum_service.kernel.board import JobBoard
from quantum_service.kernel.dispatch import Dispatcher, job_seed
from quantum_service.kernel.events import KernelEvents, Telemetry
from quantum_service.kernel.fairshare import FairShare
from quantum_service.kernel.jobs import JobRecord, JobState
from quantum_service.kernel.lanes import ExecutionLanes
from quantum_service.kernel.maintenance import Maintenance, calibrating
from quantum_service.kernel.placement import place
from quantum_service.kernel.qpus import QpuRegistry, QpuSlot, qpu_properties, qpu_supports
from quantum_service.kernel.quotas import Quotas
from quantum_service.kernel.runtime import RunTimeModel, job_work
from quantum_service.kernel.scheduler import (
    MAX_PRIORITY,
    QpuQueue,
    QueueEntry,
    SchedulerPolicy,
    SessionWork,
)
from quantum_service.kernel.store import JobStore
from quantum_service.kernel.validation import (
    ParsedJob,
    check_dynamic_circuits,
    check_mitigation,
    check_shot_count,
    parse_job,
)
from quantum_service.security.principal import Principal

if TYPE_CHECKING:
    from quantum_service.calibration.manager import CalibrationManager, CalibrationOutcome

__all__ = ["Kernel", "Maintenance", "Telemetry"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

T = TypeVar("T")


class Kernel:
    """Owns the QPUs, the job store, the job queues and the scheduler state.

    Args:
        registry: the QPUs.
        store: persistent job records.
        telemetry: publisher of telemetry messages (a ``NullPublisher`` disables it).
        workers: admission threads (parsing, placement, compiling; never a simulation).
        lane_workers: threads of each QPU's execution lane (see :mod:`.lanes`).
        policy: scheduler weights, quotas and multi-programming settings
            (``SchedulerPolicy.from_settings(QuantumSettings())`` in the service).
        maintenance: run by a QPU's worker between jobs when due (see
            :class:`~quantum_service.kernel.maintenance.Maintenance`); the QPU is
            ``CALIBRATING`` meanwhile. ``None`` = no maintenance.
        clock: scheduler clock, seconds since the epoch (fair-share decay, quotas, ages,
            estimated start times).
    """

    def __init__(self, registry: QpuRegistry, store: JobStore, telemetry: Telemetry, *,
                 workers: int = 4, lane_workers: int = 2,
                 policy: SchedulerPolicy | None = None,
                 maintenance: Maintenance | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.store = store
        self.telemetry = telemetry
        self.policy = policy or SchedulerPolicy()
        #: The calibration manager serving :meth:`calibrate` (set by the app), or None.
        self.calibration: CalibrationManager | None = None
        self.clock = clock
        self.fair_share = FairShare(half_life_s=self.policy.fair_share_half_life_s,
                                    shares=dict(self.policy.user_shares), clock=clock)
        self.quotas = Quotas(max_queued_jobs=self.policy.quota_max_queued_jobs,
                             device_s_per_window=self.policy.quota_device_s_per_window,
                             window_s=self.policy.quota_window_s, clock=clock)
        self.lanes = ExecutionLanes([slot.driver.capabilities.qpu_id for slot in registry],
                                    lane_workers=lane_workers, admission_workers=workers)
        self.board = JobBoard()
        self.events = KernelEvents(telemetry, store, self.board.annotate)
        self.runtime = RunTimeModel()
        self.dispatcher = Dispatcher(
            registry=registry, store=store, board=self.board, events=self.events,
            policy=self.policy, lanes=self.lanes, prepare_all=self._prepare_all,
            record_usage=self.record_usage, clock=clock, runtime=self.runtime)
        self.dispatcher.maintenance = maintenance
        self._tasks: list[asyncio.Task] = []
        self._submit_lock = asyncio.Lock()
        store.annotate = self.board.annotate

    @property
    def maintenance(self) -> Maintenance | None:
        """The hook run between jobs (settable; ``None``: none)."""
        return self.dispatcher.maintenance

    @maintenance.setter
    def maintenance(self, hook: Maintenance | None) -> None:
        self.dispatcher.maintenance = hook

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts one worker per QPU and re-queues unfinished jobs from the store."""
        for slot in self.registry:
            slot.driver.connect()
            qpu_id = slot.driver.capabilities.qpu_id
            self.board.queues[qpu_id] = QpuQueue(fair_share=self.fair_share, policy=self.policy,
                                            clock=self.clock)
        for job in self.store.unfinished():
            await self._resume(job)
        for slot in self.registry:
            qpu_id = slot.driver.capabilities.qpu_id
            self._tasks.append(asyncio.create_task(self.dispatcher.worker(qpu_id),
                                                   name=f"qpu-{qpu_id}"))
            self.publish_qpu_status(slot)
            self.publish_calibration(slot)

    async def _resume(self, job: JobRecord) -> None:
        if job.cancel_requested:  # cancelled before a crash or stop: never run again
            job.transition(JobState.CANCELLED)
            job.error_message = "cancelled (requested before the service restarted)"
            self.store.update(job)
            log.info("job %s stays cancelled after the restart", job.job_id)
            return
        if job.qpu_id not in self.board.queues:
            job.transition(JobState.FAILED)
            job.error_message = f"QPU {job.qpu_id!r} no longer exists"
            self.store.update(job)
            return
        if job.state is JobState.RUNNING:
            job.transition(JobState.QUEUED)  # interrupted by a restart: run it again
            self.store.update(job)
        slot = self.registry.get(job.qpu_id)
        try:
            parsed = await self.run_blocking(parse_job, job.request)
            prepared = await self.run_blocking(self._prepare_all, parsed, slot)
        except QcoreError as exc:
            job.transition(JobState.FAILED)
            job.error_message = f"{exc.reason}: {exc}"
            self.store.update(job)
            return
        self._enqueue(job, slot, parsed, prepared, enqueue_time=job.create_time.timestamp())
        log.info("resuming job %s on %s", job.job_id, job.qpu_id)

    async def stop(self, grace_s: float = 5.0) -> None:
        """:meth:`interrupt` (running jobs get ``grace_s`` seconds), then :meth:`close`."""
        await self.interrupt(grace_s)
        self.close()

    async def interrupt(self, grace_s: float = 5.0) -> None:
        """Stops the QPU workers: running simulations are asked to return at their next
        parameter set, their jobs stored QUEUED (CANCELLED where a cancel was requested).

        Workers still busy after ``grace_s`` seconds (one simulation step longer than that)
        are cancelled; their jobs are stored QUEUED as well, and the simulation thread is
        abandoned (:meth:`close` does not wait for it).
        """
        self.dispatcher.stopping.set()
        for queue in self.board.queues.values():
            queue.close()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def close(self) -> None:
        """Fails waiting session work, leaves the lanes without waiting, disconnects the
        drivers and closes the store (after :meth:`interrupt`)."""
        for queue in self.board.queues.values():
            for work in queue.sessions:
                work.future.cancel()
            queue.sessions.clear()
        for event in self.board.cancel.values():
            event.set()
        self.lanes.shutdown()
        for slot in self.registry:
            slot.driver.disconnect()
            self.events.publish_qpu_status(slot, offline=True)
        self.store.close()

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` on the admission pool (parsing, placement, compiling: work that
        must never wait behind a simulation; see :mod:`.lanes`)."""
        return await self.lanes.admit(contextvars.copy_context().run, fn, *args)

    async def run_on_qpu(self, slot: QpuSlot, fn: Callable[[], T]) -> T:
        """Runs ``fn()`` (a session evaluation) through the session lane of ``slot``'s QPU.

        The QPU's worker serves the lane before queued jobs and between the chunks of a
        running job, so a session never waits behind the job queue; the work runs on the
        QPU's execution lane, never behind another QPU's work.
        """
        qpu_id = slot.driver.capabilities.qpu_id
        with tracer.start_as_current_span("kernel.run_on_qpu",
                                          attributes={"qcore.qpu_id": qpu_id}):
            queue = self.board.queues.get(qpu_id)
            bound = functools.partial(contextvars.copy_context().run, fn)
            if queue is None or not self._tasks:  # kernel not started: run directly
                return await self.lanes.on_lane(qpu_id, bound)
            future: asyncio.Future = asyncio.get_running_loop().create_future()
            queue.add_session_work(SessionWork(bound, future))
            return await future

    def record_usage(self, owner: str, device_s: float) -> None:
        """Charges ``device_s`` device seconds to ``owner`` (fair share and quota)."""
        self.fair_share.record(owner, device_s)
        self.quotas.record(owner, device_s)

    # -- telemetry and calibration ----------------------------------------------------------

    def emit(self, message) -> None:
        """Publishes a telemetry message on its topic; never blocks, never raises."""
        self.events.emit(message)

    def publish_qpu_status(self, slot: QpuSlot) -> None:
        """Publishes ``slot``'s status (``slot.status``), queue length and device time."""
        self.events.publish_qpu_status(slot)

    def publish_calibration(self, slot: QpuSlot) -> None:
        """Publishes the calibration snapshot ``slot``'s QPU runs under now."""
        self.events.publish_calibration_snapshot(slot.driver.calibration_snapshot())

    def publish_calibration_snapshot(self, snapshot: CalibrationSnapshot,
                                     experiments: Sequence[str] = ()) -> None:
        """Publishes a newly installed snapshot (the calibration manager's announce hook)."""
        self.events.publish_calibration_snapshot(snapshot, experiments)

    def calibrating(self, slot: QpuSlot) -> AbstractAsyncContextManager[None]:
        """Marks ``slot``'s QPU ``CALIBRATING`` for the duration of the block (see
        :func:`~quantum_service.kernel.maintenance.calibrating`)."""
        return calibrating(slot, self.events)

    async def calibrate(self, slot: QpuSlot, *, qubits: Sequence[int] = (),
                        force: bool = False) -> CalibrationOutcome:
        """Calibrates ``slot``'s QPU now with :attr:`calibration` (the ``Calibrate`` RPC).

        The QPU is ``CALIBRATING`` while the experiments run (not for a QPU the manager does
        not calibrate, e.g. a noiseless one, where nothing runs).

        Args:
            slot: the QPU.
            qubits: qubits to consider (pairs with both qubits listed); empty: all.
            force: recalibrate every node of those qubits and pairs, even fresh ones.
        Returns:
            what ran and the snapshot now installed.
        Raises:
            UnavailableError: the kernel has no calibration manager (reason
                ``CALIBRATION_UNAVAILABLE``).
            InvalidProgramError: a qubit outside the QPU (reason ``QUBIT_OUT_OF_RANGE``).
        """
        manager = self.calibration
        if manager is None:
            raise UnavailableError("this quantum service runs without a calibration manager",
                                   reason="CALIBRATION_UNAVAILABLE")
        manager.check_qubits(slot.driver, qubits)  # before the QPU is reported calibrating
        run = functools.partial(manager.calibrate, slot, qubits=list(qubits), force=force)
        qpu_id = slot.driver.capabilities.qpu_id
        if not manager.supports(slot.driver):
            return await self.lanes.on_lane(qpu_id, run)
        async with self.calibrating(slot):
            return await self.lanes.on_lane(qpu_id, run)

    def qpu_supports(self, slot: QpuSlot) -> dict[str, bool]:
        """Capability flags of ``slot``'s QPU (``QpuDescription.supports``; see
        :func:`~quantum_service.kernel.qpus.qpu_supports`)."""
        manager = self.calibration
        return qpu_supports(
            slot.driver,
            multi_programming=self.dispatcher.multi_programs(slot),
            calibration=manager is not None and manager.supports(slot.driver))

    def qpu_properties(self, slot: QpuSlot) -> dict[str, float]:
        """Numbers describing ``slot``'s QPU (``QpuDescription.properties``; see
        :func:`~quantum_service.kernel.qpus.qpu_properties`)."""
        return qpu_properties(slot.driver)

    # -- queue bookkeeping -------------------------------------------------------------------

    def _enqueue(self, job: JobRecord, slot: QpuSlot, parsed: ParsedJob,
                 prepared: list[PreparedProgram], *, enqueue_time: float) -> None:
        caps = slot.driver.capabilities
        sets = parsed.parameter_sets.shape[0]
        work = job_work(prepared, caps, shot_count=job.request.shot_count,
                        parameter_set_count=sets, mitigation=parsed.mitigation)
        entry = QueueEntry(job_id=job.job_id, owner=job.owner, priority=job.priority,
                           enqueue_time=enqueue_time,
                           predicted_s=_predicted_device_time_s(
                               prepared, caps, shot_count=job.request.shot_count,
                               parameter_set_count=sets, mitigation=parsed.mitigation),
                           predicted_run_s=self.runtime.predict_s(caps.qpu_id, work))
        self.board.work[job.job_id] = work
        self.board.enqueue(job, slot, parsed, prepared, entry)

    # -- jobs --------------------------------------------------------------------------------

    def _prepare_all(self, parsed: ParsedJob, slot: QpuSlot) -> list[PreparedProgram]:
        return [slot.driver.prepare(c, observable=parsed.observable,
                                    observables=parsed.observables) for c in parsed.circuits]

    async def choose_qpu(self, circuits: list[Circuit], *, qpu_id: str = "",
                         exact: bool = False) -> tuple[QpuSlot, str]:
        """The QPU for ``circuits`` and the reason: the named one, else the placement policy
        (:mod:`quantum_service.kernel.placement`; exact expectation values need a noiseless QPU).

        Raises:
            NotFoundError: unknown ``qpu_id``.
            InvalidProgramError: no QPU fits; a dynamic circuit for a named QPU that does not
                run dynamic circuits (reason ``UNSUPPORTED_OPERATION``, naming those that do).
        """
        if qpu_id:
            slot = self.registry.get(qpu_id)
            check_dynamic_circuits(circuits, slot.driver.capabilities,
                                   [s.driver.capabilities for s in self.registry])
            return slot, f"requested qpu_id {qpu_id}"
        placement = await self.run_blocking(lambda: place(
            list(self.registry), circuits, wait_s=self._wait_s,
            wait_scale_s=self.policy.placement_wait_scale_s, require_noiseless=exact))
        return placement.slot, placement.reason

    async def lease_qpu(self, circuits: list[Circuit], *, qpu_id: str = "",
                        exact: bool = False) -> tuple[QpuSlot, str]:
        """Like :meth:`choose_qpu`, and takes a session lease on the QPU chosen.

        Placement considers only QPUs with a free lease, so a session that names no QPU goes
        to the best fitting QPU that still has one; when a lease is taken between placement
        and acquisition, placement runs again without that QPU. Release the lease with
        :meth:`QpuRegistry.release_lease`.

        Raises:
            NotFoundError: unknown ``qpu_id``.
            InvalidProgramError: no QPU fits.
            ResourceExhaustedError: the named QPU, or every fitting one, has no free lease
                (reason ``SESSION_LIMIT``).
        """
        if qpu_id:
            slot = self.registry.get(qpu_id)
            self.registry.acquire_lease(slot)
            return slot, f"requested qpu_id {qpu_id}"
        full: set[str] = set()
        while True:
            placement = await self.run_blocking(lambda: place(
                list(self.registry), circuits, wait_s=self._wait_s,
                wait_scale_s=self.policy.placement_wait_scale_s, require_noiseless=exact,
                available=lambda s: (s.driver.capabilities.qpu_id not in full
                                     and self.registry.has_free_lease(s))))
            if self.registry.has_free_lease(placement.slot):  # nothing awaited since: atomic
                self.registry.acquire_lease(placement.slot)
                return placement.slot, placement.reason
            full.add(placement.slot.driver.capabilities.qpu_id)

    async def submit(self, request: qs_pb2.SubmitJobRequest, *, owner: str,
                     caller: Principal | None = None) -> JobRecord:
        """Validates, places, compiles, checks quotas, stores and queues a job; a request
        with ``replay_of_job_id`` re-runs that job (:meth:`_replay_request`).

        Args:
            caller: the authenticated caller (admins may replay anyone's job); ``None``: an
                in-process call, which may replay ``owner``'s jobs.
        Raises:
            InvalidProgramError: bad program, mitigation options or priority outside 0–10;
                nothing is stored.
            NotFoundError: unknown ``qpu_id``, or a replayed job the caller may not see.
            FailedPreconditionError: the replayed job cannot be replayed, or the QPU cannot
                apply the mitigation asked for.
            ResourceExhaustedError: a quota of ``owner`` would be exceeded.
        """
        existing = self.store.find_request(owner, request.request_id)
        if existing is not None:  # a retry of an earlier submission
            return existing
        pinned: JobRecord | None = None
        if request.replay_of_job_id:
            request, pinned = self._replay_request(request, owner=owner, caller=caller)
        if not 0 <= request.priority <= MAX_PRIORITY:
            raise InvalidProgramError(
                f"priority must be an integer from 0 (lowest) to {MAX_PRIORITY} (highest), got "
                f"{request.priority}", reason="INVALID_PRIORITY")
        parsed = await self.run_blocking(parse_job, request)  # parsing QASM is CPU work
        slot, reason = await self.choose_qpu(
            parsed.circuits, qpu_id=request.qpu_id,
            exact=parsed.has_observable and request.shot_count == 0)
        caps = slot.driver.capabilities
        check_shot_count(request.shot_count, has_observable=parsed.has_observable,
                         caps=caps)
        if parsed.parameter_sets.shape[0] > caps.max_parameter_set_count:
            raise InvalidProgramError(
                f"{parsed.parameter_sets.shape[0]} parameter sets exceed QPU "
                f"{caps.qpu_id!r}'s limit of {caps.max_parameter_set_count}",
                reason="TOO_MANY_PARAMETER_SETS")
        prepared = await self.run_blocking(self._prepare_all, parsed, slot)
        if parsed.mitigation is not None:
            await self.run_blocking(check_mitigation, slot.driver, prepared, parsed.mitigation)
        predicted = _predicted_device_time_s(prepared, caps, shot_count=request.shot_count,
                                             parameter_set_count=parsed.parameter_sets.shape[0],
                                             mitigation=parsed.mitigation)
        job = JobRecord(job_id=f"job-{uuid.uuid4().hex[:16]}", request=request, owner=owner,
                        state=JobState.QUEUED, qpu_id=caps.qpu_id, placement_reason=reason)
        if pinned is not None:
            job.device_state = pinned.device_state
            job.calibration_snapshot_id = pinned.calibration_snapshot_id
            job.placement_reason = f"replay of {pinned.job_id} on its QPU and device state"
        async with self._submit_lock:
            active, pending = self.board.owner_load(owner)
            self.quotas.check(owner, active_jobs=active, pending_s=pending,
                              predicted_s=predicted)
            stored = self.store.insert(job)
            if stored is not job:  # a concurrent retry of the same submission
                return stored
            self._enqueue(job, slot, parsed, prepared, enqueue_time=self.clock())
        self.events.job_changed(job)
        self.publish_qpu_status(slot)
        return job

    def _replay_request(self, request: qs_pb2.SubmitJobRequest, *, owner: str,
                        caller: Principal | None
                        ) -> tuple[qs_pb2.SubmitJobRequest, JobRecord]:
        """The request that re-runs ``request.replay_of_job_id`` bit-identically, and that
        job: its programs, observable, parameter sets, shots, mitigation, seed (the one it
        actually used) and QPU; the replay's own ``request_id``, ``name`` and ``priority``.

        Raises:
            InvalidProgramError: the replay request sets anything else (reason
                ``INVALID_REPLAY``).
            NotFoundError: no such job visible to the caller (reason ``JOB_NOT_FOUND``).
            FailedPreconditionError: the job did not succeed, or ran without a pinned device
                state (multi-programmed with other jobs, or on a QPU that cannot be pinned)
                (reason ``NOT_REPLAYABLE``).
        """
        extra = [f.name for f, _ in request.ListFields()
                 if f.name not in ("replay_of_job_id", "request_id", "name", "priority")]
        if extra:
            raise InvalidProgramError(
                f"a replay takes everything from the replayed job; do not set "
                f"{', '.join(sorted(extra))}", reason="INVALID_REPLAY")
        original = self.store.get(request.replay_of_job_id)
        if original is None or not (original.owner == owner
                                    or (caller is not None and caller.is_admin)):
            raise NotFoundError(f"no job with job_id {request.replay_of_job_id!r}",
                                reason="JOB_NOT_FOUND")
        if original.state is not JobState.SUCCEEDED or not original.device_state:
            why = (f"it is {original.state.name}" if original.state is not JobState.SUCCEEDED
                   else "it ran multi-programmed with other jobs, or on a QPU whose state "
                        "cannot be pinned")
            raise FailedPreconditionError(
                f"job {original.job_id} cannot be replayed: {why}", reason="NOT_REPLAYABLE")
        replay = qs_pb2.SubmitJobRequest()
        replay.CopyFrom(original.request)
        replay.seed = job_seed(original)
        replay.qpu_id = original.qpu_id
        replay.request_id, replay.priority = request.request_id, request.priority
        replay.name = request.name or f"replay of {original.job_id}"
        replay.replay_of_job_id = original.job_id
        return replay, original

    def _wait_s(self, slot: QpuSlot) -> float:
        queue = self.board.queues.get(slot.driver.capabilities.qpu_id)
        return queue.predicted_wait_s() if queue is not None else 0.0

    def get(self, job_id: str, *, caller: Principal | None = None) -> JobRecord:
        """The job ``job_id``.

        Args:
            caller: the authenticated caller; a job it does not own (and it is no admin) is
                reported as not found, so job ids do not leak between users. ``None``: an
                in-process call, unchecked.
        Raises:
            NotFoundError: unknown job, or one ``caller`` may not see (reason
                ``JOB_NOT_FOUND``).
        """
        job = self.store.get(job_id)
        if job is None or (caller is not None and not caller.owns(job.owner)):
            raise NotFoundError(f"no job with job_id {job_id!r}", reason="JOB_NOT_FOUND")
        return job

    def list_jobs(self, *, limit: int, before_seq: int | None = None, qpu_id: str = "",
                  state: JobState | None = None, caller: Principal | None = None
                  ) -> tuple[list[JobRecord], int | None]:
        """Jobs newest first, with queue positions (see :meth:`JobStore.list`): only
        ``caller``'s own jobs unless it is an admin (or ``None``, an in-process call)."""
        owner = "" if caller is None or caller.is_admin else caller.user
        return self.store.list(limit=limit, before_seq=before_seq, qpu_id=qpu_id, state=state,
                               owner=owner)

    async def cancel(self, job_id: str, *, caller: Principal | None = None) -> JobRecord:
        """Cancels a queued or running job (one ``caller`` owns, unless it is an admin; see
        :meth:`get`).

        Raises:
            NotFoundError: unknown job, or one ``caller`` may not see.
            FailedPreconditionError: the job already finished.
        """
        job = self.get(job_id, caller=caller)
        if job.state.is_terminal:
            raise FailedPreconditionError(
                f"job {job_id} is already {job.state.name}; only QUEUED or RUNNING jobs can be "
                f"cancelled", reason="JOB_FINISHED")
        event = self.board.cancel.get(job_id)
        if job.state is JobState.RUNNING or event is not None:
            # Stored first: a crash from here on still ends the job CANCELLED on restart.
            self.store.request_cancel(job_id)
            job.cancel_requested = True
            if event is not None:
                event.set()  # the driver stops at its next parameter set
            # the worker finishes the transition; report the job as cancelling
            job.error_message = "cancellation requested"
            return job
        queue = self.board.queues.get(job.qpu_id)
        if queue is not None:
            queue.remove(job_id)
            self.board.sync_length(self.registry.get(job.qpu_id))
        self.board.finished(job_id)
        job.transition(JobState.CANCELLED)
        job.error_message = "cancelled while queued"
        self.events.job_changed(job)
        return job

    def watch(self, job_id: str, *, caller: Principal | None = None
              ) -> AsyncIterator[qs_pb2.Job]:
        """Yields the job now and on every change until it reaches a final state.

        Raises:
            NotFoundError: unknown job, or one ``caller`` may not see (see :meth:`get`; on the
                first iteration).
        """
        return self.events.watch(job_id, functools.partial(self.get, caller=caller))


def _predicted_device_time_s(prepared: list[PreparedProgram], caps: QpuCapabilities, *,
                             shot_count: int, parameter_set_count: int,
                             mitigation: MitigationOptions | None) -> float:
    """:func:`~quantum_service.contract.device_time.predicted_device_time_s`, times the scale
    factors of zero-noise extrapolation (each runs every shot; its folded gates take longer
    still, so this is a lower bound)."""
    predicted = predicted_device_time_s(prepared, caps, shot_count=shot_count,
                                        parameter_set_count=parameter_set_count)
    return predicted * (len(mitigation.scale_factors) if mitigation is not None else 1)
