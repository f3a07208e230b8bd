"""OpenQASM 2 and 3 programs to and from qcore circuits.

:func:`parse_qasm` reads OpenQASM 2.0 (Cross et al., arXiv:1707.03429) and OpenQASM 3
(openqasm.com) text with the reference ANTLR parser of the ``openqasm3`` package and translates
its AST into a :class:`~quantum_service.circuits.ir.Circuit`. OpenQASM 2 is parsed by the same
grammar (its ``OPENQASM 2.0;`` header, ``qreg``/``creg``, ``measure q -> c``, ``U`` and ``CX`` are
accepted as they are); the one OpenQASM 2 statement the grammar lacks, ``opaque``, is reported as
unsupported. No text is rewritten before parsing.

What is translated:

* ``include "qelib1.inc"`` / ``"stdgates.inc"`` (built in; no file is read). Every gate of
  :mod:`~quantum_service.circuits.gates` is in scope with or without them (qcore's native gates
  ``r``, ``ryy``, ``ecr``, ``iswap``, ... are extensions of both files). The library gates are
  their matrices in ``gates.py``; e.g. ``u3`` is exactly ``U``.
* ``qreg``/``qubit[n]``/``qubit`` and ``creg``/``bit[n]``/``bit``/``output bit`` declarations,
  flattened in declaration order into one qubit and one clbit index space; or physical qubits
  ``$k`` (qubit ``k``), not mixed with declared ones.
* Gate calls with indexing (``q[1]``, ``q[-1]``, ranges ``q[start:stop]`` and
  ``q[start:step:stop]`` with an inclusive stop, sets ``q[{0, 2}]``) and broadcasting over
  equal-size registers; ``U``, ``CX``, ``gphase`` (a global
  phase, dropped), the modifiers ``inv @``, ``pow(k) @``, ``ctrl(n) @``, ``negctrl(n) @`` where the
  result is a library gate (see :mod:`~quantum_service.circuits.qasm_library`).
* ``gate`` definitions, expanded inline at each call (at most :data:`MAX_OPERATIONS` operations
  in all). A definition named like a library gate
  whose unitary equals the library matrix (exactly in OpenQASM 3; up to a global phase in
  OpenQASM 2, which has no ``ctrl``) is recorded as that library gate instead of being expanded.
* ``measure`` (one operation per qubit), ``reset`` (one per qubit), ``barrier`` (no operand: all
  qubits). Pragmas and annotations are ignored.
* Parameters: ``input float[64] θ;`` / ``input angle θ;`` declare symbolic parameters (in
  declaration order); ``pi π tau τ euler ℇ`` (OpenQASM 2: ``pi``) and ``const`` declarations are
  constants; ``+ - * /`` and unary minus give affine
  :class:`~quantum_service.circuits.ir.ParameterExpression`; ``**``, ``%`` and the functions
  ``sin cos tan arcsin arccos arctan exp ln log sqrt floor ceiling pow`` are evaluated on constants.

Everything else (classical control flow, subroutines, ``opaque``, ``defcal``, ``box``, ``delay``,
classical variables, ...) raises :class:`InvalidProgramError` with reason ``UNSUPPORTED_QASM``;
syntax errors raise it with reason ``QASM_SYNTAX_ERROR``; unknown gates with ``UNKNOWN_GATE``.
Messages name the construct and the line.

:func:`to_qasm3` writes a circuit as OpenQASM 3 that :func:`parse_qasm` reads back to an equal
circuit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import openqasm3
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from openqasm3 import ast

# The lexer and parser classes behind ``openqasm3.parse``; used directly so that syntax errors
# raise with ANTLR's message instead of being printed to stderr by the console listener.
from openqasm3._antlr.qasm3Lexer import qasm3Lexer
from openqasm3._antlr.qasm3Parser import qasm3Parser
from openqasm3.parser import QASM3ParsingError, QASMNodeVisitor

from quantum_service.circuits.gates import GATES, gate_matrix, gate_spec
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.circuits.qasm_library import (
    GPHASE,
    QASM3_DEFINITIONS,
    STDGATES,
    UNSUPPORTED,
    control,
    invert,
    power,
    unitary,
)
from quantum_service.errors import InvalidProgramError

__all__ = ["parse_qasm", "to_qasm3", "MAX_OPERATIONS", "MAX_REGISTER_WIDTH"]

#: Upper bound on the operations a program may expand to (nested gates, ``pow``).
MAX_OPERATIONS = 1_000_000
#: Upper bound on the total number of qubits, and of clbits, a program may declare.
MAX_REGISTER_WIDTH = 1 << 20

_SYNTAX = "QASM_SYNTAX_ERROR"
_PE = ParameterExpression
_CONSTANTS_3 = {"pi": math.pi, "π": math.pi, "tau": math.tau, "τ": math.tau,
                "euler": math.e, "ℇ": math.e}
_CONSTANTS_2 = {"pi": math.pi}
_FUNCTIONS: dict[str, tuple[int, Callable[..., float]]] = {
    "sin": (1, math.sin), "cos": (1, math.cos), "tan": (1, math.tan),
    "arcsin": (1, math.asin), "arccos": (1, math.acos), "arctan": (1, math.atan),
    "exp": (1, math.exp), "ln": (1, math.log), "log": (1, math.log), "sqrt": (1, math.sqrt),
    "floor": (1, math.floor), "ceiling": (1, math.ceil), "pow": (2, math.pow),
}
_INCLUDES = frozenset({"qelib1.inc", "stdgates.inc"})

_UNSUPPORTED_STATEMENTS: dict[type, str] = {
    ast.BranchingStatement: "if statement (classical control flow)",
    ast.ForInLoop: "for loop",
    ast.WhileLoop: "while loop",
    ast.SwitchStatement: "switch statement",
    ast.SubroutineDefinition: "subroutine definition (def)",
    ast.ReturnStatement: "return statement",
    ast.BreakStatement: "break statement",
    ast.ContinueStatement: "continue statement",
    ast.EndStatement: "end statement",
    ast.CalibrationDefinition: "defcal calibration",
    ast.CalibrationStatement: "cal block",
    ast.CalibrationGrammarDeclaration: "defcalgrammar declaration",
    ast.Box: "box statement",
    ast.DelayInstruction: "delay instruction",
    ast.ExternDeclaration: "extern declaration",
    ast.AliasStatement: "alias (let) statement",
    ast.ClassicalAssignment: "classical assignment",
    ast.ExpressionStatement: "expression statement (e.g. a subroutine call)",
}
_CONTROL_FLOW = frozenset({
    ast.BranchingStatement, ast.ForInLoop, ast.WhileLoop, ast.SwitchStatement,
    ast.BreakStatement, ast.ContinueStatement, ast.EndStatement,
})


def parse_qasm(text: str, *, name: str = "") -> Circuit:
    """Translates an OpenQASM 2 or 3 program into a circuit.

    Args:
        text: the program source. Without a version line it is read as OpenQASM 3.
        name: the circuit's label.
    Returns:
        A :class:`Circuit` whose ``parameters`` are the program's ``input`` declarations in order.
    Raises:
        InvalidProgramError: reason ``QASM_SYNTAX_ERROR`` (with line and column),
            ``UNSUPPORTED_QASM`` (a construct qcore does not translate), ``UNKNOWN_GATE``, or the
            default reason for other errors (undeclared register, index out of range, wrong
            number of qubits or parameters, no qubits, more than :data:`MAX_OPERATIONS`
            operations or :data:`MAX_REGISTER_WIDTH` qubits).
    """
    program = _parse_program(text)
    version = (program.version or "3").split(".")[0]
    if version not in ("2", "3"):
        raise InvalidProgramError(
            f"OpenQASM version {program.version} is not supported; use 2.0 or 3",
            reason=UNSUPPORTED)
    return _Translator(qasm2=version == "2").translate(program, name=name)


# --------------------------------------------------------------------------- front end


class _RaisingErrorListener(ErrorListener):
    """Turns the first lexer or parser error into an :class:`InvalidProgramError`."""

    def syntaxError(self, recognizer: object, offendingSymbol: object, line: int, column: int,
                    msg: str, e: object) -> None:
        raise _syntax_error(line, column, msg)


def _syntax_error(line: int, column: int, message: str) -> InvalidProgramError:
    # ANTLR columns are 0-based; messages give 1-based columns.
    return InvalidProgramError(
        f"OpenQASM syntax error at line {line}, column {column + 1}: {message}", reason=_SYNTAX)


_VISITOR_ERROR = re.compile(r"L(\d+):C(\d+): (.*)", re.S)
_OPAQUE = re.compile(r"(?:^|[;{}])\s*opaque\b", re.M)


def _parse_program(text: str) -> ast.Program:
    """``openqasm3.parse`` with errors raised as :class:`InvalidProgramError`."""
    lexer = qasm3Lexer(InputStream(text))
    parser = qasm3Parser(CommonTokenStream(lexer))
    for recognizer in (lexer, parser):
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(_RaisingErrorListener())
    error: InvalidProgramError
    try:
        return QASMNodeVisitor().visitProgram(parser.program())
    except InvalidProgramError as exc:
        error = exc
    except QASM3ParsingError as exc:  # checks made while building the AST
        match = _VISITOR_ERROR.match(str(exc))
        error = (_syntax_error(int(match[1]), int(match[2]), match[3]) if match else
                 InvalidProgramError(f"OpenQASM syntax error: {exc}", reason=_SYNTAX))
    except RecursionError:
        error = InvalidProgramError("the program nests expressions too deeply", reason=_SYNTAX)
    opaque = _OPAQUE.search(_strip_comments(text))
    if opaque is not None:
        line = _strip_comments(text).count("\n", 0, opaque.end()) + 1
        error = InvalidProgramError(
            f"line {line}: opaque gate declarations are not supported: qcore needs the "
            "definition (or a library gate) to simulate a gate", reason=UNSUPPORTED)
    raise InvalidProgramError(str(error), reason=error.reason) from None


def _strip_comments(text: str) -> str:
    """The text with comments blanked, line numbers kept."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m[0].count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _text(node: ast.QASMNode) -> str:
    try:
        return openqasm3.dumps(node).strip().rstrip(";")
    except Exception:  # noqa: BLE001 - the printer does not cover every node; a label suffices
        return type(node).__name__


