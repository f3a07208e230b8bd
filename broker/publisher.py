"""Publishing telemetry without ever waiting on the broker, through broker faults.

A :class:`TelemetryPublisher` returns at once from :meth:`~TelemetryPublisher.publish`: events
go into a bounded drop-oldest :class:`broker.outbox.Outbox`, retained states into a
:class:`broker.outbox.RetainedState` (the latest message per topic). A background task owns the
MQTT connection (aiomqtt, a new ``aiomqtt.Client`` per attempt) and sends retained states
first, then events, each QoS 1 message awaiting its acknowledgement for at most ``timeout_s``.

Broker faults:

* **restarted or killed broker**: the connection drops; the task reconnects with capped
  exponential backoff and jitter, then publishes *every* retained topic again (service status,
  every QPU's status and calibration), so an in-memory broker that lost them has them back;
* **hung broker** (a stopped process, a dead network): an unacknowledged publish or keep-alive
  ends the connection; connection attempts time out after ``timeout_s`` and back off, so a hang
  costs a few attempts a minute, never a storm. Backoff only starts over once a connection has
  stayed up for ``stable_after_s``, so a broker that accepts and drops connections at once is
  polled no faster than a dead one;
* events published meanwhile wait in the outbox (at most ``max_queued``; beyond that the oldest
  are dropped and counted in :attr:`PublisherStats.dropped`) and are delivered after the
  reconnect, oldest first.

Service presence follows the MQTT birth/death pattern: each connection registers a retained Last
Will ``ServiceStatus(state=OFFLINE, last_will=true)`` (its ``time`` is when the connection was
opened; the broker adds none) and publishes a retained ``ONLINE``; :meth:`TelemetryPublisher.stop`
publishes ``OFFLINE`` itself before disconnecting cleanly. Each attempt uses its own client id
(``{client_id}-{n}``): after a hang the broker may still accept attempts that were abandoned in
its listen queue, and their Last Wills would announce ``OFFLINE`` while the service is up, so the
publisher subscribes to its own status topic and publishes ``ONLINE`` again when it sees that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import aiomqtt
from google.protobuf.message import Message
from qcore.v1 import telemetry_pb2

from broker.config import client_options, parse_mqtt_url
from broker.credentials import MqttCredentials
from broker.errors import InvalidPayloadError
from broker.outbox import Outbox, OutgoingMessage, RetainedState
from broker.payloads import decode, encode
from broker.topics import (
    DEFAULT_PREFIX,
    SCHEMA,
    TopicKind,
    check_prefix,
    service_status_topic,
    spec_for,
    topic_for,
)

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
        published: Messages handed to the broker (QoS 1: acknowledged), events and retained
            states, the service's own status excluded.
        dropped: Events discarded: outbox overflow, published after stop, or still queued
            when stop gave up on an unreachable broker; and retained states of new topics
            refused beyond the retained-topic capacity. Never a message that was sent.
        connect_failures: Connection attempts that failed.
        disconnects: Established connections that were lost.
        connections: Connections established.
        pending: Events waiting in the outbox plus retained topics not yet sent in their
            latest state.
        connected: Whether a connection is up now.
        retained_topics: Retained topics the publisher holds the latest state of.
        republished: Retained states sent again after a reconnect.
        reasserted: Times ``ONLINE`` was published again because an ``OFFLINE`` (a stale Last
            Will) appeared on the service's status topic while it was connected.
    """

    published: int = 0
    dropped: int = 0
    connect_failures: int = 0
    disconnects: int = 0
    connections: int = 0
    pending: int = 0
    connected: bool = False
    retained_topics: int = 0
    republished: int = 0
    reasserted: int = 0


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

    def publish(self, message: Message) -> None: ...

    def publish_threadsafe(self, message: Message) -> None: ...

    @property
    def stats(self) -> PublisherStats: ...


