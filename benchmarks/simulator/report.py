"""The benchmark table (rich, on the terminal) and the Markdown report."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.simulator import workloads
from benchmarks.simulator.cases import Case

__all__ = ["Row", "print_table", "write_report"]

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

    @classmethod
    def from_result(cls, case: Case, qubits: int, result: dict[str, object]) -> Row:
        row = cls(case.key, str(result.get("backend", "?")), qubits,
                  [float(t) for t in result.get("times", [])],  # type: ignore[union-attr]
                  result.get("check"), str(result.get("version", "")))  # type: ignore[arg-type]
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


def _fmt(seconds: float) -> str:
    if math.isnan(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


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
    if case.workload not in ("layered", "qft"):
        return None
    from quantum_service.circuits.gates import gate_matrix
    from quantum_service.simulator.fusion import fuse

    gates = workloads.layered(qubits) if case.workload == "layered" else workloads.qft(qubits)
    return len(fuse(qubits, [(q, gate_matrix(g, a)) for g, q, a in gates]).steps)


def _device_independent(rows: Sequence[Row], cases: Sequence[Case],
                        triad_gb_s: float) -> list[str]:
    lines = [("| case | backend | gates | ns / amplitude / gate | bandwidth-bound time "
             "| fraction of bound |"), "|---|---|---|---|---|---|"]
    for case in cases:
        if case.workload not in ("layered", "qft"):
            continue
        for r in (r for r in rows if r.case == case.key and r.ok):
            gates = _gate_count(case, r.qubits)
            amplitudes = 1 << r.qubits
            bound = gates * 32 * amplitudes / (triad_gb_s * 1e9)  # read + write complex128
            lines.append(f"| {case.key} | {_NAMES.get(r.backend, r.backend)} | {gates} | "
                         f"{r.median / (gates * amplitudes) * 1e9:.3f} | {_fmt(bound)} | "
                         f"{bound / r.median:.2f} |")
        mine = _qcore(rows, case.key)
        passes = _fused_passes(case, mine.qubits) if mine else None
        if mine and passes:
            amplitudes = 1 << mine.qubits
            bound = passes * 32 * amplitudes / (triad_gb_s * 1e9)
            lines.append(f"| {case.key} | qcore, per fused pass | {passes} passes | "
                         f"{mine.median / (passes * amplitudes) * 1e9:.3f} | {_fmt(bound)} | "
                         f"{bound / mine.median:.2f} |")
    return lines


def write_report(path: Path, rows: Sequence[Row], cases: Sequence[Case], *,
                 info: dict[str, object], bandwidth: dict[str, float], quick: bool,
                 repeat: int, threads: int, wait_policy: str, load: tuple[tuple[float, ...], tuple[float, ...]],
                 wall_s: float) -> None:
    """Writes the Markdown report to ``path`` (parents created)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# qcore simulator benchmarks",
        "",
        (f"Generated by `python -m benchmarks.run{' --quick' if quick else ''}` on {now} "
        f"({wall_s / 60:.1f} min). Medians of up to {repeat} timed runs after a 10-qubit "
        f"warm-up, min–max in brackets; {threads} threads for every backend "
        "(`OMP_NUM_THREADS`, `NUMBA_NUM_THREADS`, Aer `max_parallel_threads`, pyqpanda3 "
        f"`used_threads`) and `OMP_WAIT_POLICY={wait_policy}`; each backend in a process of its "
        "own. Ratios are to the fastest "
        "peer on the same row, measured in the same run."),
        "",
        "## Machine",
        "",
        (f"* CPU: {info['cpu']}, {info['cores']} cores; memory {info['memory_gib']} GiB; "
        f"{info['os']}"),
        (f"* load average (1/5/15 min) before: {', '.join(f'{v:.2f}' for v in load[0])}; "
        f"after: {', '.join(f'{v:.2f}' for v in load[1])} — the machine is shared, so "
        "timings carry other users' load"),
        (f"* memory bandwidth (STREAM-style, 256 MiB arrays): copy "
        f"{bandwidth['copy_gb_s']:.1f} GB/s (NumPy, 1 thread), triad "
        f"{bandwidth['triad_gb_s']:.1f} GB/s (numba, {info['numba_threads']} threads)"),
        (f"* Python {info['python']}, NumPy {info['numpy']}, numba {info['numba']} "
        f"(threading layer {info['numba_threading_layer']}), grpcio {info['grpcio']}"),
        (f"* peers: qulacs {info['qulacs']}, qiskit-aer {info['qiskit-aer']} (qiskit "
        f"{info['qiskit']}), pyqpanda3 {info['pyqpanda3']}"),
        "",
        "## Results",
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
            "backend ran the same circuit. VQE and session rows are times per parameter set."),
            "", ("Targets and the peers' figures they were set from (another machine of this "
            "kind):"), ""]
    out += [f"* {c.key}: target {c.target}; {c.peers_reference}" for c in cases]
    out += ["", "## Device-independent figures", "",
            ("The bandwidth bound of a gate is one read and one write of the state "
            "(32 bytes per complex128 amplitude) at the triad bandwidth; qcore's fused "
            "passes are bound the same way."), ""]
    out += _device_independent(rows, cases, bandwidth["triad_gb_s"])
    aer_energy = next((r for r in rows if r.backend == "aer" and r.case.startswith("energy")
                       and r.ok), None)
    if aer_energy is not None:
        count = workloads.hea(aer_energy.qubits)[1]
        out += ["", (f"Aer has no adjoint gradient; parameter shift needs 2P = {2 * count} "
                f"energy evaluations, about {_fmt(2 * count * aer_energy.median)} at this "
                "row's energy time (estimated, not run).")]
    out.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out), encoding="utf-8")
