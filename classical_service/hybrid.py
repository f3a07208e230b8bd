"""The hybrid loop runner: an optimiser driving a quantum-service session.

:class:`SessionObjective` opens ``OpenSession`` on the quantum service (the classical service
only knows the proto contract) and turns each batch of parameter sets into one
``SessionEvaluate`` message with packed little-endian float64 values; the reply carries the
expectation values (and gradients) the optimiser asked for. Each batch is a ``minimize.step``
span whose W3C Trace Context rides in ``SessionEvaluate.trace_context``, so the quantum
service's spans for it are its children. It is synchronous and meant to run on
a worker thread, as SciPy's optimisers call their objective synchronously.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence

import grpc
import numpy as np
from opentelemetry import propagate, trace

from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore.v1 import quantum_service_pb2_grpc as qs_grpc

__all__ = ["SessionObjective", "QuantumServiceError"]

_CLOSE = object()
tracer = trace.get_tracer(__name__)


class QuantumServiceError(Exception):
    """The quantum service ended the session with a status code."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"quantum service: {details}")
        self.code = code
        self.details = details


class SessionObjective:
    """A batched objective backed by one quantum-service session.

    A session started with ``observables`` (``k`` of them) evaluates them all at once: its
    values gain an observable axis (see :meth:`__call__`).

    Args:
        channel: a *synchronous* gRPC channel to the quantum service.
        start: the session to open (program, observable or observables, QPU, shots, gradient
            method).
        metadata: call metadata forwarded to the quantum service (the caller's identity).
    Raises:
        QuantumServiceError: (from :meth:`open`) the service rejected the session.
    """

    def __init__(self, channel: grpc.Channel, start: qs_pb2.SessionStart, *,
                 metadata: Sequence[tuple[str, str]] = ()) -> None:
        self._stub = qs_grpc.QuantumServiceStub(channel)
        self._start = start
        self._metadata = tuple(metadata)
        self._requests: queue.Queue[object] = queue.Queue()
        self._responses: Iterator[qs_pb2.OpenSessionResponse] | None = None
        self._sequence = 0
        self._lock = threading.Lock()
        self.ready: qs_pb2.SessionReady | None = None
        self.evaluation_count = 0
        self.device_time_s = 0.0

    def _request_stream(self) -> Iterator[qs_pb2.OpenSessionRequest]:
        yield qs_pb2.OpenSessionRequest(start=self._start)
        while True:
            item = self._requests.get()
            if item is _CLOSE:
                return
            yield item

    def open(self) -> qs_pb2.SessionReady:
        """Opens the session; returns its ``SessionReady``."""
        self._responses = self._stub.OpenSession(self._request_stream(), metadata=self._metadata)
        first = self._next()
        if first.WhichOneof("response") != "ready":
            raise QuantumServiceError(grpc.StatusCode.INTERNAL, "session did not start")
        self.ready = first.ready
        return self.ready

    @property
    def parameter_count(self) -> int:
        return len(self.ready.parameters) if self.ready else 0

    def _next(self) -> qs_pb2.OpenSessionResponse:
        try:
            return next(self._responses)
        except grpc.RpcError as exc:
            raise QuantumServiceError(exc.code(), exc.details()) from None
        except StopIteration:
            raise QuantumServiceError(grpc.StatusCode.UNAVAILABLE,
                                      "the session stream ended unexpectedly") from None

    def __call__(self, parameter_sets: np.ndarray, *, gradient: bool = False
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluates ``parameter_sets`` (float64 ``(m, n)``); see ``Objective``.

        Returns:
            values float64 ``(m,)`` and gradients ``(m, n)`` (or ``None``); for a session
            with ``k`` ``observables``, ``(m, k)`` and ``(m, k, n)``, observables in
            ``SessionStart`` order.
        """
        values = np.ascontiguousarray(parameter_sets, dtype="<f8")
        if values.ndim == 1:
            values = values[None, :]
        m, n = values.shape
        with self._lock, tracer.start_as_current_span(
                "minimize.step", attributes={"qcore.parameter_set_count": m,
                                             "qcore.gradient": gradient}):
            self._sequence += 1
            evaluate = qs_pb2.SessionEvaluate(
                sequence=self._sequence, parameter_values=values.tobytes(),
                parameter_set_count=m, compute_gradient=gradient)
            # This step's span is the parent of the quantum service's SessionEvaluate span
            # (W3C Trace Context; empty when tracing is off).
            propagate.inject(evaluate.trace_context)
            self._requests.put(qs_pb2.OpenSessionRequest(evaluate=evaluate))
            reply = self._next().result
        shape = (m, len(self._start.observables)) if self._start.observables else (m,)
        energies = np.frombuffer(reply.expectation_values, dtype="<f8").reshape(shape)
        gradients = (np.frombuffer(reply.gradients, dtype="<f8").reshape(*shape, n)
                     if gradient else None)
        self.evaluation_count = reply.evaluation_count
        self.device_time_s += reply.device_time_s
        return energies, gradients

    def close(self) -> None:
        """Closes the request stream (the service then releases the QPU lease)."""
        self._requests.put(_CLOSE)
        if self._responses is not None:
            for _ in self._responses:  # drain until the server ends the stream
                pass

    def cancel(self) -> None:
        """Drops the stream at once (used when the caller went away)."""
        if self._responses is not None:
            self._responses.cancel()

    def __enter__(self) -> SessionObjective:
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.close()
        except grpc.RpcError:
            pass
