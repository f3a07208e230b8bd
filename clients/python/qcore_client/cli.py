"""The ``qcore`` command line (typer + rich).

Addresses come from ``--quantum``/``--classical`` or ``QCORE_QUANTUM_ADDRESS`` /
``QCORE_CLASSICAL_ADDRESS`` (defaults ``127.0.0.1:50051`` / ``127.0.0.1:50052``); the broker from
``--mqtt`` or ``QCORE_MQTT_URL`` (default ``mqtt://127.0.0.1:1883``); the API token from
``--token`` or ``QCORE_TOKEN``, else a token file (see :mod:`qcore_client.auth`); TLS from
``--tls-ca`` (with ``--tls-cert``/``--tls-key`` for mutual TLS), given before the command, or
``QCORE_TLS_CA`` (``QCORE_TLS_CLIENT_CERT``/``QCORE_TLS_CLIENT_KEY``; see
:mod:`qcore_client.tls`).

Examples::

    qcore qpus
    qcore submit bell.qasm --shots 1000 --watch
    qcore jobs --limit 20
    qcore sessions                         # your open sessions (an admin token: everyone's)
    qcore watch job-1a2b3c
    qcore vqe h2 --qpu ion-ideal-24
    qcore monitor
    qcore dashboard --port 8050            # web dashboard on http://127.0.0.1:8050/
    qcore token create --user alice        # on the service host: prints alice's new token
    qcore qpu show sc-grid-16 --json
    qcore calibrate sc-grid-16 --force     # admin token
    qcore session bell.qasm --observable "Z0 Z1=1" --parameters 0.1,0.2
    qcore session bell.qasm -o Z0 -o Z1 -o "X0 X1" --each   # three observables, one session
    qcore submit ghz.qasm -o "Z0 Z1=1" --qpu sc-grid-16 --zne --twirl 8   # mitigated <H>
    qcore models; qcore infer MODEL --inputs inputs.json
    qcore certs create --out var/certs     # a local CA, server and client certificates
    qcore --tls-ca var/certs/ca.pem qpus   # TLS (QCORE_TLS_CA); --tls-cert/--tls-key: mTLS

Output: every command takes ``--json`` (one JSON document on stdout, protobuf field names). Tables
are drawn with rich only on a terminal; piped, rows are tab-separated lines with a header and
full ids. Errors print one line on stderr: a service's refusal (``error NOT_FOUND: ...``) exits
with status 1, a bad argument or an unreachable broker (``error: ...``) with status 2; neither
prints a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from qcore.v1 import common_pb2
from qcore_client.client import (
    CLASSICAL_ADDRESS_ENV,
    DEFAULT_CLASSICAL_ADDRESS,
    DEFAULT_QUANTUM_ADDRESS,
    FINAL_STATES,
    QUANTUM_ADDRESS_ENV,
    ClassicalClient,
    QuantumClient,
    mitigation_options,
)
from qcore_client.tls import (
    TLS_CA_ENV,
    TLS_CLIENT_CERT_ENV,
    TLS_CLIENT_KEY_ENV,
    ClientTls,
    resolve_tls,
    tls_failure_hint,
)

app = typer.Typer(help="qcore: a quantum operating system — QPUs, jobs, hybrid loops, telemetry.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
errors = Console(stderr=True)
#: Exit status of a refusal by a service (a gRPC error status).
EXIT_SERVICE_ERROR = 1
#: Exit status of a bad argument, a bad file or an unreachable broker.
EXIT_USAGE_ERROR = 2

QuantumAddress = Annotated[str, typer.Option("--quantum", envvar=QUANTUM_ADDRESS_ENV,
                                             help="quantum service host:port")]
ClassicalAddress = Annotated[str, typer.Option("--classical", envvar=CLASSICAL_ADDRESS_ENV,
                                               help="classical service host:port")]
Token = Annotated[str | None, typer.Option(
    "--token", envvar="QCORE_TOKEN", show_default=False,
    help="API token sent to the services (default: QCORE_TOKEN_FILE, var/admin.token, "
         "~/.config/qcore/token)")]
Json = Annotated[bool, typer.Option("--json", help="print one JSON document instead of text")]
Zne = Annotated[bool, typer.Option(
    "--zne", help="zero-noise extrapolation: fold the compiled circuit at --scale-factors and "
                  "extrapolate to zero noise (needs an observable)")]
ScaleFactors = Annotated[str, typer.Option(
    "--scale-factors", help="comma-separated noise scale factors for --zne, each in [1, 21] "
                            "(default 1,3,5)")]
Extrapolation = Annotated[str, typer.Option(
    "--extrapolation", help="zero-noise fit: richardson, linear or exponential")]
Folding = Annotated[str, typer.Option("--folding", help="unitary folding: global or local")]
Twirl = Annotated[int, typer.Option(
    "--twirl", help="Pauli-twirl the two-qubit gates with this many random frames (0: off)")]
Decoupling = Annotated[str, typer.Option(
    "--dd", help="dynamical decoupling of idle qubits: xx or xy4 (default: off)")]
tokens_app = typer.Typer(help="API tokens (written into the quantum service's store file).",
                         no_args_is_help=True)
app.add_typer(tokens_app, name="token")
qpu_app = typer.Typer(help="One QPU: its capabilities and latest calibration.",
                      no_args_is_help=True)
app.add_typer(qpu_app, name="qpu")
certs_app = typer.Typer(help="TLS certificates: a local CA, a server and a client certificate.",
                        no_args_is_help=True)
app.add_typer(certs_app, name="certs")


def _version(value: bool) -> None:
    if value:
        try:
            print(f"qcore {package_version('qcore')}")
        except PackageNotFoundError:
            print("qcore (not installed)")
        raise typer.Exit()


class _Connection:
    """What the main callback read for every command of this invocation: the TLS files of
    ``--tls-ca``/``--tls-cert``/``--tls-key`` (or their variables), None for plaintext."""

    tls: ClientTls | None = None


@app.callback()
def main(version: Annotated[bool, typer.Option(
             "--version", callback=_version, is_eager=True,
             help="print qcore's version and exit")] = False,
         tls_ca: Annotated[Path | None, typer.Option(
             "--tls-ca", envvar=TLS_CA_ENV, show_default=False,
             help="connect with TLS, verifying the services' certificates against this PEM CA "
                  "bundle (e.g. var/certs/ca.pem)")] = None,
         tls_cert: Annotated[Path | None, typer.Option(
             "--tls-cert", envvar=TLS_CLIENT_CERT_ENV, show_default=False,
             help="PEM client certificate, for services that require one (mutual TLS)")]
         = None,
         tls_key: Annotated[Path | None, typer.Option(
             "--tls-key", envvar=TLS_CLIENT_KEY_ENV, show_default=False,
             help="PEM private key of --tls-cert")] = None) -> None:
    """qcore: a quantum operating system — QPUs, jobs, hybrid loops, telemetry."""
    # The TLS options go before the command (qcore --tls-ca ca.pem qpus).
    unset = tls_ca is None and tls_cert is None and tls_key is None
    _Connection.tls = None if unset else ClientTls(ca=tls_ca, cert=tls_cert, key=tls_key)


def _tls() -> ClientTls | None:
    """The TLS files the clients of this command connect with (None: plaintext)."""
    return _Connection.tls


def _to_dict(message: Message) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


def _print_json(document: Any) -> None:
    print(json.dumps(document, indent=2, sort_keys=False, default=str))


def _print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A rich table on a terminal; else a header and tab-separated rows, nothing truncated."""
    if console.is_terminal:
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    print("\t".join(columns))
    for row in rows:
        print("\t".join(str(cell) for cell in row))


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Turns a service's refusal, a bad argument and an unreachable broker into one line on
    stderr and an exit status (see the module docstring)."""
    from broker.errors import TelemetryError

    try:
        yield
    except grpc.RpcError as exc:
        hint = tls_failure_hint(exc, resolve_tls(_tls()))
        message = exc.details() if hint is None else f"{hint} (gRPC: {exc.details()})"
        print(f"error {exc.code().name}: {message}", file=sys.stderr)
        raise typer.Exit(EXIT_SERVICE_ERROR) from None
    except (ValueError, TypeError, OSError, TelemetryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE_ERROR) from None


def _state(state: int) -> str:
    name = common_pb2.JobState.Name(state).removeprefix("JOB_STATE_")
    color = {"SUCCEEDED": "green", "FAILED": "red", "CANCELLED": "yellow",
             "RUNNING": "cyan"}.get(name, "white")
    return f"[{color}]{name}[/]"


def _plain_state(state: int) -> str:
    return common_pb2.JobState.Name(state).removeprefix("JOB_STATE_")


def _time(value) -> str:
    """A ``google.protobuf.Timestamp`` as ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    return value.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")


