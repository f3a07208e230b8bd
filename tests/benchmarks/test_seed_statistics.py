"""The seed statistics of the benchmarks against textbook values and scipy.stats' own tests."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from benchmarks.seed_statistics import (
    Interval,
    binomial_standard_error,
    compare,
    paired_interval,
    t_interval,
)

A = [0.80, 0.82, 0.79, 0.81]
B = [0.78, 0.80, 0.80, 0.77]


def test_t_interval_matches_scipy_one_sample_test() -> None:
    got = t_interval(A)
    want = stats.ttest_1samp(A, 0.0).confidence_interval(0.95)
    assert got.mean == pytest.approx(0.805)
    assert (got.low, got.high) == pytest.approx((want.low, want.high), abs=1e-12)
    assert got.n == 4 and got.confidence == 0.95


def test_t_interval_by_hand() -> None:
    # 10 samples, s = 1: half width t_{0.975, 9} / sqrt(10) = 2.2621571628 / 3.1622776602
    values = [1.0, -1.0] * 5
    s = math.sqrt(10 / 9)
    got = t_interval(values, confidence=0.95)
    assert got.half_width == pytest.approx(2.2621571628 * s / math.sqrt(10), rel=1e-9)
    # 90 %: t_{0.95, 9} = 1.8331129327
    assert t_interval(values, confidence=0.90).half_width == pytest.approx(
        1.8331129327 * s / math.sqrt(10), rel=1e-9)
    assert t_interval([0.5, 0.5, 0.5]).half_width == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        t_interval([0.5])
    with pytest.raises(ValueError, match="confidence"):
        t_interval(A, confidence=1.0)


def test_paired_interval_matches_scipy_related_test() -> None:
    got = paired_interval(A, B)
    want = stats.ttest_rel(A, B).confidence_interval(0.95)
    assert got.mean == pytest.approx(0.0175)
    assert (got.low, got.high) == pytest.approx((want.low, want.high), abs=1e-12)
    with pytest.raises(ValueError, match="equal lengths"):
        paired_interval(A, B[:3])


def test_pairing_removes_the_shared_seed_effect() -> None:
    # b = a - 0.01 + tiny noise: unpaired intervals overlap, the paired one excludes 0
    a = [0.70, 0.85, 0.78, 0.90, 0.74]
    b = [x - 0.01 + e for x, e in zip(a, [0.001, -0.001, 0.0005, -0.0005, 0.0])]
    ia, ib = t_interval(a), t_interval(b)
    assert ia.low < ib.high
    assert compare(paired_interval(a, b)) == "beats"
    assert compare(paired_interval(b, a)) == "does not beat"


def test_compare_reads_the_interval() -> None:
    assert compare(Interval(0.02, 0.001, 0.039, 10, 0.95)) == "beats"
    assert compare(Interval(-0.02, -0.039, -0.001, 10, 0.95)) == "does not beat"
    assert compare(Interval(0.01, -0.001, 0.021, 10, 0.95)) == "is indistinguishable from"
    assert compare(Interval(0.0, 0.0, 0.0, 10, 0.95)) == "is indistinguishable from"


def test_binomial_standard_error() -> None:
    assert binomial_standard_error(0.8, 500) == pytest.approx(0.017888543819998316)
    assert binomial_standard_error(0.8, 500) == pytest.approx(
        stats.binom(500, 0.8).std() / 500)
    assert binomial_standard_error(1.0, 10) == 0.0
    with pytest.raises(ValueError):
        binomial_standard_error(0.5, 0)
