"""Readout assignment error against explicit Kronecker products of confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.errors import InvalidProgramError
from quantum_service.simulator import apply_readout_error, confusion_matrix


def test_single_qubit_flip_rates() -> None:
    np.testing.assert_allclose(
        apply_readout_error(np.array([1.0, 0.0]), p1_given_0=[0.02], p0_given_1=[0.05]),
        [0.98, 0.02])
    np.testing.assert_allclose(
        apply_readout_error(np.array([0.0, 1.0]), p1_given_0=[0.02], p0_given_1=[0.05]),
        [0.05, 0.95])


def test_three_qubits_match_kron_of_confusion_matrices() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(8)
    p /= p.sum()
    e10, e01 = [0.01, 0.03, 0.08], [0.04, 0.02, 0.1]
    # Measured position 0 is the least-significant bit: the rightmost Kronecker factor.
    a = np.kron(np.kron(confusion_matrix(e10[2], e01[2]), confusion_matrix(e10[1], e01[1])),
                confusion_matrix(e10[0], e01[0]))
    out = apply_readout_error(p, p1_given_0=e10, p0_given_1=e01)
    np.testing.assert_allclose(out, a @ p, atol=1e-15)
    assert out.sum() == pytest.approx(1.0)


def test_readout_errors_reject_bad_input() -> None:
    with pytest.raises(InvalidProgramError, match="expected 2"):
        apply_readout_error(np.full(4, 0.25), p1_given_0=[0.1], p0_given_1=[0.1])
    with pytest.raises(InvalidProgramError, match=r"\[0, 1\]"):
        apply_readout_error(np.array([1.0, 0.0]), p1_given_0=[1.2], p0_given_1=[0.1])
