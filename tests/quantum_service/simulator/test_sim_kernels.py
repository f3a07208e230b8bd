"""Every kernel of quantum_service.simulator.kernels against the dense NumPy reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from quantum_service.circuits.gates import GATES, gate_matrix
from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import warm_up
from quantum_service.simulator.dispatch import (
    PARALLEL_MIN_QUBITS,
    apply_diagonal,
    apply_matrix,
    select_kernel,
)
from quantum_service.simulator.kernels import KERNELS
from quantum_service.simulator.reference import (
    embed_operator,
    random_state_vector,
    random_unitary,
)

ATOL = 1e-10
N = 5


def _check(qubits: tuple[int, ...], matrix: np.ndarray, *, parallel: bool, seed: int,
           n: int = N) -> None:
    rng = np.random.default_rng(seed)
    psi = random_state_vector(n, rng)
    state = psi.copy()
    apply_matrix(state, qubits, matrix, parallel=parallel)
    np.testing.assert_allclose(state, embed_operator(n, qubits, matrix) @ psi, atol=ATOL)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubit", range(N))
def test_dense1_every_position(qubit: int, parallel: bool) -> None:
    u = random_unitary(2, np.random.default_rng(qubit))
    assert select_kernel(u) == "dense1"
    _check((qubit,), u, parallel=parallel, seed=100 + qubit)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("pair", list(itertools.permutations(range(N), 2)))
def test_dense2_every_ordered_pair(pair: tuple[int, int], parallel: bool) -> None:
    u = random_unitary(4, np.random.default_rng(sum(pair)))
    assert select_kernel(u) == "dense2"
    _check(pair, u, parallel=parallel, seed=pair[0] * 10 + pair[1])


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubits", [(0, 1, 2), (2, 0, 4), (4, 3, 1), (1, 4, 0, 2), (3, 0, 2, 4),
                                    (2, 4, 1, 0, 3), (0, 1, 2, 3, 4)])
def test_densek_orderings(qubits: tuple[int, ...], parallel: bool) -> None:
    u = random_unitary(2 ** len(qubits), np.random.default_rng(len(qubits)))
    assert select_kernel(u) == "densek"
    _check(qubits, u, parallel=parallel, seed=sum(q * 7**i for i, q in enumerate(qubits)))


def _random_sparse_matrix(dim: int, seed: int) -> np.ndarray:
    """A random matrix with at most 2 nonzero entries per row on average (row 0 empty)."""
    rng = np.random.default_rng(seed)
    m = np.zeros((dim, dim), dtype=np.complex128)
    for _ in range(2 * dim):
        m[rng.integers(dim), rng.integers(dim)] = rng.normal() + 1j * rng.normal()
    m[0] = 0.0
    return m


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubits", [(0, 1, 2), (4, 0, 2), (3, 1, 4, 0), (1, 4, 2, 0, 3)])
def test_sparsek_orderings(qubits: tuple[int, ...], parallel: bool) -> None:
    m = _random_sparse_matrix(2 ** len(qubits), len(qubits))
    assert select_kernel(m) == "sparsek"
    _check(qubits, m, parallel=parallel, seed=sum(qubits))


def _random_phases(count: int, seed: int) -> np.ndarray:
    return np.exp(1j * np.random.default_rng(seed).uniform(0, 2 * np.pi, count))


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubits", [(q,) for q in range(N)]
                         + list(itertools.permutations(range(N), 2))[::3]
                         + [(3, 1, 4), (0, 4, 2, 1)])
def test_diagonal_kernels(qubits: tuple[int, ...], parallel: bool) -> None:
    d = _random_phases(2 ** len(qubits), len(qubits))
    expected_kind = {1: "diag1", 2: "diag2"}.get(len(qubits), "diagk")
    assert select_kernel(np.diag(d)) == expected_kind
    _check(qubits, np.diag(d), parallel=parallel, seed=7)
    # apply_diagonal takes the diagonal itself.
    rng = np.random.default_rng(8)
    psi = random_state_vector(N, rng)
    state = psi.copy()
    apply_diagonal(state, qubits, d, parallel=parallel)
    np.testing.assert_allclose(state, embed_operator(N, qubits, np.diag(d)) @ psi, atol=ATOL)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubits", [(0,), (3,), (0, 1), (4, 2), (3, 0, 1), (1, 4, 2, 0)])
def test_phase_on_all_ones(qubits: tuple[int, ...], parallel: bool) -> None:
    d = np.ones(2 ** len(qubits), dtype=np.complex128)
    d[-1] = np.exp(0.37j)
    assert select_kernel(np.diag(d)) == "phase"
    _check(qubits, np.diag(d), parallel=parallel, seed=len(qubits))


@pytest.mark.parametrize(
    ("name", "params", "kind"),
    [("h", (), "dense1"), ("x", (), "ctrlx"), ("rz", (0.3,), "diag1"), ("t", (), "phase"),
     ("z", (), "phase"), ("y", (), "dense1"), ("rx", (0.3,), "dense1"),
     ("cx", (), "ctrlx"), ("cz", (), "phase"), ("cp", (0.4,), "phase"),
     ("rzz", (0.2,), "diag2"), ("crz", (0.2,), "diag2"), ("ccx", (), "ctrlx"),
     ("cswap", (), "swap"), ("c4x", (), "ctrlx"), ("swap", (), "swap"), ("cy", (), "ctrlu"),
     ("ch", (), "ctrlu"), ("crx", (0.3,), "ctrlu"), ("iswap", (), "dense2"),
     ("rxx", (0.3,), "dense2"), ("rccx", (), "sparsek"),
     ("ccz", (), "phase"), ("id", (), "identity")],
)
def test_select_kernel_for_library_gates(name: str, params: tuple[float, ...], kind: str) -> None:
    assert select_kernel(gate_matrix(name, params)) == kind


@pytest.mark.parametrize("name", sorted(GATES))
def test_every_library_gate_matches_reference(name: str) -> None:
    spec = GATES[name]
    rng = np.random.default_rng(len(name))
    params = tuple(rng.uniform(-np.pi, np.pi, spec.param_count))
    qubits = tuple(int(q) for q in rng.permutation(N)[: spec.qubit_count])
    _check(qubits, gate_matrix(name, params), parallel=False, seed=3)


def test_identity_leaves_state_untouched() -> None:
    psi = random_state_vector(3, np.random.default_rng(0))
    state = psi.copy()
    apply_matrix(state, (1,), gate_matrix("id"))
    np.testing.assert_array_equal(state, psi)


def test_default_kernel_choice_at_parallel_threshold_matches_serial() -> None:
    n = PARALLEL_MIN_QUBITS
    rng = np.random.default_rng(11)
    psi = random_state_vector(n, rng)
    ops = [((0,), random_unitary(2, rng)), ((n - 1, 2), random_unitary(4, rng)),
           ((5, 1, n - 2), random_unitary(8, rng)), ((3, 7), gate_matrix("cp", (0.1,)))]
    default, serial = psi.copy(), psi.copy()
    for qubits, m in ops:
        apply_matrix(default, qubits, m)
        apply_matrix(serial, qubits, m, parallel=False)
    np.testing.assert_allclose(default, serial, atol=ATOL)


def test_complex64_state() -> None:
    rng = np.random.default_rng(5)
    psi = random_state_vector(4, rng)
    u1, u2 = random_unitary(2, rng), random_unitary(4, rng)
    state = psi.astype(np.complex64)
    apply_matrix(state, (2,), u1)
    apply_matrix(state, (3, 0), u2)
    assert state.dtype == np.complex64
    expected = embed_operator(4, (3, 0), u2) @ embed_operator(4, (2,), u1) @ psi
    np.testing.assert_allclose(state, expected, atol=1e-6)


@pytest.mark.parametrize(
    ("qubits", "matrix", "message"),
    [((0, 0), np.eye(4), "not distinct"),
     ((3,), np.eye(2), "out of range"),
     ((-1,), np.eye(2), "out of range"),
     ((0,), np.eye(4), "cannot act on 1 qubit"),
     ((0,), np.ones((2, 3)), "square")],
)
def test_bad_operations_are_rejected(qubits: tuple[int, ...], matrix: np.ndarray,
                                     message: str) -> None:
    state = np.zeros(8, dtype=np.complex128)
    with pytest.raises(InvalidProgramError, match=message):
        apply_matrix(state, qubits, matrix)


def test_bad_states_are_rejected() -> None:
    with pytest.raises(InvalidProgramError, match="power of 2"):
        apply_matrix(np.zeros(6, dtype=np.complex128), (0,), np.eye(2))
    with pytest.raises(InvalidProgramError, match="complex128 or complex64"):
        apply_matrix(np.zeros(8), (0,), np.eye(2))
    with pytest.raises(InvalidProgramError, match="C-contiguous"):
        apply_matrix(np.zeros(16, dtype=np.complex128)[::2], (0,), np.eye(2))


def test_reference_embedding_follows_the_qubit_convention() -> None:
    x = gate_matrix("x")
    # Qubit 1 is the more significant bit of a 2-qubit index: X on it is kron(X, I).
    np.testing.assert_array_equal(embed_operator(2, (1,), x), np.kron(x, np.eye(2)))
    # cx with control 0, target 1 swaps |01> (index 1) and |11> (index 3).
    expected = np.eye(4)[[0, 3, 2, 1]]
    np.testing.assert_array_equal(embed_operator(2, (0, 1), gate_matrix("cx")), expected)


def test_warm_up_compiles_every_kernel() -> None:
    assert warm_up(parallel=True) >= 0.0
    assert [key for key, kernel in KERNELS.items() if not kernel.signatures] == []
