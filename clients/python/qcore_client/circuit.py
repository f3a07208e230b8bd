"""A chainable circuit builder that produces ``qcore.v1.Circuit`` messages and OpenQASM 3.

Example::

    theta = Parameter("theta")
    circuit = Circuit(2, name="bell-ry").ry(2 * theta + 0.1, 0).cx(0, 1).measure_all()
    message = circuit.to_proto()      # qcore.v1.common_pb2.Circuit
    source = circuit.to_qasm()        # OpenQASM 3 text with ``input float[64] theta;``

Conventions are those of ``protos/qcore/v1/common.proto``: qubit ``q`` is bit ``q`` of a
basis-state index (qubit 0 is the least-significant bit); a gate's first listed qubit is the most
significant bit of its matrix (``cx(control, target)``); angles are radians and rotations are
``R_P(θ) = exp(-i θ P / 2)``. Gate names are the OpenQASM 3 ``stdgates.inc`` names
(openqasm.com, "Standard library") plus qcore's native gates (``rxx``, ``ryy``, ``rzz``, ...).

Gate angles are floats or affine expressions ``constant + Σ coefficient·symbol`` over named
:class:`Parameter` symbols, the form OpenQASM programs use in practice (``-theta/2``,
``pi/2 + 2*theta``); they map onto ``qcore.v1.ParameterExpression`` messages. The SDK speaks to
the services only through the protos: nothing here imports service code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real

from qcore.v1 import common_pb2

__all__ = [
    "Circuit", "Instruction", "Parameter", "ParameterExpression", "ParameterValue",
    "GATE_SIGNATURES",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: name -> (qubit count, parameter count) for every gate of qcore's gate library.
GATE_SIGNATURES: dict[str, tuple[int, int]] = {
    "id": (1, 0), "x": (1, 0), "y": (1, 0), "z": (1, 0), "h": (1, 0), "s": (1, 0),
    "sdg": (1, 0), "t": (1, 0), "tdg": (1, 0), "sx": (1, 0), "sxdg": (1, 0),
    "rx": (1, 1), "ry": (1, 1), "rz": (1, 1), "p": (1, 1), "phase": (1, 1), "u1": (1, 1),
    "u2": (1, 2), "u3": (1, 3), "u": (1, 3), "r": (1, 2),
    "cx": (2, 0), "cy": (2, 0), "cz": (2, 0), "ch": (2, 0), "csx": (2, 0), "swap": (2, 0),
    "iswap": (2, 0), "ecr": (2, 0), "crx": (2, 1), "cry": (2, 1), "crz": (2, 1), "cp": (2, 1),
    "cphase": (2, 1), "cu1": (2, 1), "cu3": (2, 3), "cu": (2, 4),
    "rxx": (2, 1), "ryy": (2, 1), "rzz": (2, 1),
    "ccx": (3, 0), "ccz": (3, 0), "cswap": (3, 0), "rccx": (3, 0),
    "c3x": (4, 0), "rc3x": (4, 0), "c3sqrtx": (4, 0), "c4x": (5, 0),
}

#: Gates declared by OpenQASM 3's ``stdgates.inc``.
_STDGATES = frozenset({
    "p", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "rx", "ry", "rz", "cx", "cy", "cz",
    "cp", "crx", "cry", "crz", "ch", "swap", "ccx", "cswap", "cu", "phase", "cphase", "id",
    "u1", "u2", "u3",
})

#: qcore gates spelled differently in OpenQASM 3 (``U`` is the language's built-in gate).
_QASM_RENAMES = {"u": "U"}

#: Definitions emitted for qcore gates outside ``stdgates.inc`` (exact, global phase included;
#: decompositions as in Qiskit's RXX/RYY/RZZ gate definitions).
_QASM_DEFINITIONS = {
    "rxx": "gate rxx(θ) a, b { h a; h b; cx a, b; rz(θ) b; cx a, b; h a; h b; }",
    "ryy": ("gate ryy(θ) a, b { rx(pi/2) a; rx(pi/2) b; cx a, b; rz(θ) b; cx a, b; "
            "rx(-pi/2) a; rx(-pi/2) b; }"),
    "rzz": "gate rzz(θ) a, b { cx a, b; rz(θ) b; cx a, b; }",
    "ccz": "gate ccz a, b, c { h c; ccx a, b, c; h c; }",
}

#: Names a parameter may not take in OpenQASM output (registers, constants, keywords).
_QASM_RESERVED = frozenset({
    "q", "c", "pi", "tau", "euler", "U", "gphase", "input", "output", "float", "int", "bit",
    "qubit", "gate", "measure", "reset", "barrier", "if", "else", "for", "while", "const",
    "angle", "bool", "ctrl", "inv", "pow", "negctrl", "include", "def", "return", "let",
} | set(GATE_SIGNATURES))

_NON_UNITARY = frozenset({"measure", "barrier", "reset"})


class _Affine:
    """Arithmetic shared by :class:`Parameter` and :class:`ParameterExpression`."""

    __slots__ = ()

    def as_expression(self) -> ParameterExpression:
        raise NotImplementedError

    def __add__(self, other: ParameterValue) -> ParameterExpression:
        return self.as_expression()._combine(_to_expression(other), 1.0)

    def __radd__(self, other: ParameterValue) -> ParameterExpression:
        return _to_expression(other)._combine(self.as_expression(), 1.0)

    def __sub__(self, other: ParameterValue) -> ParameterExpression:
        return self.as_expression()._combine(_to_expression(other), -1.0)

    def __rsub__(self, other: ParameterValue) -> ParameterExpression:
        return _to_expression(other)._combine(self.as_expression(), -1.0)

    def __neg__(self) -> ParameterExpression:
        return self.as_expression()._scale(-1.0)

    def __pos__(self) -> ParameterExpression:
        return self.as_expression()

    def __mul__(self, factor: ParameterValue) -> ParameterExpression:
        mine, other = self.as_expression(), _to_expression(factor)
        if other.is_constant:
            return mine._scale(other.constant)
        if mine.is_constant:
            return other._scale(mine.constant)
        raise ValueError(
            f"({mine}) * ({other}) is not affine; gate parameters must have the form "
            "constant + sum(coefficient * symbol)"
        )

    __rmul__ = __mul__

    def __truediv__(self, divisor: ParameterValue) -> ParameterExpression:
        other = _to_expression(divisor)
        if not other.is_constant:
            raise ValueError(
                f"({self.as_expression()}) / ({other}) is not affine; gate parameters must have "
                "the form constant + sum(coefficient * symbol)"
            )
        if other.constant == 0.0:
            raise ValueError("division by zero in a gate parameter")
        return self.as_expression()._scale(1.0 / other.constant)

    def __rtruediv__(self, dividend: ParameterValue) -> ParameterExpression:
        return _to_expression(dividend) / self.as_expression()


@dataclass(frozen=True, slots=True, eq=False)
class ParameterExpression(_Affine):
    """An affine gate angle ``constant + Σ coefficient·symbol`` in radians.

    Attributes:
        constant: the constant part, radians.
        terms: ``(symbol, coefficient)`` pairs in first-use order, without zero coefficients.
    """

    constant: float = 0.0
    terms: tuple[tuple[str, float], ...] = ()

    def as_expression(self) -> ParameterExpression:
        return self

    @property
    def is_constant(self) -> bool:
        return not self.terms

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbol names, in first-use order."""
        return tuple(name for name, _ in self.terms)

    def bind(self, values: Mapping[str, float]) -> float:
        """Evaluates the expression, radians.

        Raises:
            ValueError: a symbol has no value in ``values``.
        """
        total = self.constant
        for name, coefficient in self.terms:
            if name not in values:
                raise ValueError(f"parameter {name!r} has no value")
            total += coefficient * float(values[name])
        return total

    def to_proto(self) -> common_pb2.ParameterExpression:
        return common_pb2.ParameterExpression(
            constant=self.constant,
            terms=[common_pb2.ParameterTerm(symbol=s, coefficient=c) for s, c in self.terms],
        )

    @classmethod
    def from_proto(cls, message: common_pb2.ParameterExpression) -> ParameterExpression:
        expression = cls(float(message.constant))
        for term in message.terms:
            expression = expression._combine(
                cls(0.0, ((_check_symbol(term.symbol), float(term.coefficient)),)), 1.0)
        return expression

    def _combine(self, other: ParameterExpression, sign: float) -> ParameterExpression:
        coefficients = dict(self.terms)
        for name, coefficient in other.terms:
            coefficients[name] = coefficients.get(name, 0.0) + sign * coefficient
        return ParameterExpression(
            self.constant + sign * other.constant + 0.0,
            tuple((n, c) for n, c in coefficients.items() if c != 0.0),
        )

    def _scale(self, factor: float) -> ParameterExpression:
        return ParameterExpression(
            self.constant * factor + 0.0,
            tuple((n, c * factor) for n, c in self.terms if c * factor != 0.0),
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (_Affine, Real)):
            theirs = _to_expression(other)
            return self.constant == theirs.constant and dict(self.terms) == dict(theirs.terms)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.constant, frozenset(self.terms)))

    def __str__(self) -> str:
        parts: list[str] = []
        for name, coefficient in self.terms:
            magnitude = abs(coefficient)
            text = name if magnitude == 1.0 else f"{magnitude!r}*{name}"
            parts.append(("-" if coefficient < 0 else "+") + text)
        if self.constant != 0.0 or not parts:
            parts.append(("-" if self.constant < 0 else "+") + repr(abs(self.constant)))
        text = " ".join(f"{p[0]} {p[1:]}" for p in parts)
        return text[2:] if text.startswith("+ ") else "-" + text[2:]


