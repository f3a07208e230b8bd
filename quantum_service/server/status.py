"""The one place where domain exceptions become gRPC status codes.

Each error is sent with a canonical status code, an actionable message, and a
``google.rpc.ErrorInfo`` detail whose ``reason`` is the exception's UPPER_SNAKE reason (as the
Google API design guide's "Errors" chapter prescribes), so clients can branch on it.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from quantum_service.errors import (
    FailedPreconditionError,
    InvalidProgramError,
    NotFoundError,
    PermissionDeniedError,
    QcoreError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
)

__all__ = ["status_code_for", "abort_with", "abort_for_exception", "map_errors"]

log = logging.getLogger(__name__)

_CODES: list[tuple[type[QcoreError], grpc.StatusCode]] = [
    (InvalidProgramError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (ResourceExhaustedError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (UnavailableError, grpc.StatusCode.UNAVAILABLE),
    (UnauthenticatedError, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
]


def status_code_for(exc: QcoreError) -> grpc.StatusCode:
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.INTERNAL


def _rich_status(code: grpc.StatusCode, message: str, reason: str, domain: str
                 ) -> status_pb2.Status:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain))
    return status_pb2.Status(code=code.value[0], message=message, details=[detail])


async def abort_with(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str,
                     reason: str, *, domain: str = "qcore.dev") -> None:
    """Aborts the RPC with ``code``, ``message`` and an ErrorInfo ``reason``."""
    await context.abort_with_status(
        rpc_status.to_status(_rich_status(code, message, reason, domain)))


async def abort_for_exception(context: grpc.aio.ServicerContext, exc: Exception, *,
                              where: str) -> None:
    """Aborts the RPC for ``exc``, raised while handling ``where`` (an RPC name).

    A :class:`~quantum_service.errors.QcoreError` (every validation error is one) gets its own
    code, message and reason. Anything else is a server bug: it is logged with its traceback
    under a short incident id and the client gets INTERNAL with that id only, never the
    exception text or traceback.
    """
    if isinstance(exc, QcoreError):
        await abort_with(context, status_code_for(exc), str(exc), exc.reason)
        return  # not reached: abort_with raises grpc.aio.AbortError
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error in %s (incident %s)", where, incident, exc_info=exc)
    await abort_with(context, grpc.StatusCode.INTERNAL,
                     f"internal error in {where} (incident {incident}); this is a qcore bug, "
                     "the service logged the details", "INTERNAL")


def map_errors(method: Callable) -> Callable:
    """Decorates a unary or server-streaming ``grpc.aio`` handler: exceptions become status
    codes through :func:`abort_for_exception`."""

    async def handle(exc: Exception, context: grpc.aio.ServicerContext) -> None:
        await abort_for_exception(context, exc, where=method.__name__)

    if _is_async_gen(method):
        @functools.wraps(method)
        async def stream_wrapper(self, request, context):
            try:
                async for item in method(self, request, context):
                    yield item
            except (grpc.aio.AbortError, GeneratorExit):
                raise
            except Exception as exc:  # noqa: BLE001 - mapped to a status
                await handle(exc, context)
        return stream_wrapper

    @functools.wraps(method)
    async def unary_wrapper(self, request, context):
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a status
            await handle(exc, context)
    return unary_wrapper


def _is_async_gen(fn: Callable) -> bool:
    import inspect
    return inspect.isasyncgenfunction(fn)

