"""Drift and automatic calibration over 24 simulated device-hours.

A noisy 5-qubit transmon line (``superconducting_grid`` parameters, drift rates of
``DRIFT_RATES[SUPERCONDUCTING]``) drifts for 24 device-hours; every 15 device-minutes the
benchmark reads the state fidelity of a 5-qubit GHZ circuit and of a 5-qubit layered circuit
(4 brickwork layers of random single-qubit rotations and CX) under three policies:

* ``drift``    — canaries every 10 device-minutes (the transmon default,
  ``ExperimentSettings.canary_period_s``), recalibrating only drifted nodes (plus a 24 h
  schedule as a safety net);
* ``schedule`` — recalibrate everything every 4 device-hours, no canaries;
* ``none``     — never recalibrate.

The kernel runs calibration maintenance between jobs; here the device is offered maintenance
every device-minute (``TICK_S``), as a steady stream of one-minute jobs would. Fidelities are
exact (``SimulatedQpuDriver.state_expectation``: the simulated density matrix before readout,
against the ideal state), so they show gate-level errors only. Idle device time passes without simulating circuits; the device clock is advanced to the same instants under
every policy, so all policies see the same drift trajectory. Calibration overhead is the
device time of canaries and experiments over the 24 h. Several drift seeds are run; the report
gives medians and min–max over seeds.

Run: ``python -m benchmarks.calibration_drift [--seeds 3] [--hours 24]``; writes
``benchmarks/CALIBRATION_REPORT.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from quantum_service.calibration.experiments import ExperimentSettings
from quantum_service.calibration.manager import CalibrationManager, CalibrationPolicy
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler import circuit_unitary
from quantum_service.drivers.fleet import superconducting_grid
from quantum_service.contract import CalibrationSnapshot
from quantum_service.drivers.simulated import SimulatedQpuDriver

HOUR = 3600.0
#: Shorter RB/XEB sweeps than the defaults: they only set the reported gate fidelities (no pulse
#: parameter), and their simulation dominates the benchmark's wall time.
BENCH_SETTINGS = ExperimentSettings(rb_lengths=(1, 60, 180), rb_sequences=2,
                                    xeb_cycles=(1, 6, 12), xeb_circuits=3)
STEP_S = 900.0
TICK_S = 60.0
REPORT = Path(__file__).with_name("CALIBRATION_REPORT.md")
POLICIES = {
    "drift": CalibrationPolicy(schedule_period_s=24 * HOUR, canary_period_s="auto"),
    "schedule": CalibrationPolicy(schedule_period_s=4 * HOUR, canary_period_s=None),
    "none": None,
}


def ghz_circuit(n: int = 5) -> Circuit:
    ops = [Operation("h", (0,))] + [Operation("cx", (q, q + 1)) for q in range(n - 1)]
    return Circuit(n, tuple(ops), name=f"ghz-{n}")


def layered_circuit(n: int = 5, layers: int = 4, seed: int = 2) -> Circuit:
    """``layers`` brickwork layers of random ``u3`` and ``cx`` (fixed seed), no inverse (a
    mirrored circuit would be compiled away by qcore's peephole optimiser)."""
    rng = np.random.default_rng(seed)
    ops: list[Operation] = []
    for layer in range(layers):
        for q in range(n):
            angles = tuple(ParameterExpression(float(a)) for a in rng.uniform(-np.pi, np.pi, 3))
            ops.append(Operation("u3", (q,), angles))
        for q in range(layer % 2, n - 1, 2):
            ops.append(Operation("cx", (q, q + 1)))
    return Circuit(n, tuple(ops), name=f"layered-{n}x{layers}")


def projector_terms(circuit: Circuit) -> list[tuple[str, float]]:
    """Pauli decomposition of ``|ψ><ψ|`` for the circuit's ideal output state ``ψ``."""
    n = circuit.qubit_count
    psi = circuit_unitary(circuit)[:, 0]
    rho = np.outer(psi, psi.conj())
    paulis = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]),
              "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1.0, -1.0])}
    terms = []
    for index in range(4**n):
        letters = [("IXYZ"[(index >> (2 * q)) & 3]) for q in range(n)]
        matrix = np.array([[1.0]])
        for q in reversed(range(n)):  # qubit 0 is the least-significant bit
            matrix = np.kron(matrix, paulis[letters[q]])
        c = float(np.real(np.trace(matrix @ rho))) / 2**n
        if abs(c) > 1e-12:
            terms.append((" ".join(f"{p}{q}" for q, p in enumerate(letters) if p != "I"), c))
    return terms


