"""Authentication and authorization of the quantum service over real gRPC on a loopback port:
bearer tokens (stored hashed), owner-only access to jobs, admin-only fleet operations, open
health checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import bearer_interceptors
from quantum_service.config import QuantumSettings
from quantum_service.security.tokens import TokenStore, ensure_token_file, hash_token
from quantum_service.server.app import QuantumServer, create_server

BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2]; creg c[2];
h q[0]; cx q[0],q[1];
measure q -> c;
"""


@dataclass
class Fleet:
    server: QuantumServer
    db_path: Path
    tokens: dict[str, str]
    channels: list[grpc.aio.Channel]

    def stub(self, who: str | None) -> qs_grpc.QuantumServiceStub:
        """A stub sending ``who``'s token (``None``: no token; any other name: that string
        as the token)."""
        token = self.tokens.get(who, who) if who is not None else None
        channel = grpc.aio.insecure_channel(
            self.server.address, interceptors=bearer_interceptors(token) if token else None)
        self.channels.append(channel)
        return qs_grpc.QuantumServiceStub(channel)


@pytest.fixture
async def fleet(tmp_path: Path) -> AsyncIterator[Fleet]:
    db_path = tmp_path / "jobs.sqlite"
    server = await create_server(QuantumSettings(port=0, db_path=db_path, telemetry=False,
                                                 auto_calibration=False, grace_s=0.1))
    tokens = {"alice": server.tokens.create("alice"), "bob": server.tokens.create("bob"),
              "root": server.tokens.create("root", admin=True)}
    fleet = Fleet(server, db_path, tokens, [])
    try:
        yield fleet
    finally:
        for channel in fleet.channels:
            await channel.close()
        await server.stop(0.1)


def _bell(**fields) -> qs_pb2.SubmitJobRequest:
    return qs_pb2.SubmitJobRequest(programs=[common_pb2.Program(openqasm=BELL)],
                                   qpu_id="ion-ideal-24", shot_count=10, **fields)


async def _code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return info.value.code()


async def test_calls_without_a_token_are_unauthenticated(fleet):
    stub = fleet.stub(None)
    assert await _code(stub.ListQpus(qs_pb2.ListQpusRequest())) == \
        grpc.StatusCode.UNAUTHENTICATED
    assert await _code(stub.SubmitJob(_bell())) == grpc.StatusCode.UNAUTHENTICATED
    assert fleet.server.kernel.list_jobs(limit=10)[0] == []


async def test_unknown_token_and_the_old_user_header_are_unauthenticated(fleet):
    assert await _code(fleet.stub("qc_not-a-real-token").ListQpus(qs_pb2.ListQpusRequest())) \
        == grpc.StatusCode.UNAUTHENTICATED
    channel = grpc.aio.insecure_channel(fleet.server.address)
    fleet.channels.append(channel)
    call = qs_grpc.QuantumServiceStub(channel).ListJobs(
        qs_pb2.ListJobsRequest(), metadata=(("x-qcore-user", "root"),))
    assert await _code(call) == grpc.StatusCode.UNAUTHENTICATED


async def test_health_check_needs_no_token(fleet):
    channel = grpc.aio.insecure_channel(fleet.server.address)
    fleet.channels.append(channel)
    reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_users_see_and_cancel_only_their_own_jobs(fleet):
    alice, bob, root = fleet.stub("alice"), fleet.stub("bob"), fleet.stub("root")
    bobs = (await bob.SubmitJob(_bell(name="bob's"))).job
    assert bobs.owner == "bob"
    alices = (await alice.SubmitJob(_bell(name="alice's"))).job
    assert alices.owner == "alice"

    get = qs_pb2.GetJobRequest(job_id=bobs.job_id)
    assert await _code(alice.GetJob(get)) == grpc.StatusCode.NOT_FOUND
    assert await _code(alice.CancelJob(qs_pb2.CancelJobRequest(job_id=bobs.job_id))) == \
        grpc.StatusCode.NOT_FOUND
    watch = alice.WatchJob(qs_pb2.WatchJobRequest(job_id=bobs.job_id))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in watch:
            pass
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    listed = (await alice.ListJobs(qs_pb2.ListJobsRequest())).jobs
    assert [j.job_id for j in listed] == [alices.job_id]

    assert (await bob.GetJob(get)).job.owner == "bob"
    everyone = {j.job_id for j in (await root.ListJobs(qs_pb2.ListJobsRequest())).jobs}
    assert everyone == {alices.job_id, bobs.job_id}
    seen = (await root.GetJob(get)).job
    assert seen.job_id == bobs.job_id
    async for update in root.WatchJob(qs_pb2.WatchJobRequest(job_id=alices.job_id)):
        assert update.job.owner == "alice"
        break


async def test_admin_may_cancel_another_users_queued_job(fleet):
    alice, root = fleet.stub("alice"), fleet.stub("root")
    driver = fleet.server.kernel.registry.get("ion-ideal-24").driver
    release = asyncio.Event()
    execute = driver.execute
    loop = asyncio.get_running_loop()

    def blocking_execute(*args, **kwargs):  # holds the QPU so the second job stays queued
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(10)
        return execute(*args, **kwargs)

    driver.execute = blocking_execute
    try:
        await alice.SubmitJob(_bell())
        queued = (await alice.SubmitJob(_bell())).job
        cancelled = (await root.CancelJob(qs_pb2.CancelJobRequest(job_id=queued.job_id))).job
        assert cancelled.state == common_pb2.JOB_STATE_CANCELLED
    finally:
        release.set()


async def test_request_id_replay_by_another_user_makes_its_own_job(fleet):
    alice, bob = fleet.stub("alice"), fleet.stub("bob")
    first = (await alice.SubmitJob(_bell(request_id="same-id"))).job
    again = (await alice.SubmitJob(_bell(request_id="same-id"))).job
    other = (await bob.SubmitJob(_bell(request_id="same-id"))).job
    assert again.job_id == first.job_id
    assert other.job_id != first.job_id and other.owner == "bob"


async def test_calibrate_is_admin_only(fleet):
    request = qs_pb2.CalibrateRequest(qpu_id="sc-grid-16", force=True)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await fleet.stub("alice").Calibrate(request)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # the admin passes the policy; this service runs without a calibration manager
    assert await _code(fleet.stub("root").Calibrate(request)) == grpc.StatusCode.UNAVAILABLE


async def test_tokens_are_stored_hashed(fleet):
    raw = fleet.tokens["alice"]
    data = b"".join(p.read_bytes() for p in fleet.db_path.parent.glob("jobs.sqlite*"))
    assert raw.encode() not in data
    store = TokenStore(fleet.db_path)
    try:
        principal = store.verify(raw)
    finally:
        store.close()
    assert principal is not None and principal.user == "alice" and not principal.is_admin
    assert len(hash_token(raw)) == 64


def test_local_admin_token_file_is_private_and_reused(tmp_path: Path):
    db, path = tmp_path / "jobs.sqlite", tmp_path / "var" / "admin.token"
    token = ensure_token_file(db, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert ensure_token_file(db, path) == token
    store = TokenStore(db)
    try:
        principal = store.verify(token)
    finally:
        store.close()
    assert principal is not None and principal.is_admin
    other = ensure_token_file(tmp_path / "fresh.sqlite", path)  # unknown to a new store
    assert other != token
