"""Starts a local qcore stack as child processes: MQTT broker (if none answers), quantum service,
classical service; waits until each is healthy; stops all of them (no orphans) on exit.

Used by ``make run`` (every service on a free port, so it never collides with a running stack)
and ``make services`` (:meth:`LocalStack.on_configured_ports`: the documented ports 50051 and
50052, or ``QCORE_QUANTUM_PORT`` / ``QCORE_CLASSICAL_PORT``). Each child is started in its own
process group and stopped with SIGTERM, then SIGKILL after :data:`STOP_WAIT_S` — longer than
the services' own graceful stop (``QCORE_QUANTUM_GRACE_S``, default 5 s), so a service always
gets to store its interrupted jobs QUEUED before it could be killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.credentials import MqttCredentials
from broker.tls_settings import CERT_ENV
from qcore_client.tls import open_channel

__all__ = ["LocalStack", "PortInUseError", "free_port"]

LOOPBACK = "127.0.0.1"
#: Seconds a child gets after SIGTERM before SIGKILL (services stop within their ``grace_s``,
#: default 5 s; this leaves a margin for exiting).
STOP_WAIT_S = 15.0


class PortInUseError(RuntimeError):
    """A fixed port of the stack is taken; ``str(error)`` is one line naming the variable that
    moves it."""

    def __init__(self, what: str, port: int, variable: str, remedy: str) -> None:
        super().__init__(f"port {port} for the {what} is already in use (another qcore stack "
                         f"running?): stop that process or {remedy.format(variable=variable)}")
        self.port = port
        self.variable = variable


def free_port() -> int:
    """A TCP port on the loopback interface that is free now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether a listener could bind ``127.0.0.1:port`` now.

    ``SO_REUSEADDR`` as servers set it, so connections of a stopped service lingering in
    TIME_WAIT do not count as a taken port, while any listening socket does (Linux refuses to
    bind beside a listener even with ``SO_REUSEADDR``). Without ``SO_REUSEPORT`` the probe also
    catches a gRPC server (which listens with it), beside which a second one would otherwise
    start silently and share the port.
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _claim(port: int, *, what: str, variable: str,
           remedy: str = "set {variable} to a free port (0 picks one)") -> int:
    """``port`` when free, a free port when 0; raises :class:`PortInUseError` otherwise."""
    if port == 0:
        return free_port()
    if not _port_is_free(port):
        raise PortInUseError(what, port, variable, remedy)
    return port


def _wait_healthy(address: str, process: subprocess.Popen, timeout_s: float, log: Path,
                  env: dict[str, str]) -> None:
    deadline = time.monotonic() + timeout_s
    # The services serve TLS when QCORE_TLS_CERT is set; the client files come from QCORE_TLS_*.
    serves_tls = bool(env.get(CERT_ENV, "").strip())
    with open_channel(address, True if serves_tls else False) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"service at {address} exited with status "
                                   f"{process.returncode} (log: {log})")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"service at {address} not healthy after {timeout_s:.0f} s (log: {log})")


