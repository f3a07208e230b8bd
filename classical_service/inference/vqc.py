"""The variational quantum circuit (VQC) of the QTHA adapter, as a ``qcore.v1.Circuit``.

Layout on ``q`` qubits with ``L`` layers (angles in radians, ``R_P(θ) = exp(-iθP/2)``):

1. angle encoding: ``RY(x_i)`` on qubit ``i`` (parameters ``x0 … x{q-1}``);
2. each layer ``l``: ``RZ(w)`` then ``RY(w)`` on every qubit, then a ring of CNOTs
   ``CX(i, i+1 mod q)`` (a chain for ``q = 2``) (parameters ``w0 … w{2qL-1}``);
3. readout: ``⟨Z_k⟩`` for every qubit ``k``, one observable each.

This is the hardware-efficient ansatz of Kandala et al., Nature 549, 242 (2017), with the angle
encoding of Schuld & Petruccione, "Machine Learning with Quantum Computers" (2021), §4.2 — the
structure the QTHA paper (arXiv:2503.12790, Fig. 2) describes (angle encoding, variational
rotation + entangling layers, Pauli-Z measurement). Inputs *and* weights are circuit parameters,
so one parameter-shift gradient from the quantum service gives ``∂⟨Z_k⟩/∂x`` and
``∂⟨Z_k⟩/∂w`` together.
"""

from __future__ import annotations

from dataclasses import dataclass

from qcore.v1 import common_pb2

__all__ = ["VqcSpec"]


def _symbol(name: str) -> common_pb2.ParameterExpression:
    return common_pb2.ParameterExpression(
        terms=[common_pb2.ParameterTerm(symbol=name, coefficient=1.0)])


@dataclass(frozen=True, slots=True)
class VqcSpec:
    """A VQC of ``qubits`` qubits and ``layers`` variational layers."""

    qubits: int = 4
    layers: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.qubits <= 16:
            raise ValueError(f"qubits must be in [1, 16], got {self.qubits}")
        if not 1 <= self.layers <= 16:
            raise ValueError(f"layers must be in [1, 16], got {self.layers}")

    @property
    def input_names(self) -> list[str]:
        return [f"x{i}" for i in range(self.qubits)]

    @property
    def weight_names(self) -> list[str]:
        return [f"w{j}" for j in range(self.weight_count)]

    @property
    def weight_count(self) -> int:
        return 2 * self.qubits * self.layers

    @property
    def parameter_names(self) -> list[str]:
        """Circuit parameters in vector order: inputs first, then weights."""
        return self.input_names + self.weight_names

    def observables(self) -> list[common_pb2.Observable]:
        """``Z_k`` for ``k = 0 … q-1``: one single-term observable per qubit."""
        return [common_pb2.Observable(terms=[common_pb2.PauliTerm(pauli_string=f"Z{k}",
                                                                  coefficient=1.0)])
                for k in range(self.qubits)]

    def circuit(self) -> common_pb2.Circuit:
        """The parametric circuit (no measurements: sessions estimate observables)."""
        ops: list[common_pb2.Operation] = []
        q = self.qubits
        for i in range(q):
            ops.append(common_pb2.Operation(name="ry", qubits=[i], params=[_symbol(f"x{i}")]))
        w = 0
        for _ in range(self.layers):
            for i in range(q):
                ops.append(common_pb2.Operation(name="rz", qubits=[i],
                                                params=[_symbol(f"w{w}")]))
                ops.append(common_pb2.Operation(name="ry", qubits=[i],
                                                params=[_symbol(f"w{w + 1}")]))
                w += 2
            pairs = [(i, (i + 1) % q) for i in range(q)] if q > 2 else (
                [(0, 1)] if q == 2 else [])
            for a, b in pairs:
                ops.append(common_pb2.Operation(name="cx", qubits=[a, b]))
        return common_pb2.Circuit(qubit_count=q, operations=ops,
                                  parameters=self.parameter_names,
                                  name=f"qtha-vqc-q{q}-l{self.layers}")
