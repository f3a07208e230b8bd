"""Runs the user-path benchmark: a quantum service process, one worker process per backend.

The service (:mod:`benchmarks.user_path.server`) and the workers
(:mod:`benchmarks.user_path.worker`) each run in a process of their own with the same thread
settings (``OMP_NUM_THREADS``, ``NUMBA_NUM_THREADS``, ``OMP_WAIT_POLICY``). For every case each
backend first runs one untimed warm-up (variant 0: JIT compilation, imports, the session's
opening), then the timed runs, interleaved: run ``r`` gives every backend variant ``r`` in a
rotated order, so that a change of machine load falls on all backends alike. A case stops
after ``repeat`` runs, or after 3 once its time budget is spent.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.user_path import cases as user_cases
from benchmarks.user_path.results import AcceptRow, ParseRow, PathRow, UserPathResults

__all__ = ["run_user_path"]

_ROOT = Path(__file__).resolve().parents[2]
_MIN_RUNS = 3


def _env(threads: int, wait_policy: str) -> dict[str, str]:
    paths = [str(_ROOT), str(_ROOT / "protos"), str(_ROOT / "clients" / "python")]
    return dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
                OMP_WAIT_POLICY=wait_policy,
                PYTHONPATH=os.pathsep.join(filter(None, [*paths, os.environ.get("PYTHONPATH")])))


class _Process:
    """A child speaking one JSON line per request; a reply that takes longer than the timeout
    kills the child (its process group), and the next call starts a new one."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()

    def _start(self) -> None:
        self.lines = queue.Queue()
        log = open(self.log, "a", encoding="utf-8")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, *self.args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=log, text=True, env=self.env, cwd=_ROOT, start_new_session=True)
        log.close()
        lines, stdout = self.lines, self.process.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, name=f"{self.name}-stdout", daemon=True).start()

    def read(self, timeout_s: float) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout_s)
        except queue.Empty:
            self.kill()
            return {"ok": False, "error": f"timed out after {timeout_s:.0f} s"}
        if line is None:
            code = self.process.wait() if self.process else None
            self.process = None
            return {"ok": False, "error": f"{self.name} exited with status {code} (log: "
                    f"{self.log})"}
        return json.loads(line)

    def call(self, task: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self._start()
            ready = self.read(120.0)
            if not ready.get("ok"):
                return ready
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(json.dumps(task) + "\n")
        self.process.stdin.flush()
        return self.read(timeout_s)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
        self.process = None

    def close(self, grace_s: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None


@contextmanager
def _service(env: dict[str, str], workdir: Path) -> Iterator[tuple[str, str]]:
    """Starts the quantum service in its own process; yields its address and an API token
    of user ``bench``."""
    log = open(workdir / "quantum_service.log", "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.user_path.server", str(workdir / "jobs.sqlite")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env,
        cwd=_ROOT, start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the quantum service exited with status {process.wait()}; "
                               f"see {workdir / 'quantum_service.log'}")
        started = json.loads(line)
        yield str(started["address"]), str(started["token"])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _rotated(items: Sequence[str], shift: int) -> list[str]:
    k = shift % len(items)
    return [*items[k:], *items[:k]]


def _timed_loop(run_once: Callable[[int], bool], *, repeat: int, budget_s: float) -> None:
    """Calls ``run_once(variant)`` for variants ``1..repeat``; stops early once ``budget_s`` is
    spent and at least :data:`_MIN_RUNS` runs were made (``run_once`` returns False to stop)."""
    started = time.perf_counter()
    for variant in range(1, repeat + 1):
        if not run_once(variant):
            return
        if variant >= _MIN_RUNS and time.perf_counter() - started > budget_s:
            return


def _path_case(case: user_cases.UserCase, workers: dict[str, _Process], *, repeat: int,
               budget_s: float, timeout_s: float, log: Callable[[str], None],
               notes: list[str]) -> list[PathRow]:
    rows = {b: PathRow(case=case.key, backend=b) for b in workers}
    for backend, worker in workers.items():  # warm-up, not timed
        reply = worker.call({"op": "path", "case": case.spec(), "variant": 0}, timeout_s)
        if not reply.get("ok"):
            rows[backend].error = f"failed: {reply.get('error')}"
            log(f"  {case.key:<8} {backend:<7} warm-up {rows[backend].error}")
    active = [b for b in workers if not rows[b].error]
    if not active:
        return list(rows.values())

    def run_once(variant: int) -> bool:
        texts: dict[str, str] = {}
        for backend in _rotated(active, variant):
            row = rows[backend]
            if row.error:
                continue
            reply = workers[backend].call({"op": "path", "case": case.spec(),
                                           "variant": variant}, timeout_s)
            if not reply.get("ok"):
                row.error = f"failed: {reply.get('error')}"
                continue
            row.times.append(float(reply["total_s"]))
            row.checks.append(float(reply["check"]))
            for name, value in reply.get("parts", {}).items():
                row.parts.setdefault(name, []).append(float(value))
            row.note = reply.get("note", "") or row.note
            if reply.get("sha256"):
                texts[backend] = reply["sha256"]
        if len(set(texts.values())) > 1:
            notes.append(f"{case.key}, run {variant}: the backends generated different texts "
                         f"({', '.join(sorted(texts))}); the row's comparison is void")
        return any(not rows[b].error for b in active)

    _timed_loop(run_once, repeat=repeat, budget_s=budget_s)
    qcore = rows.get("qcore")
    if qcore is not None and qcore.ok and case.kind != "session":
        reply = workers["qcore"].call({"op": "parse_case", "case": case.spec(),
                                       "variant": len(qcore.times)}, timeout_s)
        if reply.get("ok"):
            qcore.parse_alone_s = float(reply["total_s"])
    for backend, row in rows.items():
        log(f"  {case.key:<8} {backend:<7} {row.spread()}")
    return list(rows.values())


def _parse_table(workers: dict[str, _Process], sizes: Sequence[int], *, repeat: int,
                 budget_s: float, timeout_s: float, log: Callable[[str], None]
                 ) -> list[ParseRow]:
    parsers = [b for b in ("qcore", "aer") if b in workers]
    for backend in parsers:  # warm-up: imports, the parser's tables
        workers[backend].call({"op": "parse", "size": min(sizes), "variant": 0}, timeout_s)
    out: list[ParseRow] = []
    for size in sizes:
        rows = {b: ParseRow(backend=b, requested=size) for b in parsers}

        def run_once(variant: int, size: int = size,
                     rows: dict[str, ParseRow] = rows) -> bool:
            for backend in _rotated(parsers, variant):
                row = rows[backend]
                if row.error:
                    continue
                reply = workers[backend].call({"op": "parse", "size": size,
                                               "variant": variant}, timeout_s)
                if not reply.get("ok"):
                    row.error = f"failed: {reply.get('error')}"
                    continue
                row.times.append(float(reply["total_s"]))
                row.size, row.gates = int(reply["size"]), int(reply["gates"])
            return any(not r.error for r in rows.values())

        _timed_loop(run_once, repeat=repeat, budget_s=budget_s)
        for backend, row in rows.items():
            log(f"  parse {size / 1e3:>7.0f} kB {backend:<7} {row.spread()}")
        out.extend(rows.values())
    return out


def _accept(worker: _Process, size: int, *, repeat: int, budget_s: float, timeout_s: float,
            log: Callable[[str], None]) -> AcceptRow:
    row = AcceptRow()

    def run_once(variant: int) -> bool:
        reply = worker.call({"op": "accept", "size": size, "variant": variant}, timeout_s)
        if not reply.get("ok"):
            row.error = f"failed: {reply.get('error')}"
            return False
        row.accept_times.append(float(reply["accept_s"]))
        row.result_times.append(float(reply["result_s"]))
        row.size, row.gates = int(reply["size"]), int(reply["gates"])
        return True

    _timed_loop(run_once, repeat=repeat, budget_s=budget_s)
    log(f"  accept {size / 1e6:.1f} MB: accepted {row.accept_times}, result "
        f"{row.result_times} {row.error}")
    return row


def run_user_path(*, quick: bool, repeat: int, threads: int, wait_policy: str,
                  backends: Sequence[str], only: Sequence[str] = (), budget_s: float = 300.0,
                  timeout_s: float = 900.0, log: Callable[[str], None] = print
                  ) -> UserPathResults:
    """Runs every user-path case, the parse-time table and the large submission.

    Args:
        quick: the small sizes of :mod:`benchmarks.user_path.cases` (a smoke test).
        repeat: timed runs per row (>= 3 gives a median with a spread).
        threads: ``OMP_NUM_THREADS`` / ``NUMBA_NUM_THREADS`` of the service and every worker.
        backends: a subset of ``qcore``, ``aer``, ``qulacs``.
        only: case keys to run (empty: all); ``parse`` and ``accept`` name the two tables.
        budget_s: time per row after which no further runs start (once 3 are done).
        timeout_s: longest wait for one run; a run past it is killed and its row fails.
    Returns:
        The measured rows (failures recorded in the rows, never raised).
    """
    env = _env(threads, wait_policy)
    cases = [c for c in user_cases.user_cases(quick=quick) if not only or c.key in only]
    results = UserPathResults(titles={c.key: c.title for c in cases},
                              kinds={c.key: c.kind for c in cases}, rows=[],
                              widths={c.key: c.qubits for c in cases}, repeat=repeat,
                              threads=threads, quick=quick)
    with tempfile.TemporaryDirectory(prefix="qcore-bench-") as tmp:
        workdir = Path(tmp)
        with _service(env, workdir) as (address, token):
            log(f"quantum service at {address} (separate process)")
            worker_env = {**env, "QCORE_TOKEN": token}  # read by the SDK in the qcore worker
            workers = {b: _Process(b, ["-m", "benchmarks.user_path.worker", b, "--address",
                                       address, "--timeout-s", str(timeout_s)], worker_env,
                                   workdir / f"worker-{b}.log")
                       for b in ("qcore", "aer", "qulacs") if b in backends}
            try:
                for backend, worker in workers.items():
                    reply = worker.call({"op": "version"}, 300.0)
                    results.versions[backend] = (reply.get("version") if reply.get("ok")
                                                 else f"unavailable: {reply.get('error')}")
                    log(f"  {backend}: {results.versions[backend]}")
                live = {b: w for b, w in workers.items()
                        if not results.versions[b].startswith("unavailable")}
                for case in cases:
                    results.rows += _path_case(case, live, repeat=repeat, budget_s=budget_s,
                                               timeout_s=timeout_s, log=log,
                                               notes=results.notes)
                if not only or "parse" in only:
                    results.parse = _parse_table(live, user_cases.parse_sizes(quick=quick),
                                                 repeat=repeat, budget_s=budget_s,
                                                 timeout_s=timeout_s, log=log)
                if "qcore" in live and (not only or "accept" in only):
                    results.accept = _accept(live["qcore"], user_cases.accept_size(quick=quick),
                                             repeat=repeat, budget_s=budget_s,
                                             timeout_s=timeout_s, log=log)
            finally:
                for worker in workers.values():
                    worker.close()
    return results
