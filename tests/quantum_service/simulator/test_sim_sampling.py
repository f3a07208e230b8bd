"""Outcome probabilities, bitstring ordering and sampling statistics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import (
    counts_from_bitstrings,
    marginal_probabilities,
    probabilities,
    sample_bitstrings,
    sample_counts,
)
from quantum_service.simulator.reference import random_state_vector, reference_marginal


@pytest.mark.parametrize("qubits", [(0,), (3,), (2, 0), (0, 2), (4, 1, 3), (0, 1, 2, 3, 4)])
def test_marginal_probabilities_match_loop_reference(qubits: tuple[int, ...]) -> None:
    psi = random_state_vector(5, np.random.default_rng(1))
    full = np.abs(psi) ** 2
    np.testing.assert_allclose(probabilities(psi, qubits), reference_marginal(full, qubits),
                               atol=1e-14)
    np.testing.assert_allclose(marginal_probabilities(full, qubits),
                               reference_marginal(full, qubits), atol=1e-14)


def test_full_probabilities_are_squared_magnitudes() -> None:
    psi = random_state_vector(3, np.random.default_rng(2))
    np.testing.assert_allclose(probabilities(psi), np.abs(psi) ** 2, atol=1e-15)


def test_bitstring_order_puts_first_measured_qubit_rightmost() -> None:
    state = np.zeros(8, dtype=np.complex128)
    state[0b010] = 1.0  # qubit 1 is 1, qubits 0 and 2 are 0
    assert sample_counts(state, (0, 1), shot_count=5, rng=0) == {"10": 5}
    assert sample_counts(state, (1, 0), shot_count=5, rng=0) == {"01": 5}
    assert sample_counts(state, shot_count=3, rng=0) == {"010": 3}
    bits = sample_bitstrings(state, (0, 1, 2), shot_count=2, rng=0)
    assert bits.dtype == np.uint8 and bits.shape == (2, 3)
    assert bits.tolist() == [[0, 1, 0], [0, 1, 0]]


def test_counts_follow_the_distribution() -> None:
    """Pearson chi-square goodness of fit, fixed seed, 99.9 % acceptance."""
    psi = random_state_vector(4, np.random.default_rng(3))
    qubits = (3, 0, 1)
    expected = probabilities(psi, qubits)
    shots = 20_000
    counts = sample_counts(psi, qubits, shot_count=shots, rng=np.random.default_rng(7))
    assert sum(counts.values()) == shots
    observed = np.array([counts.get(format(k, "03b"), 0) for k in range(8)])
    chi2 = np.sum((observed - shots * expected) ** 2 / (shots * expected))
    assert chi2 < stats.chi2.ppf(0.999, df=7)


def test_bitstring_columns_have_the_single_qubit_marginals() -> None:
    psi = random_state_vector(3, np.random.default_rng(5))
    qubits = (2, 0)
    shots = 40_000
    bits = sample_bitstrings(psi, qubits, shot_count=shots, rng=11)
    for column, q in enumerate(qubits):
        p1 = probabilities(psi, (q,))[1]
        sigma = np.sqrt(p1 * (1 - p1) / shots)
        assert abs(bits[:, column].mean() - p1) < 4 * sigma


def test_probabilities_input_and_state_input_sample_alike() -> None:
    psi = random_state_vector(3, np.random.default_rng(6))
    from_state = sample_counts(psi, (1, 2), shot_count=500, rng=3)
    from_probs = sample_counts(np.abs(psi) ** 2, (1, 2), shot_count=500, rng=3)
    assert from_state == from_probs
    bits = sample_bitstrings(psi, (1, 2), shot_count=500, rng=3)
    assert counts_from_bitstrings(bits) == from_state


def test_zero_probability_outcomes_never_occur() -> None:
    p = np.array([0.5, 0.0, 0.0, 0.5])
    counts = sample_counts(p, shot_count=10_000, rng=1)
    assert set(counts) == {"00", "11"}


@pytest.mark.parametrize(
    ("distribution", "kwargs", "message"),
    [(np.array([1.0, 0.0]), {"shot_count": 0}, "shot_count"),
     (np.array([0.7, 0.7]), {"shot_count": 10}, "sums to"),
     (np.array([1.5, -0.5]), {"shot_count": 10}, "non-negative"),
     (np.array([1, 0]), {"shot_count": 10}, "dtype"),
     (np.array([1.0, 0.0, 0.0]), {"shot_count": 10}, "power of 2"),
     (np.array([1.0, 0.0]), {"shot_count": 10, "qubits": (1,)}, "out of range")],
)
def test_bad_sampling_requests_are_rejected(distribution: np.ndarray, kwargs: dict,
                                            message: str) -> None:
    options = dict(kwargs)
    qubits = options.pop("qubits", None)
    with pytest.raises(InvalidProgramError, match=message):
        sample_counts(distribution, qubits, **options)