def _enum(enum, value: int, prefix: str) -> str:
    return enum.Name(value).removeprefix(prefix).lower()


def _qpu_row(q: common_pb2.QpuDescription) -> list[str]:
    return [q.qpu_id, _enum(common_pb2.Modality, q.modality, "MODALITY_"),
            _enum(common_pb2.QpuStatus, q.status, "QPU_STATUS_"), str(q.qubit_count),
            " ".join(g.name for g in q.native_gates), "yes" if q.noisy else "no",
            str(q.queue_length), f"{q.device_time_s:.3g}", q.calibration.snapshot_id]


QPU_COLUMNS = ("qpu_id", "modality", "status", "qubits", "native gates", "noisy", "queue",
               "device time s", "calibration")


@app.command()
def qpus(json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
         token: Token = None) -> None:
    """List the QPUs the quantum service owns."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls()) as client:
        rows = client.list_qpus()
    if json_output:
        _print_json([_to_dict(q) for q in rows])
        return
    _print_table("QPUs", QPU_COLUMNS, [_qpu_row(q) for q in rows])


@qpu_app.command("show")
def qpu_show(qpu_id: Annotated[str, typer.Argument(help="the QPU, e.g. sc-grid-16")],
             json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
             token: Token = None) -> None:
    """Show one QPU: capabilities, native gates and its latest calibration per qubit."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls()) as client:
        q = client.get_qpu(qpu_id)
    if json_output:
        _print_json(_to_dict(q))
        return
    _print_table(q.qpu_id, QPU_COLUMNS, [_qpu_row(q)])
    print(q.description)
    coupling = "all-to-all" if q.all_to_all else " ".join(
        f"{c.qubit_a}-{c.qubit_b}" for c in q.coupling_map)
    print(f"coupling map: {coupling}")
    _print_table("native gates", ("gate", "qubits", "parameters", "duration ns", "fidelity"),
                 [[g.name, str(g.qubit_count), str(g.parameter_count), f"{g.duration_ns:g}",
                   f"{g.fidelity:.6f}"] for g in q.native_gates])
    _print_table(f"calibration {q.calibration.snapshot_id} ({q.calibration.trigger})",
                 ("qubit", "t1_us", "t2_us", "readout fidelity", "1q fidelity", "frequency_hz"),
                 [[str(c.qubit), f"{c.t1_us:.4g}", f"{c.t2_us:.4g}", f"{c.readout_fidelity:.5f}",
                   f"{c.single_qubit_gate_fidelity:.6f}", f"{c.frequency_hz:.6g}"]
                  for c in q.calibration.qubits])


