"""Dynamic circuits end to end on the QPUs that run them: QASMBench-style programs with
mid-circuit measurement, reset and classical feed-forward (``tests/data/dynamic``), compiled
and simulated per shot by qcore, against Qiskit Aer's counts of the same source program
(two-sample chi-square) and against the exact outcome distribution (5σ per outcome)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from quantum_service.contract import ExecutionOptions
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from tests.quantum_service.compiler.test_compiler_dynamic import (
    PROGRAMS,
    aer_reference_distribution,
    load,
    outcome_distribution,
)

SHOTS = 20_000
QPUS = {
    "sc-ideal-8": lambda: superconducting_grid("sc-ideal-8", rows=2, cols=4, noisy=False),
    "ion-ideal-8": lambda: trapped_ion_chain("ion-ideal-8", qubit_count=8, noisy=False),
}


def _register_counts(counts: dict[str, int]) -> dict[int, int]:
    return {int(k, 2): v for k, v in counts.items()}


@pytest.mark.parametrize("qpu", sorted(QPUS))
@pytest.mark.parametrize("program", [
    pytest.param(p, marks=pytest.mark.slow) if p == "bb84_n8.qasm" else p for p in PROGRAMS])
def test_dynamic_programs_match_aer_and_the_exact_distribution(qpu: str, program: str) -> None:
    pytest.importorskip("qiskit_aer")
    circuit = load(program)
    driver = SimulatedQpuDriver(*QPUS[qpu]())
    assert driver.capabilities.dynamic_circuits
    out = driver.execute(driver.prepare(circuit, observable=None), np.zeros((1, 0)),
                         ExecutionOptions(shot_count=SHOTS, seed=5))
    assert out.engine == "trajectories"
    ours = _register_counts(out.counts[0])
    assert sum(ours.values()) == SHOTS
    exact = outcome_distribution(circuit)
    for key in set(exact) | set(ours):
        p = exact.get(key, 0.0)
        sigma = np.sqrt(max(p * (1 - p), 1.0 / SHOTS) / SHOTS)
        assert abs(ours.get(key, 0) / SHOTS - p) < 5 * sigma + 1e-12, (key, p)
    aer = aer_reference_distribution(circuit, shot_count=SHOTS, seed=11)
    keys = sorted(set(aer) | set(ours))
    table = np.array([[ours.get(k, 0) for k in keys],
                      [round(aer.get(k, 0.0) * SHOTS) for k in keys]], dtype=float)
    table = table[:, table.sum(axis=0) >= 10]
    if table.shape[1] > 1:
        assert stats.chi2_contingency(table)[1] > 1e-3
