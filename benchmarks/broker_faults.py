"""Telemetry through broker faults, against broker processes (the embedded amqtt broker and
Mosquitto): a hung broker (SIGSTOP, then SIGCONT) and a restarted one (SIGKILL, then a fresh
process that lost every retained message).

Scenarios, each returning what it measured:

* :func:`broker_restart` — a publisher holding a fleet's retained state (service status and,
  per QPU, status, calibration summary, full snapshot and one topic per qubit) loses its broker
  and gets a fresh one: how many retained topics are back and how long that took.
* :func:`broker_hang` — the broker hangs while 128 jobs' events are published: connection
  attempts per minute while it hangs (a reconnect storm shows here), events delivered to a
  persistent subscriber after it continues, events dropped, retained topics afterwards.
* :func:`service_through_restart` — a real quantum service (in-process server, telemetry on)
  runs jobs submitted while its broker is down: the jobs' outcome, the retained topics after the
  broker restarts against those before, and the QPUs' status once the service stops.

Used by the broker-fault tests (``tests/broker/test_broker_faults.py``) and by
:mod:`benchmarks.reliability` (the report's broker section).
"""

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
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt

from broker.payloads import decode
from broker.publisher import TelemetryPublisher
from broker.topics import TopicKind, all_topics, job_state_topic, service_status_topic, wildcard
from qcore.v1 import common_pb2, telemetry_pb2
from qcore_client.launcher import free_port

__all__ = [
    "FLEET_QPUS",
    "FLEET_QUBITS",
    "HANG_JOBS",
    "KINDS",
    "MOSQUITTO",
    "RETAINED",
    "BrokerProcess",
    "HangResult",
    "Recorder",
    "RestartResult",
    "ServiceRestartResult",
    "broker_hang",
    "broker_restart",
    "eventually",
    "publish_fleet_state",
    "recording_subscriber",
    "retained_now",
    "service_through_restart",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()), None)
KINDS = ("amqtt", "mosquitto")

