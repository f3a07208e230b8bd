"""The broker's login and MQTT over TLS: an embedded broker with credentials refuses anonymous
clients, a service's embedded broker writes its login beside the service's state, and
publishers and subscribers speak ``mqtts://`` to an embedded broker with a TLS listener
(certificates from ``qcore certs create``'s helper)."""

from __future__ import annotations

import asyncio
import json
import os

import aiomqtt
import pytest
from qcore.v1 import telemetry_pb2
from telemetry_helpers import eventually, next_matching

from broker import service_telemetry
from broker.config import parse_mqtt_url, probe_broker
from broker.credentials import (
    MqttCredentials,
    ensure_credentials_file,
    read_credentials_file,
    resolve_credentials,
)
from broker.embedded import EmbeddedBroker
from broker.errors import BrokerConfigError, BrokerUnavailableError
from broker.publisher import TelemetryPublisher
from broker.subscriber import TelemetrySubscriber
from broker.topics import service_status_topic
from qcore_client.certs import CertificateFiles, create_certificates

LOGIN = MqttCredentials("qcore", "correct horse battery staple")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertificateFiles:
    return create_certificates(tmp_path_factory.mktemp("mqtt-certs"))


async def test_a_broker_with_credentials_refuses_anonymous_and_wrong_logins() -> None:
    async with EmbeddedBroker(port=0, credentials=LOGIN) as broker:
        assert not await probe_broker("127.0.0.1", broker.port, timeout_s=2)
        assert not await probe_broker("127.0.0.1", broker.port, timeout_s=2,
                                      credentials=MqttCredentials("qcore", "wrong"))
        assert await probe_broker("127.0.0.1", broker.port, timeout_s=2, credentials=LOGIN)
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", broker.port, timeout=2):
                pass
        with pytest.raises(BrokerUnavailableError):
            async with TelemetrySubscriber(broker.url):
                pass


def test_credentials_file_is_private_and_reused(tmp_path, monkeypatch) -> None:
    path = tmp_path / "state" / "mqtt.credentials"
    first = ensure_credentials_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_credentials_file(path) == first == read_credentials_file(path)
    assert len(first.password) >= 32 and first.password not in repr(first)
    monkeypatch.chdir(tmp_path)
    for name in ("QCORE_MQTT_USERNAME", "QCORE_MQTT_PASSWORD", "QCORE_MQTT_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_credentials() is None
    monkeypatch.setenv("QCORE_MQTT_CREDENTIALS", str(path))
    assert resolve_credentials() == first
    assert resolve_credentials({"QCORE_MQTT_USERNAME": "u", "QCORE_MQTT_PASSWORD": "p"}) == \
        MqttCredentials("u", "p")
    with pytest.raises(BrokerConfigError):
        resolve_credentials({"QCORE_MQTT_USERNAME": "u"})
    (tmp_path / "broken").write_text("{}")
    with pytest.raises(BrokerConfigError):
        read_credentials_file(tmp_path / "broken")


async def test_a_services_embedded_broker_admits_only_the_login_beside_its_state(
        tmp_path, monkeypatch) -> None:
    async def no_broker(**_: object) -> None:
        return None

    # As on a machine without a broker: nothing configured, nothing answering.
    monkeypatch.setattr(service_telemetry, "resolve_broker_url", no_broker)
    for name in ("QCORE_MQTT_USERNAME", "QCORE_MQTT_PASSWORD", "QCORE_MQTT_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    credentials_file = tmp_path / "state" / "mqtt.credentials"
    telemetry = await service_telemetry.start_service_telemetry(
        "quantum", credentials_file=credentials_file, prefix="qcore-test/security/qcore/v1")
    try:
        assert telemetry.embedded is not None
        login = read_credentials_file(credentials_file)
        assert telemetry.embedded.credentials == login
        address = parse_mqtt_url(telemetry.url)
        await eventually(lambda: telemetry.publisher.stats.connected, timeout_s=10)
        assert not await probe_broker(address.host, address.port, timeout_s=2)
        assert await probe_broker(address.host, address.port, timeout_s=2, credentials=login)
    finally:
        await telemetry.stop()


async def test_telemetry_over_mqtts_with_the_ca(certs, uid: str, prefix: str) -> None:
    async with EmbeddedBroker(port=0, credentials=LOGIN, tls_cert=certs.server_cert,
                              tls_key=certs.server_key) as broker:
        assert broker.url.startswith("mqtts://127.0.0.1:")
        async with TelemetrySubscriber(broker.url, prefix=prefix, credentials=LOGIN,
                                       tls_ca=certs.ca_cert) as subscriber:
            async with TelemetryPublisher(broker.url, client_id=f"pub-{uid}", service=uid,
                                          prefix=prefix, credentials=LOGIN,
                                          tls_ca=certs.ca_cert, timeout_s=5) as publisher:
                topic, status = await asyncio.wait_for(next_matching(subscriber), 10)
                assert topic == service_status_topic(uid, prefix=prefix)
                assert status.state == telemetry_pb2.SERVICE_STATE_ONLINE
                assert publisher.stats.connected


async def test_mqtts_refuses_a_broker_certificate_of_another_ca(certs, tmp_path) -> None:
    other = create_certificates(tmp_path / "other")
    async with EmbeddedBroker(port=0, credentials=LOGIN, tls_cert=certs.server_cert,
                              tls_key=certs.server_key) as broker:
        with pytest.raises(BrokerUnavailableError, match="CERTIFICATE_VERIFY_FAILED"):
            async with TelemetrySubscriber(broker.url, credentials=LOGIN,
                                           tls_ca=other.ca_cert, timeout_s=3):
                pass
        # A plaintext client cannot speak to the TLS listener either.
        plain = broker.url.replace("mqtts://", "mqtt://")
        with pytest.raises(BrokerUnavailableError):
            async with TelemetrySubscriber(plain, credentials=LOGIN, timeout_s=3):
                pass


def test_module_admits_only_its_credentials_file(tmp_path) -> None:
    """``python -m broker`` writes its login on the first start (no --anonymous)."""
    import subprocess
    import sys

    from telemetry_helpers import free_port

    port = free_port()
    credentials_file = tmp_path / "mqtt.credentials"
    env = {**os.environ, "QCORE_MQTT_URL": ""}
    process = subprocess.Popen([sys.executable, "-m", "broker", "--port", str(port),
                                "--credentials", str(credentials_file)], env=env,
                               cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == f"mqtt://127.0.0.1:{port}"
        login = json.loads(credentials_file.read_text())
        assert not asyncio.run(probe_broker("127.0.0.1", port, timeout_s=2))
        assert asyncio.run(probe_broker("127.0.0.1", port, timeout_s=2, credentials=(
            MqttCredentials(login["username"], login["password"]))))
    finally:
        process.terminate()
        process.wait(10)
