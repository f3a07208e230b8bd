"""The kernel's outward events: telemetry, job watchers and stored job states.

Every job state change is stored, pushed to the job's watchers and published as a
``JobStateEvent``; QPU status and calibration snapshots are published as ``QpuStatusEvent`` and
``CalibrationEvent``. Telemetry is a side channel: publishing never blocks and never raises
into the kernel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence

from broker.publisher import Publisher
from qcore.v1 import common_pb2, telemetry_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.contract import CalibrationSnapshot
from quantum_service.convert import (
    calibration_event,
    calibration_summary_event,
    qubit_calibration_events,
    timestamp,
)
from quantum_service.kernel.jobs import JobRecord, job_to_proto, utc_now
from quantum_service.kernel.qpus import QpuSlot
from quantum_service.kernel.store import JobStore

__all__ = ["KernelEvents", "Telemetry"]

log = logging.getLogger(__name__)

#: The telemetry sink: :class:`broker.publisher.TelemetryPublisher` or ``NullPublisher``
#: (never blocks, never raises into the kernel).
Telemetry = Publisher

_FINAL = (common_pb2.JOB_STATE_SUCCEEDED, common_pb2.JOB_STATE_FAILED,
          common_pb2.JOB_STATE_CANCELLED)


class KernelEvents:
    """Publishes telemetry and serves job watchers.

    Args:
        telemetry: the telemetry sink.
        store: where job states are persisted.
        annotate: fills in a job's queue position and estimated start before it is sent.
    """

    def __init__(self, telemetry: Telemetry, store: JobStore,
                 annotate: Callable[[JobRecord], None]) -> None:
        self.telemetry = telemetry
        self.store = store
        self.annotate = annotate
        self._watchers: dict[str, set[asyncio.Queue[qs_pb2.Job]]] = {}

    def emit(self, message) -> None:
        """Publishes a telemetry message on its topic; never blocks, never raises."""
        try:
            self.telemetry.publish_threadsafe(message)
        except Exception:  # telemetry is a side channel: a bad event must not fail a job
            log.exception("could not publish %s", type(message).__name__)

    def publish_qpu_status(self, slot: QpuSlot, *, offline: bool = False) -> None:
        """Publishes ``slot``'s status (``slot.status``, or ``OFFLINE`` when ``offline``),
        queue length and device time."""
        caps = slot.driver.capabilities
        status = common_pb2.QPU_STATUS_OFFLINE if offline else int(slot.status)
        self.emit(telemetry_pb2.QpuStatusEvent(
            qpu_id=caps.qpu_id, status=status,
            queue_length=slot.queue_length, device_time_s=slot.driver.device_time_s,
            time=timestamp(utc_now())))

    def publish_calibration_snapshot(self, snapshot: CalibrationSnapshot,
                                     experiments: Sequence[str] = ()) -> None:
        """Publishes ``snapshot`` (thread-safe, never blocks): its summary
        (``CalibrationSummaryEvent``), one ``QubitCalibrationEvent`` per qubit, and the whole
        snapshot (``CalibrationEvent``), all at one time."""
        now = utc_now()
        self.emit(calibration_summary_event(snapshot, experiments=experiments, time=now))
        for event in qubit_calibration_events(snapshot, time=now):
            self.emit(event)
        self.emit(calibration_event(snapshot, experiments=experiments, time=now))

    def job_changed(self, job: JobRecord) -> None:
        """Persists, notifies watchers and publishes a job's new state (event-loop thread)."""
        self.store.update(job)
        self.annotate(job)
        snapshot = job_to_proto(job)
        for queue in self._watchers.get(job.job_id, ()):
            queue.put_nowait(snapshot)
        self.emit(telemetry_pb2.JobStateEvent(
            job_id=job.job_id, state=int(job.state), qpu_id=job.qpu_id, owner=job.owner,
            error_message=job.error_message, device_time_s=job.device_time_s,
            time=timestamp(utc_now())))

    async def watch(self, job_id: str, get: Callable[[str], JobRecord]
                    ) -> AsyncIterator[qs_pb2.Job]:
        """Yields job ``job_id`` (read with ``get``) now and on every change until it reaches
        a final state."""
        get(job_id)  # NOT_FOUND before a watcher is registered
        queue: asyncio.Queue[qs_pb2.Job] = asyncio.Queue()
        self._watchers.setdefault(job_id, set()).add(queue)
        try:
            current = job_to_proto(get(job_id))
            yield current
            while current.state not in _FINAL:
                current = await queue.get()
                yield current
        finally:
            watchers = self._watchers.get(job_id)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[job_id]