# --------------------------------------------------------------------------- translation


@dataclass(frozen=True, slots=True)
class _Register:
    offset: int
    size: int
    scalar: bool  # declared without a size (``qubit q;``): not indexable, not broadcast


@dataclass(frozen=True, slots=True)
class _Operand:
    indices: tuple[int, ...]
    register: bool  # broadcast over ``indices`` (a whole register, a range or a set)


@dataclass(frozen=True, slots=True)
class _GateDefinition:
    name: str
    params: tuple[str, ...]
    qubits: tuple[str, ...]
    body: tuple[ast.Statement, ...]
    visible: Mapping[str, _GateDefinition]  # user gates defined before this one
    library_name: str | None = None  # set when the body equals this library gate


class _TooLarge(InvalidProgramError):
    """A gate call or program expands past the operation limit."""


# Expansion limit when checking a gate definition at its declaration.
_TRIAL_LIMIT = 2_000
# Expansions up to this size are cached per (gate, arguments).
_CACHED_EXPANSION_SIZE = 10_000


def _unsupported(message: str) -> InvalidProgramError:
    return InvalidProgramError(message, reason=UNSUPPORTED)


def _non_affine(node: ast.QASMNode) -> InvalidProgramError:
    return _unsupported(
        f"non-affine parameter expression '{_text(node)}' is unsupported: qcore gate "
        "parameters are affine forms constant + sum(coefficient * symbol)")


