"""Assembles and runs the classical service, with health, reflection and telemetry."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from broker.credentials import MQTT_CREDENTIALS_FILE
from broker.service_telemetry import ServiceTelemetry, start_service_telemetry
from broker.tls import bind_port
from broker.tracing import TracingServerInterceptor
from classical_service.config import ClassicalSettings
from classical_service.server.auth import ForwardingAuthInterceptor
from classical_service.server.servicer import ClassicalServicer
from qcore.v1 import classical_service_pb2, classical_service_pb2_grpc

__all__ = ["ClassicalServer", "create_server"]

log = logging.getLogger(__name__)
SERVICE_NAME = classical_service_pb2.DESCRIPTOR.services_by_name["ClassicalService"].full_name


@dataclass(slots=True)
class ClassicalServer:
    server: grpc.aio.Server
    port: int
    servicer: ClassicalServicer
    telemetry: ServiceTelemetry
    health: health.aio.HealthServicer
    auth: ForwardingAuthInterceptor

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self, grace: float | None = 2.0) -> None:
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.servicer.close()
        await self.auth.close()
        await self.telemetry.stop()


async def create_server(settings: ClassicalSettings | None = None) -> ClassicalServer:
    """Builds and starts the classical service; ``settings.port = 0`` binds a free port.

    Calls other than health and reflection need a bearer token the quantum service at
    ``settings.quantum_address`` accepts (:mod:`classical_service.server.auth`). The port
    serves TLS with ``settings.tls_cert``/``tls_key`` (mutual TLS with ``tls_client_ca``); the
    channels to the quantum service use TLS as ``settings.quantum_credentials()`` says.

    Raises:
        TlsConfigError: a TLS file cannot be read or is not PEM.
    """
    settings = settings or ClassicalSettings()
    # Bad TLS files fail here, before anything opens.
    credentials = settings.server_credentials()
    quantum_credentials = settings.quantum_credentials()
    auth = ForwardingAuthInterceptor(settings.quantum_address, credentials=quantum_credentials)
    # Trace context from call metadata (W3C) first, then authentication.
    server = grpc.aio.server(interceptors=[TracingServerInterceptor(), auth])
    port = bind_port(server, f"{settings.host}:{settings.port}", credentials)
    telemetry = await start_service_telemetry(
        "classical", address=f"{settings.host}:{port}", url=settings.mqtt_url,
        enabled=settings.telemetry, prefix=settings.topic_prefix,
        credentials_file=settings.model_dir.parent / MQTT_CREDENTIALS_FILE)
    servicer = ClassicalServicer(quantum_address=settings.quantum_address,
                                 quantum_credentials=quantum_credentials,
                                 telemetry=telemetry.publisher,
                                 max_concurrent_runs=settings.max_concurrent_runs,
                                 model_dir=settings.model_dir,
                                 max_concurrent_finetunes=settings.max_concurrent_finetunes)
    classical_service_pb2_grpc.add_ClassicalServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME), server)
    await server.start()
    for name in (SERVICE_NAME, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("classical service listening on %s:%d (%s), quantum service at %s (%s)",
             settings.host, port, settings.tls_mode, settings.quantum_address,
             "plaintext" if quantum_credentials is None else "TLS")
    return ClassicalServer(server, port, servicer, telemetry, health_servicer, auth)
