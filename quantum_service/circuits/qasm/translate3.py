"""The reference path: the ``openqasm3`` AST of an OpenQASM 2 or 3 program as a circuit.

What is translated is listed in :mod:`quantum_service.circuits.qasm`. Before a call of a user
gate is expanded, the operations it will add are counted bottom-up from the definitions (a
lower bound: modified calls and ``gphase`` count as none), so an exponentially nested program is
rejected with reason ``PROGRAM_TOO_LARGE`` before anything is expanded; expansion itself keeps
checking the exact count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from openqasm3 import ast

from quantum_service.circuits.gates import GATES, gate_matrix, gate_spec
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.circuits.qasm.common import (
    INCLUDES,
    MAX_OPERATIONS,
    TOO_LARGE,
    located,
    saturating_add,
    too_large,
    unsupported,
)
from quantum_service.circuits.qasm.conditions import attach
from quantum_service.circuits.qasm.conditions3 import condition_of
from quantum_service.circuits.qasm.expressions3 import AstExpressions
from quantum_service.circuits.qasm.frontend3 import node_text
from quantum_service.circuits.qasm.library_match import TRIAL_LIMIT, same_unitary, sample_arguments
from quantum_service.circuits.qasm.registers3 import Registers
from quantum_service.circuits.qasm_library import GPHASE, control, invert, power, unitary
from quantum_service.errors import InvalidProgramError

__all__ = ["translate_program"]

_PE = ParameterExpression
_CONSTANTS_3 = {"pi": math.pi, "π": math.pi, "tau": math.tau, "τ": math.tau,
                "euler": math.e, "ℇ": math.e}
_CONSTANTS_2 = {"pi": math.pi}

_UNSUPPORTED_STATEMENTS: dict[type, str] = {
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
#: Statements an ``if`` block may hold.
_BRANCH_STATEMENTS = (ast.QuantumGate, ast.QuantumPhase, ast.QuantumMeasurementStatement,
                      ast.QuantumReset, ast.QuantumBarrier, ast.BranchingStatement,
                      ast.CompoundStatement)
_CONTROL_FLOW = frozenset({
    ast.ForInLoop, ast.WhileLoop, ast.SwitchStatement,
    ast.BreakStatement, ast.ContinueStatement, ast.EndStatement,
})


def translate_program(program: ast.Program, *, qasm2: bool, name: str) -> Circuit:
    """Translates a parsed program (see :func:`quantum_service.circuits.qasm.parse_qasm`).

    Args:
        program: the ``openqasm3`` AST.
        qasm2: the program declares OpenQASM 2 (only ``pi``; library gates recognised up to a
            global phase).
        name: the circuit's label.
    Raises:
        InvalidProgramError: ``line N: ...`` for a statement qcore cannot translate.
    """
    return _Translator(qasm2=qasm2).translate(program, name=name)


@dataclass(frozen=True, slots=True)
class _GateDefinition:
    name: str
    params: tuple[str, ...]
    qubits: tuple[str, ...]
    body: tuple[ast.Statement, ...]
    visible: Mapping[str, _GateDefinition]  # user gates defined before this one
    #: A lower bound on the operations (gphase excluded) one call emits, counted bottom-up.
    size: int
    library_name: str | None = None  # set when the body equals this library gate


class _LocatedError(InvalidProgramError):
    """An error that already names the line of its statement."""


class _TooLarge(InvalidProgramError):
    """A gate call or program expands past the operation limit."""

    reason = TOO_LARGE


# Expansions up to this size are cached per (gate, arguments).
_CACHED_EXPANSION_SIZE = 10_000


class _Translator:
    """Walks the AST of one program and collects its circuit."""

    def __init__(self, *, qasm2: bool) -> None:
        self._qasm2 = qasm2
        constants = _CONSTANTS_2 if qasm2 else _CONSTANTS_3
        self._consts: dict[str, _PE] = {k: _PE(v) for k, v in constants.items()}
        self._scope: dict[str, _PE] = dict(self._consts)  # consts and inputs
        self._ex = AstExpressions(qasm2=qasm2, inputs=self._scope)
        self._regs = Registers(self._ex, self._scope, set(self._consts))
        self._parameters: list[str] = []
        self._gates: dict[str, _GateDefinition] = {}
        self._ops: list[Operation] = []
        self._limit = MAX_OPERATIONS  # operations one gate call may expand to
        # (gate name, arguments) -> the gate's operations on qubits 0, 1, ...
        self._expansions: dict[tuple[str, tuple[_PE, ...]], list[Operation]] = {}

    def translate(self, program: ast.Program, *, name: str) -> Circuit:
        for statement in program.statements:
            self._located(statement)
        if self._regs.physical:
            qubit_count = max(self._regs.physical) + 1
        elif self._regs.qubit_count:
            qubit_count = self._regs.qubit_count
        else:
            raise InvalidProgramError("the program declares no qubits (add e.g. `qubit[2] q;`)")
        return Circuit(qubit_count, tuple(self._ops), self._regs.clbit_count,
                       tuple(self._parameters), name)

    # -- statements

    def _located(self, statement: ast.Statement | ast.Pragma) -> None:
        """Translates one statement; errors get its line."""
        try:
            self._statement(statement)
        except _LocatedError:
            raise
        except InvalidProgramError as exc:
            line = statement.span.start_line if statement.span is not None else "?"
            error = located(line, exc)
            raise _LocatedError(str(error), reason=error.reason) from None

    def _statement(self, node: ast.Statement | ast.Pragma) -> None:
        if isinstance(node, ast.Pragma):
            return
        if isinstance(node, ast.CompoundStatement):
            for inner in node.statements:
                self._located(inner)
        elif isinstance(node, ast.Include):
            if node.filename not in INCLUDES:
                raise unsupported(
                    f'include "{node.filename}" is not available: qcore provides only '
                    '"qelib1.inc" and "stdgates.inc"; define other gates in the program')
        elif isinstance(node, ast.QubitDeclaration):
            self._regs.declare_qubits(node.qubit.name, node.size)
        elif isinstance(node, ast.ClassicalDeclaration):
            self._classical_declaration(node)
        elif isinstance(node, ast.IODeclaration):
            self._io_declaration(node)
        elif isinstance(node, ast.ConstantDeclaration):
            value = self._ex.value(node.init_expression, self._scope)
            if not value.is_constant:
                raise InvalidProgramError(
                    f"const '{node.identifier.name}' must be initialised with a constant "
                    f"expression, got '{node_text(node.init_expression)}'")
            self._regs.declare(node.identifier.name)
            self._consts[node.identifier.name] = value
            self._scope[node.identifier.name] = value
        elif isinstance(node, ast.QuantumGateDefinition):
            self._define_gate(node)
        elif isinstance(node, ast.QuantumGate):
            self._gate_statement(node)
        elif isinstance(node, ast.QuantumPhase):
            argument = self._ex.value(node.argument, self._scope)
            operands = [self._regs.qubit_operand(q) for q in node.qubits]
            for qubits in self._regs.broadcast(operands):
                self._emit(self._call(GPHASE, node.modifiers, [argument], qubits,
                                      self._gates, self._scope))
        elif isinstance(node, ast.QuantumMeasurementStatement):
            if node.target is None:
                raise unsupported("measure without a target bit (write `c[0] = measure q[0];`)")
            self._measure(node.measure.qubit, node.target)
        elif isinstance(node, ast.QuantumReset):
            for q in self._regs.qubit_operand(node.qubits).indices:
                self._ops.append(Operation("reset", (q,)))
        elif isinstance(node, ast.QuantumBarrier):
            qubits = [q for operand in node.qubits for q in self._regs.qubit_operand(operand).indices]
            if not node.qubits:
                qubits = self._regs.all_qubits()
            if qubits:
                self._ops.append(Operation("barrier", tuple(dict.fromkeys(qubits))))
        elif isinstance(node, ast.BranchingStatement):
            self._branch(node)
        else:
            what = _UNSUPPORTED_STATEMENTS.get(type(node), type(node).__name__)
            hint = (": qcore circuits are gate sequences without classical control"
                    if type(node) in _CONTROL_FLOW else "")
            raise unsupported(f"{what} is not supported{hint}")

    def _branch(self, node: ast.BranchingStatement) -> None:
        """``if (cond) {...} else {...}``: each branch's operations carry the condition (the
        ``else`` branch its negation), see :mod:`~quantum_service.circuits.qasm.conditions`."""
        condition = condition_of(node.condition, self._regs)
        for block, branch in ((node.if_block, condition), (node.else_block, None)):
            if not block:
                continue
            if branch is None:
                branch = (not condition if isinstance(condition, bool)
                          else condition.inverted())
            start = len(self._ops)
            for inner in block:
                if not isinstance(inner, _BRANCH_STATEMENTS):
                    what = _UNSUPPORTED_STATEMENTS.get(type(inner), type(inner).__name__)
                    raise unsupported(f"{what} inside an if block is not supported (gates, "
                                      "measure, reset, barrier and nested if are)")
                self._located(inner)
            self._ops[start:] = attach(self._ops[start:], branch)

    def _classical_declaration(self, node: ast.ClassicalDeclaration) -> None:
        name = node.identifier.name
        if not isinstance(node.type, ast.BitType):
            raise unsupported(
                f"classical variable '{node_text(node.type)} {name}' is not supported; declare "
                f"gate parameters with `input float[64] {name};` or `const`")
        self._regs.declare_bits(name, node.type.size)
        if isinstance(node.init_expression, ast.QuantumMeasurement):
            self._measure(node.init_expression.qubit, node.identifier)
        elif node.init_expression is not None:
            raise unsupported(f"initialising bit '{name}' with a classical value")

    def _io_declaration(self, node: ast.IODeclaration) -> None:
        name = node.identifier.name
        if node.io_identifier == ast.IOKeyword.output:
            if not isinstance(node.type, ast.BitType):
                raise unsupported(f"output of type {node_text(node.type)} (only bit outputs)")
            self._regs.declare_bits(name, node.type.size)
            return
        if self._qasm2:
            raise InvalidProgramError(
                f"`input` is OpenQASM 3 but the program declares OPENQASM 2.0; use "
                f"OPENQASM 3.0 to declare the symbolic parameter '{name}'")
        if not isinstance(node.type, ast.FloatType | ast.AngleType):
            raise unsupported(
                f"input '{name}' of type {node_text(node.type)}: symbolic parameters are "
                "`input float[64]` or `input angle`")
        self._regs.declare(name)
        self._parameters.append(name)
        self._scope[name] = _PE.symbol(name)

    # -- declarations and operands

    def _measure(self, qubit_node: ast.QASMNode, bit_node: ast.QASMNode) -> None:
        qubits = self._regs.qubit_operand(qubit_node).indices
        bits = self._regs.bit_operand(bit_node).indices
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
            raise unsupported(f"gate durations ('{node_text(node)}')")
        args = [self._ex.value(a, self._scope) for a in node.arguments]
        operands = [self._regs.qubit_operand(q) for q in node.qubits]
        broadcast = self._regs.broadcast(operands)
        definition = self._gates.get(node.name.name)
        if definition is not None and not node.modifiers and definition.library_name is None:
            total = saturating_add(len(self._ops), definition.size * len(broadcast))
            if total > MAX_OPERATIONS:  # counted before anything is expanded
                raise too_large(definition.name, definition.size, total)
        for qubits in broadcast:
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
                count = 1 if modifier.argument is None else self._ex.integer(
                    modifier.argument, scope, what=f"{kind} count")
                if count < 1 or position + count > len(qubits):
                    raise InvalidProgramError(
                        f"{kind}({count}) @ {name}: needs {count} control qubit(s) among the "
                        f"{len(qubits)} operand(s)")
                plan.append((kind, qubits[position:position + count]))
                position += count
            elif kind == "pow":
                exponent = self._ex.constant(modifier.argument, scope, what="pow exponent")
                plan.append(("pow", exponent))
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
        definition = _GateDefinition(name, params, qubits, tuple(node.body), dict(self._gates),
                                     self._body_size(node.body))
        self._gates[name] = self._as_library_gate(definition) or definition

    def _body_size(self, body: Iterable[ast.Statement]) -> int:
        """A lower bound on the operations a body emits, from the callees' counts: an
        unmodified call of a user gate emits its count, of a library gate one, a barrier one;
        a modified call or ``gphase`` may emit none."""
        size = 0
        for statement in body:
            if isinstance(statement, ast.QuantumBarrier):
                size = saturating_add(size, 1)
            elif isinstance(statement, ast.QuantumGate) and not statement.modifiers:
                callee = self._gates.get(statement.name.name)
                count = 1 if callee is None or callee.library_name is not None else callee.size
                size = saturating_add(size, count)
        return size

    def _as_library_gate(self, definition: _GateDefinition) -> _GateDefinition | None:
        """The definition marked as the library gate of its name when their unitaries agree.

        The body is expanded with sample parameter values, which also reports errors in it at
        the definition. With parameters, an error may depend on the values (``pow(a) @``), so
        it is left to the calls.
        """
        name, params, qubits = definition.name, definition.params, definition.qubits
        local = tuple(range(len(qubits)))
        samples = sample_arguments(len(params))
        self._limit = TRIAL_LIMIT
        try:
            expansion = self._expand(definition, [_PE(v) for v in samples[0]], local)
        except InvalidProgramError as exc:
            if exc.reason == TOO_LARGE:
                return None  # far wider than any library gate; calls check the real size
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
            if not same_unitary(unitary(expansion, local), gate_matrix(name, sample),
                                 up_to_phase=self._qasm2):
                return None
        return _GateDefinition(name, params, qubits, definition.body, definition.visible, 1,
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
                f"in gate '{definition.name}': operand '{node_text(operand)}' is not one of its "
                f"qubit arguments {list(definition.qubits)}")

        if isinstance(node, ast.QuantumGate):
            if node.duration is not None:
                raise unsupported(f"gate durations ('{node_text(node)}')")
            args = [self._ex.value(a, scope) for a in node.arguments]
            return self._call(node.name.name, node.modifiers, args,
                              tuple(qubit(q) for q in node.qubits), definition.visible, scope)
        if isinstance(node, ast.QuantumPhase):
            return self._call(GPHASE, node.modifiers, [self._ex.value(node.argument, scope)],
                              tuple(qubit(q) for q in node.qubits), definition.visible, scope)
        if isinstance(node, ast.QuantumBarrier):
            qubits = [qubit(q) for q in node.qubits] or list(formal.values())
            return [Operation("barrier", tuple(dict.fromkeys(qubits)))]
        what = _UNSUPPORTED_STATEMENTS.get(type(node), type(node).__name__)
        raise unsupported(f"{what} inside gate '{definition.name}' is not supported")


def _relabel(ops: Sequence[Operation], qubit_map: Sequence[int] | Mapping[int, int]
             ) -> list[Operation]:
    """``ops`` with qubit ``q`` renamed ``qubit_map[q]``."""
    if isinstance(qubit_map, Sequence) and tuple(qubit_map) == tuple(range(len(qubit_map))):
        return list(ops)
    return [Operation(op.name, tuple(qubit_map[q] for q in op.qubits), op.params, op.clbits,
                      op.condition) for op in ops]


def _check_signature(name: str, qubit_count: int, param_count: int, qubits: Sequence[int],
                     args: Sequence[_PE]) -> None:
    if len(args) != param_count:
        raise InvalidProgramError(
            f"gate '{name}' takes {param_count} parameter(s), got {len(args)}")
    if len(qubits) != qubit_count:
        raise InvalidProgramError(
            f"gate '{name}' acts on {qubit_count} qubit(s), got {len(qubits)}")

