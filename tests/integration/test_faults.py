"""Fault injection against real quantum-service processes (:mod:`benchmarks.faults`): kill -9,
cancel then kill, SIGTERM, work on one QPU beside a long job on another, many users at once.

Latency figures are measured by ``python -m benchmarks.reliability``, not asserted here; these
tests assert outcomes (states, counts) and the SIGTERM deadline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from benchmarks import faults
from qcore_client.launcher import STOP_WAIT_S
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2

pytestmark = pytest.mark.integration


async def test_cancel_then_kill_stays_cancelled_after_restart(tmp_path: Path) -> None:
    result = await faults.cancel_then_kill(tmp_path, long_sets=64, settle_s=1.0)
    assert result.state_at_kill == "JOB_STATE_RUNNING"  # killed before the worker noticed
    assert result.state_after_restart == "JOB_STATE_CANCELLED"
    assert result.state_after_wait == "JOB_STATE_CANCELLED"  # never re-run
    assert not result.has_result
    assert "cancel" in result.error_message


async def test_sigterm_stops_within_grace_and_leaves_jobs_queued(tmp_path: Path) -> None:
    result = await faults.sigterm_stop(tmp_path, grace_s=5.0, long_sets=64, queued=2)
    assert result.exit_status == 0  # it exited on its own
    # before the launcher's SIGKILL; the stop time itself is measured in
    # benchmarks/RELIABILITY_REPORT.md, not asserted here
    assert result.stop_s < STOP_WAIT_S
    assert result.interrupted_state == "QUEUED"
    assert result.queued_states == ("QUEUED", "QUEUED")


async def test_another_qpu_runs_to_completion_beside_a_long_job(tmp_path: Path) -> None:
    """While a 20-qubit job runs on one QPU, a job on another QPU is admitted and finishes,
    and a session on a third opens and evaluates (before the long job ends)."""
    service = faults.ServiceProcess(tmp_path)
    token = service.mint("erin")
    await service.start()
    try:
        async with faults.stub_for(service, token) as stub:
            long = (await stub.SubmitJob(faults.long_job(256))).job
            await faults.wait_state(stub, long.job_id, (common_pb2.JOB_STATE_RUNNING,))
            other = (await stub.SubmitJob(faults.small_job())).job
            done = await faults.wait_state(stub, other.job_id, faults.FINAL, timeout_s=60)
            call = stub.OpenSession()
            await call.write(faults.session_start(qpu_id=faults.SESSION_QPU))
            ready = (await call.read()).ready
            await call.write(faults.evaluate(1, 0.2))
            result = (await call.read()).result
            await call.done_writing()
            await call.code()
            still = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=long.job_id))).job
            await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=long.job_id))
    finally:
        service.stop()
    assert done.state == common_pb2.JOB_STATE_SUCCEEDED
    assert ready.qpu_id == faults.SESSION_QPU and result.sequence == 1
    assert still.state == common_pb2.JOB_STATE_RUNNING


@pytest.mark.slow
async def test_kill9_with_50_queued_and_2_running_loses_and_duplicates_nothing(
        tmp_path: Path) -> None:
    result = await faults.kill9_with_queue(tmp_path, queued=50, running=2, long_sets=8)
    assert (result.running_at_kill, result.queued_at_kill) == (2, 50)
    assert result.succeeded == result.submitted == 52
    assert result.lost == 0 and result.duplicated == 0


@pytest.mark.slow
async def test_sigterm_interrupted_job_runs_again_after_restart(tmp_path: Path) -> None:
    result = await faults.sigterm_stop(tmp_path, long_sets=16, queued=1, rerun=True)
    assert result.interrupted_state == "QUEUED" and result.rerun_succeeded


@pytest.mark.slow
async def test_20_users_50_jobs_and_10_sessions_200_evaluations(tmp_path: Path) -> None:
    result = await asyncio.wait_for(faults.load(tmp_path), 1200)
    assert result.jobs == result.succeeded == 1000
    assert result.lost == 0 and result.duplicated == 0
    assert result.evaluations == 10 * 200
    assert len(set(result.session_qpus)) >= 3  # 4 leases per QPU: placement spread them
