"""Confidence intervals over training seeds and the decision rule that reads them.

A benchmark that trains each method under several seeds gets one score per seed. This module
summarises those scores without assuming more than the data give:

* :func:`t_interval` — mean and two-sided Student-t confidence interval of independent
  samples: ``mean ± t_{1-α/2, n-1} · s / √n`` with ``s`` the sample standard deviation
  (Student, Biometrika 6, 1 (1908); e.g. Wasserman, "All of Statistics" (2004), §10.4).
* :func:`paired_interval` — the same interval for the per-seed differences ``a_i - b_i`` of
  two methods run under the same seeds (the paired t-interval), which removes the variation the
  seed causes in both.
* :func:`compare` — "beats" when the whole interval of the difference lies above 0, "does not
  beat" when it lies below 0, "is indistinguishable from" when it contains 0.
* :func:`binomial_standard_error` — ``√(p(1-p)/n)``, the spread of an accuracy measured on
  ``n`` test items, which the seed interval does not contain (every seed meets the same test
  set).

Quantiles come from :func:`scipy.stats.t.ppf`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

__all__ = ["Interval", "binomial_standard_error", "compare", "paired_interval", "t_interval"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A sample mean and its two-sided confidence interval.

    Attributes:
        mean: the sample mean.
        low / high: the interval's ends (``low <= mean <= high``).
        n: the number of samples.
        confidence: the interval's coverage, in ``(0, 1)``.
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def format(self, digits: int = 3) -> str:
        """``mean [low, high]`` with ``digits`` decimals."""
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def t_interval(values: Sequence[float], *, confidence: float = 0.95) -> Interval:
    """Student-t confidence interval of the mean of independent samples.

    Args:
        values: the samples (one per seed), at least 2.
        confidence: coverage in ``(0, 1)``.
    Returns:
        ``mean ± t_{(1+confidence)/2, n-1} · s / √n``; zero width when all samples agree.
    Raises:
        ValueError: fewer than 2 samples, or ``confidence`` outside ``(0, 1)``.
    """
    if len(values) < 2:
        raise ValueError(f"a t-interval needs at least 2 samples, got {len(values)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = len(values)
    mean = statistics.fmean(values)
    half = (float(stats.t.ppf((1 + confidence) / 2, n - 1))
            * statistics.stdev(values) / math.sqrt(n))
    return Interval(mean=mean, low=mean - half, high=mean + half, n=n, confidence=confidence)


def paired_interval(a: Sequence[float], b: Sequence[float], *,
                    confidence: float = 0.95) -> Interval:
    """The t-interval of the paired differences ``a[i] - b[i]``.

    Args:
        a / b: scores of two methods, ``a[i]`` and ``b[i]`` under the same seed; equal lengths,
            at least 2.
        confidence: coverage in ``(0, 1)``.
    Raises:
        ValueError: unequal lengths, or as :func:`t_interval`.
    """
    if len(a) != len(b):
        raise ValueError(f"paired samples need equal lengths, got {len(a)} and {len(b)}")
    return t_interval([x - y for x, y in zip(a, b)], confidence=confidence)


def compare(difference: Interval) -> str:
    """The verdict on ``a`` against ``b`` from the interval of ``a - b``.

    Returns:
        ``"beats"`` when ``low > 0``, ``"does not beat"`` when ``high < 0``, else
        ``"is indistinguishable from"``.
    """
    if difference.low > 0:
        return "beats"
    if difference.high < 0:
        return "does not beat"
    return "is indistinguishable from"


def binomial_standard_error(accuracy: float, n: int) -> float:
    """``√(p(1-p)/n)``: the standard error of an accuracy ``p`` measured on ``n`` items.

    Raises:
        ValueError: ``n < 1`` or ``accuracy`` outside ``[0, 1]``.
    """
    if n < 1 or not 0 <= accuracy <= 1:
        raise ValueError(f"need n >= 1 and accuracy in [0, 1], got n={n}, accuracy={accuracy}")
    return math.sqrt(accuracy * (1 - accuracy) / n)