class _Translator:
    """Walks the AST of one program and collects its circuit."""

    def __init__(self, *, qasm2: bool) -> None:
        self._qasm2 = qasm2
        constants = _CONSTANTS_2 if qasm2 else _CONSTANTS_3
        self._consts: dict[str, _PE] = {k: _PE(v) for k, v in constants.items()}
        self._scope: dict[str, _PE] = dict(self._consts)  # consts and inputs
        self._names: set[str] = set(self._consts)
        self._qregs: dict[str, _Register] = {}
        self._cregs: dict[str, _Register] = {}
        self._qubit_count = 0
        self._clbit_count = 0
        self._physical: set[int] = set()
        self._parameters: list[str] = []
        self._gates: dict[str, _GateDefinition] = {}
        self._ops: list[Operation] = []
        self._limit = MAX_OPERATIONS  # operations one gate call may expand to
        # (gate name, arguments) -> the gate's operations on qubits 0, 1, ...
        self._expansions: dict[tuple[str, tuple[_PE, ...]], list[Operation]] = {}

    def translate(self, program: ast.Program, *, name: str) -> Circuit:
        for statement in program.statements:
            self._located(statement)
        if self._physical:
            qubit_count = max(self._physical) + 1
        elif self._qubit_count:
            qubit_count = self._qubit_count
        else:
            raise InvalidProgramError("the program declares no qubits (add e.g. `qubit[2] q;`)")
        return Circuit(qubit_count, tuple(self._ops), self._clbit_count,
                       tuple(self._parameters), name)

    # -- statements

    def _located(self, statement: ast.Statement | ast.Pragma) -> None:
        """Translates one statement; errors get its line."""
        try:
            self._statement(statement)
        except InvalidProgramError as exc:
            if getattr(exc, "qasm_line", None) is not None:
                raise
            line = statement.span.start_line if statement.span is not None else "?"
            located = InvalidProgramError(f"line {line}: {exc}", reason=exc.reason)
            located.qasm_line = line  # type: ignore[attr-defined]
            raise located from None

    def _statement(self, node: ast.Statement | ast.Pragma) -> None:
        if isinstance(node, ast.Pragma):
            return
        if isinstance(node, ast.CompoundStatement):
            for inner in node.statements:
                self._located(inner)
        elif isinstance(node, ast.Include):
            if node.filename not in _INCLUDES:
                raise _unsupported(
                    f'include "{node.filename}" is not available: qcore provides only '
                    '"qelib1.inc" and "stdgates.inc"; define other gates in the program')
        elif isinstance(node, ast.QubitDeclaration):
            self._declare_qubits(node.qubit.name, node.size)
        elif isinstance(node, ast.ClassicalDeclaration):
            self._classical_declaration(node)
        elif isinstance(node, ast.IODeclaration):
            self._io_declaration(node)
        elif isinstance(node, ast.ConstantDeclaration):
            value = self._expr(node.init_expression, self._scope)
            if not value.is_constant:
                raise InvalidProgramError(
                    f"const '{node.identifier.name}' must be initialised with a constant "
                    f"expression, got '{_text(node.init_expression)}'")
            self._declare(node.identifier.name)
            self._consts[node.identifier.name] = value
            self._scope[node.identifier.name] = value
        elif isinstance(node, ast.QuantumGateDefinition):
            self._define_gate(node)
        elif isinstance(node, ast.QuantumGate):
            self._gate_statement(node)
        elif isinstance(node, ast.QuantumPhase):
            argument = self._expr(node.argument, self._scope)
            operands = [self._qubit_operand(q) for q in node.qubits]
            for qubits in self._broadcast(operands):
                self._emit(self._call(GPHASE, node.modifiers, [argument], qubits,
                                      self._gates, self._scope))
        elif isinstance(node, ast.QuantumMeasurementStatement):
            if node.target is None:
                raise _unsupported("measure without a target bit (write `c[0] = measure q[0];`)")
            self._measure(node.measure.qubit, node.target)
        elif isinstance(node, ast.QuantumReset):
            for q in self._qubit_operand(node.qubits).indices:
                self._ops.append(Operation("reset", (q,)))
        elif isinstance(node, ast.QuantumBarrier):
            qubits = [q for operand in node.qubits for q in self._qubit_operand(operand).indices]
            if not node.qubits:
                qubits = sorted(self._physical) if self._physical else list(
                    range(self._qubit_count))
            if qubits:
                self._ops.append(Operation("barrier", tuple(dict.fromkeys(qubits))))
        else:
            what = _UNSUPPORTED_STATEMENTS.get(type(node), type(node).__name__)
            hint = (": qcore circuits are gate sequences without classical control"
                    if type(node) in _CONTROL_FLOW else "")
            raise _unsupported(f"{what} is not supported{hint}")

    def _classical_declaration(self, node: ast.ClassicalDeclaration) -> None:
        name = node.identifier.name
        if not isinstance(node.type, ast.BitType):
            raise _unsupported(
                f"classical variable '{_text(node.type)} {name}' is not supported; declare "
                f"gate parameters with `input float[64] {name};` or `const`")
        self._declare_bits(name, node.type.size)
        if isinstance(node.init_expression, ast.QuantumMeasurement):
            self._measure(node.init_expression.qubit, node.identifier)
        elif node.init_expression is not None:
            raise _unsupported(f"initialising bit '{name}' with a classical value")

    def _io_declaration(self, node: ast.IODeclaration) -> None:
        name = node.identifier.name
        if node.io_identifier == ast.IOKeyword.output:
            if not isinstance(node.type, ast.BitType):
                raise _unsupported(f"output of type {_text(node.type)} (only bit outputs)")
            self._declare_bits(name, node.type.size)
            return
        if self._qasm2:
            raise InvalidProgramError(
                f"`input` is OpenQASM 3 but the program declares OPENQASM 2.0; use "
                f"OPENQASM 3.0 to declare the symbolic parameter '{name}'")
        if not isinstance(node.type, ast.FloatType | ast.AngleType):
            raise _unsupported(
                f"input '{name}' of type {_text(node.type)}: symbolic parameters are "
                "`input float[64]` or `input angle`")
        self._declare(name)
        self._parameters.append(name)
        self._scope[name] = _PE.symbol(name)

    # -- declarations and operands

    def _declare(self, name: str) -> None:
        if name in self._names:
            raise InvalidProgramError(f"'{name}' is already declared")
        self._names.add(name)

    def _declare_qubits(self, name: str, size: ast.Expression | None) -> None:
        if self._physical:
            raise InvalidProgramError(
                f"qubit register '{name}' declared in a program that uses physical qubits ($n); "
                "use one or the other")
        width = 1 if size is None else self._size(size)
        if self._qubit_count + width > MAX_REGISTER_WIDTH:
            raise InvalidProgramError(f"more than {MAX_REGISTER_WIDTH} qubits declared")
        self._declare(name)
        self._qregs[name] = _Register(self._qubit_count, width, size is None)
        self._qubit_count += width

    def _declare_bits(self, name: str, size: ast.Expression | None) -> None:
        width = 1 if size is None else self._size(size)
        if self._clbit_count + width > MAX_REGISTER_WIDTH:
            raise InvalidProgramError(f"more than {MAX_REGISTER_WIDTH} bits declared")
        self._declare(name)
        self._cregs[name] = _Register(self._clbit_count, width, size is None)
        self._clbit_count += width

    def _size(self, node: ast.Expression) -> int:
        size = self._integer(node, self._scope, what="register size")
        if size < 1:
            raise InvalidProgramError(f"register size must be >= 1, got {size}")
        return size

    def _qubit_operand(self, node: ast.QASMNode) -> _Operand:
        if isinstance(node, ast.Identifier) and node.name.startswith("$"):
            if self._qregs:
                raise InvalidProgramError(
                    f"physical qubit {node.name} used in a program that declares qubit "
                    "registers; use one or the other")
            index = int(node.name[1:])
            self._physical.add(index)
            return _Operand((index,), register=False)
        return self._operand(node, self._qregs, "qubit")

    def _operand(self, node: ast.QASMNode, registers: Mapping[str, _Register],
                 kind: str) -> _Operand:
        if isinstance(node, ast.Identifier):
            register = self._register(node.name, registers, kind)
            return _Operand(tuple(range(register.offset, register.offset + register.size)),
                            register=not register.scalar)
        if not isinstance(node, ast.IndexedIdentifier):
            raise InvalidProgramError(f"'{_text(node)}' is not a {kind} operand")
        name = node.name.name
        register = self._register(name, registers, kind)
        if register.scalar:
            raise InvalidProgramError(f"'{name}' is a single {kind} and cannot be indexed")
        if len(node.indices) != 1 or (isinstance(node.indices[0], list)
                                      and len(node.indices[0]) != 1):
            raise InvalidProgramError(f"'{_text(node)}': {kind} registers are one-dimensional")
        index = node.indices[0]
        if isinstance(index, ast.DiscreteSet):
            positions = [self._integer(v, self._scope, what="index") for v in index.values]
            broadcast = True
        elif isinstance(index[0], ast.RangeDefinition):
            positions = self._range(index[0], register.size)
            broadcast = True
        else:
            positions = [self._integer(index[0], self._scope, what="index")]
            broadcast = False
        indices = []
        for position in positions:
            normalized = position + register.size if position < 0 else position
            if not 0 <= normalized < register.size:
                raise InvalidProgramError(
                    f"{kind} index {position} is out of range for register '{name}' of size "
                    f"{register.size}")
            indices.append(register.offset + normalized)
        if not indices:
            raise InvalidProgramError(f"'{_text(node)}' selects no {kind}s")
        return _Operand(tuple(indices), register=broadcast)

    def _register(self, name: str, registers: Mapping[str, _Register], kind: str) -> _Register:
        try:
            return registers[name]
        except KeyError:
            declared = ", ".join(sorted(registers)) or "none"
            raise InvalidProgramError(
                f"'{name}' is not a declared {kind} register (declared: {declared})") from None

    def _range(self, node: ast.RangeDefinition, size: int) -> list[int]:
        def bound(expr: ast.Expression | None, default: int) -> int:
            if expr is None:
                return default
            value = self._integer(expr, self._scope, what="range bound")
            return value + size if value < 0 else value

        start, end = bound(node.start, 0), bound(node.end, size - 1)
        step = 1 if node.step is None else self._integer(node.step, self._scope, what="step")
        if step == 0:
            raise InvalidProgramError("a range step must not be 0")
        return list(range(start, end + (1 if step > 0 else -1), step))  # inclusive end

    @staticmethod
    def _broadcast(operands: Sequence[_Operand]) -> list[tuple[int, ...]]:
        sizes = sorted({len(o.indices) for o in operands if o.register})
        if len(sizes) > 1:
            raise InvalidProgramError(
                f"cannot broadcast over registers of different sizes {sizes}")
        count = sizes[0] if sizes else 1
        return [tuple(o.indices[i] if o.register else o.indices[0] for o in operands)
                for i in range(count)]

    def _measure(self, qubit_node: ast.QASMNode, bit_node: ast.QASMNode) -> None:
        qubits = self._qubit_operand(qubit_node).indices
        bits = self._operand(bit_node, self._cregs, "bit").indices
        if len(qubits) != len(bits):
            raise InvalidProgramError(
                f"measure of {len(qubits)} qubit(s) into {len(bits)} bit(s); sizes must match")
        for q, c in zip(qubits, bits):
            self._ops.append(Operation("measure", (q,), clbits=(c,)))

    def _emit(self, ops: Iterable[Operation]) -> None:
        self._ops.extend(op for op in ops if op.name != GPHASE)
        if len(self._ops) > MAX_OPERATIONS:
            raise _TooLarge(f"the program expands to more than {MAX_OPERATIONS} operations")

    # -- gates

    def _gate_statement(self, node: ast.QuantumGate) -> None:
        if node.duration is not None:
            raise _unsupported(f"gate durations ('{_text(node)}')")
        args = [self._expr(a, self._scope) for a in node.arguments]
        operands = [self._qubit_operand(q) for q in node.qubits]
        for qubits in self._broadcast(operands):
            self._emit(self._call(node.name.name, node.modifiers, args, qubits, self._gates,
                                  self._scope))

    def _call(self, name: str, modifiers: Sequence[ast.QuantumGateModifier],
              args: Sequence[_PE], qubits: tuple[int, ...],
              gates: Mapping[str, _GateDefinition], scope: Mapping[str, _PE]
              ) -> list[Operation]:
        """The operations of one (modified) gate call on resolved qubits."""
        duplicates = sorted({q for q in qubits if qubits.count(q) > 1})
        if duplicates:
            raise InvalidProgramError(f"gate '{name}' uses qubit(s) {duplicates} more than once")
        plan: list[tuple[str, tuple[int, ...] | float | None]] = []
        position = 0
        for modifier in modifiers:
            kind = modifier.modifier.name
            if kind in ("ctrl", "negctrl"):
                count = 1 if modifier.argument is None else self._integer(
                    modifier.argument, scope, what=f"{kind} count")
                if count < 1 or position + count > len(qubits):
                    raise InvalidProgramError(
                        f"{kind}({count}) @ {name}: needs {count} control qubit(s) among the "
                        f"{len(qubits)} operand(s)")
                plan.append((kind, qubits[position:position + count]))
                position += count
            elif kind == "pow":
                plan.append(("pow", self._constant(modifier.argument, scope, what="pow exponent")))
            else:
                plan.append(("inv", None))
        ops = self._base_ops(name, args, qubits[position:], gates)
        i = len(plan) - 1
        while i >= 0:  # the modifier next to the gate applies first
            kind, value = plan[i]
            if kind == "inv":
                ops, i = invert(ops), i - 1
            elif kind == "pow":
                assert isinstance(value, float)
                ops, i = power(ops, value, max_operations=self._limit), i - 1
            else:  # adjacent ctrl/negctrl modifiers: one multi-controlled gate
                j = i
                while j > 0 and plan[j - 1][0] in ("ctrl", "negctrl"):
                    j -= 1
                group = plan[j:i + 1]
                controls = tuple(q for _, qs in group for q in qs)  # type: ignore[union-attr]
                negated = tuple(q for k, qs in group if k == "negctrl"
                                for q in qs)  # type: ignore[union-attr]
                ops, i = control(ops, controls, negated=negated), j - 1
            if len(ops) > self._limit:
                raise _TooLarge(f"gate '{name}' expands to more than {self._limit} operations")
        return ops

    def _base_ops(self, name: str, args: Sequence[_PE], qubits: tuple[int, ...],
                  gates: Mapping[str, _GateDefinition]) -> list[Operation]:
        """The operations of an unmodified gate call."""
        if name == GPHASE:  # qubit operands of an unmodified gphase do not matter
            return [Operation(GPHASE, (), tuple(args))]
        definition = gates.get(name)
        if definition is not None:
            _check_signature(name, len(definition.qubits), len(definition.params), qubits, args)
            if definition.library_name is not None:
                return [Operation(definition.library_name, qubits, tuple(args))]
            return self._expand(definition, args, qubits)
        library_name = {"U": "u", "CX": "cx"}.get(name, name)
        spec = gate_spec(library_name)  # UNKNOWN_GATE
        _check_signature(name, spec.qubit_count, spec.param_count, qubits, args)
        return [Operation(library_name, qubits, tuple(args))]

    def _define_gate(self, node: ast.QuantumGateDefinition) -> None:
        name = node.name.name
        if name in self._gates or name in ("U", "CX"):
            raise InvalidProgramError(f"gate '{name}' is already defined")
        params = tuple(p.name for p in node.arguments)
        qubits = tuple(q.name for q in node.qubits)
        for names, what in ((params, "parameter"), (qubits, "qubit argument")):
            if len(set(names)) != len(names):
                raise InvalidProgramError(f"gate '{name}' repeats a {what} name")
        definition = _GateDefinition(name, params, qubits, tuple(node.body), dict(self._gates))
        self._gates[name] = self._as_library_gate(definition) or definition

    def _as_library_gate(self, definition: _GateDefinition) -> _GateDefinition | None:
        """The definition marked as the library gate of its name when their unitaries agree.

        The body is expanded with sample parameter values, which also reports errors in it at
        the definition. With parameters, an error may depend on the values (``pow(a) @``), so
        it is left to the calls.
        """
        name, params, qubits = definition.name, definition.params, definition.qubits
        local = tuple(range(len(qubits)))
        samples = [[0.5772 + 0.6180 * i + 1.1892 * k for i in range(len(params))]
                   for k in range(2)]
        self._limit = _TRIAL_LIMIT
        try:
            expansion = self._expand(definition, [_PE(v) for v in samples[0]], local)
        except _TooLarge:
            return None  # far wider than any library gate; calls check the real size
        except InvalidProgramError:
            if not params:
                raise
            return None
        finally:
            self._limit = MAX_OPERATIONS
        spec = GATES.get(name)
        if spec is None or (spec.qubit_count, spec.param_count) != (len(qubits), len(params)):
            return None
        for k, sample in enumerate(samples):
            if k > 0:
                try:
                    expansion = self._expand(definition, [_PE(v) for v in sample], local)
                except InvalidProgramError:
                    return None
            if not _same_unitary(unitary(expansion, local), gate_matrix(name, sample),
                                 up_to_phase=self._qasm2):
                return None
        return _GateDefinition(name, params, qubits, definition.body, definition.visible,
                               library_name=name)

    def _expand(self, definition: _GateDefinition, args: Sequence[_PE],
                qubits: tuple[int, ...]) -> list[Operation]:
        """A user gate's body on ``qubits`` with its parameters bound to ``args``.

        Small expansions are cached on qubits ``0, 1, ...`` per (gate, arguments) and relabelled
        for each call; larger ones are rebuilt directly on ``qubits``, so that every operation
        of a nested expansion is created once.
        """
        key = (definition.name, tuple(args))
        cached = self._expansions.get(key)
        if cached is not None:
            if len(cached) > self._limit:
                raise _TooLarge(f"gate '{definition.name}' expands to more than "
                                f"{self._limit} operations")
            return _relabel(cached, qubits)
        scope = {**self._consts, **dict(zip(definition.params, args))}
        formal = dict(zip(definition.qubits, qubits))
        ops: list[Operation] = []
        for statement in definition.body:
            ops.extend(self._body_statement(statement, definition, scope, formal))
            if len(ops) > self._limit:
                raise _TooLarge(f"gate '{definition.name}' expands to more than "
                                f"{self._limit} operations")
        if len(ops) <= _CACHED_EXPANSION_SIZE:
            position = {q: i for i, q in enumerate(qubits)}
            self._expansions[key] = _relabel(ops, position)
        return ops

    def _body_statement(self, node: ast.Statement, definition: _GateDefinition,
                        scope: Mapping[str, _PE], formal: Mapping[str, int]) -> list[Operation]:
        def qubit(operand: ast.QASMNode) -> int:
            if isinstance(operand, ast.Identifier) and operand.name in formal:
                return formal[operand.name]
            raise InvalidProgramError(
                f"in gate '{definition.name}': operand '{_text(operand)}' is not one of its "
                f"qubit arguments {list(definition.qubits)}")

        if isinstance(node, ast.QuantumGate):
            if node.duration is not None:
                raise _unsupported(f"gate durations ('{_text(node)}')")
            args = [self._expr(a, scope) for a in node.arguments]
            return self._call(node.name.name, node.modifiers, args,
                              tuple(qubit(q) for q in node.qubits), definition.visible, scope)
        if isinstance(node, ast.QuantumPhase):
            return self._call(GPHASE, node.modifiers, [self._expr(node.argument, scope)],
                              tuple(qubit(q) for q in node.qubits), definition.visible, scope)
        if isinstance(node, ast.QuantumBarrier):
            qubits = [qubit(q) for q in node.qubits] or list(formal.values())
            return [Operation("barrier", tuple(dict.fromkeys(qubits)))]
        what = _UNSUPPORTED_STATEMENTS.get(type(node), type(node).__name__)
        raise _unsupported(f"{what} inside gate '{definition.name}' is not supported")

    # -- expressions

    def _expr(self, node: ast.QASMNode, scope: Mapping[str, _PE]) -> _PE:
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
            return -self._expr(node.expression, scope)
        if isinstance(node, ast.BinaryExpression):
            return self._binary(node, scope)
        if isinstance(node, ast.FunctionCall):
            return self._function(node, scope)
        if isinstance(node, ast.Cast) and isinstance(node.type, ast.FloatType | ast.AngleType):
            return self._expr(node.argument, scope)
        raise _unsupported(f"expression '{_text(node)}' in a gate parameter")

    def _binary(self, node: ast.BinaryExpression, scope: Mapping[str, _PE]) -> _PE:
        lhs, rhs = self._expr(node.lhs, scope), self._expr(node.rhs, scope)
        op = node.op.name
        if lhs.is_constant and rhs.is_constant:
            a, b = lhs.constant, rhs.constant
            operations: dict[str, Callable[[float, float], float]] = {
                "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
                "/": lambda x, y: x / y, "**": lambda x, y: x ** y, "%": math.fmod,
            }
            if op not in operations:
                raise _unsupported(f"operator '{op}' in '{_text(node)}'")
            try:
                value = operations[op](a, b)
            except (ZeroDivisionError, OverflowError, ValueError) as exc:
                raise InvalidProgramError(f"cannot evaluate '{_text(node)}': {exc}") from None
            return _finite(value, node)
        if op == "+":
            return lhs + rhs
        if op == "-":
            return lhs - rhs
        if op == "*" and (lhs.is_constant or rhs.is_constant):
            return lhs * rhs
        if op == "/" and rhs.is_constant:
            if rhs.constant == 0:
                raise InvalidProgramError(f"division by zero in '{_text(node)}'")
            return lhs / rhs.constant
        raise _non_affine(node)

    def _function(self, node: ast.FunctionCall, scope: Mapping[str, _PE]) -> _PE:
        name = node.name.name
        if name not in _FUNCTIONS:
            raise _unsupported(f"function '{name}' (known: {', '.join(sorted(_FUNCTIONS))})")
        arity, fn = _FUNCTIONS[name]
        if len(node.arguments) != arity:
            raise InvalidProgramError(f"{name} takes {arity} argument(s), got "
                                      f"{len(node.arguments)}")
        args = [self._expr(a, scope) for a in node.arguments]
        if any(not a.is_constant for a in args):
            raise _non_affine(node)
        try:
            value = fn(*(a.constant for a in args))
        except (ValueError, OverflowError) as exc:
            raise InvalidProgramError(f"cannot evaluate '{_text(node)}': {exc}") from None
        return _finite(value, node)

    def _constant(self, node: ast.Expression | None, scope: Mapping[str, _PE], *,
                  what: str) -> float:
        if node is None:
            raise InvalidProgramError(f"missing {what}")
        value = self._expr(node, scope)
        if not value.is_constant:
            raise InvalidProgramError(f"{what} '{_text(node)}' must be a constant")
        return value.constant

    def _integer(self, node: ast.Expression, scope: Mapping[str, _PE], *, what: str) -> int:
        value = self._constant(node, scope, what=what)
        if not float(value).is_integer():
            raise InvalidProgramError(f"{what} '{_text(node)}' must be an integer, got {value:g}")
        return int(value)

    def _unknown_identifier(self, name: str) -> str:
        if self._qasm2:
            return (f"unknown identifier '{name}' in a gate parameter (OpenQASM 2 has no "
                    "symbolic parameters; the only constant is pi)")
        return (f"unknown identifier '{name}'; declare a symbolic parameter with "
                f"`input float[64] {name};` or a constant with `const float {name} = ...;`")


