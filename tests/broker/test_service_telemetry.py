"""How a service finds its broker: the URL in its settings, honoured end to end.

Every broker here is a private embedded one on a free port, so a service that ignored the URL it
was given (and fell back to 127.0.0.1:1883, or to an embedded broker of its own) publishes where
the subscriber does not listen, and these tests fail whether or not a broker runs on 1883.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from pydantic import ValidationError
from qcore.v1 import common_pb2, telemetry_pb2
from telemetry_helpers import next_matching

from broker.embedded import EmbeddedBroker
from broker.publisher import NullPublisher, TelemetryPublisher
from broker.service_telemetry import start_service_telemetry
from broker.subscriber import TelemetrySubscriber
from broker.topics import job_state_topic, service_status_topic
from classical_service.config import ClassicalSettings
from classical_service.server.app import create_server as create_classical
from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server as create_quantum

SETTINGS = [QuantumSettings, ClassicalSettings]


@pytest.mark.parametrize("settings_class", SETTINGS, ids=["quantum", "classical"])
def test_settings_take_the_topic_prefix_by_name_and_from_the_environment(
    settings_class: type[QuantumSettings | ClassicalSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QCORE_TOPIC_PREFIX", raising=False)
    assert settings_class().topic_prefix == "qcore/v1"
    monkeypatch.setenv("QCORE_TOPIC_PREFIX", "lab-a/qcore/v1")
    assert settings_class().topic_prefix == "lab-a/qcore/v1"
    assert settings_class(topic_prefix="lab-b/qcore/v1").topic_prefix == "lab-b/qcore/v1"
    with pytest.raises(ValidationError, match="prefix"):
        settings_class(topic_prefix="lab/#")


@pytest.mark.parametrize("settings_class", SETTINGS, ids=["quantum", "classical"])
def test_settings_take_the_broker_url_by_name_and_from_the_environment(
    settings_class: type[QuantumSettings | ClassicalSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QCORE_MQTT_URL", raising=False)
    assert settings_class().mqtt_url is None
    assert settings_class(mqtt_url="mqtt://127.0.0.1:41883").mqtt_url == "mqtt://127.0.0.1:41883"
    monkeypatch.setenv("QCORE_MQTT_URL", "mqtt://broker.example:1883")
    assert settings_class().mqtt_url == "mqtt://broker.example:1883"
    # An explicit argument wins over the environment.
    assert settings_class(mqtt_url="mqtt://127.0.0.1:41883").mqtt_url == "mqtt://127.0.0.1:41883"


async def test_start_service_telemetry_publishes_to_the_given_broker(
    embedded_broker: EmbeddedBroker, uid: str, prefix: str
) -> None:
    async with TelemetrySubscriber(embedded_broker.url, prefix=prefix) as sub:
        telemetry = await start_service_telemetry(uid, address="127.0.0.1:50999",
                                                  url=embedded_broker.url, prefix=prefix)
        try:
            assert telemetry.url == embedded_broker.url
            assert telemetry.embedded is None  # no broker of its own when given one
            assert isinstance(telemetry.publisher, TelemetryPublisher)
            _, status = await next_matching(sub)
            assert status == telemetry_pb2.ServiceStatus(
                service=uid, state=telemetry_pb2.SERVICE_STATE_ONLINE, address="127.0.0.1:50999",
                version="0.1.0", time=status.time)
            event = telemetry_pb2.JobStateEvent(job_id=uid, state=common_pb2.JOB_STATE_QUEUED,
                                                time=status.time)
            telemetry.publisher.publish(event)
            assert await next_matching(sub) == (job_state_topic(uid, prefix=prefix), event)
        finally:
            await telemetry.stop()
        _, status = await next_matching(sub)
        assert status.state == telemetry_pb2.SERVICE_STATE_OFFLINE


async def test_disabled_service_telemetry_starts_no_broker_and_publishes_nothing() -> None:
    telemetry = await start_service_telemetry("quantum", enabled=False)
    assert isinstance(telemetry.publisher, NullPublisher)
    assert telemetry.url is None and telemetry.embedded is None
    await telemetry.stop()


async def _quantum(url: str, tmp_path: Path, prefix: str):
    return await create_quantum(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                                mqtt_url=url, grace_s=0.1, topic_prefix=prefix))


async def _classical(url: str, tmp_path: Path, prefix: str):
    return await create_classical(ClassicalSettings(port=0, quantum_address="127.0.0.1:1",
                                                    mqtt_url=url, model_dir=tmp_path / "models",
                                                    topic_prefix=prefix))


@pytest.mark.parametrize(("service", "start"), [("quantum", _quantum), ("classical", _classical)],
                         ids=["quantum", "classical"])
async def test_a_service_publishes_to_the_broker_in_its_settings(
    embedded_broker: EmbeddedBroker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    service: str,
    start: Callable[[str, Path, str], Awaitable],
    prefix: str,
) -> None:
    monkeypatch.delenv("QCORE_MQTT_URL", raising=False)
    async with TelemetrySubscriber(embedded_broker.url,
                                   [service_status_topic(service, prefix=prefix)],
                                   prefix=prefix) as sub:
        server = await start(embedded_broker.url, tmp_path, prefix)
        try:
            assert server.telemetry.url == embedded_broker.url
            assert server.telemetry.embedded is None
            _, status = await next_matching(sub, timeout_s=5.0)
            assert status.state == telemetry_pb2.SERVICE_STATE_ONLINE
            assert status.address == server.address
        finally:
            await server.stop(0.1)
