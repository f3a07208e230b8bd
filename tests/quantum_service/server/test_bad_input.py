"""Bad input over real gRPC: INVALID_ARGUMENT with an actionable message, nothing queued, and
the service still runs valid work afterwards."""

from __future__ import annotations

import base64
import time

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.convert import MAX_OBSERVABLE_TERMS, MAX_PAULI_STRING_LENGTH

IDEAL_QPU = "ion-ideal-4"  # the noiseless QPU of conftest.small_fleet

BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;
"""
PARAMETRIC = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] theta;
qubit[2] q;
ry(theta) q[0];
cx q[0], q[1];
"""


def job(text: str = BELL, *, pauli: str | None = None, **fields) -> qs_pb2.SubmitJobRequest:
    request = qs_pb2.SubmitJobRequest(programs=[common_pb2.Program(openqasm=text)], **fields)
    if pauli is not None:
        request.observable.terms.add(pauli_string=pauli, coefficient=1.0)
    return request


def _scaled(request: qs_pb2.SubmitJobRequest, coefficient: float) -> qs_pb2.SubmitJobRequest:
    request.observable.terms[0].coefficient = coefficient
    return request


def token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def expect_invalid(call, *fragments: str) -> str:
    """Awaits ``call``; asserts INVALID_ARGUMENT whose message holds every fragment."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    for fragment in fragments:
        assert fragment in info.value.details()
    return info.value.details()


async def open_session(stub, start: qs_pb2.SessionStart) -> list[qs_pb2.OpenSessionResponse]:
    async def requests():
        yield qs_pb2.OpenSessionRequest(start=start)
    return [r async for r in stub.OpenSession(requests())]


BAD_JOBS = {
    "blank program": (job(""), ["program 0", "openqasm", "blank"]),
    "whitespace program": (job(" \n\t"), ["openqasm", "blank"]),
    "superscript digit": (job(pauli="Z²", shot_count=0), ["observable term 0", "X0 Z3"]),
    "arabic-indic digit": (job(pauli="Z١", shot_count=0), ["non-ASCII", "0-9"]),
    "fullwidth letter": (job(pauli="Ｚ0", shot_count=0), ["non-ASCII"]),
    "signed qubit": (job(pauli="Z+1", shot_count=0), ["bad Pauli factor 'Z+1'"]),
    "underscore digits": (job(pauli="Z1_0", shot_count=0), ["bad Pauli factor"]),
    "ten-digit qubit": (job(pauli="Z" + "9" * 10, shot_count=0), ["at most 9 digits"]),
    "5000-digit qubit": (job(pauli="Z" + "9" * 5000, shot_count=0), ["at most 9 digits"]),
    "qubit outside circuit": (job(pauli="Z7", shot_count=0), ["qubit 7", "2-qubit"]),
    "repeated qubit": (job(pauli="Z0 X0", shot_count=0), ["qubit 0 repeated"]),
    "over-long string": (job(pauli=" " * (MAX_PAULI_STRING_LENGTH + 1) + "Z0", shot_count=0),
                         [f"limit is {MAX_PAULI_STRING_LENGTH}"]),
    "negative seed": (job(shot_count=10, seed=-1), ["seed must be >= 0"]),
    "overflowing coefficient": (_scaled(job(pauli="Z0", shot_count=10), 1e200),
                                ["too large", "rescale"]),
    "nan parameter": (job(PARAMETRIC, pauli="Z0", parameter_sets=[
        common_pb2.ParameterSet(values=[float("nan")])]), ["NaN"]),
}


@pytest.mark.parametrize("name", sorted(BAD_JOBS))
async def test_bad_submission_is_invalid_argument_and_queues_nothing(small_service, name):
    request, fragments = BAD_JOBS[name]
    await expect_invalid(small_service.SubmitJob(request), *fragments)
    listed = await small_service.ListJobs(qs_pb2.ListJobsRequest())
    assert list(listed.jobs) == []


async def test_too_many_observable_terms_is_rejected_before_parsing(small_service):
    request = job(shot_count=0)
    for _ in range(MAX_OBSERVABLE_TERMS + 1):
        request.observable.terms.add(pauli_string="bad", coefficient=1.0)
    started = time.perf_counter()
    await expect_invalid(small_service.SubmitJob(request), "limit is 100000", "terms")
    assert time.perf_counter() - started < 10.0


@pytest.mark.parametrize("text", ["// nothing here\n", "/* a block */\n  // and a line\n",
                                  "OPENQASM 3.0;\n// only a header\n"])
async def test_comment_only_program_is_invalid_argument(small_service, text):
    await expect_invalid(small_service.SubmitJob(job(text)), "program 0")


@pytest.mark.parametrize("state", [6, 99, -1, 2**31 - 1])
async def test_unknown_job_state_filter_is_invalid_argument(small_service, state):
    await expect_invalid(small_service.ListJobs(qs_pb2.ListJobsRequest(state=state)),
                         f"state = {state}", "JobState", "JOB_STATE_QUEUED = 1")


async def test_unspecified_job_state_lists_every_job(small_service):
    listed = await small_service.ListJobs(qs_pb2.ListJobsRequest(
        state=common_pb2.JOB_STATE_UNSPECIFIED))
    assert list(listed.jobs) == []


BAD_TOKENS = {
    "negative": token("-1"),
    "zero": token("0"),
    "plus sign": token("+5"),
    "underscore": token("1_0"),
    "arabic-indic digit": token("١"),
    "above int64": token(str(2**63)),
    "not base64": "%%%",
    "not a number": token("abc"),
    "over-long": token("1" * 200),
    "non-ASCII token": "MQ==é",
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
async def test_bad_page_token_is_invalid_argument(small_service, name):
    for call in (small_service.ListJobs(qs_pb2.ListJobsRequest(page_token=BAD_TOKENS[name])),
                 small_service.ListQpus(qs_pb2.ListQpusRequest(page_token=BAD_TOKENS[name])),
                 small_service.ListSessions(qs_pb2.ListSessionsRequest(
                     page_token=BAD_TOKENS[name]))):
        await expect_invalid(call, "page_token", "next_page_token")


async def test_page_tokens_still_page(small_service):
    first = await small_service.ListQpus(qs_pb2.ListQpusRequest(page_size=1))
    second = await small_service.ListQpus(qs_pb2.ListQpusRequest(
        page_size=1, page_token=first.next_page_token))
    assert [q.qpu_id for q in first.qpus] != [q.qpu_id for q in second.qpus]
    assert second.next_page_token == ""


BAD_STARTS = {
    "unknown gradient method": (dict(gradient_method=99), ["gradient_method = 99",
                                                           "GRADIENT_METHOD_PARAMETER_SHIFT = 1"]),
    "negative gradient method": (dict(gradient_method=-3), ["GradientMethod"]),
    "negative idle timeout": (dict(idle_timeout_s=-1), ["idle_timeout_s"]),
    "negative shots": (dict(shot_count=-2), ["shot_count must be >= 0"]),
    "negative seed": (dict(seed=-7), ["seed must be >= 0"]),
    "arabic-indic digit": (dict(pauli="Z١"), ["non-ASCII"]),
    "superscript digit": (dict(pauli="Z²"), ["non-ASCII"]),
    "blank program": (dict(text=""), ["blank"]),
    "unknown folding": (dict(mitigation=common_pb2.MitigationOptions(
        zero_noise_extrapolation=common_pb2.ZeroNoiseExtrapolation(folding=9))),
        ["folding = 9", "FoldingMethod"]),
    "unknown decoupling sequence": (dict(mitigation=common_pb2.MitigationOptions(
        dynamical_decoupling=common_pb2.DynamicalDecoupling(sequence=-1))),
        ["sequence = -1", "DecouplingSequence"]),
    "scale factor below 1": (dict(mitigation=common_pb2.MitigationOptions(
        zero_noise_extrapolation=common_pb2.ZeroNoiseExtrapolation(scale_factors=[0.5, 1]))),
        ["scale factors must be"]),
}


@pytest.mark.parametrize("name", sorted(BAD_STARTS))
async def test_bad_session_start_is_invalid_argument(small_service, name):
    fields, fragments = BAD_STARTS[name]
    fields = dict(fields)
    start = qs_pb2.SessionStart(
        qpu_id=IDEAL_QPU, program=common_pb2.Program(openqasm=fields.pop("text", PARAMETRIC)),
        **{k: v for k, v in fields.items() if k != "pauli"})
    start.observable.terms.add(pauli_string=fields.get("pauli", "Z0"), coefficient=1.0)
    await expect_invalid(open_session(small_service, start), *fragments)


def test_every_request_enum_field_is_checked():
    """Guards the list above: a new enum field in a request needs a check and a test."""
    requests = [d for name, d in qs_pb2.DESCRIPTOR.message_types_by_name.items()
                if name.endswith("Request") or name in {"SessionStart", "SessionEvaluate"}]
    seen, found = set(), set()

    def walk(message) -> None:
        if message.full_name in seen:
            return
        seen.add(message.full_name)
        for field in message.fields:
            if field.type == FieldDescriptor.TYPE_ENUM:
                found.add((message.name, field.name, field.enum_type.name))
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                walk(field.message_type)

    for message in requests:
        walk(message)
    assert found == {("ListJobsRequest", "state", "JobState"),
                     ("SessionStart", "gradient_method", "GradientMethod"),
                     ("ZeroNoiseExtrapolation", "extrapolation", "ExtrapolationMethod"),
                     ("ZeroNoiseExtrapolation", "folding", "FoldingMethod"),
                     ("DynamicalDecoupling", "sequence", "DecouplingSequence")}


async def test_valid_work_succeeds_after_bad_input(small_service):
    for request, _ in BAD_JOBS.values():
        with pytest.raises(grpc.aio.AioRpcError):
            await small_service.SubmitJob(request)
    with pytest.raises(grpc.aio.AioRpcError):
        await small_service.ListJobs(qs_pb2.ListJobsRequest(state=99))
    submitted = (await small_service.SubmitJob(job(shot_count=20, qpu_id=IDEAL_QPU))).job
    states = [r.job.state async for r in small_service.WatchJob(
        qs_pb2.WatchJobRequest(job_id=submitted.job_id))]
    assert states[-1] == common_pb2.JOB_STATE_SUCCEEDED
    done = (await small_service.GetJob(qs_pb2.GetJobRequest(job_id=submitted.job_id))).job
    counts = done.result.experiments[0].counts
    assert sum(counts.values()) == 20 and set(counts) <= {"00", "11"}
    listed = await small_service.ListJobs(qs_pb2.ListJobsRequest(
        state=common_pb2.JOB_STATE_SUCCEEDED))
    assert [j.job_id for j in listed.jobs] == [submitted.job_id]
    start = qs_pb2.SessionStart(qpu_id=IDEAL_QPU, program=common_pb2.Program(
        openqasm=PARAMETRIC), gradient_method=qs_pb2.GRADIENT_METHOD_ADJOINT)
    start.observable.terms.add(pauli_string="Z0 z1", coefficient=1.0)
    responses = await open_session(small_service, start)
    assert responses[0].ready.parameters == ["theta"]


@pytest.mark.parametrize("qubits", [[-1], [4], [2**31 - 1], [0, -2**31]])
async def test_calibrating_a_qubit_outside_the_qpu_is_invalid_argument(small_service, qubits):
    await expect_invalid(small_service.Calibrate(qs_pb2.CalibrateRequest(
        qpu_id="sc-small-4", qubits=qubits)))


@pytest.mark.parametrize("page_size", [-1, -2**31])
async def test_negative_page_size_is_invalid_argument(small_service, page_size):
    await expect_invalid(small_service.ListJobs(qs_pb2.ListJobsRequest(page_size=page_size)),
                         "page_size")
    await expect_invalid(small_service.ListQpus(qs_pb2.ListQpusRequest(page_size=page_size)),
                         "page_size")
    await expect_invalid(small_service.ListSessions(qs_pb2.ListSessionsRequest(
        page_size=page_size)), "page_size")
