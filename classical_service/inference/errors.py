"""Errors of model inference and fine-tuning; the server maps each to one gRPC status code."""

from __future__ import annotations

__all__ = [
    "InferenceError",
    "InvalidTensorError",
    "MissingDependencyError",
    "ModelFormatError",
    "ModelNotFoundError",
]


class InferenceError(Exception):
    """Base class; ``reason`` is an UPPER_SNAKE code for ``ErrorInfo.reason``."""

    reason = "INFERENCE_ERROR"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class ModelNotFoundError(InferenceError):
    """No model of that name in the model directory (gRPC ``NOT_FOUND``)."""

    reason = "MODEL_NOT_FOUND"


class InvalidTensorError(InferenceError, ValueError):
    """A request tensor is missing, unknown, or has the wrong dtype, shape or byte length, or a
    request option is out of range (gRPC ``INVALID_ARGUMENT``)."""

    reason = "INVALID_TENSOR"


class ModelFormatError(InferenceError):
    """A saved model's ``model.json`` or ``weights.npz`` is unreadable or inconsistent."""

    reason = "MODEL_FORMAT"


class MissingDependencyError(InferenceError):
    """The model needs the optional ``ai`` extra (PyTorch and the base model package), which is
    not installed (gRPC ``FAILED_PRECONDITION``)."""

    reason = "MISSING_DEPENDENCY"
