"""Broker address resolution: QCORE_MQTT_URL, probing a local broker, or none."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telemetry_helpers import free_port

from broker.config import BrokerAddress, parse_mqtt_url, probe_broker, resolve_broker_url
from broker.embedded import EmbeddedBroker
from broker.errors import BrokerConfigError


@pytest.mark.parametrize(("url", "host", "port", "normalised"), [
    ("mqtt://broker.lab:1884", "broker.lab", 1884, "mqtt://broker.lab:1884"),
    ("mqtt://10.0.0.7", "10.0.0.7", 1883, "mqtt://10.0.0.7:1883"),
    ("tcp://localhost:1/", "localhost", 1, "mqtt://localhost:1"),
    ("  mqtt://[::1]:2883 ", "::1", 2883, "mqtt://[::1]:2883"),
])
def test_parse_mqtt_url(url: str, host: str, port: int, normalised: str) -> None:
    address = parse_mqtt_url(url)
    assert address == BrokerAddress(host, port)
    assert address.url == normalised


@pytest.mark.parametrize(("url", "port"), [("mqtts://broker.example", 8883),
                                           ("mqtts://broker.example:9883", 9883)])
def test_parse_mqtts_url(url: str, port: int) -> None:
    address = parse_mqtt_url(url)
    assert address == BrokerAddress("broker.example", port, tls=True)
    assert address.url == f"mqtts://broker.example:{port}"


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(BrokerConfigError) as info:
        parse_mqtt_url("mqtt://qcore:s3cret@broker:1883")
    assert "s3cret" not in str(info.value)
    assert "QCORE_MQTT_USERNAME" in str(info.value)


@pytest.mark.parametrize("url", [
    "http://broker:1883", "mqtts://broker:0", "broker:1883", "mqtt://:1883",
    "mqtt://broker:99999", "mqtt://broker:0", "mqtt://broker:x", "mqtt://broker:1883/qcore",
])
def test_parse_mqtt_url_rejects_malformed_urls(url: str) -> None:
    with pytest.raises(BrokerConfigError) as info:
        parse_mqtt_url(url)
    assert repr(url.strip()) in str(info.value)


async def test_env_url_wins_without_probing() -> None:
    port = free_port()  # nothing listens: the configured URL is still used
    url = await resolve_broker_url(environ={"QCORE_MQTT_URL": f"mqtt://127.0.0.1:{port}"})
    assert url == f"mqtt://127.0.0.1:{port}"
    with pytest.raises(BrokerConfigError):
        await resolve_broker_url(environ={"QCORE_MQTT_URL": "localhost"})


async def test_resolves_a_local_broker_that_answers(embedded_broker: EmbeddedBroker) -> None:
    url = await resolve_broker_url(environ={"QCORE_MQTT_URL": " "}, port=embedded_broker.port)
    assert url == embedded_broker.url


async def test_resolves_none_when_nothing_listens() -> None:
    assert await resolve_broker_url(environ={}, port=free_port(), timeout_s=0.5) is None


async def test_probe_accepts_the_machine_broker(local_broker_available: bool) -> None:
    # Cross-check the probe with a plain TCP connect: whatever answers on 1883 here is MQTT.
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", 1883)
    except OSError:
        pytest.skip("nothing listens on 127.0.0.1:1883")
    writer.close()
    assert local_broker_available
    assert await resolve_broker_url(environ={}) == "mqtt://127.0.0.1:1883"


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1024)
    await asyncio.sleep(5)


async def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1024)
    writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    await writer.drain()
    writer.close()


async def _refusing_broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read(1024)
    writer.write(bytes([0x20, 0x02, 0x00, 0x05]))  # CONNACK: 5 = not authorised (MQTT 3.2.2.3)
    await writer.drain()
    await asyncio.sleep(1)


async def _accepting_broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    packet = await reader.read(1024)
    # A well-formed MQTT 3.1.1 CONNECT: type 1, protocol name "MQTT", level 4.
    assert packet[0] == 0x10 and packet[2:8] == b"\x00\x04MQTT" and packet[8] == 4
    writer.write(bytes([0x20, 0x02, 0x00, 0x00]))
    await writer.drain()
    await reader.read(1024)


@pytest.fixture
async def fake_server() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []
    connections: set[asyncio.Task[None]] = set()

    async def start(handler: Handler) -> int:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.add(asyncio.current_task())  # type: ignore[arg-type]
            try:
                await handler(reader, writer)
            finally:
                writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for task in connections:
        task.cancel()
    await asyncio.gather(*connections, return_exceptions=True)
    for server in servers:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(("handler", "expected"), [
    (_silent, False), (_http, False), (_refusing_broker, False), (_accepting_broker, True),
])
async def test_probe_needs_an_accepting_connack_within_the_timeout(
    fake_server: Callable[[Handler], Awaitable[int]], handler: Handler, expected: bool
) -> None:
    port = await fake_server(handler)
    start = time.perf_counter()
    assert await probe_broker("127.0.0.1", port, timeout_s=0.3) is expected
    assert time.perf_counter() - start < 1.0
