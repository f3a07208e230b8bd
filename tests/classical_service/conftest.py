"""Fixtures for the classical service's tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from qcore_client.auth import with_bearer_token

from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server


class _QuantumServiceThread:
    """A real quantum service on a free port, served by an event loop on its own thread, so
    that synchronous gRPC clients can call it from the test thread."""

    def __init__(self, db_path: Path) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.server = asyncio.run_coroutine_threadsafe(create_server(QuantumSettings(
            port=0, db_path=db_path, telemetry=False, grace_s=0.1)), self._loop).result(60)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(0.1), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def quantum_channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[grpc.Channel]:
    """A synchronous channel to a real quantum service (one per test module), sending a
    token of user ``tester``."""
    service = _QuantumServiceThread(tmp_path_factory.mktemp("qs") / "jobs.sqlite")
    channel = with_bearer_token(grpc.insecure_channel(service.server.address),
                                service.server.tokens.create("tester"))
    try:
        yield channel
    finally:
        channel.close()
        service.stop()
