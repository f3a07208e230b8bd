"""Fine-tuning of pre-trained language models with adapters: QTHA (tensor-train projections
around a variational quantum circuit run on the quantum service), LoRA, or head-only.

Needs the optional ``ai`` extra (PyTorch, transformers and the base model package); importing
this package does not import torch — :mod:`~classical_service.finetune.spec` and
:mod:`~classical_service.finetune.data` work without it.
"""

from __future__ import annotations