class Parameter(_Affine):
    """A named symbolic gate parameter, e.g. ``Parameter("theta")``.

    Supports affine arithmetic with numbers and other parameters (``2*theta + 0.1``,
    ``-theta/2``, ``theta - phi``), producing :class:`ParameterExpression` objects.

    Raises:
        ValueError: ``name`` is not an identifier (``[A-Za-z_][A-Za-z0-9_]*``).
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = _check_symbol(name)

    def as_expression(self) -> ParameterExpression:
        return ParameterExpression(0.0, ((self.name, 1.0),))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Parameter):
            return self.name == other.name
        if isinstance(other, ParameterExpression):
            return other == self.as_expression()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("Parameter", self.name))

    def __repr__(self) -> str:
        return f"Parameter({self.name!r})"

    def __str__(self) -> str:
        return self.name


#: A gate angle: a number (radians), a symbol, or an affine expression of symbols.
ParameterValue = float | int | Parameter | ParameterExpression


def _check_symbol(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(
            f"parameter name {name!r} is not an identifier ([A-Za-z_][A-Za-z0-9_]*)")
    return name


def _to_expression(value: ParameterValue | object) -> ParameterExpression:
    if isinstance(value, _Affine):
        return value.as_expression()
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"gate parameter {number} is not a finite number")
        return ParameterExpression(number)
    raise TypeError(
        f"a gate parameter must be a number, a Parameter or a ParameterExpression, "
        f"not {type(value).__name__}"
    )


@dataclass(frozen=True, slots=True)
class Instruction:
    """One gate, ``measure``, ``reset`` or ``barrier`` of a :class:`Circuit`.

    Attributes:
        name: lower-case gate name.
        qubits: qubit indices in the gate's matrix order (first = most significant).
        params: gate angles, radians.
        clbits: for ``measure``, the classical bit receiving each qubit's outcome.
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[ParameterExpression, ...] = ()
    clbits: tuple[int, ...] = ()

    def to_proto(self) -> common_pb2.Operation:
        return common_pb2.Operation(
            name=self.name, qubits=self.qubits, params=[p.to_proto() for p in self.params],
            clbits=self.clbits,
        )


