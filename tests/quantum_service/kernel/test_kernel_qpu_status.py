"""A QPU's status: CALIBRATING while maintenance or a ``Calibrate`` call runs, else ONLINE."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from broker.publisher import NullPublisher
from qcore.v1 import common_pb2, telemetry_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.calibration.experiments import ExperimentSettings
from quantum_service.calibration.manager import CalibrationManager, CalibrationPolicy
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.jobs import JobState
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.maintenance import EveryJob
from quantum_service.kernel.qpus import QpuRegistry, QpuStatus
from quantum_service.kernel.store import JobStore

BELL = "OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;"
QPU = "sc-status"
#: Short RB/XEB sweeps: these tests are about the status, not the fits.
FAST = ExperimentSettings(rb_lengths=(1, 40, 120), rb_sequences=2, xeb_cycles=(1, 5, 10),
                          xeb_circuits=2)


class Recorder(NullPublisher):
    """Validates like the real publisher and keeps every message, in order."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self._lock = threading.Lock()

    def publish(self, message) -> None:
        super().publish(message)
        with self._lock:
            self.messages.append(message)

    def statuses(self) -> list[int]:
        with self._lock:
            return [m.status for m in self.messages
                    if isinstance(m, telemetry_pb2.QpuStatusEvent)]


@pytest.fixture
async def calibrated() -> AsyncIterator[tuple[Kernel, SimulatedQpuDriver, Recorder]]:
    """A started kernel on a drifting 2x2 transmon grid, calibrated by a real manager on a
    one-hour schedule (no canaries)."""
    caps, nominal = superconducting_grid(QPU, rows=2, cols=2, seed=5)
    driver = SimulatedQpuDriver(caps, nominal, seed=3)
    assert driver.drifts
    telemetry = Recorder()
    kernel = Kernel(QpuRegistry([driver]), JobStore(":memory:"), telemetry, workers=2)
    kernel.calibration = CalibrationManager(
        kernel.publish_calibration_snapshot,
        policy=CalibrationPolicy(schedule_period_s=3600.0, canary_period_s=None), seed=1, settings={QPU: FAST})
    kernel.maintenance = kernel.calibration
    await kernel.start()
    yield kernel, driver, telemetry
    await kernel.stop()


async def run_job(kernel: Kernel) -> None:
    job = await kernel.submit(qs_pb2.SubmitJobRequest(
        qpu_id=QPU, programs=[common_pb2.Program(openqasm=BELL)], shot_count=200, seed=3),
        owner="alice")
    for _ in range(1500):
        job = kernel.get(job.job_id)
        if job.state.is_terminal:
            assert job.state is JobState.SUCCEEDED, job.error_message
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the job did not finish")


async def test_no_calibrating_status_when_nothing_is_due(calibrated):
    kernel, driver, telemetry = calibrated
    slot = kernel.registry.get(QPU)
    assert not kernel.calibration.is_due(slot)
    await run_job(kernel)
    await run_job(kernel)
    assert telemetry.statuses()  # status events were published (start, submit, job end)
    assert set(telemetry.statuses()) == {common_pb2.QPU_STATUS_ONLINE}
    assert not any(isinstance(m, telemetry_pb2.CalibrationEvent) and m.trigger == "schedule"
                   for m in telemetry.messages)
    assert slot.status is QpuStatus.ONLINE


async def test_scheduled_calibration_is_bracketed_by_calibrating_and_online(calibrated):
    kernel, driver, telemetry = calibrated
    slot = kernel.registry.get(QPU)
    assert not kernel.calibration.is_due(slot)  # the manager's schedule starts now
    driver.advance_clock(2 * 3600.0)
    assert kernel.calibration.is_due(slot)
    first = len(telemetry.messages)
    await run_job(kernel)
    events = telemetry.messages[first:]
    kinds = [("status", m.status) if isinstance(m, telemetry_pb2.QpuStatusEvent)
             else ("calibration", m.trigger) if isinstance(m, telemetry_pb2.CalibrationEvent)
             else ("job", m.state) if isinstance(m, telemetry_pb2.JobStateEvent)
             else ("other", type(m).__name__) for m in events]
    start = kinds.index(("status", common_pb2.QPU_STATUS_CALIBRATING))
    calibration = kinds.index(("calibration", "schedule"))
    end = kinds.index(("status", common_pb2.QPU_STATUS_ONLINE), start)
    running = kinds.index(("job", common_pb2.JOB_STATE_RUNNING))
    assert start < calibration < end < running
    assert kinds.count(("status", common_pb2.QPU_STATUS_CALIBRATING)) == 1
    assert slot.status is QpuStatus.ONLINE and slot.calibrations == 0
    assert not kernel.calibration.is_due(slot)


