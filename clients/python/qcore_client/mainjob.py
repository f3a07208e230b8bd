"""qcore's main job (``make run``): hybrid VQE and QAOA over gRPC, with MQTT telemetry.

Starts a local stack (broker if none answers, quantum service, classical service), subscribes a
telemetry monitor to ``{QCORE_TOPIC_PREFIX}/#`` (``qcore/v1/#`` by default), then asks the
classical service to minimise:

* H2 and LiH ground-state energies (STO-3G, shipped Hamiltonians) on the ideal QPU and on the
  noisy superconducting QPU (exact expectation values of the noisy device: the error is the
  noise's, reported as it is);
* BeH2 and H2O (10 qubits each, ADAPT-selected excitation ansatz, L-BFGS-B with adjoint
  gradients) on the ideal QPU. They are not minimised on a noisy QPU: one exact noisy
  evaluation of their ~3400-gate circuits (density matrix, 10 qubits) takes about half a minute
  on ``ion-chain-11`` and longer on the routed ``sc-grid-16``, so a noisy VQE would take many
  minutes. With ``--full`` (``make run-full``) the ideal optimum of each is evaluated once on
  ``ion-chain-11``, and its error is reported;
* QAOA MaxCut on Padgett's Florentine families graph on the ideal QPU.

Prints a summary table and writes ``out/run_summary.json``:
``{"runs": [{problem, qpu_id, noisy, qubit_count, energy, exact_energy, error, iterations,
wall_s, device_time_s, ...}], "telemetry_messages": N}``. Stops everything it started.
The main job's services listen on free ports, so it never collides with a running stack.

``--services-only`` (``make services``) starts the stack on the documented ports instead —
``QCORE_QUANTUM_PORT`` (default 50051) and ``QCORE_CLASSICAL_PORT`` (default 50052), where the
SDK and the CLI connect by default — and waits until Ctrl-C or SIGTERM. A taken port ends it at
once with exit status 2 and one line on stderr naming the variable to set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qcore_client.client import (
    CLASSICAL_ADDRESS_ENV,
    DEFAULT_CLASSICAL_ADDRESS,
    DEFAULT_QUANTUM_ADDRESS,
    QUANTUM_ADDRESS_ENV,
    ClassicalClient,
    QuantumClient,
)
from broker.credentials import MqttCredentials
from qcore.v1 import common_pb2
from qcore_client.launcher import LocalStack, PortInUseError
from qcore_client.problems.maxcut import maxcut_problem, qaoa_ansatz
from qcore_client.problems.molecules import (
    CHEMICAL_ACCURACY_HARTREE,
    ansatz,
    excitation_ansatz,
    has_excitation_ansatz,
    load_molecule,
)

__all__ = ["RunSpec", "main_job", "main"]

IDEAL_QPU = "ion-ideal-24"
NOISY_QPU = "sc-grid-16"


@dataclass(frozen=True)
class RunSpec:
    """One minimisation of the main job."""

    problem: str
    qpu_id: str
    optimizer: str = "l-bfgs-b"
    max_iterations: int = 200
    tolerance: float = 1e-9
    shot_count: int = 0
    qaoa_layers: int = 2
    adjoint_gradient: bool = False

    @property
    def label(self) -> str:
        return f"{self.problem} on {self.qpu_id}"


DEFAULT_RUNS = (
    RunSpec("h2", IDEAL_QPU),
    RunSpec("lih", IDEAL_QPU),
    RunSpec("h2", NOISY_QPU, max_iterations=60, tolerance=1e-7),
    RunSpec("lih", NOISY_QPU, max_iterations=60, tolerance=1e-7),
    RunSpec("beh2", IDEAL_QPU, adjoint_gradient=True, tolerance=1e-10),
    RunSpec("h2o", IDEAL_QPU, adjoint_gradient=True, tolerance=1e-10),
    RunSpec("maxcut-florentine", IDEAL_QPU, optimizer="cobyla", max_iterations=120,
            tolerance=1e-4),
)


#: ``--full`` (``make run-full``): molecules whose ideal-QPU optimum is then evaluated once,
#: exactly, on :data:`NOISY_AT_OPTIMUM_QPU` (its exact density matrix: about half a minute
#: each). A noisy minimisation of their ~3400-gate circuits would take hours here; the
#: evaluation at the ideal optimum gives the energy error the device's noise adds to the best
#: ansatz state.
NOISY_AT_OPTIMUM = ("beh2", "h2o")
#: The noisy trapped-ion chain: all-to-all, so the circuits run unrouted.
NOISY_AT_OPTIMUM_QPU = "ion-chain-11"


def linear_ramp(layers: int, dt: float = 0.75) -> list[float]:
    """QAOA start point from a discretised linear anneal (``gamma_0, beta_0, gamma_1, ...``).

    ``gamma_k = (k + 1/2)/p * dt`` and ``beta_k = -(1 - (k + 1/2)/p) * dt``: the trotterised
    adiabatic schedule of Sack & Serbyn, "Quantum annealing initialization of the quantum
    approximate optimization algorithm", Quantum 5, 491 (2021). ``beta`` is negative because
    the mixer here is ``exp(-i beta sum X)`` and the anneal starts in the ground state of
    ``-sum X``. At ``gamma = beta = 0`` the gradient vanishes, so a zero start would stall.
    """
    points = []
    for k in range(layers):
        s = (k + 0.5) / layers
        points += [s * dt, -(1 - s) * dt]
    return points


def _problem(spec: RunSpec) -> tuple[Any, Any, float, dict[str, Any]]:
    """(circuit, observable, exact_energy, extra fields) of a run."""
    if spec.problem.startswith("maxcut-"):
        problem = maxcut_problem(spec.problem.removeprefix("maxcut-"))
        circuit = qaoa_ansatz(problem, layers=spec.qaoa_layers)
        return circuit, problem.observable, -problem.max_cut_value, {
            "initial_parameters": linear_ramp(spec.qaoa_layers),
            "maxcut_value": problem.max_cut_value, "qaoa_layers": spec.qaoa_layers,
            "graph": problem.name}
    molecule = load_molecule(spec.problem)
    circuit = excitation_ansatz(molecule) if has_excitation_ansatz(molecule) else ansatz(molecule)
    return circuit, molecule.observable, molecule.exact_energy, {
        "fci_energy": molecule.fci_energy, "hf_energy": molecule.hf_energy,
        "ansatz": circuit.name}


def _run_one(spec: RunSpec, classical: ClassicalClient, progress: Progress, task) -> dict:
    circuit, observable, exact, extra = _problem(spec)
    initial = extra.pop("initial_parameters", ())
    began = time.perf_counter()
    result = None
    for response in classical.minimize(
            circuit, observable, optimizer=spec.optimizer, qpu_id=spec.qpu_id,
            shot_count=spec.shot_count, max_iterations=spec.max_iterations,
            initial_parameters=initial,
            tolerance=spec.tolerance, seed=7, name=spec.label,
            adjoint_gradient=spec.adjoint_gradient):
        if response.WhichOneof("response") == "iteration":
            it = response.iteration
            progress.update(task, completed=it.iteration,
                            description=f"{spec.label:<32} E={it.energy:+.6f}")
        else:
            result = response.result
    wall = time.perf_counter() - began
    progress.update(task, completed=spec.max_iterations)
    energy = result.energy
    run = {
        "problem": spec.problem, "qpu_id": result.qpu_id, "noisy": spec.qpu_id != IDEAL_QPU,
        "qubit_count": circuit.qubit_count, "energy": energy, "exact_energy": exact,
        "error": energy - exact, "iterations": result.iteration_count,
        "evaluations": result.evaluation_count, "optimizer": spec.optimizer,
        "shot_count": spec.shot_count, "parameter_count": circuit.parameter_count,
        "converged": result.converged, "wall_s": wall, "device_time_s": result.device_time_s,
        "parameters": list(result.parameters), **extra,
    }
    if spec.problem.startswith("maxcut-"):
        run["approximation_ratio"] = -energy / extra["maxcut_value"]
    else:
        run["chemically_accurate"] = abs(run["error"]) < CHEMICAL_ACCURACY_HARTREE
    return run


def _noisy_at_optimum(run: dict, quantum: QuantumClient, progress: Progress, task) -> dict:
    """The ideal run's optimum evaluated exactly on :data:`NOISY_AT_OPTIMUM_QPU` (one job)."""
    qpu = NOISY_AT_OPTIMUM_QPU
    spec = RunSpec(run["problem"], qpu)
    circuit, observable, exact, extra = _problem(spec)
    began = time.perf_counter()
    progress.update(task, description=f"{run['problem']} optimum on {qpu}")
    job = quantum.submit_job(circuit, observable=observable, shot_count=0,
                             parameter_sets=[run["parameters"]], qpu_id=qpu,
                             name=f"{run['problem']} ideal optimum on {qpu}")
    job = quantum.wait(job.job_id)
    progress.update(task, completed=1)
    if job.state != common_pb2.JobState.JOB_STATE_SUCCEEDED:
        raise RuntimeError(f"job {job.job_id} ended {common_pb2.JobState.Name(job.state)}: "
                           f"{job.error_message}")
    energy = job.result.experiments[0].expectation_value
    return {"problem": run["problem"], "qpu_id": qpu, "noisy": True,
            "qubit_count": circuit.qubit_count, "energy": energy, "exact_energy": exact,
            "error": energy - exact, "iterations": 0, "evaluations": 1,
            "optimizer": f"none: the optimum on {run['qpu_id']}", "shot_count": 0,
            "parameter_count": circuit.parameter_count, "converged": run["converged"],
            "wall_s": time.perf_counter() - began, "device_time_s": job.device_time_s,
            "chemically_accurate": abs(energy - exact) < CHEMICAL_ACCURACY_HARTREE,
            "evaluated_at": f"optimum of the {run['qpu_id']} run", **extra}


