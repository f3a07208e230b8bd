"""Gate fusion and diagonal batching: fused programs equal the unfused ones (dense reference)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from quantum_service.circuits.gates import GATES, gate_matrix
from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import FusionPlan, fuse, simulate_statevector
from quantum_service.simulator.dispatch import select_kernel
from quantum_service.simulator.reference import (
    random_state_vector,
    random_unitary,
    reference_statevector,
)

ATOL = 1e-10


def _random_program(n: int, count: int, rng: np.random.Generator
                    ) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Library gates (all arities up to 3) and random dense unitaries on random qubits."""
    names = sorted(g for g in GATES if GATES[g].qubit_count <= min(3, n))
    ops = []
    for _ in range(count):
        name = names[rng.integers(len(names))]
        spec = GATES[name]
        qubits = tuple(int(q) for q in rng.permutation(n)[: spec.qubit_count])
        params = tuple(rng.uniform(-math.pi, math.pi, spec.param_count))
        ops.append((qubits, gate_matrix(name, params)))
        if rng.random() < 0.2:
            k = int(rng.integers(1, 3))
            ops.append((tuple(int(q) for q in rng.permutation(n)[:k]),
                        random_unitary(1 << k, rng)))
    return ops


def _qft(n: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    ops = []
    for j in reversed(range(n)):
        ops.append(((j,), gate_matrix("h")))
        ops.extend(((k, j), gate_matrix("cp", (math.pi / 2 ** (j - k),))) for k in range(j))
    ops.extend(((i, n - 1 - i), gate_matrix("swap")) for i in range(n // 2))
    return ops


@pytest.mark.parametrize("max_fused", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_equals_unfused(max_fused: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 6
    ops = _random_program(n, 60, rng)
    psi = random_state_vector(n, rng)
    plan = fuse(n, ops, max_fused_qubits=max_fused)
    assert len(plan.steps) <= len(ops)
    assert all(len(s.qubits) <= max_fused or len(s.sources) == 1 or s.is_batch
               for s in plan.steps)
    expected = reference_statevector(n, ops, psi)
    np.testing.assert_allclose(plan.prepare().run(psi.copy()), expected, atol=ATOL)
    np.testing.assert_allclose(simulate_statevector(n, plan.ops(), initial_state=psi),
                               expected, atol=ATOL)


@pytest.mark.parametrize("parallel", [False, True])
def test_parametric_positions_are_rebound(parallel: bool) -> None:
    rng = np.random.default_rng(4)
    n = 8  # diagonal batches need 8+ qubits
    ops = _random_program(n, 60, rng)
    positions = sorted(int(p) for p in rng.choice(len(ops), 25, replace=False))
    structure = [(q, None) if i in positions else (q, m) for i, (q, m) in enumerate(ops)]
    plan = fuse(n, structure, parametric_positions=positions)
    assert plan.parametric_positions == tuple(positions)
    program = plan.prepare(parallel=parallel)
    for trial in range(2):
        bound = [random_unitary(1 << len(ops[p][0]), rng) for p in positions]
        full = list(ops)
        for p, m in zip(positions, bound, strict=True):
            full[p] = (ops[p][0], m)
        psi = random_state_vector(n, rng)
        unfused = simulate_statevector(n, full, initial_state=psi)  # kernels: test_sim_kernels
        np.testing.assert_allclose(program.run(psi.copy(), bound), unfused, atol=ATOL)
        by_position = dict(zip(positions, bound, strict=True))
        np.testing.assert_allclose(
            simulate_statevector(n, plan.ops(by_position), initial_state=psi), unfused,
            atol=ATOL)


def test_runs_of_one_qubit_parametric_gates_become_one_step() -> None:
    # ry(θ) rz(θ) on each qubit, then a CNOT ladder: one step per qubit, then the cx.
    n = 4
    ops, positions = [], []
    for q in range(n):
        for name in ("ry", "rz"):
            positions.append(len(ops))
            ops.append(((q,), None))
    ops.extend(((q, q + 1), gate_matrix("cx")) for q in range(n - 1))
    plan = fuse(n, ops, parametric_positions=positions)
    parametric = [s for s in plan.steps if s.is_parametric]
    assert [len(s.positions) for s in parametric] == [2] * n
    unmerged = fuse(n, ops, parametric_positions=positions, max_parametric_fused_qubits=0)
    assert sum(s.is_parametric for s in unmerged.steps) == 2 * n


def test_cost_model_keeps_cx_out_of_dense_blocks() -> None:
    # u(1) cx(0,1): a dense 2-qubit pass (2.6) costs more than a 1-qubit pass and a cx (1.95).
    rng = np.random.default_rng(3)
    u0, u1 = random_unitary(2, rng), random_unitary(2, rng)
    ops = [((1,), u1), ((0, 1), gate_matrix("cx"))]
    assert [select_kernel(s.matrix) for s in fuse(2, ops).steps] == ["dense1", "ctrlx"]
    # u(0) u(1) cx(0,1): one dense 2-qubit pass is cheaper than 1q + 1q + cx (3.35).
    ops = [((0,), u0)] + ops
    assert [select_kernel(s.matrix) for s in fuse(2, ops).steps] == ["dense2"]
    # Two 1-qubit gates in a row always merge.
    assert len(fuse(1, [((0,), gate_matrix("h")), ((0,), gate_matrix("t"))]).steps) == 1


@pytest.mark.parametrize("n", [8, 10])
def test_qft_diagonal_batches(n: int) -> None:
    ops = _qft(n)
    rng = np.random.default_rng(n)
    psi = random_state_vector(n, rng)
    plan = fuse(n, ops)
    batches = [s for s in plan.steps if s.is_batch]
    assert len(batches) >= n - 3  # one per QFT stage with 3+ controlled phases
    assert len(plan.steps) <= len(ops) // 2
    expected = simulate_statevector(n, ops, initial_state=psi)  # unfused, gate by gate
    if n == 8:
        np.testing.assert_allclose(expected, reference_statevector(n, ops, psi), atol=ATOL)
    for parallel in (False, True):
        np.testing.assert_allclose(plan.prepare(parallel=parallel).run(psi.copy()), expected,
                                   atol=ATOL)
    np.testing.assert_allclose(simulate_statevector(n, plan.ops(), initial_state=psi),
                               expected, atol=ATOL)
    unbatched = fuse(n, ops, batch_diagonals=False)
    assert not any(s.is_batch for s in unbatched.steps)


def test_complex64_fused_program() -> None:
    n = 9
    ops = _qft(n) + _random_program(n, 30, np.random.default_rng(6))
    psi = random_state_vector(n, np.random.default_rng(7))
    state = plan_state = fuse(n, ops).prepare(dtype=np.complex64).run(psi.astype(np.complex64))
    assert plan_state.dtype == np.complex64
    np.testing.assert_allclose(state, simulate_statevector(n, ops, initial_state=psi),
                               atol=2e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_fused_qubits": 0}, "max_fused_qubits"),
     ({"parametric_positions": [5]}, "out of range"),
     ({"max_parametric_fused_qubits": -1}, "max_parametric_fused_qubits")],
)
def test_bad_plans_are_rejected(kwargs: dict, message: str) -> None:
    ops = [((0,), gate_matrix("h")), ((0, 1), gate_matrix("cx"))]
    with pytest.raises(InvalidProgramError, match=message):
        fuse(2, ops, **kwargs)


def test_missing_parametric_matrices_are_rejected() -> None:
    plan: FusionPlan = fuse(2, [((0,), None), ((0, 1), gate_matrix("cx"))],
                            parametric_positions=[0])
    with pytest.raises(InvalidProgramError, match="expected 1 parametric"):
        plan.ops([])
    with pytest.raises(InvalidProgramError, match="no matrix"):
        plan.prepare().run(np.zeros(4, dtype=np.complex128), {3: np.eye(2)})
    with pytest.raises(InvalidProgramError, match="operation 1"):
        fuse(2, [((0,), gate_matrix("h")), ((0, 2), gate_matrix("cx"))])
