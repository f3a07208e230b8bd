"""Translation of canonical two-qubit gates and symbolic rotations into a target's native gates.

Every entangling gate is rewritten through ``Rzz(π/2) = exp(−iπ/4 Z⊗Z)``, which is locally
equivalent to each supported native entangler:

* ``cz ∝ [Rz(−π/2) ⊗ Rz(−π/2)] · Rzz(π/2)`` and ``cx = H_t · cz · H_t`` (Nielsen & Chuang §4.3);
* ``Rzz(π/2) = (H⊗H) · Rxx(π/2) · (H⊗H)`` (Mølmer–Sørensen; Maslov, "Basic circuit compilation
  techniques for an ion-trap quantum machine", New J. Phys. 19, 023018 (2017));
* ``ecr(a, b) = X_a · H_b · Rzz(π/2) · H_b`` (from qcore's ECR matrix ``(X⊗I − Y⊗X)/√2``,
  first qubit most significant; Qiskit's ECRGate in qcore's qubit order);
* ``Rzz(θ) = CX · [1 ⊗ Rz(θ)] · CX = H_b · CZ · [1 ⊗ Rx(θ)] · CZ · H_b``;
* ``Rxx(θ)``, ``Ryy(θ)`` by conjugating ``Rzz(θ)`` with ``H⊗H``, ``(SH)⊗(SH)`` (or
  ``Ryy = (S⊗S) Rxx (S†⊗S†)``);
* ``swap ∝ Rxx(−π/2) Ryy(−π/2) Rzz(−π/2)`` and ``iswap = Rxx(−π/2) Ryy(−π/2)``
  (``SWAP = (1 + XX + YY + ZZ)/2``), i.e. three and two native entanglers.

Symbolic ``rx``/``ry`` become ``r(θ, 0)``/``r(θ, π/2)`` or an ``rz(θ)`` between constant
Cliffords, so every symbolic gate left is a shift-rule rotation (see
:data:`quantum_service.compiler.operations.SHIFT_RULE_GATES`). Constant single-qubit gates are
left for :mod:`quantum_service.compiler.optimize` to synthesise.
"""

from __future__ import annotations

import math

from quantum_service.circuits.ir import Operation
from quantum_service.compiler.operations import (
    SHIFT_RULE_GATES,
    conditioned,
    gate,
    is_gate,
    wrap_angle,
)
from quantum_service.compiler.target import CompileTarget
from quantum_service.errors import InvalidProgramError

__all__ = ["translate_operations"]

_PI = math.pi
_HALF_PI = math.pi / 2


def translate_operations(operations: list[Operation], target: CompileTarget) -> list[Operation]:
    """Rewrites canonical operations (see :mod:`quantum_service.compiler.decompose`) so that
    every two-qubit or symbolic gate is native to ``target``.

    Returns:
        Equivalent operations (up to global phase); constant single-qubit gates may still be
        non-native.
    Raises:
        InvalidProgramError: the target has no two-qubit native gate but the circuit needs one
            (reason ``UNSUPPORTED_NATIVE_GATES``).
    """
    out: list[Operation] = []
    stack = list(reversed(operations))
    while stack:
        op = stack.pop()
        expansion = _expand(op, target)
        if expansion is None:
            out.append(op)
        else:  # the expansion of a conditional gate is conditional as a whole
            stack.extend(reversed(conditioned(expansion, op.condition)))
    return out


def _is_native(op: Operation, natives: frozenset[str]) -> bool:
    if op.name not in natives:
        return False
    if not op.is_parametric:
        return True
    if op.name == "r":
        return op.params[1].is_constant
    return op.name in SHIFT_RULE_GATES


