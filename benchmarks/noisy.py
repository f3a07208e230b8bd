"""Noisy jobs at full device width: qcore's trajectories against Qiskit Aer, same noise model.

Run: ``python -m benchmarks.noisy`` (writes ``benchmarks/NOISY_REPORT.md``; ``--quick`` writes
``out/noisy-quick.md`` with fewer shots and one run per row). The 20-qubit pair of a run at
1000 shots takes hours of Aer time on a 2-core machine; ``make bench`` writes it separately at
100 shots, layered only (QFT-20 would take longer still): ``--widths 20 --shots 100 --circuits
layered --jobs-only --out benchmarks/NOISY_20_REPORT.md``.

Rows:

* **noisy 12/16/20-qubit jobs** (layered: 10 layers of random ``u3`` + a CX brick; QFT), on a
  noisy transmon grid of that width, ``shot_count`` shots. qcore: the driver's whole
  ``prepare`` (compile, noise model) + ``execute`` (shot-branching trajectories). Aer: the
  *same* executable — every step of qcore's compiled program as an ``UnitaryGate`` or a
  ``Kraus`` instruction (thermal relaxation, depolarizing remainder, coherent errors are in the
  steps), readout assignment errors as Aer ``ReadoutError`` — run by ``AerSimulator(method=
  "statevector")``, which samples Kraus operators per shot (its trajectory method). Aer's
  conversion of the program is not timed (it has no compiler for this noise model), so the
  ratio favours Aer.
* **agreement**: on 5-8 qubits, the total variation distance between trajectory counts and the
  exact density matrix's distribution (readout errors applied), beside the shot-noise TVD of an
  exact sample of the same size.
* **wide**: a 72-qubit GHZ on ``sc-wukong-72`` (noiseless and noisy), wall time and Python
  peak memory (``tracemalloc``).
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.contract import ExecutionOptions
from quantum_service.drivers.fleet import origin_wukong, superconducting_grid
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.engines.executable import Executable
from quantum_service.simulator import Channel

REPORT = Path(__file__).with_name("NOISY_REPORT.md")
GRIDS = {12: (3, 4), 16: (4, 4), 20: (4, 5)}


def layered(n: int, layers: int = 10, seed: int = 0) -> Circuit:
    rng = np.random.default_rng(seed)
    ops = []
    for layer in range(layers):
        for q in range(n):
            ops.append(Operation("u3", (q,), tuple(ParameterExpression(float(v))
                                                  for v in rng.uniform(0, np.pi, 3))))
        for q in range(layer % 2, n - 1, 2):
            ops.append(Operation("cx", (q, q + 1)))
    ops.append(Operation("measure", tuple(range(n)), (), tuple(range(n))))
    return Circuit(n, tuple(ops), clbit_count=n, name=f"layered-{n}")


def qft(n: int) -> Circuit:
    ops = [Operation("x", (q,)) for q in range(0, n, 3)]
    for j in range(n):
        ops.append(Operation("h", (j,)))
        for k in range(j + 1, n):
            ops.append(Operation("cp", (k, j), (ParameterExpression(np.pi / 2 ** (k - j)),)))
    ops.append(Operation("measure", tuple(range(n)), (), tuple(range(n))))
    return Circuit(n, tuple(ops), clbit_count=n, name=f"qft-{n}")


def qiskit_circuit(exe: Executable):
    """qcore's executable as a Qiskit circuit of unitaries and Kraus channels (qubit order
    reversed into Qiskit's little-endian matrices), measuring into the same clbits."""
    from qiskit import QuantumCircuit
    from qiskit.circuit.library import UnitaryGate
    from qiskit.quantum_info import Kraus

    qc = QuantumCircuit(exe.qubit_count, exe.clbit_count)
    for step in exe.ops(np.zeros(exe.parameter_count)):
        if isinstance(step, Channel):
            qc.append(Kraus(list(step.kraus_operators)).to_instruction(),
                      list(reversed(step.qubits)))
        else:
            qubits, matrix = step  # type: ignore[misc]
            qc.append(UnitaryGate(matrix, check_input=False), list(reversed(qubits)))
    for q, c in exe.measured:
        qc.measure(q, c)
    return qc


