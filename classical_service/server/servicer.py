"""``qcore.v1.ClassicalService`` over gRPC: optimisers driving quantum-service sessions."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.instrumentation.grpc import client_interceptor, intercept_channel

from broker.tls import sync_channel
from classical_service.hybrid import QuantumServiceError, SessionObjective
from classical_service.server.ai_servicer import AiServicer
from classical_service.optimizers import (
    OPTIMIZERS,
    IterationReport,
    StopOptimization,
    get_optimizer,
)
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import classical_service_pb2_grpc as cs_grpc
from qcore.v1 import telemetry_pb2

__all__ = ["ClassicalServicer"]

log = logging.getLogger(__name__)
#: The caller's ``authorization: Bearer <token>`` metadata, forwarded with every quantum-service
#: call made on the caller's behalf (the quantum service authorizes it; see
#: :mod:`classical_service.server.auth`).
FORWARDED_METADATA_KEY = "authorization"
DEFAULT_MAX_ITERATIONS = 200
DEFAULT_TOLERANCE = 1e-6
_DONE = object()


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    return ts


class ClassicalServicer(AiServicer, cs_grpc.ClassicalServiceServicer):
    """Handlers. Each ``Minimize`` runs its optimiser on a worker thread that drives one
    quantum-service session over a shared synchronous channel; iterations flow back to the
    caller's stream through an asyncio queue. At most ``max_concurrent_runs`` run at once."""

    def __init__(self, *, quantum_address: str, telemetry, max_concurrent_runs: int = 8,
                 model_dir: Path | str = "var/models", max_concurrent_finetunes: int = 1,
                 quantum_credentials: grpc.ChannelCredentials | None = None) -> None:
        AiServicer.__init__(self, model_dir=model_dir, quantum_address=quantum_address,
                            telemetry=telemetry, max_concurrent_finetunes=max_concurrent_finetunes,
                            quantum_credentials=quantum_credentials)
        self.quantum_address = quantum_address
        self.telemetry = telemetry
        self._slots = asyncio.Semaphore(max_concurrent_runs)
        # Sessions carry the caller's trace context to the quantum service in call metadata.
        self._channel = intercept_channel(sync_channel(quantum_address, quantum_credentials),
                                          client_interceptor())

    def close(self) -> None:
        self.close_ai()
        self._channel.close()

    async def ListOptimizers(self, request, context):
        return cs_pb2.ListOptimizersResponse(optimizers=[
            cs_pb2.OptimizerInfo(name=o.name, description=o.description,
                                 uses_gradient=o.uses_gradient,
                                 default_options={k: repr(v) for k, v in
                                                  o.default_options.items()})
            for o in OPTIMIZERS.values()])

    def _emit(self, message) -> None:
        try:
            self.telemetry.publish_threadsafe(message)
        except Exception:  # telemetry never fails a run
            log.exception("could not publish telemetry")

    async def Minimize(self, request: cs_pb2.MinimizeRequest, context):
        # Validate everything local before opening a session.
        try:
            optimizer = get_optimizer(request.optimizer)
            options = dict(request.options)
            optimizer.validate_options(options)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if not request.HasField("session"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "MinimizeRequest.session (program, observable, QPU) is required")
        if request.session.observables:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "Minimize minimises one observable: set MinimizeRequest.session."
                                "observable (a weighted sum of Pauli terms), not observables")
        if request.max_iterations < 0 or request.tolerance < 0:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "max_iterations and tolerance must be >= 0 (0 = default)")
        x0 = np.asarray(request.initial_parameters, dtype=np.float64)
        if not np.isfinite(x0).all():
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                "initial_parameters contains NaN or infinity")
        start = request.session
        if optimizer.uses_gradient and not start.gradient_method:
            start.gradient_method = 1  # GRADIENT_METHOD_PARAMETER_SHIFT
        metadata = [(k, v) for k, v in context.invocation_metadata() or ()
                    if k == FORWARDED_METADATA_KEY]
        run_id = f"run-{uuid.uuid4().hex[:12]}"
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()

        def push(item: object) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, item)

        def run() -> None:
            began = time.perf_counter()
            objective = SessionObjective(self._channel, start, metadata=metadata)
            try:
                ready = objective.open()
                n = len(ready.parameters)
                point = x0 if x0.size else np.zeros(n)
                if point.size != n:
                    raise ValueError(f"initial_parameters has {point.size} value(s); the "
                                     f"program has {n} parameter(s) {list(ready.parameters)}")

                def on_iteration(report: IterationReport) -> bool:
                    if cancelled.is_set():
                        raise StopOptimization("the client cancelled the call")
                    push(cs_pb2.MinimizeIteration(
                        iteration=report.iteration, energy=report.energy,
                        evaluation_count=objective.evaluation_count,
                        parameters=report.x.tolist(),
                        gradient_norm=report.gradient_norm or 0.0))
                    self._emit(telemetry_pb2.OptimizationProgressEvent(
                        run_id=run_id, name=request.name, optimizer=optimizer.name,
                        iteration=report.iteration, energy=report.energy,
                        evaluation_count=objective.evaluation_count, time=_now()))
                    return False

                outcome = optimizer.minimize(
                    objective, point,
                    max_iterations=request.max_iterations or DEFAULT_MAX_ITERATIONS,
                    tolerance=request.tolerance or DEFAULT_TOLERANCE, options=options,
                    rng=np.random.default_rng(request.seed or None), callback=on_iteration)
                objective.close()
                self._emit(telemetry_pb2.OptimizationProgressEvent(
                    run_id=run_id, name=request.name, optimizer=optimizer.name,
                    iteration=outcome.iteration_count, energy=outcome.energy,
                    evaluation_count=objective.evaluation_count, finished=True, time=_now()))
                push(cs_pb2.MinimizeResult(
                    energy=outcome.energy, parameters=np.asarray(outcome.x).tolist(),
                    iteration_count=outcome.iteration_count,
                    evaluation_count=objective.evaluation_count, converged=outcome.converged,
                    message=outcome.message, session_id=ready.session_id, qpu_id=ready.qpu_id,
                    device_time_s=objective.device_time_s,
                    wall_s=time.perf_counter() - began))
            except BaseException as exc:  # forwarded to the handler, which maps it
                objective.cancel()
                push(exc)
            finally:
                push(_DONE)

        async with self._slots:
            # In a copy of this context: the Minimize span stays the parent of the session.
            worker = loop.run_in_executor(None, contextvars.copy_context().run, run)
            try:
                while True:
                    item = await updates.get()
                    if item is _DONE:
                        break
                    if isinstance(item, QuantumServiceError):
                        await context.abort(item.code, item.details)
                    if isinstance(item, ValueError):
                        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(item))
                    if isinstance(item, BaseException):
                        log.error("Minimize failed", exc_info=item)
                        await context.abort(grpc.StatusCode.INTERNAL,
                                            f"internal error: {type(item).__name__}: {item}")
                    if isinstance(item, cs_pb2.MinimizeIteration):
                        yield cs_pb2.MinimizeResponse(iteration=item)
                    else:
                        yield cs_pb2.MinimizeResponse(result=item)
            finally:
                cancelled.set()
                await worker
