"""Every runnable code block of README.md, run against a live stack.

The stack is started the way ``make services`` starts it (``python -m qcore_client.mainjob
--services-only``) but on free ports, chosen through the documented ``QCORE_QUANTUM_PORT`` /
``QCORE_CLASSICAL_PORT``, and with a private embedded broker (``python -m broker --port 0``,
passed as ``QCORE_MQTT_URL``), so it never meets a stack or broker of the machine. The blocks
are run verbatim: the README's snippets connect to the default ports unless
``QCORE_QUANTUM_ADDRESS`` / ``QCORE_CLASSICAL_ADDRESS`` say otherwise, and the test sets those.

Python blocks run in a fresh interpreter, bash blocks in ``bash -e -o pipefail`` (every command
of a block must succeed), each in one scratch directory and each expected to exit with status 0.
A block is skipped only when it is marked ``<!-- not-run: reason -->`` in the README, or when it
needs a tool that is not installed (``grpcurl``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from qcore_client.launcher import free_port
from readme_blocks import DATA_LANGUAGES, RUNNABLE_LANGUAGES, Block, readme_blocks

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCKS = readme_blocks(README)
#: Ground-state energy of the README's minimize example, H = Z0 + X0 X1 / 2: -sqrt(5)/2.
EXPECTED_MINIMUM = -math.sqrt(5) / 2
#: Tools a block may need that a machine may lack; the block is skipped without them.
OPTIONAL_TOOLS = ("grpcurl",)
BLOCK_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LiveStack:
    """A running ``make services`` stack: the environment and directory blocks run in."""

    env: dict[str, str]
    cwd: Path


def _python_path() -> str:
    """This checkout's packages first, so the children import the code under test."""
    paths = [str(ROOT), str(ROOT / "protos"), str(ROOT / "clients" / "python")]
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(paths + ([inherited] if inherited else []))


def _healthy(address: str) -> bool:
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


def _stop(process: subprocess.Popen, *, grace_s: float) -> None:
    """SIGTERM the process group of ``process`` (started with a session of its own), then
    SIGKILL it after ``grace_s``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    workdir = tmp_path_factory.mktemp("readme")
    base = {**os.environ, "PYTHONPATH": _python_path()}
    for variable in ("QCORE_QUANTUM_ADDRESS", "QCORE_CLASSICAL_ADDRESS", "QCORE_QUANTUM_DB_PATH"):
        base.pop(variable, None)
    broker = subprocess.Popen([sys.executable, "-m", "broker", "--port", "0"], env=base,
                              cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True, start_new_session=True)
    services: subprocess.Popen | None = None
    try:
        mqtt_url = broker.stdout.readline().strip()  # the first line is the broker URL
        assert mqtt_url.startswith("mqtt://"), f"broker did not start: {mqtt_url!r}"
        q_port, c_port = free_port(), free_port()
        env = {**base, "QCORE_MQTT_URL": mqtt_url, "QCORE_QUANTUM_PORT": str(q_port),
               "QCORE_CLASSICAL_PORT": str(c_port)}
        log = workdir / "services.out"
        with log.open("w") as out:
            services = subprocess.Popen(
                [sys.executable, "-m", "qcore_client.mainjob", "--services-only"], env=env,
                cwd=workdir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        quantum, classical = f"127.0.0.1:{q_port}", f"127.0.0.1:{c_port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not (_healthy(quantum) and _healthy(classical)):
            if services.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make services did not come up:\n{log.read_text()}")
            time.sleep(0.2)
        bin_dir = str(Path(sys.executable).parent)  # python, qcore
        yield LiveStack({**env, "QCORE_QUANTUM_ADDRESS": quantum,
                         "QCORE_CLASSICAL_ADDRESS": classical, "COLUMNS": "200",
                         "PATH": os.pathsep.join([bin_dir, base.get("PATH", "")])}, workdir)
    finally:
        if services is not None:
            _stop(services, grace_s=30)  # it stops its own children on SIGTERM
        _stop(broker, grace_s=10)
    # Stopped by SIGTERM, it exits as after Ctrl-C (130), having stopped its children.
    assert services.returncode == 130, (workdir / "services.out").read_text()


def _run(block: Block, stack: LiveStack) -> subprocess.CompletedProcess[str]:
    if block.language == "python":
        script = stack.cwd / f"readme_{block.line}.py"
        script.write_text(block.code)
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", block.code]
    return subprocess.run(command, env=stack.env, cwd=stack.cwd, capture_output=True, text=True,
                          timeout=BLOCK_TIMEOUT_S, check=False)


def test_every_block_is_tagged_and_marks_give_reasons():
    """Untagged blocks would escape the test; a not-run mark without a reason explains nothing."""
    assert BLOCKS, "README.md has no code blocks"
    for block in BLOCKS:
        assert block.language in RUNNABLE_LANGUAGES | DATA_LANGUAGES, (
            f"README.md:{block.line}: tag the block with one of "
            f"{sorted(RUNNABLE_LANGUAGES | DATA_LANGUAGES)}")
        assert block.not_run is None or block.not_run, f"README.md:{block.line}: empty reason"
    assert any(block.runs and block.language == "python" for block in BLOCKS)
    assert any(block.runs and block.language == "bash" for block in BLOCKS)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.runs],
                         ids=lambda b: f"README.md:{b.line}:{b.language}")
def test_readme_block_runs(block: Block, live_stack: LiveStack):
    for tool in OPTIONAL_TOOLS:
        if re.search(rf"\b{tool}\b", block.code) and shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    result = _run(block, live_stack)
    assert result.returncode == 0, (
        f"README.md:{block.line} exited with {result.returncode}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}")
    if ".minimize(" in block.code:
        found = re.findall(r"^minimum (\S+)", result.stdout, flags=re.MULTILINE)
        assert found, f"no 'minimum ...' line printed:\n{result.stdout}"
        assert float(found[-1]) == pytest.approx(EXPECTED_MINIMUM, abs=1e-6)


def test_readme_states_the_minimum_its_example_prints():
    text = README.read_text(encoding="utf-8")
    assert f"minimum {EXPECTED_MINIMUM:.6f}" in text
