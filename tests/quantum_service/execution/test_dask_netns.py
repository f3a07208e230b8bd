"""A Dask scheduler and a worker in two network namespaces joined by a veth pair (addresses
of TEST-NET-1, RFC 5737, that exist only inside them): a batch submitted from the worker's
namespace runs over the veth link and equals the in-process result. Needs root and
``ip netns``; skipped otherwise."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import numpy as np
import pytest

pytest.importorskip("distributed")

from dask_processes import DaskProcesses, worker_env  # noqa: E402

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression  # noqa: E402
from quantum_service.contract import ExecutionOptions  # noqa: E402
from quantum_service.drivers.fleet import trapped_ion_chain  # noqa: E402
from quantum_service.drivers.simulated import SimulatedQpuDriver  # noqa: E402

SCHEDULER_IP, WORKER_IP = "192.0.2.1", "192.0.2.2"
PORT = 8786

#: Run in the worker's namespace: the batch through the scheduler in the other namespace.
CLIENT = f"""
import json, sys
import numpy as np
from quantum_service.config import QuantumSettings
from quantum_service.execution.factory import start_executor
sys.path.insert(0, {os.path.dirname(__file__)!r})
from test_dask_netns import batch
executor = start_executor(QuantumSettings(dask_scheduler="tcp://{SCHEDULER_IP}:{PORT}",
                                          dask_min_offload_s=0, dask_connect_timeout_s=30))
counts, where = batch(executor)
executor.close()
print(json.dumps({{"counts": counts, "where": where}}))
"""


def batch(executor=None) -> tuple[list[dict[str, int]], str]:
    """A noisy 5-qubit counts batch of 4 parameter sets (``executor`` None: in-process)."""
    caps, params = trapped_ion_chain("ion-5", qubit_count=5, noisy=True)
    driver = SimulatedQpuDriver(caps, params, drift=False)
    if executor is not None:
        driver.use_executor(executor)
    ops = [Operation("ry", (q,), (ParameterExpression.symbol("t") * (q + 1),)) for q in range(5)]
    ops += [Operation("cx", (q, q + 1)) for q in range(4)]
    ops += [Operation("measure", (q,), clbits=(q,)) for q in range(5)]
    program = driver.prepare(Circuit(5, tuple(ops), clbit_count=5, parameters=("t",)),
                             observable=None)
    result = driver.execute(program, np.linspace(0.1, 2.0, 4)[:, None],
                            ExecutionOptions(shot_count=300, seed=4))
    return result.counts, result.executor


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def namespaces():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (ip netns)")
    tag = uuid.uuid4().hex[:6]
    a, b = f"qcs-{tag}", f"qcw-{tag}"
    try:
        _ip("netns", "add", a)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"ip netns add is not allowed here: {exc.stderr.decode().strip()}")
    try:
        _ip("netns", "add", b)
        _ip("link", "add", f"va-{tag}", "type", "veth", "peer", "name", f"vb-{tag}")
        _ip("link", "set", f"va-{tag}", "netns", a)
        _ip("link", "set", f"vb-{tag}", "netns", b)
        for ns, dev, ip in ((a, f"va-{tag}", SCHEDULER_IP), (b, f"vb-{tag}", WORKER_IP)):
            _ip("-n", ns, "addr", "add", f"{ip}/30", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield a, b
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def test_scheduler_and_worker_in_separate_namespaces(namespaces):
    a, b = namespaces
    processes = DaskProcesses(host=SCHEDULER_IP)
    processes.start_scheduler(["ip", "netns", "exec", a], port=PORT)
    try:
        processes.start_worker(["ip", "netns", "exec", b], host=WORKER_IP)
        out = subprocess.run(["ip", "netns", "exec", b, sys.executable, "-c", CLIENT],
                             env=worker_env(), capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        remote = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        processes.stop()
    assert remote["where"].startswith(f"on Dask (tcp://{SCHEDULER_IP}:{PORT}: 1 worker(s)")
    assert remote["counts"] == batch()[0]
