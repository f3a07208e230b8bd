"""OpenQASM 2 gate-parameter expressions: a tokenizer and a recursive-descent parser.

Grammar (Cross et al., arXiv:1707.03429, "exp"), lowest precedence first; ``+ - * /`` are
left-associative, ``^`` (power) is right-associative and binds tighter than unary minus::

    expr  := term (('+' | '-') term)*
    term  := unary (('*' | '/') unary)*
    unary := '-' unary | power
    power := atom ('^' unary)?
    atom  := real | integer | identifier | function '(' expr (',' expr)* ')' | '(' expr ')'

An expression is compiled once into a closure ``f(env) -> float`` over the names it may use
(``pi`` and, in a gate body, the gate's parameters), so a gate definition's body is parsed once
and evaluated per call. Every intermediate value is a finite real number, evaluated in the order
the OpenQASM 3 reference path evaluates it, so both readers give the same floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping

from quantum_service.circuits.qasm.common import FUNCTIONS, SYNTAX
from quantum_service.errors import InvalidProgramError

__all__ = ["Evaluator", "OutsideSubset", "compile_arguments"]

#: A compiled expression: the value for an environment of names.
Evaluator = Callable[[Mapping[str, float]], float]


class OutsideSubset(Exception):
    """The text uses OpenQASM the fast OpenQASM 2 reader does not read; the reference path
    reads it (or reports its error)."""


_TOKEN = re.compile(r"""\s*(?:
    (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_]\w*)
  | (?P<op>[-+*/^(),])
  | (?P<bad>\S)
)""", re.VERBOSE)


def _finite(value: complex, text: str) -> float:
    if isinstance(value, complex) or not math.isfinite(value):
        raise InvalidProgramError(f"'{text}' is not a finite real number")
    return float(value)


def _binary(op: str, lhs: Evaluator, rhs: Evaluator, text: str) -> Evaluator:
    def evaluate(env: Mapping[str, float]) -> float:
        a, b = lhs(env), rhs(env)
        try:
            if op == "+":
                value: float | complex = a + b
            elif op == "-":
                value = a - b
            elif op == "*":
                value = a * b
            elif op == "/":
                value = a / b
            else:
                value = a ** b
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise InvalidProgramError(f"cannot evaluate '{text}': {exc}") from None
        return _finite(value, text)
    return evaluate


class _Parser:
    def __init__(self, text: str, names: Collection[str], unknown: Callable[[str], str]) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind == "bad":
                raise OutsideSubset(f"character {m['bad']!r} in a parameter expression")
            assert kind is not None
            self.tokens.append((kind, m[kind], m.start(kind)))
        self.position = 0
        self.names = names
        self.unknown = unknown

    def peek(self) -> str:
        if self.position < len(self.tokens):
            return self.tokens[self.position][1]
        return ""

    def take(self) -> tuple[str, str, int]:
        if self.position >= len(self.tokens):
            raise OutsideSubset("incomplete parameter expression")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, symbol: str) -> None:
        if self.take()[1] != symbol:
            raise OutsideSubset(f"expected {symbol!r} in a parameter expression")

    def span(self, start: int) -> str:
        end = self.tokens[self.position - 1][2] + len(self.tokens[self.position - 1][1])
        return self.text[self.tokens[start][2]:end]

    def expr(self) -> Evaluator:
        start = self.position
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            rhs = self.term()
            value = _binary(op, value, rhs, self.span(start))
        return value

    def term(self) -> Evaluator:
        start = self.position
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            rhs = self.unary()
            value = _binary(op, value, rhs, self.span(start))
        return value

    def unary(self) -> Evaluator:
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return lambda env: inner(env) * -1.0
        return self.power()

    def power(self) -> Evaluator:
        start = self.position
        base = self.atom()
        if self.peek() == "^":
            self.take()
            exponent = self.unary()
            return _binary("^", base, exponent, self.span(start))
        return base

    def atom(self) -> Evaluator:
        start = self.position
        kind, text, _ = self.take()
        if kind == "number":
            constant = float(text)
            return lambda env: constant
        if text == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        if kind != "name":
            raise OutsideSubset(f"unexpected {text!r} in a parameter expression")
        if self.peek() == "(":
            return self.call(text, start)
        if text in self.names:
            return lambda env: env[text]
        raise InvalidProgramError(self.unknown(text))

    def call(self, name: str, start: int) -> Evaluator:
        self.expect("(")
        arguments = [self.expr()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.expr())
        self.expect(")")
        if name not in FUNCTIONS:
            raise OutsideSubset(f"function {name!r}")
        arity, fn = FUNCTIONS[name]
        if len(arguments) != arity:
            raise InvalidProgramError(f"{name} takes {arity} argument(s), got {len(arguments)}")
        text = self.span(start)

        def evaluate(env: Mapping[str, float]) -> float:
            values = [argument(env) for argument in arguments]
            try:
                value = fn(*values)
            except (ValueError, OverflowError) as exc:
                raise InvalidProgramError(f"cannot evaluate '{text}': {exc}") from None
            return _finite(value, text)
        return evaluate


def compile_arguments(text: str, names: Collection[str], unknown: Callable[[str], str]
                      ) -> list[Evaluator]:
    """Compiles a comma-separated list of expressions (the text between a call's parentheses).

    Args:
        text: the argument list, e.g. ``"pi/2, -theta"``; ``""`` is no argument.
        names: the identifiers the expressions may use (``pi``, gate parameters).
        unknown: the error message for an identifier outside ``names``.
    Returns:
        One evaluator per argument, in order.
    Raises:
        InvalidProgramError: an unknown identifier, a function with the wrong arity, or
            parentheses nested past Python's recursion limit (reason ``QASM_SYNTAX_ERROR``).
        OutsideSubset: text outside the OpenQASM 2 expression grammar (the reference path
            reads or rejects it).
    """
    if not text.strip():
        return []
    parser = _Parser(text, names, unknown)
    try:
        arguments = [parser.expr()]
        while parser.peek() == ",":
            parser.take()
            arguments.append(parser.expr())
    except RecursionError:
        raise InvalidProgramError("the program nests expressions too deeply",
                                  reason=SYNTAX) from None
    if parser.position != len(parser.tokens):
        raise OutsideSubset("unexpected text after a parameter expression")
    return arguments
