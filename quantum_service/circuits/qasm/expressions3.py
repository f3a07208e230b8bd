"""Gate-parameter expressions of the reference (OpenQASM 3 AST) path as affine forms.

An expression of the ``openqasm3`` AST becomes a
:class:`~quantum_service.circuits.ir.ParameterExpression`: ``+ - * /`` and unary minus keep
affine forms over the ``input`` parameters; ``**``, ``%`` and the functions of
:data:`~quantum_service.circuits.qasm.common.FUNCTIONS` are evaluated on constants. Every
intermediate constant must be a finite real number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from openqasm3 import ast

from quantum_service.circuits.ir import ParameterExpression
from quantum_service.circuits.qasm.common import FUNCTIONS, unsupported
from quantum_service.circuits.qasm.frontend3 import node_text
from quantum_service.errors import InvalidProgramError

__all__ = ["AstExpressions"]

_PE = ParameterExpression


def _non_affine(node: ast.QASMNode) -> InvalidProgramError:
    return unsupported(
        f"non-affine parameter expression '{node_text(node)}' is unsupported: qcore gate "
        "parameters are affine forms constant + sum(coefficient * symbol)")


def _finite(value: complex, node: ast.QASMNode) -> _PE:
    if isinstance(value, complex) or not math.isfinite(value):
        raise InvalidProgramError(f"'{node_text(node)}' is not a finite real number")
    return _PE(float(value))


class AstExpressions:
    """Evaluates AST expressions of one program.

    Args:
        qasm2: the program declares OpenQASM 2 (for error messages).
        inputs: the program's top-level scope (constants and inputs), consulted to explain an
            identifier that a gate body cannot see; read, never written.
    """

    def __init__(self, *, qasm2: bool, inputs: Mapping[str, _PE]) -> None:
        self._qasm2 = qasm2
        self._scope = inputs

    def value(self, node: ast.QASMNode, scope: Mapping[str, _PE]) -> _PE:
        """An expression as an affine form over the input parameters."""
        if isinstance(node, ast.IntegerLiteral | ast.FloatLiteral):
            return _PE(float(node.value))
        if isinstance(node, ast.Identifier):
            if node.name in scope:
                return scope[node.name]
            if node.name in self._scope:
                raise InvalidProgramError(
                    f"input '{node.name}' is not visible inside a gate definition; pass it as "
                    "a gate parameter")
            raise InvalidProgramError(self._unknown_identifier(node.name))
        if isinstance(node, ast.UnaryExpression) and node.op.name == "-":
            return -self.value(node.expression, scope)
        if isinstance(node, ast.BinaryExpression):
            return self._binary(node, scope)
        if isinstance(node, ast.FunctionCall):
            return self._function(node, scope)
        if isinstance(node, ast.Cast) and isinstance(node.type, ast.FloatType | ast.AngleType):
            return self.value(node.argument, scope)
        raise unsupported(f"expression '{node_text(node)}' in a gate parameter")

    def _binary(self, node: ast.BinaryExpression, scope: Mapping[str, _PE]) -> _PE:
        lhs, rhs = self.value(node.lhs, scope), self.value(node.rhs, scope)
        op = node.op.name
        if lhs.is_constant and rhs.is_constant:
            a, b = lhs.constant, rhs.constant
            operations: dict[str, Callable[[float, float], float]] = {
                "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
                "/": lambda x, y: x / y, "**": lambda x, y: x ** y, "%": math.fmod,
            }
            if op not in operations:
                raise unsupported(f"operator '{op}' in '{node_text(node)}'")
            try:
                value = operations[op](a, b)
            except (ZeroDivisionError, OverflowError, ValueError) as exc:
                raise InvalidProgramError(f"cannot evaluate '{node_text(node)}': {exc}") from None
            return _finite(value, node)
        if op == "+":
            return lhs + rhs
        if op == "-":
            return lhs - rhs
        if op == "*" and (lhs.is_constant or rhs.is_constant):
            return lhs * rhs
        if op == "/" and rhs.is_constant:
            if rhs.constant == 0:
                raise InvalidProgramError(f"division by zero in '{node_text(node)}'")
            return lhs / rhs.constant
        raise _non_affine(node)

    def _function(self, node: ast.FunctionCall, scope: Mapping[str, _PE]) -> _PE:
        name = node.name.name
        if name not in FUNCTIONS:
            raise unsupported(f"function '{name}' (known: {', '.join(sorted(FUNCTIONS))})")
        arity, fn = FUNCTIONS[name]
        if len(node.arguments) != arity:
            raise InvalidProgramError(f"{name} takes {arity} argument(s), got "
                                      f"{len(node.arguments)}")
        args = [self.value(a, scope) for a in node.arguments]
        if any(not a.is_constant for a in args):
            raise _non_affine(node)
        try:
            value = fn(*(a.constant for a in args))
        except (ValueError, OverflowError) as exc:
            raise InvalidProgramError(f"cannot evaluate '{node_text(node)}': {exc}") from None
        return _finite(value, node)

    def constant(self, node: ast.Expression | None, scope: Mapping[str, _PE], *,
                  what: str) -> float:
        if node is None:
            raise InvalidProgramError(f"missing {what}")
        value = self.value(node, scope)
        if not value.is_constant:
            raise InvalidProgramError(f"{what} '{node_text(node)}' must be a constant")
        return value.constant

    def integer(self, node: ast.Expression, scope: Mapping[str, _PE], *, what: str) -> int:
        value = self.constant(node, scope, what=what)
        if not float(value).is_integer():
            raise InvalidProgramError(
                f"{what} '{node_text(node)}' must be an integer, got {value:g}")
        return int(value)

    def _unknown_identifier(self, name: str) -> str:
        if self._qasm2:
            return (f"unknown identifier '{name}' in a gate parameter (OpenQASM 2 has no "
                    "symbolic parameters; the only constant is pi)")
        return (f"unknown identifier '{name}'; declare a symbolic parameter with "
                f"`input float[64] {name};` or a constant with `const float {name} = ...;`")