"""``python -m benchmarks.run``: qcore's simulator and hybrid path against qulacs, Qiskit Aer
and pyqpanda3, on the workloads of :mod:`benchmarks.simulator.cases`.

Every (backend, case) runs in a subprocess (:mod:`benchmarks.simulator.worker`) with the same
thread count (``--threads``, default 2: ``OMP_NUM_THREADS`` and ``NUMBA_NUM_THREADS``); a peer
that fails to import is reported and skipped. Prints a table of medians (min–max) with ratios
to the best peer and writes a Markdown report (machine, versions, load average, bandwidth,
device-independent figures).

Options: ``--quick`` (small sizes, a smoke test of a minute or two), ``--repeat N`` (default 5),
``--only KEY,...`` (case keys), ``--backends NAME,...``, ``--out PATH``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.simulator.cases import CASES, Case
from benchmarks.simulator.report import Row, print_table, write_report

PEERS = ("qulacs", "aer", "pyqpanda3")
_ROOT = Path(__file__).resolve().parent.parent


def _worker(backend: str, case: Case, qubits: int, *, repeat: int, threads: int,
            budget_s: float, timeout_s: float, wait_policy: str) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.simulator.worker", backend, case.workload,
               "--qubits", str(qubits), "--repeat", str(repeat), "--budget-s", str(budget_s)]
    if case.key.endswith("x100"):
        command += ["--per-message", "100"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY=wait_policy,
               PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=_ROOT,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return {"backend": backend, "error": f"timed out after {timeout_s:.0f} s"}
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"backend": backend, "error": f"exit {done.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1])


def _backends_for(case: Case, selected: list[str]) -> list[str]:
    if case.workload == "session":
        return ["qcore-session"] if "qcore" in selected else []
    return [b for b in ("qcore", *PEERS) if b in selected]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="qcore simulator benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--omp-wait-policy", default="PASSIVE", choices=["PASSIVE", "ACTIVE"],
                        help="OMP_WAIT_POLICY for every backend (PASSIVE suits a shared "
                             "machine; qcore's service sets it too)")
    parser.add_argument("--only", default="", help="comma-separated case keys")
    parser.add_argument("--backends", default="qcore," + ",".join(PEERS))
    parser.add_argument("--budget-s", type=float, default=100.0,
                        help="time budget per (backend, case); fewer runs past it")
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default benchmarks/REPORT.md; --quick: "
                             "out/bench-quick.md)")
    args = parser.parse_args(argv)
    selected = [b.strip() for b in args.backends.split(",") if b.strip()]
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    cases = [c for c in CASES if not only or c.key in only]
    out = args.out or (_ROOT / ("out/bench-quick.md" if args.quick else "benchmarks/REPORT.md"))

    from benchmarks.simulator.machine import bandwidth, machine_info

    started = time.time()
    load_before = os.getloadavg()
    info = machine_info()
    bw = bandwidth()
    print(f"bandwidth: copy {bw['copy_gb_s']:.1f} GB/s (1 thread), triad "
          f"{bw['triad_gb_s']:.1f} GB/s ({info['numba_threads']} threads); "
          f"load {load_before[0]:.2f}", flush=True)
    rows: list[Row] = []
    for case in cases:
        qubits = case.quick_qubits if args.quick else case.qubits
        for backend in _backends_for(case, selected):
            print(f"  {case.key:<14} {backend:<14} {qubits} qubits ...", end=" ", flush=True)
            result = _worker(backend, case, qubits, repeat=args.repeat, threads=args.threads,
                             budget_s=args.budget_s, timeout_s=max(600.0, 4 * args.budget_s),
                             wait_policy=args.omp_wait_policy)
            row = Row.from_result(case, qubits, result)
            print(row.summary(), flush=True)
            rows.append(row)
    load_after = os.getloadavg()
    print_table(rows, cases)
    write_report(out, rows, cases, info=info, bandwidth=bw, quick=args.quick,
                 repeat=args.repeat, threads=args.threads, wait_policy=args.omp_wait_policy,
                 load=(load_before, load_after), wall_s=time.time() - started)
    print(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
