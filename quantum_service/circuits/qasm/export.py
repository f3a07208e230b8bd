"""Circuits written as OpenQASM 3 programs that :func:`~quantum_service.circuits.qasm.parse_qasm`
reads back to equal circuits."""

from __future__ import annotations

import math

from quantum_service.circuits.gates import GATES, gate_spec
from quantum_service.circuits.ir import Circuit, Condition, ParameterExpression
from quantum_service.circuits.qasm.common import KEYWORDS
from quantum_service.circuits.qasm_library import QASM3_DEFINITIONS, STDGATES
from quantum_service.errors import InvalidProgramError

__all__ = ["to_qasm3"]


def to_qasm3(circuit: Circuit) -> str:
    """Writes a circuit as an OpenQASM 3 program.

    Parameters become ``input float[64]`` declarations (in order), qubits one register ``q``
    and clbits one register ``c`` (renamed if a parameter takes the name). Gates keep their
    ``stdgates.inc`` names; ``u`` is written as the builtin ``U``; other library gates get an
    inline ``gate`` definition (:data:`~quantum_service.circuits.qasm_library.QASM3_DEFINITIONS`)
    that :func:`parse_qasm` maps back to the library gate. Numbers are written to round-trip
    exactly (``repr``, or a multiple of ``pi`` when that evaluates to the same float), so
    ``parse_qasm(to_qasm3(c), name=c.name) == c`` for a circuit with single-qubit measurements
    and resets. A conditional operation is written ``if (condition) statement;``; its condition
    reads back as an equal :class:`Condition` when the reader normalises it the same way (a
    register comparison or a truth table, :mod:`~quantum_service.circuits.qasm.conditions`).

    Raises:
        InvalidProgramError: a parameter name that is not an OpenQASM identifier or is a
            keyword; an unknown operation, one with the wrong number of qubits or parameters,
            or out of range; a non-finite constant.
    """
    for name in circuit.parameters:
        if not name.isidentifier() or name in KEYWORDS:
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
        start = len(lines)
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
        if op.condition is not None:
            guard = _format_condition(op.condition, creg, circuit.clbit_count)
            lines[start:] = [f"if ({guard}) {line}" for line in lines[start:]]
    return "\n".join(lines) + "\n"


def _format_condition(condition: Condition, creg: str, clbit_count: int) -> str:
    """A condition as an OpenQASM 3 expression that the reader turns back into it: register
    comparisons on a slice ``c[a:b] == v`` when its bits are contiguous and ascending, else
    bit literals joined by ``&&``/``||`` (at most 16 bits)."""
    bits = condition.clbits
    if any(not 0 <= c < clbit_count for c in bits):
        raise InvalidProgramError(f"a condition reads clbits {list(bits)} outside the circuit's "
                                  f"{clbit_count}")
    values = sorted(condition.values)
    if not values:
        text = f"{creg}[{bits[0]}] != {creg}[{bits[0]}]"
    elif bits == tuple(range(bits[0], bits[0] + len(bits))):
        operand = f"{creg}[{bits[0]}]" if len(bits) == 1 else f"{creg}[{bits[0]}:{bits[-1]}]"
        text = " || ".join(f"{operand} == {v}" for v in values)
    elif len(bits) <= 16:
        text = " || ".join(
            "(" + " && ".join(f"{creg}[{c}] == {(v >> i) & 1}" for i, c in enumerate(bits)) + ")"
            for v in values)
    else:
        raise InvalidProgramError(
            f"a condition on {len(bits)} non-contiguous clbits cannot be written as OpenQASM 3")
    return f"!({text})" if condition.negated else text


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
