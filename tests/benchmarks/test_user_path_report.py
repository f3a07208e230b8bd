"""The report generator states met and missed targets correctly (synthetic rows, no timing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from benchmarks.page import write_report, write_rows
from benchmarks.simulator.cases import Case
from benchmarks.simulator.report import Row, kernel_reading
from benchmarks.user_path.report import (
    accept_verdict,
    best_peer,
    parse_verdicts,
    path_verdict,
    summary_lines,
    user_path_lines,
)
from benchmarks.user_path.results import AcceptRow, ParseRow, PathRow, UserPathResults


def _row(case: str, backend: str, *times: float, **fields) -> PathRow:
    return PathRow(times=list(times), case=case, backend=backend, **fields)


def _results(rows: list[PathRow], **fields) -> UserPathResults:
    keys = sorted({r.case for r in rows})
    return UserPathResults(titles={k: f"case {k}" for k in keys},
                           kinds={k: "expectation" for k in keys}, rows=rows, repeat=3,
                           threads=2, **fields)


def test_slower_than_the_peer_states_the_factor_needed() -> None:
    sentence = path_verdict("QFT", _row("q", "qcore", 1.0, 0.9, 1.1),
                            _row("q", "qulacs", 0.5, 0.4, 0.6))
    assert "qcore ÷ best peer = 2.00" in sentence
    assert "missed by 2.80×" in sentence  # 2.00 / (1 / 1.4)
    assert "2.00× slower than qulacs" in sentence
    assert "met" not in sentence.replace("must become", "")


def test_faster_but_short_of_the_margin_is_a_miss() -> None:
    sentence = path_verdict("QV", _row("v", "qcore", 0.4), _row("v", "aer", 0.5))
    assert "= 0.80" in sentence
    assert "missed by 1.12×" in sentence
    assert "1.25× faster than Qiskit Aer, short of 1.4×" in sentence


def test_margin_met() -> None:
    sentence = path_verdict("deep", _row("d", "qcore", 0.3), _row("d", "qulacs", 0.5))
    assert "target ≤ 0.71 met (qcore 1.67× faster)" in sentence
    assert "missed" not in sentence


def test_failed_qcore_row_is_never_a_pass() -> None:
    sentence = path_verdict("energy", _row("e", "qcore", error="failed: DEADLINE_EXCEEDED"),
                            _row("e", "aer", 0.1))
    assert "not measured" in sentence and "DEADLINE_EXCEEDED" in sentence
    assert "not met" in sentence


def test_best_peer_is_the_fastest_median_not_the_fastest_run() -> None:
    results = _results([_row("c", "qcore", 1.0), _row("c", "aer", 0.1, 0.9, 0.9),
                        _row("c", "qulacs", 0.5, 0.5, 0.5)])
    best = best_peer(results, "c")
    assert best is not None and best.backend == "qulacs"


def test_parse_verdicts_per_size() -> None:
    rows = [ParseRow(times=[3.0], backend="qcore", requested=10_000, size=10_500, gates=400),
            ParseRow(times=[1.0], backend="aer", requested=10_000, size=10_500, gates=400),
            ParseRow(times=[0.5], backend="qcore", requested=100_000, size=101_000),
            ParseRow(times=[1.0], backend="aer", requested=100_000, size=101_000),
            ParseRow(backend="qcore", requested=3_000_000, error="failed: timed out after 900 s"),
            ParseRow(times=[2.0], backend="aer", requested=3_000_000, size=3_001_000)]
    small, medium, large = parse_verdicts(rows)
    assert small.startswith("parse 10 kB") and "missed by 3.00×" in small
    assert "3.00× faster" in small
    assert medium.startswith("parse 101 kB") and "met" in medium and "missed" not in medium
    assert large.startswith("parse 3.00 MB") and "timed out after 900 s" in large
    assert "not met" in large


def test_accept_verdict_counts_runs_and_seconds_over() -> None:
    missed = accept_verdict(AcceptRow(size=3_000_000, gates=110_000,
                                      accept_times=[12.5, 9.0, 11.0],
                                      result_times=[13.0, 9.5, 11.5]))
    assert "missed in 2 of 3 runs, by 2.5 s in the slowest (1.25× the target)" in missed
    met = accept_verdict(AcceptRow(size=3_000_000, gates=110_000, accept_times=[2.0, 3.0, 2.5],
                                   result_times=[4.0, 5.0, 4.5]))
    assert "met in every run" in met and "missed" not in met
    assert "not run" in accept_verdict(None)


def test_summary_counts_rows_that_meet_their_target() -> None:
    results = _results([_row("a", "qcore", 0.1), _row("a", "aer", 1.0),
                        _row("b", "qcore", 1.0), _row("b", "qulacs", 1.0)],
                       accept=AcceptRow(size=3_000_000, accept_times=[20.0],
                                        result_times=[21.0]))
    text = "\n".join(summary_lines(results))
    assert "1 of 2 user-path rows meet their target" in text
    assert "the parse table was not run" in text
    assert "the large program misses its target" in text
    assert "case b: qcore 1.00 s vs qulacs 1.00 s" in text and "missed by 1.40×" in text


def test_section_renders_notes_and_breakdown() -> None:
    results = _results([
        _row("a", "qcore", 0.2, 0.3, 0.25, checks=[1.0, 2.0, 3.0],
             parts={"submit": [0.1, 0.2, 0.15], "running": [0.05, 0.05, 0.05]}),
        _row("a", "qulacs", 0.1, 0.1, 0.1, checks=[1.0, 2.0, 3.0 + 1e-12],
             note="qulacs.converter cannot read this program"),
    ])
    text = "\n".join(user_path_lines(results))
    assert "| case a | qcore | 250.0 ms (200.0 ms–300.0 ms, 3) | 2.50× |" in text
    assert "| submit 150.0 ms · running 50.0 ms | 250.0 ms |" in text
    assert "qulacs on case a: qulacs.converter cannot read this program" in text
    assert "expectation values differ by at most 1.0e-12" in text
    assert "qcore's largest part per row: case a: submit (60 %)" in text


def test_kernel_reading_states_misses_by_factor() -> None:
    case = Case("layered20", "layered", "layered", 20, 12, "≤ 0.5 s", 0.5,
                (("qulacs", 1.0),))
    rows = [Row("layered20", "qcore", 20, [0.8, 0.7, 0.9]),
            Row("layered20", "qulacs", 20, [2.0, 2.1, 1.9], load_1min=5.0)]
    reading = kernel_reading(rows, [case], [], threads=2)
    assert any("missed: layered20 by 1.60×" in s for s in reading)
    assert any("0.40× the best peer on layered20" in s for s in reading)
    assert any("those peers took 2.00–2.00× their reference times" in s for s in reading)
    assert any("layered20 (up to 5.0)" in s for s in reading)


def test_page_puts_the_user_path_first_and_keeps_no_stale_prose(tmp_path) -> None:
    path = tmp_path / "REPORT.md"
    path.write_text("## Reading this run\n* hand-written\n", encoding="utf-8")
    results = _results([_row("a", "qcore", 0.1), _row("a", "aer", 1.0)])
    info = {k: "x" for k in ("cpu", "cores", "memory_gib", "os", "python", "numpy", "numba",
                             "numba_threads", "numba_threading_layer", "grpcio", "qulacs",
                             "qiskit-aer", "qiskit", "pyqpanda3")}
    case = Case("layered20", "layered", "layered", 20, 12, "≤ 0.5 s", 0.5)
    write_report(path, command="python -m benchmarks.run", user=results,
                 kernel_rows=[Row("layered20", "qcore", 12, [0.1])], cases=[case], info=info,
                 bandwidth={"copy_gb_s": 10.0, "triad_gb_s": 20.0}, repeat=3, threads=2,
                 wait_policy="PASSIVE", load=((0.5, 0.5, 0.5), (0.6, 0.5, 0.5)), wall_s=60.0,
                 now=datetime(2026, 1, 1, tzinfo=UTC))
    text = path.read_text(encoding="utf-8")
    assert "hand-written" not in text
    assert text.index("## User path") < text.index("## Diagnosis: simulator kernels")
    assert "1 of 1 user-path rows meet their target" in text
    assert "Generated by `python -m benchmarks.run` on 2026-01-01 00:00 UTC" in text


@pytest.mark.parametrize("ratio, met", [(0.71, True), (0.72, False)])
def test_ratio_target_boundary(ratio: float, met: bool) -> None:
    sentence = path_verdict("x", _row("x", "qcore", ratio), _row("x", "aer", 1.0))
    assert ("met (" in sentence) is met


def test_rows_are_written_as_json(tmp_path) -> None:
    results = _results([_row("a", "qcore", 0.1, 0.2, 0.3)])
    path = tmp_path / "REPORT.json"
    write_rows(path, command="python -m benchmarks.run", user=results,
               kernel_rows=[Row("layered20", "qcore", 12, [0.1])])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["user_path"]["rows"][0]["times"] == [0.1, 0.2, 0.3]
    assert data["kernels"][0]["case"] == "layered20"


def test_quick_runs_say_their_verdicts_are_not_the_targets_judgement() -> None:
    results = _results([_row("a", "qcore", 0.1), _row("a", "aer", 1.0)], quick=True)
    assert "This is a `--quick` run" in "\n".join(summary_lines(results))
    assert "--quick" not in "\n".join(summary_lines(_results([_row("a", "qcore", 0.1)])))


def test_session_gap_sentence_has_the_right_sign() -> None:
    session = Case("session12", "session", "session", 12, 8, "≤ 2.3 ms", 2.3e-3)
    vqe = Case("vqe12", "vqe", "vqe", 12, 8, "—", None)
    rows = [Row("vqe12", "qcore", 12, [2.0e-3]), Row("session12", "qcore-session", 12, [1.0e-3])]
    text = " ".join(kernel_reading(rows, [vqe, session], [], threads=2))
    assert "costs 1.0 ms less per set than the in-process step" in text
    rows[1] = Row("session12", "qcore-session", 12, [5.0e-3])
    text = " ".join(kernel_reading(rows, [vqe, session], [], threads=2))
    assert "the service path adds 3.0 ms per set" in text
    assert "missed: session12 by 2.17×" in text
