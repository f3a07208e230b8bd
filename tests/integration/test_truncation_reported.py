"""End to end: matrix-product-state jobs and sessions whose bond cap cuts the state report the
truncation error on every experiment and evaluation; the cap is the QPU's, or the job's own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import grpc
import numpy as np
import pytest

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc
from quantum_service.config import QuantumSettings
from quantum_service.drivers.fleet import origin_wukong
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.server.app import create_server

from integration_helpers import authenticated_channel, unique_prefix

pytestmark = pytest.mark.integration


def brickwork_qasm(rows: int, cols: int, layers: int, *, measured: bool) -> str:
    """Random ``u3`` layers and ``cz`` on the couplers of a corner of the 6x12 Wukong grid."""
    rng = np.random.default_rng(5)
    qubits = [r * 12 + c for r in range(rows) for c in range(cols)]
    couplers = ([(r * 12 + c, r * 12 + c + 1) for r in range(rows) for c in range(cols - 1)]
                + [(r * 12 + c, (r + 1) * 12 + c) for r in range(rows - 1) for c in range(cols)])
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', "qubit[72] q;"]
    for layer in range(layers):
        lines += [f"U({a:.6f}, {b:.6f}, {c:.6f}) q[{q}];"
                  for q, (a, b, c) in zip(qubits, rng.uniform(0, np.pi, (len(qubits), 3)))]
        lines += [f"cz q[{a}], q[{b}];" for a, b in couplers[layer % 2::2]]
    if measured:
        lines.insert(3, f"bit[{len(qubits)}] c;")
        lines += [f"c[{i}] = measure q[{q}];" for i, q in enumerate(qubits)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("where", ["qpu", "job"])
async def test_a_bond_cap_reaches_the_user_as_a_truncation_error(tmp_path: Path, mqtt_url,
                                                                 where: str):
    caps, params = origin_wukong()
    driver = SimulatedQpuDriver(dataclasses.replace(caps, noisy=False), params,
                                **({"max_bond_dimension": 2} if where == "qpu" else {}))
    per_job = 2 if where == "job" else 0
    settings = QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite", mqtt_url=mqtt_url,
                               grace_s=0.5, topic_prefix=unique_prefix(),
                               auto_calibration=False, multiprogramming=False)
    server = await create_server(settings, drivers=[driver])
    channel = authenticated_channel(server.address, server.tokens.create("t", admin=True))
    stub = quantum_service_pb2_grpc.QuantumServiceStub(channel)
    try:
        request = qs_pb2.SubmitJobRequest(
            programs=[common_pb2.Program(openqasm=brickwork_qasm(5, 6, 2, measured=True))],
            qpu_id=caps.qpu_id, shot_count=100, seed=3, max_bond_dimension=per_job)
        job_id = (await stub.SubmitJob(request)).job.job_id
        async for response in stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job_id)):
            final = response.job
        assert final.state == common_pb2.JOB_STATE_SUCCEEDED, final.error_message
        final = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id))).job
        (experiment,) = final.result.experiments
        assert experiment.engine == "mps"
        assert "truncated at bond dimension 2" in experiment.engine_reason
        assert experiment.truncation_error > 1e-3

        async def requests():
            start = qs_pb2.SessionStart(
                program=common_pb2.Program(openqasm=brickwork_qasm(5, 6, 2, measured=False)),
                qpu_id=caps.qpu_id, shot_count=0, seed=9, max_bond_dimension=per_job)
            start.observable.terms.add(pauli_string="Z0 Z1", coefficient=1.0)
            yield qs_pb2.OpenSessionRequest(start=start)
            yield qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
                sequence=1, parameter_values=b"", parameter_set_count=1))

        replies = [r async for r in stub.OpenSession(requests())]
        assert replies[1].result.engine == "mps"
        assert replies[1].result.truncation_error > 1e-3

        # the default cap keeps this shallow state exact; a cap above the QPU's is refused
        exact = qs_pb2.SubmitJobRequest()
        exact.CopyFrom(request)
        exact.request_id, exact.max_bond_dimension = "exact", 0
        if where == "job":
            job_id = (await stub.SubmitJob(exact)).job.job_id
            async for response in stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job_id)):
                final = response.job
            final = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id))).job
            assert final.result.experiments[0].truncation_error < 1e-9
        exact.request_id, exact.max_bond_dimension = "too-big", 257
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.SubmitJob(exact)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "max_bond_dimension" in info.value.details()
    finally:
        await channel.close()
        await server.stop(0.5)
