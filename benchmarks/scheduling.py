"""Scheduling benchmark: multi-programming throughput/fidelity under crosstalk, and fairness.

Run: ``python -m benchmarks.scheduling`` (``--repeats``, default ``QCORE_BENCH_REPEATS`` or 3;
writes ``benchmarks/SCHEDULING_REPORT.md``, or ``--out``). Drives
the kernel in-process (no gRPC), with the kernel's default :class:`SchedulerPolicy` unless the
report says which field differs:

1. A mixed workload of Z-phase-sensitive circuits (GHZ-3 and Bell pairs read out in the X
   basis, a 4-qubit GHZ mirror circuit) from four users, all queued before the QPU starts, on
   ``sc-grid-16`` and ``sc-wukong-72``, multi-programmed vs one program at a time: jobs per
   device-hour (device time as the drivers account it), mean Hellinger fidelity of each job's
   counts vs its ideal distribution (``(Σ_x sqrt(p_x q_x))²``, as Qiskit's
   ``hellinger_fidelity``), and how many jobs the packer refused (ran alone) because their
   predicted loss exceeded the policy's threshold. The devices simulate always-on ZZ coupling
   and spectator errors for every job (:mod:`quantum_service.devices.crosstalk`); a
   sensitivity row reruns ``sc-grid-16`` with every pair's ZZ rate zeroed and multiplied by
   10. Drift is off, so that only crosstalk separates the modes.
2. Three users with unequal loads (12, 6 and 2 GHZ-3 jobs, submitted in that order) on one
   QPU, fair share (the default policy) vs FIFO (no fair-share weight): over the whole run,
   Jain's index ``(Σ x_i)² / (n Σ x_i²)`` (Jain, Chiu, Hawe, DEC-TR-301 (1984)) of the users'
   device-time shares and of their *stretch*, the time from submission to a user's last
   result divided by the device time that user's jobs needed (the slowdown metric of HPC
   scheduling; Feitelson, "Metrics for parallel job scheduling and their convergence",
   JSSPP 2001).
3. Queue ETAs: a mixed queue on a noiseless 24-qubit ion QPU, each job's
   ``estimated_start_time`` against its actual start (:mod:`benchmarks.eta`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.eta import eta_lines, measure_etas
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.circuits.qasm import parse_qasm
from quantum_service.contract import DeviceParameters, ExecutionOptions, QpuCapabilities
from quantum_service.drivers.fleet import origin_wukong, superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.multiprogramming import pack, prepare_merged, split_counts
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.scheduler import SchedulerPolicy
from quantum_service.kernel.store import JobStore

REPORT = Path(__file__).with_name("SCHEDULING_REPORT.md")
_EVEN3 = {k: 0.25 for k in ("000", "011", "101", "110")}
WORKLOAD = {
    "ghz3-x": ("OPENQASM 2.0; qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; "
               "h q[0]; h q[1]; h q[2]; measure q -> c;", _EVEN3),
    "bell-x": ("OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; h q[0]; h q[1]; "
               "measure q -> c;", {"00": 0.5, "11": 0.5}),
    "mirror-4": ("OPENQASM 2.0; qreg q[4]; creg c[4]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; "
                 "cx q[2],q[3]; cx q[0],q[3]; cx q[0],q[2]; cx q[0],q[1]; h q[0]; "
                 "measure q -> c;", {"0000": 1.0}),
}
GHZ3 = ("OPENQASM 2.0; qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; "
        "measure q -> c;")
USERS = 4
JOBS_PER_USER = 4
SHOTS = 1000
#: Runs of each measurement (medians reported), unless ``--repeats`` says otherwise.
REPEATS = int(os.environ.get("QCORE_BENCH_REPEATS", "3"))


class _Null:
    def publish_threadsafe(self, message) -> None:
        pass


class _Gate:
    """Holds the workers until every job is queued."""

    def __init__(self) -> None:
        self.open = asyncio.Event()

    def is_due(self, slot) -> bool:
        return True

    async def maintain(self, slot) -> None:
        await self.open.wait()


def hellinger_fidelity(counts: dict[str, int], ideal: dict[str, float]) -> float:
    total = sum(counts.values())
    keys = set(counts) | set(ideal)
    return float(sum(np.sqrt(counts.get(k, 0) / total * ideal.get(k, 0.0)) for k in keys) ** 2)


def jain(values: list[float]) -> float:
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def scaled_zz(params: DeviceParameters, factor: float) -> DeviceParameters:
    """``params`` with every pair's ZZ rate multiplied by ``factor``."""
    pairs = {k: dataclasses.replace(p, zz_khz=p.zz_khz * factor)
             for k, p in params.pairs.items()}
    return dataclasses.replace(params, pairs=pairs)


