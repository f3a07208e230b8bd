"""The structured kernels (controlled, swap, diagonal batch), Pauli-sum application, reduced
matrices and the blocked expectation kernel, each against dense NumPy references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from quantum_service.circuits.gates import controlled, gate_matrix
from quantum_service.simulator import PauliSum, expectation_value
from quantum_service.simulator.dispatch import (
    insertion_masks,
    index_offsets,
    apply_matrix,
    prepare_diagonal_batch,
    select_kernel,
)
from quantum_service.simulator.element_kernels import reduced_matrix
from quantum_service.simulator.pauli_kernels import apply_pauli_sum
from quantum_service.simulator.reference import (
    embed_operator,
    random_state_vector,
    random_unitary,
    reference_expectation,
)

ATOL = 1e-10


def _check(n: int, qubits: tuple[int, ...], matrix: np.ndarray, *, parallel: bool,
           seed: int) -> None:
    psi = random_state_vector(n, np.random.default_rng(seed))
    state = psi.copy()
    apply_matrix(state, qubits, matrix, parallel=parallel)
    np.testing.assert_allclose(state, embed_operator(n, qubits, matrix) @ psi, atol=ATOL)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubits", list(itertools.permutations(range(4), 3))[::3])
def test_controlled_kernels_on_every_layout(qubits: tuple[int, ...], parallel: bool) -> None:
    rng = np.random.default_rng(sum(qubits))
    u = random_unitary(2, rng)
    cases = {"ctrlx": controlled(gate_matrix("x"), 2), "ctrlu": controlled(u, 2),
             "swap": controlled(gate_matrix("swap"), 1)}
    for kind, matrix in cases.items():
        assert select_kernel(matrix) == kind
        _check(4, qubits, matrix, parallel=parallel, seed=7)


def test_control_on_a_later_listed_qubit() -> None:
    # A cx with its control listed second: still one control and one target.
    swapped = gate_matrix("cx").reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4)
    assert select_kernel(swapped) == "ctrlx"
    _check(3, (2, 0), swapped, parallel=False, seed=1)
    phase_u = controlled(np.diag([1.0, 1.0]) * 1j, 1)  # not a control: |0>-block not identity
    assert select_kernel(phase_u) in ("diag2", "phase")


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("pivot", [2, 8])
def test_diagonal_batch(pivot: int, parallel: bool) -> None:
    n = 9  # the kernel walks runs of 256 amplitudes; pivot 8 lies above them
    rng = np.random.default_rng(pivot)
    gates = []
    for q in rng.permutation(n)[:6]:
        q = int(q)
        if q != pivot:
            d = np.exp(1j * rng.uniform(-3, 3, 4))
            gates.append(((pivot, q) if q % 2 else (q, pivot), d))
        gates.append(((q,), np.exp(1j * rng.uniform(-3, 3, 2))))
    gates.append(((pivot,), np.array([1.0, -1j])))
    psi = random_state_vector(n, rng)
    state = psi.copy()
    call = prepare_diagonal_batch(n, pivot, gates, dtype=np.complex128, parallel=parallel)
    call[0](state, *call[1])
    expected = psi
    for qubits, d in gates:
        expected = embed_operator(n, qubits, np.diag(d)) @ expected
    np.testing.assert_allclose(state, expected, atol=ATOL)


def _terms(n: int, rng: np.random.Generator) -> list[tuple[str, float]]:
    terms = []
    for _ in range(10):
        letters = rng.choice(list("IXYZ"), size=n)
        terms.append((" ".join(f"{p}{q}" for q, p in enumerate(letters) if p != "I"),
                      float(rng.normal())))
    # x masks only in the low byte, only above it, shared by several terms; the identity.
    terms += [(f"X1 Z{n - 1}", 0.5), ("Y1 Z2", -0.3), (f"X{n - 1}", 0.7), (f"Y{n - 1} Z0", 0.2),
              ("Z0 Z1", 0.4), ("", 1.1)]
    return terms


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("n", [3, 8, 10])
def test_expectation_and_pauli_application(n: int, parallel: bool) -> None:
    rng = np.random.default_rng(n)
    terms = _terms(n, rng)
    h = PauliSum(terms, qubit_count=n)
    psi = random_state_vector(n, rng)
    assert expectation_value(psi, h, parallel=parallel) == pytest.approx(
        reference_expectation(psi, terms, n), abs=1e-12)
    out = np.zeros_like(psi)
    apply_pauli_sum(psi, h.grouped(), h.coefficients, out, parallel=parallel)
    np.testing.assert_allclose(out, h.matrix() @ psi, atol=ATOL)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("qubits", [(0,), (4,), (3, 1), (0, 2, 4)])
def test_reduced_matrix(qubits: tuple[int, ...], parallel: bool) -> None:
    n = 5
    rng = np.random.default_rng(len(qubits))
    bra, ket = random_state_vector(n, rng), random_state_vector(n, rng)
    r = reduced_matrix(bra, ket, insertion_masks(qubits), index_offsets(qubits), parallel=parallel)
    m = random_unitary(1 << len(qubits), rng)
    expected = np.vdot(bra, embed_operator(n, qubits, m) @ ket)
    assert np.sum(m * r) == pytest.approx(expected, abs=1e-12)
