"""Property: no request, however odd, makes the quantum service answer INTERNAL or UNKNOWN.

Hypothesis generates Pauli strings (ASCII and not), enum numbers, page tokens, shot counts,
seeds, structured circuits and parameter arrays for ``SubmitJob``, ``OpenSession`` and
``ListJobs``; every call must succeed or fail with a status a client can act on. The default
suite runs a small sample; ``-m slow`` runs at least 10**4 examples per RPC.
"""

from __future__ import annotations

import base64
import struct
import time

import grpc
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2

#: Codes that mean "the server broke", never an answer to bad input.
SERVER_BUGS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
FAST = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=10_000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

INT32 = st.integers(-2**31, 2**31 - 1)
INT64 = st.integers(-2**63, 2**63 - 1)
#: Enum numbers: the defined ones, neighbours, and anything an int32 holds.
ENUMS = st.one_of(st.integers(-2, 8), INT32)
SHOTS = st.one_of(st.integers(-3, 64), INT32)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)

#: Characters a Pauli factor is made of, with look-alikes: other digits (superscript,
#: Arabic-Indic, fullwidth), signs, separators and lower case.
_PAULI_CHARS = "IXYZixyz0123456789 \t+-_." + "²١٣０Ｚ\u2003\u00a0é"
FACTOR = st.tuples(st.sampled_from("IXYZxzQ"), st.one_of(
    st.integers(0, 6).map(str), st.text("0123456789²١", min_size=0, max_size=12)))
PAULI = st.one_of(
    st.lists(FACTOR, max_size=6).map(lambda fs: " ".join(a + b for a, b in fs)),
    st.text(_PAULI_CHARS, max_size=24),
    st.text(max_size=16))
OBSERVABLE = st.lists(st.tuples(PAULI, FLOATS), max_size=4)

PROGRAMS = [
    'OPENQASM 2.0; include "qelib1.inc"; qreg q[2]; creg c[2]; h q[0]; cx q[0], q[1]; '
    "measure q -> c;",
    'OPENQASM 3.0; include "stdgates.inc"; input float[64] theta; qubit[2] q; '
    "ry(theta) q[0]; cx q[0], q[1];",
    "", "  \n",
]


@st.composite
def circuits(draw) -> common_pb2.Circuit:
    """Structured circuits with odd widths, gate names, qubits, clbits and parameters."""
    qubit_count = draw(st.one_of(st.integers(-2, 6), INT32))
    circuit = common_pb2.Circuit(qubit_count=qubit_count, clbit_count=draw(st.integers(-2, 6)),
                                 parameters=draw(st.lists(st.sampled_from("abt"), max_size=3)))
    for _ in range(draw(st.integers(0, 4))):
        op = circuit.operations.add(
            name=draw(st.sampled_from(["h", "cx", "rx", "rzz", "measure", "reset", "barrier",
                                       "u3", "foo", "", "H"])),
            qubits=draw(st.lists(st.one_of(st.integers(-2, 6), INT32), max_size=3)),
            clbits=draw(st.lists(st.integers(-2, 6), max_size=2)))
        for _ in range(draw(st.integers(0, 3))):
            expr = op.params.add(constant=draw(FLOATS))
            for _ in range(draw(st.integers(0, 2))):
                expr.terms.add(symbol=draw(st.sampled_from(["a", "b", "zz", ""])),
                               coefficient=draw(FLOATS))
    return circuit


PROGRAM = st.one_of(st.sampled_from(PROGRAMS).map(lambda t: common_pb2.Program(openqasm=t)),
                    circuits().map(lambda c: common_pb2.Program(circuit=c)),
                    st.just(common_pb2.Program()))


def _observable(terms: list[tuple[str, float]]) -> common_pb2.Observable:
    return common_pb2.Observable(terms=[common_pb2.PauliTerm(pauli_string=s, coefficient=c)
                                        for s, c in terms])


