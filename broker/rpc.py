"""gRPC server-interceptor plumbing shared by the services' interceptors (authentication,
metrics, tracing): replace a method handler's behaviour while keeping its shape."""

from __future__ import annotations

from collections.abc import Callable

import grpc

__all__ = ["replace_behaviour"]


def _shape(handler: grpc.RpcMethodHandler) -> tuple[Callable, Callable]:
    """The handler's behaviour and the ``grpc.*_rpc_method_handler`` factory of its shape."""
    if handler.request_streaming and handler.response_streaming:
        return handler.stream_stream, grpc.stream_stream_rpc_method_handler
    if handler.request_streaming:
        return handler.stream_unary, grpc.stream_unary_rpc_method_handler
    if handler.response_streaming:
        return handler.unary_stream, grpc.unary_stream_rpc_method_handler
    return handler.unary_unary, grpc.unary_unary_rpc_method_handler


def replace_behaviour(handler: grpc.RpcMethodHandler,
                      wrap: Callable[[Callable], Callable]) -> grpc.RpcMethodHandler:
    """A handler of ``handler``'s shape (unary/streaming, serializers) whose behaviour is
    ``wrap(behaviour)``; ``wrap`` may ignore the behaviour (a refusal)."""
    behaviour, factory = _shape(handler)
    return factory(wrap(behaviour), request_deserializer=handler.request_deserializer,
                   response_serializer=handler.response_serializer)
