"""The engines: fused programs equal the gate-by-gate simulation of the same executable, the
engine is chosen in one place and recorded on results, and sampled counts follow the exact
distribution (a chi-square test that fails on a wrong clbit)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.contract import ExecutionOptions
from quantum_service.engines.executable import build_executable
from quantum_service.compiler import CompileTarget, compile_circuit
from quantum_service.engines import (
    FusedDensityMatrixEngine,
    FusedStateVectorEngine,
    sample_clbit_counts,
    select_engine,
)
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.simulator import simulate_density_matrix, simulate_statevector

P = ParameterExpression.symbol


def _circuit(rng: np.random.Generator, n: int, depth: int) -> Circuit:
    ops = []
    for _ in range(depth):
        a, b = (int(q) for q in rng.choice(n, 2, replace=False))
        kind = rng.integers(5)
        if kind == 0:
            ops.append(Operation("ry", (a,), (P("t0") * float(rng.normal()) + 0.3,)))
        elif kind == 1:
            ops.append(Operation("cx", (a, b)))
        elif kind == 2:
            ops.append(Operation("rzz", (a, b), (P("t1") - P("t0") / 2,)))
        elif kind == 3:
            ops.append(Operation("cp", (a, b), (ParameterExpression(float(rng.normal())),)))
        else:
            ops.append(Operation("u3", (a,), tuple(ParameterExpression(float(v))
                                                   for v in rng.normal(size=3))))
    return Circuit(n, tuple(ops), parameters=("t0", "t1"))  # type: ignore[call-arg]


def _executable(caps, params, circuit: Circuit):
    target = CompileTarget(qubit_count=caps.qubit_count, native_gates=caps.native_gate_names,
                           coupling_map=caps.coupling_map)
    compiled = compile_circuit(circuit, target)
    return build_executable(compiled.circuit, caps=caps, device=params,
                            parameters=circuit.parameters)


@pytest.fixture(scope="module")
def ion():
    return trapped_ion_chain("ion-ideal-6", qubit_count=6, noisy=False, seed=3)


@pytest.fixture(scope="module")
def grid():
    return superconducting_grid("sc-noisy-6", rows=2, cols=3, noisy=True, seed=5)


def test_fused_state_vector_equals_gate_by_gate(ion) -> None:
    rng = np.random.default_rng(11)
    exe = _executable(*ion, _circuit(rng, 6, 40))
    engine = select_engine(exe)
    assert isinstance(engine, FusedStateVectorEngine)
    assert engine.choice.name == "statevector"
    assert engine.pass_count < len(exe.steps) / 2  # fusion collapsed the native gates
    for _ in range(3):
        x = rng.normal(size=2)
        for shift in (None, (0, np.pi / 2), (1, -np.pi / 2)):
            expected = simulate_statevector(exe.qubit_count, exe.ops(x, shift))
            np.testing.assert_allclose(engine.state(x, shift), expected, atol=1e-10)


def test_fused_density_matrix_equals_gate_by_gate(grid) -> None:
    rng = np.random.default_rng(12)
    exe = _executable(*grid, _circuit(rng, 4, 25))
    assert exe.noisy
    engine = select_engine(exe)
    assert isinstance(engine, FusedDensityMatrixEngine)
    assert engine.choice.name == "density_matrix"
    assert engine.pass_count < len(exe.steps)
    for _ in range(2):
        x = rng.normal(size=2)
        for shift in (None, (1, np.pi / 2)):
            expected = simulate_density_matrix(exe.qubit_count, exe.ops(x, shift))
            np.testing.assert_allclose(engine.state(x, shift), expected, atol=1e-10)
    probabilities = engine.probabilities(engine.state(np.zeros(2)))
    assert probabilities.shape == (1 << exe.qubit_count,)
    assert abs(probabilities.sum() - 1.0) < 1e-12 and probabilities.min() >= 0.0


def test_sampled_clbits_follow_the_distribution() -> None:
    """Qubit 0 -> clbit 2, qubit 2 -> clbit 0, qubit 1 unmeasured, clbit 1 never written."""
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(8))
    shots = 20000
    counts = sample_clbit_counts(probs, [(0, 2), (2, 0)], clbit_count=3, shot_count=shots,
                                 rng=rng)
    assert sum(counts.values()) == shots
    assert all(key[1] == "0" for key in counts)  # clbit 1 (middle character) is never written
    expected = {}
    for index, p in enumerate(probs):
        q0, q2 = index & 1, (index >> 2) & 1
        key = f"{q0}0{q2}"  # highest clbit (2 <- qubit 0) first
        expected[key] = expected.get(key, 0.0) + p
    keys = sorted(expected)
    observed = np.array([counts.get(k, 0) for k in keys])
    _, p_value = stats.chisquare(observed, shots * np.array([expected[k] for k in keys]))
    assert p_value > 1e-6


def test_readout_errors_flip_bits_at_their_rates() -> None:
    rng = np.random.default_rng(9)
    probs = np.array([1.0, 0.0])  # always |0>
    errors = np.array([[0.1, 0.3]])
    counts = sample_clbit_counts(probs, [(0, 0)], clbit_count=1, shot_count=40000, rng=rng,
                                 readout_errors=errors)
    assert abs(counts.get("1", 0) / 40000 - 0.1) < 5 * np.sqrt(0.1 * 0.9 / 40000)


@pytest.mark.parametrize("noisy", [False, True])
def test_results_record_the_engine(noisy: bool) -> None:
    caps, params = superconducting_grid("sc-2x2", rows=2, cols=2, noisy=noisy, seed=1)
    driver = SimulatedQpuDriver(caps, params, drift=False)
    bell = Circuit(2, (Operation("h", (0,)), Operation("cx", (0, 1)),
                       Operation("measure", (0, 1), clbits=(0, 1))), 2)
    out = driver.execute(driver.prepare(bell, observable=None), np.zeros((1, 0)),
                         ExecutionOptions(shot_count=100, seed=1))
    assert out.engine == ("density_matrix" if noisy else "statevector")
    assert out.engine_reason
    prepared = driver.prepare(Circuit(2, (Operation("h", (0,)),)), observable=[("X0", 1.0)])
    exact = driver.execute(prepared, np.zeros((1, 0)), ExecutionOptions(shot_count=0))
    assert exact.engine == out.engine
    assert abs(exact.expectation_values[0] - 1.0) < (0.2 if noisy else 1e-9)


def test_readout_expansion_of_a_heavy_term_is_exact_and_linear_on_an_ideal_device() -> None:
    """A weight-20 term on an ideal device reads out as itself (one string, weight 1); with
    readout errors the expansion equals the brute-force sum over subsets."""
    from itertools import combinations

    from quantum_service.engines import ReadoutObservable

    term = " ".join(f"{'XYZ'[q % 3]}{q}" for q in range(20))
    ideal = ReadoutObservable([(term, 0.5)], {q: q for q in range(20)}, 20, np.zeros((20, 2)))
    assert ideal.readout_strings.term_count == 1
    np.testing.assert_allclose(ideal.readout_weights, [[1.0]])
    errors = np.random.default_rng(2).uniform(0.0, 0.05, size=(4, 2))
    noisy = ReadoutObservable([("X0 Y1 Z2 Z3", 1.0)], {q: q for q in range(4)}, 4, errors)
    a, b = errors[:, 1] - errors[:, 0], 1.0 - errors.sum(axis=1)
    expected = {}
    for r in range(5):
        for kept in combinations(range(4), r):
            expected[kept] = float(np.prod([b[q] if q in kept else a[q] for q in range(4)]))
    assert noisy.readout_strings.term_count == len(expected)
    np.testing.assert_allclose(sorted(noisy.readout_weights[0]), sorted(expected.values()),
                               rtol=1e-12)
