"""Decomposition of every library gate into single-qubit gates and a few two-qubit gates.

The output ("canonical form") holds:

* single-qubit gates: any library gate with constant parameters, ``rz``/``rx``/``ry`` with a
  symbolic (affine) angle, or ``r`` with a symbolic θ and a constant φ;
* two-qubit gates from :data:`CANONICAL_2Q` (``rxx``/``ryy``/``rzz`` possibly symbolic);
* ``measure`` and ``reset`` unchanged (``barrier`` and ``id`` are dropped).

Sources of the rules:

* symbolic single-qubit gates: ``U(θ, φ, λ) ∝ Rz(φ) Ry(θ) Rz(λ)`` (OpenQASM 3 spec) and
  ``R(θ, φ) = Rz(φ) Rx(θ) Rz(−φ)``;
* constant controlled-U: ``U = V diag(e^{ia}, e^{ib}) V†`` (Schur form), so
  ``C-U = (1 ⊗ V) · [P(a) ⊗ 1] · CP(b − a) · (1 ⊗ V†)`` — one CZ when ``b − a = π`` (e.g. ``ch``),
  two CX otherwise (Nielsen & Chuang §4.3; Barenco et al., PRA 52, 3457 (1995), Lemma 5.1);
* symbolic ``crz``/``cry``: ``Rz(θ/2)·CX·Rz(−θ/2)·CX`` (Barenco et al. Lemma 5.4); ``cu3``: the
  OpenQASM 2 ``qelib1.inc`` definition (Cross et al., arXiv:1707.03429);
* multi-controlled phases (``cp``, ``ccz``, ``ccx``, ``c3x``, ``c4x``, ``c3sqrtx``):
  the phase ``e^{iλ x_1⋯x_m}`` written as a phase polynomial over parities,
  ``x_1⋯x_m = 2^{1−m} Σ_{S≠∅} (−1)^{|S|+1} ⊕_{i∈S} x_i`` (Welch et al., New J. Phys. 16, 033040
  (2014)), with parities visited in Gray-code order so it costs ``2^m − 2`` CX and no ancilla
  (Barenco et al. 1995, §7) — for ``ccx`` this is the 6-CX Toffoli of Nielsen & Chuang Fig. 4.9;
* ``cswap = CX(b,a)·CCX(c,a,b)·CX(b,a)``; ``rccx``/``rc3x``: their ``qelib1.inc`` definitions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.linalg

from quantum_service.circuits.gates import gate_matrix, gate_spec
from quantum_service.circuits.ir import Operation, ParameterExpression
from quantum_service.compiler.euler import zyz_angles
from quantum_service.compiler.operations import conditioned, gate
from quantum_service.errors import InvalidProgramError

__all__ = [
    "CANONICAL_2Q",
    "controlled_1q",
    "decompose_operations",
    "multi_controlled_phase",
    "validate_operation",
]

#: Two-qubit gates kept by :func:`decompose_operations` (the native-gate translation handles them).
CANONICAL_2Q = frozenset({"cx", "cz", "rzz", "rxx", "ryy", "swap", "iswap", "ecr"})

_SYMBOLIC_1Q_KEPT = frozenset({"rx", "ry", "rz"})
_PI = math.pi

Params = tuple[ParameterExpression, ...]
Rule = Callable[[tuple[int, ...], Params], list[Operation]]


def validate_operation(op: Operation, *, qubit_count: int, clbit_count: int) -> None:
    """Checks an operation's name, arity, parameters and indices.

    Raises:
        InvalidProgramError: unknown gate (reason ``UNKNOWN_GATE``), wrong qubit or parameter
            count, a non-finite parameter, a qubit outside ``[0, qubit_count)``, a repeated
            qubit, a bad ``measure``, or a condition reading a clbit outside
            ``[0, clbit_count)`` or attached to a ``barrier``.
    """
    bad_qubits = [q for q in op.qubits if not 0 <= q < qubit_count]
    if bad_qubits:
        raise InvalidProgramError(
            f"operation {op.name!r} uses qubit(s) {bad_qubits} outside [0, {qubit_count})"
        )
    if len(set(op.qubits)) != len(op.qubits):
        raise InvalidProgramError(f"operation {op.name!r} repeats a qubit: {list(op.qubits)}")
    if op.condition is not None:
        if op.name == "barrier":
            raise InvalidProgramError("a barrier cannot be conditional")
        bad_clbits = [c for c in op.condition.clbits if not 0 <= c < clbit_count]
        if bad_clbits:
            raise InvalidProgramError(
                f"the condition of {op.name!r} on qubits {list(op.qubits)} reads clbit(s) "
                f"{bad_clbits} outside [0, {clbit_count})")
    if op.name == "barrier":
        return
    if op.name in ("measure", "reset"):
        if not op.qubits:
            raise InvalidProgramError(f"{op.name!r} needs at least one qubit")
        if op.name == "measure" and (
            len(op.clbits) != len(op.qubits)
            or any(not 0 <= c < clbit_count for c in op.clbits)
        ):
            raise InvalidProgramError(
                f"'measure' on qubits {list(op.qubits)} needs one classical bit per qubit in "
                f"[0, {clbit_count}), got {list(op.clbits)}"
            )
        return
    spec = gate_spec(op.name)
    if len(op.qubits) != spec.qubit_count or len(op.params) != spec.param_count:
        raise InvalidProgramError(
            f"gate {op.name!r} takes {spec.qubit_count} qubit(s) and {spec.param_count} "
            f"parameter(s), got {len(op.qubits)} and {len(op.params)}"
        )
    for param in op.params:
        if not all(math.isfinite(x) for x in (param.constant, *(c for _, c in param.terms))):
            raise InvalidProgramError(
                f"gate {op.name!r} on qubits {list(op.qubits)} has a non-finite parameter "
                f"({param}); angles must be finite numbers of radians"
            )


def decompose_operations(operations: list[Operation] | tuple[Operation, ...]) -> list[Operation]:
    """Rewrites operations into canonical form (see the module docstring), keeping their order.

    Returns:
        The equivalent operations (equal up to global phase). Raises nothing for validated input.
    """
    out: list[Operation] = []
    stack = list(reversed(operations))
    while stack:
        op = stack.pop()
        expansion = _expand(op)
        if expansion is None:
            out.append(op)
        else:  # the expansion of a conditional gate is conditional as a whole
            stack.extend(reversed(conditioned(expansion, op.condition)))
    return out


def _expand(op: Operation) -> list[Operation] | None:
    """One rewriting step, or ``None`` when ``op`` is already canonical."""
    name = op.name
    if name in ("barrier", "id"):
        return []
    if name in ("measure", "reset"):
        return None
    qubits = len(op.qubits)
    if qubits == 1:
        if not op.is_parametric or name in _SYMBOLIC_1Q_KEPT:
            return None
        if name == "r" and op.params[1].is_constant:  # shift-rule in θ already
            return None
        return _SYMBOLIC_1Q[name](op.qubits, op.params)
    if qubits == 2 and name in CANONICAL_2Q:
        return None
    if qubits == 2 and not op.is_parametric:
        matrix = gate_matrix(name, [p.constant for p in op.params])
        if np.allclose(matrix[:2, :], np.eye(2, 4), atol=1e-12):  # a controlled gate
            return controlled_1q(op.qubits[0], op.qubits[1], matrix[2:, 2:])
    rule = _RULES.get(name)
    if rule is None:
        raise InvalidProgramError(
            f"the compiler has no decomposition for gate {name!r} with these parameters",
            reason="UNSUPPORTED_GATE",
        )
    return rule(op.qubits, op.params)


# --- building blocks --------------------------------------------------------------------------


def multi_controlled_phase(qubits: tuple[int, ...] | list[int], angle: ParameterExpression | float
                           ) -> list[Operation]:
    """Applies the phase ``e^{i·angle}`` to the basis states where all ``qubits`` are 1.

    Symmetric in the qubits. Uses ``2**m − 2`` ``cx`` and ``2**m − 1`` ``rz`` for ``m`` qubits
    (see the module docstring); exact up to global phase; ``angle`` may be symbolic.
    """
    m = len(qubits)
    scale = ParameterExpression.of(angle) / float(2 ** (m - 1))
    ops: list[Operation] = []
    for end in range(m - 1, -1, -1):
        accumulator, controls = qubits[end], qubits[:end]
        # Gray code over `controls`: the accumulator holds x_acc ⊕ (parity of the code's bits).
        ops.append(gate("rz", (accumulator,), scale))  # subset {accumulator}: sign +
        previous = 0
        for index in range(1, 2 ** len(controls)):
            code = index ^ (index >> 1)
            flipped = (code ^ previous).bit_length() - 1
            ops.append(gate("cx", (controls[flipped], accumulator)))
            size = code.bit_count() + 1
            ops.append(gate("rz", (accumulator,), scale if size % 2 else -scale))
            previous = code
        if controls:  # the last Gray code is a single bit: undo it
            ops.append(gate("cx", (controls[previous.bit_length() - 1], accumulator)))
    return ops


def _u_op(qubit: int, matrix: np.ndarray) -> list[Operation]:
    theta, phi, lam = zyz_angles(matrix)
    return [gate("u", (qubit,), theta, phi, lam)]


def controlled_1q(control: int, target: int, matrix: np.ndarray) -> list[Operation]:
    """Controlled-``matrix`` (a constant 2x2 unitary) from ``cz``/``cx`` and one-qubit gates.

    Exact up to global phase; one ``cz`` when ``matrix`` has eigenvalues ``±e^{ia}`` (e.g. ``ch``),
    otherwise two ``cx`` (see the module docstring).
    """
    diagonal, vectors = scipy.linalg.schur(np.asarray(matrix, dtype=np.complex128),
                                           output="complex")
    a, b = float(np.angle(diagonal[0, 0])), float(np.angle(diagonal[1, 1]))
    relative = math.remainder(b - a, 2 * _PI)
    if abs(relative) < 1e-12:  # a multiple of the identity: only a phase on the control
        return [gate("rz", (control,), a)]
    if abs(abs(relative) - _PI) < 1e-12:
        core = [gate("cz", (control, target))]
    else:
        core = multi_controlled_phase((control, target), relative)
    return (_u_op(target, vectors.conj().T) + core + [gate("rz", (control,), a)]
            + _u_op(target, vectors))


# --- rules ------------------------------------------------------------------------------------


def _h(q: int) -> Operation:
    return gate("h", (q,))


_SYMBOLIC_1Q: dict[str, Rule] = {
    "p": lambda q, p: [gate("rz", q, p[0])],
    "phase": lambda q, p: [gate("rz", q, p[0])],
    "u1": lambda q, p: [gate("rz", q, p[0])],
    "u": lambda q, p: [gate("rz", q, p[2]), gate("ry", q, p[0]), gate("rz", q, p[1])],
    "u3": lambda q, p: [gate("rz", q, p[2]), gate("ry", q, p[0]), gate("rz", q, p[1])],
    "u2": lambda q, p: [gate("rz", q, p[1]), gate("ry", q, _PI / 2), gate("rz", q, p[0])],
    "r": lambda q, p: [gate("rz", q, -p[1]), gate("rx", q, p[0]), gate("rz", q, p[1])],
}


def _crz(q: tuple[int, ...], p: Params) -> list[Operation]:
    c, t = q
    return [gate("rz", (t,), p[0] / 2), gate("cx", (c, t)), gate("rz", (t,), -p[0] / 2),
            gate("cx", (c, t))]


def _cry(q: tuple[int, ...], p: Params) -> list[Operation]:
    c, t = q
    return [gate("ry", (t,), p[0] / 2), gate("cx", (c, t)), gate("ry", (t,), -p[0] / 2),
            gate("cx", (c, t))]


def _crx(q: tuple[int, ...], p: Params) -> list[Operation]:
    return [_h(q[1]), gate("crz", q, p[0]), _h(q[1])]


def _cu3(q: tuple[int, ...], p: Params) -> list[Operation]:
    c, t = q
    theta, phi, lam = p
    return [
        gate("rz", (c,), (lam + phi) / 2), gate("rz", (t,), (lam - phi) / 2), gate("cx", (c, t)),
        gate("u3", (t,), -theta / 2, 0.0, -(phi + lam) / 2), gate("cx", (c, t)),
        gate("u3", (t,), theta / 2, phi, 0.0),
    ]


def _cu(q: tuple[int, ...], p: Params) -> list[Operation]:
    return [gate("rz", (q[0],), p[3]), gate("cu3", q, *p[:3])]


def _cp(q: tuple[int, ...], p: Params) -> list[Operation]:
    return multi_controlled_phase(q, p[0])


def _mcx(q: tuple[int, ...], p: Params) -> list[Operation]:
    return [_h(q[-1])] + multi_controlled_phase(q, _PI) + [_h(q[-1])]


def _ccz(q: tuple[int, ...], p: Params) -> list[Operation]:
    return multi_controlled_phase(q, _PI)


def _c3sqrtx(q: tuple[int, ...], p: Params) -> list[Operation]:
    # SX = H·S·H exactly, so C³-SX = H_t · C³-S · H_t.
    return [_h(q[-1])] + multi_controlled_phase(q, _PI / 2) + [_h(q[-1])]


def _cswap(q: tuple[int, ...], p: Params) -> list[Operation]:
    c, a, b = q
    return [gate("cx", (b, a)), gate("ccx", (c, a, b)), gate("cx", (b, a))]


def _rccx(q: tuple[int, ...], p: Params) -> list[Operation]:
    a, b, c = q
    t, tdg = gate("t", (c,)), gate("tdg", (c,))
    return [_h(c), t, gate("cx", (b, c)), tdg, gate("cx", (a, c)), t, gate("cx", (b, c)), tdg,
            _h(c)]


def _rc3x(q: tuple[int, ...], p: Params) -> list[Operation]:
    a, b, c, d = q
    t, tdg, h = gate("t", (d,)), gate("tdg", (d,)), _h(d)
    return [h, t, gate("cx", (c, d)), tdg, h, gate("cx", (a, d)), t, gate("cx", (b, d)), tdg,
            gate("cx", (a, d)), t, gate("cx", (b, d)), tdg, h, t, gate("cx", (c, d)), tdg, h]


_RULES: dict[str, Rule] = {
    "crz": _crz,
    "cry": _cry,
    "crx": _crx,
    "cu3": _cu3,
    "cu": _cu,
    "cp": _cp,
    "cphase": _cp,
    "cu1": _cp,
    "ccx": _mcx,
    "c3x": _mcx,
    "c4x": _mcx,
    "ccz": _ccz,
    "c3sqrtx": _c3sqrtx,
    "cswap": _cswap,
    "rccx": _rccx,
    "rc3x": _rc3x,
}