class _Monitor:
    """Counts telemetry received over MQTT, on a thread of its own."""

    def __init__(self, url: str, credentials: MqttCredentials | None = None) -> None:
        from broker.subscriber import TelemetryCollector
        from broker.topics import configured_prefix

        self.url = url
        self.credentials = credentials
        self.prefix = configured_prefix()  # QCORE_TOPIC_PREFIX, as the services read it
        self.collector = TelemetryCollector(prefix=self.prefix)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        from broker.subscriber import TelemetrySubscriber

        async def consume(subscriber: TelemetrySubscriber) -> None:
            async for topic, message in subscriber:
                self.collector.add(topic, message)

        async with TelemetrySubscriber(self.url, prefix=self.prefix,
                                       credentials=self.credentials) as subscriber:
            self._ready.set()
            consumer = asyncio.create_task(consume(subscriber))
            while not self._stop.is_set() and not consumer.done():
                await asyncio.sleep(0.1)
            consumer.cancel()
            await asyncio.gather(consumer, return_exceptions=True)

    def start(self) -> _Monitor:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> int:
        time.sleep(0.5)  # let the last messages arrive
        self._stop.set()
        self._thread.join(5)
        return self.collector.total


def _summary_table(runs: list[dict], telemetry: int) -> Table:
    table = Table(title=f"qcore main job — telemetry messages received: {telemetry}")
    for column in ("problem", "QPU", "qubits", "energy", "exact", "error", "iter",
                   "wall s", "device s"):
        table.add_column(column, justify="right" if column not in ("problem", "QPU") else "left")
    for run in runs:
        ok = run.get("chemically_accurate")
        err = f"{run['error']:+.2e}"
        if ok is not None:
            err = f"[{'green' if ok else 'yellow'}]{err}[/]"
        table.add_row(run["problem"], run["qpu_id"] + (" (noisy)" if run["noisy"] else ""),
                      str(run["qubit_count"]), f"{run['energy']:.6f}",
                      f"{run['exact_energy']:.6f}", err, str(run["iterations"]),
                      f"{run['wall_s']:.1f}", f"{run['device_time_s']:.3g}")
    return table


