"""Helpers shared by the integration tests and their fixtures (imported as a plain module: a
test module importing ``conftest`` would get whichever test folder's conftest came first)."""

from __future__ import annotations

import uuid

import grpc

from qcore_client.auth import bearer_interceptors


def authenticated_channel(address: str, token: str) -> grpc.aio.Channel:
    """A channel to ``address`` sending ``token`` as ``authorization: Bearer`` on every call."""
    return grpc.aio.insecure_channel(address, interceptors=bearer_interceptors(token))


def unique_prefix() -> str:
    """A topic prefix no other test or deployment uses."""
    return f"qcore-test/{uuid.uuid4().hex[:12]}/qcore/v1"