@app.command()
def calibrate(qpu_id: Annotated[str, typer.Argument(help="the QPU to calibrate")],
              qubit: Annotated[list[int] | None, typer.Option(
                  "--qubit", help="a qubit to calibrate (repeat; default: stale or drifted "
                                  "ones)")] = None,
              force: Annotated[bool, typer.Option(
                  "--force", help="recalibrate values that are still fresh")] = False,
              json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
              token: Token = None) -> None:
    """Run calibration experiments on a QPU now (admin token) and print the new snapshot."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls(), timeout_s=600) as client:
        response = client.calibrate(qpu_id, qubits=qubit or (), force=force)
    if json_output:
        _print_json(_to_dict(response))
        return
    snapshot = response.snapshot
    print(f"snapshot {snapshot.snapshot_id} on {snapshot.qpu_id}: "
          f"{len(response.experiments)} experiments, {response.device_time_s:.4g} device s, "
          f"recalibrated qubits {list(snapshot.recalibrated_qubits)}")
    for experiment in response.experiments:
        print(f"  {experiment}")


def _job_document(job) -> dict[str, Any]:
    return _to_dict(job)


@app.command()
def submit(file: Annotated[Path, typer.Argument(exists=True, readable=True,
                                                help="OpenQASM 2 or 3 file")],
           shots: Annotated[int, typer.Option("--shots", help="shot_count")] = 1000,
           qpu: Annotated[str, typer.Option("--qpu", help="target qpu_id (default: any)")] = "",
           priority: Annotated[int, typer.Option(
               "--priority", help="0 (lowest) to 10; orders jobs within fair share")] = 0,
           readout_mitigation: Annotated[bool, typer.Option(
               "--readout-mitigation", help="invert the calibrated readout assignment "
                                            "matrices (mitigated probabilities)")] = False,
           seed: Annotated[int, typer.Option("--seed", help="sampling seed (0: any)")] = 0,
           watch: Annotated[bool, typer.Option(
               "--watch/--no-watch", help="follow the job to the end and print its result")]
           = True,
           observable: Annotated[list[str] | None, typer.Option(
               "--observable", "-o", help="a term PAULI=COEFFICIENT (repeat for a sum): the "
                                          "job returns <H> instead of counts")] = None,
           parameters: Annotated[list[str] | None, typer.Option(
               "--parameters", "-p", help="one parameter set, comma-separated (repeat for a "
                                          "batch)")] = None,
           zne: Zne = False, scale_factors: ScaleFactors = "",
           extrapolation: Extrapolation = "richardson", folding: Folding = "global",
           twirl: Twirl = 0, dd: Decoupling = "",
           json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
           token: Token = None) -> None:
    """Submit an OpenQASM program and (by default) watch it to the end."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls()) as client:
        mitigation = _mitigation(zne, scale_factors, extrapolation, folding, twirl, dd)
        job = client.submit_job(file.read_text(), shot_count=shots, qpu_id=qpu, name=file.name,
                                priority=priority, readout_mitigation=readout_mitigation,
                                seed=seed,
                                observable=_observable_terms(observable) if observable else None,
                                parameter_sets=_parameter_rows(parameters) if parameters
                                else None, mitigation=mitigation)
        if json_output:
            _print_json(_job_document(client.wait(job.job_id) if watch else job))
            return
        console.print(f"submitted [bold]{job.job_id}[/] to {job.qpu_id} "
                      f"({job.placement_reason})", soft_wrap=True)
        if watch:
            _watch(client, job.job_id)