class Circuit:
    """A mutable, chainable quantum circuit builder.

    Args:
        qubit_count: number of qubits, >= 1.
        name: free-form label, carried in the proto and as a comment in OpenQASM.
        parameters: explicit order of the symbolic parameters (the order of a parameter
            vector). When omitted, symbols are listed in first-use order. When given, every
            symbol a gate uses must be listed (a listed symbol need not be used).
        clbit_count: number of classical bits; when omitted it grows with ``measure``.

    Raises:
        ValueError: ``qubit_count < 1``, a bad or repeated parameter name, or a negative
            ``clbit_count``.
    """

    def __init__(self, qubit_count: int, *, name: str = "",
                 parameters: Sequence[str | Parameter] | None = None,
                 clbit_count: int | None = None) -> None:
        if isinstance(qubit_count, bool) or not isinstance(qubit_count, int) or qubit_count < 1:
            raise ValueError(f"qubit_count must be an integer >= 1, got {qubit_count!r}")
        if clbit_count is not None and clbit_count < 0:
            raise ValueError(f"clbit_count must be >= 0, got {clbit_count}")
        self.qubit_count = qubit_count
        self.name = name
        self._instructions: list[Instruction] = []
        self._fixed_clbits = clbit_count is not None
        self._clbit_count = clbit_count or 0
        self._declared = parameters is not None
        names = [p.name if isinstance(p, Parameter) else _check_symbol(p)
                 for p in (parameters or ())]
        if len(set(names)) != len(names):
            raise ValueError(f"parameters {names} list a name twice")
        self._parameters = names

    # -- inspection ------------------------------------------------------------------------

    @property
    def parameters(self) -> tuple[str, ...]:
        """Symbol names in parameter-vector order."""
        return tuple(self._parameters)

    @property
    def parameter_count(self) -> int:
        return len(self._parameters)

    @property
    def clbit_count(self) -> int:
        return self._clbit_count

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(self._instructions)

    @property
    def gate_count(self) -> int:
        """Number of unitary gates (``measure``, ``reset`` and ``barrier`` excluded)."""
        return sum(1 for i in self._instructions if i.name not in _NON_UNITARY)

    def __len__(self) -> int:
        return len(self._instructions)

    def __repr__(self) -> str:
        return (f"Circuit(qubit_count={self.qubit_count}, instructions={len(self)}, "
                f"parameters={list(self._parameters)}, name={self.name!r})")

    # -- building --------------------------------------------------------------------------

    def append(self, name: str, qubits: Sequence[int], params: Sequence[ParameterValue] = (),
               *, clbits: Sequence[int] = ()) -> Circuit:
        """Appends an operation; returns ``self`` for chaining.

        Known gates (``GATE_SIGNATURES``) are checked for their qubit and parameter counts;
        other lower-case names pass through for the quantum service to validate.

        Raises:
            ValueError: a bad name, a qubit out of range or repeated, a wrong qubit or
                parameter count for a known gate, a non-finite angle, a symbol missing from
                explicitly declared ``parameters``, or bad ``clbits``.
            TypeError: a parameter is not a number or symbolic expression.
        """
        if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9_]*$", name):
            raise ValueError(f"gate name {name!r} must be a lower-case identifier")
        qubit_tuple = tuple(self._check_qubit(q, name) for q in qubits)
        if name != "barrier" and not qubit_tuple:
            raise ValueError(f"{name!r} needs at least one qubit")
        if len(set(qubit_tuple)) != len(qubit_tuple):
            raise ValueError(f"{name!r} lists a qubit twice: {list(qubit_tuple)}")
        expressions = tuple(_to_expression(p) for p in params)
        signature = GATE_SIGNATURES.get(name)
        if signature is not None:
            arity, param_count = signature
            if len(qubit_tuple) != arity:
                raise ValueError(
                    f"gate {name!r} acts on {arity} qubit(s), got {len(qubit_tuple)}")
            if len(expressions) != param_count:
                raise ValueError(
                    f"gate {name!r} takes {param_count} parameter(s), got {len(expressions)}")
        elif name in _NON_UNITARY and expressions:
            raise ValueError(f"{name!r} takes no parameters")
        clbit_tuple = self._check_clbits(name, qubit_tuple, clbits)
        self._register_symbols(expressions)
        self._instructions.append(Instruction(name, qubit_tuple, expressions, clbit_tuple))
        return self

    def _check_qubit(self, qubit: int, name: str) -> int:
        if isinstance(qubit, bool) or not isinstance(qubit, int):
            try:
                qubit = int(qubit.__index__())  # numpy integers
            except (AttributeError, TypeError):
                raise TypeError(f"{name!r}: qubit {qubit!r} is not an integer") from None
        if not 0 <= qubit < self.qubit_count:
            raise ValueError(
                f"{name!r}: qubit {qubit} is out of range for a {self.qubit_count}-qubit "
                f"circuit (valid: 0..{self.qubit_count - 1})"
            )
        return qubit

    def _check_clbits(self, name: str, qubits: tuple[int, ...],
                      clbits: Sequence[int]) -> tuple[int, ...]:
        clbit_tuple = tuple(int(c) for c in clbits)
        if name != "measure":
            if clbit_tuple:
                raise ValueError(f"only 'measure' writes classical bits, not {name!r}")
            return ()
        if len(clbit_tuple) != len(qubits):
            raise ValueError(
                f"'measure' needs one classical bit per qubit: {len(qubits)} qubit(s), "
                f"{len(clbit_tuple)} clbit(s)")
        if len(set(clbit_tuple)) != len(clbit_tuple) or min(clbit_tuple) < 0:
            raise ValueError(f"'measure' clbits {list(clbit_tuple)} must be distinct and >= 0")
        top = max(clbit_tuple) + 1
        if self._fixed_clbits and top > self._clbit_count:
            raise ValueError(
                f"clbit {top - 1} is out of range for clbit_count={self._clbit_count}")
        self._clbit_count = max(self._clbit_count, top)
        return clbit_tuple

    def _register_symbols(self, expressions: Iterable[ParameterExpression]) -> None:
        known = set(self._parameters)
        for expression in expressions:
            for symbol in expression.symbols:
                if symbol in known:
                    continue
                if self._declared:
                    raise ValueError(
                        f"parameter {symbol!r} is not among the circuit's declared parameters "
                        f"{self._parameters}; add it to Circuit(..., parameters=[...])")
                self._parameters.append(symbol)
                known.add(symbol)

    # Single-qubit gates.
    def id(self, qubit: int) -> Circuit:
        return self.append("id", [qubit])

    def h(self, qubit: int) -> Circuit:
        return self.append("h", [qubit])

    def x(self, qubit: int) -> Circuit:
        return self.append("x", [qubit])

    def y(self, qubit: int) -> Circuit:
        return self.append("y", [qubit])

    def z(self, qubit: int) -> Circuit:
        return self.append("z", [qubit])

    def s(self, qubit: int) -> Circuit:
        return self.append("s", [qubit])

    def sdg(self, qubit: int) -> Circuit:
        return self.append("sdg", [qubit])

    def t(self, qubit: int) -> Circuit:
        return self.append("t", [qubit])

    def tdg(self, qubit: int) -> Circuit:
        return self.append("tdg", [qubit])

    def sx(self, qubit: int) -> Circuit:
        return self.append("sx", [qubit])

    def rx(self, theta: ParameterValue, qubit: int) -> Circuit:
        """``exp(-i θ X / 2)``."""
        return self.append("rx", [qubit], [theta])

    def ry(self, theta: ParameterValue, qubit: int) -> Circuit:
        """``exp(-i θ Y / 2)``."""
        return self.append("ry", [qubit], [theta])

    def rz(self, theta: ParameterValue, qubit: int) -> Circuit:
        """``exp(-i θ Z / 2)``."""
        return self.append("rz", [qubit], [theta])

    def p(self, lam: ParameterValue, qubit: int) -> Circuit:
        """Phase gate ``diag(1, e^{iλ})``."""
        return self.append("p", [qubit], [lam])

    def u(self, theta: ParameterValue, phi: ParameterValue, lam: ParameterValue,
          qubit: int) -> Circuit:
        """OpenQASM 3's ``U(θ, φ, λ)``."""
        return self.append("u", [qubit], [theta, phi, lam])

    # Two- and three-qubit gates.
    def cx(self, control: int, target: int) -> Circuit:
        return self.append("cx", [control, target])

    def cy(self, control: int, target: int) -> Circuit:
        return self.append("cy", [control, target])

    def cz(self, control: int, target: int) -> Circuit:
        return self.append("cz", [control, target])

    def cp(self, lam: ParameterValue, control: int, target: int) -> Circuit:
        return self.append("cp", [control, target], [lam])

    def crx(self, theta: ParameterValue, control: int, target: int) -> Circuit:
        return self.append("crx", [control, target], [theta])

    def cry(self, theta: ParameterValue, control: int, target: int) -> Circuit:
        return self.append("cry", [control, target], [theta])

    def crz(self, theta: ParameterValue, control: int, target: int) -> Circuit:
        return self.append("crz", [control, target], [theta])

    def swap(self, qubit_a: int, qubit_b: int) -> Circuit:
        return self.append("swap", [qubit_a, qubit_b])

    def rxx(self, theta: ParameterValue, qubit_a: int, qubit_b: int) -> Circuit:
        """``exp(-i θ X⊗X / 2)``."""
        return self.append("rxx", [qubit_a, qubit_b], [theta])

    def ryy(self, theta: ParameterValue, qubit_a: int, qubit_b: int) -> Circuit:
        """``exp(-i θ Y⊗Y / 2)``."""
        return self.append("ryy", [qubit_a, qubit_b], [theta])

    def rzz(self, theta: ParameterValue, qubit_a: int, qubit_b: int) -> Circuit:
        """``exp(-i θ Z⊗Z / 2)``."""
        return self.append("rzz", [qubit_a, qubit_b], [theta])

    def ccx(self, control_a: int, control_b: int, target: int) -> Circuit:
        return self.append("ccx", [control_a, control_b, target])

    # Non-unitary operations.
    def measure(self, qubit: int, clbit: int | None = None) -> Circuit:
        """Measures ``qubit`` into ``clbit`` (default: the clbit with the qubit's index)."""
        return self.append("measure", [qubit], clbits=[qubit if clbit is None else clbit])

    def measure_all(self) -> Circuit:
        """Measures every qubit ``q`` into clbit ``q``."""
        qubits = list(range(self.qubit_count))
        return self.append("measure", qubits, clbits=qubits)

    def barrier(self, *qubits: int) -> Circuit:
        """A scheduling barrier on ``qubits`` (default: all qubits)."""
        return self.append("barrier", list(qubits) or list(range(self.qubit_count)))

    def reset(self, qubit: int) -> Circuit:
        return self.append("reset", [qubit])

    # -- conversion ------------------------------------------------------------------------

    def bind(self, values: Sequence[float] | Mapping[str, float]) -> Circuit:
        """A copy with every symbol replaced by its value (no parameters left).

        Args:
            values: one value per entry of :attr:`parameters` (in that order), or a mapping
                name → value covering them.
        Raises:
            ValueError: a wrong number of values or a missing name.
        """
        if isinstance(values, Mapping):
            mapping = {k: float(v) for k, v in values.items()}
        else:
            if len(values) != len(self._parameters):
                raise ValueError(f"expected {len(self._parameters)} value(s) for "
                                 f"{self._parameters}, got {len(values)}")
            mapping = dict(zip(self._parameters, map(float, values), strict=True))
        bound = Circuit(self.qubit_count, name=self.name,
                        clbit_count=self._clbit_count if self._fixed_clbits else None)
        for inst in self._instructions:
            bound.append(inst.name, inst.qubits, [p.bind(mapping) for p in inst.params],
                         clbits=inst.clbits)
        return bound

    def to_proto(self) -> common_pb2.Circuit:
        """The ``qcore.v1.Circuit`` message."""
        return common_pb2.Circuit(
            qubit_count=self.qubit_count, clbit_count=self._clbit_count,
            operations=[i.to_proto() for i in self._instructions],
            parameters=self._parameters, name=self.name,
        )

    @classmethod
    def from_proto(cls, message: common_pb2.Circuit) -> Circuit:
        """Rebuilds a builder from a ``qcore.v1.Circuit`` message (validating it)."""
        circuit = cls(message.qubit_count, name=message.name,
                      parameters=list(message.parameters) or None,
                      clbit_count=message.clbit_count or None)
        for op in message.operations:
            circuit.append(op.name, list(op.qubits),
                           [ParameterExpression.from_proto(p) for p in op.params],
                           clbits=list(op.clbits))
        return circuit

    def to_qasm(self) -> str:
        """OpenQASM 3 source for the circuit.

        Symbols become ``input float[64] name;`` declarations (in :attr:`parameters` order);
        gates use ``stdgates.inc`` names, ``u`` becomes the built-in ``U``, and ``rxx``,
        ``ryy``, ``rzz``, ``ccz`` are defined in the header when used. Measurements write a
        ``bit[clbit_count] c`` register; qubits live in ``qubit[qubit_count] q``.

        Raises:
            ValueError: a gate with no OpenQASM 3 standard spelling or definition (e.g.
                ``ecr``; submit the circuit with :meth:`to_proto`), or a parameter named like
                a register, constant or keyword (``q``, ``pi``, ``gate``...).
        """
        clash = sorted(set(self._parameters) & _QASM_RESERVED)
        if clash:
            raise ValueError(f"parameter name(s) {clash} clash with OpenQASM 3 names; rename them")
        lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
        if self.name:
            lines.append(f"// {self.name}")
        used = {i.name for i in self._instructions}
        for gate in sorted(used):
            if gate in _NON_UNITARY or gate in _STDGATES or gate in _QASM_RENAMES:
                continue
            if gate not in _QASM_DEFINITIONS:
                raise ValueError(f"gate {gate!r} has no OpenQASM 3 standard-library spelling; "
                                 "submit this circuit with to_proto() instead")
            lines.append(_QASM_DEFINITIONS[gate])
        lines += [f"input float[64] {name};" for name in self._parameters]
        lines.append(f"qubit[{self.qubit_count}] q;")
        if self._clbit_count:
            lines.append(f"bit[{self._clbit_count}] c;")
        for inst in self._instructions:
            operands = ", ".join(f"q[{q}]" for q in inst.qubits)
            if inst.name == "measure":
                pairs = zip(inst.qubits, inst.clbits, strict=True)
                lines += [f"c[{c}] = measure q[{q}];" for q, c in pairs]
            elif inst.name in ("barrier", "reset"):
                lines.append(f"{inst.name} {operands};")
            else:
                gate = _QASM_RENAMES.get(inst.name, inst.name)
                args = f"({', '.join(str(p) for p in inst.params)})" if inst.params else ""
                lines.append(f"{gate}{args} {operands};")
        return "\n".join(lines) + "\n"
