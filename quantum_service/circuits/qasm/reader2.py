"""The fast OpenQASM 2 reader: one regular expression over the text, circuits built directly.

Reads the OpenQASM 2.0 statement subset (Cross et al., arXiv:1707.03429): the ``OPENQASM 2.x;``
header, ``include "qelib1.inc";``, ``qreg``/``creg``, ``gate`` definitions (nested ones
included), gate calls with register broadcasting, ``measure a -> b`` (register form too),
``reset``, ``barrier``, ``if (creg == n)`` before a gate call, ``measure`` or ``reset`` (every
operation it gives carries the condition, :mod:`~quantum_service.circuits.qasm.conditions`)
and comments; ``opaque`` is rejected. Parameter expressions are those of
:mod:`~quantum_service.circuits.qasm.expressions2`. It gives exactly the circuit the reference
path (:mod:`~quantum_service.circuits.qasm.translate3`) gives; anything else (``if``, OpenQASM 3
statements in an OpenQASM 2 program, indexing forms beyond ``r[k]``, other ``if`` conditions,
text it cannot split into statements) raises :class:`OutsideSubset`, and the caller hands the
program to that path.

Speed: the text is split into statements by one compiled regex (``findall``, in C); a statement
text seen before reuses the operations built for it (operations are immutable), and argument
lists and operands are evaluated once per distinct text. Gate definitions are compiled once
into steps (callee, compiled argument expressions, formal-qubit positions; arguments that use no
parameter are evaluated at the definition); a parameter-free body is expanded once into a
template relabelled per call, a parametric one straight onto each call's qubits. Before a call
is expanded its
operation count (computed bottom-up per definition when it is defined) is checked against
:data:`~quantum_service.circuits.qasm.common.MAX_OPERATIONS`, so an exponentially nested program
is rejected without expanding anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from quantum_service.circuits.gates import gate_spec
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.circuits.qasm.common import (
    INCLUDES,
    KEYWORDS,
    MAX_OPERATIONS,
    MAX_REGISTER_WIDTH,
    located,
    saturating_add,
    strip_comments,
    too_large,
    unsupported,
)
from quantum_service.circuits.qasm.conditions import attach, register_equals
from quantum_service.circuits.qasm.definitions2 import (
    PI_SCOPE,
    Fixed,
    GateDefinition,
    fixed_arguments,
    library_gate,
)
from quantum_service.circuits.qasm.expressions2 import Evaluator, OutsideSubset, compile_arguments
from quantum_service.circuits.qasm.library_match import TRIAL_LIMIT
from quantum_service.errors import InvalidProgramError

__all__ = ["OutsideSubset", "read_openqasm2"]

_PE = ParameterExpression
_BUILTINS = {"U": "u", "CX": "cx"}
# Reserved words that start a statement other than a gate call.
_STATEMENT_KEYWORDS = KEYWORDS - _BUILTINS.keys()

# One statement: a gate definition (name, parameters, qubits, body), an opaque declaration,
# another statement (head, the text between the parentheses after it, the rest), or a character
# that starts none of them.
_STATEMENT = re.compile(r"""\s*(?:
    gate\s+([A-Za-z_]\w*)\s*(?:\(([^(){};]*)\))?([^{};]*)\{([^{}]*)\}
  | (opaque)\s[^;{}]*;
  | ([A-Za-z_]\w*)\s*(?:\(([^;{}]*)\))?([^;{}()]*);
  | (\S)
)""", re.VERBOSE)
_BODY_STATEMENT = re.compile(r"\s*(?:([A-Za-z_]\w*)\s*(?:\(([^;]*)\))?([^;()]*);|(\S))")
_NUMBER = r"\s*-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*"
_NUMBERS = re.compile(f"{_NUMBER}(?:,{_NUMBER})*")
_OPERAND = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\[\s*(\d+)\s*\])?\s*")
_IDENTIFIER = re.compile(r"\s*([A-Za-z_]\w*)\s*")
_DECLARATION = re.compile(r"\s*([A-Za-z_]\w*)\s*\[\s*(\d+)\s*\]\s*")
_INCLUDE = re.compile(r'\s*"([^"]*)"\s*')
_VERSION = re.compile(r"\s*2(?:\.\d+)?\s*")
_CONDITION = re.compile(r"\s*([A-Za-z_]\w*)\s*==\s*(\d+)\s*")


def _unknown_identifier(name: str) -> str:
    return (f"unknown identifier '{name}' in a gate parameter (OpenQASM 2 has no "
            "symbolic parameters; the only constant is pi)")


def _names(text: str) -> tuple[str, ...]:
    if not text.strip():
        return ()
    names = []
    for part in text.split(","):
        match = _IDENTIFIER.fullmatch(part)
        if match is None or match[1] in KEYWORDS:
            raise OutsideSubset(f"'{part.strip()}' is not an identifier")
        names.append(match[1])
    return tuple(names)


def _check_signature(name: str, qubit_count: int, param_count: int, qubits: int,
                     params: int) -> None:
    if params != param_count:
        raise InvalidProgramError(
            f"gate '{name}' takes {param_count} parameter(s), got {params}")
    if qubits != qubit_count:
        raise InvalidProgramError(
            f"gate '{name}' acts on {qubit_count} qubit(s), got {qubits}")


class _Reader:
    """The state of one program being read."""

    def __init__(self) -> None:
        self.names: set[str] = {"pi"}
        self.qregs: dict[str, tuple[int, int]] = {}  # name -> (offset, size)
        self.cregs: dict[str, tuple[int, int]] = {}
        self.qubit_count = 0
        self.clbit_count = 0
        self.gates: dict[str, GateDefinition] = {}
        self.ops: list[Operation] = []
        # statement text -> its operations; cleared when a declaration changes what it means
        self.statements: dict[tuple[str, str, str], tuple[Operation, ...]] = {}
        # argument-list text -> values, and -> parameters of a library gate call
        self.arguments: dict[str, tuple[float, ...]] = {}
        self.parameters: dict[str, tuple[ParameterExpression, ...]] = {}
        self.argument_values: dict[str, float] = {}
        self.operands: dict[str, list[tuple[int, ...]]] = {}
        self.operand_cache: dict[tuple[str, str], tuple[list[int], bool]] = {}
        # (argument text, gate parameter names) -> compiled arguments of a body step
        self.body_arguments: dict[tuple[str, tuple[str, ...]],
                                  tuple[tuple[Evaluator, ...], Fixed | None]] = {}

    # -- statements

    def statement(self, head: str, arguments: str, rest: str) -> None:
        key = (head, arguments, rest)
        ops = self.statements.get(key)
        if ops is None:
            if head in _STATEMENT_KEYWORDS:
                if head == "if":
                    ops = self.conditional(arguments, rest)
                    self.statements[key] = ops
                    self.extend(head, ops)
                    return
                if arguments:
                    raise OutsideSubset(f"'(' after '{head}'")
                ops = self.keyword_statement(head, rest)
            else:
                ops = self.call(head, arguments, rest)
            self.statements[key] = ops
        self.extend(head, ops)

    def extend(self, head: str, ops: tuple[Operation, ...]) -> None:
        if len(self.ops) + len(ops) > MAX_OPERATIONS:
            raise too_large(head, len(ops), len(self.ops) + len(ops))
        self.ops.extend(ops)

    def conditional(self, arguments: str, rest: str) -> tuple[Operation, ...]:
        """``if (creg == n) statement;``: the statement's operations conditioned on the whole
        register ``creg`` equal to ``n`` (OpenQASM 2.0, Cross et al. arXiv:1707.03429, §3)."""
        condition_text, closed, statement = (arguments + ")" + rest).partition(")")
        match = _CONDITION.fullmatch(condition_text)
        if not closed or match is None:
            raise OutsideSubset("an if condition other than 'creg == integer'")
        inner = _STATEMENT.fullmatch(statement + ";")
        if inner is None or not inner[6] or inner[6] == "if":
            raise OutsideSubset("if without a single statement")
        offset, size = self.cregs.get(match[1], (0, 0))
        if not size:
            declared = ", ".join(sorted(self.cregs)) or "none"
            raise InvalidProgramError(
                f"'{match[1]}' is not a declared bit register (declared: {declared})")
        value = int(match[2]) if len(match[2]) <= 20 else 1 << 64
        condition = register_equals(tuple(range(offset, offset + size)), value, what=match[1])
        head, head_arguments, head_rest = inner[6], inner[7], inner[8]
        if head in ("measure", "reset"):
            if head_arguments:
                raise OutsideSubset(f"'(' after '{head}'")
            ops = self.keyword_statement(head, head_rest)
        elif head in _STATEMENT_KEYWORDS:
            raise OutsideSubset(f"'{head}' in an if statement")
        else:
            ops = self.call(head, head_arguments, head_rest)
        return tuple(attach(ops, condition))

    def keyword_statement(self, head: str, rest: str) -> tuple[Operation, ...]:
        if head == "measure":
            return self.measure(rest)
        if head == "reset":
            if "," in rest:
                raise OutsideSubset("reset of several operands")
            return tuple(Operation("reset", (q,)) for q in self.operand(rest, self.qregs,
                                                                         "qubit")[0])
        if head == "barrier":
            qubits = [q for part in rest.split(",") if part.strip()
                      for q in self.operand(part, self.qregs, "qubit")[0]]
            if not rest.strip():
                qubits = list(range(self.qubit_count))
            return (Operation("barrier", tuple(dict.fromkeys(qubits))),) if qubits else ()
        self.statements.clear()
        if head in ("qreg", "creg"):
            self.declare(head, rest)
        elif head == "include":
            match = _INCLUDE.fullmatch(rest)
            if match is None:
                raise OutsideSubset("include without a file name")
            if match[1] not in INCLUDES:
                raise unsupported(
                    f'include "{match[1]}" is not available: qcore provides only '
                    '"qelib1.inc" and "stdgates.inc"; define other gates in the program')
        else:
            raise OutsideSubset(f"statement '{head}'")
        return ()

    def declare(self, kind: str, rest: str) -> None:
        match = _DECLARATION.fullmatch(rest)
        if match is None:
            raise OutsideSubset(f"{kind} declaration")
        # more than 9 digits is past MAX_REGISTER_WIDTH (and int() of thousands of digits fails)
        name, width = match[1], int(match[2]) if len(match[2]) <= 9 else MAX_REGISTER_WIDTH + 1
        if width < 1:
            raise InvalidProgramError(f"register size must be >= 1, got {width}")
        count = self.qubit_count if kind == "qreg" else self.clbit_count
        if count + width > MAX_REGISTER_WIDTH:
            raise InvalidProgramError(
                f"more than {MAX_REGISTER_WIDTH} {'qubits' if kind == 'qreg' else 'bits'} "
                "declared")
        if name in KEYWORDS:
            raise OutsideSubset(f"register named '{name}'")
        if name in self.names:
            raise InvalidProgramError(f"'{name}' is already declared")
        self.names.add(name)
        if kind == "qreg":
            self.qregs[name] = (count, width)
            self.qubit_count += width
        else:
            self.cregs[name] = (count, width)
            self.clbit_count += width

    def operand(self, text: str, registers: Mapping[str, tuple[int, int]], kind: str
                ) -> tuple[list[int], bool]:
        """The indices an operand names and whether it is a whole register (broadcast)."""
        key = (text, kind)
        found = self.operand_cache.get(key)
        if found is None:
            found = self.operand_cache[key] = self.resolve_operand(text, registers, kind)
        return found

    def resolve_operand(self, text: str, registers: Mapping[str, tuple[int, int]], kind: str
                        ) -> tuple[list[int], bool]:
        match = _OPERAND.fullmatch(text)
        if match is None:
            raise OutsideSubset(f"operand '{text.strip()}'")
        name = match[1]
        try:
            offset, size = registers[name]
        except KeyError:
            declared = ", ".join(sorted(registers)) or "none"
            raise InvalidProgramError(
                f"'{name}' is not a declared {kind} register (declared: {declared})") from None
        if match[2] is None:
            return list(range(offset, offset + size)), True
        position = int(match[2]) if len(match[2]) <= 9 else MAX_REGISTER_WIDTH
        if position >= size:
            raise InvalidProgramError(
                f"{kind} index {position} is out of range for register '{name}' of size {size}")
        return [offset + position], False

    def library_parameters(self, text: str, values: tuple[float, ...]
                           ) -> tuple[ParameterExpression, ...]:
        """The parameters of a library gate called with argument text ``text``."""
        params = self.parameters.get(text)
        if params is None:
            params = self.parameters[text] = tuple(map(_PE, values))
        return params

    def evaluate_arguments(self, text: str) -> tuple[float, ...]:
        """The values of a top-level call's argument list (constants: OpenQASM 2 has no
        symbolic parameters). Without function calls the list is split at its commas and each
        argument's value is kept by its text, since programs repeat ``pi/2`` and the like."""
        if not text:
            return ()
        if _NUMBERS.fullmatch(text):  # literals only, the most common case
            return tuple(map(float, text.split(",")))
        if "(" in text:
            return tuple(evaluate(PI_SCOPE) for evaluate in
                         compile_arguments(text, PI_SCOPE, _unknown_identifier))
        values = []
        for part in text.split(","):
            value = self.argument_values.get(part)
            if value is None and _NUMBERS.fullmatch(part):
                value = float(part)
            elif value is None:
                evaluators = compile_arguments(part, PI_SCOPE, _unknown_identifier)
                if len(evaluators) != 1:
                    raise OutsideSubset(f"argument '{part.strip()}'")
                value = evaluators[0](PI_SCOPE)
                self.argument_values[part] = value
            values.append(value)
        return tuple(values)

    def broadcast(self, text: str) -> list[tuple[int, ...]]:
        """The qubit tuples of a call's operand list, one per broadcast position."""
        cached = self.operands.get(text)
        if cached is not None:
            return cached
        if not text.strip():
            raise OutsideSubset("a gate call without operands")
        operands = [self.operand(part, self.qregs, "qubit") for part in text.split(",")]
        sizes = sorted({len(indices) for indices, register in operands if register})
        if len(sizes) > 1:
            raise InvalidProgramError(
                f"cannot broadcast over registers of different sizes {sizes}")
        count = sizes[0] if sizes else 1
        tuples = [tuple(indices[i] if register else indices[0] for indices, register in operands)
                  for i in range(count)]
        self.operands[text] = tuples
        return tuples

    def measure(self, rest: str) -> tuple[Operation, ...]:
        parts = rest.split("->")
        if len(parts) != 2:
            raise OutsideSubset("measure without '->'")
        qubits, _ = self.operand(parts[0], self.qregs, "qubit")
        bits, _ = self.operand(parts[1], self.cregs, "bit")
        if len(qubits) != len(bits):
            raise InvalidProgramError(
                f"measure of {len(qubits)} qubit(s) into {len(bits)} bit(s); sizes must match")
        return tuple(Operation("measure", (q,), clbits=(c,)) for q, c in zip(qubits, bits))

    # -- gate calls

    def call(self, name: str, argument_text: str, operand_text: str) -> tuple[Operation, ...]:
        args = self.arguments.get(argument_text)
        if args is None:
            args = self.arguments[argument_text] = self.evaluate_arguments(argument_text)
        tuples = self.broadcast(operand_text)
        for qubits in tuples:
            if len(qubits) > 1 and len(set(qubits)) != len(qubits):
                duplicates = sorted({q for q in qubits if qubits.count(q) > 1})
                raise InvalidProgramError(
                    f"gate '{name}' uses qubit(s) {duplicates} more than once")
        definition = self.gates.get(name)
        if definition is None:
            library_name = _BUILTINS.get(name, name)
            spec = gate_spec(library_name)  # UNKNOWN_GATE
            _check_signature(name, spec.qubit_count, spec.param_count, len(tuples[0]), len(args))
            params = self.library_parameters(argument_text, args)
            if len(tuples) == 1:
                return (Operation(library_name, tuples[0], params),)
            return tuple(Operation(library_name, qubits, params) for qubits in tuples)
        _check_signature(name, len(definition.qubits), len(definition.params), len(tuples[0]),
                         len(args))
        if definition.library_name is not None:
            params = self.library_parameters(argument_text, args)
            return tuple(Operation(definition.library_name, qubits, params) for qubits in tuples)
        if definition.error is not None:
            raise InvalidProgramError(str(definition.error), reason=definition.error.reason)
        total = len(self.ops) + definition.size * len(tuples)
        if total > MAX_OPERATIONS:
            raise too_large(name, definition.size, total)
        out: list[Operation] = []
        for qubits in tuples:
            definition.expand_into(out, args, qubits)
        return tuple(out)

    # -- gate definitions

    def define(self, name: str, params_text: str, qubits_text: str, body: str) -> None:
        self.statements.clear()
        if name in _STATEMENT_KEYWORDS:
            raise OutsideSubset(f"gate named '{name}'")
        if name in self.gates or name in _BUILTINS:
            raise InvalidProgramError(f"gate '{name}' is already defined")
        params, qubits = _names(params_text), _names(qubits_text)
        if not qubits:
            raise OutsideSubset("gate without qubit arguments")
        for names, what in ((params, "parameter"), (qubits, "qubit argument")):
            if len(set(names)) != len(names):
                raise InvalidProgramError(f"gate '{name}' repeats a {what} name")
        definition = GateDefinition(name, params, qubits, [], 0)
        try:
            self.compile_body(definition, body)
        except InvalidProgramError as exc:  # raised where the reference path raises it
            definition.error = exc
        if definition.error is not None and not params:
            raise definition.error
        if definition.error is None and definition.size <= TRIAL_LIMIT:
            definition.library_name = library_gate(definition)
        self.gates[name] = definition

    def compile_body(self, definition: GateDefinition, body: str) -> None:
        formal = {q: i for i, q in enumerate(definition.qubits)}
        scope = {"pi", *definition.params}

        def position(operand: str) -> int:
            index = formal.get(operand.strip())
            if index is None:
                raise InvalidProgramError(
                    f"in gate '{definition.name}': operand '{operand.strip()}' is not one of its "
                    f"qubit arguments {list(definition.qubits)}")
            return index

        for head, argument_text, operand_text, bad in _BODY_STATEMENT.findall(body):
            if bad:
                raise OutsideSubset(f"{bad!r} in gate '{definition.name}'")
            if head == "barrier":
                if argument_text:
                    raise OutsideSubset("'(' after 'barrier'")
                positions = [position(p) for p in operand_text.split(",") if p.strip()]
                if not operand_text.strip():
                    positions = list(formal.values())
                definition.steps.append(("barrier", (), tuple(dict.fromkeys(positions)),
                                         ((), ())))
                definition.size = saturating_add(definition.size, 1)
                continue
            if head in _STATEMENT_KEYWORDS:
                raise OutsideSubset(f"'{head}' inside gate '{definition.name}'")
            key = (argument_text, definition.params)
            compiled = self.body_arguments.get(key)
            if compiled is None:
                evaluators = tuple(compile_arguments(argument_text, scope, _unknown_identifier))
                compiled = self.body_arguments[key] = (evaluators, fixed_arguments(evaluators))
            evaluators, fixed = compiled
            if not operand_text.strip():
                raise OutsideSubset("a gate call without operands")
            positions = tuple(position(p) for p in operand_text.split(","))
            callee = self.gates.get(head)
            if callee is None:
                library_name = _BUILTINS.get(head, head)
                spec = gate_spec(library_name)  # UNKNOWN_GATE
                _check_signature(head, spec.qubit_count, spec.param_count, len(positions),
                                 len(evaluators))
            else:
                _check_signature(head, len(callee.qubits), len(callee.params), len(positions),
                                 len(evaluators))
                if callee.error is not None:
                    raise callee.error
            if len(set(positions)) != len(positions):
                raise InvalidProgramError(
                    f"in gate '{definition.name}': gate '{head}' uses a qubit argument more "
                    "than once")
            if callee is None:
                definition.steps.append((library_name, evaluators, positions, fixed))
                definition.size = saturating_add(definition.size, 1)
            else:
                definition.steps.append((callee, evaluators, positions, fixed))
                size = 1 if callee.library_name is not None else callee.size
                definition.size = saturating_add(definition.size, size)
        if not definition.params and definition.size <= TRIAL_LIMIT:
            definition.template(())  # value errors (1/0, ln(0)) are reported at the definition


