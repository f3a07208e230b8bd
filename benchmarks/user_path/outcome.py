"""What one timed user-path run returns, whichever backend ran it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["Outcome", "mean_hamming_weight"]


@dataclass(slots=True)
class Outcome:
    """One timed run.

    Attributes:
        total_s: wall time of the whole task, seconds (``time.perf_counter``).
        parts: a breakdown of ``total_s`` where the backend reports one, seconds by name.
        check: a backend-independent number from the result (counts: the mean Hamming weight
            of the samples; expectation values: the value).
    """

    total_s: float
    check: float
    parts: dict[str, float] = field(default_factory=dict)


def mean_hamming_weight(counts: Mapping[str, int] | Iterable[tuple[int, int]]) -> float:
    """Mean number of 1 bits per shot.

    Args:
        counts: ``{bitstring: count}`` (characters ``0``/``1``) or ``(integer outcome,
            count)`` pairs.
    Returns:
        The mean over shots, in ``[0, width]``; NaN for no shots.
    """
    items = counts.items() if isinstance(counts, Mapping) else counts
    shots = ones = 0
    for outcome, count in items:
        weight = outcome.count("1") if isinstance(outcome, str) else int(outcome).bit_count()
        shots += count
        ones += weight * count
    return ones / shots if shots else float("nan")
