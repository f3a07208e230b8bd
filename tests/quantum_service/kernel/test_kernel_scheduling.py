"""The kernel in-process: validation, quotas, queue positions, placement, multi-programming."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.drivers.fleet import trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.errors import InvalidProgramError, ResourceExhaustedError
from quantum_service.kernel.jobs import JobState
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.multiprogramming import merge, pack
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.scheduler import SchedulerPolicy
from quantum_service.kernel.store import JobStore

BELL = "OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;"
XX_PARITY = ("OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; h q[0]; h q[1]; "
             "measure q -> c;")
ONES = "OPENQASM 2.0; qreg q[3]; creg c[3]; x q[0]; x q[1]; x q[2]; measure q -> c;"


class Gate:
    """A maintenance hook that holds the workers until released."""

    def __init__(self) -> None:
        self.open = asyncio.Event()

    def is_due(self, slot) -> bool:
        return True

    async def maintain(self, slot) -> None:
        await self.open.wait()


async def make_kernel(policy: SchedulerPolicy, gate: Gate | None = None) -> Kernel:
    drivers = [SimulatedQpuDriver(*trapped_ion_chain()),
               SimulatedQpuDriver(*trapped_ion_chain("ion-ideal-24", qubit_count=24,
                                                     noisy=False, seed=24))]
    kernel = Kernel(QpuRegistry(drivers), JobStore(":memory:"), _Null(), workers=2,
                    policy=policy, maintenance=gate)
    await kernel.start()
    return kernel


class _Null:
    def publish_threadsafe(self, message) -> None:
        pass


def request(qasm: str, *, qpu_id: str = "", shots: int = 2000, priority: int = 0,
            seed: int = 7) -> qs_pb2.SubmitJobRequest:
    return qs_pb2.SubmitJobRequest(qpu_id=qpu_id, programs=[common_pb2.Program(openqasm=qasm)],
                                   shot_count=shots, priority=priority, seed=seed)


async def finish(kernel: Kernel, job_ids: list[str]) -> list:
    for _ in range(400):
        jobs = [kernel.get(j) for j in job_ids]
        if all(j.state.is_terminal for j in jobs):
            return jobs
        await asyncio.sleep(0.02)
    raise AssertionError("jobs did not finish")


@pytest.fixture
async def gated() -> AsyncIterator[tuple[Kernel, Gate]]:
    gate = Gate()
    kernel = await make_kernel(SchedulerPolicy(multiprogramming=False), gate)
    yield kernel, gate
    gate.open.set()
    await kernel.stop()


async def test_priority_is_validated(gated):
    kernel, _ = gated
    with pytest.raises(InvalidProgramError, match="priority") as info:
        await kernel.submit(request(BELL, priority=11), owner="alice")
    assert info.value.reason == "INVALID_PRIORITY"
    assert kernel.store.list(limit=10)[0] == []


async def test_queue_positions_follow_priority_and_etas_grow(gated):
    kernel, gate = gated
    low = await kernel.submit(request(BELL, qpu_id="ion-ideal-24"), owner="alice")
    high = await kernel.submit(request(BELL, qpu_id="ion-ideal-24", priority=10), owner="bob")
    mid = await kernel.submit(request(BELL, qpu_id="ion-ideal-24", priority=5), owner="carol")
    jobs = [kernel.get(j.job_id) for j in (high, mid, low)]
    assert [j.queue_position for j in jobs] == [1, 2, 3]
    starts = [j.estimated_start_time for j in jobs]
    assert starts[0] < starts[1] < starts[2]
    listed = {j.job_id: j.queue_position for j in kernel.list_jobs(limit=10)[0]}
    assert listed[low.job_id] == 3
    gate.open.set()
    done = await finish(kernel, [low.job_id, high.job_id, mid.job_id])
    assert all(j.state is JobState.SUCCEEDED and j.queue_position == 0 for j in done)
    by_start = sorted(done, key=lambda j: j.start_time)
    assert [j.job_id for j in by_start] == [high.job_id, mid.job_id, low.job_id]


async def test_quota_on_queued_jobs():
    gate = Gate()
    kernel = await make_kernel(SchedulerPolicy(quota_max_queued_jobs=2), gate)
    try:
        for _ in range(2):
            await kernel.submit(request(BELL, qpu_id="ion-ideal-24"), owner="alice")
        with pytest.raises(ResourceExhaustedError, match="queued or running"):
            await kernel.submit(request(BELL, qpu_id="ion-ideal-24"), owner="alice")
        await kernel.submit(request(BELL, qpu_id="ion-ideal-24"), owner="bob")
        assert len(kernel.store.list(limit=10)[0]) == 3
    finally:
        gate.open.set()
        await kernel.stop()


async def test_device_time_quota():
    kernel = await make_kernel(SchedulerPolicy(quota_device_s_per_window=1.0))
    try:
        # 2000 shots x (~0.2 ms gates + 0.18 ms readout/reset) on the ion chain ~ 0.8 s
        with pytest.raises(ResourceExhaustedError, match="device-s per window"):
            await kernel.submit(request(BELL, qpu_id="ion-chain-11", shots=5000), owner="a")
    finally:
        await kernel.stop()


async def test_placement_prefers_fidelity_and_records_why(gated):
    kernel, _ = gated
    job = await kernel.submit(request(BELL), owner="alice")
    assert job.qpu_id == "ion-ideal-24"
    assert "predicted fidelity 1.000" in job.placement_reason
    assert "next best ion-chain-11" in job.placement_reason
    wide = await kernel.submit(request(
        "OPENQASM 2.0; qreg q[12]; creg c[12]; h q[0]; measure q -> c;"), owner="alice")
    assert wide.qpu_id == "ion-ideal-24"  # the noisy chain simulates at most 10 qubits


async def test_multiprogrammed_results_equal_separate_runs_on_ideal_device():
    gate = Gate()
    kernel = await make_kernel(SchedulerPolicy(multiprogramming=True), gate)
    try:
        jobs = [await kernel.submit(request(q, qpu_id="ion-ideal-24", seed=11 + i), owner=o)
                for i, (q, o) in enumerate([(BELL, "a"), (ONES, "b"), (BELL, "c")])]
        gate.open.set()
        done = await finish(kernel, [j.job_id for j in jobs])
        assert all(j.state is JobState.SUCCEEDED for j in done)
        assert all("multi-programmed" in j.placement_reason for j in done)
        regions = [set(j.physical_qubits) for j in done]
        assert [len(r) for r in regions] == [2, 3, 2]
        assert not (regions[0] & regions[1] or regions[1] & regions[2] or regions[0] & regions[2])
        bell_a, ones, bell_c = (dict(j.result.experiments[0].counts) for j in done)
        assert ones == {"111": 2000}
        for counts in (bell_a, bell_c):
            assert set(counts) == {"00", "11"} and sum(counts.values()) == 2000
            assert abs(counts["00"] - 1000) < 4 * np.sqrt(500)
        total = sum(j.device_time_s for j in done)
        alone = await kernel.submit(request(ONES, qpu_id="ion-ideal-24"), owner="d")
        (alone_done,) = await finish(kernel, [alone.job_id])
        assert alone_done.physical_qubits == (0, 1, 2)
        assert dict(alone_done.result.experiments[0].counts) == ones
        # three jobs in one merged program cost less than three separate programs
        assert total < 3 * alone_done.device_time_s
    finally:
        gate.open.set()
        await kernel.stop()


def test_crosstalk_loss_is_predicted_and_the_fallback_threshold_refuses_it():
    caps, params = trapped_ion_chain(qubit_count=4)  # two 2-qubit regions must be neighbours
    circuit = parse_qasm(XX_PARITY)
    jobs = [("j0", circuit), ("j1", circuit)]
    merged = pack(jobs, caps, params, max_jobs=2, max_fidelity_loss=1.0)
    assert merged is not None and len(merged.plans) == 2
    # ions: no static ZZ; each rxx of the other job costs the boundary ion 2.5e-4
    assert all(0.999 < p.crosstalk_factor < 1.0 for p in merged.plans)
    assert merge(merged.plans, caps, params).circuit.operations == merged.circuit.operations
    assert not [op for op in merged.circuit.operations if op.name == "rz"
                and op not in (*merged.plans[0].circuit.operations,
                               *merged.plans[1].circuit.operations)]
    # fallback: a threshold below the predicted loss forbids packing
    loss = max(p.fidelity_loss for p in merged.plans)
    assert pack(jobs, caps, params, max_jobs=2, max_fidelity_loss=loss / 2) is None
    assert pack(jobs, caps, params, max_jobs=2, max_fidelity_loss=loss * 2) is not None




async def test_a_job_with_its_own_bond_cap_is_not_multi_programmed():
    gate = Gate()
    kernel = await make_kernel(SchedulerPolicy(multiprogramming=True), gate)
    try:
        capped = request(BELL, qpu_id="ion-ideal-24", seed=3)
        capped.max_bond_dimension = 8
        jobs = [await kernel.submit(capped, owner="a")]
        jobs += [await kernel.submit(request(q, qpu_id="ion-ideal-24", seed=4 + i), owner=o)
                 for i, (q, o) in enumerate([(ONES, "b"), (BELL, "c")])]
        gate.open.set()
        done = await finish(kernel, [j.job_id for j in jobs])
        assert all(j.state is JobState.SUCCEEDED for j in done)
        assert "multi-programmed" not in done[0].placement_reason
        assert all("multi-programmed" in j.placement_reason for j in done[1:])
    finally:
        gate.open.set()
        await kernel.stop()