#: The fleet whose retained state the publisher scenarios hold.
FLEET_QPUS = tuple(f"qpu-{i}" for i in range(5))
FLEET_QUBITS = 4
#: Service status + per QPU: status, summary, full snapshot, one per qubit.
RETAINED = 1 + len(FLEET_QPUS) * (3 + FLEET_QUBITS)
#: Jobs whose events are published while the broker hangs.
HANG_JOBS = 128


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def eventually(condition: Callable[[], bool], *, timeout_s: float = 3.0,
                     poll_s: float = 0.02) -> None:
    """Waits until ``condition()`` holds.

    Raises:
        TimeoutError: not within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not reached within {timeout_s:g} s")
        await asyncio.sleep(poll_s)


class BrokerProcess:
    """An MQTT broker process on ``127.0.0.1:port``: the embedded amqtt broker
    (``python -m broker --anonymous``) or Mosquitto (a private config: loopback, anonymous, no
    persistence, so a restart loses every retained message, as the embedded broker does)."""

    def __init__(self, kind: str, port: int, workdir: Path) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if kind == "mosquitto" and MOSQUITTO is None:
            raise FileNotFoundError("no mosquitto binary on this machine")
        self.kind, self.port, self.workdir = kind, port, workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        if self.kind == "amqtt":
            return [sys.executable, "-m", "broker", "--host", "127.0.0.1", "--port",
                    str(self.port), "--anonymous"]
        assert MOSQUITTO is not None
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / f"mosquitto-{self.port}.conf"
        # "user": run as whoever we are (as root Mosquitto would switch to user mosquitto,
        # which fails in the user namespace of make test-offline).
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                          f"persistence false\nuser {pwd.getpwuid(os.getuid()).pw_name}\n",
                          encoding="utf-8")
        return [MOSQUITTO, "-c", str(config)]

    def start(self, *, timeout_s: float = 20.0) -> None:
        """Starts the process and waits until it listens.

        Raises:
            RuntimeError: it exited; TimeoutError: not listening within ``timeout_s``.
        """
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
    """What a subscriber received: every (topic, payload) in order, and its connections."""

    received: list[tuple[str, bytes]] = field(default_factory=list)
    connections: int = 0

    def topics(self) -> set[str]:
        return {topic for topic, _ in self.received}


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    return host, int(port)


@contextlib.asynccontextmanager
async def recording_subscriber(url: str, filters: Iterable[str], *, client_id: str
                               ) -> AsyncIterator[Recorder]:
    """Subscribes ``filters`` at QoS 1 in a persistent session (clean_session False), so the
    broker queues messages for it while it is cut off, and reconnects after any fault."""
    recorder = Recorder()
    host, port = _host_port(url)
    subscribed = asyncio.Event()

    async def run() -> None:
        while True:
            try:
                async with aiomqtt.Client(host, port, identifier=client_id,
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
    host, port = _host_port(url)
    found: dict[str, bytes] = {}
    async with aiomqtt.Client(host, port, timeout=5) as client:
        await client.subscribe(topic_filter, qos=1)
        messages = aiter(client.messages)
        deadline = asyncio.get_running_loop().time() + max_s
        with contextlib.suppress(TimeoutError, StopAsyncIteration):
            while asyncio.get_running_loop().time() < deadline:
                message = await asyncio.wait_for(anext(messages), settle_s)
                if isinstance(message.payload, bytes) and message.payload:
                    found[message.topic.value] = message.payload
    return found


def publish_fleet_state(publisher: TelemetryPublisher) -> None:
    """What a quantum service keeps retained, for :data:`FLEET_QPUS`: every QPU's status,
    calibration summary, full calibration snapshot and per-qubit calibration."""
    for qpu_id in FLEET_QPUS:
        publisher.publish(telemetry_pb2.QpuStatusEvent(qpu_id=qpu_id,
                                                       status=common_pb2.QPU_STATUS_ONLINE))
        publisher.publish(telemetry_pb2.CalibrationSummaryEvent(qpu_id=qpu_id,
                                                                snapshot_id=f"{qpu_id}-s1"))
        snapshot = common_pb2.CalibrationSnapshot(snapshot_id=f"{qpu_id}-s1", qpu_id=qpu_id)
        for q in range(FLEET_QUBITS):
            qubit = snapshot.qubits.add(qubit=q, t1_us=100.0 + q)
            publisher.publish(telemetry_pb2.QubitCalibrationEvent(
                qpu_id=qpu_id, snapshot_id=snapshot.snapshot_id, calibration=qubit))
        publisher.publish(telemetry_pb2.CalibrationEvent(qpu_id=qpu_id, snapshot=snapshot))


def _publisher(url: str, uid: str, prefix: str, **timing: float) -> TelemetryPublisher:
    return TelemetryPublisher(url, client_id=f"pub-{uid}", service="quantum", prefix=prefix,
                              **timing)  # type: ignore[arg-type]


def _service_online(retained: dict[str, bytes], prefix: str) -> bool:
    topic = service_status_topic("quantum", prefix=prefix)
    if topic not in retained:
        return False
    return decode(topic, retained[topic], prefix=prefix).state == (
        telemetry_pb2.SERVICE_STATE_ONLINE)


@dataclass(frozen=True)
class RestartResult:
    """Outcome of :func:`broker_restart`.

    Attributes:
        kind: the broker.
        retained_before, retained_after: retained topics under the prefix before the kill and
            after the fresh broker came up (of :data:`RETAINED`).
        republished: retained states the publisher sent again after reconnecting.
        restore_s: seconds from the fresh broker listening to every state sent again.
        online: the service's retained status is ONLINE afterwards.
    """

    kind: str
    retained_before: int
    retained_after: int
    republished: int
    restore_s: float
    online: bool


async def broker_restart(broker: BrokerProcess, uid: str, prefix: str) -> RestartResult:
    """Kills ``broker`` (running) under a publisher holding the fleet's retained state and
    starts a fresh one on the same port (see the module docstring)."""
    publisher = _publisher(broker.url, uid, prefix, backoff_initial_s=0.1, backoff_max_s=1.0)
    publish_fleet_state(publisher)
    async with publisher:
        await eventually(lambda: publisher.stats.published == RETAINED - 1, timeout_s=10)
        before = await retained_now(broker.url, all_topics(prefix))
        broker.kill()  # loses every retained message (in memory / persistence off)
        await eventually(lambda: publisher.stats.disconnects == 1, timeout_s=10)
        broker.start()
        began = time.monotonic()
        await eventually(lambda: publisher.stats.connections == 2
                         and publisher.stats.pending == 0, timeout_s=20)
        restore_s = time.monotonic() - began
        after = await retained_now(broker.url, all_topics(prefix))
        republished = publisher.stats.republished
    return RestartResult(broker.kind, len(before), len(after), republished, restore_s,
                         _service_online(after, prefix))


@dataclass(frozen=True)
class HangResult:
    """Outcome of :func:`broker_hang`.

    Attributes:
        kind: the broker.
        hang_s: how long it hung, seconds.
        attempts_per_minute: the publisher's connection attempts per minute while it hung.
        delivered: of :data:`HANG_JOBS` jobs' events published meanwhile, those a persistent
            subscriber received after the broker continued.
        dropped: events the publisher discarded.
        retained: retained topics afterwards (of :data:`RETAINED`).
        online: the service's retained status is ONLINE afterwards (a stale Last Will
            reasserted).
        reasserted: times the publisher published ONLINE again over a stale Last Will.
    """

    kind: str
    hang_s: float
    attempts_per_minute: float
    delivered: int
    dropped: int
    retained: int
    online: bool
    reasserted: int


async def broker_hang(broker: BrokerProcess, uid: str, prefix: str, *, hang_s: float,
                      **timing: float) -> HangResult:
    """Hangs ``broker`` (SIGSTOP) for ``hang_s`` while :data:`HANG_JOBS` jobs' events are
    published, continues it (SIGCONT) and waits until every event arrived; ``timing``: the
    publisher's keyword timings (``keepalive_s``, ``timeout_s``, ``backoff_initial_s``,
    ``backoff_max_s``, ``stable_after_s``; default: the service's)."""
    jobs = [f"{uid}-job-{i}" for i in range(HANG_JOBS)]
    topics = {job_state_topic(j, prefix=prefix) for j in jobs}
    async with recording_subscriber(broker.url, [wildcard(TopicKind.JOB_STATE, prefix=prefix)],
                                    client_id=f"sub-{uid}") as recorder:
        publisher = _publisher(broker.url, uid, prefix, **timing)
        publish_fleet_state(publisher)
        async with publisher:
            await eventually(lambda: publisher.stats.published == RETAINED - 1, timeout_s=10)
            broker.signal(signal.SIGSTOP)
            began = time.monotonic()
            attempts_before = publisher.stats.connect_failures + publisher.stats.connections
            for i, job_id in enumerate(jobs):
                publisher.publish(telemetry_pb2.JobStateEvent(
                    job_id=job_id, state=common_pb2.JOB_STATE_SUCCEEDED,
                    qpu_id=FLEET_QPUS[i % len(FLEET_QPUS)]))
                await asyncio.sleep(hang_s / HANG_JOBS)
            attempts = (publisher.stats.connect_failures + publisher.stats.connections
                        - attempts_before)
            hung_s = time.monotonic() - began
            broker.signal(signal.SIGCONT)
            await eventually(lambda: publisher.stats.pending == 0 and publisher.stats.connected,
                             timeout_s=60)
            await eventually(lambda: recorder.topics() >= topics, timeout_s=30)
            await asyncio.sleep(2 * timing.get("keepalive_s", 10))  # stale Last Wills land
            await eventually(lambda: publisher.stats.pending == 0, timeout_s=30)
            retained = await retained_now(broker.url, all_topics(prefix))
            stats = publisher.stats
    return HangResult(broker.kind, hung_s, attempts / hung_s * 60,
                      len(recorder.topics() & topics), stats.dropped, len(retained),
                      _service_online(retained, prefix), stats.reasserted)


