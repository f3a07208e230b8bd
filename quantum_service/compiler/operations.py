"""Small helpers shared by the compiler passes: building operations and classifying them."""

from __future__ import annotations

import math
from collections.abc import Iterable

from quantum_service.circuits.ir import NON_UNITARY_OPERATIONS, Operation, ParameterExpression

__all__ = [
    "ANGLE_TOLERANCE",
    "PAULI_ROTATIONS",
    "SHIFT_RULE_GATES",
    "Angle",
    "gate",
    "gate_depth",
    "is_constant_1q",
    "is_gate",
    "is_zero_angle",
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


def is_gate(op: Operation) -> bool:
    """True for a unitary gate (not ``measure``, ``reset`` or ``barrier``)."""
    return op.name not in NON_UNITARY_OPERATIONS


def is_constant_1q(op: Operation) -> bool:
    """True for a single-qubit gate whose parameters are all constant."""
    return len(op.qubits) == 1 and is_gate(op) and not op.is_parametric


def wrap_angle(angle: float) -> float:
    """``angle`` reduced to ``(-π, π]`` (radians)."""
    wrapped = math.remainder(angle, 2.0 * math.pi)
    return math.pi if wrapped == -math.pi else wrapped


def is_zero_angle(angle: ParameterExpression | float) -> bool:
    """True when ``angle`` is a constant within :data:`ANGLE_TOLERANCE` of a multiple of 2π."""
    expr = ParameterExpression.of(angle)
    return expr.is_constant and abs(wrap_angle(expr.constant)) < ANGLE_TOLERANCE


def gate_depth(operations: Iterable[Operation]) -> int:
    """Circuit depth counting gates only: the longest chain of gates sharing qubits
    (``measure``, ``reset`` and ``barrier`` add no layer)."""
    level: dict[int, int] = {}
    depth = 0
    for op in operations:
        if not is_gate(op):
            continue
        layer = 1 + max((level.get(q, 0) for q in op.qubits), default=0)
        for q in op.qubits:
            level[q] = layer
        depth = max(depth, layer)
    return depth
