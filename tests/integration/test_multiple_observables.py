"""Several observables per circuit over real gRPC: jobs and sessions return one value per
observable (exact, and within shot noise of the exact value), one execution per shared
measurement setting is charged, and bad input is refused before anything runs."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import SparsePauliOp, Statevector

from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import AsyncQuantumClient, AsyncSession, session_start, to_observable
from quantum_service.convert import MAX_OBSERVABLES

pytestmark = pytest.mark.integration

IDEAL = "ion-ideal-24"

ANSATZ_QASM = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
input float[64] b;
qubit[3] q;
ry(a) q[0];
rx(2 * b - 0.3) q[1];
cx q[0], q[1];
ry(b) q[2];
cx q[1], q[2];
"""

#: Two observables read in the Z basis only (one shared measurement setting), and one read
#: in X0 X1 Y2 (a second setting). Terms as ``(pauli_string, coefficient)``.
Z_FIRST = [("Z0", 1.0), ("Z0 Z1", 0.5)]
Z_SECOND = [("Z1 Z2", -0.8), ("Z2", 0.3), ("Z0", 0.25)]
XY = [("X0 X1", 0.7), ("Y2", -0.4)]
OBSERVABLES = [Z_FIRST, Z_SECOND, XY]
PARAMETERS = np.array([[0.4, 0.9], [1.3, -0.2], [2.2, 0.6]])


def ansatz(a: float, b: float) -> QuantumCircuit:
    """ANSATZ_QASM as a Qiskit circuit (qubit i of qcore is Qiskit's qubit i)."""
    circuit = QuantumCircuit(3)
    circuit.ry(a, 0)
    circuit.rx(2 * b - 0.3, 1)
    circuit.cx(0, 1)
    circuit.ry(b, 2)
    circuit.cx(1, 2)
    return circuit


def sparse_op(terms) -> SparsePauliOp:
    sparse = []
    for pauli_string, coefficient in terms:
        factors = pauli_string.split()
        sparse.append(("".join(f[0] for f in factors), [int(f[1:]) for f in factors],
                       coefficient))
    return SparsePauliOp.from_sparse_list(sparse, num_qubits=3)


def exact_terms(terms, row) -> np.ndarray:
    """float64 ``(len(terms),)``: each Pauli term's exact expectation value (coefficient 1)."""
    state = Statevector(ansatz(*row))
    return np.array([state.expectation_value(sparse_op([(s, 1.0)])).real for s, _ in terms])


def exact_value(terms, row) -> float:
    return float(np.array([c for _, c in terms]) @ exact_terms(terms, row))


def shot_standard_error(terms, row, shot_count: int) -> float:
    """``sqrt(Σ c² (1 - <P>²) / shots)``: the standard error of an estimate measuring every
    term with ``shot_count`` shots."""
    c = np.array([c for _, c in terms])
    return float(np.sqrt(c**2 @ (1 - exact_terms(terms, row) ** 2) / shot_count))


def client_metadata(stack) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {stack.token}"),)


def observable_message(terms) -> common_pb2.Observable:
    return common_pb2.Observable(terms=[common_pb2.PauliTerm(pauli_string=s, coefficient=c)
                                        for s, c in terms])


def job_request(observables=None, *, observable=None, shot_count: int = 0, seed: int = 5,
                parameters=PARAMETERS) -> qs_pb2.SubmitJobRequest:
    request = qs_pb2.SubmitJobRequest(
        programs=[common_pb2.Program(openqasm=ANSATZ_QASM)], qpu_id=IDEAL,
        shot_count=shot_count, seed=seed,
        parameter_sets=[common_pb2.ParameterSet(values=list(r)) for r in parameters])
    if observable is not None:
        request.observable.CopyFrom(observable_message(observable))
    request.observables.extend(observable_message(o) for o in observables or ())
    return request


async def run_job(stub, request: qs_pb2.SubmitJobRequest) -> qs_pb2.Job:
    job = (await stub.SubmitJob(request)).job
    async for response in stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job.job_id)):
        pass
    final = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job.job_id))).job
    assert final.state == common_pb2.JOB_STATE_SUCCEEDED, final.error_message
    return final


