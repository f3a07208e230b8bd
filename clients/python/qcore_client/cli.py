"""The ``qcore`` command line (typer + rich).

Addresses come from ``--quantum``/``--classical`` or ``QCORE_QUANTUM_ADDRESS`` /
``QCORE_CLASSICAL_ADDRESS`` (defaults ``127.0.0.1:50051`` / ``127.0.0.1:50052``); the broker from
``--mqtt`` or ``QCORE_MQTT_URL`` (default ``mqtt://127.0.0.1:1883``); the API token from
``--token`` or ``QCORE_TOKEN``, else a token file (see :mod:`qcore_client.auth`).

Examples::

    qcore qpus
    qcore submit bell.qasm --shots 1000 --watch
    qcore jobs --limit 20
    qcore watch job-1a2b3c
    qcore vqe h2 --qpu ion-ideal-24
    qcore monitor
    qcore dashboard --port 8050            # web dashboard on http://127.0.0.1:8050/
    qcore token create --user alice        # on the service host: prints alice's new token
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import grpc
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qcore.v1 import common_pb2
from qcore_client.client import (
    CLASSICAL_ADDRESS_ENV,
    DEFAULT_CLASSICAL_ADDRESS,
    DEFAULT_QUANTUM_ADDRESS,
    FINAL_STATES,
    QUANTUM_ADDRESS_ENV,
    ClassicalClient,
    QuantumClient,
)

app = typer.Typer(help="qcore: a quantum operating system — QPUs, jobs, hybrid loops, telemetry.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()

QuantumAddress = Annotated[str, typer.Option("--quantum", envvar=QUANTUM_ADDRESS_ENV,
                                             help="quantum service host:port")]
ClassicalAddress = Annotated[str, typer.Option("--classical", envvar=CLASSICAL_ADDRESS_ENV,
                                               help="classical service host:port")]
Token = Annotated[str | None, typer.Option(
    "--token", envvar="QCORE_TOKEN", show_default=False,
    help="API token sent to the services (default: QCORE_TOKEN_FILE, var/admin.token, "
         "~/.config/qcore/token)")]
tokens_app = typer.Typer(help="API tokens (written into the quantum service's store file).",
                         no_args_is_help=True)
app.add_typer(tokens_app, name="token")


def _state(state: int) -> str:
    name = common_pb2.JobState.Name(state).removeprefix("JOB_STATE_")
    color = {"SUCCEEDED": "green", "FAILED": "red", "CANCELLED": "yellow",
             "RUNNING": "cyan"}.get(name, "white")
    return f"[{color}]{name}[/]"


def _fail(exc: grpc.RpcError) -> None:
    console.print(f"[red]error[/] {exc.code().name}: {exc.details()}")
    raise typer.Exit(1)


@app.command()
def qpus(quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS, token: Token = None) -> None:
    """List the QPUs the quantum service owns."""
    try:
        with QuantumClient(quantum, token=token) as client:
            rows = client.list_qpus()
    except grpc.RpcError as exc:
        _fail(exc)
    table = Table(title="QPUs")
    for column in ("qpu_id", "modality", "status", "qubits", "native gates", "noisy", "queue",
                   "device time s", "calibration"):
        table.add_column(column)
    for q in rows:
        table.add_row(q.qpu_id, common_pb2.Modality.Name(q.modality).removeprefix("MODALITY_")
                      .lower(), common_pb2.QpuStatus.Name(q.status).removeprefix("QPU_STATUS_")
                      .lower(), str(q.qubit_count), " ".join(g.name for g in q.native_gates),
                      "yes" if q.noisy else "no", str(q.queue_length), f"{q.device_time_s:.3g}",
                      q.calibration.snapshot_id)
    console.print(table)


@app.command()
def submit(file: Annotated[Path, typer.Argument(exists=True, readable=True,
                                                help="OpenQASM 2 or 3 file")],
           shots: Annotated[int, typer.Option("--shots", help="shot_count")] = 1000,
           qpu: Annotated[str, typer.Option("--qpu", help="target qpu_id (default: any)")] = "",
           watch: Annotated[bool, typer.Option("--watch/--no-watch")] = True,
           quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS, token: Token = None) -> None:
    """Submit an OpenQASM program and (by default) watch it to the end."""
    try:
        with QuantumClient(quantum, token=token) as client:
            job = client.submit_job(file.read_text(), shot_count=shots, qpu_id=qpu,
                                    name=file.name)
            console.print(f"submitted [bold]{job.job_id}[/] to {job.qpu_id} "
                          f"({job.placement_reason})")
            if watch:
                _watch(client, job.job_id)
    except grpc.RpcError as exc:
        _fail(exc)


def _watch(client: QuantumClient, job_id: str) -> None:
    with console.status(f"watching {job_id}") as status:
        for job in client.watch_job(job_id):
            status.update(f"{job_id}: {_state(job.state)}")
            console.print(f"{job_id}: {_state(job.state)}")
            if job.state in FINAL_STATES:
                break
    job = client.get_job(job_id)
    if job.error_message:
        console.print(f"  {job.error_message}")
    for experiment in job.result.experiments:
        if experiment.counts:
            table = Table(title=f"program {experiment.program_index}, parameter set "
                                f"{experiment.parameter_set_index}")
            table.add_column("bitstring")
            table.add_column("count", justify="right")
            for key, count in sorted(experiment.counts.items(), key=lambda kv: -kv[1])[:16]:
                table.add_row(key, str(count))
            console.print(table)
        else:
            console.print(f"  <H> = {experiment.expectation_value:.6f} "
                          f"± {experiment.standard_error:.2e}")
    console.print(f"device time {job.device_time_s:.4g} s, calibration "
                  f"{job.calibration_snapshot_id}")


@app.command()
def watch(job_id: str, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
          token: Token = None) -> None:
    """Follow a job's state changes until it finishes; print its result."""
    try:
        with QuantumClient(quantum, token=token) as client:
            _watch(client, job_id)
    except grpc.RpcError as exc:
        _fail(exc)


