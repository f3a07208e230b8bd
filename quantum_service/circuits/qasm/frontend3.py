"""The reference front end: OpenQASM text to the ``openqasm3`` AST, errors as qcore errors.

:func:`parse_program` calls the public ``openqasm3.parse`` (the reference ANTLR grammar, which
also reads OpenQASM 2's ``qreg``/``creg``/``measure a -> b``/``U``/``CX``) and turns its
failures into :class:`InvalidProgramError` with reason ``QASM_SYNTAX_ERROR`` and the line and
1-based column; the one OpenQASM 2 statement the grammar lacks, ``opaque``, is reported as
unsupported. No text is rewritten before parsing.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading

import openqasm3
from antlr4 import RecognitionException, Token
from antlr4.error.Errors import InputMismatchException, NoViableAltException
from openqasm3 import ast
from openqasm3.parser import QASM3ParsingError

from quantum_service.circuits.qasm.common import SYNTAX, UNSUPPORTED, strip_comments
from quantum_service.errors import InvalidProgramError

__all__ = ["node_text", "parse_program"]

_VISITOR_ERROR = re.compile(r"L(\d+):C(\d+): (.*)", re.DOTALL)
_OPAQUE = re.compile(r"(?:^|[;{}])\s*opaque\b", re.MULTILINE)
# ``openqasm3.parse`` keeps ANTLR's console listener on its lexer, which prints a lexer error to
# ``sys.stderr`` before the error is raised. The error is reported to the caller instead, so
# ``sys.stderr`` is redirected while parsing; the lock keeps concurrent parses from restoring
# each other's stream. Logging handlers hold their own stream and are not affected.
_STDERR_LOCK = threading.Lock()


def _syntax_error(line: int, column: int, message: str) -> InvalidProgramError:
    # ANTLR columns are 0-based; messages give 1-based columns.
    return InvalidProgramError(
        f"OpenQASM syntax error at line {line}, column {column + 1}: {message}", reason=SYNTAX)


def _describe(token: Token) -> str:
    return "end of input" if token.type == Token.EOF else repr(token.text)


def _recognition_error(error: RecognitionException) -> InvalidProgramError:
    """A parser error as ANTLR's default strategy words it (``missing ';' at 'x'``)."""
    token = error.offendingToken
    if token is None:
        return InvalidProgramError("OpenQASM syntax error", reason=SYNTAX)
    message = f"unexpected {_describe(token)}"
    if isinstance(error, InputMismatchException | NoViableAltException):
        try:
            expected = error.getExpectedTokens()
        except Exception:  # noqa: BLE001 - the expected set is a hint; the position suffices
            expected = None
        if expected is not None and error.recognizer is not None:
            names = expected.toString(error.recognizer.literalNames,
                                      error.recognizer.symbolicNames)
            if ";" in names and "'" not in names.replace("';'", ""):
                message = f"missing ';' at {_describe(token)}"
            else:
                message += f", expecting {names}"
    return _syntax_error(token.line, token.column, message)


def parse_program(text: str) -> ast.Program:
    """``openqasm3.parse`` with errors raised as :class:`InvalidProgramError`.

    Raises:
        InvalidProgramError: reason ``QASM_SYNTAX_ERROR`` (``line L, column C: ...``), or
            ``UNSUPPORTED_QASM`` for an ``opaque`` declaration (``line L: ...``).
    """
    error: InvalidProgramError
    try:
        with _STDERR_LOCK, contextlib.redirect_stderr(io.StringIO()):
            return openqasm3.parse(text)
    except QASM3ParsingError as exc:
        match = _VISITOR_ERROR.match(str(exc))
        cause = exc.__cause__
        recognition = cause.args[0] if cause is not None and cause.args else None
        if match:
            error = _syntax_error(int(match[1]), int(match[2]), match[3])
        elif isinstance(recognition, RecognitionException):
            error = _recognition_error(recognition)
        else:
            error = InvalidProgramError(f"OpenQASM syntax error: {exc}", reason=SYNTAX)
    except RecursionError:
        error = InvalidProgramError("the program nests expressions too deeply", reason=SYNTAX)
    except ValueError as exc:  # a literal the AST builder cannot convert (thousands of digits)
        error = InvalidProgramError(f"OpenQASM syntax error: {exc}", reason=SYNTAX)
    stripped, _ = strip_comments(text)
    opaque = _OPAQUE.search(stripped)
    if opaque is not None:
        line = stripped.count("\n", 0, opaque.end()) + 1
        error = InvalidProgramError(
            f"line {line}: opaque gate declarations are not supported: qcore needs the "
            "definition (or a library gate) to simulate a gate", reason=UNSUPPORTED)
    raise error from None


def node_text(node: ast.QASMNode) -> str:
    """An AST node written back as OpenQASM, for error messages."""
    try:
        return openqasm3.dumps(node).strip().rstrip(";")
    except Exception:  # noqa: BLE001 - the printer does not cover every node; a label suffices
        return type(node).__name__
