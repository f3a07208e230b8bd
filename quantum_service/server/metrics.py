"""Prometheus metrics of the quantum service, served on ``/metrics`` (prometheus-client).

What is exported (every name has the ``qcore_`` prefix; units in the names, as the Prometheus
naming guide asks, https://prometheus.io/docs/practices/naming/):

* ``qcore_jobs{qpu_id, state}`` — jobs in the store by QPU and job state (``queued``,
  ``running``, ``succeeded``, ``failed``, ``cancelled``), read at scrape time;
* ``qcore_qpu_queue_length{qpu_id}`` — jobs queued or running on each QPU;
* ``qcore_qpu_status{qpu_id, status}`` — 1 for the QPU's status now (``online``,
  ``calibrating``), 0 for the others;
* ``qcore_qpu_device_time_seconds_total{qpu_id}`` — device time the QPU has used since the
  service started (jobs, sessions and calibration), s;
* ``qcore_open_sessions{qpu_id}`` — session leases held on each QPU;
* ``qcore_calibration_events_total{qpu_id, trigger}`` — calibration snapshots installed
  (``schedule``, ``drift``, ``on_demand``);
* ``qcore_rpc_duration_seconds{method, code}`` — a histogram of the handling time of every
  gRPC call, by full method name and final status code (streams: until the stream ends).

Everything but the two event metrics is computed from the kernel when scraped, so nothing on
the job path writes a metric. The endpoint is off unless ``QCORE_QUANTUM_METRICS_PORT`` is set.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from broker.rpc import replace_behaviour
from quantum_service.contract import CalibrationSnapshot
from quantum_service.kernel.jobs import JobState
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuStatus

__all__ = ["ServiceMetrics", "MetricsEndpoint", "RpcMetricsInterceptor", "start_metrics_endpoint"]

#: Histogram buckets of RPC handling time, s: 0.5 ms to 60 s (sessions stream for minutes and
#: land in +Inf).
RPC_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                 5.0, 10.0, 30.0, 60.0)


class _KernelCollector(Collector):
    """Reads the kernel's state at scrape time (see the module docstring)."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        jobs = GaugeMetricFamily("qcore_jobs", "Jobs in the store by QPU and job state",
                                 labels=["qpu_id", "state"])
        qpu_ids = [slot.driver.capabilities.qpu_id for slot in self.kernel.registry]
        counts = self.kernel.store.count_by_qpu_and_state()
        for qpu_id in qpu_ids:
            for state in JobState:
                jobs.add_metric([qpu_id, state.name.lower()], counts.get((qpu_id, state), 0))
        yield jobs
        queue = GaugeMetricFamily("qcore_qpu_queue_length", "Jobs queued or running on the QPU",
                                  labels=["qpu_id"])
        status = GaugeMetricFamily("qcore_qpu_status", "1 for the QPU's status now",
                                   labels=["qpu_id", "status"])
        device = CounterMetricFamily("qcore_qpu_device_time_seconds",
                                     "Device time used since the service started, s",
                                     labels=["qpu_id"])
        sessions = GaugeMetricFamily("qcore_open_sessions", "Session leases held on the QPU",
                                     labels=["qpu_id"])
        for slot in self.kernel.registry:
            qpu_id = slot.driver.capabilities.qpu_id
            queue.add_metric([qpu_id], slot.queue_length)
            for value in (QpuStatus.ONLINE, QpuStatus.CALIBRATING):
                status.add_metric([qpu_id, value.name.lower()], float(slot.status is value))
            device.add_metric([qpu_id], slot.driver.device_time_s)
            sessions.add_metric([qpu_id], slot.session_count)
        yield from (queue, status, device, sessions)


class ServiceMetrics:
    """The service's metrics in a registry of their own (one per service, so several services
    in one process, as in tests, never share series). :meth:`export_kernel` adds the series
    read from the kernel at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.calibration_events = Counter(
            "qcore_calibration_events", "Calibration snapshots installed",
            labelnames=["qpu_id", "trigger"], registry=self.registry)
        self.rpc_duration_s = Histogram(
            "qcore_rpc_duration_seconds", "Handling time of gRPC calls, s",
            labelnames=["method", "code"], buckets=RPC_BUCKETS_S, registry=self.registry)

    def export_kernel(self, kernel: Kernel) -> None:
        """Exports ``kernel``'s jobs, queues, statuses, device time and session leases."""
        self.registry.register(_KernelCollector(kernel))

    def counting_calibrations(
            self, announce: Callable[[CalibrationSnapshot, Sequence[str]], None]
    ) -> Callable[[CalibrationSnapshot, Sequence[str]], None]:
        """``announce`` (the calibration manager's hook) that also counts each snapshot."""
        def counted(snapshot: CalibrationSnapshot, experiments: Sequence[str] = ()) -> None:
            self.calibration_events.labels(snapshot.qpu_id, snapshot.trigger).inc()
            announce(snapshot, experiments)
        return counted


def _code_name(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    """The call's final status code: the one the handler set (or aborted with), else OK after a
    normal return, CANCELLED for a dropped call, UNKNOWN for an exception gRPC maps so."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if error is None:
        return grpc.StatusCode.OK.name
    if isinstance(error, asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED.name
    return grpc.StatusCode.UNKNOWN.name


class RpcMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Times every call into ``metrics.rpc_duration_s`` (put it first: it then also counts
    calls the authentication refuses)."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.histogram = metrics.rpc_duration_s

    def _timed(self, method: str, behaviour: Callable) -> Callable:
        histogram = self.histogram
        if inspect.isasyncgenfunction(behaviour):
            async def stream(request_or_iterator, context):
                began, error = time.perf_counter(), None
                try:
                    async for item in behaviour(request_or_iterator, context):
                        yield item
                except BaseException as exc:
                    error = exc
                    raise
                finally:
                    histogram.labels(method, _code_name(context, error)).observe(
                        time.perf_counter() - began)
            return stream

        async def call(request_or_iterator, context):
            began, error = time.perf_counter(), None
            try:
                return await behaviour(request_or_iterator, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                histogram.labels(method, _code_name(context, error)).observe(
                    time.perf_counter() - began)
        return call

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails],
                                         Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        return replace_behaviour(handler, lambda behaviour: self._timed(method, behaviour))


@dataclass(slots=True)
class MetricsEndpoint:
    """A running ``/metrics`` HTTP endpoint (prometheus-client's WSGI server on a thread)."""

    server: WSGIServer
    thread: Thread
    port: int

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_endpoint(metrics: ServiceMetrics, *, host: str, port: int) -> MetricsEndpoint:
    """Serves ``metrics`` on ``http://host:port/metrics`` (``port = 0``: a free port).

    Raises:
        OSError: the port is taken.
    """
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    return MetricsEndpoint(server, thread, server.server_port)
