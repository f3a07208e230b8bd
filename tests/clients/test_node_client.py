"""The Node.js client (``clients/node``, @grpc/grpc-js) against a live quantum service: its own
test runner (``npm test``, i.e. ``node --test``) lists QPUs, submits and watches a job and runs
a session. Skipped when node is missing or its packages are not installed (``make node-deps``
runs ``npm ci``)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest

from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).resolve().parents[2] / "clients" / "node"


async def test_node_client_against_a_live_quantum_service(tmp_path: Path):
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed (apt-get install nodejs npm)")
    if not (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir():
        pytest.skip("the Node client's packages are not installed: run `make node-deps`")
    server = await create_server(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                                 telemetry=False, grace_s=0.5))
    try:
        token = server.tokens.create("node-user")
        process = await asyncio.create_subprocess_exec(
            npm, "test", cwd=NODE_DIR, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "QCORE_QUANTUM_ADDRESS": server.address, "QCORE_TOKEN": token})
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
        text = output.decode()
        assert process.returncode == 0, text
        assert "# pass 3" in text and "# skipped 0" in text, text
        jobs, _ = server.kernel.store.list(limit=10, owner="node-user")
        assert [(job.owner, job.qpu_id) for job in jobs] == [("node-user", "ion-ideal-24")]
    finally:
        await server.stop(0.5)
