"""Fault scenarios against real quantum-service processes (``python -m quantum_service``).

Each scenario starts the service as a child process on a free loopback port with its own SQLite
store, drives it over gRPC with API tokens minted into that store, injects a fault (``kill -9``,
``SIGTERM``, a long job on another QPU, load) and returns what it measured. Used by the
fault-injection tests (``tests/integration/test_faults.py``, small sizes) and by
:mod:`benchmarks.reliability` (full sizes, writes ``RELIABILITY_REPORT.md``).

Telemetry is off in these processes (the broker's faults are scenarios of their own) and
automatic calibration is off, so device work is only the scenario's jobs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import bearer_interceptors
from qcore_client.launcher import free_port
from quantum_service.kernel.jobs import JobRecord
from quantum_service.kernel.store import JobStore
from quantum_service.security.tokens import TokenStore

__all__ = [
    "CancelKillResult",
    "HeadOfLineResult",
    "KillResult",
    "LoadResult",
    "ServiceProcess",
    "SigtermResult",
    "cancel_then_kill",
    "head_of_line",
    "kill9_with_queue",
    "load",
    "percentile_ms",
    "sigterm_stop",
    "wide_program",
]

ROOT = Path(__file__).resolve().parents[1]
#: Device seconds per quota window of each user in :func:`load` (the default is one device-hour).
LOAD_QUOTA_DEVICE_S = 1e7
FINAL = (common_pb2.JOB_STATE_SUCCEEDED, common_pb2.JOB_STATE_FAILED,
         common_pb2.JOB_STATE_CANCELLED)
#: The long job's QPU ("A") and the QPUs whose latency is measured beside it ("B").
LONG_QPU = "ion-ideal-24"
OTHER_QPU = "sc-grid-16"
SESSION_QPU = "na-array-16"

BELL = ("OPENQASM 2.0; include \"qelib1.inc\"; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; "
        "measure q -> c;")
ANSATZ = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
qubit[2] q;
ry(a) q[0];
cx q[0], q[1];
"""


def wide_program(qubit_count: int, layers: int) -> str:
    """A parametric OpenQASM 3 program (input ``theta``): ``layers`` × (``ry`` on every qubit,
    a ``cx`` chain), every qubit measured. 20 qubits × 8 layers run ~0.5 s per parameter set
    on one core (state vector, 2^20 amplitudes)."""
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "input float[64] theta;",
             f"qubit[{qubit_count}] q;", f"bit[{qubit_count}] c;"]
    for layer in range(layers):
        lines += [f"ry(theta + {0.1 * (q + layer):.2f}) q[{q}];" for q in range(qubit_count)]
        lines += [f"cx q[{q}], q[{q + 1}];" for q in range(qubit_count - 1)]
    lines.append("c = measure q;")
    return "\n".join(lines)


def long_job(parameter_set_count: int, *, request_id: str = "", qubit_count: int = 20
             ) -> qs_pb2.SubmitJobRequest:
    """A 20-qubit sampling job on :data:`LONG_QPU`, ~0.5 s per parameter set."""
    return qs_pb2.SubmitJobRequest(
        request_id=request_id, qpu_id=LONG_QPU, shot_count=100, name="long",
        programs=[common_pb2.Program(openqasm=wide_program(qubit_count, 8))],
        parameter_sets=[common_pb2.ParameterSet(values=[0.01 * i])
                        for i in range(parameter_set_count)])


def small_job(*, qpu_id: str = OTHER_QPU, request_id: str = "", name: str = "small"
              ) -> qs_pb2.SubmitJobRequest:
    """A Bell-pair sampling job (100 shots); ``qpu_id = ""`` leaves it to placement."""
    return qs_pb2.SubmitJobRequest(request_id=request_id, qpu_id=qpu_id, shot_count=100,
                                   name=name, programs=[common_pb2.Program(openqasm=BELL)])


def session_start(*, qpu_id: str = "", shot_count: int = 100) -> qs_pb2.OpenSessionRequest:
    """A session on a 2-qubit ansatz with observable ``Z0 + 0.5 Z0 Z1``."""
    start = qs_pb2.SessionStart(qpu_id=qpu_id, shot_count=shot_count,
                                program=common_pb2.Program(openqasm=ANSATZ))
    start.observable.terms.add(pauli_string="Z0", coefficient=1.0)
    start.observable.terms.add(pauli_string="Z0 Z1", coefficient=0.5)
    return qs_pb2.OpenSessionRequest(start=start)


