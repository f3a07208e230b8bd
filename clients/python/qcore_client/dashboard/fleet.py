"""What the dashboard shows, read from the quantum service's gRPC API.

:class:`FleetPoller` calls ``ListQpus`` and ``ListJobs`` every ``interval_s`` with an API token
(an admin token sees every user's jobs) and turns the answers into one JSON-ready *fleet view*
(:meth:`FleetPoller.view`). Subscribers (the server-sent event streams) get the view again
whenever it changes, so a job's state change reaches an open page within one interval.

The view (``dict``; times are RFC 3339 UTC strings, durations in seconds)::

    {"time": str, "address": str,
     "qpus": [{"qpu_id", "modality", "status", "qubit_count", "noisy", "queue_length",
               "device_time_s", "device_time_share", "calibration_snapshot_id"}],
     "queues": {qpu_id: [{"job_id", "owner", "state", "queue_position",
                          "estimated_start_time"}]},        # QUEUED and RUNNING, in order
     "jobs": [{"job_id", "name", "qpu_id", "owner", "state", "create_time", "device_time_s",
               "physical_qubits", "shared"}],             # newest first
     "multiprogramming_share": float,   # finished jobs that ran beside another job / finished
     "calibration": {qpu_id: {"device_time_s": [float], "trigger": [str],
                              "qubits": {str(qubit): {"t1_us": [float], "t2_us": [float],
                                                      "readout_fidelity": [float],
                                                      "single_qubit_gate_fidelity": [float]}},
                              "two_qubit_gate_fidelity_mean": [float | None]}},
     "error": str | None}                # the last poll's failure ("UNAVAILABLE: ..."), if any

Calibration history is the sequence of calibration snapshots the poller has seen since it
started, each placed at the QPU's device time when it was first seen (the API serves the
current snapshot only); ``device_time_share`` is each QPU's share of the fleet's device time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import bearer_interceptors
from qcore_client.tls import TlsChoice, open_aio_channel

__all__ = ["FleetPoller", "QUBIT_SERIES"]

log = logging.getLogger(__name__)

#: Per-qubit calibration series plotted by the dashboard (``QubitCalibration`` field names).
QUBIT_SERIES = ("t1_us", "t2_us", "readout_fidelity", "single_qubit_gate_fidelity")
#: Jobs the view lists (newest first) and reads per poll.
JOB_PAGE_SIZE = 200
_ACTIVE = (common_pb2.JOB_STATE_QUEUED, common_pb2.JOB_STATE_RUNNING)
_FINAL = (common_pb2.JOB_STATE_SUCCEEDED, common_pb2.JOB_STATE_FAILED,
          common_pb2.JOB_STATE_CANCELLED)


def _time(ts: Timestamp) -> str | None:
    if not ts.seconds and not ts.nanos:
        return None
    return ts.ToDatetime(tzinfo=UTC).isoformat()


def _state(state: int) -> str:
    return common_pb2.JobState.Name(state).removeprefix("JOB_STATE_")


def _qpu(qpu: common_pb2.QpuDescription, fleet_device_time_s: float) -> dict:
    return {
        "qpu_id": qpu.qpu_id,
        "modality": common_pb2.Modality.Name(qpu.modality).removeprefix("MODALITY_"),
        "status": common_pb2.QpuStatus.Name(qpu.status).removeprefix("QPU_STATUS_"),
        "qubit_count": qpu.qubit_count, "noisy": qpu.noisy, "queue_length": qpu.queue_length,
        "device_time_s": qpu.device_time_s,
        "device_time_share": (qpu.device_time_s / fleet_device_time_s
                              if fleet_device_time_s > 0 else 0.0),
        "calibration_snapshot_id": qpu.calibration.snapshot_id,
    }


def _shared_starts(jobs: list[qs_pb2.Job]) -> set[tuple[str, str]]:
    """(qpu_id, start time) of starts shared by several jobs: one merged program of jobs on
    disjoint qubit regions (multi-programming) starts them together."""
    seen: dict[tuple[str, str], int] = {}
    for job in jobs:
        start = _time(job.start_time)
        if start is not None:
            seen[(job.qpu_id, start)] = seen.get((job.qpu_id, start), 0) + 1
    return {key for key, count in seen.items() if count > 1}


class FleetPoller:
    """Polls the quantum service at ``address`` (see the module docstring).

    Args:
        address: ``host:port`` of the quantum service.
        token: API token (an admin token lists every user's jobs).
        interval_s: seconds between polls, > 0.
        tls: TLS of the channel (:func:`qcore_client.tls.resolve_tls`; None: the
            ``QCORE_TLS_*`` variables decide).
    Raises:
        ValueError: ``interval_s <= 0``.
    """

    def __init__(self, address: str, token: str, *, interval_s: float = 1.0,
                 tls: TlsChoice = None) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        self.address = address
        self._tls = tls
        self.interval_s = interval_s
        self._token = token
        self._channel: grpc.aio.Channel | None = None
        self._stub: qs_grpc.QuantumServiceStub | None = None
        self._history: dict[str, dict] = {}
        self._seen_snapshots: dict[str, str] = {}
        self._view: dict = {"time": None, "address": address, "qpus": [], "queues": {},
                            "jobs": [], "multiprogramming_share": 0.0, "calibration": {},
                            "error": None}
        self._subscribers: set[asyncio.Queue[dict]] = set()
        self._task: asyncio.Task | None = None

    def view(self) -> dict:
        """The latest fleet view (see the module docstring)."""
        return self._view

    async def start(self) -> None:
        """Connects, polls once (so the first page load has data), then keeps polling in the
        background (on the running event loop)."""
        self._channel = open_aio_channel(self.address, self._tls,
                                         interceptors=bearer_interceptors(self._token))
        self._stub = qs_grpc.QuantumServiceStub(self._channel)
        await self.poll()
        self._task = asyncio.create_task(self._run(), name="dashboard-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._channel is not None:
            await self._channel.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.poll()

    def _record_calibration(self, qpu: common_pb2.QpuDescription) -> None:
        snapshot = qpu.calibration
        if not snapshot.snapshot_id or self._seen_snapshots.get(qpu.qpu_id) == \
                snapshot.snapshot_id:
            return
        self._seen_snapshots[qpu.qpu_id] = snapshot.snapshot_id
        history = self._history.setdefault(qpu.qpu_id, {
            "device_time_s": [], "trigger": [], "qubits": {}, "two_qubit_gate_fidelity_mean": []})
        history["device_time_s"].append(qpu.device_time_s)
        history["trigger"].append(snapshot.trigger)
        for qubit in snapshot.qubits:
            series = history["qubits"].setdefault(str(qubit.qubit),
                                                  {name: [] for name in QUBIT_SERIES})
            values = (qubit.t1_us, qubit.t2_us, qubit.readout_fidelity,
                      qubit.single_qubit_gate_fidelity)
            for name, value in zip(QUBIT_SERIES, values, strict=True):
                series[name].append(value)
        pairs = [p.two_qubit_gate_fidelity for p in snapshot.pairs]
        history["two_qubit_gate_fidelity_mean"].append(sum(pairs) / len(pairs) if pairs else None)

    async def poll(self) -> None:
        """Reads the fleet and the newest jobs once; notifies subscribers when the view
        changed. A failed call keeps the last view and reports the error in ``view["error"]``.

        Raises:
            RuntimeError: called before :meth:`start`.
        """
        if self._stub is None:
            raise RuntimeError("FleetPoller.poll() before start()")
        try:
            qpus = list((await self._stub.ListQpus(
                qs_pb2.ListQpusRequest(page_size=1000), timeout=10)).qpus)
            jobs = list((await self._stub.ListJobs(
                qs_pb2.ListJobsRequest(page_size=JOB_PAGE_SIZE), timeout=10)).jobs)
        except grpc.aio.AioRpcError as exc:
            view = dict(self._view, error=f"{exc.code().name}: {exc.details()}")
        else:
            view = self._build(qpus, jobs)
        changed = json.dumps({**view, "time": None}, sort_keys=True) != \
            json.dumps({**self._view, "time": None}, sort_keys=True)
        self._view = view
        if changed:
            for queue in self._subscribers:
                queue.put_nowait(view)

    def _build(self, qpus: list[common_pb2.QpuDescription], jobs: list[qs_pb2.Job]) -> dict:
        for qpu in qpus:
            self._record_calibration(qpu)
        total = sum(q.device_time_s for q in qpus)
        shared = _shared_starts(jobs)
        queues: dict[str, list[dict]] = {q.qpu_id: [] for q in qpus}
        active = sorted((j for j in jobs if j.state in _ACTIVE),
                        key=lambda j: (j.state != common_pb2.JOB_STATE_RUNNING,
                                       j.queue_position))
        for job in active:
            queues.setdefault(job.qpu_id, []).append({
                "job_id": job.job_id, "owner": job.owner, "state": _state(job.state),
                "queue_position": job.queue_position,
                "estimated_start_time": _time(job.estimated_start_time)})
        finished = [j for j in jobs if j.state in _FINAL and _time(j.start_time)]
        multi = [j for j in finished if (j.qpu_id, _time(j.start_time)) in shared]
        return {
            "time": datetime.now(UTC).isoformat(), "address": self.address,
            "qpus": [_qpu(q, total) for q in qpus], "queues": queues,
            "jobs": [{"job_id": j.job_id, "name": j.name, "qpu_id": j.qpu_id,
                      "owner": j.owner, "state": _state(j.state),
                      "create_time": _time(j.create_time), "device_time_s": j.device_time_s,
                      "physical_qubits": list(j.physical_qubits),
                      "shared": (j.qpu_id, _time(j.start_time)) in shared} for j in jobs],
            "multiprogramming_share": len(multi) / len(finished) if finished else 0.0,
            "calibration": self._history, "error": None,
        }

    async def updates(self) -> AsyncIterator[dict]:
        """The current view, then every changed view, until the consumer stops."""
        queue: asyncio.Queue[dict] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield self._view
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)