@dataclass
class Trace:
    policy: str
    seed: int
    ghz: list[float]
    layered: list[float]
    calibration_time_s: float
    clock_s: float
    snapshots: int
    qubit_recalibrations: int
    wall_s: float
    drifted: Counter
    ghz_perfect: list[float]
    layered_perfect: list[float]

    def excess(self, name: str) -> float:
        """Mean infidelity over perfectly calibrated (estimates = truth) at the same instants."""
        return float(np.mean(np.subtract(getattr(self, f"{name}_perfect"),
                                         getattr(self, name))))


def run_policy(policy_name: str, seed: int, hours: float) -> Trace:
    caps, params = superconducting_grid("sc-bench", rows=1, cols=5, seed=16)
    driver = SimulatedQpuDriver(caps, params, seed=seed)
    policy = POLICIES[policy_name]
    manager = (CalibrationManager(policy=policy, seed=seed,
                                  settings={caps.qpu_id: BENCH_SETTINGS}) if policy else None)
    slot = SimpleNamespace(driver=driver)
    programs = {name: driver.prepare(c, observable=projector_terms(c))
                for name, c in (("ghz", ghz_circuit()), ("layered", layered_circuit()))}
    ghz, layered, snapshots, recalibrated = [], [], 0, 0
    drifted: Counter = Counter()
    perfect: list[tuple[float, float]] = []
    start = time.perf_counter()
    x = np.zeros(0)
    for step in range(int(hours * HOUR / STEP_S) + 1):
        while manager is not None and driver.device_clock_s + TICK_S <= step * STEP_S:
            outcome = manager.maintain_blocking(slot)
            if outcome is not None and outcome.tasks:
                snapshots += 1
                recalibrated += len(outcome.recalibrated_qubits)
            if outcome is not None:
                drifted.update(r.node for r in outcome.readings if r.drifted)
            driver.advance_clock(TICK_S)
        # every policy is measured at the same clock instants: the same true parameters
        driver.advance_clock(max(0.0, step * STEP_S - driver.device_clock_s))
        ghz.append(driver.state_expectation(programs["ghz"], x))
        layered.append(driver.state_expectation(programs["layered"], x))
        installed = driver.calibration_snapshot()
        driver.install_snapshot(CalibrationSnapshot.create(caps.qpu_id, driver.true_parameters()))
        perfect.append((driver.state_expectation(programs["ghz"], x),
                        driver.state_expectation(programs["layered"], x)))
        driver.install_snapshot(installed)
    return Trace(policy_name, seed, ghz, layered, driver.calibration_device_time_s,
                 driver.device_clock_s, snapshots, recalibrated, time.perf_counter() - start,
                 drifted, [p[0] for p in perfect], [p[1] for p in perfect])


def _run(args: tuple[str, int, float]) -> Trace:
    return run_policy(*args)


def _fmt(values: list[float], spec: str = ".4f") -> str:
    return (f"{statistics.median(values):{spec}} ({min(values):{spec}}–{max(values):{spec}})")