def evaluate(sequence: int, value: float) -> qs_pb2.OpenSessionRequest:
    return qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
        sequence=sequence, parameter_values=np.array([value], dtype="<f8").tobytes(),
        parameter_set_count=1))


def percentile_ms(latencies_s: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100, linear interpolation) of latencies, milliseconds."""
    return float(np.percentile(np.asarray(latencies_s, dtype=float), q) * 1e3)


@dataclass
class ServiceProcess:
    """``python -m quantum_service`` as a child process (own process group) with its store.

    Args:
        workdir: holds the store (``jobs.sqlite``) and the log (``quantum_service.log``).
        grace_s: ``QCORE_QUANTUM_GRACE_S``.
        env: further ``QCORE_QUANTUM_*`` settings.
    """

    workdir: Path
    grace_s: float = 5.0
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def db_path(self) -> Path:
        return self.workdir / "jobs.sqlite"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def mint(self, user: str, *, admin: bool = False) -> str:
        """A token for ``user`` in the service's store (before or while it runs)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        tokens = TokenStore(self.db_path)
        try:
            return tokens.create(user, admin=admin)
        finally:
            tokens.close()

    async def start(self, *, timeout_s: float = 120.0) -> float:
        """Starts the process and waits until it reports SERVING; returns the seconds taken.

        Raises:
            RuntimeError: the process exited; TimeoutError: not healthy in ``timeout_s``.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                   [str(ROOT), str(ROOT / "protos"), str(ROOT / "clients" / "python"),
                    os.environ.get("PYTHONPATH", "")]),
               "QCORE_QUANTUM_PORT": str(self.port), "QCORE_QUANTUM_DB_PATH": str(self.db_path),
               "QCORE_QUANTUM_TELEMETRY": "false", "QCORE_QUANTUM_AUTO_CALIBRATION": "false",
               "QCORE_QUANTUM_GRACE_S": str(self.grace_s), **self.env}
        self.starts += 1
        log = open(self.workdir / "quantum_service.log", "a")  # noqa: SIM115 - kept by the child
        began = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "quantum_service"], env=env,
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, cwd=self.workdir)
        log.close()
        async with grpc.aio.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() - began < timeout_s:
                if self.process.poll() is not None:
                    raise RuntimeError(f"quantum service exited with {self.process.returncode} "
                                       f"(log: {self.workdir / 'quantum_service.log'})")
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return time.monotonic() - began
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"quantum service not healthy after {timeout_s:.0f} s")

    def kill9(self) -> None:
        """SIGKILL, no chance to clean up; waits for the process to be gone."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def sigterm(self, *, timeout_s: float = 60.0) -> tuple[float, int]:
        """SIGTERM; returns (seconds until the process exited, exit status).

        Raises:
            TimeoutError: still running after ``timeout_s`` (it is then killed).
        """
        assert self.process is not None
        began = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            status = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise TimeoutError(f"no exit within {timeout_s:g} s of SIGTERM") from None
        return time.monotonic() - began, status

    def stop(self) -> None:
        """Ends the process if it still runs (SIGTERM, then SIGKILL after 20 s)."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.sigterm(timeout_s=20.0)
            except TimeoutError:
                pass

    def stored_jobs(self) -> list[JobRecord]:
        """Every job in the store, oldest first (read directly, with the service stopped or
        running: SQLite in WAL mode)."""
        store = JobStore(self.db_path)
        try:
            jobs, _ = store.list(limit=1_000_000)
        finally:
            store.close()
        return list(reversed(jobs))


@asynccontextmanager
async def stub_for(service: ServiceProcess, token: str
                   ) -> AsyncIterator[qs_grpc.QuantumServiceStub]:
    """A stub sending ``token`` on every call to ``service``."""
    channel = grpc.aio.insecure_channel(service.address, interceptors=bearer_interceptors(token))
    try:
        yield qs_grpc.QuantumServiceStub(channel)
    finally:
        await channel.close()


async def wait_state(stub: qs_grpc.QuantumServiceStub, job_id: str, states: Sequence[int], *,
                     timeout_s: float = 120.0, poll_s: float = 0.05) -> qs_pb2.Job:
    """Polls ``GetJob`` until the job is in one of ``states``.

    Raises:
        TimeoutError: not within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        job = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id))).job
        if job.state in states:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {common_pb2.JobState.Name(job.state)} "
                               f"after {timeout_s:g} s")
        await asyncio.sleep(poll_s)


# -- kill -9 with jobs queued and running ----------------------------------------------------


