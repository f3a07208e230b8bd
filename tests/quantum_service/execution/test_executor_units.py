"""Task grouping, per-parameter-set random streams, executor settings and the Slurm cluster's
job script (built, never submitted)."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.config import QuantumSettings
from quantum_service.contract import ExecutionCancelled, ExecutionOptions
from quantum_service.drivers.fleet import trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.execution import InProcessExecutor
from quantum_service.execution.factory import slurm_cluster_options, start_executor
from quantum_service.execution.grouping import group_items
from quantum_service.execution.simulation import SimulationProgram


@pytest.mark.parametrize(("n", "cost", "target", "workers", "sizes"), [
    (10, 0.01, 0.05, 1, [5, 5]),        # 5 items make 0.05 s
    (10, 0.01, 0.05, 4, [3, 3, 2, 2]),  # at least one group per worker
    (3, 1.0, 0.05, 1, [1, 1, 1]),       # each item above the target: one task each
    (7, 0.0, 0.05, 1, [7]),             # free items: one group
    (2, 0.001, 0.05, 8, [1, 1]),        # never more groups than items
    (0, 0.01, 0.05, 2, []),
])
def test_groups_cover_items_in_order(n, cost, target, workers, sizes):
    items = list(range(n))
    groups = group_items(items, item_cost_s=cost, target_s=target, min_groups=workers)
    assert [len(g) for g in groups] == sizes
    assert [x for g in groups for x in g] == items


def _driver_and_program(noisy: bool):
    caps, params = trapped_ion_chain("ion-4", qubit_count=4, noisy=noisy)
    driver = SimulatedQpuDriver(caps, params, drift=False)
    ops = [Operation("ry", (q,), (ParameterExpression.symbol("t") * (q + 1),)) for q in range(4)]
    ops += [Operation("cx", (q, q + 1)) for q in range(3)]
    ops += [Operation("measure", (q,), clbits=(q,)) for q in range(4)]
    circuit = Circuit(4, tuple(ops), clbit_count=4, parameters=("t",))
    return driver, driver.prepare(circuit, observable=None)


@pytest.mark.parametrize("noisy", [False, True])
def test_chunking_does_not_change_counts(noisy):
    """Each parameter set draws from its own stream (first_row + row), so one batch of six
    equals two batches of three, and a different seed gives different counts."""
    driver, program = _driver_and_program(noisy)
    sets = np.linspace(0.0, 2.5, 6)[:, None]
    whole = driver.execute(program, sets, ExecutionOptions(shot_count=200, seed=3)).counts
    parts = [driver.execute(program, sets[s:s + 3],
                            ExecutionOptions(shot_count=200, seed=3, first_row=s)).counts
             for s in (0, 3)]
    assert whole == parts[0] + parts[1]
    other = driver.execute(program, sets, ExecutionOptions(shot_count=200, seed=4)).counts
    assert other != whole


def test_in_process_stops_before_a_parameter_set():
    driver, program = _driver_and_program(False)
    asked: list[bool] = []

    def stop() -> bool:
        asked.append(True)
        return len(asked) > 2

    with pytest.raises(ExecutionCancelled):
        driver.execute(program, np.zeros((5, 1)),
                       ExecutionOptions(shot_count=10, seed=1, should_stop=stop))
    assert len(asked) == 3
    assert driver.executor.name == "in-process"


def test_simulation_program_pickles_without_its_engine():
    import pickle

    driver, program = _driver_and_program(True)
    result = driver.execute(program, np.zeros((1, 1)), ExecutionOptions(shot_count=10, seed=1))
    sim = program.payload.simulation
    assert isinstance(sim, SimulationProgram) and result.executor == "in-process"
    key = sim.content_key  # computed once, it travels with the program
    copy = pickle.loads(pickle.dumps(sim))
    assert copy.content_key == key and len(key) == 64
    assert copy._engine is None and copy.engine().choice == sim.engine().choice


def test_settings_select_the_executor(monkeypatch):
    assert QuantumSettings().executor == "in_process"
    assert isinstance(start_executor(QuantumSettings()), InProcessExecutor)
    monkeypatch.setenv("QCORE_DASK_SCHEDULER", "tcp://127.0.0.1:8786")
    settings = QuantumSettings()
    assert settings.executor == "scheduler" and settings.dask_scheduler == "tcp://127.0.0.1:8786"
    assert QuantumSettings(executor="local").executor == "local"  # explicit choice wins
    monkeypatch.delenv("QCORE_DASK_SCHEDULER")
    with pytest.raises(ValueError, match="dask_scheduler"):
        QuantumSettings(executor="scheduler")


def test_slurm_cluster_job_script_from_settings():
    jobqueue = pytest.importorskip("dask_jobqueue")
    settings = QuantumSettings(executor="slurm", slurm_queue="quantum", slurm_account="qc42",
                               slurm_cores=8, slurm_processes=2, slurm_memory="16GB",
                               slurm_walltime="00:30:00",
                               slurm_job_extra_directives=["--exclusive"],
                               slurm_job_script_prologue=["source .venv/bin/activate"])
    cluster = jobqueue.SLURMCluster(**slurm_cluster_options(settings),
                                    scheduler_options={"host": "127.0.0.1",
                                                       "dashboard_address": None})
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH -p quantum", "#SBATCH -A qc42", "#SBATCH --cpus-per-task=8",
                 "#SBATCH -t 00:30:00", "#SBATCH --exclusive", "source .venv/bin/activate",
                 "--nworkers 2", "--nthreads 4"):
        assert line in script, (line, script)
