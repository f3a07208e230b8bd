"""OpenQASM 2 and 3 programs to and from qcore circuits.

:func:`parse_qasm` reads OpenQASM 2.0 (Cross et al., arXiv:1707.03429) and OpenQASM 3
(openqasm.com) text into a :class:`~quantum_service.circuits.ir.Circuit` along one of two paths
that give the same circuit:

* the fast OpenQASM 2 reader (:mod:`~quantum_service.circuits.qasm.reader2`) for programs with
  an ``OPENQASM 2`` header written in the OpenQASM 2 statement subset (declarations, gate
  definitions and calls, ``measure``, ``reset``, ``barrier``); it also reads ``^`` (power),
  which OpenQASM 2 has and the OpenQASM 3 grammar does not;
* the reference path for everything else: the ``openqasm3`` package's ANTLR parser
  (:mod:`~quantum_service.circuits.qasm.frontend3`, which also accepts OpenQASM 2's
  ``qreg``/``creg``/``measure q -> c``/``U``/``CX``) and the AST translator
  (:mod:`~quantum_service.circuits.qasm.translate3`).

Both count the operations a gate call expands to (bottom-up over nested definitions) before
expanding it, and reject a program past :data:`MAX_OPERATIONS` with reason
``PROGRAM_TOO_LARGE``.

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
  in all, counted before expanding). A definition named like a library gate
  whose unitary equals the library matrix (exactly in OpenQASM 3; up to a global phase in
  OpenQASM 2, which has no ``ctrl``) is recorded as that library gate instead of being expanded.
* ``measure`` (one operation per qubit; ``measure a -> b``, ``c[0] = measure q[0];``,
  ``bit b = measure q;``), ``reset`` (one per qubit), anywhere in the program (mid-circuit);
  ``barrier`` (no operand: all qubits). Pragmas and annotations are ignored.
* Classical feed-forward: OpenQASM 2 ``if (creg == n) statement;`` and OpenQASM 3
  ``if (cond) { ... } else { ... }`` (nested too) over bits and registers with ``==``, ``!=``,
  ``!``, ``&&``, ``||``; every operation of a branch carries its
  :class:`~quantum_service.circuits.ir.Condition` (``else``: the negated one), see
  :mod:`~quantum_service.circuits.qasm.conditions3`.
* Parameters: ``input float[64] θ;`` / ``input angle θ;`` declare symbolic parameters (in
  declaration order); ``pi π tau τ euler ℇ`` (OpenQASM 2: ``pi``) and ``const`` declarations are
  constants; ``+ - * /`` and unary minus give affine
  :class:`~quantum_service.circuits.ir.ParameterExpression`; ``**``, ``%`` and the functions
  ``sin cos tan arcsin arccos arctan exp ln log sqrt floor ceiling pow`` are evaluated on constants.

Everything else (loops, switch, subroutines, ``opaque``, ``defcal``, ``box``, ``delay``,
classical variables, ...) raises :class:`InvalidProgramError` with reason ``UNSUPPORTED_QASM``;
syntax errors raise it with reason ``QASM_SYNTAX_ERROR``; unknown gates with ``UNKNOWN_GATE``;
programs past the operation limit with ``PROGRAM_TOO_LARGE``. Messages name the construct and
the line.

:func:`to_qasm3` writes a circuit as OpenQASM 3 that :func:`parse_qasm` reads back to an equal
circuit.
"""

from __future__ import annotations

import re

from quantum_service.circuits.ir import Circuit
from quantum_service.circuits.qasm.common import (
    MAX_OPERATIONS,
    MAX_REGISTER_WIDTH,
    UNSUPPORTED,
    paused_gc,
    strip_comments,
)
from quantum_service.circuits.qasm.export import to_qasm3
from quantum_service.circuits.qasm.frontend3 import parse_program
from quantum_service.circuits.qasm.reader2 import OutsideSubset, read_openqasm2
from quantum_service.circuits.qasm.translate3 import translate_program
from quantum_service.errors import InvalidProgramError

__all__ = [
    "MAX_OPERATIONS",
    "MAX_REGISTER_WIDTH",
    "parse_qasm",
    "parse_qasm_reference",
    "to_qasm3",
]

# An OpenQASM 2 header after leading whitespace and comments.
_QASM2_HEADER = re.compile(r"(?:\s|//[^\n]*|/\*.*?\*/)*OPENQASM\s+2\b", re.DOTALL)


def parse_qasm(text: str, *, name: str = "") -> Circuit:
    """Translates an OpenQASM 2 or 3 program into a circuit.

    Args:
        text: the program source. Without a version line it is read as OpenQASM 3.
        name: the circuit's label.
    Returns:
        A :class:`Circuit` whose ``parameters`` are the program's ``input`` declarations in order.
    Raises:
        InvalidProgramError: reason ``QASM_SYNTAX_ERROR`` (with line and column),
            ``UNSUPPORTED_QASM`` (a construct qcore does not translate), ``UNKNOWN_GATE``,
            ``PROGRAM_TOO_LARGE`` (more than :data:`MAX_OPERATIONS` operations, detected before
            expansion), or the default reason for other errors (undeclared register, index out
            of range, wrong number of qubits or parameters, no qubits, more than
            :data:`MAX_REGISTER_WIDTH` qubits).
    """
    with paused_gc():
        if _QASM2_HEADER.match(text):
            try:
                return read_openqasm2(text, name=name)
            except OutsideSubset:
                pass
        return parse_qasm_reference(text, name=name)


def parse_qasm_reference(text: str, *, name: str = "") -> Circuit:
    """:func:`parse_qasm` along the reference path only (the ``openqasm3`` parser), for every
    program; the fast OpenQASM 2 reader is checked against it."""
    with paused_gc():
        if not strip_comments(text)[0].strip():
            raise InvalidProgramError(
                "the program is empty (only whitespace and comments): send an OpenQASM 2 or 3 "
                "program with at least a qubit declaration")
        program = parse_program(text)
        version = (program.version or "3").split(".")[0]
        if version not in ("2", "3"):
            raise InvalidProgramError(
                f"OpenQASM version {program.version} is not supported; use 2.0 or 3",
                reason=UNSUPPORTED)
        return translate_program(program, qasm2=version == "2", name=name)
