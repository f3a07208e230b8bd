"""Matrix-product-state backend benchmark: wide circuits, time and peak memory.

Run: ``python -m benchmarks.mps`` (writes ``benchmarks/MPS_REPORT.md``; ``--quick`` writes
``out/mps-quick.md`` with one run per row). Every row is the whole task a user runs: prepare the
op list, run it from ``|0...0>``, and draw 1000 shots of every qubit. Cases:

* 72-qubit GHZ (H, then a CX chain; bond dimension 2);
* 72-qubit brickwork, 4 and 8 layers of Haar-random 2-qubit unitaries on neighbours
  (bond dimension up to 4**layers/2 exactly: 16 after 4 layers, 256 after 8), capped at
  ``χ = 64`` and ``χ = 128``: the truncation error and fidelity bound are reported;
* 20 qubits, 8 brickwork layers (exact: χ <= 256), against qcore's dense
  ``StateVectorBackend`` doing the same task.

Peer: Qiskit Aer's ``matrix_product_state`` method on the same circuits (unitary instructions,
same cap, truncation threshold 1e-16, ``shots=1000``), when ``qiskit_aer`` imports. Peak memory
of the qcore rows is the Python ``tracemalloc`` peak during the task (NumPy's array buffers are
traced), i.e. the tensors and temporaries, not the interpreter.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.stats import unitary_group

from quantum_service.engines.backend import StateVectorBackend
from quantum_service.engines.mps import MatrixProductStateBackend, fidelity_lower_bound

REPORT = Path(__file__).with_name("MPS_REPORT.md")
SHOTS = 1000
H = np.array([[1, 1], [1, -1]], dtype=np.complex128) / math.sqrt(2)
CX = np.eye(4, dtype=np.complex128)[[0, 1, 3, 2]]

Ops = list[tuple[tuple[int, ...], np.ndarray]]


def ghz(n: int) -> Ops:
    return [((0,), H)] + [((q, q + 1), CX) for q in range(n - 1)]


def brickwork(n: int, layers: int, seed: int) -> Ops:
    rng = np.random.default_rng(seed)
    return [((q, q + 1), unitary_group.rvs(4, random_state=rng))
            for layer in range(layers) for q in range(layer % 2, n - 1, 2)]


def _measure(task: Callable[[], dict[str, float]], repeat: int) -> dict[str, float]:
    times, cpu_times, peaks, extra = [], [], [], {}
    for _ in range(repeat):
        tracemalloc.start()
        start, cpu_start = time.perf_counter(), time.process_time()
        extra = task()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return {"time_s": statistics.median(times), "cpu_s": statistics.median(cpu_times),
            "peak_mib": max(peaks) / 2**20, **extra}


def qcore_mps(n: int, ops: Ops, cap: int) -> Callable[[], dict[str, float]]:
    def task() -> dict[str, float]:
        backend = MatrixProductStateBackend(n, max_bond_dimension=cap)
        state = backend.run(backend.prepare(ops, []), backend.zero_state(), {})
        backend.sample(state, list(range(n)), SHOTS, np.random.default_rng(0))
        return {"chi": max(state.bond_dimensions), "error": backend.truncation_error(state),
                "bound": fidelity_lower_bound(state)}
    return task


def qcore_statevector(n: int, ops: Ops) -> Callable[[], dict[str, float]]:
    def task() -> dict[str, float]:
        backend = StateVectorBackend(n)
        state = backend.run(backend.prepare(ops, []), backend.zero_state(), {})
        backend.sample(state, list(range(n)), SHOTS, np.random.default_rng(0))
        return {}
    return task


def aer_mps(n: int, ops: Ops, cap: int) -> Callable[[], dict[str, float]] | str:
    try:
        from qiskit import QuantumCircuit
        from qiskit_aer import AerSimulator
    except ImportError as error:  # the peer is optional
        return f"not run: {error}"
    simulator = AerSimulator(method="matrix_product_state",
                             matrix_product_state_max_bond_dimension=cap,
                             matrix_product_state_truncation_threshold=1e-16)

    def task() -> dict[str, float]:
        circuit = QuantumCircuit(n)
        for qubits, matrix in ops:
            # Qiskit's first listed qubit is the least significant bit of the matrix
            circuit.unitary(matrix, list(reversed(qubits)))
        circuit.measure_all()
        simulator.run(circuit, shots=SHOTS, seed_simulator=0).result()
        return {}
    return task


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default benchmarks/MPS_REPORT.md; --quick: "
                             "out/mps-quick.md)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    out = args.out or (Path("out/mps-quick.md") if args.quick else REPORT)
    cases: list[tuple[str, int, Ops, int]] = [("GHZ", 72, ghz(72), 64)]
    for layers in (4, 8):
        for cap in (64, 128):
            cases.append((f"brickwork {layers} layers", 72, brickwork(72, layers, layers), cap))
    # warm-up: SciPy/NumPy first calls, numba kernels of the state vector
    _measure(qcore_mps(8, brickwork(8, 4, 0), 16), 1)
    _measure(qcore_statevector(20, brickwork(20, 2, 0)), 1)
    load_before = os.getloadavg()[0]
    lines = ["# Matrix-product-state backend", "",
             f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
             f"{sys.version.split()[0]}, numpy {np.__version__}; load average before "
             f"{load_before:.2f}. Each row: prepare + run from |0...0> + {SHOTS} shots of "
             f"every qubit; qcore: median of {repeat} run(s), Aer: one run. Peak memory: "
             f"tracemalloc peak of the task (tensors and temporaries). Wall and process CPU "
             f"seconds (all threads); on a shared machine CPU seconds are the steadier figure.",
             "",
             "| circuit | qubits | χ cap | qcore MPS wall s | CPU s | peak MiB | max χ | "
             "truncation error Σε | fidelity ≥ | Aer MPS wall s | CPU s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, n, ops, cap in cases:
        row = _measure(qcore_mps(n, ops, cap), repeat)
        peer = aer_mps(n, ops, cap)
        if isinstance(peer, str):
            peer_s = f"{peer} | —"
        else:
            peer_row = _measure(peer, 1)
            peer_s = f"{peer_row['time_s']:.3g} | {peer_row['cpu_s']:.3g}"
        lines.append(f"| {label} | {n} | {cap} | {row['time_s']:.3g} | {row['cpu_s']:.3g} | "
                     f"{row['peak_mib']:.3g} | "
                     f"{row['chi']:.0f} | {row['error']:.3g} | {row['bound']:.3g} | {peer_s} |")
    n, ops = 20, brickwork(20, 8, 20)
    mps_row = _measure(qcore_mps(n, ops, 256), repeat)
    sv_row = _measure(qcore_statevector(n, ops), repeat)
    lines += ["", f"## {n} qubits, 8 brickwork layers of Haar-random 2-qubit gates "
                  f"({len(ops)} gates), exact", "",
              "| backend | wall s | CPU s | peak MiB | max χ |", "|---|---|---|---|---|",
              f"| qcore MPS (χ cap 256) | {mps_row['time_s']:.3g} | {mps_row['cpu_s']:.3g} | "
              f"{mps_row['peak_mib']:.3g} | {mps_row['chi']:.0f} |",
              f"| qcore state vector | {sv_row['time_s']:.3g} | {sv_row['cpu_s']:.3g} | "
              f"{sv_row['peak_mib']:.3g} | — |",
              "", f"Load average after: {os.getloadavg()[0]:.2f}.", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
