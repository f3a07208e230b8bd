"""Job execution: one worker per QPU takes the best-scored job and runs it.

The worker serves the QPU's session lane first, then (between jobs) its maintenance hook when
work is due, then the best-scored queued job — packing further queued jobs onto disjoint qubit
regions with it when multi-programming pays off (:mod:`.multiprogramming`). Everything a
worker runs goes to its QPU's own execution lane (:mod:`.lanes`): chunks of parameter sets of
one job run concurrently there; session work is served between them.

Cancellation and stops: each running job has a cancel event; the driver is asked between
parameter sets (``ExecutionOptions.should_stop``) whether the job was cancelled or the kernel
is stopping (:attr:`Dispatcher.stopping`). A cancelled job ends CANCELLED; a job interrupted by
a stop is stored QUEUED again, to run after the next start. Device time comes from the driver's results
(:mod:`quantum_service.contract.device_time`); a merged run's time is shared among its jobs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.contract import ExecutionCancelled, ExecutionOptions, PreparedProgram
from quantum_service.contract.device_time import schedule_duration_ns, time_shares
from quantum_service.convert import mitigation_from_proto, mitigation_record_to_proto
from quantum_service.errors import QcoreError
from quantum_service.kernel.board import JobBoard
from quantum_service.kernel.estimate import program_physical_qubits
from quantum_service.kernel.events import KernelEvents
from quantum_service.kernel.jobs import JobRecord, JobState
from quantum_service.kernel.lanes import ExecutionLanes
from quantum_service.kernel.maintenance import Maintenance, calibrating
from quantum_service.kernel.multiprogramming import (
    MergedProgram,
    pack,
    prepare_merged,
    split_counts,
    supports_fixed_layout,
)
from quantum_service.kernel.qpus import QpuRegistry, QpuSlot
from quantum_service.kernel.runtime import RunTimeModel
from quantum_service.kernel.scheduler import QpuQueue, QueueEntry, RunningJobs, SchedulerPolicy
from quantum_service.kernel.store import JobStore
from quantum_service.kernel.validation import ParsedJob, parse_job

__all__ = ["Dispatcher", "job_seed"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class Cancelled(Exception):
    """A running job was cancelled."""


def job_seed(job: JobRecord) -> int:
    """The job's seed: the request's, else one derived from the job id."""
    return job.request.seed or int(job.job_id.removeprefix("job-"), 16) % 2**62


class Dispatcher:
    """Runs the per-QPU workers.

    Args:
        registry, store, board, events, policy: the kernel's.
        lanes: the admission pool and the per-QPU execution lanes.
        prepare_all: compiles a parsed job for a QPU (blocking; run on the admission pool).
        record_usage: charges device seconds to an owner.
        clock: scheduler clock, seconds.
        runtime: learns run times from jobs that ran alone (:mod:`.runtime`; the queue's ETAs).
    Attributes:
        maintenance: awaited between jobs when due (see :mod:`.maintenance`); ``None``: none.
        stopping: set when the kernel stops: workers take no further work, running
            simulations return at their next parameter set and their jobs are stored QUEUED.
    """

    def __init__(self, *, registry: QpuRegistry, store: JobStore, board: JobBoard,
                 events: KernelEvents, policy: SchedulerPolicy,
                 lanes: ExecutionLanes,
                 prepare_all: Callable[[ParsedJob, QpuSlot], list[PreparedProgram]],
                 record_usage: Callable[[str, float], None],
                 clock: Callable[[], float], runtime: RunTimeModel | None = None) -> None:
        self.registry = registry
        self.store = store
        self.board = board
        self.events = events
        self.policy = policy
        self.lanes = lanes
        self.prepare_all = prepare_all
        self.record_usage = record_usage
        self.clock = clock
        self.runtime = runtime if runtime is not None else RunTimeModel()
        self.maintenance: Maintenance | None = None
        self.stopping = threading.Event()

    def multi_programs(self, slot: QpuSlot) -> bool:
        """Whether the kernel packs several jobs onto disjoint qubits of ``slot``'s QPU."""
        return (self.policy.multiprogramming and self.policy.multiprogramming_max_jobs >= 2
                and supports_fixed_layout(slot.driver))

    # -- the worker --------------------------------------------------------------------------

    async def worker(self, qpu_id: str) -> None:
        """Serves ``qpu_id``'s queue until cancelled or :attr:`stopping`."""
        queue = self.board.queues[qpu_id]
        slot = self.registry.get(qpu_id)
        while not self.stopping.is_set():
            await queue.wait()
            if self.stopping.is_set():
                return
            if queue.sessions:
                await self.serve_sessions(queue, qpu_id)
                continue
            if self.maintenance is not None:
                await self.maintain(slot)
                if queue.sessions or not queue.entries:
                    continue
            began = time.monotonic()  # the QPU's time for this job: choice and planning too
            ordered = queue.ordered()
            try:
                merged = await self._plan_multiprogram(slot, ordered)
                if merged is not None:
                    await self._run_merged(merged, slot, queue)
                else:
                    await self._run(ordered[0].job_id, slot, queue, began=began)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one job kill the QPU's worker
                log.exception("job %s crashed the worker", ordered[0].job_id)
                if queue.remove(ordered[0].job_id) is not None:
                    self.board.finished(ordered[0].job_id)
            finally:
                queue.running = None
                self.board.sync_length(slot)
                self.events.publish_qpu_status(slot)

    async def maintain(self, slot: QpuSlot) -> None:
        """Runs the maintenance hook on ``slot`` when due, with the QPU ``CALIBRATING``."""
        maintenance = self.maintenance
        if maintenance is None:
            return
        try:
            if maintenance.is_due(slot):
                async with calibrating(slot, self.events):
                    await maintenance.maintain(slot)
        except asyncio.CancelledError:
            raise
        except Exception:  # maintenance must never stop the QPU
            log.exception("maintenance of %s failed", slot.driver.capabilities.qpu_id)

    async def serve_sessions(self, queue: QpuQueue, qpu_id: str) -> None:
        """Runs the session work waiting in ``queue`` (QPU ``qpu_id``'s) on its lane."""
        while queue.sessions and not self.stopping.is_set():
            work = queue.sessions.popleft()
            if work.future.done():
                continue
            try:
                result = await self.lanes.on_lane(qpu_id, work.fn)
            except asyncio.CancelledError:
                work.future.cancel()
                raise
            except Exception as exc:
                if not work.future.done():
                    work.future.set_exception(exc)
            else:
                if not work.future.done():
                    work.future.set_result(result)

    def _start(self, job: JobRecord, slot: QpuSlot, *, pin: bool) -> threading.Event:
        """Marks ``job`` RUNNING; with ``pin``, every parameter set of it runs on the device
        state of now (``QpuDriver.device_state``), or a replay's on its original's."""
        cancel = threading.Event()
        self.board.cancel[job.job_id] = cancel
        job.transition(JobState.RUNNING)
        if not (job.request.replay_of_job_id and job.device_state):
            job.calibration_snapshot_id = slot.driver.calibration_snapshot().snapshot_id
            job.device_state = (slot.driver.device_state() or "") if pin else ""
        return cancel

    async def _run(self, job_id: str, slot: QpuSlot, queue: QpuQueue, *,
                   began: float | None = None) -> None:
        """Runs queued ``job_id`` alone on ``slot``; a success teaches the run-time model the
        QPU's time since ``began`` (monotonic seconds: when the worker started choosing it;
        default: when it starts)."""
        entry = queue.remove(job_id)
        job = self.store.get(job_id)
        if job is None or job.state is not JobState.QUEUED or entry is None:
            self.board.finished(job_id)
            return
        queue.running = RunningJobs([entry], self.clock())
        self.board.sync_length(slot)
        cancel = self._start(job, slot, pin=True)
        prepared = self.board.prepared.get(job_id)
        if prepared is None:  # never prepared in this process: compile now
            parsed = parse_job(job.request)
            prepared = await self.lanes.admit(self.prepare_all, parsed, slot)
        job.physical_qubits = tuple(sorted({q for p in prepared
                                            for q in program_physical_qubits(p)}))
        self.events.job_changed(job)
        started = time.monotonic() if began is None else began
        try:
            result, device_time = await self._execute(job, prepared, slot, queue, cancel)
            job.result = result
            job.device_time_s = device_time
            job.transition(JobState.SUCCEEDED)
            work = self.board.work.get(job_id)
            if work is not None:
                self.runtime.observe(slot.driver.capabilities.qpu_id, work,
                                     time.monotonic() - started)
        except (Cancelled, ExecutionCancelled):
            if cancel.is_set() or not self.stopping.is_set():
                job.transition(JobState.CANCELLED)
                job.error_message = "cancelled while running"
            else:
                self._requeue_interrupted(job)
        except asyncio.CancelledError:  # the stop's grace period ran out mid-step
            self._requeue_interrupted(job)
            self.store.update(job)
            raise
        except QcoreError as exc:
            job.transition(JobState.FAILED)
            job.error_message = f"{exc.reason}: {exc}"
        except Exception as exc:  # a bug: fail the job, keep the service up
            log.exception("job %s failed", job_id)
            job.transition(JobState.FAILED)
            job.error_message = f"INTERNAL: {type(exc).__name__}: {exc}"
        finally:
            self.board.cancel.pop(job_id, None)
            self.board.finished(job_id)
        self.record_usage(job.owner, job.device_time_s)
        self.events.job_changed(job)

    @staticmethod
    def _requeue_interrupted(job: JobRecord) -> None:
        job.transition(JobState.QUEUED)
        job.error_message = "interrupted by a service stop; runs again after the next start"
        job.physical_qubits = ()

    async def _execute(self, job: JobRecord, prepared: list[PreparedProgram], slot: QpuSlot,
                       queue: QpuQueue, cancel: threading.Event
                       ) -> tuple[qs_pb2.JobResult, float]:
        """Runs every (program, chunk of parameter sets), ``parallel_chunks`` at a time.

        Each program has its own seed (``seed + 7919 × program``) and each parameter set its
        own random stream (``ExecutionOptions.first_row``), so the result depends neither on
        how many chunks run at once (at most the lane's threads) nor on where the driver's
        executor runs them. Session
        work is served between waves. The driver stops between parameter sets once ``cancel``
        or :attr:`stopping` is set.
        """
        request = job.request
        sets = np.asarray([list(s.values) for s in request.parameter_sets], dtype=np.float64)
        if sets.size == 0:
            sets = np.zeros((1, len(prepared[0].parameters)))
        seed = job_seed(job)
        mitigation = (mitigation_from_proto(request.mitigation)
                      if request.HasField("mitigation") else None)
        chunk = self.policy.chunk_parameter_sets
        tasks = [(p_index, start) for p_index in range(len(prepared))
                 for start in range(0, sets.shape[0], chunk)]
        result = qs_pb2.JobResult()
        device_time = 0.0
        wave = max(1, min(self.policy.parallel_chunks, self.lanes.lane_workers))
        qpu_id = slot.driver.capabilities.qpu_id
        stopping = self.stopping

        def should_stop() -> bool:
            return cancel.is_set() or stopping.is_set()

        for first in range(0, len(tasks), wave):
            await self.serve_sessions(queue, qpu_id)
            if should_stop():
                raise Cancelled
            batch = tasks[first:first + wave]
            outs = await asyncio.gather(*(
                self.lanes.on_lane(qpu_id, slot.driver.execute, prepared[p_index],
                                   sets[start:start + chunk],
                                   ExecutionOptions(shot_count=request.shot_count,
                                                    seed=seed + 7919 * p_index,
                                                    first_row=start,
                                                    readout_mitigation=request.readout_mitigation,
                                                    should_stop=should_stop,
                                                    device_state=job.device_state or None,
                                                    mitigation=mitigation,
                                                    max_bond_dimension=(
                                                        request.max_bond_dimension or None)))
                for p_index, start in batch))
            for (p_index, start), out in zip(batch, outs):
                device_time += out.device_time_s
                for offset in range(min(chunk, sets.shape[0] - start)):
                    experiment = result.experiments.add(program_index=p_index,
                                                        parameter_set_index=start + offset,
                                                        engine=out.engine,
                                                        engine_reason=out.engine_reason)
                    if out.counts is not None:
                        experiment.counts.update(out.counts[offset])
                    if out.truncation_errors is not None:
                        experiment.truncation_error = out.truncation_errors[offset]
                    if out.discarded_shot_counts is not None:
                        experiment.discarded_shot_count = out.discarded_shot_counts[offset]
                    if out.mitigated_probabilities is not None:
                        experiment.mitigated_probabilities.update(
                            out.mitigated_probabilities[offset])
                    if out.expectation_values is not None and out.expectation_values.ndim == 2:
                        experiment.expectation_values.extend(out.expectation_values[offset])
                        experiment.standard_errors.extend(out.standard_errors[offset])
                    elif out.expectation_values is not None:
                        experiment.expectation_value = float(out.expectation_values[offset])
                        experiment.standard_error = float(out.standard_errors[offset])
                    if out.mitigation is not None:
                        experiment.mitigation.CopyFrom(
                            mitigation_record_to_proto(out.mitigation[offset]))
        if cancel.is_set():  # requested while the last chunk ran: the caller wins
            raise Cancelled
        return result, device_time

    # -- multi-programming -------------------------------------------------------------------

    async def _plan_multiprogram(self, slot: QpuSlot, ordered: list[QueueEntry]
                                 ) -> MergedProgram | None:
        if not self.multi_programs(slot) or not self.board.packable(ordered[0]):
            return None
        head = self.store.get(ordered[0].job_id)
        if head is None or head.request.max_bond_dimension:
            return None
        shots = head.request.shot_count
        candidates = []
        for entry in ordered:
            if not self.board.packable(entry):
                continue
            job = self.store.get(entry.job_id)
            if (job is None or job.request.shot_count != shots or job.request.readout_mitigation
                    or job.request.max_bond_dimension):
                continue
            parsed = self.board.parsed[entry.job_id]
            candidates.append((entry.job_id, parsed.circuits[0].bind(parsed.parameter_sets[0])))
            if len(candidates) >= 4 * self.policy.multiprogramming_max_jobs:
                break
        if len(candidates) < 2:
            return None
        caps = slot.driver.capabilities
        device = slot.driver.calibration_snapshot().parameters
        return await self.lanes.on_lane(slot.driver.capabilities.qpu_id, lambda: pack(
            candidates, caps, device, max_jobs=self.policy.multiprogramming_max_jobs,
            max_fidelity_loss=self.policy.multiprogramming_max_fidelity_loss))

    async def _run_merged(self, merged: MergedProgram, slot: QpuSlot, queue: QpuQueue) -> None:
        """Runs the jobs of ``merged`` as one program and splits the counts back per job."""
        jobs = [self.store.get(p.job_id) for p in merged.plans]
        if any(j is None or j.state is not JobState.QUEUED or p.job_id not in queue.entries
               for j, p in zip(jobs, merged.plans)):
            return  # one was cancelled while packing: the worker plans again
        entries = [queue.remove(p.job_id) for p in merged.plans]
        queue.running = RunningJobs(entries, self.clock())
        self.board.sync_length(slot)
        caps = slot.driver.capabilities
        cancels = []
        for job, plan in zip(jobs, merged.plans):
            cancels.append(self._start(job, slot, pin=False))
            job.physical_qubits = plan.region
            others = len(merged.plans) - 1
            job.placement_reason += (
                f"; multi-programmed on qubits {list(plan.region)} with {others} other job(s), "
                f"predicted fidelity {plan.predicted_fidelity:.3f} vs "
                f"{plan.best_esp:.3f} alone")
            self.events.job_changed(job)
        head = jobs[0]
        qpu_id = caps.qpu_id
        try:
            prepared = await self.lanes.on_lane(qpu_id, prepare_merged, slot.driver,
                                                merged.circuit)
            out = await self.lanes.on_lane(qpu_id, slot.driver.execute, prepared,
                                           np.zeros((1, 0)),
                                           ExecutionOptions(shot_count=head.request.shot_count,
                                                            seed=job_seed(head),
                                                            should_stop=self.stopping.is_set))
        except asyncio.CancelledError:  # the stop's grace period ran out: run them again later
            for job in jobs:
                self.board.cancel.pop(job.job_id, None)
                self._requeue_interrupted(job)
                self.store.update(job)
            raise
        except Exception as exc:  # cannot run merged (or stopped): run each job alone instead
            log.warning("multi-programmed run on %s failed (%s); running the jobs alone",
                        caps.qpu_id, exc)
            for job, entry in zip(jobs, entries):
                self.board.cancel.pop(job.job_id, None)
                self.board.solo.add(job.job_id)
                job.transition(JobState.QUEUED)
                job.physical_qubits = ()
                job.placement_reason = job.placement_reason.split("; multi-programmed")[0]
                queue.add(entry)
                self.events.job_changed(job)
            return
        parts = split_counts(out.counts[0], merged)
        shares = time_shares([schedule_duration_ns(p.circuit, caps) for p in merged.plans], caps)
        for index, (job, counts) in enumerate(zip(jobs, parts)):
            self.board.cancel.pop(job.job_id, None)
            job.device_time_s = float(out.device_time_s * shares[index])
            if cancels[index].is_set():
                job.transition(JobState.CANCELLED)
                job.error_message = "cancelled while running"
            else:
                result = qs_pb2.JobResult()
                experiment = result.experiments.add(program_index=0, parameter_set_index=0,
                                                    engine=out.engine,
                                                    engine_reason=out.engine_reason)
                experiment.counts.update(counts)
                if out.truncation_errors is not None:
                    experiment.truncation_error = out.truncation_errors[0]
                if out.discarded_shot_counts is not None:
                    experiment.discarded_shot_count = out.discarded_shot_counts[0]
                job.result = result
                job.transition(JobState.SUCCEEDED)
            self.board.finished(job.job_id)
            self.record_usage(job.owner, job.device_time_s)
            self.events.job_changed(job)
