"""Fixtures for integration tests: real gRPC servers on free loopback ports and a real MQTT
broker of their own (an embedded amqtt broker on a free port).

The broker is never the machine's one on 127.0.0.1:1883: a test then sees only the telemetry of
the services it started, and a service that ignored the URL it is given (and found a broker on
1883 by itself) fails the telemetry tests on every machine, not only on one without a broker.
Every stack publishes under a topic prefix of its own (``topic_prefix``), never ``qcore/v1``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from integration_helpers import authenticated_channel, unique_prefix

from broker.embedded import EmbeddedBroker
from classical_service.config import ClassicalSettings
from classical_service.server.app import ClassicalServer
from classical_service.server.app import create_server as create_classical
from qcore.v1 import classical_service_pb2_grpc, quantum_service_pb2_grpc
from quantum_service.config import QuantumSettings
from quantum_service.server.app import QuantumServer
from quantum_service.server.app import create_server as create_quantum

pytestmark = pytest.mark.integration


@pytest.fixture
async def mqtt_url() -> AsyncIterator[str]:
    """URL of a private embedded broker on a free loopback port, stopped after the test."""
    async with EmbeddedBroker(port=0) as broker:
        yield broker.url


@dataclass
class Stack:
    """The services, and channels sending :attr:`token` (an admin token of user ``tester``;
    the classical service forwards it to the quantum service)."""

    quantum: QuantumServer
    classical: ClassicalServer
    mqtt_url: str
    topic_prefix: str
    quantum_channel: grpc.aio.Channel
    classical_channel: grpc.aio.Channel
    token: str

    @property
    def quantum_stub(self) -> quantum_service_pb2_grpc.QuantumServiceStub:
        return quantum_service_pb2_grpc.QuantumServiceStub(self.quantum_channel)

    @property
    def classical_stub(self) -> classical_service_pb2_grpc.ClassicalServiceStub:
        return classical_service_pb2_grpc.ClassicalServiceStub(self.classical_channel)


async def start_quantum(db_path: Path, mqtt_url: str, topic_prefix: str | None = None
                        ) -> QuantumServer:
    return await create_quantum(QuantumSettings(port=0, db_path=db_path, mqtt_url=mqtt_url,
                                                grace_s=0.5,
                                                topic_prefix=topic_prefix or unique_prefix()))


@pytest.fixture
def quantum_factory():
    """``await quantum_factory(db_path, mqtt_url)`` starts another quantum service."""
    return start_quantum


@pytest.fixture
async def stack(tmp_path: Path, mqtt_url: str) -> AsyncIterator[Stack]:
    prefix = unique_prefix()
    quantum = await start_quantum(tmp_path / "jobs.sqlite", mqtt_url, prefix)
    classical = await create_classical(ClassicalSettings(
        port=0, quantum_address=quantum.address, mqtt_url=mqtt_url,
        model_dir=tmp_path / "models", topic_prefix=prefix))
    token = quantum.tokens.create("tester", admin=True)
    q_channel = authenticated_channel(quantum.address, token)
    c_channel = authenticated_channel(classical.address, token)
    try:
        yield Stack(quantum, classical, mqtt_url, prefix, q_channel, c_channel, token)
    finally:
        await q_channel.close()
        await c_channel.close()
        await classical.stop(0.5)
        await quantum.stop(0.5)
