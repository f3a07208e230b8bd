"""TelemetryPublisher against real brokers: delivery, retained state, Last Will, outages.

Every test publishes under a topic prefix of its own (the ``prefix`` fixture), so on the
machine's shared broker it never writes into another deployment's topics."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from qcore.v1 import common_pb2, telemetry_pb2
from telemetry_helpers import eventually, free_port, next_matching

from broker.embedded import EmbeddedBroker
from broker.errors import InvalidPayloadError, InvalidTopicError
from broker.publisher import (
    OFFLINE_TIMEOUT_S,
    NullPublisher,
    Publisher,
    PublisherStats,
    TelemetryPublisher,
    backoff_delay,
)
from broker.subscriber import TelemetrySubscriber
from broker.topics import (
    TopicKind,
    job_state_topic,
    qpu_status_topic,
    service_status_topic,
    session_progress_topic,
    wildcard,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
ONLINE = telemetry_pb2.SERVICE_STATE_ONLINE
OFFLINE = telemetry_pb2.SERVICE_STATE_OFFLINE

Register = Callable[[str, str], None]


async def _retained(subscriber: TelemetrySubscriber, topics: int) -> dict[str, object]:
    """The latest message of the first ``topics`` distinct topics received (amqtt may send a
    retained message twice)."""
    received: dict[str, object] = {}
    while len(received) < topics:
        topic, message = await next_matching(subscriber)
        received[topic] = message
    return received


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.GetCurrentTime()
    return stamp


def _job(
    job_id: str, state: common_pb2.JobState = common_pb2.JOB_STATE_RUNNING
) -> telemetry_pb2.JobStateEvent:
    return telemetry_pb2.JobStateEvent(job_id=job_id, state=state, qpu_id="sc-5q")


def _fast(url: str, uid: str, prefix: str, **options: object) -> TelemetryPublisher:
    """A publisher with test-sized timings under ``prefix``."""
    return TelemetryPublisher(url, client_id=f"pub-{uid}", service=uid, prefix=prefix,
                              backoff_initial_s=0.05, backoff_max_s=0.2, timeout_s=2.0,
                              **options)  # type: ignore[arg-type]


async def test_published_messages_reach_a_subscriber_decoded(
    broker_url: str, uid: str, prefix: str, retained_cleanup: Register
) -> None:
    retained_cleanup(broker_url, service_status_topic(uid, prefix=prefix))
    async with TelemetrySubscriber(broker_url, prefix=prefix) as subscriber:
        async with _fast(broker_url, uid, prefix, address="127.0.0.1:50051",
                         version="0.1.0") as pub:
            topic, status = await next_matching(subscriber)
            assert topic == service_status_topic(uid, prefix=prefix)
            assert (status.service, status.state, status.address, status.version) == (
                uid, ONLINE, "127.0.0.1:50051", "0.1.0")
            assert abs(status.time.ToDatetime().timestamp() - time.time()) < 60

            job = _job(uid, common_pb2.JOB_STATE_FAILED)
            job.error_message = "readout timeout"
            pub.publish(job)
            progress = telemetry_pb2.SessionProgressEvent(session_id=uid, event="evaluate",
                                                          evaluation_count=3,
                                                          expectation_value=-1.137)
            pub.publish(progress)
            # publish() stamps the time of messages that have none.
            topic, received = await next_matching(subscriber)
            assert topic == job_state_topic(uid, prefix=prefix)
            assert received.HasField("time")
            received.ClearField("time")
            assert received == job
            topic, received = await next_matching(subscriber)
            assert topic == session_progress_topic(uid, prefix=prefix)
            assert abs(received.time.ToDatetime().timestamp() - time.time()) < 60
            received.ClearField("time")
            assert received == progress
            assert pub.stats.published == 2
            assert pub.stats.connected
        # stop() announces OFFLINE itself (not as the Last Will).
        topic, status = await next_matching(subscriber)
        assert (topic, status.state) == (service_status_topic(uid, prefix=prefix), OFFLINE)
        assert status.HasField("time") and not status.last_will
    assert pub.stats == PublisherStats(published=2, connections=1)


async def test_retained_state_reaches_a_late_subscriber(
    broker_url: str, uid: str, prefix: str, retained_cleanup: Register
) -> None:
    retained_cleanup(broker_url, service_status_topic(uid, prefix=prefix))
    retained_cleanup(broker_url, qpu_status_topic(uid, prefix=prefix))
    qpu = telemetry_pb2.QpuStatusEvent(qpu_id=uid, status=common_pb2.QPU_STATUS_CALIBRATING,
                                       queue_length=4, time=_now())
    async with _fast(broker_url, uid, prefix) as pub:
        pub.publish(_job(uid))        # not retained
        pub.publish(qpu)             # retained by the schema
        await eventually(lambda: pub.stats.published == 2)
    assert pub.stats.dropped == 0

    async with TelemetrySubscriber(broker_url, prefix=prefix) as subscriber:
        received = await _retained(subscriber, 2)
        assert received[qpu_status_topic(uid, prefix=prefix)] == qpu
        assert received[service_status_topic(uid, prefix=prefix)].state == OFFLINE
        with pytest.raises(TimeoutError):  # the job event was not retained
            await next_matching(subscriber, timeout_s=0.3)


async def test_retained_topics_keep_only_their_latest_state_while_disconnected(
    uid: str, prefix: str
) -> None:
    port = free_port()
    publisher = _fast(f"mqtt://127.0.0.1:{port}", uid, prefix)
    for queue_length in range(1000):  # never sent: each state replaces the previous one
        publisher.publish(telemetry_pb2.QpuStatusEvent(qpu_id=uid, queue_length=queue_length))
    assert (publisher.stats.pending, publisher.stats.retained_topics) == (1, 1)
    async with EmbeddedBroker(port=port) as broker, publisher:
        await eventually(lambda: publisher.stats.pending == 0)
        async with TelemetrySubscriber(broker.url, [qpu_status_topic(uid, prefix=prefix)],
                                       prefix=prefix) as subscriber:
            _, status = await next_matching(subscriber)
    assert status.queue_length == 999
    assert (publisher.stats.published, publisher.stats.dropped) == (1, 0)


_PUBLISHER_PROCESS = """
import asyncio, sys
from broker.publisher import TelemetryPublisher