def write_report(traces: list[Trace], *, hours: float, wall_s: float, load: tuple,
                 jobs: int) -> str:
    import numba
    import scipy

    lines = [
        f"# Drift and automatic calibration — {hours:g} device-hours",
        "",
        f"Generated by `python -m benchmarks.calibration_drift` on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Device: 5-qubit noisy transmon line "
        f"(1×5, `superconducting_grid` parameters), drift rates "
        f"`DRIFT_RATES[SUPERCONDUCTING]` (OU drift of frequency, π amplitude, CZ phase, "
        f"readout, dephasing; TLS telegraph jumps of T1). "
        f"{hours:g} device-hours, sampled every {STEP_S / 60:g} device-minutes; "
        f"{len({t.seed for t in traces})} drift seeds; calibration maintenance is offered every "
        f"{TICK_S / 60:g} device-minute(s), as the kernel does between jobs. Fidelities are "
        f"exact state fidelities "
        f"before readout. Values: median over seeds (min–max).",
        "",
        "| policy | GHZ-5 mean F | GHZ-5 worst F | layered mean F | layered worst F | "
        "calibration device time (s) | overhead (% of device time) | snapshots | "
        "qubit recalibrations | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    by_policy: dict[str, list[Trace]] = {}
    for trace in traces:
        by_policy.setdefault(trace.policy, []).append(trace)
    for name, group in by_policy.items():
        lines.append(
            f"| `{name}` | {_fmt([float(np.mean(t.ghz)) for t in group])} | "
            f"{_fmt([float(np.min(t.ghz)) for t in group])} | "
            f"{_fmt([float(np.mean(t.layered)) for t in group])} | "
            f"{_fmt([float(np.min(t.layered)) for t in group])} | "
            f"{_fmt([t.calibration_time_s for t in group], '.1f')} | "
            f"{_fmt([100 * t.calibration_time_s / t.clock_s for t in group], '.3f')} | "
            f"{_fmt([float(t.snapshots) for t in group], '.0f')} | "
            f"{_fmt([float(t.qubit_recalibrations) for t in group], '.0f')} | "
            f"{_fmt([t.wall_s for t in group], '.1f')} |")
    lines += ["", "Drift-induced infidelity: mean of F(perfect calibration) − F over the 24 h, "
              "where *perfect* installs the true parameters as the estimates at each instant "
              "(median over seeds, min–max; ×1e-3):", "",
              "| policy | GHZ-5 | layered |", "|---|---|---|"]
    for name, group in by_policy.items():
        lines.append(f"| `{name}` | {_fmt([1e3 * t.excess('ghz') for t in group], '.2f')} | "
                     f"{_fmt([1e3 * t.excess('layered') for t in group], '.2f')} |")
    none = {t.seed: t for t in by_policy.get("none", [])}
    if none:
        lines.append("")
        for name, group in by_policy.items():
            if name == "none":
                continue
            removed = [100 * (1 - t.excess("ghz") / none[t.seed].excess("ghz")) for t in group]
            lines.append(
                f"* `{name}` removes {_fmt(removed, '.0f')} % of the drift-induced GHZ-5 "
                f"infidelity of no calibration, using "
                f"{_fmt([t.calibration_time_s for t in group], '.0f')} s of device time.")
    fired = Counter()
    for trace in by_policy.get("drift", []):
        fired.update(trace.drifted)
    if fired:
        lines += ["", "Canary readings over threshold (all `drift` seeds): " + ", ".join(
            f"{node} {count}" for node, count in fired.most_common()) + "."]
    fresh = statistics.median([t.ghz[0] for t in traces])
    lines += [
        "",
        f"Freshly calibrated (t = 0) GHZ-5 fidelity: {fresh:.4f}; layered: "
        f"{statistics.median([t.layered[0] for t in traces]):.4f}.",
        "",
        f"Policies: `drift` = canaries every "
        f"{BENCH_SETTINGS.canary_period_s / 60:g} device-min (maintenance offered every "
        f"{TICK_S / 60:g} device-min), recalibrate drifted nodes and their "
        "descendants only (24 h schedule as safety net); `schedule` = full recalibration every "
        "4 device-hours; `none` = the initial calibration only. Canary thresholds: frequency "
        f"{BENCH_SETTINGS.frequency_threshold_hz / 1e3:g} kHz, π amplitude "
        f"{BENCH_SETTINGS.amplitude_threshold:g}, CZ phase "
        f"{BENCH_SETTINGS.phase_threshold_rad:g} rad, readout {BENCH_SETTINGS.readout_threshold:g}, "
        f"T1 {100 * BENCH_SETTINGS.t1_relative_threshold:g} %.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}; load "
        f"average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (shared machine, wall "
        f"times are noisy; runs in {jobs} worker processes). Python "
        f"{sys.version.split()[0]}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, numba {numba.__version__}. Total wall time {wall_s:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (runs are independent)")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    start = time.perf_counter()
    runs = [(name, seed, args.hours) for seed in range(1, args.seeds + 1) for name in POLICIES]
    traces = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for trace in pool.map(_run, runs):
            print(f"seed {trace.seed} {trace.policy:9s} GHZ mean {np.mean(trace.ghz):.4f} "
                  f"layered mean {np.mean(trace.layered):.4f} "
                  f"cal {trace.calibration_time_s:.1f} s wall {trace.wall_s:.1f} s", flush=True)
            traces.append(trace)
    report = write_report(traces, hours=args.hours, wall_s=time.perf_counter() - start,
                          load=load, jobs=args.jobs)
    args.out.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