#: Widest merged program simulated on ``sc-wukong-72``: the exact density matrix's limit (noisy
#: trajectories of 14 Wukong-class qubits take minutes per program on a 2-CPU machine).
WUKONG_SIMULATED_QUBITS = 10


def _wukong() -> tuple[QpuCapabilities, DeviceParameters]:
    caps, params = origin_wukong()
    return dataclasses.replace(caps, max_simulated_qubits=WUKONG_SIMULATED_QUBITS), params


DEVICES: dict[str, Callable[[], tuple[QpuCapabilities, DeviceParameters]]] = {
    "sc-grid-16": superconducting_grid,
    "sc-wukong-72": _wukong,
}


def policy_changes(policy: SchedulerPolicy) -> str:
    """The fields of ``policy`` that differ from the kernel's defaults, as text."""
    default = SchedulerPolicy()
    changed = [f"{f.name} = {getattr(policy, f.name)!r}" for f in dataclasses.fields(policy)
               if getattr(policy, f.name) != getattr(default, f.name)]
    return ", ".join(changed) if changed else "the defaults"


async def _run(kernel: Kernel, gate: _Gate, submissions: list[tuple[str, str, str, int]],
               qpu_id: str) -> tuple[list, float]:
    jobs = []
    for owner, name, qasm, seed in submissions:
        request = qs_pb2.SubmitJobRequest(
            qpu_id=qpu_id, programs=[common_pb2.Program(openqasm=qasm)],
            shot_count=SHOTS, seed=seed, name=name)
        jobs.append(await kernel.submit(request, owner=owner))
    gate.open.set()
    start = time.perf_counter()
    while True:
        done = [kernel.get(j.job_id) for j in jobs]
        if all(j.state.is_terminal for j in done):
            return done, time.perf_counter() - start
        await asyncio.sleep(0.02)


async def _kernel(policy: SchedulerPolicy, caps: QpuCapabilities, params: DeviceParameters
                  ) -> tuple[Kernel, _Gate]:
    gate = _Gate()
    driver = SimulatedQpuDriver(caps, params, drift=False, seed=1)
    kernel = Kernel(QpuRegistry([driver]), JobStore(":memory:"), _Null(), workers=2,
                    policy=policy, maintenance=gate)
    await kernel.start()
    return kernel, gate


@dataclasses.dataclass
class Run:
    jobs_per_hour: float
    fidelity: float
    packed: int
    alone: int
    programs: float
    wall_s: float


async def throughput(policy: SchedulerPolicy, qpu_id: str, seed: int, *, zz_factor: float = 1.0
                     ) -> Run:
    caps, params = DEVICES[qpu_id]()
    kernel, gate = await _kernel(policy, caps, scaled_zz(params, zz_factor))
    names = list(WORKLOAD)
    picks = [(u, k, names[(u + k) % len(names)]) for k in range(JOBS_PER_USER)
             for u in range(USERS)]
    submissions = [(f"user{u}", name, WORKLOAD[name][0], seed * 1000 + u * 100 + k)
                   for u, k, name in picks]
    done, wall = await _run(kernel, gate, submissions, caps.qpu_id)
    await kernel.stop()
    device_s = sum(j.device_time_s for j in done)
    fidelity = statistics.mean(hellinger_fidelity(dict(j.result.experiments[0].counts),
                                                  WORKLOAD[j.request.name][1]) for j in done)
    packed = sum("multi-programmed" in j.placement_reason for j in done)
    programs = sum(1.0 / (1 + int(j.placement_reason.split(" other job")[0].split()[-1]))
                   if "multi-programmed" in j.placement_reason else 1.0 for j in done)
    return Run(len(done) / (device_s / 3600.0), fidelity, packed, len(done) - packed,
               programs, wall)


async def fairness(policy: SchedulerPolicy) -> tuple[float, float, list[float], list[float]]:
    caps, params = trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False, seed=24)
    kernel, gate = await _kernel(policy, caps, params)
    loads = {"heavy": 12, "medium": 6, "light": 2}
    submissions = [(owner, "ghz3", GHZ3, i) for owner, n in loads.items() for i in range(n)]
    done, _ = await _run(kernel, gate, submissions, caps.qpu_id)
    await kernel.stop()
    used = dict.fromkeys(loads, 0.0)
    last = dict.fromkeys(loads, 0.0)
    clock = 0.0  # device clock: one QPU, so the device time of every result so far
    for job in sorted(done, key=lambda j: j.end_time):  # the whole run
        clock += job.device_time_s
        used[job.owner] += job.device_time_s
        last[job.owner] = clock
    total = sum(used.values())
    shares = [used[u] / total for u in loads]
    stretch = [last[u] / used[u] for u in loads]
    return jain(shares), jain(stretch), shares, stretch


