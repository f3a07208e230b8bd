"""The kernel's table of active jobs: per-QPU queues and what each queued or running job needs.

Shared by submission (:mod:`.kernel`) and execution (:mod:`.dispatch`): each queued or
running job has its queue entry, its parsed request, its prepared (compiled) programs and,
while running, a cancellation event.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from quantum_service.contract import PreparedProgram
from quantum_service.kernel.jobs import JobRecord, JobState
from quantum_service.kernel.qpus import QpuSlot
from quantum_service.kernel.runtime import WorkEstimate
from quantum_service.kernel.scheduler import QpuQueue, QueueEntry
from quantum_service.kernel.validation import ParsedJob

__all__ = ["JobBoard"]


class JobBoard:
    """Queues per QPU and the state of the active jobs.

    Attributes:
        queues: ``qpu_id`` → its queue (filled when the kernel starts).
        prepared, parsed, entries: per active job id.
        work: per active job, its work estimate (:mod:`.runtime`; learned from when it ran
            alone).
        solo: jobs that must not be multi-programmed (a packed run failed).
        cancel: per running job, set to ask it to stop.
    """

    def __init__(self) -> None:
        self.queues: dict[str, QpuQueue] = {}
        self.prepared: dict[str, list[PreparedProgram]] = {}
        self.parsed: dict[str, ParsedJob] = {}
        self.entries: dict[str, QueueEntry] = {}
        self.work: dict[str, WorkEstimate] = {}
        self.solo: set[str] = set()
        self.cancel: dict[str, threading.Event] = {}

    def enqueue(self, job: JobRecord, slot: QpuSlot, parsed: ParsedJob,
                prepared: list[PreparedProgram], entry: QueueEntry) -> None:
        """Queues ``job`` on ``slot``'s QPU."""
        self.prepared[job.job_id] = prepared
        self.parsed[job.job_id] = parsed
        self.entries[job.job_id] = entry
        self.queues[slot.driver.capabilities.qpu_id].add(entry)
        self.sync_length(slot)

    def finished(self, job_id: str) -> None:
        """Forgets ``job_id`` (it left the queue for good)."""
        self.entries.pop(job_id, None)
        self.prepared.pop(job_id, None)
        self.parsed.pop(job_id, None)
        self.work.pop(job_id, None)
        self.solo.discard(job_id)

    def owner_load(self, owner: str) -> tuple[int, float]:
        """``owner``'s active jobs and their predicted device seconds."""
        mine = [e for e in self.entries.values() if e.owner == owner]
        return len(mine), sum(e.predicted_s for e in mine)

    def packable(self, entry: QueueEntry) -> bool:
        """Whether a queued job may be multi-programmed (see :mod:`.multiprogramming`)."""
        parsed = self.parsed.get(entry.job_id)
        return (parsed is not None and entry.job_id not in self.solo
                and len(parsed.circuits) == 1 and not parsed.has_observable
                and parsed.parameter_sets.shape[0] == 1)

    def sync_length(self, slot: QpuSlot) -> None:
        """Sets ``slot.queue_length`` to its queued plus running jobs."""
        queue = self.queues[slot.driver.capabilities.qpu_id]
        running = len(queue.running.entries) if queue.running is not None else 0
        slot.queue_length = len(queue) + running

    def annotate(self, job: JobRecord) -> None:
        """Fills in ``queue_position`` and ``estimated_start_time`` of a QUEUED job."""
        job.queue_position, job.estimated_start_time = 0, None
        queue = self.queues.get(job.qpu_id)
        if job.state is not JobState.QUEUED or queue is None:
            return
        found = queue.estimates().get(job.job_id)
        if found is not None:
            job.queue_position = found[0]
            job.estimated_start_time = datetime.fromtimestamp(found[1], UTC)