def aer_circuit(exe: Executable):
    """:func:`qiskit_circuit` and an Aer noise model holding the readout assignment errors."""
    from qiskit_aer.noise import NoiseModel, ReadoutError

    model = NoiseModel()
    for q, (p01, p10) in enumerate(exe.readout_errors):
        if p01 or p10:
            model.add_readout_error(ReadoutError([[1 - p01, p01], [p10, 1 - p10]]), [q])
    return qiskit_circuit(exe), model


def time_qcore(circuit: Circuit, n: int, shots: int, seed: int) -> tuple[float, str, dict]:
    rows, cols = GRIDS[n]
    driver = SimulatedQpuDriver(*superconducting_grid(f"sc-grid-{n}", rows=rows, cols=cols),
                                drift=False)
    began = time.perf_counter()
    program = driver.prepare(circuit, observable=None)
    out = driver.execute(program, np.zeros((1, 0)), ExecutionOptions(shot_count=shots,
                                                                     seed=seed))
    return time.perf_counter() - began, out.engine, out.counts[0]


def time_aer(circuit: Circuit, n: int, shots: int, seed: int) -> float | str:
    """Aer's seconds for the job, or its error message when it fails (Aer's Kraus sampling
    has failed on some converted programs: ``heevx`` in ``eigensystem_hermitian``)."""
    from qiskit_aer import AerSimulator

    rows, cols = GRIDS[n]
    driver = SimulatedQpuDriver(*superconducting_grid(f"sc-grid-{n}", rows=rows, cols=cols),
                                drift=False)
    exe = driver.program_executable(driver.prepare(circuit, observable=None))
    qc, model = aer_circuit(exe)
    simulator = AerSimulator(method="statevector", noise_model=model, seed_simulator=seed,
                             max_parallel_threads=0)
    from qiskit.exceptions import QiskitError

    began = time.perf_counter()
    try:
        simulator.run(qc, shots=shots).result().get_counts()
    except QiskitError as exc:
        return " ".join(str(exc).split())[:160]
    return time.perf_counter() - began


def agreement(n: int, shots: int) -> tuple[float, float]:
    """TVD(trajectory counts, exact DM distribution) and TVD of an exact sample, same size."""
    from quantum_service.engines.backend import StateVectorBackend
    from quantum_service.engines.base import EngineChoice
    from quantum_service.engines.select import select_engine
    from quantum_service.engines.trajectory import TrajectoryEngine

    caps, params = superconducting_grid("sc-grid-8", rows=2, cols=4)
    driver = SimulatedQpuDriver(caps, params, drift=False)
    exe = driver.program_executable(driver.prepare(layered(n, 6, seed=n), observable=None))
    exact = select_engine(exe)
    big = exact.counts(np.zeros(0), 2_000_000, np.random.default_rng(1))
    p = {k: v / 2_000_000 for k, v in big.items()}
    tr = TrajectoryEngine(exe, StateVectorBackend(exe.qubit_count),
                          EngineChoice("trajectories", "benchmark"))
    counts = tr.counts(np.zeros(0), shots, np.random.default_rng(2))
    sample = exact.counts(np.zeros(0), shots, np.random.default_rng(3))

    def tvd(c: dict[str, int]) -> float:
        keys = set(c) | set(p)
        return 0.5 * sum(abs(c.get(k, 0) / shots - p.get(k, 0.0)) for k in keys)

    return tvd(counts), tvd(sample)


