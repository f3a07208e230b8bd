"""Zero-noise fits (:mod:`quantum_service.mitigation.extrapolation`)."""

from __future__ import annotations

import numpy as np
import pytest

from quantum_service.contract import Extrapolation
from quantum_service.errors import InvalidProgramError
from quantum_service.mitigation import extrapolate, extrapolation_weights


@pytest.mark.parametrize("scales", [(1.0, 3.0), (1.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.5),
                                    (1.0, 2.0, 3.0, 4.0, 5.0)])
def test_richardson_is_exact_on_a_polynomial_of_lower_degree(scales):
    rng = np.random.default_rng(len(scales))
    coefficients = rng.normal(size=len(scales))  # degree len - 1
    values = np.polyval(coefficients, scales)
    value, error, fit = extrapolate(scales, values, np.zeros(len(scales)),
                                    method=Extrapolation.RICHARDSON)
    assert fit is Extrapolation.RICHARDSON
    assert value == pytest.approx(coefficients[-1], abs=1e-9)
    assert error == 0.0
    assert extrapolation_weights(scales, Extrapolation.RICHARDSON).sum() == pytest.approx(1.0)


def test_richardson_weights_for_one_three_five():
    np.testing.assert_allclose(extrapolation_weights((1, 3, 5), Extrapolation.RICHARDSON),
                               [15 / 8, -10 / 8, 3 / 8])


def test_linear_fit_is_the_least_squares_intercept_and_propagates_errors():
    scales = np.array([1.0, 3.0, 5.0])
    values = 0.8 - 0.1 * scales + np.array([0.01, -0.02, 0.01])
    sigma = np.array([0.01, 0.02, 0.03])
    value, error, fit = extrapolate(scales, values, sigma, method=Extrapolation.LINEAR)
    slope, intercept = np.polyfit(scales, values, 1)
    assert fit is Extrapolation.LINEAR and value == pytest.approx(intercept)
    weights = extrapolation_weights(scales, Extrapolation.LINEAR)
    assert error == pytest.approx(np.sqrt(np.sum((weights * sigma) ** 2)))


def test_propagated_error_matches_the_spread_of_extrapolated_samples():
    rng = np.random.default_rng(3)
    scales = np.array([1.0, 3.0, 5.0])
    truth = 1.0 - 0.05 * scales + 0.002 * scales ** 2
    sigma = np.array([0.01, 0.012, 0.015])
    _, error, _ = extrapolate(scales, truth, sigma, method=Extrapolation.RICHARDSON)
    samples = [extrapolate(scales, truth + rng.normal(0, sigma), sigma,
                           method=Extrapolation.RICHARDSON)[0] for _ in range(4000)]
    assert np.std(samples) == pytest.approx(error, rel=0.05)
    assert np.mean(samples) == pytest.approx(1.0, abs=4 * error / np.sqrt(4000))


def test_exponential_fit_is_exact_on_an_exponential_decay():
    scales = np.array([1.0, 2.0, 3.0, 5.0])
    values = 0.25 + 1.5 * np.exp(-0.2 * scales)
    value, error, fit = extrapolate(scales, values, np.full(4, 1e-3),
                                    method=Extrapolation.EXPONENTIAL, asymptote=0.25)
    assert fit is Extrapolation.EXPONENTIAL
    assert value == pytest.approx(1.75, abs=1e-12)
    assert 0 < error < 0.01


def test_exponential_fit_falls_back_to_linear_across_its_asymptote():
    value, _, fit = extrapolate((1, 3, 5), (0.2, -0.1, -0.3), (0.0, 0.0, 0.0),
                                method=Extrapolation.EXPONENTIAL, asymptote=0.0)
    assert fit is Extrapolation.LINEAR
    assert value == pytest.approx(np.polyfit((1, 3, 5), (0.2, -0.1, -0.3), 1)[1])


@pytest.mark.parametrize("scales", [(1.0,), (3.0, 3.0)])
def test_fits_need_two_distinct_scale_factors(scales):
    with pytest.raises(InvalidProgramError, match="distinct"):
        extrapolation_weights(scales, Extrapolation.RICHARDSON)