def _odd_or(good: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly ``good`` values (so requests get past the first check), sometimes ``odd``."""
    return st.one_of(good, good, odd)


#: Well-formed factors on the 2 qubits of the programs above, lower case included.
GOOD_PAULI = st.lists(st.tuples(st.sampled_from("IXYZz"), st.sampled_from("01")), max_size=2,
                      unique_by=lambda f: f[1]).map(lambda fs: " ".join(a + b for a, b in fs))
GOOD_OBSERVABLE = st.lists(st.tuples(_odd_or(GOOD_PAULI, PAULI), _odd_or(
    st.floats(-2, 2), FLOATS)), min_size=1, max_size=3)
#: ``observables`` of a request: mostly none (the single ``observable`` then decides), else a
#: few, sometimes next to ``observable`` or with an odd one among them.
SEVERAL_OBSERVABLES = _odd_or(st.just([]), st.lists(_odd_or(GOOD_OBSERVABLE, OBSERVABLE),
                                                    max_size=3))


@st.composite
def submissions(draw) -> qs_pb2.SubmitJobRequest:
    """Wild requests, and near-valid ones (a valid job with a few odd fields)."""
    if draw(st.booleans()):
        programs = draw(st.lists(PROGRAM, max_size=2))
        sets = draw(st.lists(st.lists(FLOATS, max_size=3), max_size=3))
        terms = draw(st.none() | OBSERVABLE)
    else:
        parametric = draw(st.booleans())
        programs = [common_pb2.Program(openqasm=PROGRAMS[int(parametric)])]
        sets = draw(_odd_or(st.lists(st.lists(st.floats(-3, 3), min_size=int(parametric),
                                                max_size=int(parametric)),
                                       min_size=int(parametric), max_size=3),
                            st.lists(st.lists(FLOATS, max_size=3), max_size=3)))
        terms = draw(GOOD_OBSERVABLE if parametric else st.none() | GOOD_OBSERVABLE)
    request = qs_pb2.SubmitJobRequest(
        qpu_id=draw(st.sampled_from(["", "ion-ideal-4", "sc-small-4", "nope"])),
        programs=programs, shot_count=draw(_odd_or(st.integers(0, 32), SHOTS)),
        parameter_sets=[common_pb2.ParameterSet(values=v) for v in sets],
        seed=draw(_odd_or(st.integers(0, 2**62), INT64)),
        priority=draw(_odd_or(st.integers(0, 10), INT32)),
        readout_mitigation=draw(st.booleans()))
    if terms is not None:
        request.observable.CopyFrom(_observable(terms))
    request.observables.extend(_observable(t) for t in draw(SEVERAL_OBSERVABLES))
    return request


TOKENS = st.one_of(
    st.just(""),
    st.one_of(INT64, st.integers(-10, 10), st.integers(2**63, 2**80)).map(
        lambda n: base64.urlsafe_b64encode(str(n).encode()).decode()),
    st.text(max_size=12).map(lambda t: base64.urlsafe_b64encode(t.encode()).decode()),
    st.text(max_size=80))


@st.composite
def list_jobs(draw) -> qs_pb2.ListJobsRequest:
    return qs_pb2.ListJobsRequest(page_size=draw(st.one_of(st.integers(-2, 3), INT32)),
                                  page_token=draw(TOKENS), state=draw(ENUMS),
                                  qpu_id=draw(st.sampled_from(["", "ion-ideal-4", "x"])))


@st.composite
def sessions(draw) -> list[qs_pb2.OpenSessionRequest]:
    """A start (wild, or the parametric program with a few odd fields), then evaluations."""
    wild = draw(st.booleans())
    start = qs_pb2.SessionStart(
        qpu_id=draw(st.sampled_from(["", "ion-ideal-4", "sc-small-4"])),
        program=draw(PROGRAM) if wild else common_pb2.Program(openqasm=PROGRAMS[1]),
        shot_count=draw(_odd_or(st.integers(0, 32), SHOTS)),
        idle_timeout_s=draw(_odd_or(st.integers(0, 30), INT32)),
        gradient_method=draw(_odd_or(st.integers(0, 2), ENUMS)),
        seed=draw(_odd_or(st.integers(0, 2**62), INT64)))
    terms = draw(st.none() | OBSERVABLE) if wild else draw(GOOD_OBSERVABLE)
    if terms is not None:
        start.observable.CopyFrom(_observable(terms))
    start.observables.extend(_observable(t) for t in draw(SEVERAL_OBSERVABLES))
    messages = [qs_pb2.OpenSessionRequest(start=start)]
    for sequence in range(draw(st.integers(0, 2))):
        values = draw(_odd_or(st.lists(st.floats(-3, 3), min_size=1, max_size=2),
                              st.lists(FLOATS, max_size=4)))
        raw = struct.pack(f"<{len(values)}d", *values) + draw(
            _odd_or(st.just(b""), st.binary(max_size=3)))
        messages.append(qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
            sequence=sequence, parameter_values=raw,
            parameter_set_count=draw(_odd_or(st.integers(1, 2), st.one_of(
                st.integers(-1, 4), INT32))),
            compute_gradient=draw(st.booleans()))))
    return messages


def _status(call) -> grpc.StatusCode:
    """The call's status code, also recorded as a Hypothesis event (shown by
    ``--hypothesis-show-statistics``, to see how often requests get through)."""
    try:
        call()
    except grpc.RpcError as exc:
        code = exc.code()
    else:
        code = grpc.StatusCode.OK
    event(code.name)
    return code


def check_submit(stub, request: qs_pb2.SubmitJobRequest) -> None:
    code = _status(lambda: stub.SubmitJob(request, timeout=60))
    assert code not in SERVER_BUGS, request


def check_list(stub, request: qs_pb2.ListJobsRequest) -> None:
    code = _status(lambda: stub.ListJobs(request, timeout=60))
    assert code not in SERVER_BUGS, request


def check_session(stub, messages: list[qs_pb2.OpenSessionRequest]) -> None:
    code = _status(lambda: list(stub.OpenSession(iter(messages), timeout=60)))
    assert code not in SERVER_BUGS, messages


@FAST
@given(request=submissions())
def test_submit_job_never_internal(threaded_service, request):
    check_submit(threaded_service, request)


@FAST
@given(request=list_jobs())
def test_list_jobs_never_internal(threaded_service, request):
    check_list(threaded_service, request)


@FAST
@given(messages=sessions())
def test_open_session_never_internal(threaded_service, messages):
    check_session(threaded_service, messages)


@pytest.mark.slow
@SLOW
@given(request=submissions())
def test_submit_job_never_internal_large(threaded_service, request):
    check_submit(threaded_service, request)


@pytest.mark.slow
@SLOW
@given(request=list_jobs())
def test_list_jobs_never_internal_large(threaded_service, request):
    check_list(threaded_service, request)


@pytest.mark.slow
@SLOW
@given(messages=sessions())
def test_open_session_never_internal_large(threaded_service, messages):
    check_session(threaded_service, messages)


def _all_jobs(stub, state: int = 0) -> list[qs_pb2.Job]:
    jobs, token = [], ""
    while True:
        page = stub.ListJobs(qs_pb2.ListJobsRequest(page_size=1000, page_token=token,
                                                    state=state), timeout=60)
        jobs.extend(page.jobs)
        if not (token := page.next_page_token):
            return jobs


def test_accepted_jobs_do_not_fail(threaded_service):
    """Runs after the properties above (same module service): every job they got accepted
    ends SUCCEEDED; a FAILED one is an odd value that validation let through."""
    if not _all_jobs(threaded_service):
        pytest.skip("no job was accepted: run together with the SubmitJob property")
    deadline = time.monotonic() + 240
    while any(_all_jobs(threaded_service, s) for s in (common_pb2.JOB_STATE_QUEUED,
                                                       common_pb2.JOB_STATE_RUNNING)):
        assert time.monotonic() < deadline, "accepted jobs did not finish in 240 s"
        time.sleep(0.2)
    failed = _all_jobs(threaded_service, common_pb2.JOB_STATE_FAILED)
    assert not failed, [(j.job_id, j.error_message) for j in failed[:5]]
