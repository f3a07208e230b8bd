"""Telemetry through broker faults, against broker processes (amqtt and Mosquitto): a hung broker
(SIGSTOP, then SIGCONT) and a restarted one (SIGKILL, then a fresh process that lost every
retained message). Publishing recovers without a reconnect storm, events queued meanwhile are
delivered, and every retained topic is back afterwards."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from broker_processes import MOSQUITTO, BrokerProcess, recording_subscriber, retained_now
from qcore.v1 import common_pb2, telemetry_pb2
from telemetry_helpers import eventually, free_port

from broker.payloads import decode
from broker.publisher import TelemetryPublisher
from broker.topics import TopicKind, all_topics, job_state_topic, service_status_topic, wildcard
from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server as create_quantum

QPUS = [f"qpu-{i}" for i in range(5)]
QUBITS = 4
JOBS = 128


def _kind(kind: str) -> str:
    if kind == "mosquitto" and MOSQUITTO is None:
        pytest.skip("no mosquitto binary on this machine")
    return kind


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request: pytest.FixtureRequest, tmp_path: Path):
    process = BrokerProcess(_kind(request.param), free_port(), tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.kill()


def _publish_fleet_state(publisher: TelemetryPublisher) -> None:
    """What a quantum service keeps retained: every QPU's status, calibration summary, full
    calibration snapshot and per-qubit calibration."""
    for qpu_id in QPUS:
        publisher.publish(telemetry_pb2.QpuStatusEvent(qpu_id=qpu_id,
                                                       status=common_pb2.QPU_STATUS_ONLINE))
        publisher.publish(telemetry_pb2.CalibrationSummaryEvent(qpu_id=qpu_id,
                                                                snapshot_id=f"{qpu_id}-s1"))
        snapshot = common_pb2.CalibrationSnapshot(snapshot_id=f"{qpu_id}-s1", qpu_id=qpu_id)
        for q in range(QUBITS):
            qubit = snapshot.qubits.add(qubit=q, t1_us=100.0 + q)
            publisher.publish(telemetry_pb2.QubitCalibrationEvent(
                qpu_id=qpu_id, snapshot_id=snapshot.snapshot_id, calibration=qubit))
        publisher.publish(telemetry_pb2.CalibrationEvent(qpu_id=qpu_id, snapshot=snapshot))


#: service status + per QPU: status, summary, full snapshot, one per qubit.
RETAINED = 1 + len(QPUS) * (3 + QUBITS)


def _publisher(url: str, uid: str, prefix: str, **timing: float) -> TelemetryPublisher:
    return TelemetryPublisher(url, client_id=f"pub-{uid}", service="quantum", prefix=prefix,
                              **timing)  # type: ignore[arg-type]


async def test_restarted_broker_gets_every_retained_topic_back(
    broker: BrokerProcess, uid: str, prefix: str
) -> None:
    publisher = _publisher(broker.url, uid, prefix, backoff_initial_s=0.1, backoff_max_s=1.0)
    _publish_fleet_state(publisher)
    async with publisher:
        await eventually(lambda: publisher.stats.published == RETAINED - 1, timeout_s=10)
        assert len(await retained_now(broker.url, all_topics(prefix))) == RETAINED

        broker.kill()  # loses every retained message (in memory / persistence off)
        await eventually(lambda: publisher.stats.disconnects == 1, timeout_s=10)
        broker.start()
        await eventually(lambda: publisher.stats.connections == 2, timeout_s=10)
        await eventually(lambda: publisher.stats.pending == 0, timeout_s=10)
        restored = await retained_now(broker.url, all_topics(prefix))
    assert publisher.stats.republished == RETAINED - 1
    assert len(restored) == RETAINED
    status = decode(service_status_topic("quantum", prefix=prefix),
                    restored[service_status_topic("quantum", prefix=prefix)], prefix=prefix)
    assert status.state == telemetry_pb2.SERVICE_STATE_ONLINE


async def _hang(broker: BrokerProcess, uid: str, prefix: str, *, hang_s: float,
                **timing: float) -> dict[str, float]:
    """Hangs the broker for ``hang_s`` while 128 jobs' events are published, continues it,
    and returns the figures."""
    jobs = [f"{uid}-job-{i}" for i in range(JOBS)]
    async with recording_subscriber(broker.url, [wildcard(TopicKind.JOB_STATE, prefix=prefix)],
                                    client_id=f"sub-{uid}") as recorder:
        publisher = _publisher(broker.url, uid, prefix, **timing)
        _publish_fleet_state(publisher)
        async with publisher:
            await eventually(lambda: publisher.stats.published == RETAINED - 1, timeout_s=10)
            broker.signal(signal.SIGSTOP)
            began = time.monotonic()
            attempts_before = publisher.stats.connect_failures + publisher.stats.connections
            for i, job_id in enumerate(jobs):
                publisher.publish(telemetry_pb2.JobStateEvent(
                    job_id=job_id, state=common_pb2.JOB_STATE_SUCCEEDED, qpu_id=QPUS[i % 5]))
                await asyncio.sleep(hang_s / JOBS)
            attempts = (publisher.stats.connect_failures + publisher.stats.connections
                        - attempts_before)
            hung_s = time.monotonic() - began
            broker.signal(signal.SIGCONT)
            await eventually(lambda: publisher.stats.pending == 0 and publisher.stats.connected,
                             timeout_s=60)
            await eventually(lambda: {t for t, _ in recorder.received} >= {
                job_state_topic(j, prefix=prefix) for j in jobs}, timeout_s=30)
            await asyncio.sleep(2 * timing.get("keepalive_s", 10))  # stale Last Wills land
            await eventually(lambda: publisher.stats.pending == 0, timeout_s=30)
            retained = await retained_now(broker.url, all_topics(prefix))
            stats = publisher.stats
    status_topic = service_status_topic("quantum", prefix=prefix)
    status = decode(status_topic, retained[status_topic], prefix=prefix)
    delivered = {t for t, _ in recorder.received} & {job_state_topic(j, prefix=prefix)
                                                     for j in jobs}
    return {"attempts_per_minute": attempts / hung_s * 60, "delivered": len(delivered),
            "received": len(recorder.received), "dropped": stats.dropped,
            "retained": len(retained), "online": status.state == telemetry_pb2.SERVICE_STATE_ONLINE,
            "reasserted": stats.reasserted, "connections": stats.connections}


@pytest.mark.slow
async def test_hung_broker_delivers_every_queued_event_without_a_reconnect_storm(
    broker: BrokerProcess, uid: str, prefix: str
) -> None:
    figures = await _hang(broker, uid, prefix, hang_s=12.0, keepalive_s=2, timeout_s=1.0,
                          backoff_initial_s=0.2, backoff_max_s=2.0, stable_after_s=5.0)
    print(f"{broker.kind} hang 12 s (test timings): {figures}")
    # Each attempt costs timeout_s (1 s) plus a delay of [1, 2] s once capped: <= 30 a minute
    # then, a few more while the backoff grows.
    assert figures["attempts_per_minute"] <= 40
    assert figures["delivered"] == JOBS and figures["dropped"] == 0
    assert figures["retained"] == RETAINED and figures["online"]


@pytest.mark.slow
async def test_a_minute_long_hang_with_default_timings(
    broker: BrokerProcess, uid: str, prefix: str
) -> None:
    figures = await _hang(broker, uid, prefix, hang_s=60.0)
    print(f"{broker.kind} hang 60 s (default timings): {figures}")
    assert figures["attempts_per_minute"] <= 8
    assert figures["delivered"] == JOBS and figures["dropped"] == 0
    assert figures["retained"] == RETAINED and figures["online"]


async def test_a_quantum_service_restores_its_retained_state_and_goes_offline_on_stop(
    tmp_path: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real service: every retained topic (service, every QPU's status, calibration
    summary, per-qubit calibration, full snapshot) is back after the broker restarts, and
    stopping the service leaves the service and every QPU OFFLINE."""
    monkeypatch.delenv("QCORE_MQTT_URL", raising=False)
    broker = BrokerProcess("amqtt", free_port(), tmp_path)
    broker.start()
    server = await create_quantum(QuantumSettings(
        port=0, db_path=tmp_path / "jobs.sqlite", mqtt_url=broker.url, grace_s=0.1,
        topic_prefix=prefix, auto_calibration=False))
    try:
        publisher = server.telemetry.publisher
        assert isinstance(publisher, TelemetryPublisher)
        await eventually(lambda: publisher.stats.connected and publisher.stats.pending == 0,
                         timeout_s=20)
        before = await retained_now(broker.url, all_topics(prefix))
        qpus = {topic.split("/")[-2] for topic in before if topic.endswith("/status")
                and "/qpus/" in topic}
        assert len(qpus) == len(list(server.kernel.registry)) >= 4
        assert len(before) == publisher.stats.retained_topics + 1  # + its own status

        broker.kill()
        await eventually(lambda: publisher.stats.disconnects == 1, timeout_s=30)
        broker.start()
        await eventually(lambda: publisher.stats.connections == 2
                         and publisher.stats.pending == 0, timeout_s=30)
        after = await retained_now(broker.url, all_topics(prefix))
        assert set(after) == set(before)
        print(f"retained topics restored after a broker restart: {len(after)}/{len(before)}")
    finally:
        await server.stop(0.1)
    try:
        stopped = await retained_now(broker.url, all_topics(prefix))
        statuses = {topic: decode(topic, payload, prefix=prefix)
                    for topic, payload in stopped.items() if topic.endswith("/status")}
        assert len(statuses) == len(qpus) + 1
        assert all(s.status == common_pb2.QPU_STATUS_OFFLINE for t, s in statuses.items()
                   if "/qpus/" in t)
        assert statuses[service_status_topic("quantum", prefix=prefix)].state == (
            telemetry_pb2.SERVICE_STATE_OFFLINE)
    finally:
        broker.kill()