def _without_comments(text: str) -> str:
    """The text with comments removed, line numbers kept.

    Raises:
        OutsideSubset: an unterminated ``/*`` (the reference path reports it).
    """
    stripped, terminated = strip_comments(text)
    if not terminated:
        raise OutsideSubset("unterminated /* comment")
    return stripped


def _line(text: str, index: int) -> int:
    """The line (1-based) where statement ``index`` of ``text`` begins."""
    for i, match in enumerate(_STATEMENT.finditer(text)):
        if i == index:
            start = len(match[0]) - len(match[0].lstrip())
            return text.count("\n", 0, match.start() + start) + 1
    return text.count("\n") + 1


def read_openqasm2(text: str, *, name: str = "") -> Circuit:
    """Reads an OpenQASM 2 program of the subset in the module docstring.

    Args:
        text: the program source, starting with ``OPENQASM 2.x;`` (after comments).
        name: the circuit's label.
    Returns:
        The circuit the reference path would give for ``text``.
    Raises:
        OutsideSubset: the text is outside the subset (the caller uses the reference path).
        InvalidProgramError: ``line N: ...`` with the reference path's reasons; reason
            ``PROGRAM_TOO_LARGE`` when the program would expand to more than
            :data:`~quantum_service.circuits.qasm.common.MAX_OPERATIONS` operations (checked
            before expanding).
    """
    text = _without_comments(text)
    statements = _STATEMENT.findall(text)
    if not statements or statements[0][5] != "OPENQASM" or statements[0][6] or not \
            _VERSION.fullmatch(statements[0][7]):
        raise OutsideSubset("no OPENQASM 2 header")
    reader = _Reader()
    statement, define = reader.statement, reader.define
    index = 1
    try:
        for index in range(1, len(statements)):
            gate_name, params, qubits, body, opaque, head, arguments, rest, bad = \
                statements[index]
            if head:
                statement(head, arguments, rest)
            elif gate_name:
                define(gate_name, params, qubits, body)
            elif opaque:
                raise unsupported("opaque gate declarations are not supported: qcore needs the "
                                  "definition (or a library gate) to simulate a gate")
            else:
                raise OutsideSubset(f"unexpected {bad!r}")
    except InvalidProgramError as exc:
        raise located(_line(text, index), exc) from None
    if not reader.qubit_count:
        raise InvalidProgramError("the program declares no qubits (add e.g. `qreg q[2];`)")
    return Circuit(reader.qubit_count, tuple(reader.ops), reader.clbit_count, (), name)
