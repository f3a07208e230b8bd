"""Execution lanes, durable cancel, interruption by a stop, session placement with full QPUs and
capped idle timeouts, in-process with real simulated drivers."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.faults import wide_program
from broker.publisher import NullPublisher
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.contract import ExecutionCancelled, ExecutionOptions
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import ResourceExhaustedError
from quantum_service.kernel.jobs import JobRecord, JobState
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.lanes import ExecutionLanes
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.sessions import SessionManager
from quantum_service.kernel.store import JobStore

ANSATZ = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
qubit[2] q;
ry(a) q[0];
cx q[0], q[1];
"""


def fleet() -> list[SimulatedQpuDriver]:
    return [SimulatedQpuDriver(*superconducting_grid(), drift=False),
            SimulatedQpuDriver(*trapped_ion_chain(), drift=False),
            SimulatedQpuDriver(*trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False,
                                                  seed=24))]


def long_request(parameter_set_count: int, qubit_count: int = 14) -> qs_pb2.SubmitJobRequest:
    return qs_pb2.SubmitJobRequest(
        qpu_id="ion-ideal-24", shot_count=10,
        programs=[common_pb2.Program(openqasm=wide_program(qubit_count, 8))],
        parameter_sets=[common_pb2.ParameterSet(values=[0.01 * i])
                        for i in range(parameter_set_count)])


async def wait_for(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# -- lanes -----------------------------------------------------------------------------------


async def test_a_busy_lane_delays_neither_another_lane_nor_admission() -> None:
    lanes = ExecutionLanes(["a", "b"], lane_workers=1, admission_workers=1)
    release = threading.Event()
    try:
        blocked = asyncio.ensure_future(lanes.on_lane("a", release.wait, 30))
        await asyncio.sleep(0.05)
        assert lanes.busy == 1
        # b's lane and the admission pool answer while a's only thread is taken
        assert await asyncio.wait_for(lanes.on_lane("b", lambda: "b"), 5) == "b"
        assert await asyncio.wait_for(lanes.admit(lambda: "admitted"), 5) == "admitted"
        assert not blocked.done()
    finally:
        release.set()
        await blocked
        lanes.shutdown()
    assert lanes.busy == 0


# -- the driver stops between parameter sets -------------------------------------------------


@pytest.mark.parametrize(("text", "observable"), [
    (ANSATZ.replace("qubit[2] q;", "qubit[2] q;\nbit[2] c;") + "c = measure q;\n", None),
    (ANSATZ, [("Z0", 1.0)])])
def test_driver_stops_between_parameter_sets(text, observable) -> None:
    driver = SimulatedQpuDriver(*trapped_ion_chain(), drift=False)
    program = driver.prepare(parse_qasm(text), observable=observable)
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) > 3  # three parameter sets run, the fourth is refused

    with pytest.raises(ExecutionCancelled):
        driver.execute(program, np.linspace(0, 1, 10)[:, None],
                       ExecutionOptions(shot_count=50, seed=1, should_stop=should_stop))
    assert len(asked) == 4
    full = driver.execute(program, np.linspace(0, 1, 10)[:, None],
                          ExecutionOptions(shot_count=50, seed=1, should_stop=lambda: False))
    assert full.circuit_executions == 10


# -- durable cancel ------------------------------------------------------------------------


