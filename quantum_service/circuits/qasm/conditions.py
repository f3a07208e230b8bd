"""Classical conditions of OpenQASM programs as :class:`~quantum_service.circuits.ir.Condition`.

Shared by both readers. A register comparison (``c == 5``, ``c != 5``, a bare bit ``c[0]``)
is one condition over the register's bits, up to
:data:`~quantum_service.circuits.ir.MAX_CONDITION_CLBITS` of them. Combining conditions (``&&``,
``||``, ``==``/``!=`` between bit expressions, nested ``if``) enumerates the truth table over the
distinct bits they read, at most :data:`MAX_TRUTH_TABLE_BITS` (``2**16`` rows); past that the
program is rejected with reason ``UNSUPPORTED_QASM``, except for ``&&``/``||`` of conditions on the
same bits, which intersect or unite their value sets without a table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from quantum_service.circuits.ir import MAX_CONDITION_CLBITS, Condition, Operation
from quantum_service.circuits.qasm.common import unsupported
from quantum_service.errors import InvalidProgramError

__all__ = [
    "MAX_TRUTH_TABLE_BITS",
    "attach",
    "both",
    "combine",
    "either",
    "register_equals",
    "simplified",
]

#: Most distinct classical bits a combined condition (``&&``, ``||``, bit ``==``) may read.
MAX_TRUTH_TABLE_BITS = 16


def register_equals(clbits: Sequence[int], value: int, *, what: str) -> Condition:
    """The condition ``register == value`` over ``clbits`` (least significant first).

    Raises:
        InvalidProgramError: more than 64 bits, or ``value`` outside ``[0, 2**len(clbits))``
            (the comparison could never hold; the message names ``what``).
    """
    if len(clbits) > MAX_CONDITION_CLBITS:
        raise unsupported(f"condition on '{what}' reads {len(clbits)} bits; qcore compares at "
                          f"most {MAX_CONDITION_CLBITS} bits")
    if not 0 <= value < 1 << len(clbits):
        raise InvalidProgramError(
            f"condition '{what} == {value}' can never hold: '{what}' has {len(clbits)} bit(s) "
            f"(values 0 to {(1 << len(clbits)) - 1})")
    return Condition(tuple(clbits), frozenset({value}))


def combine(a: Condition, b: Condition, rule: Callable[[bool, bool], bool], *, what: str
            ) -> Condition:
    """The condition ``rule(a holds, b holds)``, by its truth table over both conditions' bits.

    Raises:
        InvalidProgramError: reason ``UNSUPPORTED_QASM`` when the two read more than
            :data:`MAX_TRUTH_TABLE_BITS` distinct bits.
    """
    clbits = tuple(sorted(set(a.clbits) | set(b.clbits)))
    if len(clbits) > MAX_TRUTH_TABLE_BITS:
        raise unsupported(
            f"condition '{what}' combines {len(clbits)} distinct bits; qcore combines "
            f"conditions over at most {MAX_TRUTH_TABLE_BITS} bits (compare a whole register "
            "with '==' instead)")
    values = []
    for value in range(1 << len(clbits)):
        register = 0
        for i, c in enumerate(clbits):
            register |= ((value >> i) & 1) << c
        if rule(a.holds(register), b.holds(register)):
            values.append(value)
    return Condition(clbits, frozenset(values))


def both(a: Condition, b: Condition, *, what: str) -> Condition:
    """``a && b``."""
    if a.clbits == b.clbits and not a.negated and not b.negated:
        return Condition(a.clbits, a.values & b.values)
    return combine(a, b, lambda x, y: x and y, what=what)


def either(a: Condition, b: Condition, *, what: str) -> Condition:
    """``a || b``."""
    if a.clbits == b.clbits and not a.negated and not b.negated:
        return Condition(a.clbits, a.values | b.values)
    return combine(a, b, lambda x, y: x or y, what=what)


def simplified(condition: Condition) -> bool | Condition:
    """``True``/``False`` for a condition that always/never holds, else the condition."""
    size = 1 << len(condition.clbits)
    if not condition.values or len(condition.values) == size:
        return (len(condition.values) == size) != condition.negated
    return condition


def attach(operations: Iterable[Operation], condition: Condition | bool) -> list[Operation]:
    """The operations of an ``if`` branch, each carrying ``condition``.

    ``True`` leaves them unconditional, ``False`` drops them; a ``barrier`` stays
    unconditional; an operation already conditional (a nested ``if``) gets both conditions. The
    condition is read when each operation runs, so no operation but the
    branch's last may ``measure`` into a bit the condition reads.

    Raises:
        InvalidProgramError: reason ``UNSUPPORTED_QASM`` for a measurement into a condition bit
            followed by more operations of the branch.
    """
    ops = list(operations)
    if condition is True or condition is False:
        return ops if condition else [op for op in ops if op.name == "barrier"]
    read = set(condition.clbits)
    for index, op in enumerate(ops[:-1]):
        if op.name == "measure" and read & set(op.clbits):
            raise unsupported(
                f"the branch measures into bit(s) {sorted(read & set(op.clbits))} that its "
                "condition reads and then continues; measure into another bit, or end the "
                "branch with that measurement")
    out = []
    for op in ops:
        if op.name == "barrier":
            out.append(op)
            continue
        inner = condition if op.condition is None else both(condition, op.condition,
                                                                 what="nested if")
        settled = simplified(inner)
        if settled is True:
            out.append(replace(op, condition=None))
        elif settled is not False:
            out.append(replace(op, condition=settled))
    return out