@dataclass
class LocalStack:
    """A broker + quantum service + classical service on loopback ports.

    Args:
        workdir: where logs (``*.log``) go, the local admin token (``admin.token``, mode
            0600), and the job store unless ``QCORE_QUANTUM_DB_PATH`` is set.
        mqtt_url: use this broker; ``None`` reads ``QCORE_MQTT_URL``, else probes
            localhost:1883, else starts an embedded broker.
        quantum_port, classical_port: ports of the services; 0 (the default) picks free ones.
        broker_port: port of an embedded broker, when one is started; 0 picks a free one.
        topic_prefix: the services' telemetry topic prefix; ``None`` leaves
            ``QCORE_TOPIC_PREFIX`` (default ``qcore/v1``) as it is.
    Raises (from :meth:`start`):
        PortInUseError: a fixed (nonzero) port is taken; nothing was started.
    """

    workdir: Path = Path("var")
    mqtt_url: str | None = None
    quantum_port: int = 0
    classical_port: int = 0
    broker_port: int = 0
    topic_prefix: str | None = None
    quantum_address: str = ""
    classical_address: str = ""
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    started_broker: bool = False
    #: The local admin token (set by :meth:`start`; see :attr:`token_path`).
    token: str = ""
    #: The quantum service's SQLite store (jobs and API tokens; set by :meth:`start`).
    db_path: Path | None = None
    #: The MQTT login of the services and monitors (set by :meth:`start`): that of the
    #: embedded broker it started (``<workdir>/mqtt.credentials``), else the configured one.
    mqtt_credentials: MqttCredentials | None = None

    @property
    def token_path(self) -> Path:
        """``<workdir>/admin.token``: the local admin token, minted on the first start into the
        job store's ``api_tokens`` table and reused while the store knows it (``var/admin.token``
        for ``make run`` / ``make services``, where the SDK and CLI look by default)."""
        return self.workdir / "admin.token"

    @classmethod
    def on_configured_ports(cls, workdir: Path = Path("var")) -> LocalStack:
        """The stack of ``make services``: the ports the services' settings name.

        The quantum service on ``QCORE_QUANTUM_PORT`` (default 50051), the classical service on
        ``QCORE_CLASSICAL_PORT`` (default 50052); the broker at ``QCORE_MQTT_URL``, else the one
        answering on localhost:1883, else an embedded one started on 1883 (where ``qcore
        monitor`` looks by default).
        """
        from broker.config import DEFAULT_PORT
        from classical_service.config import ClassicalSettings
        from quantum_service.config import QuantumSettings

        return cls(workdir=workdir, quantum_port=QuantumSettings().port,
                   classical_port=ClassicalSettings().port, broker_port=DEFAULT_PORT)

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, *args], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process))
        return process

    def start(self, *, timeout_s: float = 120.0) -> LocalStack:
        from broker.config import resolve_broker_url
        from broker.credentials import (
            CREDENTIALS_FILE_ENV,
            MQTT_CREDENTIALS_FILE,
            PASSWORD_ENV,
            USERNAME_ENV,
            ensure_credentials_file,
            resolve_credentials,
        )

        q_port = _claim(self.quantum_port, what="quantum service", variable="QCORE_QUANTUM_PORT")
        c_port = _claim(self.classical_port, what="classical service",
                        variable="QCORE_CLASSICAL_PORT")
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        self.mqtt_credentials = resolve_credentials()
        url = self.mqtt_url or asyncio.run(resolve_broker_url(credentials=self.mqtt_credentials))
        if url is None:
            port = _claim(self.broker_port, what="embedded MQTT broker",
                          variable="QCORE_MQTT_URL",
                          remedy="set {variable} to a running broker (mqtt://host:port)")
            url = f"mqtt://127.0.0.1:{port}"
            # The broker admits only this login, written on the first start and reused.
            credentials_file = self.workdir / MQTT_CREDENTIALS_FILE
            self.mqtt_credentials = ensure_credentials_file(credentials_file)
            env[CREDENTIALS_FILE_ENV] = str(credentials_file)
            for variable in (USERNAME_ENV, PASSWORD_ENV):
                env.pop(variable, None)
            broker = self._spawn("broker", ["-m", "broker", "--port", str(port),
                                            "--credentials", str(credentials_file)], env)
            self._wait_port(port, broker, timeout_s=30)
            self.started_broker = True
        self.mqtt_url = url
        env["QCORE_MQTT_URL"] = url
        if self.topic_prefix is not None:
            env["QCORE_TOPIC_PREFIX"] = self.topic_prefix
        self.quantum_address = f"{LOOPBACK}:{q_port}"
        self.classical_address = f"{LOOPBACK}:{c_port}"
        env.setdefault("QCORE_QUANTUM_DB_PATH", str(self.workdir / "quantum_jobs.sqlite"))
        from quantum_service.security.tokens import ensure_token_file

        self.db_path = Path(env["QCORE_QUANTUM_DB_PATH"])
        self.token = ensure_token_file(self.db_path, self.token_path)
        quantum = self._spawn("quantum_service", ["-m", "quantum_service"], {
            **env, "QCORE_QUANTUM_PORT": str(q_port)})
        classical = self._spawn("classical_service", ["-m", "classical_service"], {
            **env, "QCORE_CLASSICAL_PORT": str(c_port),
            "QCORE_CLASSICAL_QUANTUM_ADDRESS": self.quantum_address})
        try:
            _wait_healthy(self.quantum_address, quantum, timeout_s,
                          self.workdir / "quantum_service.log", env)
            _wait_healthy(self.classical_address, classical, timeout_s,
                          self.workdir / "classical_service.log", env)
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _wait_port(port: int, process: subprocess.Popen, *, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"broker exited with status {process.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                return
            time.sleep(0.1)
        raise TimeoutError(f"broker not listening on {port} after {timeout_s:.0f} s")

    def stop(self, *, grace_s: float = STOP_WAIT_S) -> None:
        """SIGTERM every child (services first, broker last), SIGKILL stragglers."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
