"""Unitary folding: scale a compiled circuit's noise without changing its ideal action.

Giurgica-Tiron, Hindy, LaRose, Mari & Zeng, "Digital zero noise extrapolation for quantum error
mitigation", IEEE QCE 2020, arXiv:2005.10921, §II: a circuit ``C = L_d ⋯ L_1`` of ``d`` gates
becomes ``C (C† C)^n`` (*global* folding) or ``Π_i L_i (L_i† L_i)^n`` (*local* folding), which
is ``C`` on an ideal device and runs ``1 + 2n`` times as many noisy gates. For a scale factor
``λ`` that is not an odd integer, ``k = round(d (λ - 1) / 2)`` gate folds are made in all: each
gate (local) or the whole circuit (global) is folded ``k // d`` times, and the remaining
``k mod d`` folds go to the first gates (local) or to the last gates as ``L† L`` (global). The
achieved factor ``1 + 2k/d`` is what the fit uses.

Folding runs on the *native* circuit after routing, and the inverse of every native gate is
written in native gates again, so the device executes — and its noise model charges — every
folded gate. Only unitary gates are folded; terminal measurements stay at the end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Circuit, Operation
from quantum_service.compiler.euler import synthesize_1q
from quantum_service.contract.mitigation import Folding
from quantum_service.errors import InvalidProgramError

__all__ = ["fold_circuit", "inverse_gate", "split_body"]

#: Gates equal to their own inverse.
SELF_INVERSE = frozenset({"id", "x", "y", "z", "h", "cx", "cy", "cz", "swap", "ecr"})
#: Gates whose inverse negates their first angle (rotations about a fixed axis).
NEGATE_FIRST_ANGLE = frozenset({"rz", "rx", "ry", "p", "phase", "u1", "r", "rxx", "ryy", "rzz",
                                "crz", "cp", "cphase", "cu1"})
#: Operations that are not folded (not gates, or no noise to scale).
NOT_FOLDED = frozenset({"measure", "barrier", "reset", "delay"})


def inverse_gate(op: Operation, *, basis: str, use_x: bool) -> list[Operation]:
    """Native gates implementing ``op†`` (up to global phase).

    Args:
        op: a native gate on physical qubits (constant or symbolic angles).
        basis: the target's single-qubit basis (``"sx"``, ``"r"``, ``"rx"``, ``"ry"``), for
            constant single-qubit gates without a native inverse (``sx† = rz(π) sx rz(π)``).
        use_x: whether ``x`` is native (see :func:`~quantum_service.compiler.euler.synthesize_1q`).
    Returns:
        Operations in circuit order.
    Raises:
        InvalidProgramError: a symbolic gate other than a rotation, or a constant multi-qubit
            gate that is not self-inverse (reason ``UNSUPPORTED_OPERATION``).
    """
    if op.name in SELF_INVERSE:
        return [op]
    if op.name in NEGATE_FIRST_ANGLE:
        return [Operation(op.name, op.qubits, (-op.params[0], *op.params[1:]))]
    if len(op.qubits) == 1 and not op.is_parametric:
        matrix = gate_matrix(op.name, [p.constant for p in op.params]).conj().T
        return synthesize_1q(matrix, op.qubits[0], basis=basis, use_x=use_x)
    raise InvalidProgramError(
        f"cannot fold {op.name!r}: its inverse is not a native gate",
        reason="UNSUPPORTED_OPERATION")


def split_body(circuit: Circuit) -> tuple[list[Operation], list[Operation]]:
    """The circuit's unitary gates (in order) and its terminal measurements.

    Raises:
        InvalidProgramError: the circuit is dynamic (mid-circuit measurement, reset or a
            condition; reason ``UNSUPPORTED_OPERATION``): folding needs a unitary body.
    """
    body: list[Operation] = []
    tail: list[Operation] = []
    measured: set[int] = set()
    for op in circuit.operations:
        if op.condition is not None or op.name == "reset":
            raise InvalidProgramError(
                "error mitigation by circuit transformation needs a circuit without resets or "
                "classical conditions", reason="UNSUPPORTED_OPERATION")
        if op.name == "measure":
            tail.append(op)
            measured.update(op.qubits)
        elif op.name != "barrier":
            if measured.intersection(op.qubits):
                raise InvalidProgramError(
                    "error mitigation by circuit transformation needs every measurement at the "
                    "end of its qubit", reason="UNSUPPORTED_OPERATION")
            body.append(op)
    return body, tail


def fold_circuit(circuit: Circuit, scale_factor: float, *, folding: Folding, basis: str,
                 use_x: bool) -> tuple[Circuit, float]:
    """Folds ``circuit`` to scale its gate noise by ``scale_factor``.

    Args:
        circuit: a native circuit on physical qubits (measurements at the end).
        scale_factor: λ >= 1.
        folding: :attr:`Folding.GLOBAL` or :attr:`Folding.LOCAL` (module docstring).
        basis, use_x: as for :func:`inverse_gate`.
    Returns:
        the folded circuit (same qubits, clbits, parameters) and the achieved scale factor
        ``1 + 2k/d`` over the ``d`` foldable gates (``1.0`` when there are none).
    Raises:
        InvalidProgramError: ``scale_factor < 1`` (reason ``INVALID_MITIGATION``); a dynamic
            circuit or a gate without a native inverse (reason ``UNSUPPORTED_OPERATION``).
    """
    if not math.isfinite(scale_factor) or scale_factor < 1.0:
        raise InvalidProgramError(f"noise scale factors must be >= 1, got {scale_factor}",
                                  reason="INVALID_MITIGATION")
    body, tail = split_body(circuit)
    gates = [op for op in body if op.name not in NOT_FOLDED]
    d = len(gates)
    if d == 0:
        return circuit, 1.0
    folds = int(round(d * (scale_factor - 1.0) / 2.0))
    whole, rest = divmod(folds, d)

    def inverse(ops: Sequence[Operation]) -> list[Operation]:
        return [g for op in reversed(ops) for g in inverse_gate(op, basis=basis, use_x=use_x)]

    out: list[Operation] = []
    if folding is Folding.GLOBAL:
        out.extend(body)
        undo = inverse(body)
        for _ in range(whole):
            out.extend(undo)
            out.extend(body)
        if rest:
            last = _last_gates(body, rest)
            out.extend(inverse(last))
            out.extend(last)
    else:
        index = 0
        for op in body:
            out.append(op)
            if op.name in NOT_FOLDED:
                continue
            times = whole + (1 if index < rest else 0)
            index += 1
            undo = inverse([op])
            for _ in range(times):
                out.extend(undo)
                out.append(op)
    folded = Circuit(circuit.qubit_count, tuple(out + tail), circuit.clbit_count,
                     circuit.parameters, circuit.name)
    return folded, 1.0 + 2.0 * folds / d


def _last_gates(body: Sequence[Operation], count: int) -> list[Operation]:
    """The shortest suffix of ``body`` that holds ``count`` foldable gates."""
    taken = 0
    for start in range(len(body) - 1, -1, -1):
        if body[start].name not in NOT_FOLDED:
            taken += 1
            if taken == count:
                return list(body[start:])
    return list(body)

