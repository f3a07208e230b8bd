"""The density-matrix engine against dense NumPy density matrices."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.circuits.gates import gate_matrix
from quantum_service.errors import InvalidProgramError, ResourceExhaustedError
from quantum_service.simulator import (
    Channel,
    PauliSum,
    amplitude_damping_kraus,
    depolarizing_kraus,
    dm_apply_unitary,
    dm_expectation_value,
    dm_from_matrix,
    dm_from_state_vector,
    dm_probabilities,
    dm_term_expectations,
    dm_to_matrix,
    dm_zero_state,
    simulate_density_matrix,
    simulate_statevector,
    thermal_relaxation_kraus,
)
from quantum_service.simulator.reference import (
    pauli_string_matrix,
    random_density_matrix,
    random_unitary,
    reference_density_matrix,
    reference_marginal,
)

ATOL = 1e-10


def _random_channel(qubits: tuple[int, ...], rank: int, rng: np.random.Generator) -> Channel:
    """Kraus operators from the blocks of a random isometry (Stinespring dilation)."""
    d = 2 ** len(qubits)
    isometry = random_unitary(d * rank, rng)[:, :d]
    return Channel(qubits, tuple(isometry[i * d:(i + 1) * d] for i in range(rank)))


def _noisy_program(n: int, rng: np.random.Generator) -> list:
    ops: list = []
    for step in range(12):
        k = int(rng.integers(1, 3))
        qubits = tuple(int(q) for q in rng.permutation(n)[:k])
        ops.append((qubits, random_unitary(2**k, rng)))
        if step % 3 == 0:
            ops.append(Channel((int(rng.integers(n)),), depolarizing_kraus(0.05)))
    ops += [
        Channel((2, 0), depolarizing_kraus(0.1, qubit_count=2)),
        Channel((0, 2), depolarizing_kraus(0.1, qubit_count=2)),
        Channel((1,), thermal_relaxation_kraus(t1_us=40.0, t2_us=30.0, duration_ns=5000.0)),
        _random_channel((3, 1), 3, rng),
        _random_channel((0,), 2, rng),
        ((1, 3), gate_matrix("cz")),
        ((2,), gate_matrix("rz", (0.4,))),
    ]
    return ops


def test_noiseless_program_gives_the_pure_state() -> None:
    rng = np.random.default_rng(0)
    n = 4
    ops = [((q,), random_unitary(2, rng)) for q in range(n)]
    ops += [((0, 3), gate_matrix("cx")), ((2, 1), random_unitary(4, rng)),
            ((3, 0, 1), random_unitary(8, rng)), ((1, 2), gate_matrix("cp", (0.3,)))]
    psi = simulate_statevector(n, ops)
    rho = dm_to_matrix(simulate_density_matrix(n, ops))
    np.testing.assert_allclose(rho, np.outer(psi, psi.conj()), atol=ATOL)


@pytest.mark.parametrize("seed", [1, 2])
def test_noisy_program_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 4
    ops = _noisy_program(n, rng)
    initial = random_density_matrix(n, rng)
    rho = simulate_density_matrix(n, ops, initial_state=initial)
    expected = reference_density_matrix(n, ops, initial)
    matrix = dm_to_matrix(rho)
    np.testing.assert_allclose(matrix, expected, atol=ATOL)
    assert np.trace(matrix) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(matrix, matrix.conj().T, atol=ATOL)


def test_probabilities_and_expectation_values() -> None:
    rng = np.random.default_rng(3)
    n = 4
    ops = _noisy_program(n, rng)
    rho = simulate_density_matrix(n, ops)
    expected = reference_density_matrix(n, ops)
    diagonal = np.diag(expected).real
    np.testing.assert_allclose(dm_probabilities(rho), diagonal, atol=ATOL)
    for qubits in [(1,), (3, 0), (0, 2, 1)]:
        np.testing.assert_allclose(dm_probabilities(rho, qubits),
                                   reference_marginal(diagonal, qubits), atol=ATOL)
    terms = [("Z0", 0.5), ("X1 X2", -0.7), ("Y0 Z3", 0.2), ("X0 Y1 Z2 X3", 1.1), ("", 0.3),
             ("Y1 Y2", 0.4), ("Z1 Z2", -0.9)]
    h = PauliSum(terms, qubit_count=n)
    dense = sum(c * pauli_string_matrix(s, n) for s, c in terms)
    for parallel in (False, True):
        assert dm_expectation_value(rho, h, parallel=parallel) == pytest.approx(
            np.trace(expected @ dense).real, abs=ATOL)
        np.testing.assert_allclose(
            dm_term_expectations(rho, h, parallel=parallel),
            [np.trace(expected @ pauli_string_matrix(s, n)).real for s, _ in terms], atol=ATOL)


def test_vectorisation_round_trips() -> None:
    rng = np.random.default_rng(4)
    matrix = random_density_matrix(3, rng)
    vector = dm_from_matrix(matrix)
    assert vector.shape == (64,)
    assert vector[0b101 | 0b011 << 3] == matrix[0b101, 0b011]  # rho[ket, bra] = ket | bra << n
    np.testing.assert_array_equal(dm_to_matrix(vector), matrix)
    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    np.testing.assert_allclose(dm_to_matrix(dm_from_state_vector(psi)), np.outer(psi, psi.conj()))
    np.testing.assert_array_equal(dm_to_matrix(dm_zero_state(1)), [[1, 0], [0, 0]])


def test_initial_pure_state_and_in_place_unitary() -> None:
    psi = np.array([0, 1, 0, 0], dtype=np.complex128)  # qubit 0 is 1
    rho = simulate_density_matrix(2, [Channel((0,), amplitude_damping_kraus(0.25))],
                                  initial_state=psi)
    np.testing.assert_allclose(dm_probabilities(rho), [0.25, 0.75, 0, 0], atol=ATOL)
    dm_apply_unitary(rho, (0, 1), gate_matrix("cx"))
    np.testing.assert_allclose(dm_probabilities(rho), [0.25, 0, 0, 0.75], atol=ATOL)


def test_invalid_programs_are_rejected() -> None:
    with pytest.raises(InvalidProgramError, match="operation 1 \\(channel\\): qubit"):
        simulate_density_matrix(2, [((0,), np.eye(2)),
                                    Channel((2,), depolarizing_kraus(0.1))])
    with pytest.raises(InvalidProgramError, match="operation 0: a matrix on 1"):
        simulate_density_matrix(2, [((0,), np.eye(4))])
    with pytest.raises(InvalidProgramError, match="trace 1"):
        simulate_density_matrix(1, [], initial_state=np.eye(2))
    with pytest.raises(InvalidProgramError, match="Hermitian"):
        simulate_density_matrix(1, [], initial_state=np.array([[0.5, 0.5], [0, 0.5]]))
    with pytest.raises(ResourceExhaustedError):
        simulate_density_matrix(20, [])
    with pytest.raises(InvalidProgramError, match="power of 4"):
        dm_probabilities(np.ones(8, dtype=np.complex128))
