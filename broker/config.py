"""Where the telemetry broker is: ``QCORE_MQTT_URL``, else a local broker, else none.

Resolution order (:func:`resolve_broker_url`):

1. ``QCORE_MQTT_URL`` (``mqtt://host[:port]``, port 1883 by default) when set and non-empty:
   used as given, without probing, since publishers reconnect on their own;
2. ``mqtt://127.0.0.1:1883`` when an MQTT broker answers there: a TCP connect and an MQTT 3.1.1
   CONNECT acknowledged with return code 0, within a short timeout;
3. ``None``: no broker; the caller starts an :class:`broker.embedded.EmbeddedBroker`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from broker.errors import BrokerConfigError

__all__ = [
    "URL_ENV_VAR",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "BrokerAddress",
    "parse_mqtt_url",
    "probe_broker",
    "resolve_broker_url",
]

#: Environment variable naming the broker, e.g. ``mqtt://broker.example:1883``.
URL_ENV_VAR = "QCORE_MQTT_URL"
#: Where a local broker is looked for (IANA-registered MQTT port).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1883

_SCHEMES = ("mqtt", "tcp")
# MQTT 3.1.1 (OASIS standard), section 3.2.2.3: CONNACK is 0x20, remaining length 2.
_CONNACK_TYPE = 0x20
_DISCONNECT = b"\xe0\x00"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """A broker's TCP address."""

    host: str
    port: int

    @property
    def url(self) -> str:
        """``mqtt://host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parses ``mqtt://host[:port]`` (or ``tcp://``); the port defaults to 1883.

    Raises:
        BrokerConfigError: another scheme (TLS ``mqtts://`` is not supported), no host, a path,
            or a port outside ``[1, 65535]``.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES:
        raise BrokerConfigError(
            f"broker URL {url!r} must start with mqtt:// (e.g. mqtt://127.0.0.1:1883)"
        )
    try:
        port = parts.port
    except ValueError:
        raise BrokerConfigError(f"broker URL {url!r} has an invalid port") from None
    if not parts.hostname:
        raise BrokerConfigError(f"broker URL {url!r} has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise BrokerConfigError(f"broker URL {url!r} must be mqtt://host[:port] with no path")
    if port == 0:
        raise BrokerConfigError(f"broker URL {url!r}: port must be in [1, 65535]")
    return BrokerAddress(parts.hostname, DEFAULT_PORT if port is None else port)


def _connect_packet(client_id: str) -> bytes:
    """An MQTT 3.1.1 CONNECT packet, clean session, keep-alive 10 s (OASIS standard, 3.1)."""
    identifier = client_id.encode("utf-8")
    variable_header = b"\x00\x04MQTT" + bytes([4, 0x02]) + (10).to_bytes(2, "big")
    payload = len(identifier).to_bytes(2, "big") + identifier
    remaining = variable_header + payload
    assert len(remaining) < 128  # one-byte remaining-length encoding
    return bytes([0x10, len(remaining)]) + remaining


async def probe_broker(host: str, port: int, *, timeout_s: float = 0.5) -> bool:
    """Whether an MQTT broker accepts a connection at ``host:port`` within ``timeout_s``.

    Opens TCP, sends CONNECT, and expects a CONNACK with return code 0 ("connection accepted");
    then sends DISCONNECT and closes. A port that is closed, a server that speaks another
    protocol or stays silent, and a broker that refuses (e.g. needs credentials) all give False.
    Never raises for network errors.
    """

    async def attempt() -> bool:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(_connect_packet(f"qcore-probe-{secrets.token_hex(4)}"))
            await writer.drain()
            connack = await reader.readexactly(4)
            accepted = connack[0] == _CONNACK_TYPE and connack[1] == 2 and connack[3] == 0
            if accepted:
                writer.write(_DISCONNECT)
                await writer.drain()
            return accepted
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    try:
        return await asyncio.wait_for(attempt(), timeout_s)
    except (TimeoutError, OSError, asyncio.IncompleteReadError):
        return False


async def resolve_broker_url(
    *,
    environ: Mapping[str, str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    timeout_s: float = 0.5,
) -> str | None:
    """The broker URL to use, or None when an embedded broker must be started.

    Args:
        environ: Environment to read ``QCORE_MQTT_URL`` from; ``os.environ`` by default.
        host, port: Where a local broker is probed when the variable is unset.
        timeout_s: Probe timeout in seconds.
    Returns:
        A normalised ``mqtt://host:port`` URL, or None.
    Raises:
        BrokerConfigError: ``QCORE_MQTT_URL`` is set but malformed.
    """
    env = os.environ if environ is None else environ
    configured = env.get(URL_ENV_VAR, "").strip()
    if configured:
        return parse_mqtt_url(configured).url
    if await probe_broker(host, port, timeout_s=timeout_s):
        return BrokerAddress(host, port).url
    return None
