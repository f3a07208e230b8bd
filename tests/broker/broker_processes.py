"""Brokers as separate processes (to stop, continue, kill and restart them) and a recording
subscriber that survives their faults. Imported as a plain module by the fault tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt

REPO_ROOT = Path(__file__).resolve().parents[2]
MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)
KINDS = ("amqtt", "mosquitto")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class BrokerProcess:
    """An MQTT broker process on ``127.0.0.1:port``: the embedded amqtt broker
    (``python -m broker``) or Mosquitto (a private config: loopback, anonymous, no persistence,
    so a restart loses every retained message, as the embedded broker does)."""

    def __init__(self, kind: str, port: int, workdir: Path) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind, self.port, self._workdir = kind, port, workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        if self.kind == "amqtt":
            return [sys.executable, "-m", "broker", "--host", "127.0.0.1", "--port",
                    str(self.port)]
        assert MOSQUITTO is not None
        config = self._workdir / f"mosquitto-{self.port}.conf"
        # "user": run as whoever we are (as root Mosquitto would switch to user mosquitto,
        # which fails in the user namespace of make test-offline).
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                          f"persistence false\nuser {pwd.getpwuid(os.getuid()).pw_name}\n",
                          encoding="utf-8")
        return [MOSQUITTO, "-c", str(config)]

    def start(self, *, timeout_s: float = 20.0) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO_ROOT), str(REPO_ROOT / "protos"), os.environ.get("PYTHONPATH", "")])}
        self._process = subprocess.Popen(self._command(), cwd=REPO_ROOT, env=env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while not _listening(self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.kind} broker exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.kind} broker not listening on {self.port}")
            time.sleep(0.05)

    def signal(self, signum: signal.Signals) -> None:
        assert self._process is not None
        self._process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL (continuing it first if it is stopped) and wait."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait(timeout=10)


@dataclass
class Recorder:
    """What a subscriber received: every (topic, payload) in order, and the retained flags."""

    received: list[tuple[str, bytes]] = field(default_factory=list)
    connections: int = 0

    def topics(self) -> set[str]:
        return {topic for topic, _ in self.received}


@contextlib.asynccontextmanager
async def recording_subscriber(url: str, filters: Iterable[str], *, client_id: str
                               ) -> AsyncIterator[Recorder]:
    """Subscribes ``filters`` at QoS 1 in a persistent session (clean_session False), so the
    broker queues messages for it while it is cut off, and reconnects after any fault."""
    recorder = Recorder()
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    subscribed = asyncio.Event()

    async def run() -> None:
        while True:
            try:
                async with aiomqtt.Client(host, int(port), identifier=client_id,
                                          clean_session=False, keepalive=30,
                                          timeout=3) as client:
                    recorder.connections += 1
                    for topic in filters:
                        await client.subscribe(topic, qos=1)
                    subscribed.set()
                    async for message in client.messages:
                        payload = message.payload
                        assert isinstance(payload, bytes)
                        recorder.received.append((message.topic.value, payload))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    task = asyncio.create_task(run())
    try:
        await asyncio.wait_for(subscribed.wait(), 10)
        yield recorder
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def retained_now(url: str, topic_filter: str, *, settle_s: float = 1.0,
                       max_s: float = 30.0) -> dict[str, bytes]:
    """The retained messages under ``topic_filter`` now, as a fresh subscriber sees them:
    collected until none arrives for ``settle_s`` (at most ``max_s``; a fleet with 127-qubit
    devices retains hundreds of topics)."""
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    found: dict[str, bytes] = {}
    async with aiomqtt.Client(host, int(port), timeout=5) as client:
        await client.subscribe(topic_filter, qos=1)

        messages = aiter(client.messages)
        deadline = asyncio.get_running_loop().time() + max_s
        with contextlib.suppress(TimeoutError, StopAsyncIteration):
            while asyncio.get_running_loop().time() < deadline:
                message = await asyncio.wait_for(anext(messages), settle_s)
                if isinstance(message.payload, bytes) and message.payload:
                    found[message.topic.value] = message.payload
    return found
