"""Shot-branching trajectories against the exact density matrix of the same noise model, and
dynamic circuits (mid-circuit measurement, reset, feed-forward) against exact distributions.

Every comparison is a statistical test that fails on a real error: counts by a two-sample
chi-square test (which must also *reject* the noiseless distribution, so the noise is visible),
expectation values within 3 standard errors of the trajectory estimate.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from quantum_service.circuits.ir import Circuit, Condition, Operation, ParameterExpression
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.engines import select_engine
from quantum_service.engines.backend import StateVectorBackend
from quantum_service.engines.base import EngineChoice
from quantum_service.engines.executable import build_executable
from quantum_service.engines.trajectory import TrajectoryEngine
from quantum_service.simulator import PauliSum

C = ParameterExpression


def _noisy_grid(t_scale: float):
    caps, params = superconducting_grid("sc-noisy-6", rows=2, cols=3, noisy=True, seed=5)
    qubits = tuple(dataclasses.replace(q, t1_us=q.t1_us * t_scale, t2_us=q.t2_us * t_scale)
                   for q in params.qubits)
    true = dataclasses.replace(params, qubits=qubits)
    # calibrated estimates off by 40 kHz: coherent detuning errors too
    cal = dataclasses.replace(params, qubits=tuple(
        dataclasses.replace(q, frequency_hz=q.frequency_hz + 4e4) for q in qubits))
    return caps, true, cal


def _layered(n: int, layers: int, rng: np.random.Generator) -> Circuit:
    ops = []
    for layer in range(layers):
        for q in range(n):
            ops.append(Operation("u3", (q,), tuple(C(float(v)) for v in rng.normal(size=3))))
        for q in range(layer % 2, n - 1, 2):
            ops.append(Operation("cx", (q, q + 1)))
    ops += [Operation("measure", (q,), clbits=(q,)) for q in range(n)]
    return Circuit(n, tuple(ops), clbit_count=n)


def _compiled(caps, circuit: Circuit):
    target = CompileTarget(qubit_count=caps.qubit_count, native_gates=caps.native_gate_names,
                           coupling_map=caps.coupling_map)
    return compile_circuit(circuit, target).circuit


def _trajectories(exe) -> TrajectoryEngine:
    return TrajectoryEngine(exe, StateVectorBackend(exe.qubit_count),
                            EngineChoice("trajectories", "test"))


def _table(a: dict[str, int], b: dict[str, int]) -> np.ndarray:
    keys = sorted(set(a) | set(b))
    table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]], dtype=float)
    return table[:, table.sum(axis=0) >= 10]  # chi-square needs populated cells


def test_trajectory_counts_match_the_density_matrix_and_see_the_noise() -> None:
    caps, true, cal = _noisy_grid(t_scale=0.1)  # T1 ≈ 12 µs: strong relaxation
    circuit = _compiled(caps, _layered(5, 4, np.random.default_rng(1)))
    exe = build_executable(circuit, caps=caps, device=true, parameters=(), calibrated=cal)
    assert exe.noisy and exe.coherent_error_count > 0
    exact = select_engine(exe)
    assert exact.choice.name == "density_matrix"
    shots = 20_000
    dm_counts = exact.counts(np.zeros(0), shots, np.random.default_rng(2))
    tr_counts = _trajectories(exe).counts(np.zeros(0), shots, np.random.default_rng(3))
    assert sum(tr_counts.values()) == shots
    _, p_same, _, _ = stats.chi2_contingency(_table(dm_counts, tr_counts))
    assert p_same > 1e-3
    ideal_caps = dataclasses.replace(caps, noisy=False)
    ideal = build_executable(circuit, caps=ideal_caps, device=true, parameters=())
    ideal_counts = select_engine(ideal).counts(np.zeros(0), shots, np.random.default_rng(4))
    _, p_ideal, _, _ = stats.chi2_contingency(_table(ideal_counts, tr_counts))
    assert p_ideal < 1e-6  # the test can see the noise the trajectories apply


def test_trajectory_expectations_within_three_standard_errors_of_the_exact_values() -> None:
    caps, true, cal = _noisy_grid(t_scale=0.05)
    circuit = _compiled(caps, _layered(4, 3, np.random.default_rng(5)))
    exe = build_executable(circuit, caps=caps, device=true, parameters=(), calibrated=cal)
    terms = PauliSum([("Z0", 1.0), ("X1 X2", 1.0), ("Z0 Z3", 1.0), ("Y2", 1.0),
                      ("X0 Y1 Z2", 1.0)], qubit_count=exe.qubit_count)
    exact = select_engine(exe).term_mixture(np.zeros(0), terms, 0, np.random.default_rng(0))
    assert exact.exact
    mixture = _trajectories(exe).term_mixture(np.zeros(0), terms, 4000,
                                               np.random.default_rng(6))
    assert mixture.weights.sum() == 4000 and mixture.weights.size > 1
    w = mixture.weights / mixture.weights.sum()
    mean = mixture.mean
    se = np.sqrt((w @ (mixture.values - mean) ** 2) / (mixture.weights.sum() - 1))
    assert np.all(np.abs(mean - exact.values[0]) <= 3 * se + 1e-9)


def test_a_seed_reproduces_trajectory_counts() -> None:
    caps, true, cal = _noisy_grid(t_scale=0.1)
    circuit = _compiled(caps, _layered(4, 2, np.random.default_rng(7)))
    exe = build_executable(circuit, caps=caps, device=true, parameters=(), calibrated=cal)
    engine = _trajectories(exe)
    first = engine.counts(np.zeros(0), 3000, np.random.default_rng(8))
    assert engine.counts(np.zeros(0), 3000, np.random.default_rng(8)) == first
    assert engine.counts(np.zeros(0), 3000, np.random.default_rng(9)) != first


def test_wide_noisy_executables_select_trajectories() -> None:
    caps, params = superconducting_grid("sc-wide", rows=3, cols=4, noisy=True, seed=1)
    circuit = _compiled(caps, _layered(12, 2, np.random.default_rng(3)))
    exe = build_executable(circuit, caps=caps, device=params, parameters=())
    assert exe.qubit_count == 12
    engine = select_engine(exe)
    assert engine.choice.name == "trajectories"
    counts = engine.counts(np.zeros(0), 500, np.random.default_rng(0))
    assert sum(counts.values()) == 500 and all(len(k) == 12 for k in counts)


# -- dynamic circuits ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ion():
    return trapped_ion_chain("ion-ideal-6", qubit_count=6, noisy=False, seed=3)


def _condition(clbit: int) -> Condition:
    return Condition((clbit,), frozenset({1}))


def test_teleportation_with_feed_forward_moves_the_state(ion) -> None:
    caps, params = ion
    theta = 1.1
    ops = (
        Operation("ry", (0,), (C(theta),)),
        Operation("h", (1,)), Operation("cx", (1, 2)),
        Operation("cx", (0, 1)), Operation("h", (0,)),
        Operation("measure", (0,), clbits=(0,)), Operation("measure", (1,), clbits=(1,)),
        Operation("x", (2,), condition=_condition(1)),
        Operation("z", (2,), condition=_condition(0)),
        Operation("ry", (2,), (C(-theta),)),  # undoes the teleported rotation: |0> expected
        Operation("measure", (2,), clbits=(2,)),
    )
    exe = build_executable(Circuit(3, ops, clbit_count=3), caps=caps, device=params,
                           parameters=())
    assert exe.dynamic
    engine = select_engine(exe)
    assert engine.choice.name == "trajectories"
    counts = engine.counts(np.zeros(0), 8000, np.random.default_rng(1))
    assert all(k[0] == "0" for k in counts)  # clbit 2 (leftmost) always 0
    ones = sum(n for k, n in counts.items() if k[2] == "1")  # clbit 0: uniform
    assert abs(ones / 8000 - 0.5) < 4 * np.sqrt(0.25 / 8000)
    without = ops[:7] + ops[9:]  # no corrections: clbit 2 is no longer deterministic
    exe2 = build_executable(Circuit(3, without, clbit_count=3), caps=caps, device=params,
                            parameters=())
    counts2 = select_engine(exe2).counts(np.zeros(0), 4000, np.random.default_rng(2))
    assert sum(n for k, n in counts2.items() if k[0] == "1") > 500


def test_mid_circuit_reset_and_remeasure(ion) -> None:
    caps, params = ion
    ops = (
        Operation("ry", (0,), (C(2 * np.arcsin(np.sqrt(0.3))),)),  # P(1) = 0.3
        Operation("measure", (0,), clbits=(0,)),
        Operation("reset", (0,)),
        Operation("measure", (0,), clbits=(1,)),
        Operation("x", (1,), condition=Condition((0, 1), frozenset({1}))),  # c == 1
        Operation("measure", (1,), clbits=(2,)),
    )
    exe = build_executable(Circuit(2, ops, clbit_count=3), caps=caps, device=params,
                           parameters=())
    counts = select_engine(exe).counts(np.zeros(0), 10_000, np.random.default_rng(3))
    assert set(counts) <= {"000", "101"}  # c1 always 0 after reset; c2 copies c0
    p1 = counts.get("101", 0) / 10_000
    assert abs(p1 - 0.3) < 4 * np.sqrt(0.21 / 10_000)


def test_mid_circuit_measurement_collapses_the_state(ion) -> None:
    caps, params = ion
    ops = (
        Operation("h", (0,)),
        Operation("measure", (0,), clbits=(0,)),
        Operation("h", (0,)),  # after collapse: |±> -> uniform again, not |0>
        Operation("measure", (0,), clbits=(1,)),
    )
    exe = build_executable(Circuit(1, ops, clbit_count=2), caps=caps, device=params,
                           parameters=())
    counts = select_engine(exe).counts(np.zeros(0), 8000, np.random.default_rng(4))
    assert len(counts) == 4
    _, p, _, _ = stats.chi2_contingency(
        np.array([[counts[k] for k in sorted(counts)], [2000] * 4]))
    assert p > 1e-3


def test_shots_that_cross_segment_boundaries_keep_exact_statistics() -> None:
    """A device-noise program long enough for several no-jump segments: the trajectory counts
    follow the density matrix (a wrong normalisation between segments biases them; this case
    rejected it at p ~ 1e-9)."""
    caps, params = superconducting_grid("sc-grid-8", rows=2, cols=4, noisy=True)
    circuit = _compiled(caps, _layered(6, 6, np.random.default_rng(6)))
    exe = build_executable(circuit, caps=caps, device=params, parameters=())
    engine = _trajectories(exe)
    assert sum(isinstance(item, type(engine._items[0])) for item in engine._items) > 1
    shots = 40_000
    tr_counts = engine.counts(np.zeros(0), shots, np.random.default_rng(3))
    dm_counts = select_engine(exe).counts(np.zeros(0), shots, np.random.default_rng(13))
    _, p_same, _, _ = stats.chi2_contingency(_table(dm_counts, tr_counts))
    assert p_same > 1e-3


def test_the_density_matrix_reference_agrees_with_qiskit_quantum_info() -> None:
    """The exact reference the trajectories are tested against is itself checked against an
    independent simulator: Qiskit's ``DensityMatrix`` evolving the same program (gates as
    unitaries, every noise channel as its Kraus operators) gives the same outcome
    probabilities to 1e-12."""
    pytest.importorskip("qiskit")
    from qiskit.quantum_info import DensityMatrix

    from benchmarks.noisy import qiskit_circuit

    caps, true, cal = _noisy_grid(t_scale=0.1)
    circuit = _compiled(caps, _layered(5, 4, np.random.default_rng(21)))
    exe = build_executable(circuit, caps=caps, device=true, parameters=(), calibrated=cal)
    qc = qiskit_circuit(exe)
    rho = DensityMatrix.from_instruction(qc.remove_final_measurements(inplace=False))
    engine = select_engine(exe)
    ours = engine.probabilities(engine.state(np.zeros(0)))
    np.testing.assert_allclose(ours, rho.probabilities(), atol=1e-12)
    ideal = select_engine(build_executable(circuit, caps=dataclasses.replace(caps, noisy=False),
                                           device=true, parameters=()))
    assert np.abs(ideal.probabilities(ideal.state(np.zeros(0))) - ours).max() > 1e-2