def _watch(client: QuantumClient, job_id: str) -> None:
    for job in client.watch_job(job_id):
        console.print(f"{job_id}: {_state(job.state)}", soft_wrap=True)
        if job.state in FINAL_STATES:
            break
    job = client.get_job(job_id)
    if job.error_message:
        print(f"  {job.error_message}")
    for experiment in job.result.experiments:
        if experiment.counts:
            _print_table(f"program {experiment.program_index}, parameter set "
                         f"{experiment.parameter_set_index}", ("bitstring", "count"),
                         [[k, str(n)] for k, n in sorted(experiment.counts.items(),
                                                         key=lambda kv: -kv[1])[:16]])
        elif experiment.expectation_values:  # a job with several observables
            for k, (e, se) in enumerate(zip(experiment.expectation_values,
                                            experiment.standard_errors)):
                print(f"  <H{k}> = {e:.6f} ± {se:.2e}")
        else:
            print(f"  <H> = {experiment.expectation_value:.6f} "
                  f"± {experiment.standard_error:.2e}")
            if experiment.HasField("mitigation"):
                _print_mitigation(experiment.mitigation)
    print(f"device time {job.device_time_s:.4g} s, calibration {job.calibration_snapshot_id}")


@app.command()
def watch(job_id: Annotated[str, typer.Argument(help="the job to follow")],
          json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
          token: Token = None) -> None:
    """Follow a job's state changes until it finishes; print its result."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls()) as client:
        if json_output:
            _print_json(_job_document(client.wait(job_id)))
            return
        _watch(client, job_id)


@app.command()
def cancel(job_id: Annotated[str, typer.Argument(help="the job to cancel")],
           json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
           token: Token = None) -> None:
    """Cancel a queued or running job."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls()) as client:
        job = client.cancel_job(job_id)
    if json_output:
        _print_json(_job_document(job))
        return
    print(f"{job.job_id}: {_plain_state(job.state)} {job.error_message}")


@app.command()
def jobs(limit: Annotated[int, typer.Option(help="most recent N jobs")] = 20,
         qpu: Annotated[str, typer.Option("--qpu", help="only jobs on this QPU")] = "",
         state: Annotated[str, typer.Option(
             "--state", help="only jobs in this state (queued, running, succeeded, failed, "
                             "cancelled)")] = "",
         json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
         token: Token = None) -> None:
    """List jobs, newest first (full job ids, also when piped)."""
    with _errors():
        state_value = 0
        if state:
            name = f"JOB_STATE_{state.upper()}"
            if name not in common_pb2.JobState.keys() or name == "JOB_STATE_UNSPECIFIED":
                raise ValueError(f"unknown job state {state!r}; use queued, running, "
                                 "succeeded, failed or cancelled")
            state_value = common_pb2.JobState.Value(name)
        with QuantumClient(quantum, token=token, tls=_tls()) as client:
            rows = list(client.list_jobs(qpu_id=qpu, state=state_value, limit=limit))
    if json_output:
        _print_json([_job_document(j) for j in rows])
        return
    _print_table("jobs", ("job_id", "state", "qpu_id", "owner", "name", "created", "device s"),
                 [[j.job_id, _plain_state(j.state), j.qpu_id, j.owner, j.name,
                   _time(j.create_time), f"{j.device_time_s:.3g}"] for j in rows])