@dataclass(frozen=True)
class KillResult:
    """Outcome of :func:`kill9_with_queue`: every submission retried after the restart with its
    ``request_id``; ``lost`` have no job or did not succeed, ``duplicated`` are jobs beyond one
    per submission (stored jobs minus submissions, plus retries answered with another job)."""

    submitted: int
    running_at_kill: int
    queued_at_kill: int
    succeeded: int
    lost: int
    duplicated: int
    restart_s: float
    drain_s: float


async def kill9_with_queue(workdir: Path, *, queued: int = 50, running: int = 2,
                           long_sets: int = 16, timeout_s: float = 600.0) -> KillResult:
    """``running`` (1 or 2) long jobs RUNNING — a 20-qubit one on :data:`LONG_QPU`, a 10-qubit
    noisy one on :data:`OTHER_QPU` — and ``queued`` small jobs QUEUED behind them on those two
    QPUs, then ``kill -9``; restart; retry every submission with its ``request_id``; wait until
    all are final."""
    service = ServiceProcess(workdir)
    token = service.mint("operator", admin=True)
    await service.start()
    try:
        requests = [long_job(long_sets, request_id=f"long-{i}") for i in range(running)]
        if running > 1:  # the second long job runs on another QPU
            requests[1].qpu_id = OTHER_QPU
            requests[1].programs[0].openqasm = wide_program(10, 8)
        requests += [small_job(qpu_id=(LONG_QPU, OTHER_QPU)[i % 2], request_id=f"small-{i}")
                     for i in range(queued)]
        async with stub_for(service, token) as stub:
            first = [(await stub.SubmitJob(r)).job for r in requests]
            for job in first[:running]:
                await wait_state(stub, job.job_id, (common_pb2.JOB_STATE_RUNNING,))
            states = [(await stub.GetJob(qs_pb2.GetJobRequest(job_id=j.job_id))).job.state
                      for j in first]
        service.kill9()
        restart_s = await service.start()
        began = time.monotonic()
        async with stub_for(service, token) as stub:
            retried = [(await stub.SubmitJob(r)).job for r in requests]
            final = [await wait_state(stub, j.job_id, FINAL, timeout_s=timeout_s)
                     for j in retried]
        drain_s = time.monotonic() - began
    finally:
        service.stop()
    stored = service.stored_jobs()
    other_answer = sum(a.job_id != b.job_id for a, b in zip(first, retried))
    return KillResult(
        submitted=len(requests),
        running_at_kill=sum(s == common_pb2.JOB_STATE_RUNNING for s in states),
        queued_at_kill=sum(s == common_pb2.JOB_STATE_QUEUED for s in states),
        succeeded=sum(j.state == common_pb2.JOB_STATE_SUCCEEDED for j in final),
        lost=sum(j.state != common_pb2.JOB_STATE_SUCCEEDED for j in final),
        duplicated=max(0, len(stored) - len(requests)) + other_answer,
        restart_s=restart_s, drain_s=drain_s)


# -- cancel, then kill -9 --------------------------------------------------------------------


@dataclass(frozen=True)
class CancelKillResult:
    """Outcome of :func:`cancel_then_kill`: the job's state right after ``CancelJob`` (still
    RUNNING while the driver reaches its next parameter set) and after the restart."""

    state_at_kill: str
    state_after_restart: str
    state_after_wait: str
    has_result: bool
    error_message: str


async def cancel_then_kill(workdir: Path, *, long_sets: int = 64, settle_s: float = 2.0
                           ) -> CancelKillResult:
    """A long job RUNNING, ``CancelJob``, ``kill -9`` at once; restart; its state, and again
    ``settle_s`` later (a job re-run would show RUNNING or SUCCEEDED)."""
    service = ServiceProcess(workdir)
    token = service.mint("alice")
    await service.start()
    try:
        async with stub_for(service, token) as stub:
            job = (await stub.SubmitJob(long_job(long_sets))).job
            await wait_state(stub, job.job_id, (common_pb2.JOB_STATE_RUNNING,))
            at_cancel = (await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=job.job_id))).job
        service.kill9()
        await service.start()
        async with stub_for(service, token) as stub:
            after = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job.job_id))).job
            await asyncio.sleep(settle_s)
            later = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job.job_id))).job
    finally:
        service.stop()
    name = common_pb2.JobState.Name
    return CancelKillResult(state_at_kill=name(at_cancel.state), state_after_restart=name(
        after.state), state_after_wait=name(later.state), has_result=later.HasField("result"),
        error_message=later.error_message)


