"""Replays: a job re-run with its seed, calibration snapshot and device state gives bit-identical
counts, however far the device drifted and whatever was calibrated since."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from benchmarks.faults import wide_program
from broker.publisher import NullPublisher
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.contract import CalibrationSnapshot
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import FailedPreconditionError, InvalidProgramError, NotFoundError
from quantum_service.kernel.jobs import JobState
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.scheduler import SchedulerPolicy
from quantum_service.kernel.store import JobStore

QPU = "sc-grid-16"


def noisy_job(parameter_sets: int) -> qs_pb2.SubmitJobRequest:
    return qs_pb2.SubmitJobRequest(
        qpu_id=QPU, shot_count=4000, seed=11,
        programs=[common_pb2.Program(openqasm=wide_program(5, 3))],
        parameter_sets=[common_pb2.ParameterSet(values=[0.3 * i])
                        for i in range(parameter_sets)])


def counts_of(job) -> list[dict[str, int]]:
    return [dict(e.counts) for e in job.result.experiments]


async def finished(kernel: Kernel, job_id: str):
    deadline = time.monotonic() + 120
    while not kernel.get(job_id).state.is_terminal:
        assert time.monotonic() < deadline, "job did not finish"
        await asyncio.sleep(0.01)
    job = kernel.get(job_id)
    assert job.state is JobState.SUCCEEDED, job.error_message
    return job


@pytest.fixture
async def drifting(tmp_path: Path):
    driver = SimulatedQpuDriver(*superconducting_grid(), seed=5, drift_step_s=1.0)
    kernel = Kernel(QpuRegistry([driver]), JobStore(tmp_path / "jobs.sqlite"), NullPublisher(),
                    policy=SchedulerPolicy(multiprogramming=False))
    await kernel.start()
    try:
        yield kernel, driver
    finally:
        await kernel.stop()


async def test_a_replay_after_drift_and_recalibration_gives_bit_identical_counts(drifting):
    kernel, driver = drifting
    # 20 parameter sets: three chunks, run two at a time while the device clock advances
    original = await finished(kernel, (await kernel.submit(noisy_job(20), owner="alice")).job_id)
    assert original.device_state
    # the device drifts for two hours and is recalibrated
    driver.advance_clock(7200.0)
    driver.install_snapshot(CalibrationSnapshot.create(QPU, driver.true_parameters()))
    resubmitted = await finished(kernel, (await kernel.submit(noisy_job(20),
                                                              owner="alice")).job_id)
    replay = await finished(kernel, (await kernel.submit(
        qs_pb2.SubmitJobRequest(replay_of_job_id=original.job_id, name="again"),
        owner="alice")).job_id)
    assert counts_of(replay) == counts_of(original)
    assert replay.device_state == original.device_state
    assert replay.calibration_snapshot_id == original.calibration_snapshot_id
    assert replay.request.replay_of_job_id == original.job_id
    # the same request today runs on another device state: the replay is not a coincidence
    assert resubmitted.device_state != original.device_state
    assert counts_of(resubmitted) != counts_of(original)


async def test_what_cannot_be_replayed_is_refused_before_anything_is_queued(drifting):
    kernel, _ = drifting
    job = await finished(kernel, (await kernel.submit(noisy_job(1), owner="alice")).job_id)
    with pytest.raises(NotFoundError):  # another user's job
        await kernel.submit(qs_pb2.SubmitJobRequest(replay_of_job_id=job.job_id), owner="bob")
    with pytest.raises(NotFoundError):
        await kernel.submit(qs_pb2.SubmitJobRequest(replay_of_job_id="job-0"), owner="alice")
    with pytest.raises(InvalidProgramError, match="shot_count"):
        await kernel.submit(qs_pb2.SubmitJobRequest(replay_of_job_id=job.job_id,
                                                    shot_count=10), owner="alice")
    cancelled = await kernel.submit(noisy_job(200), owner="alice")
    await kernel.cancel(cancelled.job_id)
    while not kernel.get(cancelled.job_id).state.is_terminal:
        await asyncio.sleep(0.01)
    with pytest.raises(FailedPreconditionError, match="cannot be replayed"):
        await kernel.submit(qs_pb2.SubmitJobRequest(replay_of_job_id=cancelled.job_id),
                            owner="alice")
    jobs, _ = kernel.list_jobs(limit=100)
    assert len(jobs) == 2


def test_the_drift_trajectory_is_recalled_at_any_earlier_step():
    driver = SimulatedQpuDriver(*superconducting_grid(), seed=5, drift_step_s=1.0)
    early, before = driver.device_state(), driver.true_parameters()
    driver.advance_clock(500.5)  # beyond the recent history kept at hand
    middle, then = driver.device_state(), driver.true_parameters()
    assert then != before
    driver.advance_clock(600.0)
    assert driver.true_parameters() != then
    # recomputed from the seed, equal to what the device had then
    assert driver.state_parameters(middle)[0] == then
    assert driver.state_parameters(early)[0] == before
    with pytest.raises(FailedPreconditionError):
        driver.state_parameters("99999/" + driver.calibration_snapshot().snapshot_id)
