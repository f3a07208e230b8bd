"""ListSessions over real gRPC: a user lists only their own open sessions, an admin every
user's; a closed session is no longer listed; pages and bad paging input as ListJobs."""

from __future__ import annotations

import base64
from datetime import timedelta

import grpc
import pytest

from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.client import AsyncQuantumClient, AsyncSession

pytestmark = pytest.mark.integration

IDEAL = "ion-ideal-24"
NOISY = "sc-grid-16"
ANSATZ_QASM = """OPENQASM 3.0;
include "stdgates.inc";
input float[64] t;
qubit[1] q;
ry(t) q[0];
"""


async def listed(client: AsyncQuantumClient, **filters) -> list[qs_pb2.SessionSummary]:
    return [s async for s in client.list_sessions(**filters)]


async def open_session(client: AsyncQuantumClient, qpu_id: str, **options) -> AsyncSession:
    return await client.session(ANSATZ_QASM, {"Z0": 1.0}, qpu_id=qpu_id, **options)


async def test_users_list_their_own_sessions_and_admins_everyones(stack):
    alice = AsyncQuantumClient(stack.quantum.address, token=stack.quantum.tokens.create("alice"))
    bob = AsyncQuantumClient(stack.quantum.address, token=stack.quantum.tokens.create("bob"))
    admin = AsyncQuantumClient(stack.quantum.address, token=stack.token)
    opened: list[AsyncSession] = []
    try:
        first = await open_session(alice, IDEAL, idle_timeout_s=120)
        opened.append(first)
        await first.evaluate([[0.3], [1.1]])
        second = await open_session(alice, NOISY, shot_count=100)
        opened.append(second)
        bobs = await open_session(bob, IDEAL)
        opened.append(bobs)

        mine = await listed(alice)
        assert [s.session_id for s in mine] == [second.session_id, first.session_id]  # newest
        assert {s.owner for s in mine} == {"alice"}
        summary = mine[1]
        assert summary.qpu_id == IDEAL and summary.idle_timeout_s == 120
        assert summary.evaluation_count == 2 and summary.request_count == 1
        assert summary.shot_count == 0 and summary.parameter_count == 1
        assert summary.observable_count == 1
        opened_at = summary.open_time.ToDatetime()
        assert opened_at <= summary.expire_time.ToDatetime() - timedelta(seconds=120)
        assert mine[0].qpu_id == NOISY and mine[0].shot_count == 100
        assert mine[0].evaluation_count == 0
        assert [s.session_id for s in await listed(alice, qpu_id=NOISY)] == [second.session_id]
        assert await listed(alice, qpu_id="no-such-qpu") == []

        assert [(s.session_id, s.owner) for s in await listed(bob)] == [
            (bobs.session_id, "bob")]
        everyone = [s.session_id for s in await listed(admin)]
        assert everyone == [bobs.session_id, second.session_id, first.session_id]
        assert [s.session_id for s in await listed(admin, qpu_id=IDEAL)] == [
            bobs.session_id, first.session_id]

        await first.close()
        opened.remove(first)
        assert [s.session_id for s in await listed(alice)] == [second.session_id]
        assert first.session_id not in {s.session_id for s in await listed(admin)}
        await bobs.close()
        opened.remove(bobs)
        assert await listed(bob) == []
        assert [s.session_id for s in await listed(admin)] == [second.session_id]
    finally:
        for session in opened:
            await session.close()
        for client in (alice, bob, admin):
            await client.close()


async def test_sessions_page_newest_first_and_bad_paging_is_invalid_argument(stack):
    client = AsyncQuantumClient(stack.quantum.address, token=stack.token)
    stub: qs_grpc.QuantumServiceStub = stack.quantum_stub
    sessions = [await open_session(client, IDEAL) for _ in range(3)]
    try:
        pages, token = [], ""
        while True:
            page = await stub.ListSessions(qs_pb2.ListSessionsRequest(page_size=2,
                                                                      page_token=token))
            pages.append([s.session_id for s in page.sessions])
            if not (token := page.next_page_token):
                break
        newest_first = [s.session_id for s in reversed(sessions)]
        assert pages == [newest_first[:2], newest_first[2:]]
        assert [s.session_id async for s in client.list_sessions(page_size=1)] == newest_first
        assert [s.session_id async for s in client.list_sessions(limit=2)] == newest_first[:2]
        for request in (qs_pb2.ListSessionsRequest(page_size=-1),
                        qs_pb2.ListSessionsRequest(page_token="%%%"),
                        qs_pb2.ListSessionsRequest(page_token=base64.urlsafe_b64encode(
                            b"0").decode())):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await stub.ListSessions(request)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "page_" in info.value.details()
    finally:
        for session in sessions:
            await session.close()
        await client.close()
