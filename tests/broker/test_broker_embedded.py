"""The embedded amqtt broker, in-process and as ``python -m broker``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

import aiomqtt
import pytest
from telemetry_helpers import free_port

from broker.config import probe_broker
from broker.embedded import EmbeddedBroker
from broker.errors import BrokerConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_binds_a_free_loopback_port_and_serves_mqtt() -> None:
    broker = EmbeddedBroker(port=0)
    with pytest.raises(RuntimeError):
        _ = broker.port
    async with broker:
        assert broker.running
        assert broker.port > 0
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
        # Plain aiomqtt clients: a retained message reaches a subscriber that arrives later,
        # a live one reaches a subscriber already there.
        async with aiomqtt.Client("127.0.0.1", broker.port) as publisher:
            await publisher.publish("qcore/v1/test/retained", b"kept", qos=1, retain=True)
            async with aiomqtt.Client("127.0.0.1", broker.port) as subscriber:
                await subscriber.subscribe("qcore/v1/test/#", qos=1)
                received = []
                async with asyncio.timeout(3):
                    async for message in subscriber.messages:
                        received.append((message.topic.value, message.payload, message.retain))
                        if len(received) == 1:
                            await publisher.publish("qcore/v1/test/live", b"now", qos=1)
                        else:
                            break
        assert received == [("qcore/v1/test/retained", b"kept", True),
                            ("qcore/v1/test/live", b"now", False)]
    assert not broker.running
    assert not await probe_broker("127.0.0.1", broker.port, timeout_s=0.3)


async def test_a_client_gets_retained_messages_of_its_own_subscriptions_only(
    embedded_broker: EmbeddedBroker, uid: str
) -> None:
    """amqtt 0.12 alone sends a connecting client the retained messages of every filter any
    client subscribed to; a publish-only connection then received messages it never asked for."""
    watched, other = f"{uid}/watched", f"{uid}/other"
    async with aiomqtt.Client("127.0.0.1", embedded_broker.port) as monitor:
        await monitor.subscribe(watched, qos=1)
        await monitor.publish(watched, b"W", qos=1, retain=True)
        await monitor.publish(other, b"O", qos=1, retain=True)
        async with aiomqtt.Client("127.0.0.1", embedded_broker.port) as client:
            await client.subscribe(other, qos=1)
            received = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    async for message in client.messages:
                        received.append(message.topic.value)
    assert received == [other]


async def test_a_port_in_use_is_a_config_error(embedded_broker: EmbeddedBroker) -> None:
    with pytest.raises(BrokerConfigError, match="choose another port"):
        await EmbeddedBroker(port=embedded_broker.port).start()
    with pytest.raises(BrokerConfigError):
        EmbeddedBroker(port=70000)


async def _run_module(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "broker", *args, "--anonymous", cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
async def test_module_prints_its_url_serves_and_stops_on_signal(
    stop_signal: signal.Signals,
) -> None:
    port = free_port()
    if stop_signal is signal.SIGTERM:  # port from the command line
        process = await _run_module("--port", str(port), env={"QCORE_MQTT_URL": ""})
    else:  # port from QCORE_MQTT_URL
        process = await _run_module(env={"QCORE_MQTT_URL": f"mqtt://127.0.0.1:{port}"})
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        assert line.decode().strip() == f"mqtt://127.0.0.1:{port}"
        assert await probe_broker("127.0.0.1", port, timeout_s=1.0)
        process.send_signal(stop_signal)
        assert await asyncio.wait_for(process.wait(), 5) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert not await probe_broker("127.0.0.1", port, timeout_s=0.3)


async def test_module_exits_1_when_the_port_is_taken(embedded_broker: EmbeddedBroker) -> None:
    process = await _run_module("--port", str(embedded_broker.port), env={})
    _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 1
    assert b"choose another port" in stderr
