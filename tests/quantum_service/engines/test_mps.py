"""The matrix-product-state backend against the dense state-vector backend, and at width."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.stats import chi2, unitary_group

from quantum_service.engines.backend import StateVectorBackend
from quantum_service.engines.mps import (
    MatrixProductStateBackend,
    bond_dimension_bound,
    fidelity_lower_bound,
    mps_suitable,
    site_order,
    swap_cost,
)
from quantum_service.simulator import PauliSum

H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2)
CX = np.eye(4, dtype=np.complex128)[[0, 1, 3, 2]]
CZ = np.diag([1, 1, 1, -1]).astype(np.complex128)


def _random_ops(n: int, count: int, rng: np.random.Generator, *, kraus: bool = True,
                widths: tuple[int, ...] = (1, 2, 2, 3)) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Random 1-3-qubit unitaries on arbitrary (non-adjacent) qubits, and with ``kraus`` some
    non-unitary diagonal no-jump-like operators ``diag(1, sqrt(1-γ))``."""
    ops = []
    for _ in range(count):
        k = int(rng.choice(widths))
        qubits = tuple(int(q) for q in rng.choice(n, size=k, replace=False))
        ops.append((qubits, unitary_group.rvs(2**k, random_state=rng)))
        if kraus and rng.random() < 0.2:
            gamma = rng.uniform(0.05, 0.5)
            ops.append(((int(rng.integers(n)),),
                        np.diag([1.0, math.sqrt(1 - gamma)]).astype(np.complex128)))
    return ops


def _both(n: int, ops, **caps):
    sv, mps = StateVectorBackend(n), MatrixProductStateBackend(n, **caps)
    a, b = sv.zero_state(), mps.zero_state()
    for qubits, matrix in ops:
        a = sv.apply(a, qubits, matrix)
        b = mps.apply(b, qubits, matrix)
    return sv, a, mps, b


def _dense(mps: MatrixProductStateBackend, state) -> np.ndarray:
    """The MPS as a state vector (qubit q = bit q of the index)."""
    psi = np.ones((1, 1), dtype=np.complex128)  # (basis of sites < k, bond)
    for k, a in enumerate(state.tensors):
        psi = np.einsum("ia,asb->sib", psi, a).reshape(-1, a.shape[2])
    return psi.reshape(-1)  # site k entered as the most significant bit so far: bit k


def _random_pauli_terms(n: int, count: int, rng: np.random.Generator) -> list[tuple[str, float]]:
    terms = [("", 1.0)]
    for _ in range(count):
        k = int(rng.integers(1, min(n, 5) + 1))
        qubits = rng.choice(n, size=k, replace=False)
        terms.append((" ".join(f"{rng.choice(list('XYZ'))}{q}" for q in qubits), 1.0))
    return terms


