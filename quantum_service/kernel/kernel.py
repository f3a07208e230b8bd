"""The kernel: jobs, scheduling onto QPUs, and their lifecycle.

Jobs are validated and compiled before they are stored (nothing invalid is ever queued),
persisted in the :class:`~quantum_service.kernel.store.JobStore`, queued per QPU, and executed by
one worker per QPU on a thread pool (the simulator releases the GIL), so the event loop keeps
answering RPCs while QPUs simulate. Every state change is stored, pushed to watchers and
published as telemetry. On start, jobs left QUEUED or RUNNING by a previous process are queued
again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from broker.topics import topic_for
from qcore.v1 import common_pb2, telemetry_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.convert import timestamp
from quantum_service.drivers.base import ExecutionOptions, PreparedProgram
from quantum_service.errors import (
    FailedPreconditionError,
    InvalidProgramError,
    NotFoundError,
    QcoreError,
)
from quantum_service.kernel.jobs import JobRecord, JobState, utc_now
from quantum_service.kernel.qpus import QpuRegistry, QpuSlot
from quantum_service.kernel.store import JobStore
from quantum_service.kernel.validation import ParsedJob, check_shot_count, parse_job

__all__ = ["Kernel", "Telemetry"]

log = logging.getLogger(__name__)

#: Parameter sets executed between two cancellation checks.
_CHUNK = 8


class Telemetry:
    """Interface of the telemetry sink (see :mod:`broker.publisher`); never blocks."""

    def publish(self, topic: str, message, *, retain: bool | None = None) -> None: ...

    def publish_threadsafe(self, topic: str, message, *, retain: bool | None = None) -> None: ...


class _Cancelled(Exception):
    pass


class Kernel:
    """Owns the QPUs, the job store and the job queues.

    Args:
        registry: the QPUs.
        store: persistent job records.
        telemetry: publisher of telemetry messages (a ``NullPublisher`` disables it).
        workers: threads executing jobs and session evaluations.
    """

    def __init__(self, registry: QpuRegistry, store: JobStore, telemetry, *,
                 workers: int = 4) -> None:
        self.registry = registry
        self.store = store
        self.telemetry = telemetry
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qpu")
        self._queues: dict[str, asyncio.Queue[str]] = {}
        self._tasks: list[asyncio.Task] = []
        self._prepared: dict[str, list[PreparedProgram]] = {}
        self._cancel: dict[str, threading.Event] = {}
        self._watchers: dict[str, set[asyncio.Queue[qs_pb2.Job]]] = {}
        self._submit_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts one worker per QPU and re-queues unfinished jobs from the store."""
        self._loop = asyncio.get_running_loop()
        for slot in self.registry:
            slot.driver.connect()
            qpu_id = slot.driver.capabilities.qpu_id
            self._queues[qpu_id] = asyncio.Queue()
            self._tasks.append(asyncio.create_task(self._worker(qpu_id), name=f"qpu-{qpu_id}"))
        for job in self.store.unfinished():
            if job.qpu_id not in self._queues:
                job.transition(JobState.FAILED)
                job.error_message = f"QPU {job.qpu_id!r} no longer exists"
                self.store.update(job)
                continue
            if job.state is JobState.RUNNING:
                job.transition(JobState.QUEUED)  # interrupted by a restart: run it again
                self.store.update(job)
            self.registry.get(job.qpu_id).queue_length += 1
            self._queues[job.qpu_id].put_nowait(job.job_id)
            log.info("resuming job %s on %s", job.job_id, job.qpu_id)
        for slot in self.registry:
            self.publish_qpu_status(slot)
            self.publish_calibration(slot)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for event in self._cancel.values():
            event.set()
        self.executor.shutdown(wait=True, cancel_futures=True)
        for slot in self.registry:
            slot.driver.disconnect()
        self.store.close()

    async def run_blocking(self, fn, *args):
        """Runs ``fn(*args)`` on the kernel's worker threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # -- telemetry ---------------------------------------------------------------------------

    def emit(self, message) -> None:
        """Publishes a telemetry message on its topic; never blocks, never raises."""
        try:
            self.telemetry.publish_threadsafe(topic_for(message), message)
        except Exception:  # telemetry is a side channel: a bad event must not fail a job
            log.exception("could not publish %s", type(message).__name__)

    def publish_qpu_status(self, slot: QpuSlot) -> None:
        caps = slot.driver.capabilities
        self.emit(telemetry_pb2.QpuStatusEvent(
            qpu_id=caps.qpu_id, status=common_pb2.QPU_STATUS_ONLINE,
            queue_length=slot.queue_length, device_time_s=slot.driver.device_time_s,
            time=timestamp(utc_now())))

    def publish_calibration(self, slot: QpuSlot) -> None:
        from quantum_service.convert import snapshot_to_proto

        snapshot = slot.driver.calibration_snapshot()
        self.emit(telemetry_pb2.CalibrationEvent(
            qpu_id=slot.driver.capabilities.qpu_id, snapshot=snapshot_to_proto(snapshot),
            time=timestamp(utc_now())))

    def _changed(self, job: JobRecord) -> None:
        """Persists, notifies watchers and publishes a job's new state (event-loop thread)."""
        from quantum_service.convert import job_to_proto

        self.store.update(job)
        snapshot = job_to_proto(job)
        for queue in self._watchers.get(job.job_id, ()):
            queue.put_nowait(snapshot)
        self.emit(telemetry_pb2.JobStateEvent(
            job_id=job.job_id, state=int(job.state), qpu_id=job.qpu_id, owner=job.owner,
            error_message=job.error_message, device_time_s=job.device_time_s,
            time=timestamp(utc_now())))

    # -- jobs --------------------------------------------------------------------------------

    def _prepare_all(self, parsed: ParsedJob, slot: QpuSlot) -> list[PreparedProgram]:
        return [slot.driver.prepare(c, observable=parsed.observable) for c in parsed.circuits]

    async def submit(self, request: qs_pb2.SubmitJobRequest, *, owner: str) -> JobRecord:
        """Validates, compiles, stores and queues a job.

        Raises:
            InvalidProgramError, NotFoundError: nothing is stored or queued.
        """
        parsed = await self.run_blocking(parse_job, request)  # parsing QASM is CPU work
        slot, reason = self.registry.place(parsed.qubit_count, qpu_id=request.qpu_id)
        caps = slot.driver.capabilities
        check_shot_count(request.shot_count, has_observable=parsed.observable is not None,
                         caps=caps)
        if parsed.parameter_sets.shape[0] > caps.max_parameter_set_count:
            raise InvalidProgramError(
                f"{parsed.parameter_sets.shape[0]} parameter sets exceed QPU "
                f"{caps.qpu_id!r}'s limit of {caps.max_parameter_set_count}",
                reason="TOO_MANY_PARAMETER_SETS")
        prepared = await self.run_blocking(self._prepare_all, parsed, slot)
        job = JobRecord(job_id=f"job-{uuid.uuid4().hex[:16]}", request=request, owner=owner,
                        state=JobState.QUEUED, qpu_id=caps.qpu_id, placement_reason=reason)
        async with self._submit_lock:
            stored = self.store.insert(job)
            if stored is not job:  # a retry of an earlier submission
                return stored
            self._prepared[job.job_id] = prepared
            slot.queue_length += 1
            self._queues[caps.qpu_id].put_nowait(job.job_id)
        self._changed(job)
        self.publish_qpu_status(slot)
        return job

    def get(self, job_id: str) -> JobRecord:
        job = self.store.get(job_id)
        if job is None:
            raise NotFoundError(f"no job with job_id {job_id!r}", reason="JOB_NOT_FOUND")
        return job

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
        job.transition(JobState.CANCELLED)
        job.error_message = "cancelled while queued"
        self._prepared.pop(job_id, None)
        self._changed(job)
        return job

    async def watch(self, job_id: str) -> AsyncIterator[qs_pb2.Job]:
        """Yields the job now and on every change until it reaches a final state."""
        from quantum_service.convert import job_to_proto

        job = self.get(job_id)
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

    async def _worker(self, qpu_id: str) -> None:
        queue = self._queues[qpu_id]
        slot = self.registry.get(qpu_id)
        while True:
            job_id = await queue.get()
            try:
                await self._run(job_id, slot)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one job kill the QPU's worker
                log.exception("job %s crashed the worker", job_id)
            finally:
                slot.queue_length = max(0, slot.queue_length - 1)
                self.publish_qpu_status(slot)

    async def _run(self, job_id: str, slot: QpuSlot) -> None:
        job = self.store.get(job_id)
        if job is None or job.state is not JobState.QUEUED:
            return
        cancel = threading.Event()
        self._cancel[job_id] = cancel
        job.transition(JobState.RUNNING)
        job.calibration_snapshot_id = slot.driver.calibration_snapshot().snapshot_id
        self._changed(job)
        try:
            prepared = self._prepared.pop(job_id, None)
            if prepared is None:  # resumed after a restart: compile again
                parsed = parse_job(job.request)
                prepared = await self.run_blocking(self._prepare_all, parsed, slot)
            result, device_time = await self.run_blocking(self._execute, job, prepared, slot,
                                                          cancel)
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
        self._changed(job)

    @staticmethod
    def _execute(job: JobRecord, prepared: list[PreparedProgram], slot: QpuSlot,
                 cancel: threading.Event) -> tuple[qs_pb2.JobResult, float]:
        request = job.request
        sets = np.asarray([list(s.values) for s in request.parameter_sets], dtype=np.float64)
        if sets.size == 0:
            sets = np.zeros((1, len(prepared[0].parameters)))
        seed = request.seed or int(job.job_id.removeprefix("job-"), 16) % 2**62
        result = qs_pb2.JobResult()
        device_time = 0.0
        for p_index, program in enumerate(prepared):
            for start in range(0, sets.shape[0], _CHUNK):
                if cancel.is_set():
                    raise _Cancelled
                chunk = sets[start:start + _CHUNK]
                options = ExecutionOptions(shot_count=request.shot_count,
                                           seed=seed + 7919 * p_index + start,
                                           readout_mitigation=request.readout_mitigation)
                out = slot.driver.execute(program, chunk, options)
                device_time += out.device_time_s
                for offset in range(chunk.shape[0]):
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