async def test_exact_job_returns_every_observable(stack):
    final = await run_job(stack.quantum_stub, job_request(OBSERVABLES))
    assert final.exact and final.device_time_s == 0
    experiments = sorted(final.result.experiments, key=lambda e: e.parameter_set_index)
    assert len(experiments) == len(PARAMETERS)
    for experiment, row in zip(experiments, PARAMETERS):
        assert len(experiment.expectation_values) == len(OBSERVABLES)
        np.testing.assert_allclose(experiment.expectation_values,
                                   [exact_value(o, row) for o in OBSERVABLES], atol=1e-10)
        assert list(experiment.standard_errors) == [0.0] * len(OBSERVABLES)
        assert experiment.expectation_value == 0  # the single-observable field stays unset


async def test_shot_estimates_are_within_shot_noise_of_the_exact_values(stack):
    shots = 4000
    final = await run_job(stack.quantum_stub, job_request(OBSERVABLES, shot_count=shots,
                                                          seed=17))
    for experiment in final.result.experiments:
        row = PARAMETERS[experiment.parameter_set_index]
        for k, terms in enumerate(OBSERVABLES):
            value, sigma = experiment.expectation_values[k], experiment.standard_errors[k]
            expected_sigma = shot_standard_error(terms, row, shots)
            # σ is computed from the estimated term values ê: allow for 4σ of their noise,
            # d(σ²) = Σ c² 2|e| δe / shots (a σ for shots split among observables, or for
            # another observable, is far outside this)
            e = exact_terms(terms, row)
            c = np.array([c for _, c in terms])
            slack = float(c**2 @ (2 * np.abs(e) * 4 * np.sqrt((1 - e**2) / shots))) / shots
            assert abs(sigma**2 - expected_sigma**2) <= slack + 1e-12, (k, sigma, expected_sigma)
            assert abs(value - exact_value(terms, row)) < 4 * expected_sigma, (k, value)


async def test_device_time_is_charged_once_per_measurement_setting(stack):
    stub = stack.quantum_stub
    shots = 500

    async def device_time(**fields) -> float:
        return (await run_job(stub, job_request(shot_count=shots, **fields))).device_time_s

    one = await device_time(observable=Z_FIRST)
    shared = await device_time(observables=[Z_FIRST, Z_SECOND])  # one Z-basis setting
    second_setting = await device_time(observables=[Z_FIRST, XY])  # Z and X0 X1 Y2
    assert one > 0
    assert shared == pytest.approx(one, rel=1e-12)
    assert second_setting == pytest.approx(2 * one, rel=1e-12)
    separately = one + await device_time(observable=Z_SECOND)
    assert separately == pytest.approx(2 * shared, rel=1e-12)


@pytest.mark.parametrize("adjoint", [False, True])
async def test_exact_session_with_several_observables(stack, adjoint):
    client = AsyncQuantumClient(stack.quantum.address, token=stack.token)
    try:
        start = session_start(ANSATZ_QASM, observables=OBSERVABLES, qpu_id=IDEAL,
                              gradient=True, adjoint_gradient=adjoint)
        async with await AsyncSession.open(client.stub, start, client_metadata(stack)) as s:
            assert s.ready.observable_count == len(OBSERVABLES)
            values, gradients = await s.evaluate(PARAMETERS, gradient=True)
            assert values.shape == (3, 3) and gradients.shape == (3, 3, 2)
            assert s.standard_errors().shape == (3, 3)
            assert s.last.exact and s.last.device_time_s == 0
            # parameter shift counts 1 + 2 x 3 parametric gates per row; adjoint 1
            assert s.last.evaluation_count == (3 if adjoint else 3 * 7)
            plain = await s.evaluate(PARAMETERS)  # without gradients: the estimate path
        exact = np.array([[exact_value(o, row) for o in OBSERVABLES] for row in PARAMETERS])
        np.testing.assert_allclose(values, exact, atol=1e-10)
        np.testing.assert_allclose(plain, exact, atol=1e-10)
        eps = 1e-5
        for j in range(2):
            step = np.zeros(2)
            step[j] = eps
            numeric = np.array([[(exact_value(o, row + step) - exact_value(o, row - step))
                                 / (2 * eps) for o in OBSERVABLES] for row in PARAMETERS])
            np.testing.assert_allclose(gradients[:, :, j], numeric, atol=1e-6)
    finally:
        await client.close()