@app.command()
def sessions(limit: Annotated[int, typer.Option(help="most recent N open sessions")] = 20,
             qpu: Annotated[str, typer.Option("--qpu", help="only sessions on this QPU")] = "",
             json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
             token: Token = None) -> None:
    """List open sessions, newest first: your own, or every user's with an admin token
    (full session ids, also when piped)."""
    with _errors(), QuantumClient(quantum, token=token, tls=_tls()) as client:
        rows = list(client.list_sessions(qpu_id=qpu, limit=limit))
    if json_output:
        _print_json([_to_dict(s) for s in rows])
        return
    _print_table("sessions", ("session_id", "owner", "qpu_id", "opened", "expires",
                              "idle timeout s", "evaluations", "device s"),
                 [[s.session_id, s.owner, s.qpu_id, _time(s.open_time), _time(s.expire_time),
                   f"{s.idle_timeout_s:g}", str(s.evaluation_count), f"{s.device_time_s:.3g}"]
                  for s in rows])


def _observable_terms(specs: Sequence[str]) -> list[tuple[str, float]]:
    """``"Z0 Z1=0.5"`` → ``("Z0 Z1", 0.5)``; a term without ``=`` has coefficient 1."""
    terms = []
    for spec in specs:
        pauli, _, coefficient = spec.partition("=")
        try:
            terms.append((pauli.strip(), float(coefficient) if coefficient else 1.0))
        except ValueError:
            raise ValueError(f"bad observable term {spec!r}: write PAULI=COEFFICIENT, e.g. "
                             "'Z0 Z1=0.5'") from None
    return terms


def _mitigation(zne: bool, scale_factors: str, extrapolation: str, folding: str, twirl: int,
                decoupling: str):
    """The ``MitigationOptions`` of the mitigation flags (``None`` when none is set)."""
    try:
        factors = [float(v) for v in scale_factors.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"bad --scale-factors {scale_factors!r}: write comma-separated "
                         "numbers, e.g. 1,3,5") from None
    if (factors or extrapolation != "richardson" or folding != "global") and not zne:
        raise ValueError("--scale-factors, --extrapolation and --folding configure --zne; "
                         "add --zne")
    return mitigation_options(zne=zne, scale_factors=factors, extrapolation=extrapolation,
                              folding=folding, twirling=twirl, decoupling=decoupling)


def _print_mitigation(record: common_pb2.MitigationResult) -> None:
    """One line: the expectation value at each noise scale factor."""
    if not record.scale_factors:
        return
    print("    " + "  ".join(f"λ={lam:g}: {v:.6f} ± {e:.2e}" for lam, v, e in
                             zip(record.scale_factors, record.expectation_values,
                                 record.standard_errors)))


def _parameter_rows(specs: Sequence[str]) -> list[list[float]]:
    try:
        return [[float(v) for v in spec.split(",") if v.strip()] for spec in specs]
    except ValueError:
        raise ValueError(f"bad --parameters {list(specs)}: write comma-separated numbers, e.g. "
                         "0.1,0.2") from None