def _relabel(ops: Sequence[Operation], qubit_map: Sequence[int] | Mapping[int, int]
             ) -> list[Operation]:
    """``ops`` with qubit ``q`` renamed ``qubit_map[q]``."""
    if isinstance(qubit_map, Sequence) and tuple(qubit_map) == tuple(range(len(qubit_map))):
        return list(ops)
    return [Operation(op.name, tuple(qubit_map[q] for q in op.qubits), op.params, op.clbits)
            for op in ops]


def _check_signature(name: str, qubit_count: int, param_count: int, qubits: Sequence[int],
                     args: Sequence[_PE]) -> None:
    if len(args) != param_count:
        raise InvalidProgramError(
            f"gate '{name}' takes {param_count} parameter(s), got {len(args)}")
    if len(qubits) != qubit_count:
        raise InvalidProgramError(
            f"gate '{name}' acts on {qubit_count} qubit(s), got {len(qubits)}")


def _finite(value: float | complex, node: ast.QASMNode) -> _PE:
    if isinstance(value, complex) or not math.isfinite(value):
        raise InvalidProgramError(f"'{_text(node)}' is not a finite real number")
    return _PE(float(value))


def _same_unitary(a: np.ndarray, b: np.ndarray, *, up_to_phase: bool) -> bool:
    if up_to_phase:
        i = int(np.argmax(np.abs(b)))
        if abs(a.flat[i]) < 1e-9:
            return False
        a = a * (b.flat[i] / a.flat[i])
    return bool(np.allclose(a, b, atol=1e-9))


