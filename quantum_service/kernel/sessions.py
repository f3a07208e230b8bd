"""Hybrid sessions: a program compiled once, evaluated for many parameter batches.

A session holds a lease on its QPU until it is closed, its stream drops, or it has been idle for
its idle timeout. A session that names no QPU goes to the best fitting QPU that still has a
free lease (:meth:`Kernel.lease_qpu`); RESOURCE_EXHAUSTED only when every fitting QPU is full.

Idle timeouts: ``idle_timeout_s = 0`` gets the service's default; a requested timeout above the
service's maximum (``max_session_idle_timeout_s``) is clamped to it, so no client holds a lease
forever. The grant is what ``SessionReady.expire_time`` reports. Each evaluation runs through the session lane of its QPU's worker
(:meth:`Kernel.run_on_qpu`), ahead of queued jobs, and its device time counts towards the
owner's fair share and quota; nothing the session already holds (program, observable, compiled
form) is parsed or validated again.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from opentelemetry import trace

from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import telemetry_pb2
from quantum_service.circuits.ir import Circuit
from quantum_service.convert import mitigation_record_to_proto, program_from_proto, timestamp
from quantum_service.contract import (
    ExecutionOptions,
    ExecutionResult,
    MitigationOptions,
    PreparedProgram,
)
from quantum_service.errors import InvalidProgramError
from quantum_service.kernel.jobs import utc_now
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuSlot
from quantum_service.kernel.validation import (
    check_bond_dimension,
    check_mitigation,
    check_session_start,
    check_shot_count,
    parse_mitigation,
    parse_observables,
)
from quantum_service.security.principal import Principal

__all__ = ["Session", "SessionManager", "DEFAULT_IDLE_TIMEOUT_S", "MAX_IDLE_TIMEOUT_S",
           "granted_idle_timeout_s"]

DEFAULT_IDLE_TIMEOUT_S = 300.0
MAX_IDLE_TIMEOUT_S = 3600.0


def granted_idle_timeout_s(requested_s: float, *, default_s: float, max_s: float) -> float:
    """The idle timeout a session gets, seconds: ``default_s`` for 0, else
    ``min(requested_s, max_s)`` (validation has rejected negative values)."""
    return min(float(requested_s or default_s), max_s)
tracer = trace.get_tracer(__name__)


@dataclass(slots=True)
class Session:
    """An open session (see the module docstring).

    Attributes:
        seq: the session's place in opening order (1, 2, ... per manager); ListSessions pages
            by it, newest first.
        max_bond_dimension: ``SessionStart.max_bond_dimension``, ``None`` for the QPU's default.
        open_time: when the session opened (UTC).
        active_time: when its latest request (``start`` or ``evaluate``) was handled (UTC).
    """

    session_id: str
    seq: int
    owner: str
    slot: QpuSlot
    program: PreparedProgram
    shot_count: int
    gradient_method: int
    idle_timeout_s: float
    seed: int
    evaluation_count: int = 0
    device_time_s: float = 0.0
    request_count: int = 0
    mitigation: MitigationOptions | None = None
    max_bond_dimension: int | None = None
    open_time: datetime = field(default_factory=utc_now)
    active_time: datetime = field(default_factory=utc_now)

    @property
    def qpu_id(self) -> str:
        return self.slot.driver.capabilities.qpu_id

    @property
    def parameter_count(self) -> int:
        return len(self.program.parameters)

    @property
    def observable_count(self) -> int:
        """Observables per evaluation: 1, or the length of ``SessionStart.observables``."""
        return len(self.program.observables) or 1


class SessionManager:
    """Opens, evaluates and closes sessions on the kernel's QPUs.

    Args:
        kernel: the kernel.
        default_idle_timeout_s: idle timeout of a session asking for none, seconds.
        max_idle_timeout_s: longest idle timeout granted, seconds (larger requests are
            clamped; see the module docstring).
    """

    def __init__(self, kernel: Kernel, *, default_idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
                 max_idle_timeout_s: float = MAX_IDLE_TIMEOUT_S) -> None:
        self.kernel = kernel
        self.sessions: dict[str, Session] = {}
        self.default_idle_timeout_s = min(default_idle_timeout_s, max_idle_timeout_s)
        self.max_idle_timeout_s = max_idle_timeout_s
        self._seq = itertools.count(1)

    async def open(self, start: qs_pb2.SessionStart, *, owner: str) -> Session:
        """Validates and compiles the session's program and takes a lease on its QPU.

        Raises:
            InvalidProgramError: bad program, observable, shot count, timeout, gradient
                method or mitigation options (see
                :func:`~quantum_service.kernel.validation.check_session_start`).
            FailedPreconditionError: the QPU cannot apply the mitigation asked for.
            NotFoundError: unknown ``qpu_id``.
            ResourceExhaustedError: the named QPU, or every fitting one, has no free lease.
        """
        check_session_start(start)
        circuit = await self.kernel.run_blocking(program_from_proto, start.program)
        observable, observables = parse_observables(start, qubit_count=circuit.qubit_count)
        if observable is None and not observables:
            raise InvalidProgramError("a session needs an observable: set `observable`, or "
                                      "`observables` for several", reason="INVALID_OBSERVABLE")
        mitigation = parse_mitigation(start, has_observable=True,
                                      several_observables=bool(observables))
        slot, _ = await self.kernel.lease_qpu([circuit], qpu_id=start.qpu_id,
                                              exact=start.shot_count == 0)
        try:
            return await self._open_leased(start, slot, circuit, observable, observables,
                                           mitigation, owner=owner)
        except BaseException:
            self.kernel.registry.release_lease(slot)
            raise

    async def _open_leased(self, start: qs_pb2.SessionStart, slot: QpuSlot, circuit: Circuit,
                           observable: Sequence[tuple[str, float]] | None,
                           observables: Sequence[Sequence[tuple[str, float]]],
                           mitigation: MitigationOptions | None, *, owner: str
                           ) -> Session:
        check_shot_count(start.shot_count, has_observable=True, caps=slot.driver.capabilities)
        check_bond_dimension(start.max_bond_dimension)
        if start.gradient_method == qs_pb2.GRADIENT_METHOD_ADJOINT and (
                start.shot_count > 0 or slot.driver.capabilities.noisy):
            raise InvalidProgramError(
                "adjoint gradients need exact expectation values (shot_count = 0) on a "
                "noiseless QPU; use GRADIENT_METHOD_PARAMETER_SHIFT here",
                reason="GRADIENT_UNSUPPORTED")
        program = await self.kernel.run_blocking(
            lambda: slot.driver.prepare(circuit, observable=observable, observables=observables))
        if mitigation is not None:
            await self.kernel.run_blocking(check_mitigation, slot.driver, [program], mitigation)
        session = Session(
            session_id=f"ses-{uuid.uuid4().hex[:16]}", seq=next(self._seq), owner=owner,
            slot=slot, program=program,
            shot_count=start.shot_count, gradient_method=start.gradient_method,
            idle_timeout_s=granted_idle_timeout_s(start.idle_timeout_s,
                                                  default_s=self.default_idle_timeout_s,
                                                  max_s=self.max_idle_timeout_s),
            seed=start.seed or int(uuid.uuid4().int % 2**62), mitigation=mitigation,
            max_bond_dimension=start.max_bond_dimension or None)
        self.sessions[session.session_id] = session
        self._progress(session, "open", float("nan"))
        self.kernel.publish_qpu_status(slot)
        return session

    def ready_message(self, session: Session) -> qs_pb2.SessionReady:
        ts = timestamp(utc_now() + timedelta(seconds=session.idle_timeout_s))
        return qs_pb2.SessionReady(
            session_id=session.session_id, qpu_id=session.qpu_id,
            parameters=session.program.parameters,
            qubit_count=session.program.circuit.qubit_count,
            compiled_gate_count=session.program.compiled_gate_count,
            compiled_depth=session.program.compiled_depth,
            calibration_snapshot_id=session.program.calibration_snapshot_id, expire_time=ts,
            observable_count=session.observable_count)

    def decode(self, session: Session, request: qs_pb2.SessionEvaluate) -> np.ndarray:
        """The request's parameter sets as float64 ``(m, n)``.

        Raises:
            InvalidProgramError: wrong byte length, count out of range, NaN or infinity.
        """
        m, n = request.parameter_set_count, session.parameter_count
        caps = session.slot.driver.capabilities
        if m < 1 or m > caps.max_parameter_set_count:
            raise InvalidProgramError(
                f"parameter_set_count must be in [1, {caps.max_parameter_set_count}], got {m}",
                reason="WRONG_PARAMETER_COUNT")
        if len(request.parameter_values) != 8 * m * n:
            raise InvalidProgramError(
                f"parameter_values holds {len(request.parameter_values)} bytes; expected "
                f"{m} set(s) x {n} parameter(s) x 8 bytes (little-endian float64) = {8 * m * n}",
                reason="WRONG_PARAMETER_COUNT")
        values = np.frombuffer(request.parameter_values, dtype="<f8").reshape(m, n)
        if not np.isfinite(values).all():
            raise InvalidProgramError("parameter_values contains NaN or infinity",
                                      reason="INVALID_PARAMETER")
        return values

    async def evaluate(self, session: Session, request: qs_pb2.SessionEvaluate
                       ) -> qs_pb2.SessionResult:
        """Evaluates one request's parameter sets (and gradients if asked); with several
        observables, every value array gains an observable axis after the parameter-set axis
        (shapes in ``SessionResult``)."""
        values = self.decode(session, request)
        gradient = request.compute_gradient
        if gradient and session.gradient_method == qs_pb2.GRADIENT_METHOD_UNSPECIFIED:
            session.gradient_method = qs_pb2.GRADIENT_METHOD_PARAMETER_SHIFT
        session.request_count += 1
        method = ("adjoint" if session.gradient_method == qs_pb2.GRADIENT_METHOD_ADJOINT
                  else "parameter_shift")
        if gradient and session.mitigation is not None:
            check_mitigation(session.slot.driver, [session.program], session.mitigation,
                             gradient=True)
        options = ExecutionOptions(shot_count=session.shot_count, gradient=gradient,
                                   seed=session.seed + session.request_count,
                                   gradient_method=method, mitigation=session.mitigation,
                                   max_bond_dimension=session.max_bond_dimension)
        def execute() -> ExecutionResult:
            with tracer.start_as_current_span("driver.execute",
                                              attributes={"qcore.qpu_id": session.qpu_id}):
                return session.slot.driver.execute(session.program, values, options)

        out: ExecutionResult = await self.kernel.run_on_qpu(session.slot, execute)
        self.kernel.record_usage(session.owner, out.device_time_s)
        session.evaluation_count += out.circuit_executions
        session.device_time_s += out.device_time_s
        session.active_time = utc_now()
        result = qs_pb2.SessionResult(
            sequence=request.sequence,
            expectation_values=out.expectation_values.astype("<f8").tobytes(),
            standard_errors=out.standard_errors.astype("<f8").tobytes(),
            device_time_s=out.device_time_s, evaluation_count=session.evaluation_count,
            engine=out.engine, exact=session.shot_count == 0,
            truncation_error=max(out.truncation_errors or [0.0]))
        if out.gradients is not None:
            result.gradients = out.gradients.astype("<f8").tobytes()
        for record in out.mitigation or ():
            result.mitigation.append(mitigation_record_to_proto(record))
        self._progress(session, "evaluate", float(out.expectation_values.flat[0]))
        return result

    def list_sessions(self, *, limit: int, before_seq: int | None = None, qpu_id: str = "",
                      caller: Principal | None = None) -> tuple[list[Session], int | None]:
        """Open sessions newest first, as :meth:`Kernel.list_jobs` lists jobs.

        Args:
            limit: most sessions returned, >= 1.
            before_seq: only sessions opened before the one with this ``seq`` (the previous
                page's continuation); ``None``: from the newest.
            qpu_id: only sessions on this QPU; ``""``: on any.
            caller: only ``caller``'s own sessions unless it is an admin; ``None``: an
                in-process call, every session.
        Returns:
            The page, and the ``seq`` to continue before (``None`` after the last page).
        """
        matching = (s for s in reversed(self.sessions.values())
                    if (before_seq is None or s.seq < before_seq)
                    and (not qpu_id or s.qpu_id == qpu_id)
                    and (caller is None or caller.owns(s.owner)))
        page = list(itertools.islice(matching, limit + 1))
        more = len(page) > limit
        page = page[:limit]
        return page, (page[-1].seq if more and page else None)

    def summary_message(self, session: Session) -> qs_pb2.SessionSummary:
        """``session`` as ListSessions reports it."""
        return qs_pb2.SessionSummary(
            session_id=session.session_id, owner=session.owner, qpu_id=session.qpu_id,
            open_time=timestamp(session.open_time), idle_timeout_s=session.idle_timeout_s,
            expire_time=timestamp(session.active_time
                                  + timedelta(seconds=session.idle_timeout_s)),
            evaluation_count=session.evaluation_count, request_count=session.request_count,
            device_time_s=session.device_time_s, shot_count=session.shot_count,
            parameter_count=session.parameter_count,
            observable_count=session.observable_count)

    def close(self, session: Session) -> None:
        """Closes the session and releases its lease (idempotent)."""
        if self.sessions.pop(session.session_id, None) is None:
            return
        self.kernel.registry.release_lease(session.slot)
        self._progress(session, "closed", float("nan"))
        self.kernel.publish_qpu_status(session.slot)

    def _progress(self, session: Session, event: str, value: float) -> None:
        self.kernel.emit(telemetry_pb2.SessionProgressEvent(
            session_id=session.session_id, qpu_id=session.qpu_id, event=event,
            evaluation_count=session.evaluation_count, expectation_value=value,
            device_time_s=session.device_time_s, time=timestamp(utc_now())))
