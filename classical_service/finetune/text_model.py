"""A sentence classifier on a frozen BERT encoder with an adapter on the last layer's query.

The classifier reads the final hidden state of the ``[CLS]`` token (as BERT's sequence
classification does: Devlin et al., arXiv:1810.04805, §4.1) through a linear head. The adapter
(QTHA, LoRA or none) adds ``δ(h_CLS)`` to the *query* projection of the last encoder layer at the
``[CLS]`` position. In the last layer, the query of a position only affects that position's
output, so adapting the ``[CLS]`` query alone is exactly the same model, for this classifier, as
adapting the query projection at every position — at one adapter evaluation (one quantum batch
row) per sentence instead of one per token.

:class:`LastLayerCls` recomputes the last ``BertLayer`` for the ``[CLS]`` row from the frozen
weights (post-LN BERT: self-attention, residual + LayerNorm, GELU feed-forward, residual +
LayerNorm; Vaswani et al., arXiv:1706.03762; Devlin et al.); a test checks it against
``transformers``' own layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from qcore.v1 import classical_service_pb2 as cs_pb2

from classical_service.finetune.adapters import LoraModule, QthaModule
from classical_service.finetune.base_model import BaseModel, encode_prefix, load_base_model
from classical_service.inference.errors import ModelFormatError
from classical_service.inference.activations import softmax
from classical_service.inference.qtha import QthaConfig
from classical_service.inference.quantum_layer import VqcExecutor
from classical_service.inference.store import ModelRecord, TensorSpecData
from classical_service.inference.vqc import VqcSpec

__all__ = [
    "ADAPTERS",
    "LastLayerCls",
    "TextClassifier",
    "TextClassifierRunner",
    "qtha_config",
    "text_model_record",
]

ADAPTERS = ("qtha", "lora", "head")


def qtha_config(options: dict[str, float], hidden_size: int) -> QthaConfig:
    """The QTHA adapter of the ``hidden_size``-wide query projection for a run's adapter
    options (:data:`~classical_service.finetune.spec.ADAPTER_OPTIONS` ``["qtha"]``)."""
    return QthaConfig(
        in_features=hidden_size, out_features=hidden_size,
        qubits=int(options.get("qubits", 4)), layers=int(options.get("layers", 1)),
        bond_dim=int(options.get("mpo_bond_dimension", 4)),
        cores=int(options.get("mpo_cores", 3)), scale=float(options.get("scale", 1.0)))


class LastLayerCls(torch.nn.Module):
    """The last encoder layer of a BERT model, evaluated for the ``[CLS]`` row only (frozen)."""

    def __init__(self, base: BaseModel) -> None:
        super().__init__()
        layer = base.encoder.encoder.layer[-1]
        self.layer = layer
        attn = layer.attention.self
        self.heads = int(base.encoder.config.num_attention_heads)
        self.head_size = int(attn.attention_head_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor,
                query_delta: torch.Tensor | None = None) -> torch.Tensor:
        """``hidden`` float32 ``(B, T, H)``, ``mask`` ``(B, T)`` (1 = token), ``query_delta``
        ``(B, H)`` added to the ``[CLS]`` query; returns the ``[CLS]`` output ``(B, H)``."""
        layer, b = self.layer, hidden.shape[0]
        attn = layer.attention.self
        cls = hidden[:, 0, :]
        q = attn.query(cls)
        if query_delta is not None:
            q = q + query_delta
        k = attn.key(hidden)
        v = attn.value(hidden)
        q = q.view(b, self.heads, 1, self.head_size)
        k = k.view(b, -1, self.heads, self.head_size).transpose(1, 2)
        v = v.view(b, -1, self.heads, self.head_size).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) / self.head_size ** 0.5  # (B, heads, 1, T)
        scores = scores.masked_fill(mask[:, None, None, :] == 0, torch.finfo(scores.dtype).min)
        context = (scores.softmax(-1) @ v).reshape(b, -1)
        out = layer.attention.output
        attended = out.LayerNorm(out.dense(context) + cls)
        inter = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(attended))
        return layer.output.LayerNorm(layer.output.dense(inter) + attended)


class TextClassifier(torch.nn.Module):
    """Frozen base (last layer recomputed for ``[CLS]``) + adapter + linear head."""

    def __init__(self, base: BaseModel, *, adapter: str, classes: int,
                 options: dict[str, float], seed: int,
                 adapter_params: dict[str, np.ndarray] | None = None) -> None:
        super().__init__()
        if adapter not in ADAPTERS:
            raise ValueError(f"adapter must be one of {ADAPTERS}, got {adapter!r}")
        generator = torch.Generator().manual_seed(seed)
        hidden = base.hidden_size
        self.kind = adapter
        self.last = LastLayerCls(base)
        self.head = torch.nn.Linear(hidden, classes)
        with torch.no_grad():  # seeded head initialisation (PyTorch's Linear default)
            bound = 1.0 / hidden ** 0.5
            self.head.weight.copy_((torch.rand(classes, hidden, generator=generator) * 2 - 1)
                                   * bound)
            self.head.bias.copy_((torch.rand(classes, generator=generator) * 2 - 1) * bound)
        self.adapter: torch.nn.Module | None = None
        if adapter == "qtha":
            self.qtha_config = qtha_config(options, hidden)
            self.adapter = QthaModule(self.qtha_config, rng=np.random.default_rng(seed),
                                      params=adapter_params)
        elif adapter == "lora":
            self.adapter = LoraModule(hidden, hidden, rank=int(options.get("rank", 1)),
                                      alpha=options.get("alpha"), generator=generator)
            if adapter_params:
                with torch.no_grad():
                    self.adapter.lora_a.copy_(torch.from_numpy(adapter_params["lora_a"]))
                    self.adapter.lora_b.copy_(torch.from_numpy(adapter_params["lora_b"]))

    @property
    def vqc(self) -> VqcSpec | None:
        return self.qtha_config.vqc if self.kind == "qtha" else None

    def set_executor(self, executor: VqcExecutor | None) -> None:
        if isinstance(self.adapter, QthaModule):
            self.adapter.executor = executor

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        params = list(self.head.parameters())
        if self.adapter is not None:
            params += list(self.adapter.parameters())
        return params

    def trainable_parameter_count(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, C)`` from last-layer inputs ``(B, T, H)`` and mask ``(B, T)``."""
        delta = self.adapter(hidden[:, 0, :]) if self.adapter is not None else None
        return self.head(self.last(hidden, mask, delta))

    def export_weights(self) -> dict[str, np.ndarray]:
        """Trainable weights as float arrays (``head.*``, ``adapter.*``)."""
        out = {"head.weight": self.head.weight.detach().numpy().copy(),
               "head.bias": self.head.bias.detach().numpy().copy()}
        if isinstance(self.adapter, QthaModule):
            out.update({f"adapter.{k}": v for k, v in self.adapter.numpy_params().items()})
        elif isinstance(self.adapter, LoraModule):
            out["adapter.lora_a"] = self.adapter.lora_a.detach().numpy().copy()
            out["adapter.lora_b"] = self.adapter.lora_b.detach().numpy().copy()
        return out


