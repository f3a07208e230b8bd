"""Authentication of the classical service's callers, delegated to the quantum service.

The classical service keeps no tokens of its own. Every call except health checks and server
reflection must carry ``authorization: Bearer <token>``; the token is checked by one cheap
authenticated call to the quantum service with it (``ListQpus`` with ``page_size=1``), and a
token found valid is remembered for :data:`VERIFIED_TTL_S` seconds (by its SHA-256 digest, never
the token itself). The same metadata is then forwarded with every session opened for the caller
(:mod:`classical_service.server.servicer`), so the quantum service also decides what the caller
may do there.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

import grpc

from broker.rpc import replace_behaviour
from broker.tls import aio_channel
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc

__all__ = ["ForwardingAuthInterceptor", "VERIFIED_TTL_S", "OPEN_SERVICES"]

#: How long a token the quantum service accepted is trusted without asking again, s.
VERIFIED_TTL_S = 30.0
#: Tokens remembered at most (the cache is emptied when it grows past this).
_CACHE_LIMIT = 4096
_VERIFY_TIMEOUT_S = 5.0
AUTHORIZATION_KEY = "authorization"
#: Services callable without a token.
OPEN_SERVICES = frozenset({
    "grpc.health.v1.Health",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.reflection.v1.ServerReflection",
})


def _authorization(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str | None:
    for key, value in metadata or ():
        if key == AUTHORIZATION_KEY and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return value
    return None


class ForwardingAuthInterceptor(grpc.aio.ServerInterceptor):
    """Admits calls whose bearer token the quantum service accepts (see the module docstring).

    Args:
        quantum_address: ``host:port`` of the quantum service.
        credentials: TLS credentials of the channel to it; None: plaintext.
        clock: monotonic seconds (the cache's clock).
    """

    def __init__(self, quantum_address: str, *,
                 credentials: grpc.ChannelCredentials | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quantum_address = quantum_address
        self.credentials = credentials
        self.clock = clock
        self._verified: dict[str, float] = {}
        self._channel: grpc.aio.Channel | None = None

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def _check(self, authorization: str | None) -> tuple[grpc.StatusCode, str] | None:
        """``None`` when the quantum service accepts ``authorization``; else the code and
        message to end the call with."""
        if authorization is None:
            return (grpc.StatusCode.UNAUTHENTICATED,
                    ("no API token: send `authorization: Bearer <token>` metadata (the SDK "
                     "and CLI read QCORE_TOKEN or the token file)"))
        digest = hashlib.sha256(authorization.encode("utf-8")).hexdigest()
        now = self.clock()
        if self._verified.get(digest, 0.0) > now:
            return None
        if self._channel is None:  # created on the server's event loop
            self._channel = aio_channel(self.quantum_address, self.credentials)
        try:
            await qs_grpc.QuantumServiceStub(self._channel).ListQpus(
                qs_pb2.ListQpusRequest(page_size=1), timeout=_VERIFY_TIMEOUT_S,
                metadata=((AUTHORIZATION_KEY, authorization),))
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAUTHENTICATED,
                              grpc.StatusCode.PERMISSION_DENIED):
                return exc.code(), f"the quantum service refused the API token: {exc.details()}"
            return (grpc.StatusCode.UNAVAILABLE,
                    (f"cannot verify the API token: the quantum service at "
                     f"{self.quantum_address} answered {exc.code().name}: {exc.details()}"))
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[digest] = now + VERIFIED_TTL_S
        return None

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails],
                                         Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        service = handler_call_details.method.lstrip("/").split("/", 1)[0]
        if handler is None or service in OPEN_SERVICES:
            return handler
        refusal = await self._check(_authorization(handler_call_details.invocation_metadata))
        if refusal is None:
            return handler
        code, message = refusal

        async def refuse(request_or_iterator, context: grpc.aio.ServicerContext) -> None:
            await context.abort(code, message)

        return replace_behaviour(handler, lambda _: refuse)
