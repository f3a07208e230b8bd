"""End to end: the quantum service with a Dask executor (a LocalCluster of two worker
processes) answers SubmitJob and session evaluations with the results of the in-process
service, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")

from qcore.v1 import common_pb2  # noqa: E402
from qcore.v1 import quantum_service_pb2 as qs_pb2  # noqa: E402
from qcore.v1 import quantum_service_pb2_grpc  # noqa: E402
from quantum_service.config import QuantumSettings  # noqa: E402
from quantum_service.execution.dask_executor import DaskExecutor  # noqa: E402
from quantum_service.server.app import create_server  # noqa: E402

from integration_helpers import authenticated_channel, unique_prefix  # noqa: E402

pytestmark = pytest.mark.integration

PROGRAM = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] a;
input float[64] b;
qubit[4] q;
bit[4] c;
ry(a) q[0];
ry(2 * b - 0.3) q[1];
cx q[0], q[1];
cx q[1], q[2];
rx(a + b) q[3];
cx q[2], q[3];
c = measure q;
"""
ANSATZ = PROGRAM.replace("bit[4] c;\n", "").replace("c = measure q;\n", "")
SETS = np.random.default_rng(8).uniform(-np.pi, np.pi, size=(12, 2))


async def run_user_path(tmp_path: Path, mqtt_url: str, **executor
                        ) -> tuple[list, list, list, int]:
    """A counts job and a shot-based session with gradients on the noisy ion chain; returns
    (counts per set, session values, engine notes, Dask tasks the session ran as)."""
    settings = QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite", mqtt_url=mqtt_url,
                               grace_s=0.5, topic_prefix=unique_prefix(),
                               auto_calibration=False, multiprogramming=False, **executor)
    server = await create_server(settings)
    channel = authenticated_channel(server.address, server.tokens.create("t", admin=True))
    stub = quantum_service_pb2_grpc.QuantumServiceStub(channel)
    try:
        request = qs_pb2.SubmitJobRequest(
            programs=[common_pb2.Program(openqasm=PROGRAM)], qpu_id="ion-chain-11",
            shot_count=500, seed=77,
            parameter_sets=[common_pb2.ParameterSet(values=list(s)) for s in SETS])
        job_id = (await stub.SubmitJob(request)).job.job_id
        async for response in stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job_id)):
            final = response.job
        assert final.state == common_pb2.JOB_STATE_SUCCEEDED, final.error_message
        final = (await stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id))).job
        counts = [dict(e.counts) for e in final.result.experiments]
        notes = [e.engine_reason for e in final.result.experiments]

        async def requests():
            start = qs_pb2.SessionStart(program=common_pb2.Program(openqasm=ANSATZ),
                                        qpu_id="ion-chain-11", shot_count=400, seed=9)
            start.observable.terms.add(pauli_string="Z0 Z1", coefficient=1.0)
            start.observable.terms.add(pauli_string="X2 X3", coefficient=0.5)
            yield qs_pb2.OpenSessionRequest(start=start)
            values = SETS[:6].astype("<f8")
            yield qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
                sequence=1, parameter_values=values.tobytes(), parameter_set_count=6,
                compute_gradient=True))

        dask = server.executor if isinstance(server.executor, DaskExecutor) else None
        before = dask.tasks_done if dask else 0
        session = [r async for r in stub.OpenSession(requests())][1].result
        session_tasks = (dask.tasks_done - before) if dask else 0
        values = [np.frombuffer(session.expectation_values, "<f8").tolist(),
                  np.frombuffer(session.gradients, "<f8").tolist()]
        return counts, values, notes, session_tasks
    finally:
        await channel.close()
        await server.stop(0.5)


async def test_dask_service_equals_in_process(tmp_path, mqtt_url):
    local = await run_user_path(tmp_path / "a", mqtt_url)
    dask = await run_user_path(tmp_path / "b", mqtt_url, executor="local", dask_workers=2,
                               dask_min_offload_s=0)
    assert all("executed on Dask (LocalCluster" in note for note in dask[2]), dask[2][0]
    assert not any("Dask" in note for note in local[2])
    assert len(dask[0]) == 12 and all(sum(c.values()) == 500 for c in dask[0])
    assert dask[0] == local[0]
    assert dask[1] == local[1]
    assert dask[3] >= 1 and local[3] == 0  # the session's batch ran on the workers
