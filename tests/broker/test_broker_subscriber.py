"""Subscribing: decoding, skipping foreign payloads, connection errors, and the collector."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest
from qcore.v1 import common_pb2, telemetry_pb2
from telemetry_helpers import free_port, next_matching

from broker.embedded import EmbeddedBroker
from broker.errors import BrokerUnavailableError, InvalidPayloadError, InvalidTopicError
from broker.payloads import encode
from broker.subscriber import TelemetryCollector, TelemetrySubscriber, subscribe
from broker.topics import (
    TopicKind,
    job_state_topic,
    optimization_progress_topic,
    qpu_status_topic,
)


async def test_skips_cleared_and_undecodable_payloads(broker_url: str, prefix: str,
                                                      uid: str) -> None:
    host, port = broker_url.removeprefix("mqtt://").rsplit(":", 1)
    job = telemetry_pb2.JobStateEvent(job_id=uid, state=common_pb2.JOB_STATE_SUCCEEDED)
    async with TelemetrySubscriber(broker_url, prefix=prefix) as subscriber:
        async with aiomqtt.Client(host, int(port)) as raw:
            await raw.publish(job_state_topic(uid, prefix=prefix), b"not json", qos=1)
            await raw.publish(f"{prefix}/jobs/{uid}/unknown-leaf", encode(job), qos=1)
            await raw.publish(qpu_status_topic(uid, prefix=prefix), b"", qos=1)  # a clear
            await raw.publish(job_state_topic(uid, prefix=prefix), encode(job), qos=1)
        assert await next_matching(subscriber) == (job_state_topic(uid, prefix=prefix), job)


async def test_subscribe_generator_yields_retained_state_first(
    embedded_broker: EmbeddedBroker, uid: str, prefix: str
) -> None:
    qpu = telemetry_pb2.QpuStatusEvent(qpu_id=uid, status=common_pb2.QPU_STATUS_OFFLINE)
    topic = qpu_status_topic(uid, prefix=prefix)
    async with aiomqtt.Client("127.0.0.1", embedded_broker.port) as raw:
        await raw.publish(topic, encode(qpu), qos=1, retain=True)
    stream = subscribe(embedded_broker.url, prefix=prefix)
    try:
        assert await asyncio.wait_for(anext(stream), 3) == (topic, qpu)
    finally:
        await stream.aclose()


async def test_unreachable_broker_raises_broker_unavailable() -> None:
    with pytest.raises(BrokerUnavailableError, match="cannot connect"):
        async with TelemetrySubscriber(f"mqtt://127.0.0.1:{free_port()}"):
            pass


async def test_broker_shutdown_ends_iteration_with_broker_unavailable() -> None:
    broker = EmbeddedBroker(port=0)
    await broker.start()
    try:
        async with TelemetrySubscriber(broker.url) as subscriber:
            await broker.stop()
            with pytest.raises(BrokerUnavailableError, match="lost the connection"):
                await next_matching(subscriber)
    finally:
        await broker.stop()


def test_collector_counts_per_kind_and_keeps_the_latest_per_topic() -> None:
    collector = TelemetryCollector()
    first = telemetry_pb2.QpuStatusEvent(qpu_id="a", status=common_pb2.QPU_STATUS_ONLINE)
    later = telemetry_pb2.QpuStatusEvent(qpu_id="a", status=common_pb2.QPU_STATUS_CALIBRATING)
    other = telemetry_pb2.QpuStatusEvent(qpu_id="b", status=common_pb2.QPU_STATUS_OFFLINE)
    for topic, message in [
        (qpu_status_topic("a"), first),
        (qpu_status_topic("b"), other),
        (qpu_status_topic("a"), later),
        (job_state_topic("j"), telemetry_pb2.JobStateEvent(job_id="j")),
        (optimization_progress_topic("r"),
         telemetry_pb2.OptimizationProgressEvent(run_id="r", iteration=1)),
        (optimization_progress_topic("r"),
         telemetry_pb2.OptimizationProgressEvent(run_id="r", iteration=2)),
    ]:
        collector.add(topic, message)
    assert collector.total == 6
    assert dict(collector.counts) == {TopicKind.QPU_STATUS: 3, TopicKind.JOB_STATE: 1,
                                      TopicKind.OPTIMIZATION_PROGRESS: 2}
    assert collector.latest(TopicKind.QPU_STATUS) == {"a": later, "b": other}
    assert collector.last[optimization_progress_topic("r")].iteration == 2
    assert collector.latest(TopicKind.SESSION_PROGRESS) == {}
    with pytest.raises(InvalidPayloadError):
        collector.add(job_state_topic("j"), other)
    with pytest.raises(InvalidTopicError):
        collector.add("qcore/v1/jobs/j", other)
    assert collector.total == 6
