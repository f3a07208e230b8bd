"""``python -m benchmarks.run``: qcore's user path and simulator kernels against the peers;
writes ``benchmarks/REPORT.md``.

Two parts, in one run:

* **user path** (:mod:`benchmarks.user_path`), the report's headline: the same OpenQASM 2 text
  submitted to a running qcore quantum service over gRPC with the Python SDK, against Qiskit Aer
  (``qiskit.qasm2.loads`` + ``AerSimulator().run``) and qulacs (its QASM converter + simulate
  + sample), parse included; plus parse time alone and a 3 MB submission.
* **kernels** (:mod:`benchmarks.simulator`), the diagnosis: every (backend, case) in a
  subprocess (:mod:`benchmarks.simulator.worker`) calling the simulators in-process, against
  qulacs, Qiskit Aer and pyqpanda3; a peer that fails to import is reported and skipped.

Every backend runs with the same thread count (``--threads``, default 2: ``OMP_NUM_THREADS``
and ``NUMBA_NUM_THREADS``). Options: ``--quick`` (small sizes and 3 runs per row: a smoke
test of a few minutes, written to ``out/bench-quick.md``), ``--repeat N`` (default 5),
``--parts user,kernels``, ``--only KEY,...`` (case keys of either part; ``parse`` and
``accept`` name the user path's two extra tables), ``--backends NAME,...``, ``--out PATH``
(the measured rows go beside it as JSON, same name, ``.json``).
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
from benchmarks.simulator.report import Row, print_table

PEERS = ("qulacs", "aer", "pyqpanda3")
_ROOT = Path(__file__).resolve().parent.parent
_USER_EXTRA = ("parse", "accept")


def _worker(backend: str, case: Case, qubits: int, *, repeat: int, threads: int,
            budget_s: float, timeout_s: float, wait_policy: str) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.simulator.worker", backend, case.workload,
               "--qubits", str(qubits), "--repeat", str(repeat), "--budget-s", str(budget_s)]
    if case.key.endswith("x100"):
        command += ["--per-message", "100"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY=wait_policy,
               PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), str(_ROOT / "protos"),
                                                        str(_ROOT / "clients" / "python"),
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


def _kernels(cases: list[Case], selected: list[str], args: argparse.Namespace,
             repeat: int) -> list[Row]:
    rows: list[Row] = []
    for case in cases:
        qubits = case.quick_qubits if args.quick else case.qubits
        for backend in _backends_for(case, selected):
            print(f"  {case.key:<14} {backend:<14} {qubits} qubits ...", end=" ", flush=True)
            result = _worker(backend, case, qubits, repeat=repeat, threads=args.threads,
                             budget_s=args.budget_s, timeout_s=max(600.0, 4 * args.budget_s),
                             wait_policy=args.omp_wait_policy)
            row = Row.from_result(case, qubits, result)
            print(row.summary(), flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="qcore benchmarks: user path and kernels")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, 3 runs per row (smoke test)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed runs per row (median; default 5, --quick 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--omp-wait-policy", default="PASSIVE", choices=["PASSIVE", "ACTIVE"],
                        help="OMP_WAIT_POLICY for every backend (PASSIVE suits a shared "
                             "machine; qcore's service sets it too)")
    parser.add_argument("--parts", default="user,kernels",
                        help="comma-separated: user (the user path), kernels (diagnosis)")
    parser.add_argument("--only", default="", help="comma-separated case keys")
    parser.add_argument("--backends", default="qcore," + ",".join(PEERS))
    parser.add_argument("--budget-s", type=float, default=100.0,
                        help="time budget per kernel row; fewer runs past it")
    parser.add_argument("--user-budget-s", type=float, default=300.0,
                        help="time budget per user-path row; no new run past it once 3 are "
                             "done")
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default benchmarks/REPORT.md; --quick: "
                             "out/bench-quick.md)")
    args = parser.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 5)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown = parts - {"user", "kernels"}
    if unknown:
        parser.error(f"unknown --parts {sorted(unknown)}; use user, kernels")
    selected = [b.strip() for b in args.backends.split(",") if b.strip()]
    only = {k.strip() for k in args.only.split(",") if k.strip()}
    cases = [c for c in CASES if not only or c.key in only]
    out = args.out or (_ROOT / ("out/bench-quick.md" if args.quick else "benchmarks/REPORT.md"))

    from benchmarks.page import write_report, write_rows
    from benchmarks.simulator.machine import bandwidth, machine_info
    from benchmarks.user_path.cases import user_cases
    from benchmarks.user_path.runner import run_user_path

    user_keys = {c.key for c in user_cases(quick=args.quick)} | set(_USER_EXTRA)
    user_only = sorted(only & user_keys)
    run_user = "user" in parts and (not only or bool(user_only))
    run_kernels = "kernels" in parts and bool(cases)

    started = time.time()
    load_before = os.getloadavg()
    info = machine_info()
    bw = bandwidth()
    print(f"bandwidth: copy {bw['copy_gb_s']:.1f} GB/s (1 thread), triad "
          f"{bw['triad_gb_s']:.1f} GB/s ({info['numba_threads']} threads); "
          f"load {load_before[0]:.2f}", flush=True)
    user = None
    if run_user:
        print("user path:", flush=True)
        user = run_user_path(quick=args.quick, repeat=repeat, threads=args.threads,
                             wait_policy=args.omp_wait_policy, backends=selected,
                             only=user_only, budget_s=args.user_budget_s,
                             log=lambda line: print(line, flush=True))
    rows: list[Row] = []
    if run_kernels:
        print("kernels:", flush=True)
        rows = _kernels(cases, selected, args, repeat)
        print_table(rows, cases)
    command = " ".join(["python -m benchmarks.run", *argv])
    write_report(out, command=command, user=user, kernel_rows=rows, cases=cases, info=info,
                 bandwidth=bw, repeat=repeat, threads=args.threads,
                 wait_policy=args.omp_wait_policy, load=(load_before, os.getloadavg()),
                 wall_s=time.time() - started)
    write_rows(out.with_suffix(".json"), command=command, user=user, kernel_rows=rows)
    print(f"report: {out} (rows: {out.with_suffix('.json')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
