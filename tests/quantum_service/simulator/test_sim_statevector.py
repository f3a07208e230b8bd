"""simulate_statevector against textbook states (Bell, GHZ, QFT) and the NumPy reference."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from quantum_service.circuits.gates import gate_matrix
from quantum_service.errors import InvalidProgramError, ResourceExhaustedError
from quantum_service.simulator import (
    PARALLEL_MIN_QUBITS,
    Channel,
    depolarizing_kraus,
    simulate_statevector,
    zero_state,
)
from quantum_service.simulator.reference import (
    random_state_vector,
    random_unitary,
    reference_statevector,
)


def test_bell_state() -> None:
    state = simulate_statevector(2, [((0,), gate_matrix("h")), ((0, 1), gate_matrix("cx"))])
    np.testing.assert_allclose(state, np.array([1, 0, 0, 1]) / np.sqrt(2), atol=1e-12)


def test_x_on_qubit_one_sets_bit_one() -> None:
    state = simulate_statevector(3, [((1,), gate_matrix("x"))])
    assert np.flatnonzero(state).tolist() == [2]


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_ghz_state(n: int) -> None:
    ops = [((0,), gate_matrix("h"))] + [((q, q + 1), gate_matrix("cx")) for q in range(n - 1)]
    state = simulate_statevector(n, ops)
    expected = np.zeros(2**n)
    expected[0] = expected[-1] = 1 / np.sqrt(2)
    np.testing.assert_allclose(state, expected, atol=1e-12)


def _qft_ops(n: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Textbook QFT (Nielsen & Chuang Fig. 5.1) with qubit n-1 as the most significant bit."""
    ops: list[tuple[tuple[int, ...], np.ndarray]] = []
    for j in reversed(range(n)):
        ops.append(((j,), gate_matrix("h")))
        for k in reversed(range(j)):
            ops.append(((k, j), gate_matrix("cp", (np.pi / 2 ** (j - k),))))
    for q in range(n // 2):
        ops.append(((q, n - 1 - q), gate_matrix("swap")))
    return ops


@pytest.mark.parametrize(("n", "x"), [(3, 0), (3, 5), (4, 1), (4, 11), (6, 37)])
def test_qft_of_basis_state(n: int, x: int) -> None:
    initial = np.zeros(2**n, dtype=np.complex128)
    initial[x] = 1.0
    state = simulate_statevector(n, _qft_ops(n), initial_state=initial)
    k = np.arange(2**n)
    expected = np.exp(2j * np.pi * x * k / 2**n) / np.sqrt(2**n)
    np.testing.assert_allclose(state, expected, atol=1e-10)


def test_random_circuit_matches_reference_and_keeps_initial_state() -> None:
    rng = np.random.default_rng(4)
    n = 5
    ops = []
    for _ in range(25):
        k = int(rng.integers(1, 4))
        qubits = tuple(int(q) for q in rng.permutation(n)[:k])
        ops.append((qubits, random_unitary(2**k, rng)))
    initial = random_state_vector(n, rng)
    before = initial.copy()
    state = simulate_statevector(n, ops, initial_state=initial)
    np.testing.assert_allclose(state, reference_statevector(n, ops, initial), atol=1e-10)
    np.testing.assert_array_equal(initial, before)


def test_complex64_matches_complex128() -> None:
    ops = [*_qft_ops(4), ((2,), gate_matrix("rz", (0.3,))), ((1, 3), gate_matrix("rzz", (0.7,)))]
    single = simulate_statevector(4, ops, dtype=np.complex64)
    assert single.dtype == np.complex64
    np.testing.assert_allclose(single, simulate_statevector(4, ops), atol=1e-6)


def test_zero_state() -> None:
    np.testing.assert_array_equal(zero_state(2), [1, 0, 0, 0])


@pytest.mark.parametrize(
    ("ops", "message"),
    [([((0,), np.eye(2)), ((3,), np.eye(2))], "operation 1: qubit"),
     ([((0, 1), np.eye(2))], "operation 0: a matrix on 2 qubit"),
     ([((0, 0), np.eye(4))], "not distinct"),
     ([((0.5,), np.eye(2))], "integers"),
     ([((0,), np.full((2, 2), np.nan))], "finite"),
     ([Channel((0,), depolarizing_kraus(0.1))], "density-matrix simulator"),
     ([(0,)], "expected a \\(qubits, matrix\\) pair")],
)
def test_invalid_programs_are_rejected(ops: list, message: str) -> None:
    with pytest.raises(InvalidProgramError, match=message):
        simulate_statevector(3, ops)


def test_invalid_initial_states_and_widths_are_rejected() -> None:
    with pytest.raises(InvalidProgramError, match="shape"):
        simulate_statevector(2, [], initial_state=np.ones(8) / np.sqrt(8))
    with pytest.raises(InvalidProgramError, match="unit norm"):
        simulate_statevector(2, [], initial_state=np.ones(4))
    with pytest.raises(InvalidProgramError, match="qubit_count"):
        simulate_statevector(0, [])
    with pytest.raises(ResourceExhaustedError):
        simulate_statevector(40, [])


def test_concurrent_parallel_simulations_agree() -> None:
    """Parallel kernels launched from several Python threads at once (GIL released)."""
    n = PARALLEL_MIN_QUBITS
    rng = np.random.default_rng(8)
    ops = [((q,), random_unitary(2, rng)) for q in range(0, n, 3)]
    ops += [((1, n - 1), gate_matrix("cx")), ((2, 5), gate_matrix("cp", (0.3,))),
            ((0, 4, 7), gate_matrix("ccx"))]
    expected = simulate_statevector(n, ops)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: simulate_statevector(n, ops), range(6)))
    for state in results:
        np.testing.assert_allclose(state, expected, atol=1e-12)
