"""Sessions and Minimize over real gRPC, and telemetry at a real MQTT subscriber."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from broker.subscriber import TelemetrySubscriber
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import common_pb2, telemetry_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import session_start
from qcore_client.problems.molecules import CHEMICAL_ACCURACY_HARTREE, ansatz, load_molecule

pytestmark = pytest.mark.integration

ANSATZ_QASM = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
input float[64] b;
qubit[2] q;
ry(a) q[0];
ry(2 * b - 0.3) q[1];
cx q[0], q[1];
"""


def exact_energy(a: float, b: float) -> float:
    """<Z0> + 0.5 <X0 X1> for ANSATZ_QASM, by plain NumPy (independent of qcore's simulator)."""
    def ry(t):
        return np.array([[np.cos(t / 2), -np.sin(t / 2)], [np.sin(t / 2), np.cos(t / 2)]])
    state = np.kron(ry(2 * b - 0.3), ry(a)) @ np.eye(4)[0]  # qubit 0 = least significant
    cx = np.eye(4)[[0, 3, 2, 1]]  # control qubit 0, target qubit 1 (|q1 q0> indices)
    state = cx @ state
    z0 = np.diag([1, -1, 1, -1])
    xx = np.fliplr(np.eye(4))
    return float(state @ (z0 + 0.5 * xx) @ state)


