"""The benchmark workloads, as plain gate lists every backend translates.

A gate is ``(name, qubits, angles)`` with qcore's conventions (qubit ``q`` is bit ``q`` of a
basis-state index; ``cx(control, target)``; ``R_P(θ) = exp(-i θ P / 2)``; ``cp(λ)`` multiplies
``|11>`` by ``e^{iλ}``). Every list is deterministic (fixed seeds), so all backends run the same
circuit and their results can be cross-checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Gate", "Workload", "hea", "layered", "qft", "random_pauli_terms"]

#: ``(name, qubits, angles)``; for a parametric gate of :func:`hea`, ``angles`` is empty and the
#: parameter index is given separately.
Gate = tuple[str, tuple[int, ...], tuple[float, ...]]


@dataclass(frozen=True, slots=True)
class Workload:
    """One benchmark case.

    Attributes:
        key: short identifier (``layered``, ``qft``, ``energy``, ``gradient``, ``vqe``).
        title: the table's description.
        qubit_count: ``n``.
    """

    key: str
    title: str
    qubit_count: int


def layered(qubit_count: int, *, layers: int = 20, seed: int = 7) -> list[Gate]:
    """``layers`` × (RY then RZ on every qubit, then the CNOT ladder ``cx(q, q+1)``)."""
    rng = np.random.default_rng(seed)
    gates: list[Gate] = []
    for _ in range(layers):
        for q in range(qubit_count):
            gates.append(("ry", (q,), (float(rng.uniform(-math.pi, math.pi)),)))
            gates.append(("rz", (q,), (float(rng.uniform(-math.pi, math.pi)),)))
        gates.extend(("cx", (q, q + 1), ()) for q in range(qubit_count - 1))
    return gates


def qft(qubit_count: int) -> list[Gate]:
    """The textbook quantum Fourier transform (Nielsen & Chuang §5.1, Fig. 5.1): for
    ``j = n-1 .. 0``: ``h(j)``, then ``cp(π / 2**(j-k))`` on ``(k, j)`` for ``k = j-1 .. 0``;
    then the swaps ``(i, n-1-i)`` that reverse the qubit order."""
    gates: list[Gate] = []
    for j in reversed(range(qubit_count)):
        gates.append(("h", (j,), ()))
        for k in reversed(range(j)):
            gates.append(("cp", (k, j), (math.pi / 2 ** (j - k),)))
    gates.extend(("swap", (i, qubit_count - 1 - i), ()) for i in range(qubit_count // 2))
    return gates


def hea(qubit_count: int, *, layers: int = 4) -> tuple[list[tuple[str, tuple[int, ...], int]],
                                                        int]:
    """A hardware-efficient ansatz: ``layers`` × (``ry(θ)``, ``rz(θ)`` on every qubit, then the
    CNOT ladder). Returns ``(gates, parameter_count)``; a gate is ``(name, qubits, index)`` with
    ``index`` its parameter (``-1`` for ``cx``)."""
    gates: list[tuple[str, tuple[int, ...], int]] = []
    p = 0
    for _ in range(layers):
        for q in range(qubit_count):
            gates.append(("ry", (q,), p))
            gates.append(("rz", (q,), p + 1))
            p += 2
        gates.extend(("cx", (q, q + 1), -1) for q in range(qubit_count - 1))
    return gates, p


def random_pauli_terms(qubit_count: int, count: int, *, seed: int = 11
                       ) -> list[tuple[str, float]]:
    """``count`` Pauli strings with each qubit I, X, Y or Z uniformly at random (identity
    strings redrawn) and normal coefficients, as ``("X0 Z3", c)`` pairs."""
    rng = np.random.default_rng(seed)
    terms: list[tuple[str, float]] = []
    while len(terms) < count:
        letters = rng.integers(0, 4, qubit_count)
        factors = [f"{'IXYZ'[v]}{q}" for q, v in enumerate(letters) if v]
        if factors:
            terms.append((" ".join(factors), float(rng.normal())))
    return terms


def hea_parameters(parameter_count: int, *, seed: int = 3) -> np.ndarray:
    """A deterministic parameter set, float64 ``(parameter_count,)`` in ``[-π, π)``."""
    return np.random.default_rng(seed).uniform(-math.pi, math.pi, parameter_count)