@dataclass(frozen=True)
class ServiceRestartResult:
    """Outcome of :func:`service_through_restart`.

    Attributes:
        qpus: QPUs of the service (each with a retained status topic).
        jobs, succeeded: jobs submitted while the broker was down, and those that succeeded.
        retained_before, retained_after: retained topics before the broker was killed and after
            it restarted.
        same_topics: the two sets of topics are equal.
        offline_after_stop: QPUs (and the service) whose retained status is OFFLINE once the
            service stopped, of ``qpus + 1``.
    """

    qpus: int
    jobs: int
    succeeded: int
    retained_before: int
    retained_after: int
    same_topics: bool
    offline_after_stop: int


async def service_through_restart(workdir: Path, prefix: str, *, jobs: int = 8
                                  ) -> ServiceRestartResult:
    """A quantum service publishing to an amqtt broker process under ``prefix``: the broker is
    killed, ``jobs`` Bell jobs are submitted and run while it is down, the broker restarts,
    then the service stops (see the module docstring)."""
    # Imported here: the quantum service's modules are not needed by the publisher scenarios.
    from benchmarks.faults import small_job
    from quantum_service.config import QuantumSettings
    from quantum_service.kernel.jobs import JobState
    from quantum_service.server.app import create_server

    broker = BrokerProcess("amqtt", free_port(), workdir)
    broker.start()
    try:
        server = await create_server(QuantumSettings(
            port=0, db_path=workdir / "jobs.sqlite", mqtt_url=broker.url, grace_s=0.1,
            topic_prefix=prefix, auto_calibration=False))
        try:
            publisher = server.telemetry.publisher
            assert isinstance(publisher, TelemetryPublisher)
            await eventually(lambda: publisher.stats.connected and publisher.stats.pending == 0,
                             timeout_s=20)
            before = await retained_now(broker.url, all_topics(prefix))
            qpus = {topic.split("/")[-2] for topic in before
                    if topic.endswith("/status") and "/qpus/" in topic}
            broker.kill()
            await eventually(lambda: publisher.stats.disconnects == 1, timeout_s=30)
            submitted = [await server.kernel.submit(small_job(), owner="operator")
                         for _ in range(jobs)]
            await eventually(lambda: all(server.kernel.get(j.job_id).state.is_terminal
                                         for j in submitted), timeout_s=60)
            succeeded = sum(server.kernel.get(j.job_id).state is JobState.SUCCEEDED
                            for j in submitted)
            broker.start()
            await eventually(lambda: publisher.stats.connections == 2
                             and publisher.stats.pending == 0, timeout_s=30)
            after = await retained_now(broker.url, all_topics(prefix))
        finally:
            await server.stop(0.1)
        stopped = await retained_now(broker.url, all_topics(prefix))
    finally:
        broker.kill()
    offline = 0
    for topic, payload in stopped.items():
        if not topic.endswith("/status"):
            continue
        status = decode(topic, payload, prefix=prefix)
        offline += (status.status == common_pb2.QPU_STATUS_OFFLINE if "/qpus/" in topic
                    else status.state == telemetry_pb2.SERVICE_STATE_OFFLINE)
    return ServiceRestartResult(len(qpus), jobs, succeeded, len(before), len(after),
                                set(before) == set(after), offline)
