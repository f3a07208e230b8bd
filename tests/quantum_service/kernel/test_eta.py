"""Queue ETAs: the predicted start of a queued job against when it actually starts.

A simulated QPU's jobs last as long as their simulation; the ETA adds up predicted run times
(:mod:`quantum_service.kernel.runtime`), learned from the jobs that ran before, in the order
fair share will run them. The mixed-queue test runs real jobs on a real kernel
(:func:`benchmarks.eta.measure_etas`, the scheduling report's scenario) and compares.
"""

from __future__ import annotations

import statistics

import pytest

from benchmarks.eta import TARGET, measure_etas
from benchmarks.faults import wide_program
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.drivers.fleet import trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.runtime import OVERHEAD_S, PRIOR_RATE_S, RunTimeModel, job_work

QPU = "ion-ideal-24"


def test_work_grows_with_width_parameter_sets_and_noise():
    ideal = SimulatedQpuDriver(*trapped_ion_chain(QPU, qubit_count=24, noisy=False, seed=24),
                               drift=False)
    caps = ideal.capabilities
    small = ideal.prepare(parse_qasm(wide_program(10, 4)), observable=None)
    wide = ideal.prepare(parse_qasm(wide_program(14, 4)), observable=None)
    one = job_work([small], caps, shot_count=10, parameter_set_count=1)
    assert one.engine_class == "statevector"
    assert job_work([small], caps, shot_count=10, parameter_set_count=4).work == \
        pytest.approx(4 * one.work)
    assert job_work([wide], caps, shot_count=10, parameter_set_count=1).work > 12 * one.work
    noisy = SimulatedQpuDriver(*trapped_ion_chain("ion-chain-11"), drift=False)
    dm = job_work([noisy.prepare(parse_qasm(wide_program(8, 2)), observable=None)],
                  noisy.capabilities, shot_count=10, parameter_set_count=1)
    assert dm.engine_class == "density_matrix"


def test_the_rate_is_learned_from_observed_run_times():
    model = RunTimeModel()
    ideal = SimulatedQpuDriver(*trapped_ion_chain(QPU, qubit_count=24, noisy=False, seed=24),
                               drift=False)
    work = job_work([ideal.prepare(parse_qasm(wide_program(12, 4)), observable=None)],
                    ideal.capabilities, shot_count=10, parameter_set_count=1)
    assert model.rate_s(QPU, "statevector") == PRIOR_RATE_S["statevector"]
    model.observe(QPU, work, OVERHEAD_S + 2.0)
    assert model.predict_s(QPU, work) == pytest.approx(OVERHEAD_S + 2.0)
    model.observe(QPU, work, OVERHEAD_S + 8.0)  # halfway in log space: 4 s
    assert model.predict_s(QPU, work) == pytest.approx(OVERHEAD_S + 4.0)
    assert model.rate_s("other-qpu", "statevector") == PRIOR_RATE_S["statevector"]


@pytest.mark.slow
async def test_etas_of_a_mixed_queue_are_within_20_percent_of_the_actual_starts() -> None:
    # A wall-clock accuracy check, so in the slow suite (``make test-slow``): inside the whole
    # fast suite on a loaded 2-core machine the jobs' run times vary by tens of percent between
    # the jobs that teach the rate and the ones scored (median error 0.30-0.35 in both tries of
    # one CI run, 0.09 and 0.18 alone). The scheduling report measures the same scenario.
    # Another process taking the CPU while the first job runs delays every start by the same
    # amount, which no prediction can know: a second run then decides. A wrong order or a
    # wrong rate misses in both.
    attempts = []
    for _ in range(2):
        rows = await measure_etas()
        errors = sorted(row.error for row in rows if row.scored)
        attempts.append(errors)
        assert len(errors) >= 3, rows
        # the target holds for the typical job; one job may miss it by scheduling jitter,
        # none by more than twice the target
        if statistics.median(errors) <= TARGET and errors[-1] <= 2 * TARGET:
            return
    raise AssertionError(f"ETA errors of two runs, sorted: {attempts}")
