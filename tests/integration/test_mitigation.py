"""Error mitigation through a real quantum service: zero-noise extrapolation, Pauli twirling
and dynamical decoupling on jobs and sessions, and the validation of their options."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest

from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc
from qcore_client.auth import bearer_interceptors
from qcore_client.client import mitigation_options, session_start


pytestmark = pytest.mark.integration

#: A 3-qubit GHZ state rotated off its stabilisers, with four CX on a noisy grid's couplings.
GHZ_QASM = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[3];
h q[0];
cx q[0],q[1];
cx q[1],q[2];
ry(0.3) q[2];
cx q[1],q[2];
rx(0.2) q[1];
cx q[0],q[1];
h q[0];
"""
OBSERVABLE = (("Z0 Z1", 1.0), ("Z1 Z2", 1.0), ("X0", 1.0), ("Z0", 0.5))


def job_request(qpu_id: str, *, shot_count: int, seed: int, mitigation=None,
                readout_mitigation: bool = False, observable=OBSERVABLE
                ) -> qs_pb2.SubmitJobRequest:
    request = qs_pb2.SubmitJobRequest(qpu_id=qpu_id, shot_count=shot_count, seed=seed,
                                      readout_mitigation=readout_mitigation)
    request.programs.add(openqasm=GHZ_QASM)
    if observable is not None:
        for pauli, coefficient in observable:
            request.observable.terms.add(pauli_string=pauli, coefficient=coefficient)
    if mitigation is not None:
        request.mitigation.CopyFrom(mitigation)
    return request


@pytest.fixture
async def stub(tmp_path: Path, mqtt_url: str, quantum_factory
               ) -> AsyncIterator[quantum_service_pb2_grpc.QuantumServiceStub]:
    """A quantum service of its own (the default fleet) and an admin's stub."""
    quantum = await quantum_factory(tmp_path / "jobs.sqlite", mqtt_url)
    token = quantum.tokens.create("tester", admin=True)
    channel = grpc.aio.insecure_channel(quantum.address,
                                        interceptors=bearer_interceptors(token))
    try:
        yield quantum_service_pb2_grpc.QuantumServiceStub(channel)
    finally:
        await channel.close()
        await quantum.stop(0.5)


async def run_job(stub, request: qs_pb2.SubmitJobRequest) -> qs_pb2.Job:
    job = (await stub.SubmitJob(request)).job
    for _ in range(1200):
        job = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job.job_id))).job
        if job.state in (common_pb2.JOB_STATE_SUCCEEDED, common_pb2.JOB_STATE_FAILED,
                         common_pb2.JOB_STATE_CANCELLED):
            assert job.state == common_pb2.JOB_STATE_SUCCEEDED, job.error_message
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job.job_id} did not finish")


async def exact_value(stub) -> float:
    job = await run_job(stub, job_request("ion-ideal-24", shot_count=0, seed=1))
    return job.result.experiments[0].expectation_value


async def test_zne_job_moves_the_noisy_value_towards_the_exact_one(stub):
    exact = await exact_value(stub)
    shots = 40_000
    plain = await run_job(stub, job_request("ion-chain-11", shot_count=shots, seed=5,
                                            readout_mitigation=True))
    zne = await run_job(stub, job_request(
        "ion-chain-11", shot_count=shots, seed=5, readout_mitigation=True,
        mitigation=mitigation_options(zne=True, extrapolation="exponential")))
    experiment = zne.result.experiments[0]
    record = experiment.mitigation
    assert list(record.scale_factors) == [1.0, 3.0, 5.0]
    assert record.extrapolation == common_pb2.EXTRAPOLATION_METHOD_EXPONENTIAL
    errors = [abs(v - exact) for v in record.expectation_values]
    sigma = list(record.standard_errors)
    assert all(s > 0 for s in sigma)
    # folding scales the device's noise: each fold takes the value further from the exact one
    assert errors[1] - errors[0] > 4 * np.hypot(sigma[0], sigma[1])
    assert errors[2] - errors[1] > 4 * np.hypot(sigma[1], sigma[2])
    # and the extrapolation undoes most of it
    mitigated = abs(experiment.expectation_value - exact)
    assert mitigated < errors[0] - 4 * np.hypot(experiment.standard_error, sigma[0])
    assert mitigated < 5 * experiment.standard_error
    assert experiment.standard_error > sigma[0]  # extrapolation amplifies the shot noise
    # every scale factor's shots are device time: three runs, the folded ones longer
    assert zne.device_time_s > 3.0 * plain.device_time_s


async def test_zne_session_returns_per_scale_values(stub):
    start = qs_pb2.SessionStart(qpu_id="sc-grid-16", shot_count=20_000, seed=3)
    start.program.openqasm = GHZ_QASM
    for pauli, coefficient in OBSERVABLE:
        start.observable.terms.add(pauli_string=pauli, coefficient=coefficient)
    start.mitigation.CopyFrom(mitigation_options(zne=True, scale_factors=(1, 2, 3),
                                                 extrapolation="richardson", folding="local"))
    requests: asyncio.Queue = asyncio.Queue()
    await requests.put(qs_pb2.OpenSessionRequest(start=start))
    await requests.put(qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
        sequence=1, parameter_values=b"", parameter_set_count=1)))

    async def stream():
        for _ in range(2):
            yield await requests.get()

    responses = [r async for r in stub.OpenSession(stream())]
    result = responses[1].result
    assert len(result.mitigation) == 1
    record = result.mitigation[0]
    assert len(record.scale_factors) == 3 and record.scale_factors[0] == 1.0
    assert 1.9 < record.scale_factors[1] < 2.1 and record.scale_factors[2] == 3.0
    assert record.extrapolation == common_pb2.EXTRAPOLATION_METHOD_RICHARDSON
    assert result.device_time_s > 0