async def test_a_cancel_stored_before_a_crash_ends_the_job_cancelled_on_restart(
        tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    record = JobRecord(job_id="job-00000000000000aa", request=long_request(2), owner="alice",
                       state=JobState.QUEUED, qpu_id="ion-ideal-24")
    store.insert(record)
    record.transition(JobState.RUNNING)
    store.update(record)
    store.request_cancel(record.job_id)
    record.error_message = "a later update by the worker"
    store.update(record)  # must not clear the stored request
    store.close()  # the process "crashed" with the job RUNNING

    kernel = Kernel(QpuRegistry(fleet()), JobStore(tmp_path / "jobs.sqlite"), NullPublisher())
    await kernel.start()
    try:
        job = kernel.get(record.job_id)
        assert job.state is JobState.CANCELLED and job.result is None
        assert "cancelled" in job.error_message
        assert not kernel.board.queues["ion-ideal-24"].entries  # never queued again
    finally:
        await kernel.stop()


def test_a_store_without_the_cancel_column_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    store = JobStore(path)
    store.insert(JobRecord(job_id="job-01", request=long_request(1), owner="bob",
                           state=JobState.QUEUED, qpu_id="ion-ideal-24"))
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE jobs DROP COLUMN cancel_requested")
    store = JobStore(path)
    try:
        assert store.get("job-01").cancel_requested is False
        store.request_cancel("job-01")
        assert store.get("job-01").cancel_requested is True
    finally:
        store.close()


async def test_cancel_of_a_running_job_is_stored_and_stops_it(tmp_path: Path) -> None:
    kernel = Kernel(QpuRegistry(fleet()), JobStore(tmp_path / "jobs.sqlite"), NullPublisher())
    await kernel.start()
    try:
        job = await kernel.submit(long_request(400), owner="alice")
        await wait_for(lambda: kernel.get(job.job_id).state is JobState.RUNNING)
        answered = await kernel.cancel(job.job_id)
        assert kernel.store.get(job.job_id).cancel_requested  # stored before the reply
        assert answered.error_message == "cancellation requested"
        began = time.monotonic()
        await wait_for(lambda: kernel.get(job.job_id).state.is_terminal)
        assert kernel.get(job.job_id).state is JobState.CANCELLED
        assert time.monotonic() - began < 10  # next parameter set, not the end of the job
    finally:
        await kernel.stop()


# -- stop ----------------------------------------------------------------------------------


async def test_stop_interrupts_a_running_job_and_leaves_it_queued(tmp_path: Path) -> None:
    kernel = Kernel(QpuRegistry(fleet()), JobStore(tmp_path / "jobs.sqlite"), NullPublisher())
    await kernel.start()
    job = await kernel.submit(long_request(400), owner="carol")
    queued = await kernel.submit(long_request(1), owner="carol")
    await wait_for(lambda: kernel.get(job.job_id).state is JobState.RUNNING)
    began = time.monotonic()
    await kernel.interrupt(grace_s=5.0)
    took = time.monotonic() - began
    states = (kernel.store.get(job.job_id).state, kernel.store.get(queued.job_id).state)
    kernel.close()
    assert took < 5.0
    assert states == (JobState.QUEUED, JobState.QUEUED)


# -- sessions --------------------------------------------------------------------------------


def session_start(**fields) -> qs_pb2.SessionStart:
    start = qs_pb2.SessionStart(program=common_pb2.Program(openqasm=ANSATZ), shot_count=100,
                                **fields)
    start.observable.terms.add(pauli_string="Z0", coefficient=1.0)
    return start


async def test_sessions_left_to_placement_go_to_qpus_with_free_leases() -> None:
    kernel = Kernel(QpuRegistry(fleet(), max_sessions_per_qpu=1), JobStore(":memory:"),
                    NullPublisher())
    await kernel.start()
    sessions = SessionManager(kernel)
    try:
        opened = await asyncio.gather(*(sessions.open(session_start(), owner=f"u{i}")
                                        for i in range(3)))
        assert sorted(s.qpu_id for s in opened) == ["ion-chain-11", "ion-ideal-24",
                                                    "sc-grid-16"]
        with pytest.raises(ResourceExhaustedError) as error:
            await sessions.open(session_start(), owner="u3")
        assert error.value.reason == "SESSION_LIMIT"
        sessions.close(opened[0])
        again = await sessions.open(session_start(), owner="u3")
        assert again.qpu_id == opened[0].qpu_id
    finally:
        await kernel.stop()


async def test_idle_timeouts_are_clamped_to_the_configured_maximum() -> None:
    kernel = Kernel(QpuRegistry(fleet()), JobStore(":memory:"), NullPublisher())
    await kernel.start()
    sessions = SessionManager(kernel, default_idle_timeout_s=30, max_idle_timeout_s=120)
    try:
        huge = await sessions.open(session_start(idle_timeout_s=2**31 - 1), owner="mallory")
        default = await sessions.open(session_start(), owner="alice")
        short = await sessions.open(session_start(idle_timeout_s=5), owner="alice")
        assert (huge.idle_timeout_s, default.idle_timeout_s, short.idle_timeout_s) == (
            120, 30, 5)
        ready = sessions.ready_message(huge)
        assert ready.expire_time.seconds <= time.time() + 121
    finally:
        await kernel.stop()
