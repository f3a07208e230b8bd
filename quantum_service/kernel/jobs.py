"""Jobs: the kernel's unit of work, and their state machine.

A job is stored as its original ``SubmitJobRequest`` (so it can be re-validated and re-run after
a restart) plus its mutable record: state, placement, timestamps, result.

State machine: ``QUEUED → RUNNING → SUCCEEDED | FAILED``; ``QUEUED | RUNNING → CANCELLED``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum

from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.convert import timestamp

__all__ = ["JobState", "JobRecord", "TERMINAL_STATES", "job_to_proto", "utc_now"]


class JobState(IntEnum):
    """Mirrors ``qcore.v1.JobState`` (same numeric values)."""

    QUEUED = 1
    RUNNING = 2
    SUCCEEDED = 3
    FAILED = 4
    CANCELLED = 5

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

_ALLOWED = {
    JobState.QUEUED: {JobState.RUNNING, JobState.CANCELLED, JobState.FAILED},
    JobState.RUNNING: {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED},
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class JobRecord:
    """A job as the kernel keeps it.

    Attributes:
        job_id: server-assigned id.
        request: the original request (programs, observable, parameter sets, shots).
        owner: the authenticated user who submitted it (the API token's user).
        state: current :class:`JobState`.
        qpu_id: the QPU the job is placed on.
        placement_reason: why the scheduler chose that QPU.
        result: a ``JobResult`` once SUCCEEDED.
        error_message: why it FAILED / was CANCELLED.
        calibration_snapshot_id: snapshot the job ran under.
        device_state: the driver's token of the device state every parameter set of the job
            ran on (``QpuDriver.device_state``; empty: not pinned, e.g. a multi-programmed
            run); with the seed, what a replay needs.
        device_time_s: QPU time used.
        physical_qubits: device qubits the job ran on (its region when multi-programmed).
        cancel_requested: a ``CancelJob`` reached the job while it ran; stored at once
            (:meth:`~quantum_service.kernel.store.JobStore.request_cancel`), so a job
            interrupted by a crash or a stop ends CANCELLED on restart, never re-run.
        queue_position: 1-based position in its QPU's queue while QUEUED (1 = next), 0
            otherwise; filled in by the kernel when the job is read, never stored.
        estimated_start_time: predicted start while QUEUED (see
            :meth:`quantum_service.kernel.scheduler.QpuQueue.estimates`); not stored.
    """

    job_id: str
    request: qs_pb2.SubmitJobRequest
    owner: str
    state: JobState
    qpu_id: str
    placement_reason: str = ""
    create_time: datetime = field(default_factory=utc_now)
    start_time: datetime | None = None
    end_time: datetime | None = None
    result: qs_pb2.JobResult | None = None
    error_message: str = ""
    calibration_snapshot_id: str = ""
    device_state: str = ""
    device_time_s: float = 0.0
    physical_qubits: tuple[int, ...] = ()
    cancel_requested: bool = False
    queue_position: int = 0
    estimated_start_time: datetime | None = None

    @property
    def priority(self) -> int:
        """The requested priority, 0 (lowest) to 10 (highest)."""
        return int(self.request.priority)

    def transition(self, new_state: JobState) -> None:
        """Moves to ``new_state``.

        Raises:
            ValueError: the transition is not allowed by the state machine.
        """
        if new_state not in _ALLOWED.get(self.state, set()):
            raise ValueError(f"job {self.job_id}: illegal transition {self.state.name} -> "
                             f"{new_state.name}")
        self.state = new_state
        now = utc_now()
        if new_state is JobState.RUNNING:
            self.start_time = now
        elif new_state is JobState.QUEUED:
            self.start_time = None
        if new_state.is_terminal:
            self.end_time = now


def job_to_proto(job: JobRecord, *, include_result: bool = True) -> qs_pb2.Job:
    """The job as a ``qcore.v1.Job``; ``queue_position`` and ``estimated_start_time`` are
    those the kernel filled in when it read the record (0 and unset when not QUEUED)."""
    msg = qs_pb2.Job(
        job_id=job.job_id, request_id=job.request.request_id, name=job.request.name,
        state=int(job.state), qpu_id=job.qpu_id, owner=job.owner,
        create_time=timestamp(job.create_time), start_time=timestamp(job.start_time),
        end_time=timestamp(job.end_time), program_count=len(job.request.programs),
        parameter_set_count=len(job.request.parameter_sets),
        shot_count=job.request.shot_count, error_message=job.error_message,
        calibration_snapshot_id=job.calibration_snapshot_id, device_time_s=job.device_time_s,
        placement_reason=job.placement_reason, priority=job.priority,
        queue_position=job.queue_position, physical_qubits=job.physical_qubits,
        exact=(job.request.HasField("observable") or bool(job.request.observables))
        and job.request.shot_count == 0,
        device_state=job.device_state, replay_of_job_id=job.request.replay_of_job_id)
    if job.estimated_start_time is not None:
        msg.estimated_start_time.CopyFrom(timestamp(job.estimated_start_time))
    if include_result and job.result is not None:
        msg.result.CopyFrom(job.result)
    return msg
