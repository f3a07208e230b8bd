"""Times one case on one backend, in a process of its own; prints one JSON line.

``python -m benchmarks.simulator.worker BACKEND CASE --qubits N --repeat R --budget-s S``.
Each backend is imported here, so a peer that fails to import or crashes costs only its own
rows. Every backend first runs the same workload on 10 qubits (JIT compilation, caches), then
the timed runs; a run that would blow the budget lowers the repeat count (reported).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable

import numpy as np

from benchmarks.simulator import workloads

BACKENDS = {
    "qcore": "benchmarks.simulator.qcore_backend",
    "qulacs": "benchmarks.simulator.peer_qulacs",
    "aer": "benchmarks.simulator.peer_aer",
    "pyqpanda3": "benchmarks.simulator.peer_qpanda",
}

_WARM_QUBITS = 10
_VQE_CALLS = 50


def _timed(run: Callable[[], object], repeat: int, budget_s: float) -> tuple[list[float], object]:
    times: list[float] = []
    value: object = None
    deadline = time.perf_counter() + budget_s
    for _ in range(repeat):
        start = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - start)
        if time.perf_counter() + times[-1] > deadline:
            break
    return times, value


def _check(workload: str, value: object) -> float:
    """A backend-independent number to cross-check results."""
    if workload in ("layered", "qft"):
        state = np.asarray(value).ravel()
        return float(abs(state[1]) ** 2 + 2 * abs(state[3]) ** 2)
    if workload == "gradient":
        return float(np.linalg.norm(np.asarray(value[1])))  # type: ignore[index]
    return float(np.asarray(value).ravel()[0])


def _build(module, workload: str, n: int) -> Callable[[], object] | None:
    if workload == "layered":
        return module.statevector(n, workloads.layered(n))
    if workload == "qft":
        return module.statevector(n, workloads.qft(n))
    gates, count = workloads.hea(n)
    x = workloads.hea_parameters(count)
    terms = workloads.random_pauli_terms(n, 100)
    if workload == "energy":
        return module.energy(n, gates, x, terms)
    if workload == "gradient":
        return None if module.gradient is None else module.gradient(n, gates, x, terms)
    if workload == "vqe":
        step = module.vqe(n, gates, terms)
        sets = x + 0.01 * np.random.default_rng(5).normal(size=(_VQE_CALLS, count))

        def run() -> float:  # time per call, new parameters each call
            start = time.perf_counter()
            for row in sets:
                value = step(row)
            run.per_call = (time.perf_counter() - start) / len(sets)  # type: ignore[attr-defined]
            return value

        return run
    raise ValueError(f"unknown workload {workload!r}")


def _session(n: int, per_message: int, repeat: int, budget_s: float) -> dict[str, object]:
    from benchmarks.simulator.hybrid import session_runner

    gates, count = workloads.hea(n)
    x = workloads.hea_parameters(count)
    terms = workloads.random_pauli_terms(n, 100)
    rng = np.random.default_rng(9)
    with session_runner(n, gates, count, terms) as evaluate:
        evaluate(x)  # first evaluation: compile caches, kernel loading
        messages = max(1, 50 // per_message)

        def run() -> float:
            start = time.perf_counter()
            for _ in range(messages):
                value = evaluate(x + 0.01 * rng.normal(size=(per_message, count)))
            return (time.perf_counter() - start) / (messages * per_message), value

        samples, _last = [], None
        deadline = time.perf_counter() + budget_s
        for _ in range(repeat):
            per_set, _last = run()
            samples.append(per_set)
            if time.perf_counter() > deadline:
                break
        check = float(evaluate(x)[0])
    return {"times": samples, "check": check}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("backend", choices=[*BACKENDS, "qcore-session"])
    parser.add_argument("workload")
    parser.add_argument("--qubits", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget-s", type=float, default=150.0)
    parser.add_argument("--per-message", type=int, default=1)
    args = parser.parse_args(argv)
    out: dict[str, object] = {"backend": args.backend, "workload": args.workload,
                              "qubits": args.qubits}
    try:
        if args.backend == "qcore-session":
            import numba

            out["version"] = f"qcore session (numba {numba.__version__})"
            out.update(_session(args.qubits, args.per_message, args.repeat, args.budget_s))
        else:
            module = importlib.import_module(BACKENDS[args.backend])
            out["version"] = module.version()
            warm = _build(module, args.workload, min(_WARM_QUBITS, args.qubits))
            if warm is None:
                out["skipped"] = "no such method"
            else:
                warm()
                run = _build(module, args.workload, args.qubits)
                assert run is not None
                times, value = _timed(run, args.repeat, args.budget_s)
                if args.workload == "vqe":
                    times = [run.per_call]  # type: ignore[attr-defined]
                    times, value = _per_call_samples(run, args.repeat, times, value)
                out["times"] = times
                out["check"] = _check(args.workload, value)
    except Exception as error:  # noqa: BLE001 - reported, never fatal to the run
        out["error"] = f"{type(error).__name__}: {error}"
        out["traceback"] = traceback.format_exc(limit=3)
    out["loadavg"] = os.getloadavg()
    print(json.dumps(out, default=float))
    return 0


def _per_call_samples(run, repeat: int, first: list[float], value: object
                      ) -> tuple[list[float], object]:
    samples = list(first)
    while len(samples) < repeat:
        value = run()
        samples.append(run.per_call)
    return samples, value


if __name__ == "__main__":
    sys.exit(main())