@pytest.mark.parametrize("n, seed", [(6, 0), (8, 1), (10, 2), (12, 3)])
def test_matches_state_vector_exactly(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sv, a, mps, b = _both(n, _random_ops(n, 8 * n, rng))
    norm = sv.norm_squared(a)
    assert mps.norm_squared(b) == pytest.approx(norm, rel=1e-10)
    assert np.abs(_dense(mps, b) - a).max() < 1e-10 * math.sqrt(norm)
    pairs = [(0,), (n - 1,), (n // 2,), (0, n - 1), (n - 1, 0), (2, 3), (4, 1)]
    for qubits in pairs:
        expected = sv.reduced_density_matrix(a, qubits)
        got = mps.reduced_density_matrix(b, qubits)
        assert np.trace(got).real == pytest.approx(norm, rel=1e-10)
        np.testing.assert_allclose(got / norm, expected / norm, atol=1e-10, rtol=0)
    pauli = PauliSum(_random_pauli_terms(n, 30, rng), qubit_count=n)
    np.testing.assert_allclose(mps.term_expectations(b, pauli),
                               sv.term_expectations(a / math.sqrt(norm), pauli),
                               atol=1e-10, rtol=0)
    assert mps.truncation_error(b) < 1e-14


def test_reads_do_not_change_the_state() -> None:
    rng = np.random.default_rng(5)
    sv, a, mps, b = _both(8, _random_ops(8, 40, rng))
    before = _dense(mps, b)
    centre = b.centre
    mps.reduced_density_matrix(b, (0, 7))
    mps.sample(b, [0, 3, 7], 50, rng)
    mps.term_expectations(b, PauliSum([("X0 Y7", 1.0)], qubit_count=8))
    assert b.centre == centre
    np.testing.assert_array_equal(_dense(mps, b), before)


def test_prepared_segment_with_parameters_matches_state_vector() -> None:
    n = 9
    rng = np.random.default_rng(7)
    ops = _random_ops(n, 50, rng, widths=(1, 1, 1, 2, 2, 3))
    parametric = [i for i in range(len(ops)) if len(ops[i][0]) == 1 and rng.random() < 0.4]
    bound = {i: ops[i][1] for i in parametric}
    structure = [(q, None if i in bound else m) for i, (q, m) in enumerate(ops)]
    sv, mps = StateVectorBackend(n), MatrixProductStateBackend(n)
    segment = mps.prepare(structure, parametric)
    assert len(segment.steps) < len(ops)  # 1-qubit ops were merged
    a = sv.run(sv.prepare(structure, parametric), sv.zero_state(), bound)
    b = mps.run(segment, mps.zero_state(), bound)
    assert np.abs(_dense(mps, b) - a).max() < 1e-10 * math.sqrt(sv.norm_squared(a))


def test_scale_copy_and_unnormalised_norms() -> None:
    mps = MatrixProductStateBackend(5)
    state = mps.apply(mps.zero_state(), (1,), H)
    state = mps.apply(state, (1, 4), CX)
    kraus = np.diag([1.0, math.sqrt(0.36)]).astype(np.complex128)  # no-jump, γ = 0.64
    branch = mps.copy(state)
    mps.apply(branch, (4,), kraus)
    assert mps.norm_squared(branch) == pytest.approx(0.5 + 0.5 * 0.36, abs=1e-14)
    assert mps.norm_squared(state) == pytest.approx(1.0, abs=1e-14)  # the copy is independent
    mps.scale(branch, 2.0)
    assert mps.norm_squared(branch) == pytest.approx(4 * 0.68, abs=1e-13)
    rho = mps.reduced_density_matrix(branch, (1, 4))
    assert np.trace(rho).real == pytest.approx(4 * 0.68, abs=1e-13)
    np.testing.assert_allclose(mps.pauli_expectations(branch, [{1: "Z", 4: "Z"}, {4: "Z"}]),
                               [1.0, (0.5 - 0.18) / 0.68], atol=1e-13)


def test_sampling_statistics_match_exact_probabilities() -> None:
    n, shots = 7, 40_000
    rng = np.random.default_rng(11)
    sv, a, mps, b = _both(n, _random_ops(n, 40, rng))
    qubits = [5, 1, 2, 6]
    samples = mps.sample(b, qubits, shots, np.random.default_rng(12))
    assert samples.shape == (shots, 4) and samples.dtype == np.uint8
    index = (samples.astype(np.int64) << np.arange(4)).sum(axis=1)
    observed = np.bincount(index, minlength=16)
    p = np.abs(a) ** 2 / sv.norm_squared(a)
    expected = np.zeros(16)
    for j in range(1 << n):
        expected[sum(((j >> q) & 1) << i for i, q in enumerate(qubits))] += p[j]
    statistic = np.sum((observed - shots * expected) ** 2 / (shots * expected))
    assert statistic < chi2.ppf(0.999, df=15)
    # a wrong distribution (qubit order swapped) fails the same test
    swapped = (samples[:, [1, 0, 2, 3]].astype(np.int64) << np.arange(4)).sum(axis=1)
    observed = np.bincount(swapped, minlength=16)
    assert np.sum((observed - shots * expected) ** 2 / (shots * expected)) > chi2.ppf(0.999, 15)


def test_truncation_is_reported_and_fidelity_bounded() -> None:
    n = 10
    rng = np.random.default_rng(21)
    ops = []
    for layer in range(8):
        for q in range(layer % 2, n - 1, 2):
            ops.append(((q, q + 1), unitary_group.rvs(4, random_state=rng)))
    sv, a, mps, b = _both(n, ops, max_bond_dimension=4)
    assert max(b.bond_dimensions) == 4
    error = mps.truncation_error(b)
    assert error > 1e-3
    assert mps.norm_squared(b) == pytest.approx(1.0, abs=1e-12)  # truncation keeps the norm
    approx = _dense(mps, b)
    fidelity = abs(np.vdot(a, approx)) ** 2 / (np.vdot(approx, approx).real * sv.norm_squared(a))
    assert fidelity < 1 - 1e-3
    assert fidelity >= fidelity_lower_bound(b) - 1e-12
    assert fidelity_lower_bound(b) > 0.0  # the bound is not vacuous here
    exact = MatrixProductStateBackend(n).zero_state()
    assert fidelity_lower_bound(exact) == 1.0


def _ghz(mps: MatrixProductStateBackend):
    state = mps.apply(mps.zero_state(), (0,), H)
    for q in range(mps.qubit_count - 1):
        mps.apply(state, (q, q + 1), CX)
    return state


def test_72_qubit_ghz_is_fast_and_exact() -> None:
    n = 72
    started = time.perf_counter()
    mps = MatrixProductStateBackend(n)
    state = _ghz(mps)
    samples = mps.sample(state, list(range(n)), 1000, np.random.default_rng(3))
    assert time.perf_counter() - started < 10.0
    assert max(state.bond_dimensions) == 2
    terms = [{0: "Z", 71: "Z"}, {q: "X" for q in range(n)}, {0: "Z"}, {5: "X"},
             {q: "Y" for q in range(4)} | {q: "X" for q in range(4, n)}, {10: "Z", 40: "Z"}]
    np.testing.assert_allclose(mps.pauli_expectations(state, terms),
                               [1.0, 1.0, 0.0, 0.0, 1.0, 1.0], atol=1e-12)
    assert set(samples.sum(axis=1).tolist()) <= {0, n}
    # ... and through a PauliSum where its masks allow (63 qubits at most)
    narrow = MatrixProductStateBackend(60)
    ghz60 = _ghz(narrow)
    pauli = PauliSum([("Z0 Z59", 1.0), (" ".join(f"X{q}" for q in range(60)), 1.0), ("Z7", 1.0)],
                     qubit_count=60)
    np.testing.assert_allclose(narrow.term_expectations(ghz60, pauli), [1, 1, 0], atol=1e-12)


def test_100_qubit_ghz_samples_only_all_zero_or_all_one() -> None:
    mps = MatrixProductStateBackend(100)
    state = _ghz(mps)
    samples = mps.sample(state, list(range(100)), 2000, np.random.default_rng(4))
    weights = samples.sum(axis=1)
    assert set(weights.tolist()) == {0, 100}
    assert 800 < np.count_nonzero(weights == 0) < 1200
    subset = mps.sample(state, [99, 3, 50], 500, np.random.default_rng(5))
    assert set(map(tuple, subset.tolist())) == {(0, 0, 0), (1, 1, 1)}


def test_72_qubit_shallow_layered_circuit() -> None:
    n = 72
    rng = np.random.default_rng(8)
    mps = MatrixProductStateBackend(n)
    ops = []
    for layer in range(4):
        for q in range(n):
            ops.append(((q,), unitary_group.rvs(2, random_state=rng)))
        for q in range(layer % 2, n - 1, 2):
            ops.append(((q, q + 1), CZ))
    started = time.perf_counter()
    state = mps.run(mps.prepare(ops, []), mps.zero_state(), {})
    assert time.perf_counter() - started < 10.0
    assert max(state.bond_dimensions) <= bond_dimension_bound(
        [q for q, _ in ops if len(q) == 2], n, gate_schmidt_rank=2)
    assert mps.truncation_error(state) < 1e-14
    assert mps.norm_squared(state) == pytest.approx(1.0, abs=1e-12)
    # a local observable only sees its light cone: compare with a 12-qubit dense run of the
    # qubits 0..11 (light cone of qubits 0..1 after 4 layers is within 0..5)
    narrow = [(q, m) for q, m in ops if max(q) < 12]
    sv = StateVectorBackend(12)
    a = sv.run(sv.prepare(narrow, []), sv.zero_state(), {})
    pauli = PauliSum([("Z0", 1.0), ("X1 Y2", 1.0), ("Z0 Z1", 1.0)], qubit_count=12)
    np.testing.assert_allclose(
        mps.pauli_expectations(state, [{0: "Z"}, {1: "X", 2: "Y"}, {0: "Z", 1: "Z"}]),
        sv.term_expectations(a, pauli), atol=1e-10)


def test_bond_dimension_bound_and_suitability() -> None:
    brick = [(q, q + 1) for layer in range(4) for q in range(layer % 2, 71, 2)]
    assert bond_dimension_bound(brick, 72) == 4**2
    assert bond_dimension_bound(brick, 72, gate_schmidt_rank=2) == 4
    assert bond_dimension_bound([], 72) == 1
    assert bond_dimension_bound([(0, 9)] * 40, 10) == 2**5  # capped by the smaller side
    use, why = mps_suitable(brick, 72)
    assert use and "exact" in why and "72 qubits" in why
    deep = [(q, q + 1) for layer in range(40) for q in range(layer % 2, 71, 2)]
    use, why = mps_suitable(deep, 72, max_bond_dimension=64)
    assert use and "truncated" in why
    use, why = mps_suitable([(0, 1)], 12)
    assert not use and "state vector" in why
    use, why = mps_suitable([(0, 1)], 20, memory_budget_bytes=1 << 20)
    assert use and "budget" in why


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_bond_dimension"):
        MatrixProductStateBackend(4, max_bond_dimension=0)
    with pytest.raises(ValueError, match="truncation_threshold"):
        MatrixProductStateBackend(4, truncation_threshold=1.5)
    with pytest.raises(ValueError, match="qubit_count"):
        MatrixProductStateBackend(0)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_permuted_site_order_changes_no_read(seed: int) -> None:
    """Qubit q on site site_of[q]: applied ops, prepared segments, reduced density matrices,
    Pauli expectations and samples all equal the state vector's (qubit indices throughout)."""
    n = 7
    rng = np.random.default_rng(seed)
    site_of = [int(k) for k in rng.permutation(n)]
    ops = _random_ops(n, 30, rng)
    sv, mps = StateVectorBackend(n), MatrixProductStateBackend(n, site_of=site_of)
    a, b = sv.zero_state(), mps.zero_state()
    for qubits, matrix in ops[:15]:
        a = sv.apply(a, qubits, matrix)
        b = mps.apply(b, qubits, matrix)
    a = sv.run(sv.prepare(ops[15:], []), a, {})
    b = mps.run(mps.prepare(ops[15:], []), b, {})
    norm = sv.norm_squared(a)
    assert mps.norm_squared(b) == pytest.approx(norm, rel=1e-10)
    for qubits in [(0,), (6,), (0, 6), (5, 2), (1, 3, 4)]:
        np.testing.assert_allclose(mps.reduced_density_matrix(b, qubits),
                                   sv.reduced_density_matrix(a, qubits), atol=1e-10)
    pauli = PauliSum(_random_pauli_terms(n, 30, rng), qubit_count=n)
    np.testing.assert_allclose(mps.term_expectations(b, pauli),
                               sv.term_expectations(a / math.sqrt(norm), pauli), atol=1e-10)
    measured = [4, 0, 5]
    shots = 40_000
    bits = mps.sample(b, measured, shots, np.random.default_rng(9))
    words = bits @ (1 << np.arange(len(measured)))[::-1]
    observed = np.bincount(words, minlength=8)
    rho = sv.reduced_density_matrix(a, tuple(measured)) / norm
    expected = shots * np.clip(np.diag(rho).real, 1e-12, None)
    statistic = float(((observed - expected) ** 2 / expected).sum())
    assert chi2.sf(statistic, 7) > 1e-4


def test_site_order_lays_a_column_snake_along_the_chain() -> None:
    """A 6x12 grid (row-major qubits) whose chain of 2-qubit gates snakes down the columns:
    in qubit order most gates are 12 sites apart; the chosen order costs no SWAPs at all,
    and with the grid's couplers added it still costs less than qubit order."""
    rows, cols = 6, 12
    snake = [r * cols + c for c in range(cols)
             for r in (range(rows) if c % 2 == 0 else reversed(range(rows)))]
    chain = [(snake[k], snake[k + 1]) for k in range(len(snake) - 1)]
    pairs = {(min(p), max(p)): 1 for p in chain}
    identity = list(range(rows * cols))
    assert swap_cost(pairs, identity) > 9 * len(chain)
    site_of = site_order(chain, rows * cols)
    assert sorted(site_of) == identity
    assert swap_cost(pairs, site_of) == 0
    grid = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    grid += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    gates = chain * 3 + grid
    weights: dict[tuple[int, int], int] = {}
    for a, b in gates:
        weights[(min(a, b), max(a, b))] = weights.get((min(a, b), max(a, b)), 0) + 1
    assert swap_cost(weights, site_order(gates, rows * cols)) < swap_cost(weights, identity)
