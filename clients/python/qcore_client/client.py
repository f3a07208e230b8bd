"""qcore's Python SDK: synchronous and asyncio clients of the two services.

>>> from qcore_client import QuantumClient, Circuit
>>> with QuantumClient() as qc:  # QCORE_QUANTUM_ADDRESS, else 127.0.0.1:50051
...     job = qc.submit_job(Circuit(2).h(0).cx(0, 1).measure_all(), shot_count=1000)
...     final = qc.wait(job.job_id)
...     final.result.experiments[0].counts

Programs are OpenQASM 2/3 text, an SDK :class:`~qcore_client.circuit.Circuit`, or a
``qcore.v1.Circuit`` message. Observables are an SDK
:class:`~qcore_client.observable.Observable`, a ``{pauli_string: coefficient}`` mapping or a list
of ``(pauli_string, coefficient)`` pairs; ``observables=[...]`` (a list of those) measures
several together, one execution per shared measurement setting, and returns one value per
observable. Errors arrive as ``grpc.RpcError`` with the service's status code and message.

Tokens: every call carries ``authorization: Bearer <token>``; a client built without
``token=`` reads ``QCORE_TOKEN``, else the file ``QCORE_TOKEN_FILE`` names, else
``var/admin.token`` (the local admin token of ``make run`` / ``make services``), else
``~/.config/qcore/token`` (see :func:`qcore_client.auth.resolve_token`).

TLS: a client built without ``tls=`` connects with TLS when ``QCORE_TLS_CA`` names the CA of
the services' certificates (and presents ``QCORE_TLS_CLIENT_CERT`` / ``QCORE_TLS_CLIENT_KEY``
when set), else in plaintext (see :mod:`qcore_client.tls`). A server certificate that does not
verify fails each call with ``grpc.RpcError`` ``UNAVAILABLE``;
:func:`qcore_client.tls.tls_failure_hint` says what to change.

Addresses: a client built without one connects to ``QCORE_QUANTUM_ADDRESS`` /
``QCORE_CLASSICAL_ADDRESS`` (the variables the ``qcore`` CLI reads), else to the services'
default ports, ``127.0.0.1:50051`` / ``127.0.0.1:50052`` (where ``make services`` serves).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any

import grpc
import numpy as np

from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import classical_service_pb2_grpc as cs_grpc
from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from qcore_client.auth import auth_metadata, resolve_token
from qcore_client.circuit import Circuit
from qcore_client.tensors import encode
from qcore_client.tls import TlsChoice, open_aio_channel, open_channel
from qcore_client.observable import Observable, SparsePauliSource, canonical_pauli_string

__all__ = [
    "QuantumClient",
    "AsyncQuantumClient",
    "ClassicalClient",
    "AsyncClassicalClient",
    "Session",
    "AsyncSession",
    "to_program",
    "to_observable",
    "session_start",
    "mitigation_options",
    "FINAL_STATES",
    "QUANTUM_ADDRESS_ENV",
    "CLASSICAL_ADDRESS_ENV",
    "DEFAULT_QUANTUM_ADDRESS",
    "DEFAULT_CLASSICAL_ADDRESS",
    "quantum_address",
    "classical_address",
]

FINAL_STATES = frozenset({common_pb2.JOB_STATE_SUCCEEDED, common_pb2.JOB_STATE_FAILED,
                          common_pb2.JOB_STATE_CANCELLED})

#: Environment variables naming the services' ``host:port`` (read by the SDK and the CLI).
QUANTUM_ADDRESS_ENV = "QCORE_QUANTUM_ADDRESS"
CLASSICAL_ADDRESS_ENV = "QCORE_CLASSICAL_ADDRESS"
#: Where the services listen by default (``QCORE_QUANTUM_PORT`` / ``QCORE_CLASSICAL_PORT``).
DEFAULT_QUANTUM_ADDRESS = "127.0.0.1:50051"
DEFAULT_CLASSICAL_ADDRESS = "127.0.0.1:50052"


def quantum_address(address: str | None = None) -> str:
    """``address``, else ``$QCORE_QUANTUM_ADDRESS`` (when set and not blank), else
    ``127.0.0.1:50051``."""
    return address or os.environ.get(QUANTUM_ADDRESS_ENV, "").strip() or DEFAULT_QUANTUM_ADDRESS


def classical_address(address: str | None = None) -> str:
    """``address``, else ``$QCORE_CLASSICAL_ADDRESS`` (when set and not blank), else
    ``127.0.0.1:50052``."""
    return (address or os.environ.get(CLASSICAL_ADDRESS_ENV, "").strip()
            or DEFAULT_CLASSICAL_ADDRESS)


ProgramLike = Any  # str | Circuit | common_pb2.Circuit | common_pb2.Program
#: Observable | SparsePauliSource (Qiskit SparsePauliOp) | Mapping[str, float] |
#: Iterable[tuple[str, float]]
ObservableLike = Any


def to_program(program: ProgramLike) -> common_pb2.Program:
    """Wraps QASM text, an SDK circuit or a ``Circuit`` message as a ``Program``."""
    if isinstance(program, common_pb2.Program):
        return program
    if isinstance(program, str):
        return common_pb2.Program(openqasm=program)
    if isinstance(program, common_pb2.Circuit):
        return common_pb2.Program(circuit=program)
    if isinstance(program, Circuit):
        return common_pb2.Program(circuit=program.to_proto())
    raise TypeError(f"cannot use {type(program).__name__} as a program: pass OpenQASM text, a "
                    "qcore_client.Circuit or a qcore.v1.Circuit")


def to_observable(observable: ObservableLike) -> common_pb2.Observable:
    """Converts an observable to a ``qcore.v1.Observable`` message.

    A Qiskit ``SparsePauliOp`` (any :class:`~qcore_client.observable.SparsePauliSource`) is read
    through its sparse list, so its little-endian labels need no reversing: ``"XZI"`` is
    ``"Z1 X2"``. Pauli strings of a mapping or ``(pauli_string, coefficient)`` pairs are checked
    and canonicalised here (:func:`~qcore_client.observable.canonical_pauli_string`), so a bad one
    fails before anything is sent.

    Raises:
        ValueError: a malformed Pauli string, or a sparse Pauli list with complex coefficients
            or letters other than I, X, Y, Z.
    """
    if isinstance(observable, common_pb2.Observable):
        return observable
    if isinstance(observable, Observable):
        return observable.to_proto()
    if isinstance(observable, SparsePauliSource):
        return Observable.from_sparse_source(observable).to_proto()
    items = observable.items() if isinstance(observable, Mapping) else observable
    return common_pb2.Observable(terms=[
        common_pb2.PauliTerm(pauli_string=canonical_pauli_string(s), coefficient=float(c))
        for s, c in items])


def _set_observables(message: qs_pb2.SubmitJobRequest | qs_pb2.SessionStart,
                     observable: ObservableLike | None,
                     observables: Sequence[ObservableLike] | None) -> None:
    """Fills ``message.observable`` or ``message.observables``.

    Raises:
        ValueError: both are given, or ``observables`` is empty.
    """
    if observables is not None:
        if observable is not None:
            raise ValueError("pass either observable or observables, not both")
        if not len(observables):
            raise ValueError("observables is empty: pass at least one observable")
        message.observables.extend(to_observable(o) for o in observables)
    elif observable is not None:
        message.observable.CopyFrom(to_observable(observable))


_EXTRAPOLATIONS = {"richardson": common_pb2.EXTRAPOLATION_METHOD_RICHARDSON,
                   "linear": common_pb2.EXTRAPOLATION_METHOD_LINEAR,
                   "exponential": common_pb2.EXTRAPOLATION_METHOD_EXPONENTIAL}
_FOLDINGS = {"global": common_pb2.FOLDING_METHOD_GLOBAL, "local": common_pb2.FOLDING_METHOD_LOCAL}
_SEQUENCES = {"xx": common_pb2.DECOUPLING_SEQUENCE_XX, "xy4": common_pb2.DECOUPLING_SEQUENCE_XY4}


def _choice(table: Mapping[str, int], value: str, what: str) -> int:
    try:
        return table[value.lower()]
    except KeyError:
        raise ValueError(f"unknown {what} {value!r}; use one of {sorted(table)}") from None


def mitigation_options(*, zne: bool = False, scale_factors: Sequence[float] = (),
                       extrapolation: str = "richardson", folding: str = "global",
                       twirling: int = 0, decoupling: str = ""
                       ) -> common_pb2.MitigationOptions | None:
    """The ``MitigationOptions`` message for jobs and sessions (``None`` when nothing is on).

    Args:
        zne: zero-noise extrapolation by folding the compiled circuit (Giurgica-Tiron et al.,
            arXiv:2005.10921).
        scale_factors: noise scale factors, each in ``[1, 21]``; empty means 1, 3, 5.
        extrapolation: ``"richardson"`` (default), ``"linear"`` or ``"exponential"``.
        folding: ``"global"`` (default) or ``"local"``.
        twirling: Pauli frames per circuit (twirling of the two-qubit gates, Wallman &
            Emerson, PRA 94, 052325 (2016)); 0 turns it off.
        decoupling: ``"xx"`` or ``"xy4"`` dynamical decoupling of idle qubits; ``""`` off.
    Raises:
        ValueError: an unknown ``extrapolation``, ``folding`` or ``decoupling`` name, or a
            negative ``twirling`` (the service checks the rest).
    """
    options = common_pb2.MitigationOptions()
    if zne:
        options.zero_noise_extrapolation.CopyFrom(common_pb2.ZeroNoiseExtrapolation(
            scale_factors=[float(v) for v in scale_factors],
            extrapolation=_choice(_EXTRAPOLATIONS, extrapolation, "extrapolation"),
            folding=_choice(_FOLDINGS, folding, "folding")))
    if twirling < 0:
        raise ValueError(f"twirling is a number of Pauli frames (>= 0), got {twirling}")
    if twirling:
        options.pauli_twirling.randomization_count = int(twirling)
    if decoupling:
        options.dynamical_decoupling.sequence = _choice(_SEQUENCES, decoupling, "decoupling")
    return options if options.ListFields() else None


def session_start(program: ProgramLike, observable: ObservableLike | None = None, *,
                  observables: Sequence[ObservableLike] | None = None, qpu_id: str = "",
                  shot_count: int = 0, idle_timeout_s: int = 0, gradient: bool = False,
                  seed: int = 0, adjoint_gradient: bool = False,
                  mitigation: common_pb2.MitigationOptions | None = None
                  ) -> qs_pb2.SessionStart:
    """Builds the ``SessionStart`` message for a session or a ``Minimize`` call.

    Give ``observable`` (one), or ``observables`` (several evaluated together: values come back
    per observable). ``gradient`` asks for parameter-shift gradients, ``adjoint_gradient`` for
    adjoint differentiation (exact expectation values, ``shot_count = 0``, noiseless QPUs only;
    the service answers ``INVALID_ARGUMENT`` elsewhere). ``mitigation`` (see
    :func:`mitigation_options`) mitigates every evaluation (one observable only).

    Raises:
        ValueError: neither or both of ``observable`` and ``observables``.
    """
    if observable is None and observables is None:
        raise ValueError("a session needs an observable: pass observable or observables")
    start = qs_pb2.SessionStart(
        qpu_id=qpu_id, program=to_program(program),
        shot_count=shot_count, idle_timeout_s=idle_timeout_s, seed=seed,
        gradient_method=(qs_pb2.GRADIENT_METHOD_ADJOINT if adjoint_gradient
                         else qs_pb2.GRADIENT_METHOD_PARAMETER_SHIFT if gradient
                         else qs_pb2.GRADIENT_METHOD_UNSPECIFIED))
    _set_observables(start, observable, observables)
    if mitigation is not None:
        start.mitigation.CopyFrom(mitigation)
    return start


def _submit_request(programs: ProgramLike | Sequence[ProgramLike], *, observable, observables,
                    shot_count, parameter_sets, qpu_id, name, request_id, seed, priority,
                    readout_mitigation, mitigation=None, max_bond_dimension=0
                    ) -> qs_pb2.SubmitJobRequest:
    if isinstance(programs, (str, common_pb2.Program, common_pb2.Circuit, Circuit)):
        programs = [programs]
    request = qs_pb2.SubmitJobRequest(
        request_id=request_id or uuid.uuid4().hex, qpu_id=qpu_id,
        programs=[to_program(p) for p in programs], shot_count=shot_count, name=name, seed=seed,
        priority=priority, readout_mitigation=readout_mitigation,
        max_bond_dimension=max_bond_dimension,
        parameter_sets=[common_pb2.ParameterSet(values=[float(v) for v in row])
                        for row in (() if parameter_sets is None else parameter_sets)])
    _set_observables(request, observable, observables)
    if mitigation is not None:
        request.mitigation.CopyFrom(mitigation)
    return request


def _calibrate_request(qpu_id: str, qubits: Sequence[int], force: bool
                       ) -> qs_pb2.CalibrateRequest:
    return qs_pb2.CalibrateRequest(qpu_id=qpu_id, qubits=[int(q) for q in qubits], force=force)


def _list_jobs_request(*, qpu_id: str, state: int, page_size: int, page_token: str
                       ) -> qs_pb2.ListJobsRequest:
    return qs_pb2.ListJobsRequest(page_size=page_size, page_token=page_token, qpu_id=qpu_id,
                                  state=state)


def _list_sessions_request(*, qpu_id: str, page_size: int, page_token: str
                           ) -> qs_pb2.ListSessionsRequest:
    return qs_pb2.ListSessionsRequest(page_size=page_size, page_token=page_token, qpu_id=qpu_id)


def _follow_pages(fetch: Callable[[str], Any], items: str, limit: int | None) -> Iterator[Any]:
    """The ``items`` field's entries of the pages ``fetch(page_token)`` returns, following
    ``next_page_token`` until ``limit`` entries (``None``: no limit) or the last page."""
    token, seen = "", 0
    while True:
        page = fetch(token)
        for item in getattr(page, items):
            yield item
            seen += 1
            if limit is not None and seen >= limit:
                return
        if not (token := page.next_page_token):
            return


async def _follow_pages_async(fetch: Callable[[str], Awaitable[Any]], items: str,
                              limit: int | None) -> AsyncIterator[Any]:
    """As :func:`_follow_pages`, awaiting each page."""
    token, seen = "", 0
    while True:
        page = await fetch(token)
        for item in getattr(page, items):
            yield item
            seen += 1
            if limit is not None and seen >= limit:
                return
        if not (token := page.next_page_token):
            return


def _minimize_request(program, observable, *, optimizer: str, qpu_id: str, shot_count: int,
                      initial_parameters: Iterable[float], max_iterations: int,
                      tolerance: float, options: Mapping[str, float] | None, seed: int,
                      name: str, adjoint_gradient: bool = False,
                      mitigation: common_pb2.MitigationOptions | None = None
                      ) -> cs_pb2.MinimizeRequest:
    return cs_pb2.MinimizeRequest(
        optimizer=optimizer, session=session_start(program, observable, qpu_id=qpu_id,
                                                   shot_count=shot_count, seed=seed,
                                                   adjoint_gradient=adjoint_gradient,
                                                   mitigation=mitigation),
        initial_parameters=list(initial_parameters), max_iterations=max_iterations,
        tolerance=tolerance, options=dict(options or {}), seed=seed, name=name)


def _evaluate_request(sequence: int, parameter_sets, gradient: bool
                      ) -> tuple[qs_pb2.OpenSessionRequest, int]:
    values, m = _pack(parameter_sets)
    return qs_pb2.OpenSessionRequest(evaluate=qs_pb2.SessionEvaluate(
        sequence=sequence, parameter_values=values.tobytes(), parameter_set_count=m,
        compute_gradient=gradient)), m


def _unpack_result(result: qs_pb2.SessionResult, m: int, gradient: bool,
                   observable_count: int | None):
    """Values ``(m,)`` (``observable_count`` None: one observable) or ``(m, k)``, and with
    ``gradient`` the gradients ``(m, n)`` or ``(m, k, n)``."""
    shape = (m,) if observable_count is None else (m, observable_count)
    energies = np.frombuffer(result.expectation_values, dtype="<f8").reshape(shape)
    if gradient:
        return energies, np.frombuffer(result.gradients, dtype="<f8").reshape(*shape, -1)
    return energies


def _unpack_errors(result: qs_pb2.SessionResult | None, observable_count: int | None
                   ) -> np.ndarray:
    """Standard errors of the latest result, shaped as :func:`_unpack_result` shapes values."""
    if result is None:
        return np.empty(0)
    errors = np.frombuffer(result.standard_errors, dtype="<f8")
    return errors if observable_count is None else errors.reshape(-1, observable_count)


def _infer_request(model: str, inputs: Mapping[str, np.ndarray | Sequence[str]]
                   ) -> cs_pb2.InferRequest:
    return cs_pb2.InferRequest(model=model,
                               inputs=[encode(name, value) for name, value in inputs.items()])


def _metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    return auth_metadata(resolve_token(token))


def _pack(parameter_sets: np.ndarray | Sequence[Sequence[float]] | Sequence[float]
          ) -> tuple[np.ndarray, int]:
    values = np.ascontiguousarray(parameter_sets, dtype="<f8")
    if values.ndim == 1:
        values = values[None, :]
    return values, values.shape[0]


class Session:
    """A synchronous hybrid session (see ``QuantumClient.session``).

    ``evaluate(x)`` takes one parameter set ``(n,)`` or a batch ``(m, n)`` and returns the
    expectation values, float64 ``(m,)`` (and gradients ``(m, n)`` when ``gradient=True``); a
    session opened with ``observables`` (``k`` of them) returns ``(m, k)`` (and ``(m, k, n)``),
    observables in the order given. ``standard_errors()`` has the values' shape (zeros when
    exact).
    """

    def __init__(self, stub: qs_grpc.QuantumServiceStub, start: qs_pb2.SessionStart,
                 metadata) -> None:
        import queue

        self._queue: queue.Queue = queue.Queue()
        self._sequence = 0
        self._responses = stub.OpenSession(self._requests(start), metadata=metadata)
        self.ready: qs_pb2.SessionReady = next(self._responses).ready
        self.last: qs_pb2.SessionResult | None = None
        #: Observables per evaluation for a session opened with ``observables``; else None.
        self.observable_count: int | None = len(start.observables) or None

    def _requests(self, start: qs_pb2.SessionStart):
        yield qs_pb2.OpenSessionRequest(start=start)
        while (item := self._queue.get()) is not None:
            yield item

    @property
    def session_id(self) -> str:
        return self.ready.session_id

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.ready.parameters)

    def evaluate(self, parameter_sets, *, gradient: bool = False):
        self._sequence += 1
        request, m = _evaluate_request(self._sequence, parameter_sets, gradient)
        self._queue.put(request)
        self.last = next(self._responses).result
        return _unpack_result(self.last, m, gradient, self.observable_count)

    def standard_errors(self) -> np.ndarray:
        return _unpack_errors(self.last, self.observable_count)

    def close(self) -> None:
        self._queue.put(None)
        for _ in self._responses:
            pass

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AsyncSession:
    """An asyncio hybrid session (see ``AsyncQuantumClient.session``); ``await evaluate(x)``
    as :meth:`Session.evaluate`."""

    def __init__(self, call, ready: qs_pb2.SessionReady, *,
                 observable_count: int | None = None) -> None:
        self._call = call
        self._sequence = 0
        self.ready = ready
        self.last: qs_pb2.SessionResult | None = None
        #: As :attr:`Session.observable_count`.
        self.observable_count = observable_count

    @classmethod
    async def open(cls, stub: qs_grpc.QuantumServiceStub, start: qs_pb2.SessionStart,
                   metadata) -> AsyncSession:
        call = stub.OpenSession(metadata=metadata)
        await call.write(qs_pb2.OpenSessionRequest(start=start))
        return cls(call, (await call.read()).ready,
                   observable_count=len(start.observables) or None)

    @property
    def session_id(self) -> str:
        return self.ready.session_id

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(self.ready.parameters)

    async def evaluate(self, parameter_sets, *, gradient: bool = False):
        self._sequence += 1
        request, m = _evaluate_request(self._sequence, parameter_sets, gradient)
        await self._call.write(request)
        self.last = (await self._call.read()).result
        return _unpack_result(self.last, m, gradient, self.observable_count)

    def standard_errors(self) -> np.ndarray:
        return _unpack_errors(self.last, self.observable_count)

    async def close(self) -> None:
        await self._call.done_writing()
        while await self._call.read() is not grpc.aio.EOF:
            pass

    async def __aenter__(self) -> AsyncSession:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class QuantumClient:
    """Synchronous client of ``qcore.v1.QuantumService``.

    Args:
        address: ``host:port`` of the quantum service; ``None`` reads
            ``QCORE_QUANTUM_ADDRESS``, else ``127.0.0.1:50051`` (see :func:`quantum_address`).
        token: API token sent as ``authorization: Bearer`` metadata (jobs are owned by its
            user); ``None`` looks it up (see :func:`qcore_client.auth.resolve_token`).
        timeout_s: deadline of unary calls, s.
        tls: :class:`~qcore_client.tls.ClientTls` files, ``False`` for plaintext, or None:
            TLS when ``QCORE_TLS_CA`` is set (see :func:`qcore_client.tls.resolve_tls`).
    Raises:
        TlsConfigError: a TLS file cannot be read or is not PEM.
    """

    def __init__(self, address: str | None = None, *, token: str | None = None,
                 timeout_s: float = 60.0, tls: TlsChoice = None) -> None:
        self.address = quantum_address(address)
        self.channel = open_channel(self.address, tls)
        self.stub = qs_grpc.QuantumServiceStub(self.channel)
        self._md = _metadata(token)
        self._timeout = timeout_s

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> QuantumClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def list_qpus(self) -> list[common_pb2.QpuDescription]:
        qpus, token = [], ""
        while True:
            page = self.stub.ListQpus(qs_pb2.ListQpusRequest(page_token=token),
                                      metadata=self._md, timeout=self._timeout)
            qpus.extend(page.qpus)
            if not (token := page.next_page_token):
                return qpus

    def get_qpu(self, qpu_id: str) -> common_pb2.QpuDescription:
        return self.stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id=qpu_id), metadata=self._md,
                                timeout=self._timeout).qpu

    def submit_job(self, programs, *, observable=None, observables=None, shot_count: int = 0,
                   parameter_sets=None, qpu_id: str = "", name: str = "",
                   request_id: str | None = None, seed: int = 0, priority: int = 0,
                   readout_mitigation: bool = False,
                   mitigation: common_pb2.MitigationOptions | None = None,
                   max_bond_dimension: int = 0) -> qs_pb2.Job:
        """Submits a job; a fresh ``request_id`` is generated unless one is given (pass the
        same one to retry safely).

        Args:
            programs: one program or a sequence (OpenQASM text, ``Circuit``, messages).
            observable: with one, each (program, parameter set) yields an expectation value
                (``ExperimentResult.expectation_value``); without, measurement counts.
            observables: instead of ``observable``, a list of observables (a PUB's): each
                (program, parameter set) yields one value per observable, in this order
                (``ExperimentResult.expectation_values`` and ``standard_errors``); terms
                sharing a measurement setting are measured once for all of them.
            shot_count: shots per (program, parameter set); 0 with an observable is exact.
            parameter_sets: rows of values for the programs' parameters, shape ``(m, k)``.
            priority: 0 (lowest, default) to 10; orders jobs within fair share.
            readout_mitigation: invert the calibrated readout assignment matrices
                (``ExperimentResult.mitigated_probabilities``, mitigated expectation values).
            mitigation: zero-noise extrapolation, Pauli twirling, dynamical decoupling of the
                expectation values (:func:`mitigation_options`; needs ``observable``); each
                experiment's ``mitigation`` then holds the per-scale values.
            max_bond_dimension: cap on the bond dimension of matrix-product-state simulation
                (1–256, lowering the QPU's cap; 0: the QPU's own); what it cuts off is each
                experiment's ``truncation_error``.
        Raises:
            grpc.RpcError: ``INVALID_ARGUMENT`` for bad input (e.g. a priority outside 0–10,
                mitigation without an observable), ``NOT_FOUND`` for an unknown QPU,
                ``FAILED_PRECONDITION`` where the QPU cannot apply a mitigation option,
                ``RESOURCE_EXHAUSTED`` over quota.
            ValueError: both ``observable`` and ``observables``, or an empty ``observables``.
        """
        request = _submit_request(programs, observable=observable, observables=observables,
                                  shot_count=shot_count,
                                  parameter_sets=parameter_sets, qpu_id=qpu_id, name=name,
                                  request_id=request_id, seed=seed, priority=priority,
                                  readout_mitigation=readout_mitigation, mitigation=mitigation,
                                  max_bond_dimension=max_bond_dimension)
        return self.stub.SubmitJob(request, metadata=self._md, timeout=self._timeout).job

    def get_job(self, job_id: str) -> qs_pb2.Job:
        return self.stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id), metadata=self._md,
                                timeout=self._timeout).job

    def list_jobs(self, *, qpu_id: str = "", state: int = 0, page_size: int = 50,
                  limit: int | None = None) -> Iterator[qs_pb2.Job]:
        """Jobs newest first, following pages until ``limit`` jobs or the end."""
        yield from _follow_pages(lambda token: self.stub.ListJobs(_list_jobs_request(
            qpu_id=qpu_id, state=state, page_size=page_size, page_token=token),
            metadata=self._md, timeout=self._timeout), "jobs", limit)

    def list_sessions(self, *, qpu_id: str = "", page_size: int = 50,
                      limit: int | None = None) -> Iterator[qs_pb2.SessionSummary]:
        """Open sessions newest first (the token's user's own; every user's for an admin
        token), optionally only those on ``qpu_id``, following pages until ``limit`` sessions
        or the end."""
        yield from _follow_pages(lambda token: self.stub.ListSessions(_list_sessions_request(
            qpu_id=qpu_id, page_size=page_size, page_token=token),
            metadata=self._md, timeout=self._timeout), "sessions", limit)

    def cancel_job(self, job_id: str) -> qs_pb2.Job:
        return self.stub.CancelJob(qs_pb2.CancelJobRequest(job_id=job_id), metadata=self._md,
                                   timeout=self._timeout).job

    def watch_job(self, job_id: str) -> Iterator[qs_pb2.Job]:
        """Yields the job now and on each state change until it is final."""
        for response in self.stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job_id),
                                           metadata=self._md):
            yield response.job

    def wait(self, job_id: str) -> qs_pb2.Job:
        """Blocks until the job is final; returns it with its result."""
        for job in self.watch_job(job_id):
            if job.state in FINAL_STATES:
                return self.get_job(job_id)
        return self.get_job(job_id)

    def session(self, program, observable=None, *, observables=None, qpu_id: str = "",
                shot_count: int = 0, idle_timeout_s: int = 0, gradient: bool = False,
                seed: int = 0, mitigation: common_pb2.MitigationOptions | None = None
                ) -> Session:
        """Opens a hybrid session (use it as a context manager) on ``observable``, or on
        several ``observables`` evaluated together (see :class:`Session` for shapes);
        ``mitigation`` (:func:`mitigation_options`) mitigates every evaluation, and
        ``Session.last.mitigation`` holds the per-scale values of the latest one."""
        start = session_start(program, observable, observables=observables, qpu_id=qpu_id,
                              shot_count=shot_count, idle_timeout_s=idle_timeout_s,
                              gradient=gradient, seed=seed, mitigation=mitigation)
        return Session(self.stub, start, self._md)

    def calibrate(self, qpu_id: str, *, qubits: Sequence[int] = (), force: bool = False,
                  timeout_s: float | None = None) -> qs_pb2.CalibrateResponse:
        """Runs calibration experiments on a QPU now (admin only) and returns the new snapshot.

        Raises:
            grpc.RpcError: ``PERMISSION_DENIED`` for a non-admin token, ``NOT_FOUND`` for an
                unknown QPU, ``FAILED_PRECONDITION`` when automatic calibration is off.
        """
        return self.stub.Calibrate(_calibrate_request(qpu_id, qubits, force), metadata=self._md,
                                   timeout=timeout_s or self._timeout)


class AsyncQuantumClient:
    """asyncio client of ``qcore.v1.QuantumService`` (same methods, awaitable; same
    arguments as :class:`QuantumClient`)."""

    def __init__(self, address: str | None = None, *, token: str | None = None,
                 timeout_s: float = 60.0, tls: TlsChoice = None) -> None:
        self.address = quantum_address(address)
        self.channel = open_aio_channel(self.address, tls)
        self.stub = qs_grpc.QuantumServiceStub(self.channel)
        self._md = _metadata(token)
        self._timeout = timeout_s

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> AsyncQuantumClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def list_qpus(self) -> list[common_pb2.QpuDescription]:
        qpus, token = [], ""
        while True:
            page = await self.stub.ListQpus(qs_pb2.ListQpusRequest(page_token=token),
                                            metadata=self._md, timeout=self._timeout)
            qpus.extend(page.qpus)
            if not (token := page.next_page_token):
                return qpus

    async def list_jobs(self, *, qpu_id: str = "", state: int = 0, page_size: int = 50,
                        limit: int | None = None) -> AsyncIterator[qs_pb2.Job]:
        """Jobs newest first, following pages until ``limit`` jobs or the end."""
        async for job in _follow_pages_async(lambda token: self.stub.ListJobs(
                _list_jobs_request(qpu_id=qpu_id, state=state, page_size=page_size,
                                   page_token=token),
                metadata=self._md, timeout=self._timeout), "jobs", limit):
            yield job

    async def list_sessions(self, *, qpu_id: str = "", page_size: int = 50,
                            limit: int | None = None) -> AsyncIterator[qs_pb2.SessionSummary]:
        """As :meth:`QuantumClient.list_sessions`."""
        async for session in _follow_pages_async(lambda token: self.stub.ListSessions(
                _list_sessions_request(qpu_id=qpu_id, page_size=page_size, page_token=token),
                metadata=self._md, timeout=self._timeout), "sessions", limit):
            yield session

    async def calibrate(self, qpu_id: str, *, qubits: Sequence[int] = (), force: bool = False,
                        timeout_s: float | None = None) -> qs_pb2.CalibrateResponse:
        """As :meth:`QuantumClient.calibrate`."""
        return await self.stub.Calibrate(_calibrate_request(qpu_id, qubits, force),
                                         metadata=self._md, timeout=timeout_s or self._timeout)

    async def session(self, program, observable=None, *, observables=None, qpu_id: str = "",
                      shot_count: int = 0, idle_timeout_s: int = 0, gradient: bool = False,
                      seed: int = 0, mitigation: common_pb2.MitigationOptions | None = None
                      ) -> AsyncSession:
        """Opens a hybrid session (``async with await client.session(...) as s``), as
        :meth:`QuantumClient.session`."""
        start = session_start(program, observable, observables=observables, qpu_id=qpu_id,
                              shot_count=shot_count, idle_timeout_s=idle_timeout_s,
                              gradient=gradient, seed=seed, mitigation=mitigation)
        return await AsyncSession.open(self.stub, start, self._md)

    async def get_qpu(self, qpu_id: str) -> common_pb2.QpuDescription:
        return (await self.stub.GetQpu(qs_pb2.GetQpuRequest(qpu_id=qpu_id), metadata=self._md,
                                       timeout=self._timeout)).qpu

    async def submit_job(self, programs, *, observable=None, observables=None,
                         shot_count: int = 0,
                         parameter_sets=None, qpu_id: str = "", name: str = "",
                         request_id: str | None = None, seed: int = 0, priority: int = 0,
                         readout_mitigation: bool = False,
                         mitigation: common_pb2.MitigationOptions | None = None,
                         max_bond_dimension: int = 0) -> qs_pb2.Job:
        """As :meth:`QuantumClient.submit_job`."""
        request = _submit_request(programs, observable=observable, observables=observables,
                                  shot_count=shot_count,
                                  parameter_sets=parameter_sets, qpu_id=qpu_id, name=name,
                                  request_id=request_id, seed=seed, priority=priority,
                                  readout_mitigation=readout_mitigation, mitigation=mitigation,
                                  max_bond_dimension=max_bond_dimension)
        return (await self.stub.SubmitJob(request, metadata=self._md,
                                          timeout=self._timeout)).job

    async def get_job(self, job_id: str) -> qs_pb2.Job:
        return (await self.stub.GetJob(qs_pb2.GetJobRequest(job_id=job_id), metadata=self._md,
                                       timeout=self._timeout)).job

    async def cancel_job(self, job_id: str) -> qs_pb2.Job:
        return (await self.stub.CancelJob(qs_pb2.CancelJobRequest(job_id=job_id),
                                          metadata=self._md, timeout=self._timeout)).job

    async def watch_job(self, job_id: str) -> AsyncIterator[qs_pb2.Job]:
        async for response in self.stub.WatchJob(qs_pb2.WatchJobRequest(job_id=job_id),
                                                 metadata=self._md):
            yield response.job

    async def wait(self, job_id: str) -> qs_pb2.Job:
        async for job in self.watch_job(job_id):
            if job.state in FINAL_STATES:
                break
        return await self.get_job(job_id)


class ClassicalClient:
    """Synchronous client of ``qcore.v1.ClassicalService``.

    Args:
        address: ``host:port`` of the classical service; ``None`` reads
            ``QCORE_CLASSICAL_ADDRESS``, else ``127.0.0.1:50052`` (see :func:`classical_address`).
        token: API token, forwarded by the classical service to the quantum service on the
            caller's behalf; ``None`` looks it up as :class:`QuantumClient` does.
        tls: as :class:`QuantumClient`'s.
    Raises:
        TlsConfigError: a TLS file cannot be read or is not PEM.
    """

    def __init__(self, address: str | None = None, *, token: str | None = None,
                 tls: TlsChoice = None) -> None:
        self.address = classical_address(address)
        self.channel = open_channel(self.address, tls)
        self.stub = cs_grpc.ClassicalServiceStub(self.channel)
        self._md = _metadata(token)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> ClassicalClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def list_optimizers(self) -> list[cs_pb2.OptimizerInfo]:
        return list(self.stub.ListOptimizers(cs_pb2.ListOptimizersRequest(),
                                             metadata=self._md).optimizers)

    def minimize(self, program, observable, *, optimizer: str = "l-bfgs-b",
                 qpu_id: str = "", shot_count: int = 0,
                 initial_parameters: Iterable[float] = (), max_iterations: int = 0,
                 tolerance: float = 0.0, options: Mapping[str, float] | None = None,
                 seed: int = 0, name: str = "", adjoint_gradient: bool = False,
                 mitigation: common_pb2.MitigationOptions | None = None
                 ) -> Iterator[cs_pb2.MinimizeResponse]:
        """Streams ``MinimizeResponse`` messages: iterations, then the result.

        ``adjoint_gradient``: gradient-based optimisers get adjoint gradients (noiseless QPU,
        ``shot_count = 0``) instead of the parameter-shift default. ``mitigation``
        (:func:`mitigation_options`) mitigates every energy of the run's session (gradient-based
        optimisers need a linear zero-noise fit).
        """
        request = _minimize_request(
            program, observable, optimizer=optimizer, qpu_id=qpu_id, shot_count=shot_count,
            initial_parameters=initial_parameters, max_iterations=max_iterations,
            tolerance=tolerance, options=options, seed=seed, name=name,
            adjoint_gradient=adjoint_gradient, mitigation=mitigation)
        yield from self.stub.Minimize(request, metadata=self._md)

    def list_models(self) -> list[cs_pb2.ModelInfo]:
        """Models the classical service serves (from its model directory)."""
        return list(self.stub.ListModels(cs_pb2.ListModelsRequest(), metadata=self._md).models)

    def get_model(self, name: str) -> cs_pb2.ModelInfo:
        """One model. Raises ``grpc.RpcError`` ``NOT_FOUND`` for an unknown name."""
        return self.stub.GetModel(cs_pb2.GetModelRequest(name=name), metadata=self._md).model

    def infer(self, model: str, inputs: Mapping[str, np.ndarray | Sequence[str]]
              ) -> cs_pb2.InferResponse:
        """Runs ``model`` on named input tensors (see :func:`qcore_client.tensors.encode`);
        decode the outputs with :func:`qcore_client.tensors.decode`."""
        return self.stub.Infer(_infer_request(model, inputs), metadata=self._md)


class AsyncClassicalClient:
    """asyncio client of ``qcore.v1.ClassicalService`` (arguments as :class:`ClassicalClient`)."""

    def __init__(self, address: str | None = None, *, token: str | None = None,
                 tls: TlsChoice = None) -> None:
        self.address = classical_address(address)
        self.channel = open_aio_channel(self.address, tls)
        self.stub = cs_grpc.ClassicalServiceStub(self.channel)
        self._md = _metadata(token)

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self) -> AsyncClassicalClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def list_optimizers(self) -> list[cs_pb2.OptimizerInfo]:
        return list((await self.stub.ListOptimizers(cs_pb2.ListOptimizersRequest(),
                                                    metadata=self._md)).optimizers)

    async def minimize(self, program, observable, *, optimizer: str = "l-bfgs-b",
                       qpu_id: str = "", shot_count: int = 0,
                       initial_parameters: Iterable[float] = (), max_iterations: int = 0,
                       tolerance: float = 0.0, options: Mapping[str, float] | None = None,
                       seed: int = 0, name: str = "", adjoint_gradient: bool = False,
                       mitigation: common_pb2.MitigationOptions | None = None
                       ) -> AsyncIterator[cs_pb2.MinimizeResponse]:
        """As :meth:`ClassicalClient.minimize`, as an async iterator."""
        request = _minimize_request(
            program, observable, optimizer=optimizer, qpu_id=qpu_id, shot_count=shot_count,
            initial_parameters=initial_parameters, max_iterations=max_iterations,
            tolerance=tolerance, options=options, seed=seed, name=name,
            adjoint_gradient=adjoint_gradient, mitigation=mitigation)
        async for response in self.stub.Minimize(request, metadata=self._md):
            yield response

    async def list_models(self) -> list[cs_pb2.ModelInfo]:
        return list((await self.stub.ListModels(cs_pb2.ListModelsRequest(),
                                                metadata=self._md)).models)

    async def get_model(self, name: str) -> cs_pb2.ModelInfo:
        return (await self.stub.GetModel(cs_pb2.GetModelRequest(name=name),
                                         metadata=self._md)).model

    async def infer(self, model: str, inputs: Mapping[str, np.ndarray | Sequence[str]]
                    ) -> cs_pb2.InferResponse:
        return await self.stub.Infer(_infer_request(model, inputs), metadata=self._md)
