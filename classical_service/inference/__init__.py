"""Model inference in the classical service.

Saved models live in a model directory (default ``var/models``), one sub-directory per model
holding ``model.json`` (what it is, its input and output tensor specs) and ``weights.npz``.
Hybrid models run their quantum layer on a QPU of the quantum service, one batch of circuits
(every observable measured together) for each
:meth:`~classical_service.inference.models.LoadedModel.run` call.

The NumPy core (MPO layers, the variational quantum circuit and its gradient glue, the QTHA
adapter) lives here and needs no PyTorch; fine-tuning (``classical_service.finetune``) wraps it
in ``torch.autograd.Function``.
"""

from __future__ import annotations

from classical_service.inference.errors import (
    InferenceError,
    InvalidTensorError,
    MissingDependencyError,
    ModelFormatError,
    ModelNotFoundError,
)
from classical_service.inference.mpo import (
    MpoShape,
    init_mpo_cores,
    mpo_apply,
    mpo_to_dense,
    mpo_vjp,
)
from classical_service.inference.qtha import QthaAdapter, QthaConfig
from classical_service.inference.store import ModelRecord, ModelStore, TensorSpecData
from classical_service.inference.vqc import VqcSpec

__all__ = [
    "InferenceError",
    "InvalidTensorError",
    "MissingDependencyError",
    "ModelFormatError",
    "ModelNotFoundError",
    "ModelRecord",
    "ModelStore",
    "MpoShape",
    "QthaAdapter",
    "QthaConfig",
    "TensorSpecData",
    "VqcSpec",
    "init_mpo_cores",
    "mpo_apply",
    "mpo_to_dense",
    "mpo_vjp",
]
