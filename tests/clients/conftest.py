"""A local qcore stack (child processes on free ports, private broker) shared by the client
tests of a session, and tokens minted into its store."""

from __future__ import annotations

import uuid

import pytest

from qcore_client.launcher import LocalStack


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    # The machine's broker may be shared: publish under a prefix of this test run's own.
    stack = LocalStack(workdir=tmp_path_factory.mktemp("stack"),
                       topic_prefix=f"qcore-test/{uuid.uuid4().hex[:12]}/qcore/v1")
    stack.start(timeout_s=120)
    try:
        yield stack
    finally:
        stack.stop()
    assert all(p.poll() is not None for _, p in stack.processes) or not stack.processes
