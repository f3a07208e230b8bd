"""Small helpers shared by the compiler passes: building operations and classifying them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from quantum_service.circuits.ir import (
    NON_UNITARY_OPERATIONS,
    Condition,
    Operation,
    ParameterExpression,
)

__all__ = [
    "ANGLE_TOLERANCE",
    "PAULI_ROTATIONS",
    "SHIFT_RULE_GATES",
    "Angle",
    "conditioned",
    "gate",
    "gate_depth",
    "is_constant_1q",
    "is_gate",
    "is_zero_angle",
    "relabeled",
    "wires",
    "wrap_angle",
]

#: Angles within this distance of a multiple of 2π are treated as identity rotations.
ANGLE_TOLERANCE = 1e-10

#: Gates ``exp(-i θ P / 2)`` for a Pauli product ``P``: a period-2π rotation (up to global phase
#: -1) whose single parameter obeys the two-term parameter-shift rule.
PAULI_ROTATIONS = frozenset({"rx", "ry", "rz", "rxx", "ryy", "rzz"})

#: The only gates a compiled circuit may carry with a symbolic parameter (plus ``r`` with a
#: symbolic θ and a constant φ). Parameter-shift gradients rely on this.
SHIFT_RULE_GATES = frozenset({"rx", "ry", "rz", "rxx", "rzz"})

Angle = float | ParameterExpression


def gate(name: str, qubits: tuple[int, ...] | list[int], *params: Angle) -> Operation:
    """An :class:`Operation` with parameters wrapped as :class:`ParameterExpression`."""
    return Operation(name, tuple(qubits), tuple(ParameterExpression.of(p) for p in params))


def conditioned(operations: Iterable[Operation], condition: Condition | None
                ) -> list[Operation]:
    """``operations`` each carrying ``condition`` (unchanged when it is ``None``): the expansion
    of a conditional operation is conditional as a whole."""
    if condition is None:
        return list(operations)
    return [replace(op, condition=condition) for op in operations]


def relabeled(op: Operation, qubit_map: Sequence[int] | Mapping[int, int]) -> Operation:
    """``op`` on qubits ``qubit_map[q]``; parameters, clbits and condition kept."""
    return replace(op, qubits=tuple(qubit_map[q] for q in op.qubits))


def wires(op: Operation) -> tuple[int, ...]:
    """The wires an operation orders against: its qubits ``q >= 0``, and each classical bit
    ``c`` it writes (``measure``) or reads (its condition) as ``-1 - c``. Two operations
    sharing a wire keep their relative order in every pass; a conditional operation therefore
    stays after every ``measure`` writing a bit it reads."""
    if op.condition is None and not op.clbits:
        return op.qubits
    classical = dict.fromkeys((*op.clbits, *(op.condition.clbits if op.condition else ())))
    return (*op.qubits, *(-1 - c for c in classical))


def is_gate(op: Operation) -> bool:
    """True for a unitary gate (not ``measure``, ``reset`` or ``barrier``)."""
    return op.name not in NON_UNITARY_OPERATIONS


def is_constant_1q(op: Operation) -> bool:
    """True for an unconditional single-qubit gate whose parameters are all constant (the gates
    single-qubit synthesis may merge)."""
    return (len(op.qubits) == 1 and is_gate(op) and not op.is_parametric
            and op.condition is None)


def wrap_angle(angle: float) -> float:
    """``angle`` reduced to ``(-π, π]`` (radians)."""
    wrapped = math.remainder(angle, 2.0 * math.pi)
    return math.pi if wrapped == -math.pi else wrapped


def is_zero_angle(angle: ParameterExpression | float) -> bool:
    """True when ``angle`` is a constant within :data:`ANGLE_TOLERANCE` of a multiple of 2π."""
    expr = ParameterExpression.of(angle)
    return expr.is_constant and abs(wrap_angle(expr.constant)) < ANGLE_TOLERANCE


def gate_depth(operations: Iterable[Operation]) -> int:
    """Circuit depth counting gates only: the longest chain of gates sharing qubits or
    classical bits (:func:`wires`). ``measure`` and ``reset`` add no layer but pass their
    qubit's layer on to the bits they write, so a gate conditioned on a mid-circuit
    measurement comes after the gates before that measurement; ``barrier`` is ignored."""
    level: dict[int, int] = {}
    depth = 0
    for op in operations:
        if op.name == "barrier":
            continue
        on = wires(op)
        layer = max((level.get(w, 0) for w in on), default=0) + (1 if is_gate(op) else 0)
        for w in on:
            level[w] = layer
        depth = max(depth, layer)
    return depth