async def test_shot_session_charges_one_execution_per_shared_setting(stack):
    client = AsyncQuantumClient(stack.quantum.address, token=stack.token)
    try:

        async def shot_session(**observables):
            async with await client.session(ANSATZ_QASM, qpu_id=IDEAL, shot_count=2000,
                                             seed=3, **observables) as s:
                v = await s.evaluate(PARAMETERS)
                return v, s.standard_errors(), s.last

        values, errors, last = await shot_session(observables=[Z_FIRST, Z_SECOND])
        one_values, _, one_last = await shot_session(observable=Z_FIRST)
        assert values.shape == errors.shape == (3, 2) and one_values.shape == (3,)
        assert one_last.device_time_s > 0
        assert last.device_time_s == pytest.approx(one_last.device_time_s, rel=1e-12)
        assert last.evaluation_count == one_last.evaluation_count == 3
        for k, terms in enumerate([Z_FIRST, Z_SECOND]):
            for row, value in zip(PARAMETERS, values[:, k]):
                sigma = shot_standard_error(terms, row, 2000)
                assert abs(value - exact_value(terms, row)) < 4 * sigma
    finally:
        await client.close()


async def test_a_single_observable_in_the_list_matches_the_single_field(stack):
    stub = stack.quantum_stub
    listed = await run_job(stub, job_request([XY], shot_count=300, seed=9))
    single = await run_job(stub, job_request(observable=XY, shot_count=300, seed=9))
    for a, b in zip(listed.result.experiments, single.result.experiments):
        assert list(a.expectation_values) == [b.expectation_value]
        assert list(a.standard_errors) == [b.standard_error]
    assert listed.device_time_s == single.device_time_s


async def _refused(call, fragment: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    assert fragment in info.value.details(), info.value.details()


async def _refused_session(stub, start: qs_pb2.SessionStart, fragment: str) -> None:
    async def first_response():
        call = stub.OpenSession()
        await call.write(qs_pb2.OpenSessionRequest(start=start))
        return await call.read()
    await _refused(first_response(), fragment)


@pytest.mark.parametrize(("observables", "fragment"), [
    ([[("Z0", 1.0)], [("Q1", 1.0)]], "observables[1]: observable term 0: bad Pauli factor"),
    ([[("Z0", 1.0)], [("Z7", 1.0)]], "observables[1]: observable term 0: qubit 7 is outside"),
    ([[("Z0", 1.0)], []], "observables[1]: observable has no terms"),
    ([[("Z0", 1.0)]] * (MAX_OBSERVABLES + 1), f"the limit is {MAX_OBSERVABLES}"),
])
async def test_bad_observables_are_invalid_arguments(stack, observables, fragment):
    stub = stack.quantum_stub
    before = len((await stub.ListJobs(qs_pb2.ListJobsRequest())).jobs)
    await _refused(stub.SubmitJob(job_request(observables)), fragment)
    start = qs_pb2.SessionStart(program=common_pb2.Program(openqasm=ANSATZ_QASM), qpu_id=IDEAL)
    start.observables.extend(observable_message(o) for o in observables)
    await _refused_session(stub, start, fragment)
    assert len((await stub.ListJobs(qs_pb2.ListJobsRequest())).jobs) == before  # none queued


async def test_observable_and_observables_together_are_refused(stack):
    stub = stack.quantum_stub
    await _refused(stub.SubmitJob(job_request([Z_FIRST], observable=XY)), "not both")
    start = session_start(ANSATZ_QASM, XY, qpu_id=IDEAL)
    start.observables.append(observable_message(Z_FIRST))
    await _refused_session(stub, start, "not both")
    with pytest.raises(ValueError, match="not both"):
        session_start(ANSATZ_QASM, XY, observables=[Z_FIRST])
    with pytest.raises(ValueError, match="empty"):
        session_start(ANSATZ_QASM, observables=[])
    assert to_observable(Z_FIRST) == observable_message(Z_FIRST)


async def test_minimize_takes_one_observable(stack):
    request = cs_pb2.MinimizeRequest(optimizer="cobyla", session=session_start(
        ANSATZ_QASM, observables=[Z_FIRST, XY], qpu_id=IDEAL))

    async def first_reply():
        async for reply in stack.classical_stub.Minimize(request):
            return reply
    await _refused(first_reply(), "Minimize minimises one observable")