# -- SIGTERM ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigtermResult:
    """Outcome of :func:`sigterm_stop`: seconds from SIGTERM to exit, the exit status, the
    stored states of the interrupted and the queued jobs, and whether the interrupted job
    then ran to SUCCEEDED after a restart (``None``: not checked)."""

    grace_s: float
    stop_s: float
    exit_status: int
    interrupted_state: str
    queued_states: tuple[str, ...]
    rerun_succeeded: bool | None


async def sigterm_stop(workdir: Path, *, grace_s: float = 5.0, long_sets: int = 64,
                       queued: int = 3, rerun: bool = False) -> SigtermResult:
    """A long job RUNNING and ``queued`` jobs behind it, then SIGTERM; with ``rerun``, restart
    and wait for the interrupted job (a shorter copy is not used: the same job runs again)."""
    service = ServiceProcess(workdir, grace_s=grace_s)
    token = service.mint("bob")
    await service.start()
    try:
        async with stub_for(service, token) as stub:
            job = (await stub.SubmitJob(long_job(long_sets))).job
            behind = [(await stub.SubmitJob(small_job(qpu_id=LONG_QPU))).job
                      for _ in range(queued)]
            await wait_state(stub, job.job_id, (common_pb2.JOB_STATE_RUNNING,))
            await asyncio.sleep(0.5)  # well inside a chunk
        stop_s, status = service.sigterm()
        stored = {j.job_id: j for j in service.stored_jobs()}
        rerun_ok = None
        if rerun:
            await service.start()
            async with stub_for(service, token) as stub:
                final = await wait_state(stub, job.job_id, FINAL, timeout_s=600)
            rerun_ok = final.state == common_pb2.JOB_STATE_SUCCEEDED
    finally:
        service.stop()
    return SigtermResult(
        grace_s=grace_s, stop_s=stop_s, exit_status=status,
        interrupted_state=stored[job.job_id].state.name,
        queued_states=tuple(stored[j.job_id].state.name for j in behind),
        rerun_succeeded=rerun_ok)


# -- head-of-line blocking -------------------------------------------------------------------


@dataclass(frozen=True)
class HeadOfLineResult:
    """Latencies (seconds) on other QPUs, idle and while :data:`LONG_QPU` runs a 20-qubit
    job, and whether that job was still RUNNING when the measurement ended."""

    idle_submit_s: tuple[float, ...]
    busy_submit_s: tuple[float, ...]
    busy_open_session_s: tuple[float, ...]
    busy_evaluate_s: tuple[float, ...]
    long_job_still_running: bool


async def head_of_line(workdir: Path, *, samples: int = 200, sessions: int = 5,
                       evaluations: int = 50, long_sets: int = 256) -> HeadOfLineResult:
    """``SubmitJob`` on :data:`OTHER_QPU` (``samples`` sequential calls) with every QPU idle,
    then the same while :data:`LONG_QPU` runs a 20-qubit job, plus ``OpenSession`` on
    :data:`SESSION_QPU` and evaluations in a session on :data:`OTHER_QPU` opened before the
    long job started. The per-user queued-job quota is lifted (``samples`` jobs may queue on
    :data:`OTHER_QPU` when the long job's simulation takes the cores its worker needs): the
    scenario measures admission latency, not quotas."""
    service = ServiceProcess(workdir,
                             env={"QCORE_QUANTUM_QUOTA_MAX_QUEUED_JOBS": str(4 * samples)})
    token = service.mint("carol")
    other = service.mint("dave")
    await service.start()
    try:
        async with stub_for(service, token) as stub, stub_for(service, other) as b_stub:
            warm = (await b_stub.SubmitJob(small_job())).job  # compile caches, numba warm-up
            await wait_state(b_stub, warm.job_id, FINAL)

            async def submits() -> list[float]:
                out = []
                for i in range(samples):
                    began = time.perf_counter()
                    await b_stub.SubmitJob(small_job(name=f"b-{i}"))
                    out.append(time.perf_counter() - began)
                return out

            idle = await submits()
            session = b_stub.OpenSession()
            await session.write(session_start(qpu_id=OTHER_QPU))
            await session.read()
            await session.write(evaluate(0, 0.1))
            await session.read()
            long = (await stub.SubmitJob(long_job(long_sets))).job
            await wait_state(stub, long.job_id, (common_pb2.JOB_STATE_RUNNING,))
            busy = await submits()
            opens = []
            for _ in range(sessions):
                began = time.perf_counter()
                call = b_stub.OpenSession()
                await call.write(session_start(qpu_id=SESSION_QPU))
                await call.read()
                opens.append(time.perf_counter() - began)
                await call.done_writing()
                await call.code()
            evals = []
            for i in range(evaluations):
                began = time.perf_counter()
                await session.write(evaluate(i + 1, 0.01 * i))
                await session.read()
                evals.append(time.perf_counter() - began)
            await session.done_writing()
            await session.code()
            state = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=long.job_id))).job.state
            await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=long.job_id))
    finally:
        service.stop()
    return HeadOfLineResult(tuple(idle), tuple(busy), tuple(opens), tuple(evals),
                            state == common_pb2.JOB_STATE_RUNNING)


