"""The classical service admits only callers whose token the quantum service accepts, and
forwards that token: sessions it opens are the caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import classical_service_pb2_grpc as cs_grpc
from qcore_client.auth import bearer_interceptors

from classical_service.config import ClassicalSettings
from classical_service.server.app import ClassicalServer
from classical_service.server.app import create_server as create_classical
from quantum_service.config import QuantumSettings
from quantum_service.server.app import QuantumServer
from quantum_service.server.app import create_server as create_quantum


@dataclass
class _Services:
    quantum: QuantumServer
    classical: ClassicalServer
    channels: list[grpc.aio.Channel]

    def stub(self, token: str | None) -> cs_grpc.ClassicalServiceStub:
        channel = grpc.aio.insecure_channel(
            self.classical.address, interceptors=bearer_interceptors(token) if token else None)
        self.channels.append(channel)
        return cs_grpc.ClassicalServiceStub(channel)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[_Services]:
    quantum = await create_quantum(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                                   telemetry=False, grace_s=0.1))
    classical = await create_classical(ClassicalSettings(
        port=0, quantum_address=quantum.address, telemetry=False,
        model_dir=tmp_path / "models"))
    running = _Services(quantum, classical, [])
    try:
        yield running
    finally:
        for channel in running.channels:
            await channel.close()
        await classical.stop(0.1)
        await quantum.stop(0.1)


async def test_calls_need_a_token_the_quantum_service_accepts(services):
    for token in (None, "qc_not-a-real-token"):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await services.stub(token).ListOptimizers(cs_pb2.ListOptimizersRequest())
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    reply = await services.stub(services.quantum.tokens.create("alice")).ListOptimizers(
        cs_pb2.ListOptimizersRequest())
    assert "l-bfgs-b" in {o.name for o in reply.optimizers}


async def test_health_check_needs_no_token(services):
    channel = grpc.aio.insecure_channel(services.classical.address)
    services.channels.append(channel)
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_minimize_sessions_belong_to_the_caller(services):
    from qcore_client.circuit import Circuit, Parameter
    from qcore_client.client import session_start

    opened: list[str] = []
    manager = services.quantum.sessions
    open_session = manager.open

    async def recording(start, *, owner):
        opened.append(owner)
        return await open_session(start, owner=owner)

    manager.open = recording
    theta = Parameter("theta")
    request = cs_pb2.MinimizeRequest(
        optimizer="cobyla", max_iterations=3, initial_parameters=[0.5],
        session=session_start(Circuit(1).ry(theta, 0), {"Z0": 1.0}, qpu_id="ion-ideal-24"))
    replies = [r async for r in services.stub(services.quantum.tokens.create("bob")).Minimize(
        request)]
    assert replies[-1].HasField("result")
    assert opened == ["bob"]
