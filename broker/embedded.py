"""An embedded MQTT broker (amqtt) for machines without one.

On a fresh machine qcore starts this broker in-process (or as ``python -m broker``) when
:func:`broker.config.resolve_broker_url` finds none. It binds a loopback port, supports retained
messages and Last Will, and keeps everything in memory: retained messages are lost when it
stops. Given credentials (as every broker qcore starts for a service is: see
:mod:`broker.credentials`) it admits only clients that log in with them and refuses anonymous
ones (CONNACK "not authorized"); given a certificate and key it serves MQTT over TLS
(``mqtts://``) instead of plaintext.

Production uses Mosquitto instead, configured by ``broker/production/mosquitto.conf``
(logins, ACLs, TLS; ``broker/mosquitto.conf`` is the loopback development setting), and points
services at it with ``QCORE_MQTT_URL``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from amqtt.broker import Broker
from amqtt.errors import BrokerError
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

from broker.config import BrokerAddress
from broker.credentials import MqttCredentials
from broker.errors import BrokerConfigError
from broker.tls import read_pem

__all__ = ["EmbeddedBroker", "CredentialsAuthPlugin", "amqtt_config"]

_LISTENER = "default"


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


class CredentialsAuthPlugin(BaseAuthPlugin):
    """amqtt authentication admitting one username with one password, nobody else.

    The password is compared by its SHA-256 digest in constant time
    (:func:`hmac.compare_digest`); a client without a username is refused.
    """

    @dataclass
    class Config:
        """The login admitted: its username and the SHA-256 hex digest of its password."""

        username: str = ""
        password_sha256: str = ""

    async def authenticate(self, *, session: Session) -> bool:
        username = self._get_config_option("username", "")
        expected = self._get_config_option("password_sha256", "")
        if not username or not expected or session is None or not session.username:
            return False
        given = _digest(session.password or "")
        return hmac.compare_digest(session.username.encode("utf-8"),
                                   username.encode("utf-8")) and hmac.compare_digest(
            given, expected)


def amqtt_config(host: str, port: int, *, credentials: MqttCredentials | None = None,
                 tls_cert: Path | str | None = None, tls_key: Path | str | None = None
                 ) -> dict[str, Any]:
    """The amqtt 0.11/0.12 broker configuration: one TCP listener (TLS with ``tls_cert`` and
    ``tls_key``), and anonymous access, or with ``credentials`` only their login.

    See amqtt's ``BrokerConfig`` (``listeners`` mapping with a required ``default`` entry of
    ``type`` and ``bind``, and ``ssl``/``certfile``/``keyfile`` for TLS; ``plugins`` keyed by
    dotted class path). Plugins not listed are off: no ``$SYS`` topics, no packet logging.
    """
    bind_host = f"[{host}]" if ":" in host else host
    listener: dict[str, Any] = {"type": "tcp", "bind": f"{bind_host}:{port}"}
    if tls_cert is not None and tls_key is not None:
        listener.update(ssl=True, certfile=str(tls_cert), keyfile=str(tls_key))
    if credentials is None:
        plugins: dict[str, Any] = {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
    else:
        plugins = {f"{__name__}.{CredentialsAuthPlugin.__name__}": {
            "username": credentials.username,
            "password_sha256": _digest(credentials.password)}}
    return {"listeners": {_LISTENER: listener}, "plugins": plugins}


class _Broker(Broker):
    """amqtt's broker, sending a client retained messages for its own subscriptions only.

    amqtt 0.12 sends every client that connects the retained messages of *every* topic filter
    any client has subscribed to (``Broker._client_connected`` loops over all subscriptions of
    the broker). With one monitor subscribed to ``qcore/v1/#``, each new connection then
    receives every retained message it never asked for, and a publisher that took an incoming
    message on its connection for a fault reconnected in a loop. MQTT 3.1.1 section 3.3.1.3
    sends retained messages only "as a result of a new subscription being made by a Client".
    """

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], ())
        if any(other.client_id == session.client_id for other, _ in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class EmbeddedBroker:
    """An amqtt broker listening on ``host:port`` in the running event loop.

    ``async with EmbeddedBroker(port=0) as b: ... b.url`` binds a free port.

    Args:
        host: Interface to bind; loopback by default, so nothing outside the machine connects.
        port: TCP port; 0 picks a free one (read it back from :attr:`port`).
        credentials: The only login admitted; None: anonymous clients are admitted (tests
            and a development broker only: every broker qcore starts for a service has them).
        tls_cert, tls_key: PEM certificate chain and key: the listener speaks MQTT over TLS.
    Raises:
        BrokerConfigError: (from :meth:`start`) the port is in use or cannot be bound; only
            one of ``tls_cert`` and ``tls_key``.
        TlsConfigError: a TLS file cannot be read or is not PEM.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 credentials: MqttCredentials | None = None,
                 tls_cert: Path | str | None = None, tls_key: Path | str | None = None
                 ) -> None:
        if not 0 <= port <= 65535:
            raise BrokerConfigError(f"port must be in [0, 65535], got {port}")
        if (tls_cert is None) != (tls_key is None):
            raise BrokerConfigError("a TLS listener needs both a certificate and its key")
        if tls_cert is not None and tls_key is not None:
            read_pem(tls_cert, "broker certificate")
            read_pem(tls_key, "broker private key")
        self._credentials = credentials
        self._tls_cert = tls_cert
        self._tls_key = tls_key
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._broker: Broker | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        """The bound port. Raises RuntimeError before :meth:`start`."""
        if self._port is None:
            raise RuntimeError("EmbeddedBroker is not started")
        return self._port

    @property
    def url(self) -> str:
        """``mqtt://host:port`` (``mqtts://`` with TLS) of the running broker."""
        return BrokerAddress(self._host, self.port, self._tls_cert is not None).url

    @property
    def credentials(self) -> MqttCredentials | None:
        """The login it admits (None: anonymous clients)."""
        return self._credentials

    @property
    def running(self) -> bool:
        return self._broker is not None

    async def start(self) -> str:
        """Binds the listener and starts serving; returns :attr:`url`."""
        if self._broker is not None:
            raise RuntimeError("EmbeddedBroker is already started")
        # amqtt logs every connection at INFO; keep it quiet unless asked for.
        logging.getLogger("amqtt").setLevel(logging.WARNING)
        broker = _Broker(amqtt_config(self._host, self._requested_port,
                                      credentials=self._credentials, tls_cert=self._tls_cert,
                                      tls_key=self._tls_key))
        try:
            await broker.start()
        except BrokerError as exc:
            raise BrokerConfigError(
                f"cannot start the embedded MQTT broker on {self._host}:{self._requested_port}: "
                f"{exc.__cause__ or exc}; choose another port (0 picks a free one)"
            ) from exc
        server = broker._servers[_LISTENER].instance  # amqtt exposes no public bound address
        sockets: list[socket.socket] = list(getattr(server, "sockets", ()))
        self._port = sockets[0].getsockname()[1] if sockets else self._requested_port
        self._broker = broker
        return self.url

    async def stop(self) -> None:
        """Disconnects every client and closes the listener. Idempotent."""
        broker, self._broker = self._broker, None
        if broker is not None:
            await broker.shutdown()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
