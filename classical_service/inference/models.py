"""Runnable models, by ``kind`` of their ``model.json``.

* ``hybrid-classifier`` (NumPy only): ``features`` (float32 ``(B, D)``) →
  ``z = x + QTHA(x)`` → ``logits = z Hᵀ + b``; outputs ``logits`` and ``probabilities``
  (float32 ``(B, C)``) and ``label`` (int64 ``(B,)``). Its quantum layer runs on the quantum
  service, one batch (all observables together) per call.
* ``text-classifier``: a fine-tuned transformer (``classical_service.finetune``); needs the
  optional ``ai`` extra (PyTorch + the base model package).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from qcore.v1 import classical_service_pb2 as cs_pb2

from classical_service.inference.activations import softmax
from classical_service.inference.errors import MissingDependencyError, ModelFormatError
from classical_service.inference.qtha import QthaAdapter, QthaConfig
from classical_service.inference.quantum_layer import VqcExecutor
from classical_service.inference.store import ModelRecord, ModelStore, TensorSpecData
from classical_service.inference.vqc import VqcSpec

__all__ = ["MODEL_KINDS", "HybridClassifier", "LoadedModel", "load_model", "softmax"]


class LoadedModel(Protocol):
    """A model ready to run. ``vqc`` is the circuit of its quantum layer (None: classical)."""

    record: ModelRecord
    vqc: VqcSpec | None

    def run(self, inputs: dict[str, np.ndarray], *, executor: VqcExecutor | None
            ) -> dict[str, np.ndarray]: ...


class HybridClassifier:
    """The ``hybrid-classifier`` kind: a residual QTHA block and a linear head, in NumPy."""

    KIND = "hybrid-classifier"

    def __init__(self, record: ModelRecord, weights: dict[str, np.ndarray]) -> None:
        self.record = record
        try:
            self.adapter = QthaAdapter(QthaConfig(**record.config["qtha"]), {
                k.removeprefix("qtha."): v.astype(np.float64) for k, v in weights.items()
                if k.startswith("qtha.")})
            self.head_weight = weights["head.weight"].astype(np.float64)
            self.head_bias = weights["head.bias"].astype(np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"model {record.name!r}: bad hybrid-classifier weights or "
                                   f"config: {exc}") from None
        self.vqc = self.adapter.config.vqc

    @staticmethod
    def record_for(name: str, *, features: int, classes: int, qtha: QthaConfig,
                   qpu_id: str = "ion-ideal-24", shot_count: int = 0,
                   description: str = "") -> ModelRecord:
        """The ``model.json`` of a hybrid classifier of these sizes."""
        count = qtha.parameter_count + classes * (features + 1)
        return ModelRecord(
            name=name, kind=HybridClassifier.KIND,
            description=description or "residual QTHA block + linear head (NumPy)",
            inputs=[TensorSpecData("features", cs_pb2.DATA_TYPE_FLOAT32, (-1, features))],
            outputs=[TensorSpecData("logits", cs_pb2.DATA_TYPE_FLOAT32, (-1, classes)),
                     TensorSpecData("probabilities", cs_pb2.DATA_TYPE_FLOAT32, (-1, classes)),
                     TensorSpecData("label", cs_pb2.DATA_TYPE_INT64, (-1,))],
            hybrid=True, qpu_id=qpu_id, parameter_count=count, trainable_parameter_count=count,
            metadata={"shot_count": str(shot_count), "qubits": str(qtha.qubits)},
            config={"qtha": qtha.to_dict(), "classes": classes})

    def run(self, inputs: dict[str, np.ndarray], *, executor: VqcExecutor | None
            ) -> dict[str, np.ndarray]:
        if executor is None:
            raise ValueError("a hybrid model needs a VQC executor")
        x = inputs["features"].astype(np.float64)
        delta, _ = self.adapter.forward(x, executor)
        logits = (x + delta) @ self.head_weight.T + self.head_bias
        return {"logits": logits, "probabilities": softmax(logits),
                "label": logits.argmax(axis=1)}


def _text_classifier(record: ModelRecord, weights: dict[str, np.ndarray]) -> LoadedModel:
    try:
        from classical_service.finetune.text_model import TextClassifierRunner
    except ImportError as exc:
        raise MissingDependencyError(
            f"model {record.name!r} needs the 'ai' extra (PyTorch and the base model "
            f"package): {exc}") from None
    return TextClassifierRunner(record, weights)


#: kind -> loader(record, weights)
MODEL_KINDS: dict[str, Callable[[ModelRecord, dict[str, np.ndarray]], Any]] = {
    HybridClassifier.KIND: HybridClassifier,
    "text-classifier": _text_classifier,
}


def load_model(store: ModelStore, name: str) -> LoadedModel:
    """Loads model ``name`` from ``store``.

    Raises:
        ModelNotFoundError: no such model.
        ModelFormatError: unknown kind or inconsistent files.
        MissingDependencyError: the kind needs the ``ai`` extra.
    """
    record = store.record(name)
    loader = MODEL_KINDS.get(record.kind)
    if loader is None:
        raise ModelFormatError(f"model {name!r} has unknown kind {record.kind!r}; known: "
                               f"{sorted(MODEL_KINDS)}")
    return loader(record, store.weights(name))