def crosstalk_isolation(qpu_id: str, *, zz_factor: float = 1.0
                        ) -> list[tuple[str, tuple[int, ...], float, float, float]]:
    """The workload packed as the kernel would (default policy, scheduling order), each merged
    program run on the driver, and every packed job run again alone on its own region:
    ``(job, region, fidelity packed, fidelity alone there, predicted crosstalk factor)``."""
    caps, params = DEVICES[qpu_id]()
    params = scaled_zz(params, zz_factor)
    policy = SchedulerPolicy()
    driver = SimulatedQpuDriver(caps, params, drift=False, seed=1)
    names = list(WORKLOAD)
    jobs = [(f"{names[(u + k) % len(names)]}#{u}.{k}",
             parse_qasm(WORKLOAD[names[(u + k) % len(names)]][0]))
            for k in range(JOBS_PER_USER) for u in range(USERS)]
    options = ExecutionOptions(shot_count=4 * SHOTS, seed=11)
    out_rows = []
    while len(jobs) > 1:
        merged = pack(jobs, caps, params, max_jobs=policy.multiprogramming_max_jobs,
                      max_fidelity_loss=policy.multiprogramming_max_fidelity_loss)
        if merged is None:
            break
        out = driver.execute(prepare_merged(driver, merged.circuit), np.zeros((1, 0)), options)
        for plan, counts in zip(merged.plans, split_counts(out.counts[0], merged)):
            ideal = WORKLOAD[plan.job_id.split("#")[0]][1]
            alone = driver.execute(prepare_merged(driver, plan.circuit), np.zeros((1, 0)),
                                   options)
            out_rows.append((plan.job_id, plan.region, hellinger_fidelity(counts, ideal),
                             hellinger_fidelity(alone.counts[0], ideal), plan.crosstalk_factor))
        packed = {p.job_id for p in merged.plans}
        jobs = [j for j in jobs if j[0] not in packed]
    return out_rows


def _fmt(values: list[float], digits: int = 3) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}g}"
    return (f"{statistics.median(values):.{digits}g} ({min(values):.{digits}g}–"
            f"{max(values):.{digits}g})")


