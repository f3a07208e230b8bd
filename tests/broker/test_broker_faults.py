"""Telemetry through broker faults, against broker processes (amqtt and Mosquitto): a hung broker
(SIGSTOP, then SIGCONT) and a restarted one (SIGKILL, then a fresh process that lost every
retained message). Publishing recovers without a reconnect storm, events queued meanwhile are
delivered, and every retained topic is back afterwards. The scenarios are
:mod:`benchmarks.broker_faults` (the reliability report runs them too)."""

from __future__ import annotations

from pathlib import Path

import pytest
from telemetry_helpers import free_port

from benchmarks.broker_faults import (
    HANG_JOBS,
    MOSQUITTO,
    RETAINED,
    BrokerProcess,
    broker_hang,
    broker_restart,
    service_through_restart,
)


@pytest.fixture(params=["amqtt", "mosquitto"])
def broker(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "mosquitto" and MOSQUITTO is None:
        pytest.skip("no mosquitto binary on this machine")
    process = BrokerProcess(request.param, free_port(), tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.kill()


async def test_restarted_broker_gets_every_retained_topic_back(
    broker: BrokerProcess, uid: str, prefix: str
) -> None:
    result = await broker_restart(broker, uid, prefix)
    assert result.retained_before == RETAINED
    assert result.republished == RETAINED - 1  # all but the service's own status
    assert result.retained_after == RETAINED
    assert result.online


@pytest.mark.slow
async def test_hung_broker_delivers_every_queued_event_without_a_reconnect_storm(
    broker: BrokerProcess, uid: str, prefix: str
) -> None:
    result = await broker_hang(broker, uid, prefix, hang_s=12.0, keepalive_s=2, timeout_s=1.0,
                               backoff_initial_s=0.2, backoff_max_s=2.0, stable_after_s=5.0)
    print(f"{broker.kind} hang 12 s (test timings): {result}")
    # Each attempt costs timeout_s (1 s) plus a delay of [1, 2] s once capped: <= 30 a minute
    # then, a few more while the backoff grows.
    assert result.attempts_per_minute <= 40
    assert result.delivered == HANG_JOBS and result.dropped == 0
    assert result.retained == RETAINED and result.online


@pytest.mark.slow
async def test_a_minute_long_hang_with_default_timings(
    broker: BrokerProcess, uid: str, prefix: str
) -> None:
    result = await broker_hang(broker, uid, prefix, hang_s=60.0)
    print(f"{broker.kind} hang 60 s (default timings): {result}")
    assert result.attempts_per_minute <= 8
    assert result.delivered == HANG_JOBS and result.dropped == 0
    assert result.retained == RETAINED and result.online


async def test_a_quantum_service_runs_jobs_without_its_broker_and_restores_its_state(
    tmp_path: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real service: jobs submitted while the broker is down succeed; every retained topic
    (service, every QPU's status, calibration summary, per-qubit calibration, full snapshot)
    is back after the broker restarts; stopping the service leaves the service and every QPU
    OFFLINE."""
    monkeypatch.delenv("QCORE_MQTT_URL", raising=False)
    result = await service_through_restart(tmp_path, prefix, jobs=4)
    assert result.qpus >= 4
    assert result.succeeded == result.jobs == 4
    assert result.same_topics and result.retained_after == result.retained_before
    assert result.offline_after_stop == result.qpus + 1