# --------------------------------------------------------------------------- export

_KEYWORDS = frozenset("""
OPENQASM include defcalgrammar def cal defcal gate extern box let break continue if else end
return for while in switch case default pragma input output const readonly mutable qreg qubit
creg bool bit int uint float angle complex array void duration stretch gphase inv pow ctrl
negctrl dim durationof delay reset measure barrier true false pi π tau τ euler ℇ U CX opaque
sizeof
""".split())


def to_qasm3(circuit: Circuit) -> str:
    """Writes a circuit as an OpenQASM 3 program.

    Parameters become ``input float[64]`` declarations (in order), qubits one register ``q``
    and clbits one register ``c`` (renamed if a parameter takes the name). Gates keep their
    ``stdgates.inc`` names; ``u`` is written as the builtin ``U``; other library gates get an
    inline ``gate`` definition (:data:`~quantum_service.circuits.qasm_library.QASM3_DEFINITIONS`)
    that :func:`parse_qasm` maps back to the library gate. Numbers are written to round-trip
    exactly (``repr``, or a multiple of ``pi`` when that evaluates to the same float), so
    ``parse_qasm(to_qasm3(c), name=c.name) == c`` for a circuit with single-qubit measurements
    and resets.

    Raises:
        InvalidProgramError: a parameter name that is not an OpenQASM identifier or is a
            keyword; an unknown operation, one with the wrong number of qubits or parameters,
            or out of range; a non-finite constant.
    """
    for name in circuit.parameters:
        if not name.isidentifier() or name in _KEYWORDS:
            raise InvalidProgramError(
                f"parameter name {name!r} is not usable as an OpenQASM 3 identifier")
    taken = set(circuit.parameters)
    qreg = _free_name("q", taken)
    creg = _free_name("c", taken | {qreg})
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";']
    lines += [f"input float[64] {name};" for name in circuit.parameters]
    extensions = dict.fromkeys(op.name for op in circuit.operations
                               if op.name in GATES and op.name not in STDGATES and op.name != "u")
    lines += [QASM3_DEFINITIONS[name] for name in extensions]
    lines.append(f"qubit[{circuit.qubit_count}] {qreg};")
    if circuit.clbit_count:
        lines.append(f"bit[{circuit.clbit_count}] {creg};")
    for op in circuit.operations:
        if any(not 0 <= q < circuit.qubit_count for q in op.qubits) or any(
                not 0 <= c < circuit.clbit_count for c in op.clbits):
            raise InvalidProgramError(f"{op.name} on qubits {op.qubits} / clbits {op.clbits} is "
                                      f"out of range for the circuit's {circuit.qubit_count} "
                                      f"qubit(s) and {circuit.clbit_count} clbit(s)")
        qubits = [f"{qreg}[{q}]" for q in op.qubits]
        if op.name == "measure":
            lines += [f"{creg}[{c}] = measure {qreg}[{q}];" for q, c in zip(op.qubits, op.clbits)]
        elif op.name == "reset":
            lines += [f"reset {q};" for q in qubits]
        elif op.name == "barrier":
            lines.append(f"barrier {', '.join(qubits)};")
        else:
            spec = gate_spec(op.name)  # UNKNOWN_GATE
            if (spec.qubit_count, spec.param_count) != (len(op.qubits), len(op.params)):
                raise InvalidProgramError(
                    f"operation {op.name} on {len(op.qubits)} qubit(s) with {len(op.params)} "
                    f"parameter(s); the gate takes {spec.qubit_count} and {spec.param_count}")
            name = "U" if op.name == "u" else op.name
            params = f"({', '.join(_format_expression(p) for p in op.params)})" if op.params else ""
            lines.append(f"{name}{params} {', '.join(qubits)};")
    return "\n".join(lines) + "\n"


def _free_name(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    return name


def _format_expression(expression: ParameterExpression) -> str:
    parts = []
    if expression.constant != 0.0 or not expression.terms:
        parts.append(_format_number(expression.constant))
    for symbol, coefficient in expression.terms:
        if coefficient == 1.0:
            parts.append(symbol)
        elif coefficient == -1.0:
            parts.append(f"-{symbol}")
        else:
            parts.append(f"{_format_number(coefficient)}*{symbol}")
    text = parts[0]
    for part in parts[1:]:
        text += f" - {part[1:]}" if part.startswith("-") else f" + {part}"
    return text


def _format_number(value: float) -> str:
    """``value`` as an OpenQASM literal that evaluates back to the same float."""
    if not math.isfinite(value):
        raise InvalidProgramError(f"gate parameter {value} is not a finite number")
    if value != 0.0:
        for denominator in (1, 2, 3, 4, 6, 8, 12, 16):
            k = round(value * denominator / math.pi)
            if k == 0 or abs(k) > 64 or (k * math.pi) / denominator != value:
                continue
            numerator = {1: "pi", -1: "-pi"}.get(k, f"{k}*pi")
            return numerator if denominator == 1 else f"{numerator}/{denominator}"
    return repr(float(value))