def text_model_record(name: str, *, model: TextClassifier, base: BaseModel,
                      labels: tuple[str, ...], config: dict[str, Any],
                      metadata: dict[str, str], qpu_id: str = "") -> ModelRecord:
    """The ``model.json`` of a fine-tuned ``text-classifier``."""
    classes = len(labels)
    trainable = model.trainable_parameter_count()
    return ModelRecord(
        name=name, kind="text-classifier",
        description=(f"{base.name} + {model.kind} adapter on the last layer's query, "
                     f"{classes}-class head ({', '.join(labels)})"),
        inputs=[TensorSpecData("text", cs_pb2.DATA_TYPE_STRING, (-1,))],
        outputs=[TensorSpecData("logits", cs_pb2.DATA_TYPE_FLOAT32, (-1, classes)),
                 TensorSpecData("probabilities", cs_pb2.DATA_TYPE_FLOAT32, (-1, classes)),
                 TensorSpecData("label", cs_pb2.DATA_TYPE_INT64, (-1,))],
        hybrid=model.kind == "qtha", qpu_id=qpu_id if model.kind == "qtha" else "",
        parameter_count=base.parameter_count + trainable, trainable_parameter_count=trainable,
        metadata=metadata, config=config)


class TextClassifierRunner:
    """Runs a saved ``text-classifier`` (the :class:`~classical_service.inference.models.
    LoadedModel` protocol): ``text`` (STRING ``(B,)``) → ``logits``, ``probabilities``,
    ``label``."""

    def __init__(self, record: ModelRecord, weights: dict[str, np.ndarray]) -> None:
        self.record = record
        cfg = record.config
        try:
            self.base = load_base_model(cfg["base_model"])
            adapter_params = {k.removeprefix("adapter."): v for k, v in weights.items()
                              if k.startswith("adapter.")}
            self.model = TextClassifier(self.base, adapter=cfg["adapter"],
                                        classes=len(cfg["labels"]),
                                        options={k: float(v) for k, v in
                                                 cfg.get("options", {}).items()},
                                        seed=0, adapter_params=adapter_params or None)
            with torch.no_grad():
                self.model.head.weight.copy_(torch.from_numpy(weights["head.weight"]))
                self.model.head.bias.copy_(torch.from_numpy(weights["head.bias"]))
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise ModelFormatError(f"model {record.name!r}: bad text-classifier files: "
                                   f"{exc}") from None
        self.max_length = int(cfg.get("max_length", 48))
        self.model.eval()
        self.vqc = self.model.vqc

    def run(self, inputs: dict[str, np.ndarray], *, executor: VqcExecutor | None
            ) -> dict[str, np.ndarray]:
        texts = [str(t) for t in inputs["text"].reshape(-1)]
        hidden, mask = encode_prefix(self.base, texts, max_length=self.max_length)
        self.model.set_executor(executor)
        with torch.no_grad():
            logits = self.model(hidden, mask).double().numpy()
        return {"logits": logits, "probabilities": softmax(logits),
                "label": logits.argmax(axis=1)}
