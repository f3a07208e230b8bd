"""Every committed report is what its generator writes.

Each generator of ``make bench`` runs on a tiny configuration into a temporary file; its report
must have the committed report's skeleton — the same title, section headings and table columns,
in the same order, numbers aside (a tiny run has other sizes) — so a section written or edited
by hand in a committed report, or a section the generator no longer writes, fails here. Every
table cell of the tiny report must be filled from the run: no ``nan``, no ``None``, no
unformatted ``{placeholder}``.

The generator runs are slow (minutes each): ``make test-slow``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: ``(committed report, generator module, tiny configuration, modules it needs)``.
GENERATORS = [
    ("SCHEDULING_REPORT.md", "benchmarks.scheduling", ["--repeats", "1"], []),
    ("NOISY_REPORT.md", "benchmarks.noisy",
     ["--quick", "--widths", "12", "--ghz-qubits", "26", "--agreement-shots", "2000"],
     ["qiskit_aer"]),
    ("NOISY_20_REPORT.md", "benchmarks.noisy",
     ["--quick", "--widths", "12", "--shots", "20", "--circuits", "layered", "--jobs-only"],
     ["qiskit_aer"]),
    ("MPS_REPORT.md", "benchmarks.mps", ["--quick"], []),
    ("WIDE_REPORT.md", "benchmarks.wide_noisy",
     ["--quick", "--layers", "1", "--noisy-max-bond", "8"], ["qiskit_aer"]),
    ("RELIABILITY_REPORT.md", "benchmarks.reliability", ["--quick"], []),
    ("DASK_REPORT.md", "benchmarks.dask_scaling", ["--quick"], ["distributed"]),
    ("CALIBRATION_REPORT.md", "benchmarks.calibration_drift",
     ["--seeds", "1", "--hours", "1", "--jobs", "1"], []),
    ("QTHA_REPORT.md", "benchmarks.qtha_finetune", ["--quick"], ["torch", "transformers"]),
    ("MITIGATION_REPORT.md", "benchmarks.mitigation", ["--seeds", "2", "--shots", "2000"], []),
    ("REPORT.md", "benchmarks.run", ["--quick", "--repeat", "1"], ["qiskit_aer"]),
]

_NUMBER = re.compile(r"[-+−]?(?:\d+(?:[.,]\d+)*(?:e[-+]?\d+)?|\.\d+)", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
_UNFILLED = re.compile(r"\bnan\b|\bNone\b|\{[a-z_][a-z_0-9.]*(?:[!:][^}]*)?\}")


def _mask(line: str) -> str:
    return _NUMBER.sub("#", line.strip())


def skeleton(text: str) -> list[str]:
    """The title and headings (``#`` lines) and the header row of every table, in order, with
    every number replaced by ``#``."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("#"):
            out.append(_mask(line))
        elif line.startswith("|") and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
            out.append(_mask(line))
    return out


def table_cells(text: str) -> list[tuple[int, str]]:
    """``(line number, cell)`` of every table body cell (header and separator rows left out)."""
    lines = text.splitlines()
    cells = []
    for i, line in enumerate(lines):
        if not line.startswith("|") or _SEPARATOR.match(line):
            continue
        if i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
            continue  # header row
        cells += [(i + 1, cell.strip()) for cell in line.strip().strip("|").split("|")]
    return cells


def test_skeleton_masks_numbers_and_keeps_order() -> None:
    text = ("# Report — 24 hours\n\nprose 1.5 s\n\n## Section, 1000 shots\n\n| a | b 2 |\n"
            "|---|---|\n| 1 | 2 |\n\n### Sub\n")
    assert skeleton(text) == ["# Report — # hours", "## Section, # shots", "| a | b # |",
                              "### Sub"]
    assert skeleton(text) == skeleton(text.replace("1000", "100").replace("24", "1"))
    assert skeleton(text) != skeleton(text.replace("## Section", "## Hand-written section"))
    assert table_cells(text) == [(9, "1"), (9, "2")]
    assert _UNFILLED.search("| {speedup:.2f} |") and _UNFILLED.search("| nan |")
    assert not _UNFILLED.search("| 1.2e-3 | Nonetheless | {1, 2} |")


@pytest.mark.slow
@pytest.mark.parametrize(("report", "module", "tiny", "needs"), GENERATORS,
                         ids=[g[0] for g in GENERATORS])
def test_a_tiny_run_writes_the_committed_reports_sections(
        tmp_path: Path, report: str, module: str, tiny: list[str], needs: list[str]) -> None:
    for name in needs:
        pytest.importorskip(name)
    committed = (ROOT / "benchmarks" / report).read_text(encoding="utf-8")
    out = tmp_path / report
    run = subprocess.run([sys.executable, "-m", module, *tiny, "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-4000:]
    generated = out.read_text(encoding="utf-8")
    assert skeleton(generated) == skeleton(committed), (
        f"benchmarks/{report} does not have the sections `python -m {module}` writes: "
        "regenerate it with the script instead of editing it")
    cells = table_cells(generated)
    assert cells, f"{module} wrote no table"
    filled = [(line, cell) for line, cell in cells if _UNFILLED.search(cell)]
    assert not filled, f"{module} left cells unfilled: {filled[:5]}"
