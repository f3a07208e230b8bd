"""The model directory: one folder per saved model, ``model.json`` + ``weights.npz``.

``model.json`` holds a :class:`ModelRecord` (name, kind, description, input/output tensor specs,
whether it is hybrid and on which QPU, parameter counts, free-form ``metadata`` and the
kind-specific ``config``). ``weights.npz`` holds float arrays by name (NumPy's ``.npz``; loaded
with ``allow_pickle=False``). Model names are directory names: letters, digits, ``._-``.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from classical_service.inference.errors import (
    InvalidTensorError,
    ModelFormatError,
    ModelNotFoundError,
)

__all__ = ["DEFAULT_MODEL_DIR", "ModelRecord", "ModelStore", "TensorSpecData", "check_model_name"]

DEFAULT_MODEL_DIR = Path("var/models")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RECORD_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"


def check_model_name(name: str) -> str:
    """Returns ``name`` if it is a valid model name, else raises InvalidTensorError."""
    if not _NAME.match(name or ""):
        raise InvalidTensorError(f"model name {name!r} must be 1-128 letters, digits, '.', '_' "
                                 "or '-', starting with a letter or digit",
                                 reason="INVALID_MODEL_NAME")
    return name


@dataclass(frozen=True, slots=True)
class TensorSpecData:
    """A tensor a model takes or returns; ``dtype`` is a ``qcore.v1.DataType`` value and ``-1``
    in ``shape`` means any size."""

    name: str
    dtype: int
    shape: tuple[int, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TensorSpecData:
        return cls(str(d["name"]), int(d["dtype"]), tuple(int(s) for s in d["shape"]))


@dataclass(slots=True)
class ModelRecord:
    """What ``model.json`` says about a model."""

    name: str
    kind: str
    description: str
    inputs: list[TensorSpecData]
    outputs: list[TensorSpecData]
    hybrid: bool = False
    qpu_id: str = ""
    parameter_count: int = 0
    trainable_parameter_count: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelRecord:
        d = json.loads(text)
        return cls(name=d["name"], kind=d["kind"], description=d.get("description", ""),
                   inputs=[TensorSpecData.from_dict(s) for s in d["inputs"]],
                   outputs=[TensorSpecData.from_dict(s) for s in d["outputs"]],
                   hybrid=bool(d.get("hybrid", False)), qpu_id=d.get("qpu_id", ""),
                   parameter_count=int(d.get("parameter_count", 0)),
                   trainable_parameter_count=int(d.get("trainable_parameter_count", 0)),
                   metadata={str(k): str(v) for k, v in d.get("metadata", {}).items()},
                   config=dict(d.get("config", {})))


class ModelStore:
    """Reads and writes models under ``root`` (created on first save)."""

    def __init__(self, root: Path | str = DEFAULT_MODEL_DIR) -> None:
        self.root = Path(root)

    def names(self) -> list[str]:
        """Names of the readable models, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if (p / RECORD_FILE).is_file() and _NAME.match(p.name))

    def records(self) -> list[ModelRecord]:
        """Every model's record; unreadable ones are skipped."""
        out = []
        for name in self.names():
            try:
                out.append(self.record(name))
            except ModelFormatError:
                continue
        return out

    def record(self, name: str) -> ModelRecord:
        """The record of model ``name``.

        Raises:
            ModelNotFoundError: no such model.
            ModelFormatError: its ``model.json`` is unreadable.
        """
        path = self.root / name / RECORD_FILE
        if not _NAME.match(name or "") or not path.is_file():
            raise ModelNotFoundError(f"model {name!r} not found in {self.root}; available: "
                                     f"{self.names()}")
        try:
            return ModelRecord.from_json(path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFormatError(f"model {name!r}: unreadable {RECORD_FILE}: {exc}") from None

    def weights(self, name: str) -> dict[str, np.ndarray]:
        """The model's weights by name (empty when it has no ``weights.npz``)."""
        path = self.root / check_model_name(name) / WEIGHTS_FILE
        if not path.is_file():
            return {}
        try:
            with np.load(path, allow_pickle=False) as data:
                return {k: data[k] for k in data.files}
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"model {name!r}: unreadable {WEIGHTS_FILE}: {exc}") from None

    def save(self, record: ModelRecord, weights: Mapping[str, np.ndarray], *,
             overwrite: bool = True) -> Path:
        """Writes a model atomically (a temporary folder renamed into place); returns its folder.

        Raises:
            InvalidTensorError: bad model name.
            FileExistsError: the model exists and ``overwrite`` is False.
        """
        check_model_name(record.name)
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.root / record.name
        if target.exists() and not overwrite:
            raise FileExistsError(f"model {record.name!r} already exists in {self.root}")
        staging = Path(tempfile.mkdtemp(prefix=f".{record.name}-", dir=self.root))
        (staging / RECORD_FILE).write_text(record.to_json(), encoding="utf-8")
        np.savez(staging / WEIGHTS_FILE, **{k: np.asarray(v) for k, v in weights.items()})
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
        return target