async def leases_released(stack, timeout_s: float = 5.0) -> bool:
    """Whether every QPU lease is released within ``timeout_s`` (the server releases it when
    the stream ends, which may be just after the client has seen the final status)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if all(slot.session_count == 0 for slot in stack.quantum.kernel.registry):
            return True
        await asyncio.sleep(0.02)
    return False


def start_message(**fields) -> qs_pb2.OpenSessionRequest:
    start = qs_pb2.SessionStart(program=common_pb2.Program(openqasm=ANSATZ_QASM), **fields)
    start.observable.terms.add(pauli_string="Z0", coefficient=1.0)
    start.observable.terms.add(pauli_string="X0 X1", coefficient=0.5)
    return qs_pb2.OpenSessionRequest(start=start)


def evaluate_message(values: np.ndarray, sequence: int = 1, gradient: bool = False):
    values = np.atleast_2d(np.asarray(values, dtype="<f8"))
    return qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
        sequence=sequence, parameter_values=values.tobytes(),
        parameter_set_count=values.shape[0], compute_gradient=gradient))


async def test_session_batches_and_gradients(stack):
    points = np.array([[0.1, 0.2], [1.3, -0.4], [2.0, 0.9]])
    queue: asyncio.Queue = asyncio.Queue()
    await queue.put(start_message(qpu_id="ion-ideal-24"))
    await queue.put(evaluate_message(points, 1, gradient=True))
    await queue.put(evaluate_message(points[:1], 2))
    await queue.put(None)

    async def requests():
        while (item := await queue.get()) is not None:
            yield item

    responses = [r async for r in stack.quantum_stub.OpenSession(requests())]
    ready = responses[0].ready
    assert list(ready.parameters) == ["a", "b"] and ready.qpu_id == "ion-ideal-24"
    assert ready.compiled_gate_count > 0
    batch = responses[1].result
    energies = np.frombuffer(batch.expectation_values, dtype="<f8")
    np.testing.assert_allclose(energies, [exact_energy(*p) for p in points], atol=1e-10)
    gradients = np.frombuffer(batch.gradients, dtype="<f8").reshape(3, 2)
    h = 1e-6
    for row, p in enumerate(points):
        fd = [(exact_energy(*(p + h * e)) - exact_energy(*(p - h * e))) / (2 * h)
              for e in np.eye(2)]
        np.testing.assert_allclose(gradients[row], fd, atol=1e-6)
    assert responses[2].result.sequence == 2
    assert responses[2].result.evaluation_count > batch.evaluation_count
    # the lease is released when the stream closes
    assert await leases_released(stack)


async def test_shot_based_session_reports_standard_errors(stack):
    async def requests():
        yield start_message(qpu_id="ion-ideal-24", shot_count=4000, seed=5)
        yield evaluate_message([[0.8, 0.1]] * 20)

    responses = [r async for r in stack.quantum_stub.OpenSession(requests())]
    result = responses[1].result
    values = np.frombuffer(result.expectation_values, dtype="<f8")
    errors = np.frombuffer(result.standard_errors, dtype="<f8")
    exact = exact_energy(0.8, 0.1)
    assert np.all(errors > 0.003) and np.all(errors < 0.03)
    assert abs(values.mean() - exact) < 4 * errors.mean() / np.sqrt(20)
    assert 0.5 < values.std() / errors.mean() < 1.5  # the reported error matches the scatter
    assert result.device_time_s > 0


SESSION_ERRORS = [
    ("wrong number of parameters", [start_message(), evaluate_message([[0.1, 0.2, 0.3]])],
     grpc.StatusCode.INVALID_ARGUMENT),
    ("NaN parameter", [start_message(), evaluate_message([[0.1, float("nan")]])],
     grpc.StatusCode.INVALID_ARGUMENT),
    ("negative shots", [start_message(shot_count=-1)], grpc.StatusCode.INVALID_ARGUMENT),
    ("unknown QPU", [start_message(qpu_id="nope")], grpc.StatusCode.NOT_FOUND),
    ("evaluate before start", [evaluate_message([[0.1, 0.2]])],
     grpc.StatusCode.INVALID_ARGUMENT),
]


@pytest.mark.parametrize("case", SESSION_ERRORS, ids=[c[0] for c in SESSION_ERRORS])
async def test_session_errors(stack, case):
    _, messages, code = case

    async def requests():
        for message in messages:
            yield message

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stack.quantum_stub.OpenSession(requests()):
            pass
    assert info.value.code() == code
    assert await leases_released(stack)


async def test_session_idle_timeout_releases_lease(stack):
    gate = asyncio.Event()

    async def requests():
        yield start_message(qpu_id="ion-ideal-24", idle_timeout_s=1)
        await gate.wait()

    call = stack.quantum_stub.OpenSession(requests())
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for response in call:
            assert response.ready.session_id
            assert stack.quantum.kernel.registry.get("ion-ideal-24").session_count == 1
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await leases_released(stack)
    gate.set()


async def test_minimize_h2_to_chemical_accuracy(stack):
    molecule = load_molecule("h2")
    request = cs_pb2.MinimizeRequest(
        optimizer="l-bfgs-b", max_iterations=100, tolerance=1e-10,
        session=session_start(ansatz(molecule), molecule.observable, qpu_id="ion-ideal-24"))
    iterations, result = [], None
    async for response in stack.classical_stub.Minimize(request):
        if response.WhichOneof("response") == "iteration":
            iterations.append(response.iteration)
        else:
            result = response.result
    assert iterations and result is not None
    assert [i.iteration for i in iterations] == list(range(1, len(iterations) + 1))
    counts = [i.evaluation_count for i in iterations]
    assert counts == sorted(counts) and counts[0] > 0
    assert abs(result.energy - molecule.exact_energy) < CHEMICAL_ACCURACY_HARTREE
    assert result.qpu_id == "ion-ideal-24"
    assert result.device_time_s == 0.0  # exact expectation values are simulator-only


@pytest.mark.parametrize("optimizer", ["cobyla", "nelder-mead", "spsa", "adam"])
async def test_minimize_other_optimizers_lower_the_energy(stack, optimizer):
    molecule = load_molecule("h2")
    request = cs_pb2.MinimizeRequest(
        optimizer=optimizer, max_iterations=40, seed=3,
        session=session_start(ansatz(molecule), molecule.observable, qpu_id="ion-ideal-24"))
    result = None
    async for response in stack.classical_stub.Minimize(request):
        if response.WhichOneof("response") == "result":
            result = response.result
    assert result.energy < molecule.hf_energy - 0.005  # well below the starting (HF) energy


MINIMIZE_ERRORS = [
    ("unknown optimizer", dict(optimizer="newton"), grpc.StatusCode.INVALID_ARGUMENT, "newton"),
    ("bad option", dict(optimizer="adam", options={"bogus": 1.0}),
     grpc.StatusCode.INVALID_ARGUMENT, "bogus"),
    ("wrong initial point", dict(optimizer="cobyla", initial_parameters=[0.1]),
     grpc.StatusCode.INVALID_ARGUMENT, "initial_parameters"),
    ("unknown QPU", dict(optimizer="cobyla", qpu_id="nope"), grpc.StatusCode.NOT_FOUND, "nope"),
]


@pytest.mark.parametrize("case", MINIMIZE_ERRORS, ids=[c[0] for c in MINIMIZE_ERRORS])
async def test_minimize_errors(stack, case):
    _, fields, code, fragment = case
    qpu_id = fields.pop("qpu_id", "")
    molecule = load_molecule("h2")
    request = cs_pb2.MinimizeRequest(
        session=session_start(ansatz(molecule), molecule.observable, qpu_id=qpu_id), **fields)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stack.classical_stub.Minimize(request):
            pass
    assert info.value.code() == code
    assert fragment in info.value.details()


async def test_telemetry_reaches_a_subscriber(stack):
    received: list[tuple[str, object]] = []

    async with TelemetrySubscriber(stack.mqtt_url, prefix=stack.topic_prefix) as subscriber:
        async def consume():
            async for topic, message in subscriber:
                received.append((topic, message))

        consumer = asyncio.create_task(consume())
        await asyncio.sleep(0.3)
        request = qs_pb2.SubmitJobRequest(
            programs=[common_pb2.Program(openqasm="OPENQASM 2.0; include \"qelib1.inc\"; "
                                         "qreg q[1]; creg c[1]; x q[0]; measure q -> c;")],
            shot_count=10, qpu_id="ion-ideal-24")
        job = (await stack.quantum_stub.SubmitJob(request)).job
        for _ in range(100):
            states = [m.state for t, m in received if isinstance(m, telemetry_pb2.JobStateEvent)
                      and m.job_id == job.job_id]
            if common_pb2.JOB_STATE_SUCCEEDED in states:
                break
            await asyncio.sleep(0.05)
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    assert states == [common_pb2.JOB_STATE_QUEUED, common_pb2.JOB_STATE_RUNNING,
                      common_pb2.JOB_STATE_SUCCEEDED]
    topics = {t for t, m in received if isinstance(m, telemetry_pb2.JobStateEvent)
              and m.job_id == job.job_id}
    assert topics == {f"{stack.topic_prefix}/jobs/{job.job_id}/state"}
    assert any(isinstance(m, telemetry_pb2.QpuStatusEvent) and m.qpu_id == "ion-ideal-24"
               for _, m in received)


async def test_adjoint_and_parameter_shift_sessions_agree(stack):
    points = np.array([[0.3, -0.7], [1.1, 0.4]])

    async def run(method):
        async def requests():
            yield start_message(qpu_id="ion-ideal-24", gradient_method=method)
            yield evaluate_message(points, 1, gradient=True)

        responses = [r async for r in stack.quantum_stub.OpenSession(requests())]
        return responses[1].result

    shift = await run(qs_pb2.GRADIENT_METHOD_PARAMETER_SHIFT)
    adjoint = await run(qs_pb2.GRADIENT_METHOD_ADJOINT)
    np.testing.assert_allclose(np.frombuffer(adjoint.gradients, dtype="<f8"),
                               np.frombuffer(shift.gradients, dtype="<f8"), atol=1e-12)
    # parameter shift counts the shifted circuits a device would run; adjoint is
    # simulator-only; exact values charge no device time either way
    assert adjoint.evaluation_count == 2 < shift.evaluation_count
    assert adjoint.exact and shift.exact
    assert adjoint.device_time_s == shift.device_time_s == 0.0

    async def noisy():
        yield start_message(qpu_id="sc-grid-16", gradient_method=qs_pb2.GRADIENT_METHOD_ADJOINT)

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stack.quantum_stub.OpenSession(noisy()):
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "noiseless" in info.value.details()


async def test_classical_service_serves_the_model_api(stack):
    models = await stack.classical_stub.ListModels(cs_pb2.ListModelsRequest())
    assert list(models.models) == []  # a fresh model directory
    for call, request in [
            (stack.classical_stub.GetModel, cs_pb2.GetModelRequest(name="nope")),
            (stack.classical_stub.Infer, cs_pb2.InferRequest(model="nope"))]:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call(request)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        assert "nope" in info.value.details()
