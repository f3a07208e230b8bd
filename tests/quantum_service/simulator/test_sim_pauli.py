"""PauliSum parsing and matrix-free expectation values against dense Kronecker products."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import PauliSum, expectation_value, term_expectations
from quantum_service.simulator.reference import (
    pauli_string_matrix,
    random_state_vector,
    reference_expectation,
)


def _random_terms(n: int, count: int, rng: np.random.Generator) -> list[tuple[str, float]]:
    terms = []
    for _ in range(count):
        letters = rng.choice(list("IXYZ"), size=n)
        string = " ".join(f"{p}{q}" for q, p in enumerate(letters) if p != "I")
        terms.append((string, float(rng.normal())))
    # Terms that share an x mask with each other (same group, different z).
    terms += [("X0 X2", 0.3), ("Y0 X2", -0.4), ("X0 Y2 Z1", 0.25), ("Z1", 0.8), ("Z0 Z3", -0.6),
              ("", 1.5)]
    return terms


def test_strings_are_normalised() -> None:
    h = PauliSum([("Z3 X0", 1.0), ("I2", 2), ("", -0.5), ("I1 Y4", 0.25)], qubit_count=5)
    assert h.terms == (("X0 Z3", 1.0), ("", 2.0), ("", -0.5), ("Y4", 0.25))
    assert len(h) == h.term_count == 4


def test_masks_and_phases() -> None:
    h = PauliSum([("X0 Y1 Z2", 1.0)], qubit_count=3)
    assert h.x_masks.tolist() == [0b011]
    assert h.z_masks.tolist() == [0b110]
    assert h.phases.tolist() == [1j]
    assert not h.is_diagonal
    assert PauliSum([("Z0 Z1", 1.0), ("", 1.0)], qubit_count=2).is_diagonal


@pytest.mark.parametrize(
    ("terms", "message"),
    [([("Q0", 1.0)], "unknown Pauli 'Q'"),
     ([("x0", 1.0)], "upper case"),
     ([("X5", 1.0)], "term 0: qubit 5 .* out of range"),
     ([("Z0", 1.0), ("X0 X0", 1.0)], "term 1: qubit 0 appears twice"),
     ([("X", 1.0)], "cannot read 'X'"),
     ([("X0,Z1", 1.0)], "cannot read"),
     ([("Z0", 1j)], "not real"),
     ([("Z0", float("nan"))], "not finite"),
     ([("Z0", "a")], "real number"),
     ([(3, 1.0)], "must be a str"),
     ([("Z0",)], "expected \\(pauli_string, coefficient\\)")],
)
def test_malformed_terms_are_rejected(terms: list, message: str) -> None:
    with pytest.raises(InvalidProgramError, match=message):
        PauliSum(terms, qubit_count=5)


def test_bad_qubit_count_is_rejected() -> None:
    with pytest.raises(InvalidProgramError, match="qubit_count"):
        PauliSum([("Z0", 1.0)], qubit_count=0)


def test_matrix_matches_kronecker_products() -> None:
    n = 4
    terms = _random_terms(n, 10, np.random.default_rng(0))
    h = PauliSum(terms, qubit_count=n)
    dense = sum(c * pauli_string_matrix(s, n) for s, c in terms)
    np.testing.assert_allclose(h.matrix(), dense, atol=1e-14)
    np.testing.assert_allclose(h.matrix(), h.matrix().conj().T, atol=1e-14)


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_expectation_value_matches_dense(seed: int, parallel: bool) -> None:
    n = 5
    rng = np.random.default_rng(seed)
    terms = _random_terms(n, 30, rng)
    h = PauliSum(terms, qubit_count=n)
    assert h.group_count < h.term_count
    psi = random_state_vector(n, rng)
    assert expectation_value(psi, h, parallel=parallel) == pytest.approx(
        reference_expectation(psi, terms, n), abs=1e-10)
    per_term = term_expectations(psi, h, parallel=parallel)
    expected = [np.vdot(psi, pauli_string_matrix(s, n) @ psi).real for s, _ in terms]
    np.testing.assert_allclose(per_term, expected, atol=1e-10)


def test_term_expectations_on_textbook_states() -> None:
    h = PauliSum([("Z0", 1.0), ("X0", 1.0), ("Z1", 1.0), ("X0 X1", 1.0), ("Y0 Y1", 1.0),
                  ("Z0 Z1", 1.0), ("", 1.0)], qubit_count=2)
    zero = np.array([1, 0, 0, 0], dtype=np.complex128)
    np.testing.assert_allclose(term_expectations(zero, h), [1, 0, 1, 0, 0, 1, 1], atol=1e-15)
    bell = np.array([1, 0, 0, 1], dtype=np.complex128) / np.sqrt(2)  # XX = 1, YY = -1, ZZ = 1
    np.testing.assert_allclose(term_expectations(bell, h), [0, 0, 0, 1, -1, 1, 1], atol=1e-15)


def test_complex64_state() -> None:
    rng = np.random.default_rng(9)
    terms = _random_terms(4, 8, rng)
    psi = random_state_vector(4, rng)
    h = PauliSum(terms, qubit_count=4)
    assert expectation_value(psi.astype(np.complex64), h) == pytest.approx(
        reference_expectation(psi, terms, 4), abs=1e-5)


def test_observable_wider_than_state_is_rejected() -> None:
    with pytest.raises(InvalidProgramError, match="defined on 3 qubits"):
        expectation_value(np.array([1, 0], dtype=np.complex128),
                          PauliSum([("Z2", 1.0)], qubit_count=3))


def test_remap_relabels_qubits() -> None:
    h = PauliSum([("X0 Z1", 0.5), ("Y2", -1.0), ("", 0.1)], qubit_count=3)
    moved = h.remap({0: 4, 1: 0, 2: 2}, qubit_count=5)
    assert moved.terms == (("Z0 X4", 0.5), ("Y2", -1.0), ("", 0.1))
    assert moved.qubit_count == 5
    assert h.remap([1, 2, 0]).terms == (("X1 Z2", 0.5), ("Y0", -1.0), ("", 0.1))
    # The remapped observable on the correspondingly relabelled state has the same value.
    mapping = [1, 2, 0]  # old qubit -> new qubit
    psi = random_state_vector(3, np.random.default_rng(0))
    tensor = psi.reshape(2, 2, 2)  # axis a is qubit 2 - a
    old_of_new = {new: old for old, new in enumerate(mapping)}
    relabelled = np.transpose(tensor, [2 - old_of_new[2 - a] for a in range(3)]).reshape(-1)
    assert expectation_value(relabelled, h.remap(mapping)) == pytest.approx(
        expectation_value(psi, h), abs=1e-12)


def test_remap_errors() -> None:
    h = PauliSum([("X0 Z1", 1.0)], qubit_count=2)
    with pytest.raises(InvalidProgramError, match="no new index for qubit"):
        h.remap({0: 1})
    with pytest.raises(InvalidProgramError, match="same new qubit"):
        h.remap({0: 1, 1: 1})
    with pytest.raises(InvalidProgramError, match="out of range"):
        h.remap({0: 0, 1: 2})
    with pytest.raises(InvalidProgramError, match="non-negative integers"):
        h.remap({0: 0, 1: -1})