@app.command()
def session(file: Annotated[Path, typer.Argument(exists=True, readable=True,
                                                 help="parametric OpenQASM 3 program")],
            observable: Annotated[list[str], typer.Option(
                "--observable", "-o", help="a term PAULI=COEFFICIENT, e.g. 'Z0 Z1=0.5' "
                                           "(repeat for a sum)")],
            parameters: Annotated[list[str] | None, typer.Option(
                "--parameters", "-p", help="one parameter set, comma-separated (repeat for a "
                                           "batch)")] = None,
            qpu: Annotated[str, typer.Option("--qpu", help="target qpu_id (default: any)")] = "",
            shots: Annotated[int, typer.Option("--shots", help="0 = exact")] = 0,
            gradient: Annotated[bool, typer.Option(
                "--gradient", help="also print parameter-shift gradients")] = False,
            each: Annotated[bool, typer.Option(
                "--each", help="every --observable term is an observable of its own, all "
                               "measured together in the session")] = False,
            zne: Zne = False, scale_factors: ScaleFactors = "",
            extrapolation: Extrapolation = "richardson", folding: Folding = "global",
            twirl: Twirl = 0, dd: Decoupling = "",
            json_output: Json = False, quantum: QuantumAddress = DEFAULT_QUANTUM_ADDRESS,
            token: Token = None) -> None:
    """Open a hybrid session, evaluate parameter sets, print ⟨H⟩ (and gradients), close it.

    With ``--each``, values, standard errors and gradients gain an observable axis after the
    parameter-set axis (JSON lists of shape ``(sets, observables)`` and
    ``(sets, observables, parameters)``).
    """
    with _errors():
        terms = _observable_terms(observable)
        rows = _parameter_rows(parameters or [""])
        chosen = ({"observables": [[t] for t in terms]} if each else {"observable": terms})
        mitigation = _mitigation(zne, scale_factors, extrapolation, folding, twirl, dd)
        with QuantumClient(quantum, token=token, tls=_tls()) as client, client.session(
                file.read_text(), qpu_id=qpu, shot_count=shots, gradient=gradient,
                mitigation=mitigation, **chosen) as s:
            values = s.evaluate(rows, gradient=gradient)
            energies, gradients = values if gradient else (values, None)
            document = {"session_id": s.session_id, "qpu_id": s.ready.qpu_id,
                        "parameters": list(s.parameters),
                        "expectation_values": energies.tolist(),
                        "standard_errors": s.standard_errors().tolist(),
                        "engine": s.last.engine, "device_time_s": s.last.device_time_s}
            if gradients is not None:
                document["gradients"] = gradients.tolist()
            if s.last.mitigation:
                document["mitigation"] = [_to_dict(m) for m in s.last.mitigation]
    if json_output:
        _print_json(document)
        return
    print(f"session {document['session_id']} on {document['qpu_id']} "
          f"(parameters {', '.join(document['parameters']) or 'none'})")
    if each:
        labels = [f"<{pauli or 'I'}>" for pauli, _ in terms]
        _print_table("expectation values", ["parameter set", *labels], [
            [",".join(f"{v:g}" for v in row)]
            + [f"{e:.10g} ± {se:.3g}" for e, se in zip(values_k, errors_k)]
            for row, values_k, errors_k in zip(rows, document["expectation_values"],
                                               document["standard_errors"])])
        return
    columns = ["parameter set", "<H>", "standard error"] + (["gradient"] if gradient else [])
    _print_table("expectation values", columns, [
        [",".join(f"{v:g}" for v in row), f"{e:.10g}", f"{se:.3g}"]
        + ([" ".join(f"{g:.6g}" for g in document["gradients"][i])] if gradient else [])
        for i, (row, e, se) in enumerate(zip(rows, document["expectation_values"],
                                             document["standard_errors"]))])


@app.command()
def optimizers(json_output: Json = False, classical: ClassicalAddress = DEFAULT_CLASSICAL_ADDRESS,
               token: Token = None) -> None:
    """List the classical service's optimisers and their default options."""
    with _errors(), ClassicalClient(classical, token=token, tls=_tls()) as client:
        rows = client.list_optimizers()
    if json_output:
        _print_json([_to_dict(o) for o in rows])
        return
    _print_table("optimizers", ("name", "gradient", "description", "options"),
                 [[o.name, "yes" if o.uses_gradient else "no", o.description,
                   " ".join(f"{k}={v}" for k, v in sorted(o.default_options.items()))]
                  for o in rows])


@app.command()
def models(json_output: Json = False, classical: ClassicalAddress = DEFAULT_CLASSICAL_ADDRESS,
           token: Token = None) -> None:
    """List the models the classical service serves for inference."""
    with _errors(), ClassicalClient(classical, token=token, tls=_tls()) as client:
        rows = client.list_models()
    if json_output:
        _print_json([_to_dict(m) for m in rows])
        return
    _print_table("models", ("name", "hybrid", "qpu_id", "parameters", "inputs", "description"),
                 [[m.name, "yes" if m.hybrid else "no", m.qpu_id, str(m.parameter_count),
                   " ".join(i.name for i in m.inputs), m.description] for m in rows])


