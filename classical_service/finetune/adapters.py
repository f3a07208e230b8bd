"""PyTorch adapters for a frozen linear projection: QTHA, LoRA and none (head-only).

* :class:`QthaModule` wraps the NumPy QTHA adapter
  (:class:`~classical_service.inference.qtha.QthaAdapter`) in a ``torch.autograd.Function``: the
  forward pass and the parameter-shift Jacobians come from the quantum service, the backward
  pass is the NumPy vector–Jacobian product.
* :class:`LoraModule`: ``δ = (α/r) · x Aᵀ Bᵀ`` with ``A`` Kaiming-uniform and ``B = 0``
  (Hu et al., "LoRA", arXiv:2106.09685, §4.1).

Every module maps ``x`` (float32 ``(B, D)``) to ``δ`` (float32 ``(B, D')``), which the caller
adds to the frozen projection's output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from classical_service.inference.qtha import QthaAdapter, QthaConfig
from classical_service.inference.quantum_layer import VqcExecutor

__all__ = ["LoraModule", "QthaFunction", "QthaModule"]


class QthaFunction(torch.autograd.Function):
    """``δ = QTHA(x)`` with NumPy forward/backward; extra inputs are the parameter tensors in
    ``module.adapter.parameter_names()`` order."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, module: QthaModule,  # type: ignore[override]
                *params: torch.Tensor) -> torch.Tensor:
        adapter = module.adapter
        for name, p in zip(adapter.parameter_names(), params):
            adapter.params[name] = p.detach().to(torch.float64).numpy().copy()
        need_grad = module.need_gradient
        out, cache = adapter.forward(x.detach().to(torch.float64).numpy(), module.executor,
                                     gradient=need_grad)
        module.last_task_count = cache.quantum.task_count
        ctx.cache = cache
        ctx.module = module
        ctx.dtypes = [p.dtype for p in params]
        return torch.from_numpy(out).to(x.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        adapter = ctx.module.adapter
        grad_x, grads = adapter.backward(ctx.cache, grad_out.detach().to(torch.float64).numpy())
        param_grads = [torch.from_numpy(np.ascontiguousarray(grads[n])).to(dt)
                       for n, dt in zip(adapter.parameter_names(), ctx.dtypes)]
        return (torch.from_numpy(grad_x).to(grad_out.dtype), None, *param_grads)


class QthaModule(torch.nn.Module):
    """A QTHA adapter whose quantum layer runs on ``executor`` (set before the first call).

    Parameters are float64 ``nn.Parameter`` named ``down_k`` / ``up_k`` / ``vqc`` / ``skip``.
    """

    def __init__(self, config: QthaConfig, *, rng: np.random.Generator,
                 params: dict[str, np.ndarray] | None = None) -> None:
        super().__init__()
        self.adapter = (QthaAdapter(config, params) if params is not None
                        else QthaAdapter.initialise(config, rng=rng))
        self.executor: VqcExecutor | None = None
        self.last_task_count = 0
        self.need_gradient = False
        self._names = self.adapter.parameter_names()
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.from_numpy(self.adapter.params[n].copy()))
             for n in self._names])

    @property
    def config(self) -> QthaConfig:
        return self.adapter.config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.executor is None:
            raise RuntimeError("QthaModule.executor is not set (a VQC executor is needed)")
        # Parameter-shift Jacobians cost 2 circuits per parameter: ask only when training.
        self.need_gradient = torch.is_grad_enabled() and (
            x.requires_grad or any(p.requires_grad for p in self.weights))
        return QthaFunction.apply(x, self, *self.weights)

    def numpy_params(self) -> dict[str, np.ndarray]:
        return {n: p.detach().numpy().copy() for n, p in zip(self._names, self.weights)}


class LoraModule(torch.nn.Module):
    """Rank-``rank`` LoRA update of an ``(in_features → out_features)`` projection."""

    def __init__(self, in_features: int, out_features: int, *, rank: int = 1,
                 alpha: float | None = None, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.rank = rank
        self.scale = (alpha if alpha is not None else rank) / rank
        bound = 1.0 / math.sqrt(in_features)  # kaiming_uniform_(a=sqrt(5)), as in LoRA's code
        self.lora_a = torch.nn.Parameter(
            (torch.rand(rank, in_features, generator=generator) * 2 - 1) * bound)
        self.lora_b = torch.nn.Parameter(torch.zeros(out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * (x @ self.lora_a.T) @ self.lora_b.T
