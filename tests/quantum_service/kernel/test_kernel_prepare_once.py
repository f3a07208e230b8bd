"""A placed job is prepared (compiled) once per program, by the chosen QPU only, and the
worker executes what submission prepared instead of preparing again."""

from __future__ import annotations

import asyncio
from collections import Counter

from broker.publisher import NullPublisher
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.drivers.fleet import trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.jobs import JobState
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.store import JobStore

BELL = "OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;"
GHZ = ("OPENQASM 2.0; qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; "
       "measure q -> c;")


def counting(driver: SimulatedQpuDriver, calls: Counter) -> SimulatedQpuDriver:
    prepare = driver.prepare

    def counted(circuit, *, observable, observables=()):
        calls[driver.capabilities.qpu_id] += 1
        return prepare(circuit, observable=observable, observables=observables)

    driver.prepare = counted
    return driver


async def test_a_placed_job_is_prepared_once_per_program():
    calls: Counter = Counter()
    drivers = [counting(SimulatedQpuDriver(*trapped_ion_chain()), calls),
               counting(SimulatedQpuDriver(*trapped_ion_chain(
                   "ion-ideal-24", qubit_count=24, noisy=False, seed=24)), calls)]
    kernel = Kernel(QpuRegistry(drivers), JobStore(":memory:"), NullPublisher(), workers=2)
    await kernel.start()
    try:
        job = await kernel.submit(qs_pb2.SubmitJobRequest(
            programs=[common_pb2.Program(openqasm=BELL), common_pb2.Program(openqasm=GHZ)],
            shot_count=100, seed=5), owner="alice")
        assert "2 QPU(s) fit" in job.placement_reason  # both were candidates
        assert calls == Counter({job.qpu_id: 2})  # the chosen QPU, once per program
        for _ in range(500):
            if kernel.get(job.job_id).state.is_terminal:
                break
            await asyncio.sleep(0.02)
        assert kernel.get(job.job_id).state is JobState.SUCCEEDED
        assert calls == Counter({job.qpu_id: 2})  # execution reused them
    finally:
        await kernel.stop()