@app.command()
def infer(model: Annotated[str, typer.Argument(help="a model name (see qcore models)")],
          inputs: Annotated[Path, typer.Option(
              "--inputs", exists=True, readable=True,
              help="JSON file mapping each input name to a (nested) list of numbers or "
                   "strings")],
          classical: ClassicalAddress = DEFAULT_CLASSICAL_ADDRESS, token: Token = None) -> None:
    """Run a model on the inputs of a JSON file; print its outputs as JSON."""
    import numpy as np

    from qcore_client.tensors import decode

    with _errors():
        try:
            named = json.loads(inputs.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{inputs} is not JSON: {exc}") from None
        if not isinstance(named, dict):
            raise ValueError(f"{inputs} must hold a JSON object {{input name: values}}")
        with ClassicalClient(classical, token=token, tls=_tls()) as client:
            response = client.infer(model, {k: np.asarray(v) for k, v in named.items()})
    _print_json({"outputs": {t.name: decode(t).tolist() for t in response.outputs},
                 "quantum_task_count": response.quantum_task_count, "wall_s": response.wall_s})


@app.command()
def vqe(molecule: Annotated[str, typer.Argument(help="h2 or lih")] = "h2",
        qpu: Annotated[str, typer.Option("--qpu", help="target qpu_id")] = "ion-ideal-24",
        optimizer: Annotated[str, typer.Option(
            "--optimizer", help="see qcore optimizers")] = "l-bfgs-b",
        shots: Annotated[int, typer.Option("--shots", help="0 = exact")] = 0,
        max_iterations: Annotated[int, typer.Option(
            "--max-iterations", help="optimiser iterations at most")] = 200,
        json_output: Json = False, classical: ClassicalAddress = DEFAULT_CLASSICAL_ADDRESS,
        token: Token = None) -> None:
    """Find a molecule's ground-state energy with VQE (classical service drives a session)."""
    from qcore_client.problems.molecules import ansatz, load_molecule

    with _errors():
        problem = load_molecule(molecule)
    circuit = ansatz(problem)
    progress = Progress(TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.completed} it"), TimeElapsedColumn(), console=errors,
                        disable=json_output)
    result = None
    with _errors(), ClassicalClient(classical, token=token, tls=_tls()) as client, progress:
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
    error = result.energy - problem.exact_energy
    if json_output:
        _print_json({**_to_dict(result), "molecule": molecule,
                     "exact_energy": problem.exact_energy, "error": error})
        return
    print(f"E = {result.energy:.6f} Ha, exact {problem.exact_energy:.6f} Ha, error "
          f"{error * 1e3:+.3f} mHa, {result.iteration_count} iterations, "
          f"{result.evaluation_count} circuit executions on {result.qpu_id}")


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
    serve_dashboard(FleetPoller(quantum, resolved, interval_s=interval, tls=_tls()),
                    host=host, port=port).run()


@app.command()
def monitor(mqtt: Annotated[str, typer.Option("--mqtt", envvar="QCORE_MQTT_URL",
                                              help="broker URL mqtt://host[:port] or "
                                                   "mqtts://host[:port]")]
            = "mqtt://127.0.0.1:1883",
            prefix: Annotated[str, typer.Option("--prefix", envvar="QCORE_TOPIC_PREFIX",
                                                help="topic prefix of the deployment")]
            = "qcore/v1",
            seconds: Annotated[float, typer.Option(help="stop after N seconds (0 = never)")]
            = 0.0,
            json_output: Annotated[bool, typer.Option(
                "--json", help="print each message as one JSON line (topic, payload) instead "
                               "of the live view")] = False,
            mqtt_ca: Annotated[Path | None, typer.Option(
                "--mqtt-ca", envvar="QCORE_MQTT_CA", show_default=False,
                help="PEM CA bundle of an mqtts:// broker's certificate (default: "
                     "QCORE_TLS_CA, else the system's roots)")] = None) -> None:
    """Live view of qcore telemetry (subscribes to {prefix}/#, qcore/v1/# by default).

    Logs in with QCORE_MQTT_USERNAME/QCORE_MQTT_PASSWORD, else the credentials file
    QCORE_MQTT_CREDENTIALS names, else var/mqtt.credentials (the embedded broker's login).
    """
    from broker.config import parse_mqtt_url
    from broker.credentials import resolve_credentials
    from broker.subscriber import TelemetryCollector, TelemetrySubscriber

    with _errors():
        parse_mqtt_url(mqtt)
        credentials = resolve_credentials()
    collector = TelemetryCollector(prefix=prefix)

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
        async with TelemetrySubscriber(mqtt, prefix=prefix, credentials=credentials,
                                       tls_ca=mqtt_ca) as subscriber:
            live = contextlib.nullcontext() if json_output else Live(
                render(), console=console, refresh_per_second=4)
            with live:
                async def consume() -> None:
                    async for topic, message in subscriber:
                        collector.add(topic, message)
                        if json_output:
                            print(json.dumps({"topic": topic, "payload": MessageToDict(message)}),
                                  flush=True)
                        else:
                            live.update(render())

                consumer = asyncio.create_task(consume())
                while not consumer.done() and (not seconds or
                                               time.monotonic() - began < seconds):
                    await asyncio.sleep(0.25)
                consumer.cancel()
                await asyncio.gather(consumer, return_exceptions=True)

    with _errors():
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
            help="the quantum service's SQLite store (default var/quantum_jobs.sqlite)")] = None,
        json_output: Json = False) -> None:
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
        print(f"error: {exc}", file=sys.stderr)
        raise typer.Exit(EXIT_USAGE_ERROR) from None
    finally:
        store.close()
    if json_output:
        _print_json({"user": user, "admin": admin, "token": raw})
        return
    print(raw)


