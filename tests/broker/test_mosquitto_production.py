"""``broker/production/mosquitto.conf`` and its ACLs, run: a Mosquitto of this test's own on a
free port (the file's paths moved into ``tmp_path``), logins made with ``mosquitto_passwd``,
certificates from ``qcore certs create``'s helper. Skipped where Mosquitto is not installed."""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
from telemetry_helpers import free_port

from broker.config import client_options, parse_mqtt_url
from broker.credentials import MqttCredentials
from qcore_client.certs import create_certificates

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "broker" / "production" / "mosquitto.conf"
ACL = ROOT / "broker" / "production" / "mosquitto.acl"
MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto"
                                          if Path("/usr/sbin/mosquitto").exists() else None)
PASSWD = shutil.which("mosquitto_passwd")
USERS = ("qcore-quantum", "qcore-classical", "qcore-monitor")

pytestmark = pytest.mark.skipif(MOSQUITTO is None or PASSWD is None,
                                reason="mosquitto and mosquitto_passwd are not installed")


def test_the_production_config_refuses_anonymous_clients_and_serves_tls_only():
    text = CONFIG.read_text(encoding="utf-8")
    directives = [line.split() for line in text.splitlines() if line and line[0] != "#"]
    assert ["allow_anonymous", "false"] in directives
    assert [d[0] for d in directives if d[0] == "listener"] == ["listener"]
    assert ["listener", "8883"] in directives
    assert {"password_file", "acl_file", "cafile", "certfile", "keyfile"} <= {
        d[0] for d in directives}


@dataclass
class Broker:
    url: str
    ca: Path
    logins: dict[str, MqttCredentials]


@pytest.fixture(scope="module")
def production_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    directory = tmp_path_factory.mktemp("mosquitto")
    certs = create_certificates(directory / "certs")
    passwd = directory / "passwd"
    logins = {user: MqttCredentials(user, f"pw-{user}") for user in USERS}
    for index, login in enumerate(logins.values()):
        subprocess.run([PASSWD, *(["-c"] if index == 0 else []), "-b", str(passwd),
                        login.username, login.password], check=True, capture_output=True)
    passwd.chmod(0o600)
    shutil.copy(ACL, directory / "acl")
    port = free_port()
    replacements = {
        "password_file": str(passwd), "acl_file": str(directory / "acl"),
        "cafile": str(certs.ca_cert), "certfile": str(certs.server_cert),
        "keyfile": str(certs.server_key), "listener": str(port),
        "persistence": "false", "persistence_location": str(directory) + "/",
    }
    text = CONFIG.read_text(encoding="utf-8")
    for key, value in replacements.items():
        text = re.sub(rf"^{key} .*$", f"{key} {value}", text, flags=re.MULTILINE)
    # As root Mosquitto would switch to user mosquitto, who cannot read tmp_path.
    text += f"\nuser {pwd.getpwuid(os.getuid()).pw_name}\n"
    config = directory / "mosquitto.conf"
    config.write_text(text, encoding="utf-8")
    log = (directory / "mosquitto.log").open("w")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), 0.2):
                    break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"mosquitto exited: {(directory / 'mosquitto.log').read_text()}")
                time.sleep(0.1)
        yield Broker(f"mqtts://localhost:{port}", certs.ca_cert, logins)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _client(broker: Broker, user: str | None, **kwargs) -> aiomqtt.Client:
    address = parse_mqtt_url(broker.url)
    credentials = None if user is None else broker.logins[user]
    # The config refuses zero-length client ids.
    return aiomqtt.Client(address.host, address.port, timeout=3,
                          identifier=f"t-{user}-{uuid.uuid4().hex[:8]}", **kwargs,
                          **client_options(address, credentials=credentials, tls_ca=broker.ca))


async def _received(client: aiomqtt.Client, seconds: float) -> list[tuple[str, bytes]]:
    messages: list[tuple[str, bytes]] = []
    try:
        async with asyncio.timeout(seconds):
            async for message in client.messages:
                messages.append((message.topic.value, bytes(message.payload)))
    except TimeoutError:
        pass
    return messages


async def test_anonymous_and_wrong_logins_are_refused(production_broker: Broker):
    with pytest.raises(aiomqtt.MqttError, match="[Nn]ot authori[sz]ed"):
        async with _client(production_broker, None):
            pass
    address = parse_mqtt_url(production_broker.url)
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(address.host, address.port, timeout=3,
                                  identifier="t-wrong", **client_options(
                address, credentials=MqttCredentials("qcore-monitor", "wrong"),
                tls_ca=production_broker.ca)):
            pass
    async with _client(production_broker, "qcore-monitor"):
        pass  # the right login is admitted


async def test_services_write_their_own_topics_and_monitors_only_read(
        production_broker: Broker):
    async with _client(production_broker, "qcore-monitor") as monitor:
        await monitor.subscribe("qcore/v1/#", qos=1)
        async with _client(production_broker, "qcore-quantum") as quantum, \
                _client(production_broker, "qcore-classical") as classical:
            await quantum.publish("qcore/v1/jobs/j1/state", b"quantum", qos=1)
            await classical.publish("qcore/v1/optimizations/r1/progress", b"classical", qos=1)
            # Denied, and dropped by the broker: outside each one's own topics.
            await classical.publish("qcore/v1/qpus/q1/status", b"forged", qos=1)
            await quantum.publish("qcore/v1/services/classical/status", b"forged", qos=1)
            await monitor.publish("qcore/v1/jobs/j2/state", b"forged", qos=1)
            received = await _received(monitor, 1.5)
    assert sorted(received) == [("qcore/v1/jobs/j1/state", b"quantum"),
                                ("qcore/v1/optimizations/r1/progress", b"classical")]
