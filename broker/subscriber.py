"""Receiving telemetry: decoded proto messages from an MQTT subscription, and a collector.

``async for topic, message in subscribe(url): ...`` yields ``(topic, message)`` with ``message``
an instance of the topic's class in ``qcore.v1.telemetry_pb2``. Cleared retained topics (empty
payloads) and payloads that do not decode are skipped (the latter logged), so a monitor keeps
running whatever else is published under its topic prefix (``qcore/v1`` by default).

Unlike publishing, subscribing is explicit about the broker: a subscriber that cannot connect
or loses its connection raises :class:`broker.errors.BrokerUnavailableError`.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType

import aiomqtt
from google.protobuf.message import Message

from broker.config import client_options, parse_mqtt_url
from broker.credentials import MqttCredentials
from broker.errors import BrokerUnavailableError, InvalidPayloadError, InvalidTopicError
from broker.payloads import decode
from broker.topics import DEFAULT_PREFIX, TopicKind, all_topics, check_message, parse_topic

__all__ = ["TelemetrySubscriber", "subscribe", "TelemetryCollector"]

_LOG = logging.getLogger(__name__)


class TelemetrySubscriber:
    """An MQTT subscription yielding decoded telemetry; subscribed once ``__aenter__`` returns.

    ``async with TelemetrySubscriber(url, [wildcard(TopicKind.JOB_STATE)]) as sub:``
    ``    async for topic, message in sub: ...``

    Args:
        url: Broker URL, ``mqtt://host[:port]`` or ``mqtts://host[:port]``.
        topics: Topic filters (MQTT wildcards allowed) under ``prefix``; every topic under it
            (:func:`broker.topics.all_topics`) by default.
        prefix: The deployment's topic prefix, for decoding (``qcore/v1`` by default).
        client_id: MQTT client identifier; random ``qcore-monitor-...`` by default.
        qos: Maximum QoS of the subscription (0 or 1).
        timeout_s: Connect and subscribe timeout in seconds.
        credentials: The broker login; None: anonymous (see
            :func:`broker.credentials.resolve_credentials`).
        tls_ca: For an ``mqtts://`` URL, the PEM CA bundle of the broker's certificate (None:
            ``QCORE_MQTT_CA``, else ``QCORE_TLS_CA``, else the system's roots).
    Raises:
        BrokerConfigError: ``url`` is malformed.
        TlsConfigError: ``tls_ca`` cannot be read.
        BrokerUnavailableError: (on enter or while iterating) the broker cannot be reached or
            the connection dropped.
    """

    def __init__(
        self,
        url: str,
        topics: Iterable[str] | None = None,
        *,
        prefix: str = DEFAULT_PREFIX,
        client_id: str | None = None,
        qos: int = 1,
        timeout_s: float = 5.0,
        credentials: MqttCredentials | None = None,
        tls_ca: Path | str | None = None,
    ) -> None:
        self._address = parse_mqtt_url(url)
        self._prefix = prefix
        self._topics = (all_topics(prefix),) if topics is None else tuple(topics)
        if not self._topics:
            raise InvalidTopicError("subscribe to at least one topic filter")
        self._qos = qos
        self._client = aiomqtt.Client(
            self._address.host, self._address.port,
            identifier=client_id or f"qcore-monitor-{secrets.token_hex(6)}",
            timeout=timeout_s, logger=_LOG,
            **client_options(self._address, credentials=credentials, tls_ca=tls_ca),
        )

    async def __aenter__(self) -> TelemetrySubscriber:
        try:
            await self._client.__aenter__()
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailableError(
                f"cannot connect to the MQTT broker at {self._address.url}: {exc}"
            ) from exc
        try:
            for topic in self._topics:
                await self._client.subscribe(topic, qos=self._qos)
        except aiomqtt.MqttError as exc:
            await self._client.__aexit__(None, None, None)
            raise BrokerUnavailableError(f"cannot subscribe at {self._address.url}: {exc}") from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._client.__aexit__(exc_type, exc, tb)
        except aiomqtt.MqttError:
            _LOG.debug("disconnect from %s failed", self._address.url, exc_info=True)

    def __aiter__(self) -> AsyncIterator[tuple[str, Message]]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[tuple[str, Message]]:
        try:
            async for received in self._client.messages:
                topic = received.topic.value
                payload = received.payload
                if not payload:
                    continue  # a cleared retained topic
                try:
                    message = decode(topic, payload, prefix=self._prefix)
                except (InvalidTopicError, InvalidPayloadError) as exc:
                    _LOG.warning("skipping undecodable telemetry: %s", exc)
                    continue
                yield topic, message
        except aiomqtt.MqttError as exc:
            raise BrokerUnavailableError(
                f"lost the connection to the MQTT broker at {self._address.url}: {exc}"
            ) from exc


async def subscribe(
    url: str,
    topics: Iterable[str] | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    client_id: str | None = None,
    qos: int = 1,
    credentials: MqttCredentials | None = None,
    tls_ca: Path | str | None = None,
) -> AsyncGenerator[tuple[str, Message], None]:
    """Yields ``(topic, message)`` for telemetry on ``topics`` until the caller stops iterating.

    The subscription starts with the first ``__anext__``; retained state (service, QPU and
    calibration status) arrives first. Use :class:`TelemetrySubscriber` to know when the
    subscription is active before something is published. ``credentials`` and ``tls_ca`` as
    for :class:`TelemetrySubscriber`.

    Raises:
        BrokerUnavailableError: the broker cannot be reached or the connection dropped.
    """
    async with TelemetrySubscriber(url, topics, prefix=prefix, client_id=client_id, qos=qos,
                                   credentials=credentials, tls_ca=tls_ca) as subscriber:
        async for item in subscriber:
            yield item


class TelemetryCollector:
    """Counts received telemetry per kind and keeps the last message per topic.

    Feed it from :func:`subscribe`: ``collector.add(topic, message)``. Used by monitors to show
    the current state of services, QPUs, jobs, sessions and optimisations.

    Args:
        prefix: The topic prefix of the messages it is fed (``qcore/v1`` by default).
    """

    def __init__(self, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._prefix = prefix
        self._counts: Counter[TopicKind] = Counter()
        self._last: dict[str, Message] = {}

    def add(self, topic: str, message: Message) -> None:
        """Records one message.

        Raises:
            InvalidTopicError: ``topic`` is not in the schema.
            InvalidPayloadError: ``message`` is not the topic's message class.
        """
        parsed = check_message(topic, message, prefix=self._prefix)
        self._counts[parsed.kind] += 1
        self._last[topic] = message

    @property
    def total(self) -> int:
        """Messages recorded."""
        return sum(self._counts.values())

    @property
    def counts(self) -> Mapping[TopicKind, int]:
        """Messages recorded per kind (kinds never seen are absent)."""
        return MappingProxyType(self._counts)

    @property
    def last(self) -> Mapping[str, Message]:
        """The latest message per topic."""
        return MappingProxyType(self._last)

    def latest(self, kind: TopicKind) -> dict[str, Message]:
        """The latest message per id for one kind, e.g. every QPU's status by ``qpu_id``."""
        kind = TopicKind(kind)
        out: dict[str, Message] = {}
        for topic, message in self._last.items():
            parsed = parse_topic(topic, prefix=self._prefix)
            if parsed.kind is kind:
                out[parsed.topic_id] = message
        return out
