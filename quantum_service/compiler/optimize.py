"""Single-qubit synthesis and light peephole optimisation of native circuits.

* :func:`synthesize_single_qubit_gates` turns constant single-qubit gates into the target's
  native basis (:mod:`quantum_service.compiler.euler`); with ``merge=True`` each maximal run of
  constant single-qubit gates on a qubit is first multiplied into one 2x2 unitary.
* :func:`peephole` merges adjacent rotations about the same axis on the same qubits (including
  symbolic sums, e.g. ``rz(θ)·rz(π/2) → rz(θ + π/2)``), drops constant rotations by a multiple
  of 2π (``R(2π) = −1``, a global phase) and cancels adjacent self-inverse pairs (``cz cz``,
  ``x x``, ...).

Both preserve the circuit's unitary up to global phase and leave symbolic gates shift-rule
rotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from quantum_service.circuits.gates import gate_matrix
from quantum_service.circuits.ir import Operation, ParameterExpression
from quantum_service.compiler.euler import synthesize_1q
from quantum_service.compiler.operations import (
    ANGLE_TOLERANCE,
    PAULI_ROTATIONS,
    conditioned,
    is_constant_1q,
    is_gate,
    is_zero_angle,
    wrap_angle,
)
from quantum_service.compiler.target import CompileTarget

__all__ = ["optimize_native", "peephole", "synthesize_single_qubit_gates"]

#: Gates whose qubits may be listed in either order.
_SYMMETRIC = frozenset({"cz", "rzz", "rxx", "ryy", "swap", "iswap"})
#: Gates equal to their own inverse (on the same qubit order).
_SELF_INVERSE = frozenset({"x", "y", "z", "h", "cx", "cz", "cy", "swap", "ecr", "ccx", "ccz"})


def synthesize_single_qubit_gates(operations: Sequence[Operation], target: CompileTarget, *,
                                  merge: bool) -> list[Operation]:
    """Rewrites constant single-qubit gates into the target's native basis.

    Args:
        operations: on any qubits; symbolic and multi-qubit gates pass through unchanged; a
            conditional single-qubit gate is never merged and is synthesised alone into
            native gates carrying its condition.
        target: supplies the basis (:attr:`CompileTarget.one_qubit_basis`).
        merge: multiply each run of consecutive constant single-qubit gates on a qubit before
            synthesis (otherwise each non-native gate is synthesised on its own and native ones
            are kept as they are).
    Returns:
        Operations equal to the input up to global phase.
    """
    basis = target.one_qubit_basis
    assert basis is not None  # guaranteed by CompileTarget
    use_x = "x" in target.native_gates
    pending: dict[int, list[Operation]] = {}
    out: list[Operation] = []

    def flush(qubit: int) -> None:
        run = pending.pop(qubit, None)
        if not run:
            return
        if merge and not (len(run) == 1 and run[0].name in target.native_gates):
            product = np.eye(2, dtype=np.complex128)
            for op in run:
                product = gate_matrix(op.name, [p.constant for p in op.params]) @ product
            out.extend(synthesize_1q(product, qubit, basis=basis, use_x=use_x))
            return
        for op in run:
            if op.name in target.native_gates:
                out.append(op)
            else:
                matrix = gate_matrix(op.name, [p.constant for p in op.params])
                out.extend(synthesize_1q(matrix, qubit, basis=basis, use_x=use_x))

    for op in operations:
        if is_constant_1q(op):
            pending.setdefault(op.qubits[0], []).append(op)
            continue
        for qubit in op.qubits:
            flush(qubit)
        if (op.condition is not None and len(op.qubits) == 1 and is_gate(op)
                and not op.is_parametric and op.name not in target.native_gates):
            # a conditional gate is synthesised on its own into conditional native gates
            matrix = gate_matrix(op.name, [p.constant for p in op.params])
            out.extend(conditioned(synthesize_1q(matrix, op.qubits[0], basis=basis,
                                                 use_x=use_x), op.condition))
            continue
        out.append(op)
    for qubit in sorted(pending):
        flush(qubit)
    return out


def _normalized(op: Operation) -> Operation | None:
    """``op`` with constant rotation angles wrapped to (−π, π]; ``None`` for an identity."""
    if op.name == "id":
        return None
    if op.name in PAULI_ROTATIONS or op.name == "r":
        if is_zero_angle(op.params[0]):
            return None
        params = tuple(
            ParameterExpression(wrap_angle(p.constant)) if p.is_constant else p for p in op.params
        )
        return replace(op, params=params)
    return op


def _same_qubits(a: Operation, b: Operation) -> bool:
    if a.qubits == b.qubits:
        return True
    return a.name in _SYMMETRIC and sorted(a.qubits) == sorted(b.qubits)


_KEEP_BOTH = object()


def _combine(first: Operation, second: Operation) -> Operation | None | object:
    """The single operation equal to ``first`` then ``second``; ``None`` when they cancel;
    ``_KEEP_BOTH`` when no rule applies."""
    if first.name != second.name or not _same_qubits(first, second):
        return _KEEP_BOTH
    name = first.name
    if name in _SELF_INVERSE:
        return None
    if name in PAULI_ROTATIONS:
        return _normalized(Operation(name, first.qubits, (first.params[0] + second.params[0],)))
    if name == "r":
        phi_a, phi_b = first.params[1], second.params[1]
        if (phi_a.is_constant and phi_b.is_constant
                and abs(wrap_angle(phi_a.constant - phi_b.constant)) < ANGLE_TOLERANCE):
            return _normalized(
                Operation(name, first.qubits, (first.params[0] + second.params[0], phi_a))
            )
    return _KEEP_BOTH


def peephole(operations: Sequence[Operation]) -> list[Operation]:
    """One left-to-right pass of merges and cancellations (see the module docstring).

    ``measure``, ``reset``, ``barrier`` and conditional operations block merging across them
    on their qubits; a conditional rotation by a multiple of 2π is dropped like an
    unconditional one (it is a global phase on the branches where it runs).
    """
    out: list[Operation | None] = []
    stacks: dict[int, list[int]] = {}  # qubit -> indices into `out` of live ops on it
    for raw in operations:
        op = _normalized(raw) if is_gate(raw) else raw
        if op is None:
            continue
        tops = {stacks[q][-1] if stacks.get(q) else -1 for q in op.qubits}
        if is_gate(op) and op.condition is None and len(tops) == 1 \
                and (index := tops.pop()) >= 0:
            previous = out[index]
            assert previous is not None
            # a conditional operation is a barrier: nothing merges with it or across it
            if previous.condition is None and set(previous.qubits) == set(op.qubits):
                combined = _combine(previous, op)
                if combined is not _KEEP_BOTH:
                    if combined is None:
                        out[index] = None
                        for q in op.qubits:
                            stacks[q].pop()
                    else:
                        assert isinstance(combined, Operation)
                        out[index] = combined
                    continue
        out.append(op)
        for q in op.qubits:
            stacks.setdefault(q, []).append(len(out) - 1)
    return [op for op in out if op is not None]


def optimize_native(operations: Sequence[Operation], target: CompileTarget, *,
                    max_rounds: int = 8) -> list[Operation]:
    """Alternates merged single-qubit synthesis and :func:`peephole` until the gate count stops
    falling (at most ``max_rounds`` rounds).

    Returns:
        Native operations equal to the input up to global phase.
    """
    current = peephole(synthesize_single_qubit_gates(operations, target, merge=True))
    for _ in range(max_rounds - 1):
        candidate = peephole(synthesize_single_qubit_gates(current, target, merge=True))
        if len(candidate) >= len(current):
            break
        current = candidate
    return current
