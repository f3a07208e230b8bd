"""Wide jobs on the 72-qubit Wukong-class QPU: wall time, peak memory and truncation error.

Run: ``python -m benchmarks.wide_noisy`` (writes ``benchmarks/WIDE_REPORT.md``; ``--quick``
writes ``out/wide-quick.md`` with fewer shots).

Jobs, each on ``sc-wukong-72`` (6x12 transmon grid; :func:`~quantum_service.drivers.fleet.
origin_wukong`) with its noise model and, for the ``ideal`` rows, the same device without noise:

* **GHZ-72**: ``h`` and a chain of 71 ``cx`` along the qubit index (routed on the grid).
* **layered-72**: ``--layers`` brickwork layers on the whole grid: random ``u3`` on every qubit,
  then ``cz`` on one of the four coupler classes (horizontal even/odd, vertical even/odd) in
  turn.
* **QAOA-40**: MaxCut on the 5x8 grid graph of the device's corner (67 edges, maximum cut 67:
  the grid is bipartite), one QAOA layer (Farhi, Goldstone & Gutmann, arXiv:1411.4028) at the
  fixed angles ``gamma = 0.4``, ``beta = -0.3`` (not optimised), ``ZZ`` as ``cx rz cx``.

qcore's time is the driver's whole ``prepare`` (compile, noise model) + ``execute``
(in-process: matrix-product-state trajectories); peak memory is Python's ``tracemalloc`` peak
over the same span (numpy buffers included). Noisy rows run at ``--noisy-max-bond`` (a
simulator backend option, as Aer's ``matrix_product_state_max_bond_dimension``) and report the
truncation error the result carries: the largest accumulated discarded weight of one
trajectory. Ideal rows also run Qiskit Aer's ``matrix_product_state`` method on the same
compiled program (every step a ``UnitaryGate``; the same bond cap and truncation threshold;
conversion not timed).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from benchmarks.noisy import qiskit_circuit
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.contract import ExecutionOptions
from quantum_service.drivers.fleet import origin_wukong
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.engines.mps import DEFAULT_MAX_BOND_DIMENSION

REPORT = Path(__file__).with_name("WIDE_REPORT.md")
ROWS, COLS = 6, 12


def site(r: int, c: int) -> int:
    return r * COLS + c


def measured(n: int, ops: list[Operation], qubits: list[int], name: str) -> Circuit:
    ops = ops + [Operation("measure", tuple(qubits), (), tuple(range(len(qubits))))]
    return Circuit(n, tuple(ops), clbit_count=len(qubits), name=name)


def ghz(n: int = 72) -> Circuit:
    ops = [Operation("h", (0,))] + [Operation("cx", (q, q + 1)) for q in range(n - 1)]
    return measured(n, ops, list(range(n)), f"GHZ-{n}")


def layered(layers: int, seed: int = 0) -> Circuit:
    rng = np.random.default_rng(seed)
    classes = ([[(site(r, c), site(r, c + 1)) for r in range(ROWS) for c in range(s, COLS - 1, 2)]
                for s in (0, 1)]
               + [[(site(r, c), site(r + 1, c)) for r in range(s, ROWS - 1, 2)
                   for c in range(COLS)] for s in (0, 1)])
    ops: list[Operation] = []
    for layer in range(layers):
        ops += [Operation("u3", (q,), tuple(ParameterExpression(float(v))
                                            for v in rng.uniform(0, np.pi, 3)))
                for q in range(ROWS * COLS)]
        ops += [Operation("cz", pair) for pair in classes[layer % 4]]
    return measured(ROWS * COLS, ops, list(range(ROWS * COLS)), f"layered-72 ({layers} layers)")


def qaoa_edges(rows: int = 5, cols: int = 8) -> list[tuple[int, int]]:
    return ([(site(r, c), site(r, c + 1)) for r in range(rows) for c in range(cols - 1)]
            + [(site(r, c), site(r + 1, c)) for r in range(rows - 1) for c in range(cols)])


def qaoa(gamma: float = 0.4, beta: float = -0.3) -> Circuit:
    edges = qaoa_edges()
    qubits = sorted({q for e in edges for q in e})
    ops = [Operation("h", (q,)) for q in qubits]
    for a, b in edges:
        ops += [Operation("cx", (a, b)), Operation("rz", (b,), (ParameterExpression(2 * gamma),)),
                Operation("cx", (a, b))]
    ops += [Operation("rx", (q,), (ParameterExpression(2 * beta),)) for q in qubits]
    return measured(ROWS * COLS, ops, qubits, f"QAOA-{len(qubits)} (MaxCut, p = 1)")


def merit(circuit: Circuit, counts: dict[str, int]) -> str:
    """GHZ: the all-0/all-1 share; QAOA: the mean cut over the maximum (67); else empty."""
    shots = sum(counts.values())
    if circuit.name.startswith("GHZ"):
        width = circuit.clbit_count
        share = (counts.get("0" * width, 0) + counts.get("1" * width, 0)) / shots
        return f"GHZ share {share:.3f}"
    if circuit.name.startswith("QAOA"):
        edges = qaoa_edges()
        index = {q: i for i, q in enumerate(sorted({q for e in edges for q in e}))}
        total = 0
        for word, n in counts.items():
            bits = word[::-1]  # clbit 0 is the rightmost character
            total += n * sum(bits[index[a]] != bits[index[b]] for a, b in edges)
        return f"mean cut {total / shots:.2f} of {len(edges)}"
    return "—"


def run_qcore(circuit: Circuit, *, noisy: bool, shots: int, max_bond: int
              ) -> tuple[float, float, float, str, float, str, object]:
    """Wall s (prepare + execute), execute s, peak MiB, engine, truncation error, figure of
    merit, and the executable."""
    caps, params = origin_wukong()
    driver = SimulatedQpuDriver(dataclasses.replace(caps, noisy=noisy), params, drift=False,
                                max_bond_dimension=max_bond)
    tracemalloc.start()
    began = time.perf_counter()
    program = driver.prepare(circuit, observable=None)
    prepared = time.perf_counter()
    out = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=shots, seed=1))
    done = time.perf_counter()
    wall, execute = done - began, done - prepared
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert out.counts is not None and out.truncation_errors is not None
    return (wall, execute, peak, out.engine, out.truncation_errors[0],
            merit(circuit, out.counts[0]), driver.program_executable(program))


def run_aer_mps(exe: object, shots: int) -> float | str:
    """Aer's seconds for the same compiled (noiseless) program on its MPS method."""
    from qiskit.exceptions import QiskitError
    from qiskit_aer import AerSimulator

    qc = qiskit_circuit(exe)
    simulator = AerSimulator(method="matrix_product_state", seed_simulator=1,
                             matrix_product_state_max_bond_dimension=DEFAULT_MAX_BOND_DIMENSION,
                             matrix_product_state_truncation_threshold=1e-16,
                             # Aer's pre-run memory estimate of an MPS assumes no truncation
                             # (2**n-scale for these widths) and refuses the run; lift it
                             max_memory_mb=2**40, max_parallel_threads=0)
    began = time.perf_counter()
    try:
        simulator.run(qc, shots=shots).result().get_counts()
    except QiskitError as exc:
        return " ".join(str(exc).split())[:120].replace("|", "/")
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--noisy-shots", type=int, default=3)
    parser.add_argument("--noisy-max-bond", type=int, default=64,
                        help="bond cap of the noisy rows (ideal rows: the default, "
                             f"{DEFAULT_MAX_BOND_DIMENSION})")
    parser.add_argument("--jobs", nargs="*", choices=("ghz", "layered", "qaoa"),
                        default=["ghz", "layered", "qaoa"])
    parser.add_argument("--noisy-only", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    ideal_shots = 100 if args.quick else 1000
    noisy_shots = 1 if args.quick else args.noisy_shots
    lines = ["# Wide jobs on sc-wukong-72: wall time, peak memory, truncation error", "",
             f"Generated by `python -m benchmarks.wide_noisy {' '.join(argv or sys.argv[1:])}` on "
             f"{platform.processor() or platform.machine()}, Python {sys.version.split()[0]}, "
             "one run per row. qcore: driver prepare (compile + noise model) + execute, "
             "in-process; peak memory: tracemalloc. Aer: `AerSimulator(method="
             "'matrix_product_state')` on the same compiled program (conversion not timed). "
             "Truncation error: the largest accumulated discarded weight of one trajectory "
             "(as on the job result).", "",
             "| job | device noise | shots | bond cap | qcore s | qcore execute s | peak MiB | "
             "engine | truncation error | result | Aer MPS s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    jobs = {"ghz": ghz(), "layered": layered(args.layers), "qaoa": qaoa()}
    for circuit in (jobs[name] for name in args.jobs):
        for noisy, shots, bond in ((False, ideal_shots, DEFAULT_MAX_BOND_DIMENSION),
                                   (True, noisy_shots, args.noisy_max_bond)):
            if args.noisy_only and not noisy:
                continue
            wall, execute, peak, engine, truncation, result, exe = run_qcore(
                circuit, noisy=noisy, shots=shots, max_bond=bond)
            peer = "—"
            if not noisy:
                aer = run_aer_mps(exe, shots)
                peer = f"{aer:.2f}" if isinstance(aer, float) else f"failed: {aer}"
            lines.append(f"| {circuit.name} | {'noisy' if noisy else 'ideal'} | {shots} | "
                         f"{bond} | {wall:.2f} | {execute:.2f} | {peak:.1f} | {engine} | "
                         f"{truncation:.2e} | "
                         f"{result} | {peer} |")
            print(lines[-1], flush=True)
    out = args.out or (Path("out/wide-quick.md") if args.quick else REPORT)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
