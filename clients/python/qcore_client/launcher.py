"""Starts a local qcore stack as child processes: MQTT broker (if none answers), quantum service,
classical service; waits until each is healthy; stops all of them (no orphans) on exit.

Used by ``make run`` and ``make services``. Each child is started in its own process group and
stopped with SIGTERM, then SIGKILL after a grace period.
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

__all__ = ["LocalStack", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(address: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"service at {address} exited with status {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"service at {address} not healthy after {timeout_s:.0f} s")


@dataclass
class LocalStack:
    """A broker + quantum service + classical service on free loopback ports.

    Args:
        workdir: where logs (``*.log``) and the job store go.
        mqtt_url: use this broker; ``None`` probes localhost:1883, then starts an embedded one.
    """

    workdir: Path = Path("var")
    mqtt_url: str | None = None
    quantum_address: str = ""
    classical_address: str = ""
    processes: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    started_broker: bool = False

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen([sys.executable, *args], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append((name, process))
        return process

    def start(self, *, timeout_s: float = 120.0) -> LocalStack:
        from broker.config import resolve_broker_url

        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        url = self.mqtt_url or asyncio.run(resolve_broker_url())
        if url is None:
            port = free_port()
            url = f"mqtt://127.0.0.1:{port}"
            broker = self._spawn("broker", ["-m", "broker", "--port", str(port)], env)
            self._wait_port(port, broker, timeout_s=30)
            self.started_broker = True
        self.mqtt_url = url
        env["QCORE_MQTT_URL"] = url
        q_port, c_port = free_port(), free_port()
        self.quantum_address = f"127.0.0.1:{q_port}"
        self.classical_address = f"127.0.0.1:{c_port}"
        quantum = self._spawn("quantum_service", ["-m", "quantum_service"], {
            **env, "QCORE_QUANTUM_PORT": str(q_port),
            "QCORE_QUANTUM_DB_PATH": str(self.workdir / "quantum_jobs.sqlite")})
        classical = self._spawn("classical_service", ["-m", "classical_service"], {
            **env, "QCORE_CLASSICAL_PORT": str(c_port),
            "QCORE_CLASSICAL_QUANTUM_ADDRESS": self.quantum_address})
        try:
            _wait_healthy(self.quantum_address, quantum, timeout_s)
            _wait_healthy(self.classical_address, classical, timeout_s)
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

    def stop(self, *, grace_s: float = 10.0) -> None:
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
