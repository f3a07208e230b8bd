"""Queue ETAs against actual starts, for the scheduling report.

A kernel with one noiseless 24-qubit ion QPU (compiled kernels loaded first, as the service
does) runs two jobs that teach it the QPU's rate, then receives a mixed queue at once: widths
17-20, 1-4 parameter sets, two users. Each queued job's ``estimated_start_time`` is read right
after the last submission and compared with its actual ``start_time``; the error is relative to
the actual wait. Jobs that waited under 1 s are listed but not scored (20 % of a few hundred ms
is below the scheduling jitter).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.faults import wide_program
from broker.publisher import NullPublisher
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from quantum_service.drivers.fleet import trapped_ion_chain
from quantum_service.drivers.simulated import SimulatedQpuDriver
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuRegistry
from quantum_service.kernel.store import JobStore
from quantum_service.simulator import warm_up

__all__ = ["EtaRow", "MIX", "TARGET", "eta_lines", "measure_etas"]

QPU = "ion-ideal-24"

#: ``(qubits, parameter sets)`` of the mixed queue, in submission order.
MIX = ((20, 4), (19, 2), (17, 3), (20, 1), (18, 2), (19, 1), (20, 1), (18, 3))

#: Largest relative error of a scored ETA.
TARGET = 0.20

#: Shortest wait that is scored, seconds.
MIN_WAIT_S = 1.0


@dataclass(frozen=True, slots=True)
class EtaRow:
    """One queued job: its shape, the predicted and the actual wait from the last submission,
    seconds (``predicted_s`` is None when it was already running)."""

    qubits: int
    parameter_sets: int
    predicted_s: float | None
    waited_s: float

    @property
    def scored(self) -> bool:
        return self.predicted_s is not None and self.waited_s >= MIN_WAIT_S

    @property
    def error(self) -> float:
        """``|predicted - waited| / waited`` (scored rows)."""
        assert self.predicted_s is not None
        return abs(self.predicted_s - self.waited_s) / self.waited_s


def _job(qubits: int, parameter_sets: int) -> qs_pb2.SubmitJobRequest:
    return qs_pb2.SubmitJobRequest(
        qpu_id=QPU, shot_count=50,
        programs=[common_pb2.Program(openqasm=wide_program(qubits, 6))],
        parameter_sets=[common_pb2.ParameterSet(values=[0.1 * i])
                        for i in range(parameter_sets)])


#: Seconds between polls of the jobs' states: every read of a queued job replays the queue for
#: its ETA and decodes it from the store on the event loop, which competes with the simulation
#: for the interpreter, so polling every few milliseconds would slow the jobs it measures.
POLL_S = 0.1


async def _until(predicate, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("jobs did not finish")
        await asyncio.sleep(POLL_S)


async def measure_etas() -> list[EtaRow]:
    """Runs the scenario of the module docstring; one row per job of :data:`MIX`."""
    warm_up()
    driver = SimulatedQpuDriver(*trapped_ion_chain(QPU, qubit_count=24, noisy=False, seed=24),
                                drift=False)
    with tempfile.TemporaryDirectory() as tmp:
        kernel = Kernel(QpuRegistry([driver]), JobStore(Path(tmp) / "jobs.sqlite"),
                        NullPublisher())
        await kernel.start()
        try:
            for request in (_job(18, 2), _job(19, 1)):
                job = await kernel.submit(request, owner="warmup")
                await _until(lambda j=job: kernel.get(j.job_id).state.is_terminal)
            jobs = [await kernel.submit(_job(q, m), owner=f"user{i % 2}")
                    for i, (q, m) in enumerate(MIX)]
            now = time.time()
            etas = [kernel.get(j.job_id).estimated_start_time for j in jobs]
            await _until(lambda: all(kernel.get(j.job_id).state.is_terminal for j in jobs))
            rows = []
            for (q, m), job, eta in zip(MIX, jobs, etas):
                start = kernel.get(job.job_id).start_time
                assert start is not None
                rows.append(EtaRow(q, m, None if eta is None else eta.timestamp() - now,
                                   start.timestamp() - now))
            return rows
        finally:
            await kernel.stop()


def eta_lines(rows: list[EtaRow]) -> list[str]:
    """The report's ETA section (Markdown lines)."""
    scored = [r for r in rows if r.scored]
    lines = ["## Queue ETA against the actual start", "",
             f"{len(MIX)} jobs queued at once on `{QPU}` (noiseless, state vector) after two "
             "jobs taught the QPU its rate; ETAs read right after the last submission. The "
             "error is relative to the actual wait; waits under "
             f"{MIN_WAIT_S:.0f} s are not scored.", "",
             "| job | qubits | parameter sets | predicted wait (s) | actual wait (s) | error |",
             "|---|---|---|---|---|---|"]
    for i, r in enumerate(rows, start=1):
        predicted = "running" if r.predicted_s is None else f"{r.predicted_s:.2f}"
        error = f"{100 * r.error:.0f} %" if r.scored else "not scored"
        lines.append(f"| {i} | {r.qubits} | {r.parameter_sets} | {predicted} | "
                     f"{r.waited_s:.2f} | {error} |")
    if scored:
        worst = max(r.error for r in scored)
        median = statistics.median(r.error for r in scored)
        verdict = "met" if worst <= TARGET else "missed"
        lines += ["", f"Scored {len(scored)} jobs: median error {100 * median:.0f} %, worst "
                  f"{100 * worst:.0f} % — the target (every ETA within {100 * TARGET:.0f} % of "
                  f"the actual start) is {verdict}."]
    else:
        lines += ["", "No job waited long enough to be scored."]
    return lines + [""]


if __name__ == "__main__":
    print("\n".join(eta_lines(asyncio.run(measure_etas()))))
