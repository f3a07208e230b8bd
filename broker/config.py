"""Where the telemetry broker is: ``QCORE_MQTT_URL``, else a local broker, else none.

Resolution order (:func:`resolve_broker_url`):

1. ``QCORE_MQTT_URL`` (``mqtt://host[:port]``, port 1883 by default, or ``mqtts://host[:port]``
   for MQTT over TLS, port 8883 by default) when set and non-empty: used as given, without
   probing, since publishers reconnect on their own;
2. ``mqtt://127.0.0.1:1883`` when an MQTT broker accepts a client connection there (CONNACK
   return code 0) within a short timeout;
3. ``None``: no broker; the caller starts an :class:`broker.embedded.EmbeddedBroker`.

The probe of step 2 logs in with the credentials it is given (those of an embedded broker
another service started, :mod:`broker.credentials`). An ``mqtts://`` connection verifies the
broker's certificate against ``QCORE_MQTT_CA``, else ``QCORE_TLS_CA``, else the system's roots
(:func:`client_options`); credentials never go in the URL (``QCORE_MQTT_USERNAME`` /
``QCORE_MQTT_PASSWORD`` or a credentials file).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from broker.credentials import MqttCredentials
from broker.errors import BrokerConfigError
from broker.tls import mqtt_ssl_context

__all__ = [
    "URL_ENV_VAR",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_TLS_PORT",
    "MQTT_CA_ENV",
    "BrokerAddress",
    "parse_mqtt_url",
    "client_options",
    "probe_broker",
    "resolve_broker_url",
]

#: Environment variable naming the broker, e.g. ``mqtt://broker.example:1883``.
URL_ENV_VAR = "QCORE_MQTT_URL"
#: Where a local broker is looked for (IANA-registered MQTT port).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1883
#: Port of MQTT over TLS (IANA ``secure-mqtt``).
DEFAULT_TLS_PORT = 8883
#: PEM CA bundle an ``mqtts://`` broker's certificate must chain to (else ``QCORE_TLS_CA``).
MQTT_CA_ENV = "QCORE_MQTT_CA"
_CA_FALLBACK_ENV = "QCORE_TLS_CA"

_SCHEMES = ("mqtt", "tcp")
_TLS_SCHEMES = ("mqtts",)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """A broker's TCP address, and whether it speaks MQTT over TLS."""

    host: str
    port: int
    tls: bool = False

    @property
    def url(self) -> str:
        """``mqtt://host:port`` or ``mqtts://host:port`` (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


def parse_mqtt_url(url: str) -> BrokerAddress:
    """Parses ``mqtt://host[:port]`` (or ``tcp://``; port 1883 by default) and
    ``mqtts://host[:port]`` (MQTT over TLS; port 8883 by default).

    Raises:
        BrokerConfigError: another scheme, credentials in the URL, no host, a path, or a port
            outside ``[1, 65535]``.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in _SCHEMES + _TLS_SCHEMES:
        raise BrokerConfigError(
            f"broker URL {url!r} must start with mqtt:// or mqtts:// (e.g. "
            "mqtt://127.0.0.1:1883, mqtts://broker.example:8883)"
        )
    if parts.username is not None or parts.password is not None:
        raise BrokerConfigError(
            f"broker URL of {parts.hostname!r} carries credentials: set QCORE_MQTT_USERNAME "
            "and QCORE_MQTT_PASSWORD (or QCORE_MQTT_CREDENTIALS) instead"
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
    tls = parts.scheme in _TLS_SCHEMES
    default = DEFAULT_TLS_PORT if tls else DEFAULT_PORT
    return BrokerAddress(parts.hostname, default if port is None else port, tls)


def client_options(address: BrokerAddress, *, credentials: MqttCredentials | None = None,
                   tls_ca: Path | str | None = None,
                   environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Keyword arguments of ``aiomqtt.Client`` for ``address``: the login, and for an
    ``mqtts://`` address a TLS context verifying the broker's certificate (and host name)
    against ``tls_ca``, else ``QCORE_MQTT_CA``, else ``QCORE_TLS_CA``, else the system's roots.

    Raises:
        TlsConfigError: the CA bundle cannot be read.
    """
    options: dict[str, Any] = {}
    if credentials is not None:
        options["username"] = credentials.username
        options["password"] = credentials.password
    if address.tls:
        env = os.environ if environ is None else environ
        ca = tls_ca or env.get(MQTT_CA_ENV, "").strip() or env.get(_CA_FALLBACK_ENV, "").strip()
        options["tls_context"] = mqtt_ssl_context(ca=ca or None)
    return options


async def probe_broker(host: str, port: int, *, timeout_s: float = 0.5,
                       credentials: MqttCredentials | None = None) -> bool:
    """Whether a plaintext MQTT broker accepts a connection at ``host:port`` within
    ``timeout_s``.

    Connects an ``aiomqtt`` client (MQTT 3.1.1, clean session, logging in with
    ``credentials`` when given), which succeeds only on a CONNACK with return code 0
    ("connection accepted", OASIS MQTT 3.1.1 section 3.2.2.3), then disconnects. A port that
    is closed, a server that speaks another protocol or stays silent, and a broker that
    refuses (e.g. needs other credentials) all give False. Never raises for network errors.
    """
    client = aiomqtt.Client(
        host, port, identifier=f"qcore-probe-{secrets.token_hex(4)}",
        protocol=aiomqtt.ProtocolVersion.V311, timeout=timeout_s, keepalive=10,
        **client_options(BrokerAddress(host, port), credentials=credentials))
    try:
        async with asyncio.timeout(timeout_s):
            async with client:
                return True
    except (TimeoutError, OSError, aiomqtt.MqttError):
        return False


async def resolve_broker_url(
    *,
    environ: Mapping[str, str] | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    timeout_s: float = 0.5,
    credentials: MqttCredentials | None = None,
) -> str | None:
    """The broker URL to use, or None when an embedded broker must be started.

    Args:
        environ: Environment to read ``QCORE_MQTT_URL`` from; ``os.environ`` by default.
        host, port: Where a local broker is probed when the variable is unset.
        timeout_s: Probe timeout in seconds.
        credentials: The login of the probe (None: anonymous).
    Returns:
        A normalised ``mqtt://host:port`` or ``mqtts://host:port`` URL, or None.
    Raises:
        BrokerConfigError: ``QCORE_MQTT_URL`` is set but malformed.
    """
    env = os.environ if environ is None else environ
    configured = env.get(URL_ENV_VAR, "").strip()
    if configured:
        return parse_mqtt_url(configured).url
    if await probe_broker(host, port, timeout_s=timeout_s, credentials=credentials):
        return BrokerAddress(host, port).url
    return None