async def main() -> None:
    publisher = TelemetryPublisher(sys.argv[1], client_id=sys.argv[2], service=sys.argv[3],
                                   prefix=sys.argv[4])
    await publisher.start()
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_last_will_announces_offline_when_the_process_dies(
    broker_url: str, uid: str, prefix: str, retained_cleanup: Register
) -> None:
    status_topic = service_status_topic(uid, prefix=prefix)
    retained_cleanup(broker_url, status_topic)
    async with TelemetrySubscriber(broker_url, [status_topic], prefix=prefix) as subscriber:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PUBLISHER_PROCESS, broker_url, f"pub-{uid}", uid, prefix,
            cwd=REPO_ROOT, env=os.environ.copy(),
        )
        try:
            _, online = await next_matching(subscriber, timeout_s=10)
            assert online.state == ONLINE
            process.send_signal(signal.SIGKILL)  # no DISCONNECT packet: the socket just closes
            await process.wait()
            _, will = await next_matching(subscriber, timeout_s=5)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert (will.service, will.state, will.last_will) == (uid, OFFLINE, True)
    # Its time is when the lost connection was opened: at or after ONLINE's, in the past.
    assert online.time.ToDatetime() <= will.time.ToDatetime() + timedelta(seconds=1)
    assert will.time.ToDatetime().timestamp() <= time.time()

    # The Last Will is retained: a monitor connecting now still sees the service offline.
    async with TelemetrySubscriber(broker_url, [status_topic], prefix=prefix) as late:
        _, status = await next_matching(late)
        assert status.state == OFFLINE