def _expand(op: Operation, target: CompileTarget) -> list[Operation] | None:
    natives = target.native_gates
    if not is_gate(op) or _is_native(op, natives):
        return None
    if len(op.qubits) == 1:
        return _symbolic_1q(op, target) if op.is_parametric else None
    if target.entangler is None:
        raise InvalidProgramError(
            f"gate {op.name!r} needs a two-qubit native gate, but the target's native gates "
            f"{sorted(natives)} have none of cz, cx, ecr, rxx, rzz",
            reason="UNSUPPORTED_NATIVE_GATES",
        )
    a, b = op.qubits
    name = op.name
    if name == "cx":
        return [gate("h", (b,)), gate("cz", (a, b)), gate("h", (b,))]
    if name == "cz":
        return [gate("rzz", (a, b), _HALF_PI), gate("rz", (a,), -_HALF_PI),
                gate("rz", (b,), -_HALF_PI)]
    if name == "rzz":
        return _rzz(a, b, op, target)
    if name == "rxx":
        return _conjugate(a, b, gate("rzz", (a, b), op.params[0]), ("h",), ("h",))
    if name == "ryy":
        if "rxx" in natives:
            return _conjugate(a, b, gate("rxx", (a, b), op.params[0]), ("sdg",), ("s",))
        return _conjugate(a, b, gate("rzz", (a, b), op.params[0]), ("sdg", "h"), ("h", "s"))
    if name == "swap":
        return [gate("rxx", (a, b), -_HALF_PI), gate("ryy", (a, b), -_HALF_PI),
                gate("rzz", (a, b), -_HALF_PI)]
    if name == "iswap":
        return [gate("rxx", (a, b), -_HALF_PI), gate("ryy", (a, b), -_HALF_PI)]
    if name == "ecr":
        return [gate("h", (b,)), gate("rzz", (a, b), _HALF_PI), gate("h", (b,)),
                gate("x", (a,))]
    raise InvalidProgramError(
        f"gate {op.name!r} on {op.qubits} is not in canonical form; decompose it first",
        reason="UNSUPPORTED_GATE",
    )


def _conjugate(a: int, b: int, core: Operation, before: tuple[str, ...], after: tuple[str, ...]
               ) -> list[Operation]:
    """``before`` gates on both qubits, then ``core``, then ``after`` on both qubits."""
    pre = [gate(name, (q,)) for name in before for q in (a, b)]
    post = [gate(name, (q,)) for name in after for q in (a, b)]
    return pre + [core] + post


def _rzz(a: int, b: int, op: Operation, target: CompileTarget) -> list[Operation]:
    angle = op.params[0]
    if angle.is_constant:
        wrapped = wrap_angle(angle.constant)
        if abs(wrapped - _HALF_PI) < 1e-12:
            return _rzz_half_pi(a, b, target.entangler)
        if abs(wrapped + _HALF_PI) < 1e-12:  # Rzz(−π/2) ∝ (Z⊗Z)·Rzz(π/2)
            return [gate("rzz", (a, b), _HALF_PI), gate("z", (a,)), gate("z", (b,))]
    if "rxx" in target.native_gates:
        return _conjugate(a, b, gate("rxx", (a, b), angle), ("h",), ("h",))
    # CX·Rz_b(θ)·CX with CX = H_b·CZ·H_b, and H·Rz(θ)·H = Rx(θ) (one pulse on r/rx bases)
    return [gate("h", (b,)), gate("cz", (a, b)), gate("rx", (b,), angle), gate("cz", (a, b)),
            gate("h", (b,))]


def _rzz_half_pi(a: int, b: int, entangler: str | None) -> list[Operation]:
    """``Rzz(π/2)`` from one native entangler (see the module docstring)."""
    if entangler == "cz":
        return [gate("cz", (a, b)), gate("rz", (a,), _HALF_PI), gate("rz", (b,), _HALF_PI)]
    if entangler == "cx":
        return [gate("h", (b,)), gate("cx", (a, b)), gate("h", (b,)),
                gate("rz", (a,), _HALF_PI), gate("rz", (b,), _HALF_PI)]
    if entangler == "rxx":
        return _conjugate(a, b, gate("rxx", (a, b), _HALF_PI), ("h",), ("h",))
    if entangler == "ecr":
        return [gate("h", (b,)), gate("ecr", (a, b)), gate("x", (a,)), gate("h", (b,))]
    raise InvalidProgramError(f"no Rzz(π/2) rule for entangler {entangler!r}")


def _symbolic_1q(op: Operation, target: CompileTarget) -> list[Operation]:
    """Symbolic ``rx``/``ry``/``r`` (``rz`` is always native) in the target's basis."""
    q = op.qubits
    angle = op.params[0]
    basis = target.one_qubit_basis
    if op.name == "rx":
        if basis == "r":
            return [gate("r", q, angle, 0.0)]
        return [gate("h", q), gate("rz", q, angle), gate("h", q)]
    if op.name == "ry":
        if basis == "r":
            return [gate("r", q, angle, _HALF_PI)]
        return [gate("sdg", q), gate("rx", q, angle), gate("s", q)]
    if op.name == "r" and op.params[1].is_constant:  # R(θ, φ) = Rz(φ) Rx(θ) Rz(−φ)
        phi = op.params[1]
        return [gate("rz", q, -phi), gate("rx", q, angle), gate("rz", q, phi)]
    raise InvalidProgramError(
        f"symbolic gate {op.name!r} is not in canonical form; decompose it first",
        reason="UNSUPPORTED_GATE",
    )
