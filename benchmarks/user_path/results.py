"""The measured rows of a user-path run (plain data: the report is generated from these)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

__all__ = ["AcceptRow", "ParseRow", "PathRow", "UserPathResults", "fmt_seconds", "median"]


def median(values: list[float]) -> float:
    """Median of ``values``; NaN when empty."""
    return statistics.median(values) if values else math.nan


def fmt_seconds(seconds: float) -> str:
    """``812 µs``, ``12.3 ms``, ``4.56 s``; ``—`` for NaN."""
    if math.isnan(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


@dataclass(slots=True)
class _Timed:
    times: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.times)

    @property
    def median(self) -> float:
        return median(self.times)

    def spread(self) -> str:
        """``median (min–max, runs)``, or the error."""
        if not self.times:
            return self.error or "not run"
        return (f"{fmt_seconds(self.median)} ({fmt_seconds(min(self.times))}–"
                f"{fmt_seconds(max(self.times))}, {len(self.times)})")


@dataclass(slots=True)
class PathRow(_Timed):
    """One backend on one user-path case; ``times`` in seconds, one per timed run.

    Attributes:
        case: the case key; ``backend``: ``qcore``, ``aer`` or ``qulacs``.
        parts: per-run breakdown by name (same length as ``times`` when reported).
        checks: the backend-independent check number of each run.
        note: a caveat the report prints under the table (e.g. how qulacs read the text).
        parse_alone_s: qcore only: its parser alone on the last run's text, in the client's
            process (what the service's parsing costs inside ``submit``); None: not measured.
    """

    case: str = ""
    backend: str = ""
    parts: dict[str, list[float]] = field(default_factory=dict)
    checks: list[float] = field(default_factory=list)
    note: str = ""
    parse_alone_s: float | None = None


@dataclass(slots=True)
class ParseRow(_Timed):
    """One parser on one program size; ``requested``: the size asked for, ``size``: bytes of
    the generated text, ``gates``: its gates."""

    backend: str = ""
    requested: int = 0
    size: int = 0
    gates: int = 0


@dataclass(slots=True)
class AcceptRow:
    """The large program through the service: seconds until ``SubmitJob`` returned
    (``accept_times``) and until the result arrived (``result_times``)."""

    size: int = 0
    gates: int = 0
    accept_times: list[float] = field(default_factory=list)
    result_times: list[float] = field(default_factory=list)
    error: str = ""


@dataclass(slots=True)
class UserPathResults:
    """Everything the user-path part of the report is generated from.

    Attributes:
        titles: case key → title, in the report's order.
        kinds: case key → ``counts``, ``expectation`` or ``session``.
        widths: case key → qubits.
        rows: every (case, backend) row.
        parse: the parse-time rows; ``accept``: the large submission (None: not run).
        versions: backend → version text.
        repeat: timed runs requested per row; ``threads``: threads per backend.
        notes: sentences about the run (e.g. a text mismatch between backends).
        quick: the ``--quick`` sizes were run (the targets hold at the full sizes).
    """

    titles: dict[str, str]
    kinds: dict[str, str]
    rows: list[PathRow]
    widths: dict[str, int] = field(default_factory=dict)
    parse: list[ParseRow] = field(default_factory=list)
    accept: AcceptRow | None = None
    versions: dict[str, str] = field(default_factory=dict)
    repeat: int = 0
    threads: int = 0
    notes: list[str] = field(default_factory=list)
    quick: bool = False
