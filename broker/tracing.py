"""Traces, the services' second side channel: an OpenTelemetry tracer provider set up from the
standard ``OTEL_*`` environment variables.

qcore's code creates spans through the OpenTelemetry *API* only (``trace.get_tracer``); without
a configured provider those spans are non-recording no-ops (a few µs each), so tracing that is
off costs nothing measurable. :func:`configure_tracing`, called by each service's entry point,
installs the SDK's provider when ``OTEL_TRACES_EXPORTER`` names an exporter, and
:class:`TracingServerInterceptor` starts each call's server span under the W3C trace context of
its metadata:

* ``otlp`` — OTLP over gRPC to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default
  ``http://localhost:4317``; every ``OTEL_EXPORTER_OTLP_*`` variable applies), needs the
  ``observe`` extra (``opentelemetry-exporter-otlp-proto-grpc``);
* ``console`` — spans printed as JSON on standard output;
* ``none`` or unset — no provider (the default).

The service name is ``OTEL_SERVICE_NAME`` when set, else ``qcore-<service>``; sampling follows
``OTEL_TRACES_SAMPLER`` (the SDK reads it). Source: the OpenTelemetry SDK environment variable
specification, https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Awaitable, Callable

import grpc
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from broker.rpc import replace_behaviour

__all__ = ["configure_tracing", "TracingServerInterceptor", "TRACES_EXPORTER_ENV"]

#: The standard variable naming the span exporters (comma-separated).
TRACES_EXPORTER_ENV = "OTEL_TRACES_EXPORTER"


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError as exc:  # the optional extra is missing
            raise ValueError(f"{TRACES_EXPORTER_ENV}=otlp needs the observe extra: "
                             "pip install 'qcore[observe]'") from exc
        return OTLPSpanExporter()
    raise ValueError(f"{TRACES_EXPORTER_ENV} names an unknown exporter {name!r}; use otlp, "
                     "console or none")


def configure_tracing(service: str, *, environ: dict[str, str] | None = None
                      ) -> TracerProvider | None:
    """Installs the global tracer provider ``OTEL_TRACES_EXPORTER`` asks for.

    Args:
        service: ``"quantum"`` or ``"classical"``; the default ``service.name`` is
            ``qcore-<service>``.
        environ: the environment to read (default ``os.environ``).
    Returns:
        the installed provider (call ``shutdown()`` on exit to flush), or None when tracing is
        off.
    Raises:
        ValueError: an unknown exporter name, or ``otlp`` without its package.
    """
    env = os.environ if environ is None else environ
    names = [n.strip() for n in env.get(TRACES_EXPORTER_ENV, "none").split(",") if n.strip()]
    names = [n for n in names if n != "none"]
    if not names:
        return None
    exporters = [_exporter(name) for name in names]
    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME", f"qcore-{service}")})
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


class TracingServerInterceptor(grpc.aio.ServerInterceptor):
    """Runs every call inside a ``SERVER`` span named by its full method, whose parent is the
    W3C Trace Context (``traceparent``/``tracestate``) of the call metadata, if any.

    Unlike ``opentelemetry-instrumentation-grpc``'s aio interceptor, it serves handlers of
    every shape ``grpc.aio`` accepts, including streaming handlers written as coroutines
    that use ``context.read``/``context.write`` (``OpenSession``). Attributes follow the RPC
    semantic conventions (``rpc.system``, ``rpc.method``, ``rpc.grpc.status_code``).
    """

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    def _traced(self, method: str, behaviour: Callable) -> Callable:
        tracer = self.tracer

        def span(context: grpc.aio.ServicerContext):
            parent = propagate.extract(
                {k: v for k, v in context.invocation_metadata() or () if isinstance(v, str)})
            return tracer.start_as_current_span(
                method, context=parent, kind=trace.SpanKind.SERVER,
                attributes={"rpc.system": "grpc", "rpc.method": method},
                record_exception=False, set_status_on_exception=False)

        def finish(current: trace.Span, context: grpc.aio.ServicerContext) -> None:
            code = context.code()
            if isinstance(code, grpc.StatusCode):
                current.set_attribute("rpc.grpc.status_code", code.value[0])
                if code is not grpc.StatusCode.OK:
                    current.set_status(trace.StatusCode.ERROR, code.name)

        if inspect.isasyncgenfunction(behaviour):
            async def stream(request_or_iterator, context):
                with span(context) as current:
                    try:
                        async for item in behaviour(request_or_iterator, context):
                            yield item
                    finally:
                        finish(current, context)
            return stream

        async def call(request_or_iterator, context):
            with span(context) as current:
                try:
                    return await behaviour(request_or_iterator, context)
                finally:
                    finish(current, context)
        return call

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails],
                                         Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        return replace_behaviour(handler, lambda behaviour: self._traced(method, behaviour))
