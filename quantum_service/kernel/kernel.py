"""The kernel: jobs, scheduling onto QPUs, and their lifecycle.

Jobs are validated, placed (:mod:`.placement`), compiled and checked against the owner's quotas
(:mod:`.quotas`) before they are stored (nothing invalid is ever queued), persisted in the
:class:`~quantum_service.kernel.store.JobStore`, and queued on their QPU's
:class:`~quantum_service.kernel.scheduler.QpuQueue`, ordered by the multifactor priority score
(fair share, priority, age). One worker per QPU takes the best-scored job — packing further
queued jobs onto disjoint qubit regions with it when multi-programming pays off
(:mod:`.multiprogramming`) — and executes it on a thread pool (the simulator releases the GIL):
the chunks of parameter sets of one job run concurrently, jobs on different QPUs run
concurrently, and the event loop keeps answering RPCs. Between jobs the worker awaits the
optional ``maintenance(slot)`` hook (calibration), only when work is due; session evaluations
wait in a separate lane that the worker serves first, between jobs and between the chunks of a
running job. Every state change is stored, pushed to watchers and published as telemetry. On
start, jobs left QUEUED or RUNNING by a previous process are queued again.

A QPU is ``CALIBRATING`` while maintenance or a ``Calibrate`` call (:meth:`Kernel.calibrate`)
runs on it and ``ONLINE`` otherwise; every change is published as a ``QpuStatusEvent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from broker.publisher import Publisher
from broker.topics import topic_for
from qcore.v1 import common_pb2, telemetry_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.circuits.ir import Circuit
from quantum_service.convert import timestamp
from quantum_service.contract import ExecutionOptions, PreparedProgram
from quantum_service.errors import (
    FailedPreconditionError,
    InvalidProgramError,
    NotFoundError,
    QcoreError,
    UnavailableError,
)
from quantum_service.kernel.estimate import predicted_device_time_s, program_physical_qubits
from quantum_service.kernel.fairshare import FairShare
from quantum_service.kernel.jobs import JobRecord, JobState, utc_now
from quantum_service.kernel.multiprogramming import (
    CROSSTALK_PHASE_RAD,
    MergedProgram,
    pack,
    prepare_merged,
    schedule_duration_ns,
    split_counts,
    supports_fixed_layout,
)
from quantum_service.kernel.placement import place
from quantum_service.kernel.qpus import QpuRegistry, QpuSlot, qpu_properties, qpu_supports
from quantum_service.kernel.quotas import Quotas
from quantum_service.kernel.scheduler import (
    MAX_PRIORITY,
    QpuQueue,
    QueueEntry,
    SchedulerPolicy,
    SessionWork,
    _Running,
)
from quantum_service.kernel.store import JobStore
from quantum_service.kernel.validation import ParsedJob, check_shot_count, parse_job

if TYPE_CHECKING:
    from quantum_service.calibration.manager import CalibrationManager, CalibrationOutcome

__all__ = ["Kernel", "Telemetry", "Maintenance"]

log = logging.getLogger(__name__)

#: Parameter sets executed between two cancellation checks.
_CHUNK = 8

#: ``await maintenance(slot)`` between jobs (e.g. ``CalibrationManager.maintain``). When the
#: hook is a bound method of an object with ``is_due(slot) -> bool`` (as the manager's is), it
#: is awaited only when that says work is due; any other hook is awaited before every job.
Maintenance = Callable[[QpuSlot], Awaitable[None]]

T = TypeVar("T")


#: The telemetry sink: :class:`broker.publisher.TelemetryPublisher` or ``NullPublisher``
#: (never blocks, never raises into the kernel).
Telemetry = Publisher


class _Cancelled(Exception):
    pass


class Kernel:
    """Owns the QPUs, the job store, the job queues and the scheduler state.

    Args:
        registry: the QPUs.
        store: persistent job records.
        telemetry: publisher of telemetry messages (a ``NullPublisher`` disables it).
        workers: threads executing jobs and session evaluations.
        policy: scheduler weights, quotas and multi-programming settings
            (``SchedulerPolicy.from_settings(QuantumSettings())`` in the service).
        maintenance: awaited by a QPU's worker between jobs (see :data:`Maintenance`); the
            QPU is ``CALIBRATING`` meanwhile. ``None`` = no maintenance.
        clock: scheduler clock, seconds since the epoch (fair-share decay, quotas, ages,
            estimated start times).
    """

    def __init__(self, registry: QpuRegistry, store: JobStore, telemetry, *,
                 workers: int = 4, policy: SchedulerPolicy | None = None,
                 maintenance: Maintenance | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.registry = registry
        self.store = store
        self.telemetry = telemetry
        self.policy = policy or SchedulerPolicy()
        self.maintenance = maintenance
        #: The calibration manager serving :meth:`calibrate` (set by the app), or None.
        self.calibration: CalibrationManager | None = None
        self.clock = clock
        self.fair_share = FairShare(half_life_s=self.policy.fair_share_half_life_s,
                                    shares=dict(self.policy.user_shares), clock=clock)
        self.quotas = Quotas(max_queued_jobs=self.policy.quota_max_queued_jobs,
                             device_s_per_window=self.policy.quota_device_s_per_window,
                             window_s=self.policy.quota_window_s, clock=clock)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qpu")
        self._queues: dict[str, QpuQueue] = {}
        self._tasks: list[asyncio.Task] = []
        self._prepared: dict[str, list[PreparedProgram]] = {}
        self._parsed: dict[str, ParsedJob] = {}
        self._entries: dict[str, QueueEntry] = {}  # queued and running jobs
        self._solo: set[str] = set()  # jobs that must not be multi-programmed
        self._cancel: dict[str, threading.Event] = {}
        self._watchers: dict[str, set[asyncio.Queue[qs_pb2.Job]]] = {}
        self._submit_lock = asyncio.Lock()
        store.annotate = self._annotate

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts one worker per QPU and re-queues unfinished jobs from the store."""
        for slot in self.registry:
            slot.driver.connect()
            qpu_id = slot.driver.capabilities.qpu_id
            self._queues[qpu_id] = QpuQueue(fair_share=self.fair_share, policy=self.policy,
                                            clock=self.clock)
        for job in self.store.unfinished():
            await self._resume(job)
        for slot in self.registry:
            qpu_id = slot.driver.capabilities.qpu_id
            self._tasks.append(asyncio.create_task(self._worker(qpu_id), name=f"qpu-{qpu_id}"))
            self.publish_qpu_status(slot)
            self.publish_calibration(slot)

    async def _resume(self, job: JobRecord) -> None:
        if job.qpu_id not in self._queues:
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

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for queue in self._queues.values():
            for work in queue.sessions:
                work.future.cancel()
            queue.sessions.clear()
        for event in self._cancel.values():
            event.set()
        self.executor.shutdown(wait=True, cancel_futures=True)
        for slot in self.registry:
            slot.driver.disconnect()
        self.store.close()

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` on the kernel's worker threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def run_on_qpu(self, slot: QpuSlot, fn: Callable[[], T]) -> T:
        """Runs ``fn()`` (a session evaluation) through the session lane of ``slot``'s QPU.

        The QPU's worker serves the lane before queued jobs and between the chunks of a
        running job, so a session never waits behind the job queue.
        """
        queue = self._queues.get(slot.driver.capabilities.qpu_id)
        if queue is None or not self._tasks:  # kernel not started: run directly
            return await self.run_blocking(fn)
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        queue.add_session_work(SessionWork(fn, future))
        return await future

    def record_usage(self, owner: str, device_s: float) -> None:
        """Charges ``device_s`` device seconds to ``owner`` (fair share and quota)."""
        self.fair_share.record(owner, device_s)
        self.quotas.record(owner, device_s)

    # -- telemetry ---------------------------------------------------------------------------

    def emit(self, message) -> None:
        """Publishes a telemetry message on its topic; never blocks, never raises."""
        try:
            self.telemetry.publish_threadsafe(topic_for(message), message)
        except Exception:  # telemetry is a side channel: a bad event must not fail a job
            log.exception("could not publish %s", type(message).__name__)

    def publish_qpu_status(self, slot: QpuSlot) -> None:
        """Publishes ``slot``'s status (``slot.status``), queue length and device time."""
        caps = slot.driver.capabilities
        self.emit(telemetry_pb2.QpuStatusEvent(
            qpu_id=caps.qpu_id, status=int(slot.status),
            queue_length=slot.queue_length, device_time_s=slot.driver.device_time_s,
            time=timestamp(utc_now())))

    def publish_calibration(self, slot: QpuSlot) -> None:
        from quantum_service.convert import snapshot_to_proto

        snapshot = slot.driver.calibration_snapshot()
        self.emit(telemetry_pb2.CalibrationEvent(
            qpu_id=slot.driver.capabilities.qpu_id, snapshot=snapshot_to_proto(snapshot),
            trigger=getattr(snapshot, "trigger", "initial"),
            time=timestamp(utc_now())))

    def _changed(self, job: JobRecord) -> None:
        """Persists, notifies watchers and publishes a job's new state (event-loop thread)."""
        from quantum_service.convert import job_to_proto

        self.store.update(job)
        self._annotate(job)
        snapshot = job_to_proto(job)
        for queue in self._watchers.get(job.job_id, ()):
            queue.put_nowait(snapshot)
        self.emit(telemetry_pb2.JobStateEvent(
            job_id=job.job_id, state=int(job.state), qpu_id=job.qpu_id, owner=job.owner,
            error_message=job.error_message, device_time_s=job.device_time_s,
            time=timestamp(utc_now())))

    # -- QPU status and calibration ----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def calibrating(self, slot: QpuSlot) -> AsyncIterator[None]:
        """Marks ``slot``'s QPU ``CALIBRATING`` for the duration of the block.

        Publishes a ``QpuStatusEvent`` with ``CALIBRATING`` when the first calibration on the
        QPU starts and with ``ONLINE`` when the last one ends, also when it raises or is
        cancelled (calibrations may overlap: maintenance and a ``Calibrate`` call).
        """
        slot.calibrations += 1
        if slot.calibrations == 1:
            self.publish_qpu_status(slot)
        try:
            yield
        finally:
            slot.calibrations -= 1
            if slot.calibrations == 0:
                self.publish_qpu_status(slot)

    def _maintenance_due(self, slot: QpuSlot) -> bool:
        """Whether the maintenance hook has work on ``slot`` now (see :data:`Maintenance`)."""
        is_due = getattr(getattr(self.maintenance, "__self__", None), "is_due", None)
        return bool(is_due(slot)) if callable(is_due) else True

    async def _maintain(self, slot: QpuSlot) -> None:
        """Runs the maintenance hook on ``slot`` when due, with the QPU ``CALIBRATING``."""
        if self.maintenance is None:
            return
        try:
            if self._maintenance_due(slot):
                async with self.calibrating(slot):
                    await self.maintenance(slot)
        except asyncio.CancelledError:
            raise
        except Exception:  # maintenance must never stop the QPU
            log.exception("maintenance of %s failed", slot.driver.capabilities.qpu_id)

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
        if not manager.supports(slot.driver):
            return await self.run_blocking(run)
        async with self.calibrating(slot):
            return await self.run_blocking(run)

    def qpu_supports(self, slot: QpuSlot) -> dict[str, bool]:
        """Capability flags of ``slot``'s QPU (``QpuDescription.supports``; see
        :func:`~quantum_service.kernel.qpus.qpu_supports`)."""
        policy = self.policy
        manager = self.calibration
        return qpu_supports(
            slot.driver,
            multi_programming=(policy.multiprogramming and policy.multiprogramming_max_jobs >= 2
                               and supports_fixed_layout(slot.driver)),
            calibration=manager is not None and manager.supports(slot.driver))

    def qpu_properties(self, slot: QpuSlot) -> dict[str, float]:
        """Numbers describing ``slot``'s QPU (``QpuDescription.properties``; see
        :func:`~quantum_service.kernel.qpus.qpu_properties`)."""
        return qpu_properties(slot.driver)

    # -- queue bookkeeping -------------------------------------------------------------------

    def _annotate(self, job: JobRecord) -> None:
        """Fills in ``queue_position`` and ``estimated_start_time`` of a QUEUED job."""
        job.queue_position, job.estimated_start_time = 0, None
        queue = self._queues.get(job.qpu_id)
        if job.state is not JobState.QUEUED or queue is None:
            return
        found = queue.estimates().get(job.job_id)
        if found is not None:
            job.queue_position = found[0]
            job.estimated_start_time = datetime.fromtimestamp(found[1], UTC)

    def _sync_length(self, slot: QpuSlot) -> None:
        queue = self._queues[slot.driver.capabilities.qpu_id]
        running = len(queue.running.entries) if queue.running is not None else 0
        slot.queue_length = len(queue) + running

    def _enqueue(self, job: JobRecord, slot: QpuSlot, parsed: ParsedJob,
                 prepared: list[PreparedProgram], *, enqueue_time: float) -> None:
        caps = slot.driver.capabilities
        entry = QueueEntry(job_id=job.job_id, owner=job.owner, priority=job.priority,
                           enqueue_time=enqueue_time,
                           predicted_s=predicted_device_time_s(
                               prepared, caps, shot_count=job.request.shot_count,
                               parameter_set_count=parsed.parameter_sets.shape[0]))
        self._prepared[job.job_id] = prepared
        self._parsed[job.job_id] = parsed
        self._entries[job.job_id] = entry
        self._queues[caps.qpu_id].add(entry)
        self._sync_length(slot)

    def _finished(self, job_id: str) -> None:
        self._entries.pop(job_id, None)
        self._prepared.pop(job_id, None)
        self._parsed.pop(job_id, None)
        self._solo.discard(job_id)

    def _owner_load(self, owner: str) -> tuple[int, float]:
        mine = [e for e in self._entries.values() if e.owner == owner]
        return len(mine), sum(e.predicted_s for e in mine)

    # -- jobs --------------------------------------------------------------------------------

    def _prepare_all(self, parsed: ParsedJob, slot: QpuSlot) -> list[PreparedProgram]:
        return [slot.driver.prepare(c, observable=parsed.observable) for c in parsed.circuits]

    async def choose_qpu(self, circuits: list[Circuit], *, qpu_id: str = "",
                         exact: bool = False) -> tuple[QpuSlot, str]:
        """The QPU for ``circuits`` and the reason: the named one, else the placement policy
        (:mod:`quantum_service.kernel.placement`; exact expectation values need a noiseless QPU).

        Raises:
            NotFoundError: unknown ``qpu_id``.
            InvalidProgramError: no QPU fits.
        """
        if qpu_id:
            return self.registry.get(qpu_id), f"requested qpu_id {qpu_id}"
        placement = await self.run_blocking(lambda: place(
            list(self.registry), circuits, wait_s=self._wait_s,
            wait_scale_s=self.policy.placement_wait_scale_s, require_noiseless=exact))
        return placement.slot, placement.reason

    async def submit(self, request: qs_pb2.SubmitJobRequest, *, owner: str) -> JobRecord:
        """Validates, places, compiles, checks quotas, stores and queues a job.

        Raises:
            InvalidProgramError: bad program or priority outside 0–10; nothing is stored.
            NotFoundError: unknown ``qpu_id``.
            ResourceExhaustedError: a quota of ``owner`` would be exceeded.
        """
        existing = self.store.find_request(owner, request.request_id)
        if existing is not None:  # a retry of an earlier submission
            return existing
        if not 0 <= request.priority <= MAX_PRIORITY:
            raise InvalidProgramError(
                f"priority must be an integer from 0 (lowest) to {MAX_PRIORITY} (highest), got "
                f"{request.priority}", reason="INVALID_PRIORITY")
        parsed = await self.run_blocking(parse_job, request)  # parsing QASM is CPU work
        slot, reason = await self.choose_qpu(
            parsed.circuits, qpu_id=request.qpu_id,
            exact=parsed.observable is not None and request.shot_count == 0)
        caps = slot.driver.capabilities
        check_shot_count(request.shot_count, has_observable=parsed.observable is not None,
                         caps=caps)
        if parsed.parameter_sets.shape[0] > caps.max_parameter_set_count:
            raise InvalidProgramError(
                f"{parsed.parameter_sets.shape[0]} parameter sets exceed QPU "
                f"{caps.qpu_id!r}'s limit of {caps.max_parameter_set_count}",
                reason="TOO_MANY_PARAMETER_SETS")
        prepared = await self.run_blocking(self._prepare_all, parsed, slot)
        predicted = predicted_device_time_s(prepared, caps, shot_count=request.shot_count,
                                            parameter_set_count=parsed.parameter_sets.shape[0])
        job = JobRecord(job_id=f"job-{uuid.uuid4().hex[:16]}", request=request, owner=owner,
                        state=JobState.QUEUED, qpu_id=caps.qpu_id, placement_reason=reason)
        async with self._submit_lock:
            active, pending = self._owner_load(owner)
            self.quotas.check(owner, active_jobs=active, pending_s=pending,
                              predicted_s=predicted)
            stored = self.store.insert(job)
            if stored is not job:  # a concurrent retry of the same submission
                return stored
            self._enqueue(job, slot, parsed, prepared, enqueue_time=self.clock())
        self._changed(job)
        self.publish_qpu_status(slot)
        return job

    def _wait_s(self, slot: QpuSlot) -> float:
        queue = self._queues.get(slot.driver.capabilities.qpu_id)
        return queue.predicted_wait_s() if queue is not None else 0.0

    def get(self, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        if job is None:
            raise NotFoundError(f"no job with job_id {job_id!r}", reason="JOB_NOT_FOUND")
        return job

    def list_jobs(self, *, limit: int, before_seq: int | None = None, qpu_id: str = "",
                  state: JobState | None = None) -> tuple[list[JobRecord], int | None]:
        """Jobs newest first, with queue positions (see :meth:`JobStore.list`)."""
        return self.store.list(limit=limit, before_seq=before_seq, qpu_id=qpu_id, state=state)

    async def cancel(self, job_id: str) -> JobRecord:
        """Cancels a queued or running job.

        Raises:
            NotFoundError: unknown job.
            FailedPreconditionError: the job already finished.
        """
        job = self.get(job_id)
        if job.state.is_terminal:
            raise FailedPreconditionError(
                f"job {job_id} is already {job.state.name}; only QUEUED or RUNNING jobs can be "
                f"cancelled", reason="JOB_FINISHED")
        if job.state is JobState.RUNNING:
            event = self._cancel.get(job_id)
            if event is not None:
                event.set()
            # the worker finishes the transition; report the job as cancelling
            job.error_message = "cancellation requested"
            return job
        queue = self._queues.get(job.qpu_id)
        if queue is not None:
            queue.remove(job_id)
            self._sync_length(self.registry.get(job.qpu_id))
        self._finished(job_id)
        job.transition(JobState.CANCELLED)
        job.error_message = "cancelled while queued"
        self._changed(job)
        return job

    async def watch(self, job_id: str) -> AsyncIterator[qs_pb2.Job]:
        """Yields the job now and on every change until it reaches a final state."""
        from quantum_service.convert import job_to_proto

        self.get(job_id)  # NOT_FOUND before a watcher is registered
        queue: asyncio.Queue[qs_pb2.Job] = asyncio.Queue()
        self._watchers.setdefault(job_id, set()).add(queue)
        try:
            current = job_to_proto(self.get(job_id))
            yield current
            while current.state not in (common_pb2.JOB_STATE_SUCCEEDED,
                                        common_pb2.JOB_STATE_FAILED,
                                        common_pb2.JOB_STATE_CANCELLED):
                current = await queue.get()
                yield current
        finally:
            watchers = self._watchers.get(job_id)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[job_id]

    # -- the per-QPU worker ------------------------------------------------------------------

    async def _worker(self, qpu_id: str) -> None:
        queue = self._queues[qpu_id]
        slot = self.registry.get(qpu_id)
        while True:
            await queue.wait()
            if queue.sessions:
                await self._serve_sessions(queue)
                continue
            if self.maintenance is not None:
                await self._maintain(slot)
                if queue.sessions or not queue.entries:
                    continue
            ordered = queue.ordered()
            try:
                merged = await self._plan_multiprogram(slot, ordered)
                if merged is not None:
                    await self._run_merged(merged, slot, queue)
                else:
                    await self._run(ordered[0].job_id, slot, queue)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one job kill the QPU's worker
                log.exception("job %s crashed the worker", ordered[0].job_id)
                if queue.remove(ordered[0].job_id) is not None:
                    self._finished(ordered[0].job_id)
            finally:
                queue.running = None
                self._sync_length(slot)
                self.publish_qpu_status(slot)

    async def _serve_sessions(self, queue: QpuQueue) -> None:
        while queue.sessions:
            work = queue.sessions.popleft()
            if work.future.done():
                continue
            try:
                result = await self.run_blocking(work.fn)
            except asyncio.CancelledError:
                work.future.cancel()
                raise
            except Exception as exc:
                if not work.future.done():
                    work.future.set_exception(exc)
            else:
                if not work.future.done():
                    work.future.set_result(result)

    def _start(self, job: JobRecord, slot: QpuSlot, queue: QpuQueue) -> threading.Event:
        cancel = threading.Event()
        self._cancel[job.job_id] = cancel
        job.transition(JobState.RUNNING)
        job.calibration_snapshot_id = slot.driver.calibration_snapshot().snapshot_id
        return cancel

    async def _run(self, job_id: str, slot: QpuSlot, queue: QpuQueue) -> None:
        entry = queue.remove(job_id)
        job = self.store.get(job_id)
        if job is None or job.state is not JobState.QUEUED or entry is None:
            self._finished(job_id)
            return
        queue.running = _Running([entry], self.clock())
        self._sync_length(slot)
        cancel = self._start(job, slot, queue)
        prepared = self._prepared.get(job_id)
        if prepared is None:  # never prepared in this process: compile now
            parsed = parse_job(job.request)
            prepared = await self.run_blocking(self._prepare_all, parsed, slot)
        job.physical_qubits = tuple(sorted({q for p in prepared
                                            for q in program_physical_qubits(p)}))
        self._changed(job)
        try:
            result, device_time = await self._execute(job, prepared, slot, queue, cancel)
            job.result = result
            job.device_time_s = device_time
            job.transition(JobState.SUCCEEDED)
        except _Cancelled:
            job.transition(JobState.CANCELLED)
            job.error_message = "cancelled while running"
        except QcoreError as exc:
            job.transition(JobState.FAILED)
            job.error_message = f"{exc.reason}: {exc}"
        except Exception as exc:  # a bug: fail the job, keep the service up
            log.exception("job %s failed", job_id)
            job.transition(JobState.FAILED)
            job.error_message = f"INTERNAL: {type(exc).__name__}: {exc}"
        finally:
            self._cancel.pop(job_id, None)
            self._finished(job_id)
        self.record_usage(job.owner, job.device_time_s)
        self._changed(job)

    async def _execute(self, job: JobRecord, prepared: list[PreparedProgram], slot: QpuSlot,
                       queue: QpuQueue, cancel: threading.Event
                       ) -> tuple[qs_pb2.JobResult, float]:
        """Runs every (program, chunk of parameter sets), ``parallel_chunks`` at a time.

        Each chunk has its own seed (``seed + 7919 × program + first set``), so the result
        does not depend on how many chunks run at once. Session work is served between waves.
        """
        request = job.request
        sets = np.asarray([list(s.values) for s in request.parameter_sets], dtype=np.float64)
        if sets.size == 0:
            sets = np.zeros((1, len(prepared[0].parameters)))
        seed = request.seed or int(job.job_id.removeprefix("job-"), 16) % 2**62
        tasks = [(p_index, start) for p_index in range(len(prepared))
                 for start in range(0, sets.shape[0], _CHUNK)]
        result = qs_pb2.JobResult()
        device_time = 0.0
        wave = max(1, self.policy.parallel_chunks)
        for first in range(0, len(tasks), wave):
            await self._serve_sessions(queue)
            if cancel.is_set():
                raise _Cancelled
            batch = tasks[first:first + wave]
            outs = await asyncio.gather(*(
                self.run_blocking(slot.driver.execute, prepared[p_index],
                                  sets[start:start + _CHUNK],
                                  ExecutionOptions(shot_count=request.shot_count,
                                                   seed=seed + 7919 * p_index + start,
                                                   readout_mitigation=request.readout_mitigation))
                for p_index, start in batch))
            for (p_index, start), out in zip(batch, outs):
                device_time += out.device_time_s
                for offset in range(min(_CHUNK, sets.shape[0] - start)):
                    experiment = result.experiments.add(program_index=p_index,
                                                        parameter_set_index=start + offset)
                    if out.counts is not None:
                        experiment.counts.update(out.counts[offset])
                    if out.discarded_shot_counts is not None:
                        experiment.discarded_shot_count = out.discarded_shot_counts[offset]
                    if out.mitigated_probabilities is not None:
                        experiment.mitigated_probabilities.update(
                            out.mitigated_probabilities[offset])
                    if out.expectation_values is not None:
                        experiment.expectation_value = float(out.expectation_values[offset])
                        experiment.standard_error = float(out.standard_errors[offset])
        if cancel.is_set():  # requested while the last chunk ran: the caller wins
            raise _Cancelled
        return result, device_time

    # -- multi-programming -------------------------------------------------------------------

    def _packable(self, entry: QueueEntry) -> bool:
        parsed = self._parsed.get(entry.job_id)
        return (parsed is not None and entry.job_id not in self._solo
                and len(parsed.circuits) == 1 and parsed.observable is None
                and parsed.parameter_sets.shape[0] == 1)

    def crosstalk_phase_rad(self, slot: QpuSlot) -> float:
        """The spectator phase used when multi-programming ``slot``'s QPU, radians."""
        if self.policy.crosstalk_phase_rad is not None:
            return self.policy.crosstalk_phase_rad
        return CROSSTALK_PHASE_RAD.get(slot.driver.capabilities.modality, 0.0)

    async def _plan_multiprogram(self, slot: QpuSlot, ordered: list[QueueEntry]
                                 ) -> MergedProgram | None:
        if (not self.policy.multiprogramming or self.policy.multiprogramming_max_jobs < 2
                or not supports_fixed_layout(slot.driver) or not self._packable(ordered[0])):
            return None
        head = self.store.get(ordered[0].job_id)
        if head is None:
            return None
        shots = head.request.shot_count
        candidates = []
        for entry in ordered:
            if not self._packable(entry):
                continue
            job = self.store.get(entry.job_id)
            if job is None or job.request.shot_count != shots or job.request.readout_mitigation:
                continue
            parsed = self._parsed[entry.job_id]
            candidates.append((entry.job_id, parsed.circuits[0].bind(parsed.parameter_sets[0])))
            if len(candidates) >= 4 * self.policy.multiprogramming_max_jobs:
                break
        if len(candidates) < 2:
            return None
        caps = slot.driver.capabilities
        device = slot.driver.calibration_snapshot().parameters
        return await self.run_blocking(lambda: pack(
            candidates, caps, device, max_jobs=self.policy.multiprogramming_max_jobs,
            max_fidelity_loss=self.policy.multiprogramming_max_fidelity_loss,
            phase_rad=self.crosstalk_phase_rad(slot)))

    async def _run_merged(self, merged: MergedProgram, slot: QpuSlot, queue: QpuQueue) -> None:
        """Runs the jobs of ``merged`` as one program and splits the counts back per job."""
        jobs = [self.store.get(p.job_id) for p in merged.plans]
        if any(j is None or j.state is not JobState.QUEUED or p.job_id not in queue.entries
               for j, p in zip(jobs, merged.plans)):
            return  # one was cancelled while packing: the worker plans again
        entries = [queue.remove(p.job_id) for p in merged.plans]
        queue.running = _Running(entries, self.clock())
        self._sync_length(slot)
        caps = slot.driver.capabilities
        cancels = []
        for job, plan in zip(jobs, merged.plans):
            cancels.append(self._start(job, slot, queue))
            job.physical_qubits = plan.region
            others = len(merged.plans) - 1
            job.placement_reason += (
                f"; multi-programmed on qubits {list(plan.region)} with {others} other job(s), "
                f"predicted fidelity {plan.predicted_fidelity(merged.phase_rad):.3f} vs "
                f"{plan.best_esp:.3f} alone")
            self._changed(job)
        head = jobs[0]
        seed = head.request.seed or int(head.job_id.removeprefix("job-"), 16) % 2**62
        shots = head.request.shot_count
        try:
            prepared = await self.run_blocking(prepare_merged, slot.driver, merged.circuit)
            out = await self.run_blocking(slot.driver.execute, prepared, np.zeros((1, 0)),
                                          ExecutionOptions(shot_count=shots, seed=seed))
        except Exception as exc:  # cannot run merged: run each job alone instead
            log.warning("multi-programmed run on %s failed (%s); running the jobs alone",
                        caps.qpu_id, exc)
            for job, entry, plan in zip(jobs, entries, merged.plans):
                self._cancel.pop(job.job_id, None)
                self._solo.add(job.job_id)
                job.transition(JobState.QUEUED)
                job.physical_qubits = ()
                job.placement_reason = job.placement_reason.split("; multi-programmed")[0]
                queue.add(entry)
                self._changed(job)
            return
        parts = split_counts(out.counts[0], merged)
        per_shot = caps.readout_duration_ns + caps.reset_duration_ns
        weights = np.array([schedule_duration_ns(p.circuit, caps) + per_shot
                            for p in merged.plans])
        shares = weights / weights.sum()
        for index, (job, counts) in enumerate(zip(jobs, parts)):
            self._cancel.pop(job.job_id, None)
            job.device_time_s = float(out.device_time_s * shares[index])
            if cancels[index].is_set():
                job.transition(JobState.CANCELLED)
                job.error_message = "cancelled while running"
            else:
                result = qs_pb2.JobResult()
                experiment = result.experiments.add(program_index=0, parameter_set_index=0)
                experiment.counts.update(counts)
                if out.discarded_shot_counts is not None:
                    experiment.discarded_shot_count = out.discarded_shot_counts[0]
                job.result = result
                job.transition(JobState.SUCCEEDED)
            self._finished(job.job_id)
            self.record_usage(job.owner, job.device_time_s)
            self._changed(job)
