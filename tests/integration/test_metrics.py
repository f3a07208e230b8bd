"""Prometheus ``/metrics`` of a running quantum service, scraped over HTTP and parsed with
prometheus-client's own text parser."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import bearer_interceptors
from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server

pytestmark = pytest.mark.integration

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0], q[1];\n' \
       'measure q -> c;\n'


def scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of ``http://127.0.0.1:port/metrics``: name → sorted labels → value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = \
                sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


async def test_metrics_endpoint_exports_jobs_queues_sessions_calibration_and_rpcs(
        tmp_path: Path, mqtt_url: str):
    server = await create_server(QuantumSettings(
        port=0, metrics_port=0, db_path=tmp_path / "jobs.sqlite", mqtt_url=mqtt_url,
        grace_s=0.5))
    token = server.tokens.create("tester", admin=True)
    channel = grpc.aio.insecure_channel(server.address,
                                        interceptors=bearer_interceptors(token))
    try:
        stub = qs_grpc.QuantumServiceStub(channel)
        port = server.metrics_endpoint.port
        before = scrape(port)
        assert value(before, "qcore_jobs", qpu_id="ion-ideal-24", state="succeeded") == 0
        assert value(before, "qcore_qpu_status", qpu_id="sc-grid-16", status="online") == 1
        for _ in range(2):
            job = (await stub.SubmitJob(qs_pb2.SubmitJobRequest(
                programs=[common_pb2.Program(openqasm=BELL)], qpu_id="ion-ideal-24",
                shot_count=100))).job
            async for update in stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job.job_id)):
                final = update.job
            assert final.state == common_pb2.JOB_STATE_SUCCEEDED
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.GetJob(qs_pb2.GetJobRequest(job_id="job-missing"))
        await stub.Calibrate(qs_pb2.CalibrateRequest(qpu_id="sc-grid-16", qubits=[0],
                                                     force=True))

        # A session holds its lease while open: one open session on ion-chain-11.
        start = qs_pb2.SessionStart(qpu_id="ion-chain-11", program=common_pb2.Program(
            openqasm='OPENQASM 3.0;\ninclude "stdgates.inc";\ninput float[64] a;\nqubit[1] q;\n'
                     'ry(a) q[0];\n'))
        start.observable.terms.add(pauli_string="Z0", coefficient=1.0)
        requests: asyncio.Queue = asyncio.Queue()
        await requests.put(qs_pb2.OpenSessionRequest(start=start))

        async def stream():
            while (item := await requests.get()) is not None:
                yield item

        call = stub.OpenSession(stream())
        assert (await call.read()).WhichOneof("response") == "ready"
        during = scrape(port)
        await requests.put(None)
        async for _ in call:
            pass

        after = scrape(port)
        assert value(after, "qcore_jobs", qpu_id="ion-ideal-24", state="succeeded") == 2
        assert value(after, "qcore_jobs", qpu_id="ion-ideal-24", state="queued") == 0
        assert value(after, "qcore_qpu_queue_length", qpu_id="ion-ideal-24") == 0
        assert value(during, "qcore_open_sessions", qpu_id="ion-chain-11") == 1
        assert value(after, "qcore_open_sessions", qpu_id="ion-chain-11") == 0
        assert value(after, "qcore_qpu_device_time_seconds_total", qpu_id="ion-ideal-24") > \
            value(before, "qcore_qpu_device_time_seconds_total", qpu_id="ion-ideal-24")
        assert value(after, "qcore_calibration_events_total", qpu_id="sc-grid-16",
                     trigger="on_demand") == 1
        submit = "/qcore.v1.QuantumService/SubmitJob"
        assert value(after, "qcore_rpc_duration_seconds_count", method=submit, code="OK") == 2
        assert value(after, "qcore_rpc_duration_seconds_count",
                     method="/qcore.v1.QuantumService/GetJob", code="NOT_FOUND") == 1
        assert value(after, "qcore_rpc_duration_seconds_count",
                     method="/qcore.v1.QuantumService/OpenSession", code="OK") == 1
        assert value(after, "qcore_rpc_duration_seconds_bucket", method=submit, code="OK",
                     le="+Inf") == 2
    finally:
        await channel.close()
        await server.stop(0.5)


async def test_metrics_are_off_by_default(tmp_path: Path, mqtt_url: str):
    server = await create_server(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                                 mqtt_url=mqtt_url, grace_s=0.5))
    try:
        assert server.metrics_endpoint is None
    finally:
        await server.stop(0.5)
