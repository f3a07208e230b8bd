"""API tokens on the client side: where the SDK and the CLI find the caller's token, and how
it travels (``authorization: Bearer <token>`` call metadata).

Lookup order of :func:`resolve_token`: an explicit token; ``$QCORE_TOKEN``; the file named by
``$QCORE_TOKEN_FILE``; ``var/admin.token`` under the working directory (the local admin token
``make run`` / ``make services`` write); ``~/.config/qcore/token``. No token found: calls go
without one and the services answer ``UNAUTHENTICATED``.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Sequence
from pathlib import Path

import grpc

__all__ = [
    "TOKEN_ENV",
    "TOKEN_FILE_ENV",
    "LOCAL_TOKEN_FILE",
    "USER_TOKEN_FILE",
    "AUTHORIZATION_KEY",
    "resolve_token",
    "auth_metadata",
    "bearer_interceptors",
    "with_bearer_token",
]

TOKEN_ENV = "QCORE_TOKEN"
TOKEN_FILE_ENV = "QCORE_TOKEN_FILE"
#: The local admin token of ``make run`` / ``make services``, relative to the working directory.
LOCAL_TOKEN_FILE = Path("var/admin.token")
#: A user's own token file.
USER_TOKEN_FILE = Path("~/.config/qcore/token")
AUTHORIZATION_KEY = "authorization"


def _read(path: Path) -> str | None:
    try:
        text = path.expanduser().read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def resolve_token(token: str | None = None) -> str | None:
    """The caller's API token (see the module docstring for the lookup order), or None."""
    if token:
        return token.strip()
    from_env = os.environ.get(TOKEN_ENV, "").strip()
    if from_env:
        return from_env
    named = os.environ.get(TOKEN_FILE_ENV, "").strip()
    if named:
        return _read(Path(named))
    return _read(LOCAL_TOKEN_FILE) or _read(USER_TOKEN_FILE)


def auth_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """``(("authorization", "Bearer <token>"),)``, or ``()`` without a token."""
    return ((AUTHORIZATION_KEY, f"Bearer {token}"),) if token else ()


def _with_token(details: grpc.aio.ClientCallDetails, metadata: Sequence[tuple[str, str]]
                ) -> grpc.aio.ClientCallDetails:
    existing = [(k, v) for k, v in (details.metadata or ()) if k != AUTHORIZATION_KEY]
    return grpc.aio.ClientCallDetails(details.method, details.timeout,
                                      grpc.aio.Metadata(*existing, *metadata),
                                      details.credentials, details.wait_for_ready)


class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(_with_token(client_call_details, self.metadata), request)


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(_with_token(client_call_details, self.metadata), request)


class _StreamUnary(grpc.aio.StreamUnaryClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    async def intercept_stream_unary(self, continuation, client_call_details,
                                     request_iterator):
        return await continuation(_with_token(client_call_details, self.metadata),
                                  request_iterator)


class _StreamStream(grpc.aio.StreamStreamClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    async def intercept_stream_stream(self, continuation, client_call_details,
                                      request_iterator):
        return await continuation(_with_token(client_call_details, self.metadata),
                                  request_iterator)


def bearer_interceptors(token: str) -> list[grpc.aio.ClientInterceptor]:
    """``grpc.aio`` client interceptors that send ``token`` on every call of a channel:
    ``grpc.aio.insecure_channel(address, interceptors=bearer_interceptors(token))``."""
    metadata = auth_metadata(token)
    return [_UnaryUnary(metadata), _UnaryStream(metadata), _StreamUnary(metadata),
            _StreamStream(metadata)]


class _SyncDetails(collections.namedtuple(
        "_SyncDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready",
                         "compression")), grpc.ClientCallDetails):
    pass


class _SyncBearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                  grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        existing = [(k, v) for k, v in (details.metadata or ()) if k != AUTHORIZATION_KEY]
        return _SyncDetails(details.method, details.timeout, [*existing, *self.metadata],
                            details.credentials, details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


def with_bearer_token(channel: grpc.Channel, token: str) -> grpc.Channel:
    """A synchronous ``channel`` that sends ``token`` on every call (closing the returned
    channel closes ``channel``)."""
    return grpc.intercept_channel(channel, _SyncBearer(auth_metadata(token)))