class TelemetryPublisher:
    """Publishes telemetry for one service to an MQTT broker, reconnecting forever.

    Use ``async with TelemetryPublisher(url, client_id=..., service=...) as publisher:`` or
    :meth:`start` / :meth:`stop`. :meth:`publish` may be called before :meth:`start` (messages
    wait in the outbox).

    Args:
        url: Broker URL, ``mqtt://host[:port]``.
        client_id: MQTT client identifier stem, unique per broker; connection ``n`` uses
            ``{client_id}-{n}``.
        service: Service name for the status topic ``{prefix}/services/{service}/status``.
        prefix: Topic prefix of the deployment (:mod:`broker.topics`), ``qcore/v1`` by default.
        will: Register the retained OFFLINE Last Will on each connection (default True).
        address: ``ServiceStatus.address`` (e.g. the service's gRPC address).
        version: ``ServiceStatus.version``.
        max_queued: Outbox capacity in events; beyond it the oldest are dropped.
        max_retained_topics: Retained topics held; a new topic beyond it is dropped.
        backoff_initial_s: First reconnect delay step in seconds.
        backoff_max_s: Cap on the reconnect delay step in seconds.
        stable_after_s: A connection that lasted this long resets the backoff.
        keepalive_s: MQTT keep-alive in seconds: the broker declares the connection dead (and
            sends the Last Will) after 1.5 times this without traffic; the client declares a
            silent broker dead after about twice this.
        timeout_s: Per-operation timeout (connect, QoS 1 acknowledgement) in seconds.
        credentials: The broker login; None: anonymous (see
            :func:`broker.credentials.resolve_credentials`).
        tls_ca: For an ``mqtts://`` URL, the PEM CA bundle of the broker's certificate (None:
            ``QCORE_MQTT_CA``, else ``QCORE_TLS_CA``, else the system's roots).
    Raises:
        BrokerConfigError: ``url`` is malformed.
        TlsConfigError: ``tls_ca`` cannot be read.
        InvalidTopicError: ``service`` is not a valid topic level, or ``prefix`` is malformed.
        ValueError: ``max_queued < 1`` or ``max_retained_topics < 1``.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str,
        service: str,
        prefix: str = DEFAULT_PREFIX,
        will: bool = True,
        address: str = "",
        version: str = "",
        max_queued: int = 10_000,
        max_retained_topics: int = 10_000,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 15.0,
        stable_after_s: float = 10.0,
        keepalive_s: int = 10,
        timeout_s: float = 5.0,
        credentials: MqttCredentials | None = None,
        tls_ca: Path | str | None = None,
    ) -> None:
        self._address = parse_mqtt_url(url)
        # Built once: a bad CA file fails here, not in every connection attempt.
        self._client_options = client_options(self._address, credentials=credentials,
                                               tls_ca=tls_ca)
        self._client_id = client_id
        self._service = service
        self._prefix = check_prefix(prefix)
        self._status_topic = service_status_topic(service, prefix=prefix)
        self._will = will
        self._service_address = address
        self._version = version
        self._outbox = Outbox(max_queued)
        self._retained = RetainedState(max_retained_topics)
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._stable_after_s = stable_after_s
        self._keepalive_s = keepalive_s
        self._timeout_s = timeout_s

        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._flush_deadline = float("inf")
        self._attempts = 0
        self._published = 0
        self._connect_failures = 0
        self._disconnects = 0
        self._connections = 0
        self._republished = 0
        self._reasserted = 0
        self._reassert = False
        self._connected = False

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        return self._address.url

    @property
    def service(self) -> str:
        return self._service

    @property
    def prefix(self) -> str:
        """The topic prefix every message is published under."""
        return self._prefix

    @property
    def stats(self) -> PublisherStats:
        """Current counters (see :class:`PublisherStats`)."""
        return PublisherStats(
            published=self._published,
            dropped=self._outbox.dropped + self._retained.dropped,
            connect_failures=self._connect_failures,
            disconnects=self._disconnects,
            connections=self._connections,
            pending=len(self._outbox) + self._retained.pending,
            connected=self._connected,
            retained_topics=self._retained.topics,
            republished=self._republished,
            reasserted=self._reasserted,
        )

    def publish(self, message: Message) -> None:
        """Queues ``message`` on its topic (:func:`broker.topics.topic_for` under
        :attr:`prefix`) and returns immediately; never blocks, never waits for the broker.

        A message whose ``time`` is unset gets the current time (UTC). Retained topics keep
        only their latest state; events queue in order. Safe from the event loop and from
        other threads (:meth:`publish_threadsafe` is the same call, named for call sites in
        worker threads).

        Raises:
            InvalidPayloadError: ``message`` is not a telemetry message.
            InvalidTopicError: its id fields are not valid topic levels.
        """
        spec = spec_for(message)
        topic = topic_for(message, prefix=self._prefix)
        if self._closed:
            self._outbox.count_dropped()
            return
        if not message.HasField("time"):
            stamped = type(message)()
            stamped.CopyFrom(message)
            stamped.time.FromDatetime(datetime.now(UTC))
            message = stamped
        item = OutgoingMessage(topic, encode(message), spec.qos, spec.retained)
        if spec.retained:
            self._retained.put(item)
        else:
            self._outbox.put(item)
        self._notify()

    def publish_threadsafe(self, message: Message) -> None:
        """:meth:`publish` for worker threads (executors, simulator threads)."""
        self.publish(message)

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
        """Flushes what is queued, publishes the retained OFFLINE status and disconnects.

        Flushing gets half of ``timeout_s``; the whole stop takes at most ``timeout_s`` plus
        :data:`OFFLINE_TIMEOUT_S` for the OFFLINE status. Without a connection it returns as
        soon as the current connection attempt ends (at once for a refused connection).
        Events not sent by then are counted as dropped. Idempotent.
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

    def _status(self, state: telemetry_pb2.ServiceState, *, last_will: bool = False) -> bytes:
        status = telemetry_pb2.ServiceStatus(
            service=self._service, state=state, address=self._service_address,
            version=self._version, last_will=last_will,
        )
        status.time.FromDatetime(datetime.now(UTC))
        return encode(status)

    def _new_client(self) -> aiomqtt.Client:
        self._attempts += 1
        will = None
        if self._will:
            # Its time is the connection's opening: the broker sends it later, adding no time.
            will = aiomqtt.Will(
                self._status_topic,
                self._status(telemetry_pb2.SERVICE_STATE_OFFLINE, last_will=True),
                qos=_STATUS_QOS, retain=True,
            )
        return aiomqtt.Client(
            self._address.host, self._address.port,
            identifier=f"{self._client_id}-{self._attempts}", will=will,
            keepalive=self._keepalive_s, timeout=self._timeout_s, logger=_LOG,
            **self._client_options,
        )

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while not self._stopping.is_set():
            opened: float | None = None
            try:
                async with self._new_client() as client:
                    opened = loop.time()
                    self._connected = True
                    self._connections += 1
                    await client.subscribe(self._status_topic, qos=_STATUS_QOS)
                    await client.publish(self._status_topic,
                                         self._status(telemetry_pb2.SERVICE_STATE_ONLINE),
                                         qos=_STATUS_QOS, retain=True)
                    again = self._retained.mark_all_dirty()
                    if self._connections > 1:
                        self._republished += again
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
            if opened is None:
                self._connect_failures += 1
                failures += 1
            else:
                self._disconnects += 1
                stable = loop.time() - opened >= self._stable_after_s
                failures = 1 if stable else failures + 1
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

    async def _watch(self, client: aiomqtt.Client) -> None:
        """Reads the service's own status topic until the connection drops (then raises
        MqttError): an OFFLINE seen while running is a stale Last Will, answered with ONLINE."""
        async for received in client.messages:
            if self._stopping.is_set() or not received.payload:
                continue
            try:
                status = decode(received.topic.value, received.payload, prefix=self._prefix)
            except InvalidPayloadError:
                continue
            if isinstance(status, telemetry_pb2.ServiceStatus) \
                    and status.state == telemetry_pb2.SERVICE_STATE_OFFLINE:
                self._reassert = True
                self._wake.set()
        raise aiomqtt.MqttError("message iteration ended")

    def _next(self) -> OutgoingMessage | None:
        return self._retained.pop() or self._outbox.pop()

    def _put_back(self, item: OutgoingMessage) -> None:
        if item.retain:
            self._retained.put_back(item)
        else:
            self._outbox.put_back(item)

    async def _drain(self, client: aiomqtt.Client) -> None:
        """Publishes retained states, then events, until stop; raises MqttError when the
        connection drops or an acknowledgement times out."""
        watch = asyncio.ensure_future(self._watch(client))
        try:
            loop = asyncio.get_running_loop()
            while True:
                if self._stopping.is_set() and loop.time() >= self._flush_deadline:
                    return  # stop() gave up on the rest; stop() counts it as dropped
                if self._reassert and not self._stopping.is_set():
                    self._reassert = False
                    self._reasserted += 1
                    await _racing(watch, client.publish(
                        self._status_topic, self._status(telemetry_pb2.SERVICE_STATE_ONLINE),
                        qos=_STATUS_QOS, retain=True))
                    continue
                item = self._next()
                if item is None:
                    if self._stopping.is_set():
                        return
                    self._wake.clear()
                    if len(self._outbox) or self._retained.pending or self._reassert:
                        continue
                    wake = asyncio.ensure_future(self._wake.wait())
                    try:
                        await asyncio.wait((wake, watch), return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        wake.cancel()
                    if watch.done():
                        watch.result()  # raises MqttError
                    continue
                try:
                    await _racing(watch, client.publish(item.topic, item.payload, qos=item.qos,
                                                        retain=item.retain))
                except BaseException:
                    self._put_back(item)
                    raise
                self._published += 1
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)


async def _racing(watch: asyncio.Future[None], operation: Coroutine[Any, Any, None]) -> None:
    """Awaits ``operation`` unless the connection watch ends first (then raises its
    MqttError)."""
    sent = asyncio.ensure_future(operation)
    try:
        await asyncio.wait((sent, watch), return_when=asyncio.FIRST_COMPLETED)
        if not sent.done():
            watch.result()  # raises MqttError
            raise aiomqtt.MqttError("connection watch ended")
        sent.result()
    finally:
        if not sent.done():
            sent.cancel()
            await asyncio.gather(sent, return_exceptions=True)


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

    def publish(self, message: Message) -> None:
        """Checks ``message`` (same errors as TelemetryPublisher) and discards it."""
        topic_for(message)

    def publish_threadsafe(self, message: Message) -> None:
        self.publish(message)

    async def __aenter__(self) -> NullPublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None
