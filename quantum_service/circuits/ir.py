"""qcore's circuit intermediate representation.

A :class:`Circuit` is an immutable list of :class:`Operation` on ``qubit_count`` qubits. Gate
parameters are :class:`ParameterExpression` objects: affine forms
``constant + sum_k coefficient_k * symbol_k`` over named symbolic parameters. Affine forms are what
OpenQASM programs write in practice (``theta``, ``-theta/2``, ``pi/2 + 2*theta``), keep every
parametric gate shift-rule differentiable (the chain rule needs only the coefficients), and let a
session rebind values without recompiling.

Conventions (used everywhere in qcore):

* qubit ``q`` is bit ``q`` of a basis-state index (qubit 0 is the least-significant bit);
* a gate matrix on ``(q_0, q_1, ...)`` is written in the textbook basis where the *first* listed
  qubit is the *most* significant bit, so ``cx`` on ``(control, target)`` is
  ``[[1,0,0,0],[0,1,0,0],[0,0,0,1],[0,0,1,0]]``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from quantum_service.errors import InvalidProgramError

__all__ = ["Circuit", "Condition", "MAX_CONDITION_CLBITS", "Operation", "ParameterExpression",
           "NON_UNITARY_OPERATIONS"]

#: Operations that are not unitary gates.
NON_UNITARY_OPERATIONS = frozenset({"measure", "barrier", "reset"})


@dataclass(frozen=True, slots=True)
class ParameterExpression:
    """An affine expression ``constant + sum(coefficient * symbol)``.

    ``terms`` holds ``(symbol, coefficient)`` pairs sorted by symbol, without zero coefficients,
    so two equal expressions compare equal.
    """

    constant: float = 0.0
    terms: tuple[tuple[str, float], ...] = ()

    @staticmethod
    def symbol(name: str) -> ParameterExpression:
        """The expression ``1.0 * name``."""
        return ParameterExpression(0.0, ((name, 1.0),))

    @staticmethod
    def of(value: float | ParameterExpression) -> ParameterExpression:
        """Wraps a number as a constant expression; returns expressions unchanged."""
        if isinstance(value, ParameterExpression):
            return value
        return ParameterExpression(float(value))

    @property
    def is_constant(self) -> bool:
        return not self.terms

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.terms)

    def bind(self, values: Mapping[str, float]) -> float:
        """Evaluates the expression.

        Raises:
            InvalidProgramError: a symbol has no value.
        """
        total = self.constant
        for name, coefficient in self.terms:
            try:
                total += coefficient * values[name]
            except KeyError:
                raise InvalidProgramError(f"parameter {name!r} has no value") from None
        return total

    def _combine(self, other: ParameterExpression, sign: float) -> ParameterExpression:
        coefficients = dict(self.terms)
        for name, coefficient in other.terms:
            coefficients[name] = coefficients.get(name, 0.0) + sign * coefficient
        return ParameterExpression(
            self.constant + sign * other.constant,
            tuple(sorted((n, c) for n, c in coefficients.items() if c != 0.0)),
        )

    def __add__(self, other: float | ParameterExpression) -> ParameterExpression:
        return self._combine(ParameterExpression.of(other), 1.0)

    __radd__ = __add__

    def __sub__(self, other: float | ParameterExpression) -> ParameterExpression:
        return self._combine(ParameterExpression.of(other), -1.0)

    def __rsub__(self, other: float | ParameterExpression) -> ParameterExpression:
        return ParameterExpression.of(other)._combine(self, -1.0)

    def __neg__(self) -> ParameterExpression:
        return self * -1.0

    def __mul__(self, factor: float | ParameterExpression) -> ParameterExpression:
        if isinstance(factor, ParameterExpression):
            if factor.is_constant:
                factor = factor.constant
            elif self.is_constant:
                return factor * self.constant
            else:
                raise InvalidProgramError(
                    "a product of two symbolic parameters is not affine; qcore supports "
                    "parameter expressions of the form constant + sum(coefficient * symbol)"
                )
        f = float(factor)
        return ParameterExpression(
            self.constant * f, tuple((n, c * f) for n, c in self.terms if c * f != 0.0)
        )

    __rmul__ = __mul__

    def __truediv__(self, divisor: float | ParameterExpression) -> ParameterExpression:
        if isinstance(divisor, ParameterExpression):
            if not divisor.is_constant:
                raise InvalidProgramError(
                    "division by a symbolic parameter is not affine; qcore supports parameter "
                    "expressions of the form constant + sum(coefficient * symbol)"
                )
            divisor = divisor.constant
        if divisor == 0:
            raise InvalidProgramError("division by zero in a gate parameter")
        return self * (1.0 / float(divisor))

    def __str__(self) -> str:
        parts = [f"{c:g}*{n}" if c != 1.0 else n for n, c in self.terms]
        if self.constant != 0.0 or not parts:
            parts.append(f"{self.constant:g}")
        return " + ".join(parts)


#: Most classical bits one :class:`Condition` reads (its value is a 64-bit register value).
MAX_CONDITION_CLBITS = 64


@dataclass(frozen=True, slots=True)
class Condition:
    """Classical condition of an operation: it runs when ``(value in values) != negated``, where
    ``value = sum(bit(clbits[i]) << i)`` is read from the classical bits at that point of the shot.

    This is the classical feed-forward of dynamic circuits (OpenQASM 2 ``if (c == n)``,
    OpenQASM 3 ``if (...) { } else { }``; Cross et al., ACM TQC 3, 12 (2022), §3.6).

    Attributes:
        clbits: the bits read, least significant first; 1 to :data:`MAX_CONDITION_CLBITS`
            distinct non-negative indices.
        values: the accepted register values, each in ``[0, 2**len(clbits))``.
        negated: run when the value is *not* accepted (an ``else`` branch).
    Raises:
        InvalidProgramError: no clbits, too many, repeated or negative ones, or a value out of
            range.
    """

    clbits: tuple[int, ...]
    values: frozenset[int]
    negated: bool = False

    def __post_init__(self) -> None:
        clbits = tuple(int(c) for c in self.clbits)
        if not 1 <= len(clbits) <= MAX_CONDITION_CLBITS:
            raise InvalidProgramError(
                f"a condition reads 1 to {MAX_CONDITION_CLBITS} classical bits, got "
                f"{len(clbits)}")
        if len(set(clbits)) != len(clbits) or min(clbits) < 0:
            raise InvalidProgramError(f"a condition's clbits must be distinct and >= 0, got "
                                      f"{list(clbits)}")
        values = frozenset(int(v) for v in self.values)
        limit = 1 << len(clbits)
        bad = sorted(v for v in values if not 0 <= v < limit)
        if bad:
            raise InvalidProgramError(
                f"condition value(s) {bad[:4]} are out of range for {len(clbits)} bit(s) "
                f"(0 to {limit - 1})")
        object.__setattr__(self, "clbits", clbits)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "negated", bool(self.negated))

    def value(self, register: int) -> int:
        """The value the condition reads from ``register`` (bit ``c`` = clbit ``c``)."""
        return sum(((register >> c) & 1) << i for i, c in enumerate(self.clbits))

    def holds(self, register: int) -> bool:
        """Whether the operation runs, given all clbits of the shot as one int (bit ``c`` =
        clbit ``c``)."""
        return (self.value(register) in self.values) != self.negated

    def inverted(self) -> Condition:
        """The condition of the ``else`` branch."""
        return Condition(self.clbits, self.values, not self.negated)


@dataclass(frozen=True, slots=True)
class Operation:
    """One gate, measurement, reset or barrier.

    Attributes:
        name: lower-case gate name from :mod:`quantum_service.circuits.gates`, or one of
            ``measure``, ``reset``, ``barrier``.
        qubits: qubit indices, in the gate's matrix order (see the module docstring).
        params: gate parameters (radians).
        clbits: for ``measure``, the classical bit receiving each qubit's outcome.
        condition: classical condition (feed-forward); ``None`` runs unconditionally.
    """

    name: str
    qubits: tuple[int, ...]
    params: tuple[ParameterExpression, ...] = ()
    clbits: tuple[int, ...] = ()
    condition: Condition | None = None

    @property
    def is_parametric(self) -> bool:
        return any(not p.is_constant for p in self.params)

    def bound_params(self, values: Mapping[str, float]) -> tuple[float, ...]:
        return tuple(p.bind(values) for p in self.params)


@dataclass(frozen=True, slots=True)
class Circuit:
    """An immutable quantum circuit.

    Attributes:
        qubit_count: number of qubits, >= 1.
        operations: the operations in execution order.
        clbit_count: number of classical bits written by ``measure``.
        parameters: the symbolic parameter names, in the order of a parameter vector. Every
            symbol used by an operation is listed; a listed name need not be used.
        name: free-form label.
    """

    qubit_count: int
    operations: tuple[Operation, ...] = ()
    clbit_count: int = 0
    parameters: tuple[str, ...] = ()
    name: str = ""
    _symbol_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        used = {name for op in self.operations for p in op.params if p.terms
                for name, _ in p.terms}
        object.__setattr__(self, "_symbol_set", frozenset(self.parameters))
        missing = used - self._symbol_set
        if missing:
            # Symbols first seen in the operations are appended in sorted order.
            object.__setattr__(self, "parameters", self.parameters + tuple(sorted(missing)))
            object.__setattr__(self, "_symbol_set", frozenset(self.parameters))

    @property
    def parameter_count(self) -> int:
        return len(self.parameters)

    @property
    def gate_count(self) -> int:
        return sum(1 for op in self.operations if op.name not in NON_UNITARY_OPERATIONS)

    def parameter_map(self, values: Sequence[float] | Mapping[str, float]) -> dict[str, float]:
        """Maps a parameter vector (or a name→value mapping) onto the circuit's symbols.

        Raises:
            InvalidProgramError: wrong number of values, a missing name, or a non-finite value.
        """
        if isinstance(values, Mapping):
            missing = self._symbol_set - set(values)
            if missing:
                raise InvalidProgramError(f"no value for parameter(s) {sorted(missing)}")
            mapping = {name: float(values[name]) for name in self.parameters}
        else:
            if len(values) != len(self.parameters):
                raise InvalidProgramError(
                    f"expected {len(self.parameters)} parameter value(s) for "
                    f"{list(self.parameters)}, got {len(values)}"
                )
            mapping = {name: float(v) for name, v in zip(self.parameters, values)}
        bad = [name for name, v in mapping.items() if not math.isfinite(v)]
        if bad:
            raise InvalidProgramError(f"parameter(s) {bad} are not finite numbers")
        return mapping

    def bind(self, values: Sequence[float] | Mapping[str, float]) -> Circuit:
        """Returns the circuit with every parameter replaced by its value."""
        mapping = self.parameter_map(values)
        ops = tuple(
            Operation(op.name, op.qubits,
                      tuple(ParameterExpression(p.bind(mapping)) for p in op.params),
                      op.clbits, op.condition)
            if op.is_parametric else op
            for op in self.operations
        )
        return Circuit(self.qubit_count, ops, self.clbit_count, (), self.name)

    def with_operations(self, operations: Iterable[Operation], *, qubit_count: int | None = None
                        ) -> Circuit:
        """A copy with other operations (and optionally another width), same parameters."""
        return Circuit(
            self.qubit_count if qubit_count is None else qubit_count,
            tuple(operations), self.clbit_count, self.parameters, self.name,
        )

    @property
    def is_dynamic(self) -> bool:
        """True when the circuit needs dynamic-circuit support: see :meth:`dynamic_feature`."""
        return self.dynamic_feature() is not None

    def dynamic_feature(self) -> str | None:
        """What makes the circuit dynamic, in words, or ``None``: a conditional operation, an
        operation on a qubit after it was measured (mid-circuit measurement), or a ``reset``
        after a gate on its qubit (mid-circuit reset; a reset before any gate is a no-op since
        qubits start in ``|0>``). ``barrier`` counts as nothing."""
        measured: set[int] = set()
        touched: set[int] = set()
        for op in self.operations:
            if op.condition is not None:
                return f"conditional operation {op.name!r} on qubit(s) {list(op.qubits)}"
            if op.name == "barrier":
                continue
            if op.name == "measure":
                measured.update(op.qubits)
                continue
            if measured & set(op.qubits):
                return (f"{op.name!r} on qubit(s) {sorted(measured & set(op.qubits))} after "
                        "they were measured (mid-circuit measurement)")
            if op.name == "reset":
                if touched & set(op.qubits):
                    return (f"reset of qubit(s) {sorted(touched & set(op.qubits))} after a gate "
                            "(mid-circuit reset)")
                continue
            touched.update(op.qubits)
        return None

    @property
    def measured_qubits(self) -> tuple[int, ...]:
        """Qubits measured by ``measure`` operations, ordered by classical bit."""
        pairs = sorted(
            (c, q) for op in self.operations if op.name == "measure"
            for q, c in zip(op.qubits, op.clbits)
        )
        return tuple(q for _, q in pairs)
