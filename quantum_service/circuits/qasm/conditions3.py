"""The condition of an OpenQASM 3 ``if`` statement (an ``openqasm3`` AST expression).

Accepted (openqasm.com, "Classical instructions", if-else statements):

* a bit ``c[0]`` or scalar ``bit b``, or a register ``c`` (true when nonzero, OpenQASM 3's
  bit-array to bool cast);
* a comparison ``==``/``!=`` of a register, a bit, a slice ``c[0:2]`` or a set ``c[{0, 2}]``
  (bits in the order written, least significant first) with an integer or ``true``/``false``,
  either way round;
* ``==``/``!=`` between two bit expressions, ``!``, ``&&``, ``||``, parentheses and
  ``true``/``false``.

Combined conditions are built by :mod:`~quantum_service.circuits.qasm.conditions` (truth tables
over at most 16 distinct bits). Anything else (``<``, arithmetic, classical variables) raises
:class:`InvalidProgramError` with reason ``UNSUPPORTED_QASM``.
"""

from __future__ import annotations

from openqasm3 import ast

from quantum_service.circuits.ir import Condition
from quantum_service.circuits.qasm.common import unsupported
from quantum_service.circuits.qasm.conditions import (
    both,
    combine,
    either,
    register_equals,
    simplified,
)
from quantum_service.circuits.qasm.frontend3 import node_text
from quantum_service.circuits.qasm.registers3 import Registers
from quantum_service.errors import InvalidProgramError

__all__ = ["condition_of"]

_Value = Condition | bool


def condition_of(node: ast.Expression, registers: Registers) -> _Value:
    """The condition ``node`` states: a :class:`Condition`, or ``True``/``False`` when it
    always/never holds.

    Raises:
        InvalidProgramError: an unsupported form (reason ``UNSUPPORTED_QASM``), an undeclared
            or out-of-range bit, a comparison that can never hold, or more than 16 distinct bits
            in a combined condition.
    """
    value = _boolean(node, registers)
    return value if isinstance(value, bool) else simplified(value)


def _bits(node: ast.Expression, registers: Registers) -> tuple[int, ...] | None:
    """The clbits a bit operand names (least significant first), or ``None`` when ``node`` is
    not a bit operand."""
    if isinstance(node, ast.Identifier):
        if node.name not in registers.cregs:
            return None
        return registers.bit_operand(node).indices
    if isinstance(node, ast.IndexExpression) and isinstance(node.collection, ast.Identifier):
        index = node.index
        indices = index if isinstance(index, ast.DiscreteSet) else list(index)
        return registers.bit_operand(ast.IndexedIdentifier(node.collection, [indices])).indices
    return None


def _integer(node: ast.Expression) -> int | None:
    if isinstance(node, ast.BooleanLiteral):
        return int(node.value)
    if isinstance(node, ast.IntegerLiteral):
        return node.value
    return None


def _boolean(node: ast.Expression, registers: Registers) -> _Value:
    text = node_text(node)
    if isinstance(node, ast.BooleanLiteral):
        return bool(node.value)
    bits = _bits(node, registers)
    if bits is not None:  # a bit, or a register cast to bool: nonzero
        if len(bits) == 1:
            return register_equals(bits, 1, what=text)
        return register_equals(bits, 0, what=text).inverted()
    if isinstance(node, ast.UnaryExpression) and node.op == ast.UnaryOperator["!"]:
        inner = _boolean(node.expression, registers)
        return not inner if isinstance(inner, bool) else inner.inverted()
    if isinstance(node, ast.BinaryExpression):
        op = node.op.name
        if op in ("==", "!="):
            equal = _comparison(node, registers, text)
            if op == "==":
                return equal
            return not equal if isinstance(equal, bool) else equal.inverted()
        if op in ("&&", "||"):
            lhs, rhs = _boolean(node.lhs, registers), _boolean(node.rhs, registers)
            if isinstance(lhs, bool) or isinstance(rhs, bool):
                fixed, other = (lhs, rhs) if isinstance(lhs, bool) else (rhs, lhs)
                if op == "&&":
                    return other if fixed else False
                return True if fixed else other
            return both(lhs, rhs, what=text) if op == "&&" else either(lhs, rhs, what=text)
    if isinstance(node, ast.Identifier):
        raise InvalidProgramError(f"'{node.name}' in the condition '{text}' is not a declared "
                                  "bit register")
    raise unsupported(
        f"condition '{text}' is not supported: use bits and registers with ==, !=, !, && and "
        "|| (e.g. `if (c == 3)`, `if (c[0] && !c[1])`)")


def _comparison(node: ast.BinaryExpression, registers: Registers, text: str) -> _Value:
    """``lhs == rhs``."""
    for side, other in ((node.lhs, node.rhs), (node.rhs, node.lhs)):
        number = _integer(other)
        bits = _bits(side, registers)
        if number is not None and bits is not None:
            return register_equals(bits, number, what=node_text(side))
    lhs, rhs = _boolean(node.lhs, registers), _boolean(node.rhs, registers)
    if isinstance(lhs, bool) and isinstance(rhs, bool):
        return lhs == rhs
    if isinstance(lhs, bool) or isinstance(rhs, bool):
        fixed, other = (lhs, rhs) if isinstance(lhs, bool) else (rhs, lhs)
        return other if fixed else other.inverted()  # type: ignore[union-attr]
    return combine(lhs, rhs, lambda x, y: x == y, what=text)