@tokens_app.command("revoke")
def token_revoke(
        user: Annotated[str, typer.Option("--user", help="whose tokens to delete")],
        db: Annotated[Path | None, typer.Option(
            "--db", envvar="QCORE_QUANTUM_DB_PATH", show_default=False,
            help="the quantum service's SQLite store (default var/quantum_jobs.sqlite)")] = None,
        json_output: Json = False) -> None:
    """Delete every token of a user (a running service refuses them at once)."""
    from quantum_service.config import QuantumSettings
    from quantum_service.security.tokens import TokenStore

    store = TokenStore(db or QuantumSettings().db_path)
    try:
        count = store.revoke_user(user)
    finally:
        store.close()
    if json_output:
        _print_json({"user": user, "revoked": count})
        return
    print(f"revoked {count} token(s) of {user!r}")


@certs_app.command("create")
def certs_create(
        out: Annotated[Path, typer.Option("--out", help="directory to write the PEM files "
                                          "into")] = Path("var/certs"),
        host: Annotated[list[str] | None, typer.Option(
            "--host", help="a DNS name or IP address the server certificate is valid for "
                           "(repeat; default: localhost and 127.0.0.1)")] = None,
        days: Annotated[int, typer.Option("--days", help="validity, days")] = 365,
        force: Annotated[bool, typer.Option("--force", help="replace existing files")] = False,
        json_output: Json = False) -> None:
    """Create a local CA, a server certificate and a client certificate (PEM files).

    Writes ca.pem/ca.key, server.pem/server.key and client.pem/client.key into --out (keys
    mode 0600) and prints the variables that use them. An existing CA is never replaced
    without --force.
    """
    from qcore_client.certs import DEFAULT_HOSTS, create_certificates

    with _errors():
        try:
            files = create_certificates(out, hosts=host or DEFAULT_HOSTS, days=days,
                                        overwrite=force)
        except FileExistsError as exc:
            raise ValueError(str(exc)) from None
    variables = {"QCORE_TLS_CERT": files.server_cert, "QCORE_TLS_KEY": files.server_key,
                 "QCORE_TLS_CA": files.ca_cert, "QCORE_TLS_CLIENT_CA": files.ca_cert,
                 "QCORE_TLS_CLIENT_CERT": files.client_cert,
                 "QCORE_TLS_CLIENT_KEY": files.client_key}
    if json_output:
        _print_json({name: str(path) for name, path in variables.items()})
        return
    print(f"# wrote a CA, a server and a client certificate into {out}")
    print("# services (QCORE_TLS_CLIENT_CA: require client certificates, mutual TLS):")
    for name in ("QCORE_TLS_CERT", "QCORE_TLS_KEY", "QCORE_TLS_CLIENT_CA"):
        print(f"export {name}={variables[name]}")
    print("# SDK, CLI and the classical service's channel to the quantum service:")
    for name in ("QCORE_TLS_CA", "QCORE_TLS_CLIENT_CERT", "QCORE_TLS_CLIENT_KEY"):
        print(f"export {name}={variables[name]}")


if __name__ == "__main__":
    app()
