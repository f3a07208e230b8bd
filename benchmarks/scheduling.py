"""Scheduling benchmark: multi-programming throughput/fidelity and fair-share fairness.

Run: ``python -m benchmarks.scheduling`` (writes ``benchmarks/SCHEDULING_REPORT.md``). Drives
the kernel in-process (no gRPC):

1. A mixed workload of small circuits (Bell, GHZ-3, |111>) from three users, all queued before
   the QPU starts, run with multi-programming and one program at a time: jobs per device-hour
   (device time as the drivers account it) and mean Hellinger fidelity of each job's counts vs
   its ideal distribution (Hellinger fidelity ``(Σ_x sqrt(p_x q_x))²``, as Qiskit's
   ``hellinger_fidelity``).
2. Three users with unequal loads (12, 6 and 2 jobs) on one QPU, fair share on vs plain FIFO
   (age only): Jain's index ``(Σ x_i)² / (n Σ x_i²)`` (Jain, Chiu, Hawe, DEC-TR-301 (1984)) of
   the users' device-time shares while all three still had work queued.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.drivers.fleet import superconducting_grid, trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.scheduler import SchedulerPolicy
from quantum_service.kernel.store import JobStore

REPORT = Path(__file__).with_name("SCHEDULING_REPORT.md")
WORKLOAD = {
    "bell": ("OPENQASM 2.0; qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; measure q -> c;",
             {"00": 0.5, "11": 0.5}),
    "ghz3": ("OPENQASM 2.0; qreg q[3]; creg c[3]; h q[0]; cx q[0],q[1]; cx q[1],q[2]; "
             "measure q -> c;", {"000": 0.5, "111": 0.5}),
    "ones": ("OPENQASM 2.0; qreg q[3]; creg c[3]; x q[0]; x q[1]; x q[2]; measure q -> c;",
             {"111": 1.0}),
}
REPEATS = 3


class _Null:
    def publish_threadsafe(self, message) -> None:
        pass


class _Gate:
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


async def _run(kernel: Kernel, gate: _Gate, submissions: list[tuple[str, str, int]], qpu_id: str
               ) -> list:
    jobs = []
    for owner, name, seed in submissions:
        request = qs_pb2.SubmitJobRequest(
            qpu_id=qpu_id, programs=[common_pb2.Program(openqasm=WORKLOAD[name][0])],
            shot_count=1000, seed=seed, name=name)
        jobs.append(await kernel.submit(request, owner=owner))
    gate.open.set()
    while True:
        done = [kernel.get(j.job_id) for j in jobs]
        if all(j.state.is_terminal for j in done):
            return done
        await asyncio.sleep(0.02)


DEVICES = {
    "ion-ideal-24": lambda: trapped_ion_chain("ion-ideal-24", qubit_count=24, noisy=False,
                                              seed=24),
    "ion-chain-11": trapped_ion_chain,
    "sc-grid-16": superconducting_grid,
}


async def _kernel(policy: SchedulerPolicy, *, qpu_id: str = "ion-ideal-24"
                  ) -> tuple[Kernel, _Gate, str]:
    caps, params = DEVICES[qpu_id]()
    gate = _Gate()
    kernel = Kernel(QpuRegistry([SimulatedQpuDriver(caps, params)]), JobStore(":memory:"),
                    _Null(), workers=2, policy=policy, maintenance=gate)
    await kernel.start()
    return kernel, gate, qpu_id


async def throughput(multiprogramming: bool, qpu_id: str, seed: int
                     ) -> tuple[float, float, float]:
    policy = SchedulerPolicy(multiprogramming=multiprogramming, multiprogramming_max_jobs=3,
                             multiprogramming_max_fidelity_loss=0.1)
    kernel, gate, qpu_id = await _kernel(policy, qpu_id=qpu_id)
    names = list(WORKLOAD)
    submissions = [(f"user{i % 3}", names[i % 3], seed * 100 + i) for i in range(12)]
    start = time.perf_counter()
    done = await _run(kernel, gate, submissions, qpu_id)
    wall = time.perf_counter() - start
    await kernel.stop()
    device_s = sum(j.device_time_s for j in done)
    fidelity = statistics.mean(hellinger_fidelity(dict(j.result.experiments[0].counts),
                                                  WORKLOAD[j.request.name][1]) for j in done)
    return len(done) / (device_s / 3600.0), fidelity, wall


async def fairness(fair_share: bool) -> tuple[float, list[float]]:
    policy = SchedulerPolicy(multiprogramming=False, weight_fair_share=0.5 if fair_share else 0.0,
                             weight_priority=0.0, weight_age=0.5, max_age_s=1e9)
    kernel, gate, qpu_id = await _kernel(policy)
    loads = {"heavy": 12, "medium": 6, "light": 2}
    submissions = [(owner, "ghz3", i) for owner, n in loads.items() for i in range(n)]
    done = await _run(kernel, gate, submissions, qpu_id)
    await kernel.stop()
    done.sort(key=lambda j: j.start_time)
    remaining = dict(loads)
    used = dict.fromkeys(loads, 0.0)
    for job in done:  # the window while every user still has work queued
        if min(remaining.values()) == 0:
            break
        used[job.owner] += job.device_time_s
        remaining[job.owner] -= 1
    total = sum(used.values())
    shares = [used[u] / total for u in loads]
    return jain(shares), shares


def _fmt(values: list[float], digits: int = 3) -> str:
    return (f"{statistics.median(values):.{digits}g} ({min(values):.{digits}g}–"
            f"{max(values):.{digits}g})")


async def main() -> None:
    load_before = os.getloadavg()
    lines = ["# Scheduling benchmark", "",
             f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
             f"{sys.version.split()[0]}, numpy {np.__version__}; load average before "
             f"{load_before[0]:.2f}. Medians of {REPEATS} runs (min–max).", "",
             "## Multi-programming (12 jobs: Bell, GHZ-3, |111>, 1000 shots, 3 users)", "",
             "| QPU | mode | jobs per device-hour | mean Hellinger fidelity | wall s |",
             "|---|---|---|---|---|"]
    for qpu_id in DEVICES:
        results = {}
        for mp in (False, True):
            runs = [await throughput(mp, qpu_id, seed) for seed in range(REPEATS)]
            results[mp] = runs
            label = qpu_id if qpu_id == "ion-ideal-24" else f"{qpu_id} (noisy)"
            lines.append(f"| {label} | "
                         f"{'multi-programmed' if mp else 'one at a time'} | "
                         f"{_fmt([r[0] for r in runs])} | {_fmt([r[1] for r in runs], 4)} | "
                         f"{_fmt([r[2] for r in runs], 2)} |")
        ratio = [a[0] / b[0] for a, b in zip(results[True], results[False])]
        lines.append(f"| | ratio MP / one at a time | {_fmt(ratio)} | | |")
    lines += ["", "## Fairness (3 users submitting 12, 6 and 2 GHZ-3 jobs at once, one QPU)", "",
              "| policy | Jain's index | device-time shares (heavy, medium, light) |",
              "|---|---|---|"]
    for fair in (False, True):
        runs = [await fairness(fair) for _ in range(REPEATS)]
        shares = runs[len(runs) // 2][1]
        lines.append(f"| {'fair share' if fair else 'FIFO'} | {_fmt([r[0] for r in runs])} | "
                     f"{', '.join(f'{s:.2f}' for s in shares)} |")
    lines += ["", f"Load average after: {os.getloadavg()[0]:.2f}.", ""]
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
