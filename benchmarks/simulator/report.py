"""The kernel rows: a rich table on the terminal and the report's diagnosis section."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchmarks.simulator import workloads
from benchmarks.simulator.cases import Case
from benchmarks.user_path.results import fmt_seconds as _fmt

__all__ = ["Row", "kernel_lines", "kernel_reading", "print_table"]

_NAMES = {"qcore": "qcore", "qcore-session": "qcore (gRPC session)", "qulacs": "qulacs",
          "aer": "Qiskit Aer", "pyqpanda3": "pyqpanda3"}


@dataclass(slots=True)
class Row:
    """One backend's result on one case; times in seconds (per set for VQE and sessions)."""

    case: str
    backend: str
    qubits: int
    times: list[float] = field(default_factory=list)
    check: float | None = None
    version: str = ""
    note: str = ""
    load_1min: float | None = None  # the machine's 1-minute load average as the row ended

    @classmethod
    def from_result(cls, case: Case, qubits: int, result: dict[str, object]) -> Row:
        row = cls(case.key, str(result.get("backend", "?")), qubits,
                  [float(t) for t in result.get("times", [])],  # type: ignore[union-attr]
                  result.get("check"), str(result.get("version", "")))  # type: ignore[arg-type]
        load = result.get("loadavg")
        if isinstance(load, (list, tuple)) and load:
            row.load_1min = float(load[0])
        if "error" in result:
            row.note = f"failed: {result['error']}"
        elif "skipped" in result:
            row.note = f"skipped: {result['skipped']}"
        return row

    @property
    def ok(self) -> bool:
        return bool(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan

    def spread(self) -> str:
        if not self.times:
            return self.note or "—"
        return (f"{_fmt(self.median)} ({_fmt(min(self.times))}–{_fmt(max(self.times))}, "
                f"{len(self.times)})")

    def summary(self) -> str:
        return self.spread() if self.ok else self.note




def _best_peer(rows: Sequence[Row], case: str) -> Row | None:
    peers = [r for r in rows if r.case == case and r.ok and not r.backend.startswith("qcore")]
    return min(peers, key=lambda r: r.median) if peers else None


def _qcore(rows: Sequence[Row], case: str) -> Row | None:
    return next((r for r in rows if r.case == case and r.backend.startswith("qcore") and r.ok),
                None)


def _ratio(row: Row, best: Row | None) -> str:
    if not row.ok or best is None:
        return "—"
    return f"{row.median / best.median:.2f}×"


def _target_status(case: Case, rows: Sequence[Row]) -> str:
    mine = _qcore(rows, case.key)
    if mine is None:
        return "not measured"
    if mine.qubits != case.qubits:
        return f"not judged (set for {case.qubits} qubits)"
    if case.workload == "gradient":
        energy = _qcore(rows, case.key.replace("gradient", "energy"))
        if energy is None:
            return "no energy row"
        ratio = mine.median / energy.median
        return f"{'met' if ratio <= 3.0 else 'missed'} ({ratio:.2f} × energy)"
    if case.target_s is None:
        return "—"
    verdict = "met" if mine.median <= case.target_s else "missed"
    return f"{verdict} ({_fmt(mine.median)} vs {case.target})"


def print_table(rows: Sequence[Row], cases: Sequence[Case]) -> None:
    """The results as a rich table (plain text when rich is missing)."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency of the SDK
        for r in rows:
            print(r.case, r.backend, r.spread())
        return
    table = Table(title="qcore simulator benchmarks (median, min–max)")
    for column in ("case", "qubits", "backend", "time", "÷ best peer", "check", "target"):
        table.add_column(column)
    for case in cases:
        best = _best_peer(rows, case.key)
        for r in (r for r in rows if r.case == case.key):
            check = "" if r.check is None else f"{r.check:.6g}"
            target = _target_status(case, rows) if r.backend.startswith("qcore") else ""
            table.add_row(case.key, str(r.qubits), _NAMES.get(r.backend, r.backend),
                          r.spread(), _ratio(r, best), check, target)
    Console(width=170).print(table)


def _gate_count(case: Case, qubits: int) -> int:
    if case.workload == "layered":
        return len(workloads.layered(qubits))
    if case.workload == "qft":
        return len(workloads.qft(qubits))
    return len(workloads.hea(qubits)[0])


def _fused_passes(case: Case, qubits: int) -> int | None:
    """Passes of qcore's fusion plan for the case's circuit; None where the case is not a
    state-vector run or the simulator's fusion planner is not importable in this form (the
    report then omits the per-pass row rather than failing)."""
    if case.workload not in ("layered", "qft"):
        return None
    try:
        from quantum_service.circuits.gates import gate_matrix
        from quantum_service.simulator.fusion import fuse

        gates = (workloads.layered(qubits) if case.workload == "layered"
                 else workloads.qft(qubits))
        return len(fuse(qubits, [(q, gate_matrix(g, a)) for g, q, a in gates]).steps)
    except (ImportError, AttributeError, TypeError):  # the engine's planner changed shape
        return None


@dataclass(frozen=True, slots=True)
class _Bound:
    case: str
    backend: str
    units: str  # "1180" gates or "740 passes"
    count: int
    qubits: int
    median: float
    bound_s: float

    @property
    def fraction(self) -> float:
        return self.bound_s / self.median


def _bounds(rows: Sequence[Row], cases: Sequence[Case], triad_gb_s: float) -> list[_Bound]:
    """Bandwidth bounds: one read and one write of the state (32 bytes per complex128
    amplitude) per gate, or per fused pass, at the triad bandwidth."""
    out: list[_Bound] = []
    for case in cases:
        if case.workload not in ("layered", "qft"):
            continue
        for r in (r for r in rows if r.case == case.key and r.ok):
            gates = _gate_count(case, r.qubits)
            out.append(_Bound(case.key, _NAMES.get(r.backend, r.backend), str(gates), gates,
                              r.qubits, r.median,
                              gates * 32 * (1 << r.qubits) / (triad_gb_s * 1e9)))
        mine = _qcore(rows, case.key)
        passes = _fused_passes(case, mine.qubits) if mine else None
        if mine and passes:
            out.append(_Bound(case.key, "qcore, per fused pass", f"{passes} passes", passes,
                              mine.qubits, mine.median,
                              passes * 32 * (1 << mine.qubits) / (triad_gb_s * 1e9)))
    return out


def _device_independent(bounds: Sequence[_Bound]) -> list[str]:
    lines = [("| case | backend | gates | ns / amplitude / gate | bandwidth-bound time "
              "| fraction of bound |"), "|---|---|---|---|---|---|"]
    for b in bounds:
        lines.append(f"| {b.case} | {b.backend} | {b.units} | "
                     f"{b.median / (b.count * (1 << b.qubits)) * 1e9:.3f} | "
                     f"{_fmt(b.bound_s)} | {b.fraction:.2f} |")
    return lines


def _references(case: Case) -> str:
    figures = [f"{_NAMES.get(b, b)} {_fmt(t)}" for b, t in case.references]
    return ", ".join([*figures, *([case.reference_note] if case.reference_note else [])]) or "—"


def _target_miss(case: Case, rows: Sequence[Row]) -> tuple[bool, str] | None:
    """``(met, sentence)`` for a case with a target; None without one or without a row."""
    mine = _qcore(rows, case.key)
    if mine is None or mine.qubits != case.qubits:  # targets hold at the full size only
        return None
    if case.workload == "gradient":
        energy = _qcore(rows, case.key.replace("gradient", "energy"))
        if energy is None:
            return None
        ratio = mine.median / energy.median
        if ratio <= 3.0:
            return True, f"{case.key} ({ratio:.2f} energy evaluations, target ≤ 3)"
        return False, (f"{case.key} by {ratio / 3.0:.2f}× ({ratio:.2f} energy evaluations, "
                       "target ≤ 3)")
    if case.target_s is None:
        return None
    if mine.median <= case.target_s:
        return True, f"{case.key} ({_fmt(mine.median)}, target {case.target})"
    return False, (f"{case.key} by {mine.median / case.target_s:.2f}× ({_fmt(mine.median)}, "
                   f"target {case.target})")


def kernel_reading(rows: Sequence[Row], cases: Sequence[Case], bounds: Sequence[_Bound], *,
                   threads: int) -> list[str]:
    """Sentences about the kernel rows, each derived from the measured rows."""
    out: list[str] = []
    ratios = []
    for case in cases:
        mine, best = _qcore(rows, case.key), _best_peer(rows, case.key)
        if mine is not None and best is not None:
            ratios.append((case.key, mine.median / best.median, _NAMES.get(best.backend)))
    if ratios:
        listed = ", ".join(f"{r:.2f}× the best peer on {k}" for k, r, _ in ratios)
        slower = [(k, r, b) for k, r, b in ratios if r > 1.0]
        if not slower:
            out.append(f"qcore is the fastest backend on every kernel row with peers: {listed}.")
        else:
            out.append(f"qcore is the fastest backend on {len(ratios) - len(slower)} of "
                       f"{len(ratios)} kernel rows with peers ({listed}); slower on "
                       + ", ".join(f"{k} ({r:.2f}× {b})" for k, r, b in slower) + ".")
    judged = [j for c in cases if (j := _target_miss(c, rows)) is not None]
    met = [text for ok, text in judged if ok]
    missed = [text for ok, text in judged if not ok]
    if judged:
        out.append(f"Kernel targets met: {', '.join(met) if met else 'none'}; missed: "
                   f"{', '.join(missed) if missed else 'none'}.")
    drift = []
    for case in cases:
        for backend, ref in case.references:
            row = next((r for r in rows if r.case == case.key and r.backend == backend
                        and r.ok), None)
            if row is not None and row.qubits == case.qubits:
                text = f"{_NAMES.get(backend)} {case.key} {_fmt(row.median)} vs {_fmt(ref)}"
                drift.append((row.median / ref, text))
    if drift:
        low, high = min(f for f, _ in drift), max(f for f, _ in drift)
        out.append("The absolute targets were set from peer timings on another machine of "
                   f"this kind; in this run those peers took {low:.2f}–{high:.2f}× their "
                   f"reference times ({'; '.join(text for _, text in drift)}).")
    for b in bounds:
        if b.backend == "qcore, per fused pass" and b.fraction >= 0.8:
            out.append(f"{b.case}: qcore's {b.units} run at {b.fraction:.2f} of the "
                       "memory-bandwidth bound, so this row is limited by memory traffic: "
                       "fewer passes, not faster ones, would shorten it.")
    for case in cases:
        if case.workload != "session":
            continue
        mine = _qcore(rows, case.key)
        local = next((r for r in rows if r.backend == "qcore" and r.ok and r.qubits ==
                      (mine.qubits if mine else -1) and r.case.startswith("vqe")), None)
        if mine is not None and local is not None:
            gap = mine.median - local.median
            effect = (f"the service path adds {_fmt(gap)} per set" if gap >= 0 else
                      f"the service path costs {_fmt(-gap)} less per set than the in-process "
                      "step")
            out.append(f"{case.key}: {_fmt(mine.median)} per set through the gRPC session vs "
                       f"{_fmt(local.median)} in-process ({local.case}): {effect}.")
    loads: dict[str, list[float]] = {}
    for r in rows:
        if r.ok and r.load_1min is not None:
            loads.setdefault(r.case, []).append(r.load_1min)
    loaded = [f"{case} (up to {max(values):.1f})" for case, values in loads.items()
              if max(values) > threads + 1]
    if loaded:
        out.append(f"Rows during which the 1-minute load average rose above {threads + 1} "
                   f"(other work on the machine): {', '.join(loaded)}.")
    if judged == [] and any(_qcore(rows, c.key) is not None for c in cases):
        out.append("No kernel target was judged: they hold at the full sizes, and this run "
                   "measured smaller ones.")
    return out


def kernel_lines(rows: Sequence[Row], cases: Sequence[Case], *, bandwidth: dict[str, float],
                 repeat: int, threads: int, wait_policy: str) -> list[str]:
    """The kernel section of the report (diagnosis: what the engines cost without the
    service), generated from the rows."""
    out = [
        "## Diagnosis: simulator kernels (in-process, no service)",
        "",
        ("What the engines cost alone, below the user path: each backend's kernels called "
         f"in-process on prepared circuits. Medians of up to {repeat} timed runs after a "
         f"10-qubit warm-up, min–max in brackets; {threads} threads for every backend "
         "(`OMP_NUM_THREADS`, `NUMBA_NUM_THREADS`, Aer `max_parallel_threads`, pyqpanda3 "
         f"`used_threads`) and `OMP_WAIT_POLICY={wait_policy}`; each backend in a process of "
         "its own. Ratios are to the fastest peer on the same row, measured in the same run."),
        "",
        "| case | qubits | backend | median (min–max, runs) | ÷ best peer | check | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        best = _best_peer(rows, case.key)
        for r in (r for r in rows if r.case == case.key):
            check = "" if r.check is None else f"{r.check:.6g}"
            target = _target_status(case, rows) if r.backend.startswith("qcore") else ""
            out.append(f"| {case.title} | {r.qubits} | {_NAMES.get(r.backend, r.backend)} | "
                       f"{r.spread()} | {_ratio(r, best)} | {check} | {target} |")
    out += ["", ("`check` is a backend-independent number from each result (state vectors: "
                 "`|ψ₁|² + 2|ψ₃|²`; energies: ⟨H⟩; gradients: ‖∇E‖); equal values mean every "
                 "backend ran the same circuit. VQE and session rows are times per parameter "
                 "set."),
            "", ("Targets and the peers' figures they were set from (another machine of this "
                 "kind):"), ""]
    out += [f"* {c.key}: target {c.target}; {_references(c)}" for c in cases]
    bounds = _bounds(rows, cases, bandwidth["triad_gb_s"])
    out += ["", "### Device-independent figures", "",
            ("The bandwidth bound of a gate is one read and one write of the state "
             "(32 bytes per complex128 amplitude) at the triad bandwidth; qcore's fused "
             "passes are bound the same way."), ""]
    out += _device_independent(bounds)
    aer_energy = next((r for r in rows if r.backend == "aer" and r.case.startswith("energy")
                       and r.ok), None)
    if aer_energy is not None:
        count = workloads.hea(aer_energy.qubits)[1]
        out += ["", (f"Aer has no adjoint gradient; parameter shift needs 2P = {2 * count} "
                     f"energy evaluations, about {_fmt(2 * count * aer_energy.median)} at this "
                     "row's energy time (estimated, not run).")]
    reading = kernel_reading(rows, cases, bounds, threads=threads)
    if reading:
        out += ["", "### Reading the kernel rows", "", *[f"* {s}" for s in reading]]
    return out
