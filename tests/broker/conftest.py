"""Fixtures for the telemetry tests: an embedded broker (always) and the machine's MQTT broker on
127.0.0.1:1883 (when one answers), unique ids, and cleanup of retained topics."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import aiomqtt
import pytest

from broker.config import probe_broker
from broker.embedded import EmbeddedBroker

LOCAL_HOST = "127.0.0.1"
LOCAL_PORT = 1883


@pytest.fixture(scope="session")
def local_broker_available() -> bool:
    """Whether a real MQTT broker (Mosquitto on this machine) accepts connections on :1883."""
    return asyncio.run(probe_broker(LOCAL_HOST, LOCAL_PORT, timeout_s=0.5))


@pytest.fixture
async def embedded_broker() -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker(port=0) as broker:
        yield broker


@pytest.fixture(params=["embedded", "local"])
async def broker_url(request: pytest.FixtureRequest,
                     local_broker_available: bool) -> AsyncIterator[str]:
    """URL of the embedded broker, then of the machine's broker (skipped if none answers)."""
    if request.param == "local":
        if not local_broker_available:
            pytest.skip("no MQTT broker answers on 127.0.0.1:1883")
        yield f"mqtt://{LOCAL_HOST}:{LOCAL_PORT}"
        return
    async with EmbeddedBroker(port=0) as broker:
        yield broker.url


@pytest.fixture
def uid() -> str:
    """A unique id, so tests on a shared broker never see each other's topics."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def retained_cleanup() -> AsyncIterator[Callable[[str, str], None]]:
    """``register(url, topic)``: clears these retained topics after the test (a persistent
    broker would otherwise keep them)."""
    registered: list[tuple[str, str]] = []
    yield lambda url, topic: registered.append((url, topic))
    by_url: dict[str, list[str]] = {}
    for url, topic in registered:
        by_url.setdefault(url, []).append(topic)
    for url, topics in by_url.items():
        host, port = url.removeprefix("mqtt://").rsplit(":", 1)
        try:
            async with aiomqtt.Client(host, int(port), timeout=2) as client:
                for topic in topics:
                    await client.publish(topic, b"", qos=1, retain=True)
        except aiomqtt.MqttError:
            pass  # the broker is gone (embedded, already stopped): nothing is retained


@pytest.fixture
def prefix(uid: str) -> str:
    """A topic prefix of this test's own: it never writes into another deployment's topics
    (nor sees another test's) on a shared broker."""
    return f"qcore-test/{uid}/qcore/v1"
