"""The QTHA adapter (quantum-weighted tensor hybrid adapter) in NumPy: forward and backward.

After Origin Quantum's QTHA (arXiv:2503.12790, §3 and Fig. 2), for an input row ``x ∈ R^D``:

    h = x · W_down              W_down: MPO, (D, q)              (tensor-train down-projection)
    e = ⟨Z⟩(h, θ)               VQC on q qubits, angle-encoded h   (quantum layer, on a QPU)
    f = e + h · S               S: (q, q) linear skip path          (fusion of quantum + classical)
    δ = α · f · W_up            W_up: MPO, (q, D')                 (tensor-train up-projection)

``δ`` is added to the frozen projection it adapts. ``W_up`` starts at zero (its last core is
zeroed), so a fresh adapter leaves the base model unchanged, as LoRA does (Hu et al.,
arXiv:2106.09685). Parameters are float64 arrays in a dict: ``down.k`` / ``up.k`` (MPO cores),
``vqc`` (``(2qL,)`` circuit weights), ``skip`` (``(q, q)``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from classical_service.inference.mpo import MpoShape, init_mpo_cores, mpo_apply, mpo_vjp
from classical_service.inference.quantum_layer import VqcExecutor, VqcResult, vqc_vjp
from classical_service.inference.vqc import VqcSpec

__all__ = ["QthaAdapter", "QthaCache", "QthaConfig"]


@dataclass(frozen=True, slots=True)
class QthaConfig:
    """Sizes of a QTHA adapter.

    Attributes:
        in_features / out_features: ``D`` and ``D'`` of the adapted projection.
        qubits: ``q``, the bottleneck width and VQC size.
        layers: ``L``, variational layers of the VQC.
        bond_dim: MPO bond dimension.
        cores: MPO cores per projection.
        scale: ``α``, the adapter's output scale.
    """

    in_features: int
    out_features: int
    qubits: int = 4
    layers: int = 1
    bond_dim: int = 4
    cores: int = 3
    scale: float = 1.0

    @property
    def vqc(self) -> VqcSpec:
        return VqcSpec(qubits=self.qubits, layers=self.layers)

    @property
    def down_shape(self) -> MpoShape:
        return MpoShape.for_matrix(self.in_features, self.qubits, cores=self.cores,
                                   bond_dim=self.bond_dim)

    @property
    def up_shape(self) -> MpoShape:
        return MpoShape.for_matrix(self.qubits, self.out_features, cores=self.cores,
                                   bond_dim=self.bond_dim)

    @property
    def parameter_count(self) -> int:
        return (self.down_shape.parameter_count + self.up_shape.parameter_count
                + self.vqc.weight_count + self.qubits ** 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class QthaCache:
    """What the backward pass needs from a forward pass."""

    x: np.ndarray
    h: np.ndarray
    f: np.ndarray
    quantum: VqcResult


class QthaAdapter:
    """A QTHA adapter's parameters and its NumPy forward/backward passes."""

    def __init__(self, config: QthaConfig, params: dict[str, np.ndarray]) -> None:
        self.config = config
        self.params = params
        missing = set(self.parameter_names()) - set(params)
        if missing:
            raise ValueError(f"QTHA parameters missing: {sorted(missing)}")

    @classmethod
    def initialise(cls, config: QthaConfig, *, rng: np.random.Generator) -> QthaAdapter:
        """Fresh parameters: ``W_down`` LeCun-normal scaled so ``h`` has O(1) angles,
        VQC weights uniform in ``[0, 2π)``, ``S = 0``, ``W_up = 0``."""
        params: dict[str, np.ndarray] = {}
        down = init_mpo_cores(config.down_shape, rng=rng)
        up = init_mpo_cores(config.up_shape, rng=rng, std=1.0 / config.qubits, zero_last=True)
        for k, core in enumerate(down):
            params[f"down.{k}"] = core
        for k, core in enumerate(up):
            params[f"up.{k}"] = core
        params["vqc"] = rng.uniform(0.0, 2.0 * np.pi, size=config.vqc.weight_count)
        params["skip"] = np.zeros((config.qubits, config.qubits))
        return cls(config, params)

    def parameter_names(self) -> list[str]:
        c = self.config
        return ([f"down.{k}" for k in range(len(c.down_shape.core_shapes))]
                + ["vqc", "skip"] + [f"up.{k}" for k in range(len(c.up_shape.core_shapes))])

    def _cores(self, prefix: str) -> list[np.ndarray]:
        n = sum(1 for k in self.params if k.startswith(prefix + "."))
        return [self.params[f"{prefix}.{k}"] for k in range(n)]

    def forward(self, x: np.ndarray, executor: VqcExecutor, *, gradient: bool = False
                ) -> tuple[np.ndarray, QthaCache]:
        """Adapter output for ``x`` (``(B, D)``): returns ``δ`` (``(B, D')``) and a cache.

        The quantum layer runs as one batch for all its observables on ``executor``; pass
        ``gradient=True`` when :meth:`backward` will follow (parameter-shift Jacobians are
        computed in the same call).
        """
        x = np.asarray(x, dtype=np.float64)
        h = mpo_apply(x, self._cores("down"))
        quantum = executor.evaluate(h, self.params["vqc"], gradient=gradient)
        f = quantum.values + h @ self.params["skip"]
        out = self.config.scale * mpo_apply(f, self._cores("up"))
        return out, QthaCache(x, h, f, quantum)

    def backward(self, cache: QthaCache, grad_out: np.ndarray
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(∂L/∂x, {name: ∂L/∂param})`` for ``∂L/∂δ = grad_out`` (``(B, D')``)."""
        grad_out = np.asarray(grad_out, dtype=np.float64) * self.config.scale
        grad_f, grad_up = mpo_vjp(cache.f, self._cores("up"), grad_out)
        grad_h_quantum, grad_vqc = vqc_vjp(cache.quantum, grad_f)
        grad_h = grad_h_quantum + grad_f @ self.params["skip"].T
        grad_skip = cache.h.T @ grad_f
        grad_x, grad_down = mpo_vjp(cache.x, self._cores("down"), grad_h)
        grads = {f"down.{k}": g for k, g in enumerate(grad_down)}
        grads.update({f"up.{k}": g for k, g in enumerate(grad_up)})
        grads["vqc"] = grad_vqc
        grads["skip"] = grad_skip
        return grad_x, grads
