"""Publishing telemetry without ever waiting on the broker.

A :class:`TelemetryPublisher` puts encoded messages into a bounded :class:`broker.outbox.Outbox`
and returns at once; a background task owns the MQTT connection (aiomqtt), drains the outbox,
and on any failure reconnects with capped exponential backoff and jitter, using a new
``aiomqtt.Client`` per attempt. A broker outage therefore costs telemetry (the oldest messages
once the outbox is full), never a caller's time.

Service presence follows the usual MQTT birth/death pattern: each connection registers a
retained Last Will ``ServiceStatus(state=OFFLINE)`` on the service's status topic and then
publishes a retained ``ONLINE`` status; :meth:`TelemetryPublisher.stop` publishes ``OFFLINE``
itself before disconnecting cleanly. If the process dies or the network drops, the broker
publishes the Last Will.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, runtime_checkable

import aiomqtt
from google.protobuf.message import Message
from qcore.v1 import telemetry_pb2

from broker.config import parse_mqtt_url
from broker.outbox import Outbox, OutgoingMessage
from broker.topics import SCHEMA, TopicKind, check_message, encode, service_status_topic

__all__ = [
    "OFFLINE_TIMEOUT_S",
    "PublisherStats",
    "Publisher",
    "TelemetryPublisher",
    "NullPublisher",
    "backoff_delay",
]

_LOG = logging.getLogger(__name__)
_STATUS_QOS = SCHEMA[TopicKind.SERVICE_STATUS].qos

#: Seconds :meth:`TelemetryPublisher.stop` waits for the OFFLINE status to be acknowledged.
OFFLINE_TIMEOUT_S = 0.5


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """A snapshot of a publisher's counters.

    Attributes:
        published: Messages handed to the broker (QoS 1: acknowledged), service status excluded.
        dropped: Messages discarded: outbox overflow, published after stop, or still queued
            when stop gave up on an unreachable broker.
        connect_failures: Connection attempts that failed.
        disconnects: Established connections that were lost.
        connections: Connections established.
        pending: Messages waiting in the outbox.
        connected: Whether a connection is up now.
    """

    published: int = 0
    dropped: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    connections: int = 0
    pending: int = 0
    connected: bool = False


def backoff_delay(failures: int, *, initial_s: float, max_s: float,
                  rng: random.Random | None = None) -> float:
    """Seconds to wait after ``failures`` consecutive failures (>= 1).

    Exponential backoff with "equal jitter": with ``d = min(max_s, initial_s * 2**(failures-1))``
    the delay is uniform in ``[d/2, d]`` (M. Brooker, "Exponential Backoff And Jitter", AWS
    Architecture Blog, 2015). Half the step is kept so a dead broker is never polled in a tight
    loop; the random half spreads reconnects of many services after a broker restart.
    """
    step = min(max_s, initial_s * 2.0 ** max(0, failures - 1))
    return step / 2 + (rng or random).uniform(0.0, step / 2)


@runtime_checkable
class Publisher(Protocol):
    """What services need from a telemetry publisher (real or :class:`NullPublisher`)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def publish(self, topic: str, message: Message, *, retain: bool | None = None) -> None: ...

    def publish_threadsafe(self, topic: str, message: Message, *,
                           retain: bool | None = None) -> None: ...

    @property
    def stats(self) -> PublisherStats: ...


