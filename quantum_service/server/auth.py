"""Authentication at the gRPC edge: a ``grpc.aio`` server interceptor.

Every call except those :func:`~quantum_service.security.policy.is_open` names (health,
reflection) must carry ``authorization: Bearer <token>`` metadata with a token the
:class:`~quantum_service.security.tokens.TokenStore` knows; otherwise it ends with
``UNAUTHENTICATED``. The method-level policy (admin-only fleet operations) is checked here too
(``PERMISSION_DENIED``). The handler then runs with the caller's
:class:`~quantum_service.security.principal.Principal` available from :func:`current_principal`;
no other metadata (such as an ``x-qcore-user`` header) confers any identity.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Awaitable, Callable

import grpc

from broker.rpc import replace_behaviour

from quantum_service.errors import QcoreError, UnauthenticatedError
from quantum_service.security.policy import authorize_method, is_open
from quantum_service.security.principal import Principal
from quantum_service.security.tokens import TokenStore
from quantum_service.server.status import abort_with, status_code_for

__all__ = ["AuthInterceptor", "current_principal", "bearer_token", "AUTHORIZATION_KEY"]

#: Call metadata key carrying ``Bearer <token>`` (lower case, as gRPC metadata keys are).
AUTHORIZATION_KEY = "authorization"
_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "qcore_principal", default=None)


def current_principal() -> Principal:
    """The authenticated caller of the RPC being handled.

    Raises:
        UnauthenticatedError: called outside a handler the interceptor admitted.
    """
    principal = _principal.get()
    if principal is None:
        raise UnauthenticatedError("this call carries no verified API token")
    return principal


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    """The token of the first ``authorization: Bearer <token>`` entry of ``metadata``."""
    for key, value in metadata or ():
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def _authenticate(tokens: TokenStore, details: grpc.HandlerCallDetails) -> Principal:
    token = bearer_token(details.invocation_metadata)
    if token is None:
        raise UnauthenticatedError(
            "no API token: send `authorization: Bearer <token>` metadata (the SDK and CLI read "
            "QCORE_TOKEN or the token file; mint one with `qcore token create --user NAME`)",
            reason="TOKEN_MISSING")
    principal = tokens.verify(token)
    if principal is None:
        raise UnauthenticatedError("the API token is not valid for this service",
                                   reason="TOKEN_INVALID")
    authorize_method(principal, details.method)
    return principal


def _wrap(behaviour: Callable, principal: Principal | None, error: QcoreError | None
          ) -> Callable:
    """``behaviour`` run with ``principal`` as :func:`current_principal`, or a behaviour of the
    same shape that ends the call with ``error``'s status."""
    if error is not None:
        async def deny(request_or_iterator, context: grpc.aio.ServicerContext) -> None:
            await abort_with(context, status_code_for(error), str(error), error.reason)
        return deny
    if inspect.isasyncgenfunction(behaviour):
        async def stream(request_or_iterator, context):
            _principal.set(principal)
            async for item in behaviour(request_or_iterator, context):
                yield item
        return stream

    async def call(request_or_iterator, context):
        _principal.set(principal)
        return await behaviour(request_or_iterator, context)
    return call


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Admits calls with a valid bearer token (see the module docstring).

    Args:
        tokens: where tokens are verified (the service's SQLite file).
    """

    def __init__(self, tokens: TokenStore) -> None:
        self.tokens = tokens

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails],
                                         Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or is_open(handler_call_details.method):
            return handler
        principal: Principal | None = None
        error: QcoreError | None = None
        try:
            principal = _authenticate(self.tokens, handler_call_details)
        except QcoreError as exc:
            error = exc
        return replace_behaviour(handler,
                                 lambda behaviour: _wrap(behaviour, principal, error))