async def test_calibrate_reports_calibrating_and_online_even_on_error(calibrated):
    kernel, driver, telemetry = calibrated
    slot = kernel.registry.get(QPU)
    first = len(telemetry.statuses())
    outcome = await kernel.calibrate(slot, qubits=[0, 1], force=True)
    assert outcome.recalibrated_qubits == (0, 1)
    assert telemetry.statuses()[first:] == [common_pb2.QPU_STATUS_CALIBRATING,
                                            common_pb2.QPU_STATUS_ONLINE]

    def broken(*args, **kwargs):
        raise RuntimeError("experiment failed")

    kernel.calibration.calibrate = broken
    with pytest.raises(RuntimeError):
        await kernel.calibrate(slot)
    assert telemetry.statuses()[first + 2:] == [common_pb2.QPU_STATUS_CALIBRATING,
                                                common_pb2.QPU_STATUS_ONLINE]
    assert slot.status is QpuStatus.ONLINE and slot.calibrations == 0


async def test_bad_qubits_are_rejected_before_the_qpu_reports_calibrating(calibrated):
    from quantum_service.errors import InvalidProgramError

    kernel, _, telemetry = calibrated
    before = len(telemetry.statuses())
    with pytest.raises(InvalidProgramError) as info:
        await kernel.calibrate(kernel.registry.get(QPU), qubits=[4])
    assert info.value.reason == "QUBIT_OUT_OF_RANGE"
    assert len(telemetry.statuses()) == before


async def test_overlapping_calibrations_publish_one_calibrating_and_one_online(calibrated):
    kernel, _, telemetry = calibrated
    slot = kernel.registry.get(QPU)
    first = len(telemetry.statuses())
    async with kernel.calibrating(slot):
        async with kernel.calibrating(slot):
            assert slot.status is QpuStatus.CALIBRATING
        assert slot.status is QpuStatus.CALIBRATING
    assert slot.status is QpuStatus.ONLINE
    assert telemetry.statuses()[first:] == [common_pb2.QPU_STATUS_CALIBRATING,
                                            common_pb2.QPU_STATUS_ONLINE]


async def test_a_generic_maintenance_hook_runs_with_the_qpu_calibrating():
    caps, nominal = superconducting_grid(QPU, rows=2, cols=2, seed=5)
    seen: list[QpuStatus] = []

    async def hook(slot) -> None:
        seen.append(slot.status)

    telemetry = Recorder()
    kernel = Kernel(QpuRegistry([SimulatedQpuDriver(caps, nominal)]), JobStore(":memory:"),
                    telemetry, workers=1, maintenance=EveryJob(hook))
    await kernel.start()
    try:
        await run_job(kernel)
    finally:
        await kernel.stop()
    assert seen == [QpuStatus.CALIBRATING]
    statuses = telemetry.statuses()
    assert statuses.index(common_pb2.QPU_STATUS_CALIBRATING) < len(statuses) - 1


async def test_stop_publishes_every_qpu_offline_last() -> None:
    caps, nominal = superconducting_grid(QPU, rows=2, cols=2, seed=5)
    telemetry = Recorder()
    kernel = Kernel(QpuRegistry([SimulatedQpuDriver(caps, nominal, seed=3)]),
                    JobStore(":memory:"), telemetry, workers=1)
    await kernel.start()
    assert telemetry.statuses() == [common_pb2.QPU_STATUS_ONLINE]
    await kernel.stop()
    assert telemetry.statuses() == [common_pb2.QPU_STATUS_ONLINE, common_pb2.QPU_STATUS_OFFLINE]
    assert isinstance(telemetry.messages[-1], telemetry_pb2.QpuStatusEvent)  # nothing after it