class TelemetryPublisher:
    """Publishes telemetry for one service to an MQTT broker, reconnecting forever.

    Use ``async with TelemetryPublisher(url, client_id=..., service=...) as publisher:`` or
    :meth:`start` / :meth:`stop`. :meth:`publish` may be called before :meth:`start` (messages
    wait in the outbox).

    Args:
        url: Broker URL, ``mqtt://host[:port]``.
        client_id: MQTT client identifier, unique per broker (a second connection with the
            same id takes the first one over).
        service: Service name for the status topic ``qcore/v1/services/{service}/status``.
        will: Register the retained OFFLINE Last Will on each connection (default True).
        address: ``ServiceStatus.address`` (e.g. the service's gRPC address).
        version: ``ServiceStatus.version``.
        max_queued: Outbox capacity in messages; beyond it the oldest are dropped.
        backoff_initial_s: First reconnect delay step in seconds.
        backoff_max_s: Cap on the reconnect delay step in seconds.
        keepalive_s: MQTT keep-alive in seconds: the broker declares the connection dead (and
            sends the Last Will) after 1.5 times this without traffic.
        timeout_s: Per-operation timeout (connect, QoS 1 acknowledgement) in seconds.
    Raises:
        BrokerConfigError: ``url`` is malformed.
        InvalidTopicError: ``service`` is not a valid topic level.
        ValueError: ``max_queued < 1``.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        service: str,
        will: bool = True,
        address: str = "",
        version: str = "",
        max_queued: int = 10_000,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
        keepalive_s: int = 15,
        timeout_s: float = 5.0,
    ) -> None:
        self._address = parse_mqtt_url(url)
        self._client_id = client_id
        self._service = service
        self._status_topic = service_status_topic(service)
        self._will = will
        self._service_address = address
        self._version = version
        self._outbox = Outbox(max_queued)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._keepalive_s = keepalive_s
        self._timeout_s = timeout_s

        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._flush_deadline = float("inf")
        self._published = 0
        self._connect_failures = 0
        self._disconnects = 0
        self._connections = 0
        self._connected = False

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        return self._address.url

    @property
    def service(self) -> str:
        return self._service

    @property
    def stats(self) -> PublisherStats:
        """Current counters (see :class:`PublisherStats`)."""
        return PublisherStats(
            published=self._published,
            dropped=self._outbox.dropped,
            connect_failures=self._connect_failures,
            disconnects=self._disconnects,
            connections=self._connections,
            pending=len(self._outbox),
            connected=self._connected,
        )

    def publish(self, topic: str, message: Message, *, retain: bool | None = None) -> None:
        """Queues ``message`` for ``topic`` and returns immediately; never blocks, never waits
        for the broker.

        Safe from the event loop and from other threads (:meth:`publish_threadsafe` is the
        same call, named for call sites in worker threads).

        Args:
            topic: A topic of :mod:`broker.topics` (e.g. ``job_state_topic(job_id)``).
            message: The topic's message class.
            retain: MQTT retain flag; None (default) uses the schema's flag for the topic.
        Raises:
            InvalidTopicError: ``topic`` is not in the schema.
            InvalidPayloadError: ``message`` is not the topic's message class.
        """
        spec = SCHEMA[check_message(topic, message).kind]
        if self._closed:
            self._outbox.count_dropped()
            return
        self._outbox.put(OutgoingMessage(topic, encode(message), spec.qos,
                                         spec.retained if retain is None else retain))
        self._notify()

    def publish_threadsafe(self, topic: str, message: Message, *,
                           retain: bool | None = None) -> None:
        """:meth:`publish` for worker threads (executors, simulator threads)."""
        self.publish(topic, message, retain=retain)

    async def start(self) -> None:
        """Starts the background connection task. Returns at once, connected or not.

        Raises:
            RuntimeError: already started, or stopped.
        """
        if self._task is not None or self._closed:
            raise RuntimeError("TelemetryPublisher can be started once")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._task = asyncio.create_task(self._run(), name=f"telemetry-publisher-{self._service}")

    async def stop(self, *, timeout_s: float = 2.0) -> None:
        """Flushes the outbox, publishes the retained OFFLINE status and disconnects cleanly.

        Flushing gets half of ``timeout_s``; the whole stop takes at most ``timeout_s`` plus
        :data:`OFFLINE_TIMEOUT_S` for the OFFLINE status. Without a connection it returns as
        soon as the current connection attempt ends (at once for a refused connection).
        Messages not sent by then are counted as dropped. Idempotent.
        """
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            self._flush_deadline = asyncio.get_running_loop().time() + timeout_s / 2
            self._stopping.set()
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout_s)
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            except Exception:  # telemetry never raises into the service
                _LOG.warning("telemetry publisher ended with an error", exc_info=True)
        self._outbox.clear()

    async def __aenter__(self) -> TelemetryPublisher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        loop = self._loop
        if loop is None:
            return  # not started: the runner drains the outbox when it starts
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(self._wake.set)

    def _status(self, state: telemetry_pb2.ServiceState, *, timed: bool = True) -> bytes:
        status = telemetry_pb2.ServiceStatus(
            service=self._service, state=state, address=self._service_address,
            version=self._version,
        )
        if timed:
            status.time.FromDatetime(datetime.now(UTC))
        return encode(status)

    def _new_client(self) -> aiomqtt.Client:
        will = None
        if self._will:
            # The broker sends it at an unknown later time, so it carries no time.
            will = aiomqtt.Will(
                self._status_topic,
                self._status(telemetry_pb2.SERVICE_STATE_OFFLINE, timed=False),
                qos=_STATUS_QOS, retain=True,
            )
        return aiomqtt.Client(
            self._address.host, self._address.port, identifier=self._client_id, will=will,
            keepalive=self._keepalive_s, timeout=self._timeout_s, logger=_LOG,
        )

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            established = False
            try:
                async with self._new_client() as client:
                    established = True
                    self._connected = True
                    self._connections += 1
                    failures = 0
                    await client.publish(self._status_topic,
                                         self._status(telemetry_pb2.SERVICE_STATE_ONLINE),
                                         qos=_STATUS_QOS, retain=True)
                    try:
                        await self._drain(client)
                    finally:
                        if self._stopping.is_set():  # also when stop() cancels a slow flush
                            await self._announce_offline(client)
                    return
            except aiomqtt.MqttError as exc:
                _LOG.debug("telemetry broker %s: %s", self._address.url, exc)
            except Exception:  # a telemetry bug must not take the service down
                _LOG.warning("telemetry publisher failed; reconnecting", exc_info=True)
            finally:
                self._connected = False
            if established:
                self._disconnects += 1
            else:
                self._connect_failures += 1
            failures += 1
            delay = backoff_delay(failures, initial_s=self._backoff_initial_s,
                                  max_s=self._backoff_max_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _announce_offline(self, client: aiomqtt.Client) -> None:
        """Best effort: the retained OFFLINE status, within OFFLINE_TIMEOUT_S."""
        payload = self._status(telemetry_pb2.SERVICE_STATE_OFFLINE)
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            await asyncio.wait_for(
                client.publish(self._status_topic, payload, qos=_STATUS_QOS, retain=True),
                OFFLINE_TIMEOUT_S,
            )

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Publishes queued messages until stop; raises MqttError when the connection drops."""
        # With no subscriptions, the message iterator only ever ends by raising MqttError on
        # disconnection: a watch on the connection that needs no traffic.
        lost: asyncio.Future[aiomqtt.Message] = asyncio.ensure_future(anext(client.messages))
        try:
            loop = asyncio.get_running_loop()
            while True:
                if self._stopping.is_set() and loop.time() >= self._flush_deadline:
                    return  # stop() gave up on the rest; stop() counts it as dropped
                item = self._outbox.pop()
                if item is None:
                    if self._stopping.is_set():
                        return
                    self._wake.clear()
                    if len(self._outbox):
                        continue
                    wake = asyncio.ensure_future(self._wake.wait())
                    try:
                        await asyncio.wait((wake, lost), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        wake.cancel()
                    if lost.done():
                        _raise_lost(lost)
                    continue
                sent = asyncio.ensure_future(
                    client.publish(item.topic, item.payload, qos=item.qos, retain=item.retain)
                )
                try:
                    await asyncio.wait((sent, lost), return_when=asyncio.FIRST_COMPLETED)
                    if not sent.done():
                        _raise_lost(lost)
                    sent.result()
                except BaseException:
                    sent.cancel()
                    self._outbox.put_back(item)
                    raise
                self._published += 1
        finally:
            lost.cancel()
            await asyncio.gather(lost, return_exceptions=True)


def _raise_lost(lost: asyncio.Future[aiomqtt.Message]) -> None:
    """Raises the MqttError that ended the connection watch."""
    lost.result()  # raises MqttError on disconnection
    raise aiomqtt.MqttError("unexpected message on a publish-only connection")


class NullPublisher:
    """A publisher that validates like :class:`TelemetryPublisher` and discards everything.

    For tests and for services run with telemetry disabled.
    """

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    @property
    def stats(self) -> PublisherStats:
        return PublisherStats()

    def publish(self, topic: str, message: Message, *, retain: bool | None = None) -> None:
        """Checks ``topic`` and ``message`` (same errors as TelemetryPublisher) and discards."""
        check_message(topic, message)

    def publish_threadsafe(self, topic: str, message: Message, *,
                           retain: bool | None = None) -> None:
        self.publish(topic, message, retain=retain)

    async def __aenter__(self) -> NullPublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