async def report(repeats: int = REPEATS) -> list[str]:
    """Runs every measurement of the module docstring ``repeats`` times; the report's lines."""
    load_before = os.getloadavg()
    packing = SchedulerPolicy()
    alone = dataclasses.replace(packing, multiprogramming=False)
    lines = ["# Scheduling benchmark", "",
             f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
             f"{sys.version.split()[0]}, numpy {np.__version__}; load average before "
             f"{load_before[0]:.2f}. Medians of {repeats} runs (min–max).", "",
             f"## Multi-programming ({USERS * JOBS_PER_USER} jobs from {USERS} users: "
             f"{', '.join(WORKLOAD)}; {SHOTS} shots)", "",
             f"Policies: packed = {policy_changes(packing)} (multiprogramming_max_jobs = "
             f"{packing.multiprogramming_max_jobs}, multiprogramming_max_fidelity_loss = "
             f"{packing.multiprogramming_max_fidelity_loss}); one at a time = "
             f"{policy_changes(alone)}. Drift off; ZZ coupling and spectator errors on (the "
             "devices' own rates) in both modes. sc-wukong-72 simulates at most "
             f"{WUKONG_SIMULATED_QUBITS} active qubits per program (the packer keeps merged "
             "programs within it), so that every program runs on the exact density matrix.",
             "",
             "| QPU | mode | jobs per device-hour | mean Hellinger fidelity | jobs packed / ran "
             "alone | programs run | wall s |", "|---|---|---|---|---|---|---|"]
    summary = []
    for qpu_id in DEVICES:
        results: dict[bool, list[Run]] = {}
        for mp, policy in ((False, alone), (True, packing)):
            runs = [await throughput(policy, qpu_id, seed) for seed in range(repeats)]
            results[mp] = runs
            mid = runs[len(runs) // 2]
            lines.append(f"| {qpu_id} | {'multi-programmed' if mp else 'one at a time'} | "
                         f"{_fmt([r.jobs_per_hour for r in runs])} | "
                         f"{_fmt([r.fidelity for r in runs], 4)} | {mid.packed} / {mid.alone} | "
                         f"{mid.programs:.0f} | {_fmt([r.wall_s for r in runs], 2)} |")
        ratio = [a.jobs_per_hour / b.jobs_per_hour for a, b in zip(results[True], results[False])]
        loss = [1 - a.fidelity / b.fidelity for a, b in zip(results[True], results[False])]
        lines.append(f"| | MP / one at a time | {_fmt(ratio)} | relative loss "
                     f"{_fmt([100 * x for x in loss], 2)} % | | | |")
        summary.append((qpu_id, statistics.median(ratio), statistics.median(loss)))
    lines += ["", "Packed jobs run on the regions the packer chooses by calibrated quality, jobs "
              "run alone on the driver's own layout, so the two modes also differ by placement; "
              "the crosstalk table below compares the same qubits."]
    lines += ["", "Target ≥ 2× jobs per device-hour at ≤ 3 % fidelity loss: " + "; ".join(
        f"{q}: {r:.2f}× at {100 * x:.2f} % ({'met' if r >= 2 and x <= 0.03 else 'not met'})"
        for q, r, x in summary) + ".", ""]
    lines += ["### Sensitivity: sc-grid-16 with every pair's ZZ rate scaled", "",
              "| ZZ rate × | mode | jobs per device-hour | mean Hellinger fidelity | jobs packed / "
              "ran alone | programs run |", "|---|---|---|---|---|---|"]
    for factor in (0.0, 1.0, 10.0):
        for mp, policy in ((False, alone), (True, packing)):
            run = await throughput(policy, "sc-grid-16", 0, zz_factor=factor)
            lines.append(f"| {factor:g} | {'multi-programmed' if mp else 'one at a time'} | "
                         f"{run.jobs_per_hour:.3g} | {run.fidelity:.4f} | {run.packed} / "
                         f"{run.alone} | {run.programs:.0f} |")
    lines += ["", "### Crosstalk on the same qubits: packed vs alone on the job's own region", "",
              "The workload packed as the kernel packs it (default policy), each merged program "
              f"run with {4 * SHOTS} shots, and each packed job run again alone on its region: "
              "the measured loss is crosstalk only (same qubits, same compiled circuit); the "
              "predicted loss is the packer's crosstalk factor.", "",
              "| QPU | ZZ rate × | packed jobs | mean measured loss | mean predicted loss | "
              "largest measured loss | largest predicted loss |", "|---|---|---|---|---|---|---|"]
    for qpu_id, factor in (("sc-grid-16", 1.0), ("sc-grid-16", 10.0), ("sc-wukong-72", 1.0)):
        rows = crosstalk_isolation(qpu_id, zz_factor=factor)
        measured = [1 - packed / alone for _, _, packed, alone, _ in rows]
        predicted = [1 - f for *_, f in rows]
        lines.append(f"| {qpu_id} | {factor:g} | {len(rows)} | "
                     f"{100 * statistics.mean(measured):.2f} % | "
                     f"{100 * statistics.mean(predicted):.2f} % | {100 * max(measured):.2f} % | "
                     f"{100 * max(predicted):.2f} % |")
    fifo = dataclasses.replace(SchedulerPolicy(), weight_fair_share=0.0)
    lines += ["", "## Fairness (3 users submitting 12, 6 and 2 GHZ-3 jobs at once, in that "
              "order, on ion-ideal-24)", "",
              f"Policies: fair share = {policy_changes(SchedulerPolicy())} (weight_fair_share "
              f"= {SchedulerPolicy().weight_fair_share}, weight_age = "
              f"{SchedulerPolicy().weight_age}, multiprogramming_max_jobs = "
              f"{SchedulerPolicy().multiprogramming_max_jobs}); FIFO = {policy_changes(fifo)}. "
              "Both indices over the whole run.", "",
              "| policy | Jain's index of device-time shares | shares (heavy, medium, light) | "
              "Jain's index of stretch | stretch (heavy, medium, light) |",
              "|---|---|---|---|---|"]
    fair_rows = []
    for name, policy in (("FIFO", fifo), ("fair share", SchedulerPolicy())):
        runs = [await fairness(policy) for _ in range(repeats)]
        mid = runs[len(runs) // 2]
        lines.append(f"| {name} | {_fmt([r[0] for r in runs])} | "
                     f"{', '.join(f'{s:.2f}' for s in mid[2])} | {_fmt([r[1] for r in runs])} | "
                     f"{', '.join(f'{s:.2f}' for s in mid[3])} |")
        fair_rows.append(mid)
    if abs(fair_rows[0][0] - fair_rows[1][0]) < 1e-9:
        lines += ["", "Over the whole run every job of every user runs, so the device-time shares "
                  "equal the loads under either policy (the same Jain's index); the policy shows "
                  "in the stretch: fair share brings the light user's from "
                  f"{fair_rows[0][3][2]:.2f} to {fair_rows[1][3][2]:.2f} (Jain's index "
                  f"{fair_rows[0][1]:.3f} → {fair_rows[1][1]:.3f})."]
    lines += [""] + eta_lines(await measure_etas())
    return lines + [f"Load average after: {os.getloadavg()[0]:.2f}.", ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    lines = asyncio.run(report(args.repeats))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
