"""Domain exceptions of the quantum service.

Domain code raises these; :mod:`quantum_service.server.status` is the one place that maps them to
gRPC status codes. Drivers, the compiler and the simulator never import ``grpc``.
"""

from __future__ import annotations

__all__ = [
    "QcoreError",
    "InvalidProgramError",
    "NotFoundError",
    "FailedPreconditionError",
    "ResourceExhaustedError",
    "UnavailableError",
    "UnauthenticatedError",
    "PermissionDeniedError",
]


class QcoreError(Exception):
    """Base class. ``reason`` is an UPPER_SNAKE machine-readable code (``ErrorInfo.reason``)."""

    reason = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class InvalidProgramError(QcoreError, ValueError):
    """Bad input: malformed program, unknown gate, bad parameters (``INVALID_ARGUMENT``)."""

    reason = "INVALID_PROGRAM"


class NotFoundError(QcoreError, LookupError):
    """Unknown QPU, job or session (``NOT_FOUND``)."""

    reason = "NOT_FOUND"


class FailedPreconditionError(QcoreError):
    """The object is in the wrong state, e.g. cancelling a finished job (``FAILED_PRECONDITION``)."""

    reason = "FAILED_PRECONDITION"


class ResourceExhaustedError(QcoreError):
    """A quota or capacity limit was hit (``RESOURCE_EXHAUSTED``)."""

    reason = "RESOURCE_EXHAUSTED"


class UnavailableError(QcoreError):
    """The QPU is offline or busy (``UNAVAILABLE``)."""

    reason = "QPU_UNAVAILABLE"


class UnauthenticatedError(QcoreError):
    """No API token, or one the service does not know (``UNAUTHENTICATED``)."""

    reason = "UNAUTHENTICATED"


class PermissionDeniedError(QcoreError):
    """An authenticated caller may not do this, e.g. a non-admin calling ``Calibrate``
    (``PERMISSION_DENIED``)."""

    reason = "PERMISSION_DENIED"
