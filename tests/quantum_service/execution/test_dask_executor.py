"""Simulations on Dask workers (scheduler and workers as separate processes on loopback) equal
the in-process results exactly, whatever the number of workers; a killed worker's tasks re-run
elsewhere; a lost scheduler leaves batches running in-process."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("distributed")

from distributed import Client  # noqa: E402
from dask_processes import DaskProcesses  # noqa: E402

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression  # noqa: E402
from quantum_service.config import QuantumSettings  # noqa: E402
from quantum_service.contract import ExecutionOptions  # noqa: E402
from quantum_service.drivers.fleet import trapped_ion_chain  # noqa: E402
from quantum_service.drivers.simulated import SimulatedQpuDriver  # noqa: E402
from quantum_service.execution.dask_executor import DaskExecutor  # noqa: E402
from quantum_service.execution.factory import start_executor  # noqa: E402

P = ParameterExpression.symbol
OBSERVABLE = [("Z0 Z1", 0.6), ("X2", -0.3), ("Y1 Y3", 0.2), ("", 0.5)]


def ansatz(n: int, *, measure: bool) -> Circuit:
    ops = [Operation("ry", (q,), (P("a") * (q + 1) + P("b"),)) for q in range(n)]
    ops += [Operation("cx", (q, q + 1)) for q in range(n - 1)]
    ops += [Operation("rx", (q,), (P("b") - 0.3 * P("a"),)) for q in range(n)]
    if measure:
        ops += [Operation("measure", (q,), clbits=(q,)) for q in range(n)]
    return Circuit(n, tuple(ops), clbit_count=n if measure else 0, parameters=("a", "b"))


#: (name, noisy, qubits, observable, shot_count, gradient)
CASES = [
    ("noiseless counts", False, 6, False, 400, False),
    ("noisy counts", True, 6, False, 400, False),
    ("noisy trajectories", True, 11, False, 60, False),
    ("noisy estimates + parameter shift", True, 5, True, 300, True),
    ("noiseless exact + adjoint sweep", False, 6, True, 0, True),
]
SETS = np.random.default_rng(3).uniform(-np.pi, np.pi, size=(6, 2))


def run_cases(executor=None) -> dict[str, object]:
    """Every case on a fresh driver (no drift), through ``executor`` (None: in-process)."""
    out: dict[str, object] = {}
    for name, noisy, n, observable, shots, gradient in CASES:
        caps, params = trapped_ion_chain(f"ion-{n}", qubit_count=n, noisy=noisy)
        driver = SimulatedQpuDriver(caps, params, drift=False)
        if executor is not None:
            driver.use_executor(executor)
        program = driver.prepare(ansatz(n, measure=not observable),
                                 observable=OBSERVABLE if observable else None)
        result = driver.execute(program, SETS, ExecutionOptions(shot_count=shots, seed=11,
                                                                gradient=gradient,
                                                                first_row=3))
        if executor is not None:
            assert result.executor.startswith("on Dask"), (name, result.executor)
        out[name] = (result.counts if not observable else
                     (result.expectation_values.tolist(), result.standard_errors.tolist(),
                      None if result.gradients is None else result.gradients.tolist()))
    return out


@pytest.fixture(scope="module")
def in_process() -> dict[str, object]:
    return run_cases()


@pytest.fixture(scope="module")
def cluster():
    processes = DaskProcesses()
    processes.start_scheduler()
    try:
        yield processes
    finally:
        processes.stop()


def wait_workers(address: str, n: int) -> None:
    with Client(address, timeout=30) as client:
        client.wait_for_workers(n, timeout=60)
        deadline = time.monotonic() + 30
        while len(client.scheduler_info()["workers"]) != n and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(client.scheduler_info()["workers"]) == n


def executor_for(address: str) -> DaskExecutor:
    executor = start_executor(QuantumSettings(dask_scheduler=address, dask_min_offload_s=0,
                                              dask_retry_s=1))
    assert isinstance(executor, DaskExecutor) and executor.connected
    return executor


def test_one_and_two_workers_equal_in_process(cluster, in_process):
    """Counts and values, noisy and noiseless, are identical for 0 (in-process), 1 and 2
    workers: each parameter set has its own random stream."""
    cluster.start_worker()
    wait_workers(cluster.address, 1)
    executor = executor_for(cluster.address)
    try:
        assert run_cases(executor) == in_process
        cluster.start_worker()
        wait_workers(cluster.address, 2)
        assert executor.worker_count() == 2
        assert run_cases(executor) == in_process
        assert 0 < executor.task_overhead_s < 0.5
    finally:
        executor.close()


@pytest.mark.slow
def test_killed_worker_tasks_run_elsewhere(cluster):
    """A worker killed mid-batch: its tasks run on the other worker, the batch succeeds with
    every parameter set exactly once, equal to in-process."""
    while len(cluster.workers) < 2:
        cluster.start_worker()
    wait_workers(cluster.address, 2)
    caps, params = trapped_ion_chain("ion-9", qubit_count=9, noisy=True)
    sets = np.random.default_rng(5).uniform(-np.pi, np.pi, size=(24, 2))
    options = ExecutionOptions(shot_count=200, seed=21)
    local = SimulatedQpuDriver(caps, params, drift=False)
    expected = local.execute(local.prepare(ansatz(9, measure=True), observable=None), sets,
                             options).counts
    executor = executor_for(cluster.address)
    driver = SimulatedQpuDriver(caps, params, drift=False)
    driver.use_executor(executor)
    program = driver.prepare(ansatz(9, measure=True), observable=None)
    driver.execute(program, sets[:2], options)  # warm both workers' plans
    victim = cluster.workers[0]
    killer = threading.Timer(0.3, victim.kill)
    try:
        killer.start()
        result = driver.execute(program, sets, options)
    finally:
        killer.cancel()
        executor.close()
    assert victim.poll() is not None, "the worker was not killed during the batch"
    assert result.executor.startswith("on Dask")
    assert len(result.counts) == 24 and all(sum(c.values()) == 200 for c in result.counts)
    assert result.counts == expected


def test_lost_scheduler_falls_back_in_process():
    """The scheduler gone: the batch runs in-process (said so on the result), with the same
    counts; the executor reconnects once a scheduler answers again."""
    processes = DaskProcesses()
    processes.start_scheduler()
    try:
        processes.start_worker()
        wait_workers(processes.address, 1)
        executor = executor_for(processes.address)
        caps, params = trapped_ion_chain("ion-6", qubit_count=6, noisy=True)
        driver = SimulatedQpuDriver(caps, params, drift=False)
        driver.use_executor(executor)
        program = driver.prepare(ansatz(6, measure=True), observable=None)
        options = ExecutionOptions(shot_count=100, seed=2)
        on_dask = driver.execute(program, SETS, options)
        assert on_dask.executor.startswith("on Dask")
        processes.scheduler.kill()
        processes.scheduler.wait()
        start = time.monotonic()
        fallback = driver.execute(program, SETS, options)
        assert time.monotonic() - start < 5
        assert fallback.executor.startswith("in-process (fallback")
        assert "fallback" in fallback.engine_reason
        assert fallback.counts == on_dask.counts
        executor.close()
    finally:
        processes.stop()