@app.command()
def cancel(job_id: str, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
           token: Token = None) -> None:
    """Cancel a queued or running job."""
    try:
        with QuantumClient(quantum, token=token) as client:
            job = client.cancel_job(job_id)
    except grpc.RpcError as exc:
        _fail(exc)
    console.print(f"{job.job_id}: {_state(job.state)} {job.error_message}")


@app.command()
def jobs(limit: Annotated[int, typer.Option(help="most recent N jobs")] = 20,
         qpu: Annotated[str, typer.Option("--qpu")] = "",
         quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS, token: Token = None) -> None:
    """List jobs, newest first."""
    try:
        with QuantumClient(quantum, token=token) as client:
            rows = list(client.list_jobs(qpu_id=qpu, limit=limit))
    except grpc.RpcError as exc:
        _fail(exc)
    table = Table(title="jobs")
    for column in ("job_id", "state", "qpu_id", "owner", "name", "created", "device s"):
        table.add_column(column)
    for j in rows:
        table.add_row(j.job_id, _state(j.state), j.qpu_id, j.owner, j.name,
                      j.create_time.ToDatetime().strftime("%H:%M:%S"), f"{j.device_time_s:.3g}")
    console.print(table)


@app.command()
def vqe(molecule: Annotated[str, typer.Argument(help="h2 or lih")] = "h2",
        qpu: Annotated[str, typer.Option("--qpu")] = "ion-ideal-24",
        optimizer: Annotated[str, typer.Option("--optimizer")] = "l-bfgs-b",
        shots: Annotated[int, typer.Option("--shots", help="0 = exact")] = 0,
        max_iterations: Annotated[int, typer.Option("--max-iterations")] = 200,
        classical: ClassicalAddress = DEFAULT_CLASSICAL_ADDRESS, token: Token = None) -> None:
    """Find a molecule's ground-state energy with VQE (classical service drives a session)."""
    from qcore_client.problems.molecules import ansatz, load_molecule

    problem = load_molecule(molecule)
    circuit = ansatz(problem)
    progress = Progress(TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.completed} it"), TimeElapsedColumn(), console=console)
    result = None
    try:
        with ClassicalClient(classical, token=token) as client, progress:
            task = progress.add_task(f"VQE {molecule}", total=max_iterations)
            for response in client.minimize(circuit, problem.observable, optimizer=optimizer,
                                            qpu_id=qpu, shot_count=shots,
                                            max_iterations=max_iterations, tolerance=1e-9,
                                            name=f"vqe-{molecule}"):
                if response.WhichOneof("response") == "iteration":
                    progress.update(task, completed=response.iteration.iteration,
                                    description=f"VQE {molecule} E={response.iteration.energy:+.6f}")
                else:
                    result = response.result
    except grpc.RpcError as exc:
        _fail(exc)
    error = result.energy - problem.exact_energy
    console.print(f"E = {result.energy:.6f} Ha, exact {problem.exact_energy:.6f} Ha, error "
                  f"{error * 1e3:+.3f} mHa, {result.iteration_count} iterations, "
                  f"{result.evaluation_count} circuit executions on {result.qpu_id}")


