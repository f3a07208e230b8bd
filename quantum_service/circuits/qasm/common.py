"""Definitions shared by qcore's OpenQASM readers and writer: error reasons, names, limits.

Limits bound what one program may cost before any gate is expanded: the reader counts the
operations a call will produce (bottom-up over nested ``gate`` definitions) and rejects the
program with reason :data:`TOO_LARGE` when the count passes :data:`MAX_OPERATIONS`.
"""

from __future__ import annotations

import gc
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from quantum_service.circuits.qasm_library import UNSUPPORTED
from quantum_service.errors import InvalidProgramError

__all__ = [
    "FUNCTIONS",
    "INCLUDES",
    "KEYWORDS",
    "MAX_OPERATIONS",
    "MAX_REGISTER_WIDTH",
    "SATURATED_COUNT",
    "SYNTAX",
    "TOO_LARGE",
    "UNSUPPORTED",
    "located",
    "paused_gc",
    "saturating_add",
    "strip_comments",
    "too_large",
    "unsupported",
]

#: Upper bound on the operations a program may expand to (nested gates, ``pow``).
MAX_OPERATIONS = 1_000_000
#: Upper bound on the total number of qubits, and of clbits, a program may declare.
MAX_REGISTER_WIDTH = 1 << 20
#: Operation counts are added up saturating at this value, so that a definition nested
#: thousands of levels deep is counted in constant-size integers.
SATURATED_COUNT = 1 << 62

#: Error reason of malformed program text.
SYNTAX = "QASM_SYNTAX_ERROR"
#: Error reason of a program that expands to more than :data:`MAX_OPERATIONS` operations.
TOO_LARGE = "PROGRAM_TOO_LARGE"

#: Include files that are built in (no file is read).
INCLUDES = frozenset({"qelib1.inc", "stdgates.inc"})

#: OpenQASM 3 reserved words (openqasm.com, "Language specification"), OpenQASM 2's ``qreg``,
#: ``creg`` and ``opaque``, and the builtin gate names ``U``/``CX``.
KEYWORDS = frozenset("""
OPENQASM include defcalgrammar def cal defcal gate extern box let break continue if else end
return for while in switch case default pragma input output const readonly mutable qreg qubit
creg bool bit int uint float angle complex array void duration stretch gphase inv pow ctrl
negctrl dim durationof delay reset measure barrier true false pi π tau τ euler ℇ U CX opaque
sizeof
""".split())  # noqa: SIM905 - a word list reads best as text

#: Functions of constant gate-parameter expressions: name -> (arity, function).
FUNCTIONS: dict[str, tuple[int, Callable[..., float]]] = {
    "sin": (1, math.sin), "cos": (1, math.cos), "tan": (1, math.tan),
    "arcsin": (1, math.asin), "arccos": (1, math.acos), "arctan": (1, math.atan),
    "exp": (1, math.exp), "ln": (1, math.log), "log": (1, math.log), "sqrt": (1, math.sqrt),
    "floor": (1, math.floor), "ceiling": (1, math.ceil), "pow": (2, math.pow),
}


def unsupported(message: str) -> InvalidProgramError:
    """An error with reason ``UNSUPPORTED_QASM``."""
    return InvalidProgramError(message, reason=UNSUPPORTED)


def located(line: int | str, error: InvalidProgramError) -> InvalidProgramError:
    """``error`` with ``line {line}: `` before its message, same reason."""
    return InvalidProgramError(f"line {line}: {error}", reason=error.reason)


_COMMENT_START = re.compile(r"//|/\*")
_LINE_COMMENT = re.compile(r"//[^\n]*")


def strip_comments(text: str) -> tuple[str, bool]:
    """The text with comments removed, newlines (and so line numbers) kept, and whether every
    ``/*`` is closed (an unclosed one runs to the end of the text).

    One left-to-right scan, as a lexer reads comments (``//`` inside ``/* */`` and the reverse
    are plain text), in time linear in the text.
    """
    if "/*" not in text:
        return (_LINE_COMMENT.sub("", text) if "//" in text else text), True
    parts = []
    position = 0
    while (match := _COMMENT_START.search(text, position)) is not None:
        parts.append(text[position:match.start()])
        if match[0] == "//":
            end = text.find("\n", match.end())
            position = len(text) if end < 0 else end
        else:
            end = text.find("*/", match.end())
            if end < 0:
                parts.append("\n" * text.count("\n", match.start()))
                return "".join(parts), False
            parts.append("\n" * text.count("\n", match.start(), end))
            position = end + 2
    parts.append(text[position:])
    return "".join(parts), True


def saturating_add(a: int, b: int) -> int:
    """``a + b``, at most :data:`SATURATED_COUNT`."""
    return min(a + b, SATURATED_COUNT)


def _count_text(count: int) -> str:
    return f"at least {SATURATED_COUNT}" if count >= SATURATED_COUNT else str(count)


def too_large(name: str, per_call: int, total: int) -> InvalidProgramError:
    """The error for a call of gate ``name`` (``per_call`` operations each) that would bring
    the program to ``total`` operations, more than :data:`MAX_OPERATIONS`."""
    return InvalidProgramError(
        f"the program expands to more than {MAX_OPERATIONS} operations: gate '{name}' expands "
        f"to {_count_text(per_call)} operation(s) per call, {_count_text(total)} in all; split "
        "the program or define fewer nested gate calls", reason=TOO_LARGE)


_GC_LOCK = threading.Lock()
_gc_pauses = 0  # parses running under paused_gc
_gc_was_enabled = False  # the collector's state when the first of them began


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pauses CPython's cyclic garbage collector while a program is read.

    Reading allocates an object per token, operation and parameter; every 700 allocations the
    collector would scan the young objects and, as the circuit grows, ever larger older
    generations, which costs about a third of the reading time of a large program. The
    operations form no reference cycles, so reference counting frees them; the cycles of the
    reference path's ANTLR parse tree (parent links) are collected once the collector runs
    again. Nested and concurrent pauses are counted, and the collector's earlier state is
    restored when the last one ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _GC_LOCK:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