def main_job(stack: LocalStack, runs: tuple[RunSpec, ...], console: Console, *,
             noisy_at_optimum: Sequence[str] = ()) -> dict:
    """Runs ``runs`` against a started stack; returns the summary dict. For the molecules in
    ``noisy_at_optimum``, the ideal-QPU optimum is then evaluated on the noisy QPU."""
    monitor = _Monitor(stack.mqtt_url, stack.mqtt_credentials).start()
    with QuantumClient(stack.quantum_address, token=stack.token) as quantum:
        qpus = quantum.list_qpus()
    console.print("[bold]QPUs[/]: " + ", ".join(
        f"{q.qpu_id} ({q.qubit_count} qubits{', noisy' if q.noisy else ', ideal'})" for q in qpus))
    results: list[dict] = []
    progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn(
        "{task.completed}/{task.total} it"), TimeElapsedColumn(), console=console)
    with ClassicalClient(stack.classical_address, token=stack.token) as classical, \
            QuantumClient(stack.quantum_address, token=stack.token) as quantum, \
            Live(progress, console=console, refresh_per_second=8):
        tasks = {spec: progress.add_task(spec.label, total=spec.max_iterations) for spec in runs}
        checks = {name: progress.add_task(f"{name} optimum on {NOISY_AT_OPTIMUM_QPU}", total=1)
                  for name in noisy_at_optimum}
        for spec in runs:
            try:
                results.append(_run_one(spec, classical, progress, tasks[spec]))
            except grpc.RpcError as exc:
                console.print(f"[red]{spec.label} failed: {exc.code().name}: {exc.details()}")
                results.append({"problem": spec.problem, "qpu_id": spec.qpu_id,
                                "error_message": f"{exc.code().name}: {exc.details()}"})
        for name in noisy_at_optimum:
            ideal = next((r for r in results if r.get("problem") == name
                          and r.get("qpu_id") == IDEAL_QPU and "energy" in r), None)
            if ideal is None:
                continue
            try:
                results.append(_noisy_at_optimum(ideal, quantum, progress, checks[name]))
            except (grpc.RpcError, RuntimeError) as exc:
                message = (f"{exc.code().name}: {exc.details()}"
                           if isinstance(exc, grpc.RpcError) else str(exc))
                console.print(f"[red]{name} on {NOISY_AT_OPTIMUM_QPU} failed: {message}")
                results.append({"problem": name, "qpu_id": NOISY_AT_OPTIMUM_QPU,
                                "error_message": message})
    telemetry = monitor.stop()
    ok = [r for r in results if "energy" in r]
    console.print(_summary_table(ok, telemetry))
    return {"runs": results, "telemetry_messages": telemetry,
            "telemetry_by_kind": {str(k): v for k, v in monitor.collector.counts.items()},
            "machine": {"python": platform.python_version(), "platform": platform.platform()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qcore_client.mainjob",
                                     description="Run qcore's main job on a local stack.")
    parser.add_argument("--out", type=Path, default=Path("out/run_summary.json"))
    parser.add_argument("--services-only", action="store_true",
                        help="start the stack on QCORE_QUANTUM_PORT / QCORE_CLASSICAL_PORT "
                             "(default 50051 / 50052) and wait (Ctrl-C stops it)")
    parser.add_argument("--quick", action="store_true", help="only H2 on the ideal QPU")
    parser.add_argument("--full", action="store_true",
                        help="also evaluate the BeH2 and H2O optima on the noisy QPU "
                             f"{NOISY_AT_OPTIMUM_QPU} (about a minute more)")
    args = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 130)
    stack = LocalStack.on_configured_ports() if args.services_only else LocalStack()
    # SIGTERM (e.g. from CI or a supervisor) stops the children like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with console.status("starting broker, quantum service and classical service..."):
            stack.start()
    except (PortInUseError, RuntimeError, TimeoutError) as exc:
        stack.stop()
        print(f"qcore: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    console.print(f"[bold]broker[/] {stack.mqtt_url}{' (started)' if stack.started_broker else ''}"
                  f"  [bold]quantum[/] {stack.quantum_address}"
                  f"  [bold]classical[/] {stack.classical_address}")
    try:
        if args.services_only:
            for variable, address, default in (
                    (QUANTUM_ADDRESS_ENV, stack.quantum_address, DEFAULT_QUANTUM_ADDRESS),
                    (CLASSICAL_ADDRESS_ENV, stack.classical_address, DEFAULT_CLASSICAL_ADDRESS)):
                if address != default:  # clients connect to the default ports unless told
                    console.print(f"export {variable}={address}", markup=False)
            console.print(f"local admin token in {stack.token_path} (mode 0600; the SDK and "
                          "CLI read it from there, or from QCORE_TOKEN)", markup=False)
            console.print("services running; Ctrl-C to stop")
            while True:
                time.sleep(3600)
        runs = DEFAULT_RUNS[:1] if args.quick else DEFAULT_RUNS
        summary = main_job(stack, runs, console,
                           noisy_at_optimum=NOISY_AT_OPTIMUM if args.full else ())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
        console.print(f"summary written to {args.out}")
        failed = [r for r in summary["runs"] if "energy" not in r]
        return 1 if failed else 0
    except KeyboardInterrupt:
        return 130
    finally:
        with console.status("stopping services..."):
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
