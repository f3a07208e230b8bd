"""``qcore.v1.QuantumService`` over gRPC: thin handlers around the kernel and sessions."""

from __future__ import annotations

import asyncio
import base64
import logging

import grpc
from opentelemetry import propagate, trace

from qcore.v1 import common_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc
from quantum_service.convert import qpu_to_proto, snapshot_to_proto
from quantum_service.errors import InvalidProgramError
from quantum_service.kernel.jobs import job_to_proto
from quantum_service.kernel.kernel import Kernel
from quantum_service.kernel.qpus import QpuSlot
from quantum_service.kernel.sessions import SessionManager
from quantum_service.kernel.validation import job_state_filter
from quantum_service.server.auth import current_principal
from quantum_service.server.status import abort_for_exception, abort_with, map_errors

__all__ = ["QuantumServicer"]

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

_DEFAULT_PAGE_SIZE = 50
_MAX_PAGE_SIZE = 1000


def _page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidProgramError("page_size must be >= 0", reason="INVALID_PAGE")
    return min(requested or _DEFAULT_PAGE_SIZE, _MAX_PAGE_SIZE)


#: Longest page token accepted, characters (base64 of a decimal int64 is at most 28).
_MAX_TOKEN_LENGTH = 64
_MAX_TOKEN_VALUE = 2**63 - 1  # SQLite INTEGER


def _decode_token(token: str) -> int | None:
    """The position a ``next_page_token`` of this service names (>= 1), or None for ``""``.

    Raises:
        InvalidProgramError: anything else (over-long, not base64, not ASCII decimal digits,
            zero, negative, or above int64).
    """
    if not token:
        return None
    invalid = InvalidProgramError(
        "page_token is not one returned by this service; send the previous response's "
        "next_page_token, or an empty page_token for the first page", reason="INVALID_PAGE")
    if len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        raise invalid
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise invalid from None
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _MAX_TOKEN_VALUE:
        raise invalid
    return int(text)


def _encode_token(value: int | None) -> str:
    return "" if value is None else base64.urlsafe_b64encode(str(value).encode()).decode()