async def test_broker_outage_never_blocks_and_delivers_once_a_broker_starts(
    uid: str, prefix: str
) -> None:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    publisher = _fast(url, uid, prefix)
    await publisher.start()
    try:
        qpu = telemetry_pb2.QpuStatusEvent(qpu_id=uid, status=common_pb2.QPU_STATUS_ONLINE,
                                           time=_now())
        slowest = 0.0
        for i in range(500):
            start = time.perf_counter()
            publisher.publish(_job(f"{uid}-{i}"))
            slowest = max(slowest, time.perf_counter() - start)
        publisher.publish(qpu)
        assert slowest < 0.5  # waiting on the broker would cost its 2 s timeout
        await eventually(lambda: publisher.stats.connect_failures >= 3)
        stats = publisher.stats
        assert (stats.connected, stats.published, stats.pending, stats.dropped) == (
            False, 0, 501, 0)

        async with EmbeddedBroker(port=port):
            await eventually(lambda: publisher.stats.published == 501, timeout_s=5)
            async with TelemetrySubscriber(url, [f"{prefix}/+/{uid}/#"],
                                           prefix=prefix) as subscriber:
                received = await _retained(subscriber, 2)
            assert received[qpu_status_topic(uid, prefix=prefix)] == qpu
            assert received[service_status_topic(uid, prefix=prefix)].state == ONLINE
            assert publisher.stats.connections == 1
    finally:
        await publisher.stop()


async def test_reconnects_after_a_broker_restart(uid: str, prefix: str) -> None:
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    async with EmbeddedBroker(port=port):
        publisher = _fast(url, uid, prefix)
        await publisher.start()
        await eventually(lambda: publisher.stats.connected)
    # The broker went away while the publisher was idle: it notices without publishing.
    await eventually(lambda: publisher.stats.disconnects == 1)
    publisher.publish(_job(uid))  # queued during the outage
    try:
        async with EmbeddedBroker(port=port):
            await eventually(lambda: publisher.stats.connections == 2, timeout_s=5)
            async with TelemetrySubscriber(url, [service_status_topic(uid, prefix=prefix)],
                                           prefix=prefix) as subscriber:
                _, status = await next_matching(subscriber)  # ONLINE again, retained anew
                assert status.state == ONLINE
            await eventually(lambda: publisher.stats.published == 1)
    finally:
        await publisher.stop()


async def test_full_outbox_drops_the_oldest(embedded_broker: EmbeddedBroker, uid: str,
                                            prefix: str) -> None:
    publisher = _fast(embedded_broker.url, uid, prefix, max_queued=5)
    for i in range(12):  # before start: the messages wait in the outbox
        publisher.publish(_job(f"{uid}-{i}"))
    assert (publisher.stats.pending, publisher.stats.dropped) == (5, 7)

    jobs = [wildcard(TopicKind.JOB_STATE, prefix=prefix)]
    async with TelemetrySubscriber(embedded_broker.url, jobs, prefix=prefix) as subscriber:
        async with publisher:
            received = [(await next_matching(subscriber))[1].job_id for _ in range(5)]
    assert received == [f"{uid}-{i}" for i in range(7, 12)]
    assert (publisher.stats.published, publisher.stats.dropped) == (5, 7)


async def test_publish_threadsafe_from_worker_threads(
    embedded_broker: EmbeddedBroker, uid: str, prefix: str
) -> None:
    threads, per_thread = 4, 50
    jobs = [wildcard(TopicKind.JOB_STATE, prefix=prefix)]
    async with TelemetrySubscriber(embedded_broker.url, jobs, prefix=prefix) as subscriber:
        async with _fast(embedded_broker.url, uid, prefix) as publisher:

            def work(worker: int) -> None:
                for i in range(per_thread):
                    job_id = f"{uid}-{worker}-{i}"
                    publisher.publish_threadsafe(_job(job_id))

            workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
            for thread in workers:
                thread.start()
            for thread in workers:
                await asyncio.to_thread(thread.join)
            received = {(await next_matching(subscriber))[1].job_id
                        for _ in range(threads * per_thread)}
    expected = {f"{uid}-{w}-{i}" for w in range(threads) for i in range(per_thread)}
    assert received == expected
    assert (publisher.stats.published, publisher.stats.dropped) == (threads * per_thread, 0)


