"""The quantum service over real gRPC: jobs, watch, pagination, idempotency, restart, errors."""

from __future__ import annotations

import asyncio
import math
import threading

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.auth import bearer_interceptors
from quantum_service.kernel.jobs import JobRecord, JobState
from quantum_service.kernel.store import JobStore

pytestmark = pytest.mark.integration

BELL_QASM2 = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""

PARAMETRIC_QASM3 = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[2] q;
ry(theta) q[0];
cx q[0], q[1];
"""


def qasm_job(text: str, **fields) -> qs_pb2.SubmitJobRequest:
    return qs_pb2.SubmitJobRequest(programs=[common_pb2.Program(openqasm=text)], **fields)


async def wait_final(stub, job_id: str) -> qs_pb2.Job:
    states = []
    async for response in stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job_id)):
        states.append(response.job.state)
    assert states[-1] in (common_pb2.JOB_STATE_SUCCEEDED, common_pb2.JOB_STATE_FAILED,
                          common_pb2.JOB_STATE_CANCELLED)
    return (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id))).job


async def test_health_and_qpus(stack):
    health = health_pb2_grpc.HealthStub(stack.quantum_channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service="qcore.v1.QuantumService"))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    qpus = (await stack.quantum_stub.ListQpus(qs_pb2.ListQpusRequest())).qpus
    ids = {q.qpu_id for q in qpus}
    assert {"sc-grid-16", "ion-chain-11", "ion-ideal-24"} <= ids
    modalities = {q.modality for q in qpus}
    assert common_pb2.MODALITY_SUPERCONDUCTING in modalities
    assert common_pb2.MODALITY_TRAPPED_ION in modalities
    grid = (await stack.quantum_stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id="sc-grid-16"))).qpu
    assert grid.qubit_count == 16 and len(grid.coupling_map) == 24 and not grid.all_to_all
    assert {g.name for g in grid.native_gates} == {"rz", "sx", "x", "cz"}
    assert grid.calibration.snapshot_id and len(grid.calibration.qubits) == 16
    page = await stack.quantum_stub.ListQpus(qs_pb2.ListQpusRequest(page_size=2))
    assert len(page.qpus) == 2 and page.next_page_token
    rest = await stack.quantum_stub.ListQpus(qs_pb2.ListQpusRequest(
        page_size=2, page_token=page.next_page_token))
    assert {q.qpu_id for q in page.qpus}.isdisjoint({q.qpu_id for q in rest.qpus})


@pytest.mark.parametrize("qpu_id", ["sc-grid-16", "ion-chain-11", "ion-ideal-24"])
async def test_bell_job_runs_on_every_qpu(stack, qpu_id):
    stub = stack.quantum_stub
    job = (await stub.SubmitJob(qasm_job(BELL_QASM2, qpu_id=qpu_id, shot_count=2000,
                                         seed=11))).job
    assert job.state == common_pb2.JOB_STATE_QUEUED and job.qpu_id == qpu_id
    final = await wait_final(stub, job.job_id)
    assert final.state == common_pb2.JOB_STATE_SUCCEEDED, final.error_message
    counts = final.result.experiments[0].counts
    assert sum(counts.values()) == 2000
    correlated = counts.get("00", 0) + counts.get("11", 0)
    assert correlated / 2000 > 0.9  # noise lets a few percent through on noisy QPUs
    assert abs(counts.get("00", 0) - counts.get("11", 0)) < 200
    if qpu_id == "ion-ideal-24":
        assert correlated == 2000
    assert final.device_time_s > 0 and final.calibration_snapshot_id


async def test_expectation_job_with_parameter_sets(stack):
    stub = stack.quantum_stub
    thetas = [0.0, 0.7, math.pi]
    request = qasm_job(PARAMETRIC_QASM3, qpu_id="ion-ideal-24",
                       parameter_sets=[common_pb2.ParameterSet(values=[t]) for t in thetas])
    request.observable.terms.add(pauli_string="Z0", coefficient=1.0)
    request.observable.terms.add(pauli_string="Z0 Z1", coefficient=0.5)
    final = await wait_final(stub, (await stub.SubmitJob(request)).job.job_id)
    values = [e.expectation_value for e in final.result.experiments]
    np.testing.assert_allclose(values, np.cos(thetas) + 0.5, atol=1e-10)


async def test_request_id_makes_submit_idempotent(stack):
    stub = stack.quantum_stub
    request = qasm_job(BELL_QASM2, shot_count=100, request_id="retry-me")
    first = (await stub.SubmitJob(request)).job
    second = (await stub.SubmitJob(request)).job
    assert first.job_id == second.job_id
    jobs = (await stub.ListJobs(qs_pb2.ListJobsRequest())).jobs
    assert [j.job_id for j in jobs].count(first.job_id) == 1


async def test_list_jobs_pages_newest_first(stack):
    stub = stack.quantum_stub
    ids = [(await stub.SubmitJob(qasm_job(BELL_QASM2, shot_count=10))).job.job_id
           for _ in range(5)]
    seen, token = [], ""
    while True:
        page = await stub.ListJobs(qs_pb2.ListJobsRequest(page_size=2, page_token=token))
        seen += [j.job_id for j in page.jobs]
        if not (token := page.next_page_token):
            break
    assert seen == ids[::-1]


async def test_queued_job_survives_restart(tmp_path, mqtt_url, quantum_factory):
    """A job left QUEUED by a stopped service runs when the service starts again."""
    db = tmp_path / "jobs.sqlite"
    store = JobStore(db)
    request = qasm_job(BELL_QASM2, qpu_id="ion-ideal-24", shot_count=50)
    store.insert(JobRecord(job_id="job-00000000000000aa", request=request, owner="alice",
                           state=JobState.QUEUED, qpu_id="ion-ideal-24"))
    store.close()
    server = await quantum_factory(db, mqtt_url)
    try:
        async with grpc.aio.insecure_channel(server.address, interceptors=bearer_interceptors(
                server.tokens.create("alice"))) as channel:
            from qcore.v1 import quantum_service_pb2_grpc

            stub = quantum_service_pb2_grpc.QuantumServiceStub(channel)
            final = await wait_final(stub, "job-00000000000000aa")
            assert final.state == common_pb2.JOB_STATE_SUCCEEDED
            assert final.owner == "alice"
            assert sum(final.result.experiments[0].counts.values()) == 50
    finally:
        await server.stop(0.5)


async def test_cancel_queued_running_and_finished_jobs(stack):
    stub = stack.quantum_stub
    driver = stack.quantum.kernel.registry.get("ion-ideal-24").driver
    release = threading.Event()
    started = threading.Event()
    execute = driver.execute

    def blocking_execute(*args, **kwargs):  # holds the QPU until the test releases it
        started.set()
        release.wait(10)
        return execute(*args, **kwargs)

    driver.execute = blocking_execute
    try:
        running = (await stub.SubmitJob(qasm_job(BELL_QASM2, qpu_id="ion-ideal-24",
                                                 shot_count=10))).job
        queued = (await stub.SubmitJob(qasm_job(BELL_QASM2, qpu_id="ion-ideal-24",
                                                shot_count=10))).job
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        cancelled = (await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=queued.job_id))).job
        assert cancelled.state == common_pb2.JOB_STATE_CANCELLED
        await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=running.job_id))
    finally:
        release.set()
    final = await wait_final(stub, running.job_id)
    assert final.state == common_pb2.JOB_STATE_CANCELLED
    assert "while running" in final.error_message
    for job_id in (queued.job_id, running.job_id):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=job_id))
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "already CANCELLED" in info.value.details()
    done = await wait_final(stub, (await stub.SubmitJob(qasm_job(
        BELL_QASM2, qpu_id="ion-ideal-24", shot_count=10))).job.job_id)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.CancelJob(qs_pb2.CancelJobRequest(job_id=done.job_id))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "already SUCCEEDED" in info.value.details()


def _with_observable(request: qs_pb2.SubmitJobRequest, pauli: str = "Z0"
                     ) -> qs_pb2.SubmitJobRequest:
    request.observable.terms.add(pauli_string=pauli, coefficient=1.0)
    return request


BAD_REQUESTS = {
    "malformed QASM": (qasm_job("OPENQASM 2.0; qreg q[2]; h q[0", shot_count=10),
                       grpc.StatusCode.INVALID_ARGUMENT, "QASM"),
    "more qubits than any QPU": (qasm_job(BELL_QASM2.replace("q[2]", "q[200]").replace(
        "c[2]", "c[200]"), shot_count=10), grpc.StatusCode.INVALID_ARGUMENT, "qubit"),
    "more qubits than the QPU": (qasm_job(BELL_QASM2.replace("q[2]", "q[12]").replace(
        "c[2]", "c[12]"), shot_count=10, qpu_id="ion-chain-11"),
        grpc.StatusCode.INVALID_ARGUMENT, "11"),
    "unknown gate": (qasm_job(BELL_QASM2.replace("h q[0];", "foo q[0];"), shot_count=10),
                     grpc.StatusCode.INVALID_ARGUMENT, "foo"),
    "NaN parameter": (_with_observable(qasm_job(PARAMETRIC_QASM3, parameter_sets=[
        common_pb2.ParameterSet(values=[float("nan")])])), grpc.StatusCode.INVALID_ARGUMENT,
        "NaN"),
    "wrong number of parameters": (_with_observable(qasm_job(PARAMETRIC_QASM3, parameter_sets=[
        common_pb2.ParameterSet(values=[0.1, 0.2])])), grpc.StatusCode.INVALID_ARGUMENT,
        "expects 1"),
    "missing parameters": (_with_observable(qasm_job(PARAMETRIC_QASM3)),
                           grpc.StatusCode.INVALID_ARGUMENT, "no parameter sets"),
    "zero shots": (qasm_job(BELL_QASM2, shot_count=0), grpc.StatusCode.INVALID_ARGUMENT,
                   "shot_count"),
    "negative shots": (qasm_job(BELL_QASM2, shot_count=-5), grpc.StatusCode.INVALID_ARGUMENT,
                       "shot_count"),
    "observable outside circuit": (_with_observable(qasm_job(BELL_QASM2), "Z7"),
                                   grpc.StatusCode.INVALID_ARGUMENT, "qubit 7"),
    "unknown QPU": (qasm_job(BELL_QASM2, shot_count=10, qpu_id="nope"),
                    grpc.StatusCode.NOT_FOUND, "nope"),
    "no programs": (qs_pb2.SubmitJobRequest(shot_count=10), grpc.StatusCode.INVALID_ARGUMENT,
                    "no programs"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
async def test_bad_submissions_are_rejected_and_nothing_is_queued(stack, case):
    request, code, fragment = BAD_REQUESTS[case]
    stub = stack.quantum_stub
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.SubmitJob(request)
    assert info.value.code() == code, info.value.details()
    assert fragment.lower() in info.value.details().lower()
    assert "Traceback" not in info.value.details()
    assert not (await stub.ListJobs(qs_pb2.ListJobsRequest())).jobs
    # the service keeps serving
    ok = (await stub.SubmitJob(qasm_job(BELL_QASM2, shot_count=10))).job
    assert ok.state == common_pb2.JOB_STATE_QUEUED


async def test_unknown_job_is_not_found(stack):
    for call, request in [(stack.quantum_stub.GetJob, qs_pb2.GetJobRequest(job_id="job-x")),
                          (stack.quantum_stub.CancelJob, qs_pb2.CancelJobRequest(job_id="job-x"))]:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call(request)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stack.quantum_stub.WatchJob(qs_pb2.WatchJobRequest(job_id="job-x")):
            pass
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.quantum_stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id="qpu-x"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "ion-ideal-24" in info.value.details()  # the message lists the known QPUs


async def test_server_answers_while_simulating(stack):
    """Execution runs off the event loop: RPCs are answered while a big job simulates."""
    stub = stack.quantum_stub
    big = qasm_job(PARAMETRIC_QASM3.replace("qubit[2]", "qubit[20]"), qpu_id="ion-ideal-24",
                   parameter_sets=[common_pb2.ParameterSet(values=[0.01 * i]) for i in range(16)])
    big.observable.terms.add(pauli_string="Z0", coefficient=1.0)
    job = (await stub.SubmitJob(big)).job
    latencies = []
    for _ in range(5):
        loop = asyncio.get_running_loop()
        began = loop.time()
        await stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id="sc-grid-16"))
        latencies.append(loop.time() - began)
    final = await wait_final(stub, job.job_id)
    assert final.state == common_pb2.JOB_STATE_SUCCEEDED
    assert max(latencies) < 1.0