class QuantumServicer(qs_grpc.QuantumServiceServicer):
    """Handlers; each runs behind :class:`~quantum_service.server.auth.AuthInterceptor`, which
    has authenticated the caller (:func:`current_principal`) and checked the method policy
    (``Calibrate`` is admin-only). Jobs are read, listed, watched and cancelled through the
    kernel, and sessions listed through the session manager, on behalf of that principal."""

    def __init__(self, kernel: Kernel, sessions: SessionManager) -> None:
        self.kernel = kernel
        self.sessions = sessions

    def _describe(self, slot: QpuSlot) -> common_pb2.QpuDescription:
        return qpu_to_proto(slot.driver.capabilities,
                            snapshot=slot.driver.calibration_snapshot(),
                            queue_length=slot.queue_length,
                            device_time_s=slot.driver.device_time_s,
                            status=int(slot.status),
                            supports=self.kernel.qpu_supports(slot),
                            properties=self.kernel.qpu_properties(slot))

    @map_errors
    async def ListQpus(self, request, context):
        size = _page_size(request.page_size)
        start = _decode_token(request.page_token) or 0
        slots = list(self.kernel.registry)
        page = slots[start:start + size]
        more = start + size < len(slots)
        return qs_pb2.ListQpusResponse(qpus=[self._describe(s) for s in page],
                                       next_page_token=_encode_token(start + size if more
                                                                     else None))

    @map_errors
    async def GetQpu(self, request, context):
        return qs_pb2.GetQpuResponse(qpu=self._describe(self.kernel.registry.get(request.qpu_id)))

    @map_errors
    async def Calibrate(self, request, context):
        """Runs calibration on a QPU now (:meth:`Kernel.calibrate`; the QPU reports
        ``CALIBRATING`` meanwhile). NOT_FOUND for an unknown QPU, INVALID_ARGUMENT for a qubit
        outside it, UNAVAILABLE when the service runs without a calibration manager."""
        slot = self.kernel.registry.get(request.qpu_id)
        outcome = await self.kernel.calibrate(slot, qubits=list(request.qubits),
                                              force=request.force)
        return qs_pb2.CalibrateResponse(snapshot=snapshot_to_proto(outcome.snapshot),
                                        experiments=list(outcome.experiments),
                                        device_time_s=outcome.device_time_s)

    @map_errors
    async def SubmitJob(self, request, context):
        principal = current_principal()
        job = await self.kernel.submit(request, owner=principal.user, caller=principal)
        return qs_pb2.SubmitJobResponse(job=job_to_proto(job))

    @map_errors
    async def GetJob(self, request, context):
        return qs_pb2.GetJobResponse(job=job_to_proto(
            self.kernel.get(request.job_id, caller=current_principal())))

    @map_errors
    async def ListJobs(self, request, context):
        jobs, next_seq = self.kernel.list_jobs(
            limit=_page_size(request.page_size), before_seq=_decode_token(request.page_token),
            qpu_id=request.qpu_id, state=job_state_filter(request.state),
            caller=current_principal())
        return qs_pb2.ListJobsResponse(jobs=[job_to_proto(j, include_result=False) for j in jobs],
                                       next_page_token=_encode_token(next_seq))

    @map_errors
    async def CancelJob(self, request, context):
        job = await self.kernel.cancel(request.job_id, caller=current_principal())
        return qs_pb2.CancelJobResponse(job=job_to_proto(job))

    @map_errors
    async def WatchJob(self, request, context):
        async for job in self.kernel.watch(request.job_id, caller=current_principal()):
            yield qs_pb2.WatchJobResponse(job=job)

    @map_errors
    async def ListSessions(self, request, context):
        """Open sessions newest first, paged as ``ListJobs``: the caller's own, or every
        user's for an admin (:meth:`SessionManager.list_sessions`)."""
        sessions, next_seq = self.sessions.list_sessions(
            limit=_page_size(request.page_size), before_seq=_decode_token(request.page_token),
            qpu_id=request.qpu_id, caller=current_principal())
        return qs_pb2.ListSessionsResponse(
            sessions=[self.sessions.summary_message(s) for s in sessions],
            next_page_token=_encode_token(next_seq))

    async def OpenSession(self, request_iterator, context):
        """See quantum_service.proto. Errors end the stream with a status code; the lease is
        released on every exit path (close, drop, idle timeout, error)."""
        session = None
        try:
            first = await context.read()
            if first is grpc.aio.EOF:
                return
            if first.WhichOneof("request") != "start":
                await abort_with(context, grpc.StatusCode.INVALID_ARGUMENT,
                                 "the first OpenSession message must carry `start`",
                                 "SESSION_NOT_STARTED")
            session = await self.sessions.open(first.start,
                                              owner=current_principal().user)
            await context.write(qs_pb2.OpenSessionResponse(
                ready=self.sessions.ready_message(session)))
            while True:
                try:
                    message = await asyncio.wait_for(context.read(), session.idle_timeout_s)
                except TimeoutError:
                    await abort_with(
                        context, grpc.StatusCode.DEADLINE_EXCEEDED,
                        f"session {session.session_id} was idle for {session.idle_timeout_s:g} s "
                        f"and was closed; its QPU lease is released", "SESSION_IDLE_TIMEOUT")
                if message is grpc.aio.EOF:
                    return
                if message.WhichOneof("request") != "evaluate":
                    await abort_with(context, grpc.StatusCode.INVALID_ARGUMENT,
                                     "after `start`, send only `evaluate` messages",
                                     "SESSION_ALREADY_STARTED")
                # The caller's span for this evaluation, else the stream's (call metadata).
                parent = (propagate.extract(message.evaluate.trace_context)
                          if message.evaluate.trace_context else None)
                with tracer.start_as_current_span("SessionEvaluate", context=parent):
                    result = await self.sessions.evaluate(session, message.evaluate)
                await context.write(qs_pb2.OpenSessionResponse(result=result))
        except (grpc.aio.AbortError, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status
            await abort_for_exception(context, exc, where="OpenSession")
        finally:
            if session is not None:
                self.sessions.close(session)
