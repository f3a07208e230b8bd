"""Fixtures for the server tests: a quantum service on a free loopback port with a small fleet
(a noisy 2x2 superconducting grid and an ideal 4-qubit ion chain), reached over real gRPC."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import bearer_interceptors, with_bearer_token
from quantum_service.config import QuantumSettings
from quantum_service.contract import QpuDriver
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.server.app import QuantumServer, create_server

#: The user the server fixtures authenticate as (an admin, so fleet operations are allowed).
TEST_USER = "server-tests"

#: QPU ids of :func:`small_fleet`.
NOISY_QPU = "sc-small-4"
IDEAL_QPU = "ion-ideal-4"


def small_fleet() -> list[QpuDriver]:
    """A noisy 4-qubit grid and an ideal 4-qubit ion chain (cheap to simulate)."""
    return [SimulatedQpuDriver(*superconducting_grid(NOISY_QPU, rows=2, cols=2, seed=5)),
            SimulatedQpuDriver(*trapped_ion_chain(IDEAL_QPU, qubit_count=4, noisy=False,
                                                  seed=4))]


async def start_small_service(db_path: Path) -> QuantumServer:
    return await create_server(QuantumSettings(port=0, db_path=db_path, telemetry=False,
                                               grace_s=0.1), drivers=small_fleet())


@pytest.fixture
async def small_service(tmp_path: Path) -> AsyncIterator[qs_grpc.QuantumServiceStub]:
    """An async stub of a fresh small-fleet service (sending an admin token), stopped after the
    test."""
    server = await start_small_service(tmp_path / "jobs.sqlite")
    token = server.tokens.create(TEST_USER, admin=True)
    channel = grpc.aio.insecure_channel(server.address, interceptors=bearer_interceptors(token))
    try:
        yield qs_grpc.QuantumServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0.1)


@pytest.fixture(scope="module")
def threaded_service(tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[qs_grpc.QuantumServiceStub]:
    """A blocking stub of a small-fleet service whose event loop runs in a thread of its own
    (for synchronous tests such as Hypothesis properties), shared by the module."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    db_path = tmp_path_factory.mktemp("service") / "jobs.sqlite"
    server = asyncio.run_coroutine_threadsafe(start_small_service(db_path), loop).result(60)
    token = server.tokens.create(TEST_USER, admin=True)
    channel = with_bearer_token(grpc.insecure_channel(server.address), token)
    try:
        yield qs_grpc.QuantumServiceStub(channel)
    finally:
        channel.close()
        asyncio.run_coroutine_threadsafe(server.stop(0.1), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