async def test_twirling_keeps_an_ideal_value_and_is_reproducible(stub):
    exact = await exact_value(stub)
    twirl = mitigation_options(twirling=8)
    first = await run_job(stub, job_request("ion-ideal-24", shot_count=16_000, seed=9,
                                            mitigation=twirl))
    again = await run_job(stub, job_request("ion-ideal-24", shot_count=16_000, seed=9,
                                            mitigation=twirl))
    other = await run_job(stub, job_request("ion-ideal-24", shot_count=16_000, seed=10,
                                            mitigation=twirl))
    value = first.result.experiments[0]
    assert value.mitigation.randomization_count == 8
    assert abs(value.expectation_value - exact) < 4 * value.standard_error
    assert again.result.experiments[0].expectation_value == value.expectation_value
    assert other.result.experiments[0].expectation_value != value.expectation_value
    exact_twirled = await run_job(stub, job_request("ion-ideal-24", shot_count=0, seed=9,
                                                    mitigation=twirl))
    assert exact_twirled.result.experiments[0].expectation_value == pytest.approx(exact,
                                                                                  abs=1e-9)


async def test_decoupling_changes_the_noisy_value(stub):
    """Exact noisy values (shot_count 0): decoupling pulses act on the device's idle noise."""
    plain = await run_job(stub, job_request("sc-grid-16", shot_count=0, seed=2))
    decoupled = await run_job(stub, job_request("sc-grid-16", shot_count=0, seed=2,
                                                mitigation=mitigation_options(decoupling="xy4")))
    experiment = decoupled.result.experiments[0]
    assert experiment.mitigation.decoupling_pulse_count > 0
    assert abs(experiment.expectation_value
               - plain.result.experiments[0].expectation_value) > 1e-3
    assert decoupled.device_time_s == plain.device_time_s == 0.0  # exact: simulator-only


def _zne(**fields) -> common_pb2.MitigationOptions:
    return common_pb2.MitigationOptions(
        zero_noise_extrapolation=common_pb2.ZeroNoiseExtrapolation(**fields))


@pytest.mark.parametrize("qpu_id, mitigation, observable, code, words", [
    ("sc-grid-16", _zne(scale_factors=[0.5, 3]),
     OBSERVABLE, grpc.StatusCode.INVALID_ARGUMENT, "from 1"),
    ("sc-grid-16", _zne(scale_factors=[3, 3]),
     OBSERVABLE, grpc.StatusCode.INVALID_ARGUMENT, "distinct"),
    ("sc-grid-16", _zne(scale_factors=[1]),
     OBSERVABLE, grpc.StatusCode.INVALID_ARGUMENT, "distinct"),
    ("sc-grid-16", _zne(extrapolation=99),
     OBSERVABLE, grpc.StatusCode.INVALID_ARGUMENT, "ExtrapolationMethod"),
    ("sc-grid-16", common_pb2.MitigationOptions(
        pauli_twirling=common_pb2.PauliTwirling(randomization_count=-1)),
     OBSERVABLE, grpc.StatusCode.INVALID_ARGUMENT, "randomization_count"),
    ("sc-grid-16", common_pb2.MitigationOptions(), OBSERVABLE,
     grpc.StatusCode.INVALID_ARGUMENT, "names no technique"),
    ("sc-grid-16", mitigation_options(zne=True), None, grpc.StatusCode.INVALID_ARGUMENT,
     "add an observable"),
    ("ion-ideal-24", mitigation_options(decoupling="xx"), OBSERVABLE,
     grpc.StatusCode.FAILED_PRECONDITION, "idle qubits do not decohere"),
    ("ph-dualrail-8", mitigation_options(zne=True), OBSERVABLE,
     grpc.StatusCode.FAILED_PRECONDITION, "no circuit-level error mitigation"),
])
async def test_bad_mitigation_is_rejected_before_queueing(stub, qpu_id, mitigation, observable,
                                                          code, words):
    request = job_request(qpu_id, shot_count=1000, seed=1, mitigation=mitigation,
                          observable=observable)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.SubmitJob(request)
    assert caught.value.code() == code
    assert words in caught.value.details()
    listed = await stub.ListJobs(qs_pb2.ListJobsRequest())
    assert not listed.jobs


async def test_minimize_through_the_classical_service_with_zne(stack):
    """A mitigated VQE: the classical service's session carries the mitigation options; at
    the end ZNE's energy is below (closer to the exact -1 than) the unmitigated one."""
    program = "OPENQASM 3.0;\ninput float[64] t;\nqubit[2] q;\nry(t) q[0];\ncx q[0], q[1];\n"
    energies = {}
    for key, mitigation in (("plain", None), ("zne", mitigation_options(zne=True))):
        request = cs_pb2.MinimizeRequest(
            optimizer="l-bfgs-b", max_iterations=30, initial_parameters=[2.5],
            session=session_start(program, {"Z0 Z1": -0.5, "Z0": 0.5}, qpu_id="ion-chain-11",
                                  mitigation=mitigation))
        result = None
        async for response in stack.classical_stub.Minimize(request):
            if response.WhichOneof("response") == "result":
                result = response.result
        assert result is not None
        energies[key] = result.energy
    assert -1.0 - 1e-3 < energies["zne"] < energies["plain"] - 0.01
