"""One OpenTelemetry trace across both services: a Minimize step on the classical service →
SessionEvaluate on the quantum service → kernel → driver → engine, with the context carried in
gRPC metadata (the session stream) and in ``SessionEvaluate.trace_context`` (each step)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from broker.tracing import configure_tracing
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore_client.client import session_start
from qcore_client.problems.molecules import ansatz, load_molecule

pytestmark = pytest.mark.integration

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """Every span of this process while this module runs, kept in memory (the global provider
    is set once per process; the exporter stops keeping spans after the module)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        pytest.skip("another tracer provider was installed in this process first")
    yield _EXPORTER
    _EXPORTER.clear()
    _EXPORTER.shutdown()


def _parent(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> ReadableSpan | None:
    return by_id.get(span.parent.span_id) if span.parent is not None else None


async def test_minimize_step_to_engine_is_one_trace(stack, spans):
    spans.clear()
    molecule = load_molecule("h2")
    request = cs_pb2.MinimizeRequest(
        optimizer="cobyla", max_iterations=3,
        session=session_start(ansatz(molecule), molecule.observable, qpu_id="ion-ideal-24"))
    async for _ in stack.classical_stub.Minimize(request):
        pass
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    engines = [s for s in finished if s.name == "engine.run"]
    assert engines, [s.name for s in finished]
    chain = [engines[0]]
    while (parent := _parent(chain[-1], by_id)) is not None:
        chain.append(parent)
    names = [s.name for s in reversed(chain)]
    # Root: the Minimize server span; the steps sit under it, each step parents its evaluation.
    assert names == ["/qcore.v1.ClassicalService/Minimize", "minimize.step", "SessionEvaluate",
                     "kernel.run_on_qpu", "driver.execute", "engine.run"], names
    assert len({s.context.trace_id for s in chain}) == 1
    assert chain[-1].kind is SpanKind.SERVER
    assert chain[0].attributes["qcore.engine"] == "statevector"
    assert chain[1].attributes["qcore.qpu_id"] == "ion-ideal-24"
    # The session stream itself crossed the services in call metadata: the quantum service's
    # OpenSession server span is a child of the classical service's OpenSession client span.
    server = next(s for s in finished if s.name == "/qcore.v1.QuantumService/OpenSession"
                  and s.kind is SpanKind.SERVER)
    client = _parent(server, by_id)
    assert client is not None and client.kind is SpanKind.CLIENT
    assert client.context.trace_id == chain[-1].context.trace_id
    # Every step of the run is its own child of the Minimize span.
    steps = [s for s in finished if s.name == "minimize.step"
             and s.context.trace_id == chain[-1].context.trace_id]
    assert len(steps) >= 3 and all(s.parent.span_id == chain[-1].context.span_id for s in steps)


def test_tracing_is_off_unless_an_exporter_is_named():
    assert configure_tracing("quantum", environ={}) is None
    assert configure_tracing("quantum", environ={"OTEL_TRACES_EXPORTER": "none"}) is None
    with pytest.raises(ValueError, match="unknown exporter 'zipkin2'"):
        configure_tracing("quantum", environ={"OTEL_TRACES_EXPORTER": "zipkin2"})