async def test_stop_against_a_dead_broker_is_prompt_and_counts_losses(uid: str,
                                                                     prefix: str) -> None:
    publisher = _fast(f"mqtt://127.0.0.1:{free_port()}", uid, prefix)
    await publisher.start()
    publisher.publish(_job(uid))
    start = time.perf_counter()
    await publisher.stop()
    assert time.perf_counter() - start < 1.0
    publisher.publish(_job(uid))  # after stop: counted, not raised
    assert publisher.stats.dropped == 2
    assert publisher.stats.pending == 0
    await publisher.stop()  # idempotent
    with pytest.raises(RuntimeError):
        await publisher.start()


async def test_stop_is_bounded_when_the_broker_hangs(uid: str, prefix: str) -> None:
    """A broker that accepts the connection and then never acknowledges anything."""
    connections: list[asyncio.Task[None]] = []

    async def hung_broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await reader.read(1024)  # CONNECT
            writer.write(bytes([0x20, 0x02, 0x00, 0x00]))  # CONNACK, accepted
            while await reader.read(1024):  # swallow PUBLISH, never PUBACK
                pass
        finally:
            writer.close()

    server = await asyncio.start_server(hung_broker, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        publisher = _fast(f"mqtt://127.0.0.1:{port}", uid, prefix)
        await publisher.start()
        await eventually(lambda: publisher.stats.connected)
        publisher.publish(_job(uid))
        start = time.perf_counter()
        await publisher.stop(timeout_s=0.4)
        assert time.perf_counter() - start < 0.4 + OFFLINE_TIMEOUT_S + 0.5
        assert (publisher.stats.published, publisher.stats.dropped) == (0, 1)
    finally:
        for task in connections:
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("make", [
    lambda: TelemetryPublisher("mqtt://127.0.0.1:1", client_id="c", service="s"),
    NullPublisher,
], ids=["TelemetryPublisher", "NullPublisher"])
async def test_publish_validates_the_message(make: Callable[[], Publisher]) -> None:
    publisher = make()
    assert isinstance(publisher, Publisher)
    with pytest.raises(InvalidTopicError):
        publisher.publish(_job("a/b"))
    with pytest.raises(InvalidTopicError):
        publisher.publish_threadsafe(telemetry_pb2.QpuStatusEvent())
    with pytest.raises(InvalidPayloadError):
        publisher.publish(common_pb2.Circuit(qubit_count=1))  # type: ignore[arg-type]
    publisher.publish(_job("a"))  # a valid one is accepted


def test_a_malformed_prefix_is_refused() -> None:
    with pytest.raises(InvalidTopicError, match="prefix"):
        TelemetryPublisher("mqtt://127.0.0.1:1", client_id="c", service="s", prefix="a/#")


async def test_null_publisher_discards_everything() -> None:
    async with NullPublisher() as publisher:
        publisher.publish(_job("j"))
        publisher.publish_threadsafe(_job("j"))
    assert publisher.stats == PublisherStats()


def test_backoff_is_exponential_capped_and_jittered() -> None:
    rng = random.Random(7)
    steps = [min(5.0, 0.1 * 2 ** (n - 1)) for n in range(1, 12)]
    assert steps[-1] == 5.0 and steps[:3] == [0.1, 0.2, 0.4]
    for failures, step in enumerate(steps, start=1):
        delays = [backoff_delay(failures, initial_s=0.1, max_s=5.0, rng=rng) for _ in range(200)]
        assert step / 2 <= min(delays) and max(delays) <= step
        assert max(delays) - min(delays) > 0.3 * step  # jitter spreads the delays
