"""``QcorePrimitiveJob``: the job a V2 primitive returns, over one or more qcore jobs.

The primitive validates its PUBs and submits every qcore job inside ``run`` (bad input fails
there, before anything runs); ``result()`` waits for the qcore jobs and assembles the
``PrimitiveResult``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qiskit.primitives import PrimitiveResult
from qiskit.primitives.base.base_primitive_job import BasePrimitiveJob
from qiskit.providers import JobStatus

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import FINAL_STATES, QuantumClient

__all__ = ["QcorePrimitiveJob", "JOB_STATUS"]

#: qcore job state -> Qiskit job status.
JOB_STATUS = {
    common_pb2.JOB_STATE_QUEUED: JobStatus.QUEUED,
    common_pb2.JOB_STATE_RUNNING: JobStatus.RUNNING,
    common_pb2.JOB_STATE_SUCCEEDED: JobStatus.DONE,
    common_pb2.JOB_STATE_FAILED: JobStatus.ERROR,
    common_pb2.JOB_STATE_CANCELLED: JobStatus.CANCELLED,
}
#: Worst first: the status of several qcore jobs is that of the least advanced one.
_ORDER = (JobStatus.ERROR, JobStatus.CANCELLED, JobStatus.QUEUED, JobStatus.RUNNING,
          JobStatus.DONE)


class QcorePrimitiveJob(BasePrimitiveJob[PrimitiveResult, JobStatus]):
    """A primitive's job over the qcore jobs ``job_ids``.

    Args:
        client: the client the jobs were submitted with.
        job_ids: qcore job ids, in the order ``assemble`` expects.
        assemble: builds the result from the finished jobs (with their results).
    """

    def __init__(self, client: QuantumClient, job_ids: Sequence[str],
                 assemble: Callable[[list[qs_pb2.Job]], PrimitiveResult]) -> None:
        super().__init__(job_ids[0] if job_ids else "empty")
        self.job_ids = tuple(job_ids)
        self._client = client
        self._assemble = assemble
        self._result: PrimitiveResult | None = None

    def result(self) -> PrimitiveResult:
        """Waits for every qcore job and returns the primitive result.

        Raises:
            RuntimeError: a qcore job FAILED or was CANCELLED (with qcore's message).
        """
        if self._result is None:
            jobs = [self._client.wait(job_id) for job_id in self.job_ids]
            for job in jobs:
                if job.state != common_pb2.JOB_STATE_SUCCEEDED:
                    raise RuntimeError(f"qcore job {job.job_id} "
                                       f"{common_pb2.JobState.Name(job.state)}: "
                                       f"{job.error_message}")
            self._result = self._assemble(jobs)
        return self._result

    def status(self) -> JobStatus:
        if self._result is not None:
            return JobStatus.DONE
        states = {JOB_STATUS.get(self._client.get_job(j).state, JobStatus.QUEUED)
                  for j in self.job_ids}
        return next((s for s in _ORDER if s in states), JobStatus.DONE)

    def done(self) -> bool:
        return self.status() == JobStatus.DONE

    def running(self) -> bool:
        return self.status() == JobStatus.RUNNING

    def cancelled(self) -> bool:
        return self.status() == JobStatus.CANCELLED

    def in_final_state(self) -> bool:
        return self._result is not None or all(
            self._client.get_job(j).state in FINAL_STATES for j in self.job_ids)

    def cancel(self) -> None:
        """Cancels the qcore jobs that have not finished."""
        for job_id in self.job_ids:
            if self._client.get_job(job_id).state not in FINAL_STATES:
                self._client.cancel_job(job_id)
