"""Fine-tuning loop: a frozen base model, an adapter (QTHA, LoRA or none) and a linear head.

Training minimises the mean cross-entropy of mini-batches drawn without replacement (reshuffled
each epoch, seeded) with Adam (Kingma & Ba, arXiv:1412.6980; PyTorch defaults β = (0.9, 0.999),
ε = 1e-8) at a constant learning rate. For QTHA every step sends the batch's ``[CLS]`` rows
through the VQC as ONE batch, every observable measured together, with parameter-shift
gradients; held-out evaluation sends the whole test set as one forward batch. With a validation
split (option ``validation_size``), the trained model is also scored on it, the same way; the
caller may skip the test set (``evaluate_test=False``) while it chooses hyper-parameters on
validation.

The result is saved as a ``text-classifier`` model in the model directory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
import numpy as np
import torch

from classical_service.finetune.base_model import cached_prefix, load_base_model
from classical_service.finetune.data import load_dataset
from classical_service.finetune.spec import FineTuneSpec
from classical_service.finetune.text_model import TextClassifier, text_model_record
from classical_service.inference.quantum_layer import SessionVqcExecutor
from classical_service.inference.store import ModelStore

__all__ = ["FineTuneCancelled", "FineTuneOutcome", "SplitScore", "StepReport", "evaluate_split",
           "run_finetune"]


class FineTuneCancelled(Exception):
    """The caller went away; the run stopped before saving."""


@dataclass(frozen=True, slots=True)
class StepReport:
    """One optimisation step: mean batch loss (nats), circuits so far, wall seconds."""

    step: int
    loss: float
    quantum_task_count: int
    step_wall_s: float


@dataclass(frozen=True, slots=True)
class SplitScore:
    """A model scored on one data split.

    Attributes:
        accuracy: fraction of the split's sentences classified correctly, in ``[0, 1]``.
        loss: mean cross-entropy (nats).
        size: sentences in the split.
        wall_s: wall seconds of the evaluation.
        quantum_task_count: circuits it ran on the quantum service (0 without QTHA).
    """

    accuracy: float
    loss: float
    size: int
    wall_s: float
    quantum_task_count: int


def evaluate_split(model: TextClassifier, hidden: torch.Tensor, mask: torch.Tensor,
                   labels: torch.Tensor, executor: SessionVqcExecutor | None) -> SplitScore:
    """Scores ``model`` on one split in a single forward batch (no gradients).

    Args:
        model: the classifier, its executor already set.
        hidden: last-layer inputs, float32 ``(N, T, H)``.
        mask: attention mask ``(N, T)`` (1 = token).
        labels: int64 class indices ``(N,)``.
        executor: the QTHA executor (for its circuit count), None otherwise.
    """
    t0 = time.perf_counter()
    before = executor.task_count if executor else 0
    with torch.no_grad():
        logits = model(hidden, mask)
        loss = float(torch.nn.functional.cross_entropy(logits, labels).item())
        accuracy = float((logits.argmax(1) == labels).double().mean().item())
    return SplitScore(accuracy=accuracy, loss=loss, size=int(labels.shape[0]),
                      wall_s=time.perf_counter() - t0,
                      quantum_task_count=(executor.task_count if executor else 0) - before)


@dataclass(slots=True)
class FineTuneOutcome:
    """A finished run. ``final_loss`` is the mean batch loss of the last ``min(5, steps)``
    steps; ``eval_accuracy`` is the fraction of the held-out test set classified correctly
    (NaN, as ``eval_loss``, when the test set was not evaluated); ``validation`` is the score
    on the validation split (None without one)."""

    model: str
    final_loss: float
    eval_accuracy: float
    eval_loss: float
    trainable_parameter_count: int
    wall_s: float
    quantum_task_count: int
    steps: list[StepReport] = field(default_factory=list)
    eval_wall_s: float = 0.0
    eval_quantum_task_count: int = 0
    qpu_id: str = ""
    validation: SplitScore | None = None


def _batches(n: int, size: int, steps: int, rng: np.random.Generator) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    order = rng.permutation(n)
    pos = 0
    while len(out) < steps:
        if pos + size > n:
            order, pos = rng.permutation(n), 0
        out.append(order[pos:pos + size])
        pos += size
    return out


def run_finetune(spec: FineTuneSpec, *, quantum_channel: grpc.Channel | None,
                 store: ModelStore | None,
                 on_step: Callable[[StepReport], None] = lambda report: None,
                 cancelled: threading.Event | None = None,
                 metadata: Sequence[tuple[str, str]] = (),
                 evaluate_test: bool = True) -> FineTuneOutcome:
    """Runs one fine-tuning job and saves the model (when ``store`` is given).

    Args:
        spec: the validated request.
        quantum_channel: synchronous channel to the quantum service (QTHA only).
        store: where to save the result; None skips saving (benchmarks).
        on_step: called after every step (from this thread).
        cancelled: set by the caller to stop early (raises :class:`FineTuneCancelled`).
        metadata: gRPC metadata forwarded to the quantum service.
        evaluate_test: False leaves the test set untouched (``eval_*`` are NaN): for choosing
            hyper-parameters on the validation split.
    Raises:
        MissingDependencyError: torch, the base model package or the dataset package missing.
        QuantumServiceError: the quantum service refused or failed.
    """
    began = time.perf_counter()
    torch.manual_seed(spec.seed)
    data = load_dataset(spec.dataset, train_size=int(spec.option("train_size")),
                        test_size=int(spec.option("test_size")),
                        validation_size=int(spec.option("validation_size")))
    base = load_base_model(spec.base_model)
    max_length = int(spec.option("max_length"))
    texts = data.train_texts + data.test_texts + data.validation_texts
    hidden, mask = cached_prefix(spec.base_model, texts, max_length=max_length)
    n_train, n_test = len(data.train_texts), len(data.test_texts)
    train_h, train_m = hidden[:n_train], mask[:n_train]
    test_h, test_m = hidden[n_train:n_train + n_test], mask[n_train:n_train + n_test]
    val_h, val_m = hidden[n_train + n_test:], mask[n_train + n_test:]
    train_y = torch.from_numpy(data.train_labels)
    test_y = torch.from_numpy(data.test_labels)

    model = TextClassifier(base, adapter=spec.adapter, classes=len(data.labels),
                           options=spec.adapter_options, seed=spec.seed)
    executor: SessionVqcExecutor | None = None
    if model.vqc is not None:
        if quantum_channel is None:
            raise ValueError("QTHA needs a channel to the quantum service")
        executor = SessionVqcExecutor(quantum_channel, model.vqc, qpu_id=spec.qpu_id,
                                      shot_count=spec.shot_count, seed=spec.seed,
                                      metadata=metadata)
    model.set_executor(executor)
    optimizer = torch.optim.Adam(model.trainable_parameters(), lr=spec.learning_rate)
    rng = np.random.default_rng(spec.seed)
    reports: list[StepReport] = []
    try:
        if executor is not None:
            executor.open()
        for step, idx in enumerate(_batches(n_train, min(spec.batch_size, n_train),
                                            spec.steps, rng), start=1):
            if cancelled is not None and cancelled.is_set():
                raise FineTuneCancelled("the caller cancelled the fine-tuning run")
            t0 = time.perf_counter()
            index = torch.from_numpy(idx)
            logits = model(train_h[index], train_m[index])
            loss = torch.nn.functional.cross_entropy(logits, train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            report = StepReport(step, float(loss.item()),
                                executor.task_count if executor else 0,
                                time.perf_counter() - t0)
            reports.append(report)
            on_step(report)
        validation = (evaluate_split(model, val_h, val_m,
                                     torch.from_numpy(data.validation_labels), executor)
                      if data.validation_texts else None)
        test = (evaluate_split(model, test_h, test_m, test_y, executor) if evaluate_test
                else SplitScore(math.nan, math.nan, 0, 0.0, 0))
        accuracy, eval_loss = test.accuracy, test.loss
        eval_wall, eval_tasks = test.wall_s, test.quantum_task_count
        qpu_id = executor.qpu_id if executor else ""
        total_tasks = executor.task_count if executor else 0
    finally:
        if executor is not None:
            executor.close()
    tail = reports[-min(5, len(reports)):]
    outcome = FineTuneOutcome(
        model=spec.model_name, final_loss=float(np.mean([r.loss for r in tail])),
        eval_accuracy=accuracy, eval_loss=eval_loss,
        trainable_parameter_count=model.trainable_parameter_count(),
        wall_s=time.perf_counter() - began, quantum_task_count=total_tasks, steps=reports,
        eval_wall_s=eval_wall, eval_quantum_task_count=eval_tasks, qpu_id=qpu_id,
        validation=validation)
    if store is not None:
        config = {"base_model": spec.base_model, "adapter": spec.adapter,
                  "options": spec.adapter_options, "labels": list(data.labels),
                  "max_length": max_length, "dataset": spec.dataset,
                  "shot_count": spec.shot_count}
        metadata_out = {"dataset": spec.dataset, "dataset_source": data.source,
                        "steps": str(spec.steps), "batch_size": str(spec.batch_size),
                        "learning_rate": repr(spec.learning_rate), "seed": str(spec.seed),
                        "eval_accuracy": f"{accuracy:.4f}",
                        "final_loss": f"{outcome.final_loss:.4f}",
                        "shot_count": str(spec.shot_count)}
        store.save(text_model_record(spec.model_name, model=model, base=base,
                                     labels=data.labels, config=config, metadata=metadata_out,
                                     qpu_id=qpu_id), model.export_weights())
    return outcome
