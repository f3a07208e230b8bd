"""The user-path programs as OpenQASM 2 text, generated deterministically from a seed.

Every program is written the way a user's tool writes it: ``OPENQASM 2.0;``, ``include
"qelib1.inc";``, one register ``q`` (and ``c`` when measured), one statement per line, angles as
decimal literals (Python's shortest round-trip ``repr``). Each timed run uses a *variant* (a
different seed), so no service-side memo of an earlier run applies; every backend gets the
same variant's text.

Conventions are OpenQASM 2's (Cross et al., arXiv:1707.03429): ``rz(θ) = exp(-i θ Z / 2)``,
``u3(θ, φ, λ)`` as in ``qelib1.inc``, ``cu1(λ)`` multiplies ``|11>`` by ``e^{iλ}``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.simulator import workloads

__all__ = ["PROGRAM_KINDS", "Program", "build", "deep_program", "sized_program"]

#: A gate: ``(name, qubits, angles)``.
Gate = tuple[str, tuple[int, ...], tuple[float, ...]]

PROGRAM_KINDS = ("qft", "layered", "qv", "deep")


@dataclass(frozen=True, slots=True)
class Program:
    """A generated program.

    Attributes:
        text: the OpenQASM 2 source (UTF-8, one statement per line).
        qubit_count: width ``n`` (one register ``q[n]``).
        gate_count: gate statements (measurements excluded).
        measured: whether ``measure q -> c;`` ends the program.
        gates: the gate statements as ``(name, qubits, angles)``, in order.
    """

    text: str
    qubit_count: int
    gate_count: int
    measured: bool
    gates: tuple[Gate, ...] = ()

    @property
    def size_bytes(self) -> int:
        return len(self.text.encode("utf-8"))


def _statement(g: str, qubits: Sequence[int], angles: Sequence[float]) -> str:
    args = f"({','.join(repr(float(a)) for a in angles)})" if angles else ""
    return f"{g}{args} {','.join(f'q[{q}]' for q in qubits)};"


def _text(qubit_count: int, gates: Sequence[Gate], *, measured: bool) -> Program:
    lines = ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{qubit_count}];"]
    if measured:
        lines.append(f"creg c[{qubit_count}];")
    lines.extend(_statement(g, qubits, angles) for g, qubits, angles in gates)
    if measured:
        lines.append("measure q -> c;")
    return Program("\n".join(lines) + "\n", qubit_count, len(gates), measured, tuple(gates))


def _seed(kind: str, variant: int) -> int:
    return 1_000 * (PROGRAM_KINDS.index(kind) + 1) + variant


def qft_gates(qubit_count: int, variant: int) -> list[Gate]:
    """``x`` on the set bits of a basis state ``k`` drawn from the variant's seed, then the
    textbook QFT of :func:`benchmarks.simulator.workloads.qft` in ``qelib1.inc``'s gates: its
    controlled phases written ``cu1`` (``qelib1.inc`` has no ``cp``), each final ``swap`` as three
    ``cx`` (nor ``swap``)."""
    rng = np.random.default_rng(_seed("qft", variant))
    bits = rng.integers(0, 2, qubit_count)
    if not bits.any():
        bits[0] = 1
    prepare: list[Gate] = [("x", (q,), ()) for q in range(qubit_count) if bits[q]]
    gates = prepare
    for g, qubits, angles in workloads.qft(qubit_count):
        if g == "swap":
            a, b = qubits
            gates += [("cx", (a, b), ()), ("cx", (b, a), ()), ("cx", (a, b), ())]
        else:
            gates.append(("cu1" if g == "cp" else g, qubits, angles))
    return gates


def layered_gates(qubit_count: int, variant: int, *, layers: int = 20) -> list[Gate]:
    """``layers`` × (``ry``, ``rz`` on every qubit, then the CNOT ladder), random angles."""
    return workloads.layered(qubit_count, layers=layers, seed=_seed("layered", variant))


def _su4_block(rng: np.random.Generator, a: int, b: int) -> list[Gate]:
    """A random two-qubit block in the generic three-CNOT form: four layers of ``u3`` on both
    qubits interleaved with ``cx(a, b)``, ``cx(b, a)``, ``cx(a, b)`` (angles uniform in
    ``[-π, π)``); this form reaches every two-qubit unitary (Vatan & Williams, PRA 69, 032315
    (2004))."""
    gates: list[Gate] = []
    pairs = ((a, b), (b, a), (a, b))
    for layer in range(4):
        for q in (a, b):
            gates.append(("u3", (q,), tuple(float(v) for v in rng.uniform(-math.pi, math.pi,
                                                                            3))))
        if layer < 3:
            gates.append(("cx", pairs[layer], ()))
    return gates


def qv_gates(qubit_count: int, variant: int, *, depth: int | None = None) -> list[Gate]:
    """A quantum-volume-style circuit (Cross et al., PRA 100, 032328 (2019)): ``depth``
    (default ``qubit_count``) layers, each a random permutation of the qubits paired off, a
    random two-qubit block (:func:`_su4_block`) on each pair."""
    rng = np.random.default_rng(_seed("qv", variant))
    gates: list[Gate] = []
    for _ in range(depth or qubit_count):
        order = rng.permutation(qubit_count)
        for k in range(0, qubit_count - 1, 2):
            gates.extend(_su4_block(rng, int(order[k]), int(order[k + 1])))
    return gates


def _deep_layers(qubit_count: int, rng: np.random.Generator) -> Iterator[list[Gate]]:
    """Endless layers: ``ry``, ``rz`` on every qubit, then a brickwork of ``cx`` on
    ``(q, q+1)`` for even ``q`` on even layers, odd ``q`` on odd layers."""
    layer = 0
    while True:
        gates: list[Gate] = []
        for q in range(qubit_count):
            gates.append(("ry", (q,), (float(rng.uniform(-math.pi, math.pi)),)))
            gates.append(("rz", (q,), (float(rng.uniform(-math.pi, math.pi)),)))
        gates.extend(("cx", (q, q + 1), ()) for q in range(layer % 2, qubit_count - 1, 2))
        yield gates
        layer += 1


def deep_program(qubit_count: int, gate_count: int, variant: int, *, measured: bool = True
                 ) -> Program:
    """Whole :func:`_deep_layers` layers until at least ``gate_count`` gates."""
    rng = np.random.default_rng(_seed("deep", variant))
    gates: list[Gate] = []
    for layer in _deep_layers(qubit_count, rng):
        if len(gates) >= gate_count:
            break
        gates.extend(layer)
    return _text(qubit_count, gates, measured=measured)


def sized_program(size_bytes: int, variant: int, *, qubit_count: int = 16) -> Program:
    """A :func:`deep_program`-style program of about ``size_bytes`` bytes (whole layers; the
    first size at or above the request), with a final measurement."""
    rng = np.random.default_rng(_seed("deep", variant) + 7)
    gates: list[Gate] = []
    size = 0
    for layer in _deep_layers(qubit_count, rng):
        if size >= size_bytes:
            break
        gates.extend(layer)
        size += sum(len(_statement(*g)) + 1 for g in layer)
    return _text(qubit_count, gates, measured=True)


def build(kind: str, qubit_count: int, variant: int, *, layers: int = 20,
          gate_count: int = 0, measured: bool = True) -> Program:
    """The program ``kind`` (one of :data:`PROGRAM_KINDS`) for ``variant``.

    Args:
        kind: ``qft``, ``layered`` (``layers`` layers), ``qv`` (depth = width) or ``deep``
            (about ``gate_count`` gates).
        qubit_count: width, >= 2.
        variant: the seed offset; equal variants give equal text.
        measured: end with ``measure q -> c;`` (counts jobs) or not (expectation values).
    Raises:
        ValueError: unknown ``kind``.
    """
    if kind == "qft":
        return _text(qubit_count, qft_gates(qubit_count, variant), measured=measured)
    if kind == "layered":
        return _text(qubit_count, layered_gates(qubit_count, variant, layers=layers),
                     measured=measured)
    if kind == "qv":
        return _text(qubit_count, qv_gates(qubit_count, variant), measured=measured)
    if kind == "deep":
        return deep_program(qubit_count, gate_count, variant, measured=measured)
    raise ValueError(f"unknown program kind {kind!r}; expected one of {PROGRAM_KINDS}")