# -- load: many users' jobs and sessions at once ---------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    """Outcome of :func:`load`: jobs submitted, succeeded, lost (not SUCCEEDED) and
    duplicated (stored beyond one per submission), session evaluations done, the QPUs the
    sessions were placed on, latencies (seconds) and the wall time."""

    users: int
    jobs: int
    succeeded: int
    lost: int
    duplicated: int
    sessions: int
    evaluations: int
    session_qpus: tuple[str, ...]
    submit_s: tuple[float, ...]
    evaluate_s: tuple[float, ...]
    wall_s: float


async def load(workdir: Path, *, users: int = 20, jobs_per_user: int = 50, sessions: int = 10,
               evaluations: int = 200, timeout_s: float = 900.0) -> LoadResult:
    """``users`` users each submit ``jobs_per_user`` Bell jobs left to placement (each user's
    submissions one after another, all users at once) while ``sessions`` sessions left to
    placement run ``evaluations`` evaluations each; then every job is awaited. The per-user
    device-time quota is lifted (:data:`LOAD_QUOTA_DEVICE_S`): the scenario measures loss and
    latency under load, and placement may put Bell jobs on the neutral-atom array, where 100
    shots cost about a device-minute, so 50 of them exceed the default hourly quota."""
    service = ServiceProcess(workdir, env={
        "QCORE_QUANTUM_MAX_SESSIONS_PER_QPU": "4",
        "QCORE_QUANTUM_QUOTA_DEVICE_S_PER_WINDOW": str(LOAD_QUOTA_DEVICE_S)})
    tokens = [service.mint(f"user{u:02d}") for u in range(users)]
    admin = service.mint("operator", admin=True)
    await service.start()
    submit_s: list[float] = []
    evaluate_s: list[float] = []
    placed: list[str] = []
    began = time.monotonic()
    try:
        async def user(u: int) -> list[str]:
            ids = []
            async with stub_for(service, tokens[u]) as stub:
                for j in range(jobs_per_user):
                    t0 = time.perf_counter()
                    job = (await stub.SubmitJob(small_job(qpu_id="", request_id=f"{u}-{j}"))).job
                    submit_s.append(time.perf_counter() - t0)
                    ids.append(job.job_id)
            return ids

        async def run_session(s: int) -> int:
            async with stub_for(service, tokens[s % users]) as stub:
                call = stub.OpenSession()
                await call.write(session_start())
                ready = (await call.read()).ready
                placed.append(ready.qpu_id)
                for i in range(evaluations):
                    t0 = time.perf_counter()
                    await call.write(evaluate(i, 0.003 * i))
                    await call.read()
                    evaluate_s.append(time.perf_counter() - t0)
                await call.done_writing()
                await call.code()
            return evaluations

        results = await asyncio.gather(*(user(u) for u in range(users)),
                                       *(run_session(s) for s in range(sessions)))
        job_ids = [i for r in results[:users] for i in r]
        done = sum(results[users:])
        async with stub_for(service, admin) as stub:
            final = [await wait_state(stub, i, FINAL, timeout_s=timeout_s, poll_s=0.2)
                     for i in job_ids]
        wall_s = time.monotonic() - began
    finally:
        service.stop()
    stored = service.stored_jobs()
    return LoadResult(
        users=users, jobs=len(job_ids),
        succeeded=sum(j.state == common_pb2.JOB_STATE_SUCCEEDED for j in final),
        lost=sum(j.state != common_pb2.JOB_STATE_SUCCEEDED for j in final),
        duplicated=max(0, len(stored) - users * jobs_per_user),
        sessions=sessions, evaluations=done, session_qpus=tuple(placed),
        submit_s=tuple(submit_s), evaluate_s=tuple(evaluate_s), wall_s=wall_s)
