"""A Dask scheduler and workers as separate processes on loopback free ports (test helper)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DASK = str(Path(sys.executable).with_name("dask"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_env() -> dict[str, str]:
    """This environment with the worktree's packages first on ``PYTHONPATH``."""
    env = dict(os.environ)
    paths = [str(ROOT), str(ROOT / "protos"), str(ROOT / "clients" / "python")]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
    return env


class DaskProcesses:
    """Starts ``dask scheduler`` / ``dask worker`` subprocesses; :meth:`stop` ends them."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address = ""

    def start_scheduler(self, prefix: list[str] | None = None, *, port: int | None = None
                        ) -> str:
        """Starts the scheduler (under ``prefix``, e.g. ``ip netns exec NAME``; then it is not
        waited for: its clients' connection timeouts do that) and returns its address."""
        port = port or free_port()
        self.scheduler = subprocess.Popen(
            [*(prefix or []), DASK, "scheduler", "--host", self.host, "--port", str(port),
             "--no-dashboard"], env=worker_env(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.address = f"tcp://{self.host}:{port}"
        if prefix:
            return self.address
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.scheduler.poll() is not None:
                raise RuntimeError("the Dask scheduler exited")
            try:
                with socket.create_connection((self.host, port), timeout=0.5):
                    return self.address
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the Dask scheduler did not listen")

    def start_worker(self, prefix: list[str] | None = None, host: str | None = None
                     ) -> subprocess.Popen:
        worker = subprocess.Popen(
            [*(prefix or []), DASK, "worker", self.address, "--nthreads", "1", "--no-nanny",
             "--no-dashboard", "--host", host or self.host], env=worker_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
