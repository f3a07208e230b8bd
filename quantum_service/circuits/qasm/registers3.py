"""Registers of the reference path: declarations, one flat index space, operands.

``qreg``/``qubit[n]``/``qubit`` and ``creg``/``bit[n]``/``bit`` declarations are flattened in
declaration order into one qubit and one clbit index space; physical qubits ``$k`` are qubit
``k`` and are not mixed with declared ones. Operands index registers (``q[1]``, ``q[-1]``,
ranges ``q[start:stop]`` and ``q[start:step:stop]`` with an inclusive stop, sets ``q[{0, 2}]``)
and broadcast over equal-size registers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openqasm3 import ast

from quantum_service.circuits.ir import ParameterExpression
from quantum_service.circuits.qasm.common import MAX_REGISTER_WIDTH
from quantum_service.circuits.qasm.expressions3 import AstExpressions
from quantum_service.circuits.qasm.frontend3 import node_text
from quantum_service.errors import InvalidProgramError

__all__ = ["Operand", "Registers"]


@dataclass(frozen=True, slots=True)
class _Register:
    offset: int
    size: int
    scalar: bool  # declared without a size (``qubit q;``): not indexable, not broadcast


@dataclass(frozen=True, slots=True)
class Operand:
    indices: tuple[int, ...]
    register: bool  # broadcast over ``indices`` (a whole register, a range or a set)


class Registers:
    """The declared names, registers and physical qubits of one program.

    Args:
        expressions: evaluates sizes and indices.
        constants: the program's constants and inputs (read, never written); sizes and indices
            are evaluated in it.
        names: names already declared (the constants); shared with the caller, which declares
            constants and inputs through :meth:`declare`.
    """

    def __init__(self, expressions: AstExpressions, constants: Mapping[str, ParameterExpression],
                 names: set[str]) -> None:
        self._ex = expressions
        self._constants = constants
        self.names = names
        self.qregs: dict[str, _Register] = {}
        self.cregs: dict[str, _Register] = {}
        self.qubit_count = 0
        self.clbit_count = 0
        self.physical: set[int] = set()

    def bit_operand(self, node: ast.QASMNode) -> Operand:
        """The clbits a ``bit`` operand names."""
        return self._operand(node, self.cregs, "bit")

    def all_qubits(self) -> list[int]:
        """Every qubit of the program so far (the operand of a bare ``barrier``)."""
        return sorted(self.physical) if self.physical else list(range(self.qubit_count))

    def declare(self, name: str) -> None:
        if name in self.names:
            raise InvalidProgramError(f"'{name}' is already declared")
        self.names.add(name)

    def declare_qubits(self, name: str, size: ast.Expression | None) -> None:
        if self.physical:
            raise InvalidProgramError(
                f"qubit register '{name}' declared in a program that uses physical qubits ($n); "
                "use one or the other")
        width = 1 if size is None else self._size(size)
        if self.qubit_count + width > MAX_REGISTER_WIDTH:
            raise InvalidProgramError(f"more than {MAX_REGISTER_WIDTH} qubits declared")
        self.declare(name)
        self.qregs[name] = _Register(self.qubit_count, width, size is None)
        self.qubit_count += width

    def declare_bits(self, name: str, size: ast.Expression | None) -> None:
        width = 1 if size is None else self._size(size)
        if self.clbit_count + width > MAX_REGISTER_WIDTH:
            raise InvalidProgramError(f"more than {MAX_REGISTER_WIDTH} bits declared")
        self.declare(name)
        self.cregs[name] = _Register(self.clbit_count, width, size is None)
        self.clbit_count += width

    def _size(self, node: ast.Expression) -> int:
        size = self._ex.integer(node, self._constants, what="register size")
        if size < 1:
            raise InvalidProgramError(f"register size must be >= 1, got {size}")
        return size

    def qubit_operand(self, node: ast.QASMNode) -> Operand:
        if isinstance(node, ast.Identifier) and node.name.startswith("$"):
            if self.qregs:
                raise InvalidProgramError(
                    f"physical qubit {node.name} used in a program that declares qubit "
                    "registers; use one or the other")
            index = int(node.name[1:])
            self.physical.add(index)
            return Operand((index,), register=False)
        return self._operand(node, self.qregs, "qubit")

    def _operand(self, node: ast.QASMNode, registers: Mapping[str, _Register],
                 kind: str) -> Operand:
        if isinstance(node, ast.Identifier):
            register = self._register(node.name, registers, kind)
            return Operand(tuple(range(register.offset, register.offset + register.size)),
                            register=not register.scalar)
        if not isinstance(node, ast.IndexedIdentifier):
            raise InvalidProgramError(f"'{node_text(node)}' is not a {kind} operand")
        name = node.name.name
        register = self._register(name, registers, kind)
        if register.scalar:
            raise InvalidProgramError(f"'{name}' is a single {kind} and cannot be indexed")
        if len(node.indices) != 1 or (isinstance(node.indices[0], list)
                                      and len(node.indices[0]) != 1):
            raise InvalidProgramError(f"'{node_text(node)}': {kind} registers are one-dimensional")
        index = node.indices[0]
        if isinstance(index, ast.DiscreteSet):
            positions = [self._ex.integer(v, self._constants, what="index") for v in index.values]
            broadcast = True
        elif isinstance(index[0], ast.RangeDefinition):
            positions = self._range(index[0], register.size)
            broadcast = True
        else:
            positions = [self._ex.integer(index[0], self._constants, what="index")]
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
            raise InvalidProgramError(f"'{node_text(node)}' selects no {kind}s")
        return Operand(tuple(indices), register=broadcast)

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
            value = self._ex.integer(expr, self._constants, what="range bound")
            return value + size if value < 0 else value

        start, end = bound(node.start, 0), bound(node.end, size - 1)
        step = 1 if node.step is None else self._ex.integer(node.step, self._constants, what="step")
        if step == 0:
            raise InvalidProgramError("a range step must not be 0")
        return list(range(start, end + (1 if step > 0 else -1), step))  # inclusive end

    @staticmethod
    def broadcast(operands: Sequence[Operand]) -> list[tuple[int, ...]]:
        sizes = sorted({len(o.indices) for o in operands if o.register})
        if len(sizes) > 1:
            raise InvalidProgramError(
                f"cannot broadcast over registers of different sizes {sizes}")
        count = sizes[0] if sizes else 1
        return [tuple(o.indices[i] if o.register else o.indices[0] for o in operands)
                for i in range(count)]