def wide(noisy: bool, shots: int, qubits: int = 72) -> tuple[float, float, str, float]:
    """A ``qubits``-wide GHZ (H, CX chain, measure all) on ``sc-wukong-72``: wall seconds,
    tracemalloc peak MiB, the engine, and the share of all-0/all-1 counts."""
    caps, params = origin_wukong()
    driver = SimulatedQpuDriver(dataclasses.replace(caps, noisy=noisy), params, drift=False)
    ghz = Circuit(qubits, (Operation("h", (0,)),)
                  + tuple(Operation("cx", (q, q + 1)) for q in range(qubits - 1))
                  + (Operation("measure", tuple(range(qubits)), (), tuple(range(qubits))),),
                  clbit_count=qubits)
    tracemalloc.start()
    began = time.perf_counter()
    out = driver.execute(driver.prepare(ghz, observable=None), np.zeros((1, 0)),
                         ExecutionOptions(shot_count=shots, seed=1))
    wall = time.perf_counter() - began
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    counts = out.counts[0]
    ghz_share = (counts.get("0" * qubits, 0) + counts.get("1" * qubits, 0)) / shots
    return wall, peak, out.engine, ghz_share


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--widths", type=int, nargs="*", default=[12, 16, 20])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ghz-qubits", type=int, default=72,
                        help="width of the GHZ on sc-wukong-72 (at most 72)")
    parser.add_argument("--agreement-shots", type=int, default=20_000,
                        help="shots of the trajectories-vs-density-matrix rows")
    parser.add_argument("--shots", type=int, default=None,
                        help="shots per noisy job (default 1000; --quick: 100)")
    parser.add_argument("--circuits", nargs="*", choices=("layered", "qft"),
                        default=["layered", "qft"])
    parser.add_argument("--jobs-only", action="store_true",
                        help="only the noisy-job table (no agreement or GHZ sections)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default benchmarks/NOISY_REPORT.md; --quick: "
                             "out/noisy-quick.md)")
    args = parser.parse_args(argv)
    shots = args.shots or (100 if args.quick else 1000)
    repeats = 1 if args.quick else args.repeats
    lines = ["# Noisy jobs at full width: qcore trajectories vs Qiskit Aer", "",
             f"Generated by `python -m benchmarks.noisy {' '.join(argv or sys.argv[1:])}` on "
             f"{platform.processor() or platform.machine()}, Python {sys.version.split()[0]}; "
             f"medians of {repeats} run(s). qcore: driver prepare (compile + noise model) + "
             "execute; Aer: `AerSimulator(method='statevector')` running the same compiled "
             "program with its noise as Kraus instructions (conversion not timed).", "",
             f"## Noisy jobs, {shots} shots", "",
             "| job | qcore s | engine | Aer s | qcore/Aer |", "|---|---|---|---|---|"]
    for n in args.widths:
        for circuit in [{"layered": layered, "qft": qft}[name](n) for name in args.circuits]:
            ours, engine = [], ""
            peers = []
            for r in range(repeats):
                t, engine, _ = time_qcore(circuit, n, shots, seed=r)
                ours.append(t)
                peers.append(time_aer(circuit, n, shots, seed=r))
            a = statistics.median(ours)
            failed = [p for p in peers if isinstance(p, str)]
            if failed:
                lines.append(f"| {circuit.name} | {a:.2f} | {engine} | Aer failed: "
                             f"{failed[0].replace('|', '/')} | — |")
            else:
                b = statistics.median(peers)
                lines.append(f"| {circuit.name} | {a:.2f} | {engine} | {b:.2f} | {a / b:.2f} |")
            print(lines[-1], flush=True)
    out = args.out or (Path("out/noisy-quick.md") if args.quick else REPORT)
    if args.jobs_only:
        write(out, lines)
        return
    lines += ["", "## Trajectories vs exact density matrix (noisy 2x4 transmon grid, 6 layers)",
              "", "| qubits | shots | TVD trajectories | TVD exact sample (shot noise) |",
              "|---|---|---|---|"]
    for n in (5, 6, 8):
        got, noise = agreement(n, args.agreement_shots)
        lines.append(f"| {n} | {args.agreement_shots} | {got:.4f} | {noise:.4f} |")
        print(lines[-1], flush=True)
    lines += ["", f"## {args.ghz_qubits}-qubit GHZ on sc-wukong-72", "",
              "| device noise | shots | wall s | peak MiB | engine | share all-0/all-1 |",
              "|---|---|---|---|---|---|"]
    for noisy, n_shots in ((False, 1000), (True, 1 if args.quick else 3)):
        wall, peak, engine, share = wide(noisy, n_shots, args.ghz_qubits)
        lines.append(f"| {'noisy' if noisy else 'ideal'} | {n_shots} | {wall:.1f} | "
                     f"{peak:.1f} | {engine} | {share:.3f} |")
        print(lines[-1], flush=True)
    write(out, lines)


def write(out: Path, lines: list[str]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