@app.command()
def dashboard(host: Annotated[str, typer.Option(help="interface the web server binds")]
              = "127.0.0.1",
              port: Annotated[int, typer.Option(envvar="QCORE_DASHBOARD_PORT",
                                                help="HTTP port of the page")] = 8050,
              interval: Annotated[float, typer.Option(help="seconds between polls of the "
                                                      "quantum service")] = 1.0,
              quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS, token: Token = None) -> None:
    """Web dashboard on http://HOST:PORT/: fleet, queues, live jobs, calibration history.

    Reads the quantum service's gRPC API with the API token (an admin token sees every
    user's jobs); needs the observe extra of the qcore package.
    """
    from qcore_client.auth import resolve_token
    from qcore_client.dashboard.app import serve_dashboard
    from qcore_client.dashboard.fleet import FleetPoller

    resolved = resolve_token(token)
    if resolved is None:
        console.print("[red]error[/] no API token: pass --token or set QCORE_TOKEN")
        raise typer.Exit(1)
    console.print(f"qcore dashboard on http://{host}:{port}/ (quantum service {quantum})")
    serve_dashboard(FleetPoller(quantum, resolved, interval_s=interval), host=host,
                    port=port).run()


@app.command()
def monitor(mqtt: Annotated[str, typer.Option("--mqtt", envvar="QCORE_MQTT_URL")]
            = "mqtt://127.0.0.1:1883",
            seconds: Annotated[float, typer.Option(help="stop after N seconds (0 = never)")]
            = 0.0) -> None:
    """Live view of qcore telemetry (subscribes to qcore/v1/#)."""
    from google.protobuf.json_format import MessageToDict

    from broker.subscriber import TelemetryCollector, TelemetrySubscriber

    collector = TelemetryCollector()

    def render() -> Table:
        table = Table(title=f"qcore telemetry on {mqtt} — {collector.total} messages")
        table.add_column("topic")
        table.add_column("latest payload")
        for topic, message in sorted(collector.last.items())[-30:]:
            payload = MessageToDict(message)
            payload.pop("time", None)
            text = ", ".join(f"{k}={v}" for k, v in payload.items() if k != "snapshot")
            table.add_row(topic, text[:110])
        return table

    async def run() -> None:
        began = time.monotonic()
        async with TelemetrySubscriber(mqtt) as subscriber:
            with Live(render(), console=console, refresh_per_second=4) as live:
                async def consume() -> None:
                    async for topic, message in subscriber:
                        collector.add(topic, message)
                        live.update(render())

                consumer = asyncio.create_task(consume())
                while not consumer.done() and (not seconds or
                                               time.monotonic() - began < seconds):
                    await asyncio.sleep(0.25)
                consumer.cancel()
                await asyncio.gather(consumer, return_exceptions=True)

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


@tokens_app.command("create")
def token_create(
        user: Annotated[str, typer.Option("--user", help="the user the token identifies")],
        admin: Annotated[bool, typer.Option("--admin", help="may see every user's jobs and "
                                            "run fleet operations (Calibrate)")] = False,
        db: Annotated[Path | None, typer.Option(
            "--db", envvar="QCORE_QUANTUM_DB_PATH", show_default=False,
            help="the quantum service's SQLite store (default var/quantum_jobs.sqlite)")] = None
        ) -> None:
    """Mint an API token and print it (once: only its SHA-256 digest is stored).

    Runs where the quantum service's store file is (it writes the file directly; a running
    service accepts the token at once): ``export QCORE_TOKEN=$(qcore token create --user
    alice)``.
    """
    from quantum_service.config import QuantumSettings
    from quantum_service.security.tokens import TokenStore

    store = TokenStore(db or QuantumSettings().db_path)
    try:
        raw = store.create(user, admin=admin)
    except ValueError as exc:
        console.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        store.close()
    print(raw)


@tokens_app.command("revoke")
def token_revoke(
        user: Annotated[str, typer.Option("--user", help="whose tokens to delete")],
        db: Annotated[Path | None, typer.Option(
            "--db", envvar="QCORE_QUANTUM_DB_PATH", show_default=False,
            help="the quantum service's SQLite store (default var/quantum_jobs.sqlite)")] = None
        ) -> None:
    """Delete every token of a user (a running service refuses them at once)."""
    from quantum_service.config import QuantumSettings
    from quantum_service.security.tokens import TokenStore

    store = TokenStore(db or QuantumSettings().db_path)
    try:
        count = store.revoke_user(user)
    finally:
        store.close()
    console.print(f"revoked {count} token(s) of {user!r}")


if __name__ == "__main__":
    app()
