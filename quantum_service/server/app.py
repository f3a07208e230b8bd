"""Assembles and runs the quantum service: fleet → kernel → gRPC server, with telemetry."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from broker.credentials import MQTT_CREDENTIALS_FILE
from broker.service_telemetry import ServiceTelemetry, start_service_telemetry
from broker.tls import bind_port
from broker.tracing import TracingServerInterceptor
from qcore.v1 import quantum_service_pb2, quantum_service_pb2_grpc
from quantum_service.calibration.manager import CalibrationManager
from quantum_service.config import QuantumSettings
from quantum_service.contract import Executor, QpuDriver
from quantum_service.drivers.registry import load_drivers
from quantum_service.execution.factory import start_executor
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.scheduler import SchedulerPolicy
from quantum_service.kernel.sessions import SessionManager
from quantum_service.kernel.store import JobStore
from quantum_service.security.tokens import TokenStore
from quantum_service.server.auth import AuthInterceptor
from quantum_service.server.metrics import (
    MetricsEndpoint,
    RpcMetricsInterceptor,
    ServiceMetrics,
    start_metrics_endpoint,
)
from quantum_service.server.servicer import QuantumServicer

__all__ = ["QuantumServer", "create_server", "serve", "default_drivers"]

log = logging.getLogger(__name__)
#: Seconds of the grace period kept for closing the kernel and exiting (at most a quarter).
STOP_RESERVE_S = 0.5
SERVICE_NAME = quantum_service_pb2.DESCRIPTOR.services_by_name["QuantumService"].full_name


def default_drivers() -> list[QpuDriver]:
    """The fleet: every driver of qcore's built-in providers (superconducting, trapped ion,
    neutral atom, photonic) and of installed ``qcore.drivers`` entry points (see
    :mod:`quantum_service.drivers.registry`)."""
    return load_drivers()


@dataclass(slots=True)
class QuantumServer:
    """A running quantum service."""

    server: grpc.aio.Server
    port: int
    kernel: Kernel
    sessions: SessionManager
    telemetry: ServiceTelemetry
    health: health.aio.HealthServicer
    #: The API tokens the service accepts (the ``api_tokens`` table of ``settings.db_path``).
    tokens: TokenStore
    metrics: ServiceMetrics
    #: Where the QPUs' simulations run (``settings.executor``); closed by :meth:`stop`.
    executor: Executor
    #: The ``/metrics`` endpoint, when ``settings.metrics_port`` is set.
    metrics_endpoint: MetricsEndpoint | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self, grace: float | None = 5.0) -> None:
        """Graceful stop within ``grace`` seconds (``None``: 0): health reports NOT_SERVING,
        new calls are refused, in-flight calls get ``grace`` minus :data:`STOP_RESERVE_S`
        (at most a quarter of it) while running jobs are interrupted at their next parameter
        set and stored QUEUED (concurrently, so the two waits do not add up), then the kernel
        and the store close in the time kept back."""
        grace_s = grace or 0.0
        # Part of the period is kept for closing and exiting, so the process is gone within it.
        wait_s = grace_s - min(STOP_RESERVE_S, grace_s / 4)
        await self.health.enter_graceful_shutdown()
        await asyncio.gather(self.server.stop(wait_s), self.kernel.interrupt(wait_s))
        self.kernel.close()
        await asyncio.get_running_loop().run_in_executor(None, self.executor.close)
        if self.metrics_endpoint is not None:
            self.metrics_endpoint.stop()
        self.tokens.close()
        await self.telemetry.stop()


async def create_server(settings: QuantumSettings | None = None, *,
                        drivers: list[QpuDriver] | None = None) -> QuantumServer:
    """Builds and starts the quantum service; returns it with its bound port.

    ``settings.port = 0`` binds a free port (tests); with ``settings.tls_cert`` and
    ``settings.tls_key`` the port serves TLS only, and with ``settings.tls_client_ca`` too it
    requires client certificates (:class:`~broker.tls_settings.ServerTlsSettings`);
    ``settings.metrics_port`` (when set)
    serves Prometheus metrics (:mod:`quantum_service.server.metrics`); spans of each call follow
    the W3C trace context of its metadata (OpenTelemetry; see :mod:`broker.tracing`). Health
    (``grpc.health.v1``) and server reflection are registered, so grpcurl/grpcui work without
    the .proto files (over TLS too). Every other call needs an API token from the
    ``api_tokens`` table of ``settings.db_path``
    (:class:`~quantum_service.server.auth.AuthInterceptor`; mint one with ``qcore token
    create`` or ``QuantumServer.tokens.create``).

    Raises:
        TlsConfigError: a TLS file cannot be read or is not PEM.
        RuntimeError: the port cannot be bound.
    """
    settings = settings or QuantumSettings()
    address = f"{settings.host}:{settings.port}"
    credentials = settings.server_credentials()  # a bad TLS file fails before anything opens
    tokens = TokenStore(settings.db_path)
    # Outermost first: trace context from call metadata (W3C), RPC timing, authentication.
    metrics = ServiceMetrics()
    server = grpc.aio.server(interceptors=[TracingServerInterceptor(),
                                           RpcMetricsInterceptor(metrics),
                                           AuthInterceptor(tokens)])
    port = bind_port(server, address, credentials)
    endpoint = None
    if settings.metrics_port is not None:
        try:
            endpoint = start_metrics_endpoint(metrics, host=settings.host,
                                              port=settings.metrics_port)
        except OSError:
            tokens.close()
            raise
    telemetry = await start_service_telemetry(
        "quantum", address=f"{settings.host}:{port}", url=settings.mqtt_url,
        enabled=settings.telemetry, prefix=settings.topic_prefix,
        credentials_file=settings.db_path.parent / MQTT_CREDENTIALS_FILE)
    fleet = drivers or default_drivers()
    try:  # a local cluster takes seconds to start: off the event loop
        executor = await asyncio.get_running_loop().run_in_executor(None, start_executor,
                                                                    settings)
    except BaseException:
        if endpoint is not None:
            endpoint.stop()
        tokens.close()
        await telemetry.stop()
        raise
    for driver in fleet:
        offloadable = driver.offloadable()
        if offloadable is not None:
            offloadable.use_executor(executor)
    registry = QpuRegistry(fleet, max_sessions_per_qpu=settings.max_sessions_per_qpu)
    kernel = Kernel(registry, JobStore(settings.db_path), telemetry.publisher,
                    workers=settings.workers, lane_workers=settings.lane_workers,
                    policy=SchedulerPolicy.from_settings(settings))
    if settings.auto_calibration:
        # Calibration runs on the devices between jobs (schedule, drift canaries) and on demand.
        kernel.calibration = CalibrationManager(
            metrics.counting_calibrations(kernel.publish_calibration_snapshot))
        kernel.maintenance = kernel.calibration
    await kernel.start()
    sessions = SessionManager(kernel)
    metrics.export_kernel(kernel)
    sessions = SessionManager(kernel, default_idle_timeout_s=settings.session_idle_timeout_s,
                              max_idle_timeout_s=settings.max_session_idle_timeout_s)
    quantum_service_pb2_grpc.add_QuantumServiceServicer_to_server(
        QuantumServicer(kernel, sessions), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    await server.start()
    await _set_serving(health_servicer, SERVICE_NAME)
    log.info("quantum service listening on %s:%d (%s; telemetry: %s, metrics: %s, "
             "executor: %s)", settings.host, port, settings.tls_mode, telemetry.url or "off",
             f"http://{settings.host}:{endpoint.port}/metrics" if endpoint else "off",
             executor.name)
    return QuantumServer(server, port, kernel, sessions, telemetry, health_servicer, tokens,
                         metrics, executor, endpoint)


async def _set_serving(servicer: health.aio.HealthServicer, name: str) -> None:
    for service in (name, ""):
        await servicer.set(service, health_pb2.HealthCheckResponse.SERVING)


async def serve(settings: QuantumSettings | None = None) -> None:
    """Runs the service until cancelled (SIGINT/SIGTERM in ``__main__``)."""
    settings = settings or QuantumSettings()
    running = await create_server(settings)
    try:
        await running.server.wait_for_termination()
    finally:
        await running.stop(settings.grace_s)
