"""Terminal measurements are deferred past routing.

A *terminal* measurement reads a logical qubit on which no gate or ``reset`` follows, into a
classical bit that no later operation reads (a condition) or writes (another ``measure``); an
unconditional ``measure`` only. Every other ``measure`` (mid-circuit measurement, feed-forward)
stays in place. Routing
may still move that qubit afterwards (a SWAP through its physical qubit makes way for other
qubits), so measuring at the original position would read whichever logical qubit sits there
later. SWAPs only permute qubits, so measuring a logical qubit at the end of the circuit, on the
physical qubit where it ends, gives the same outcome distribution as measuring it where it was
measured: the principle of deferred measurement (Nielsen & Chuang, *Quantum Computation and
Quantum Information*, §4.4) — measurement commutes with every later operation that does not act
on the measured qubit. The compiler therefore takes terminal measurements out before routing
and appends them, mapped through the final layout, after the last operation; the physical qubit
a compiled ``measure`` names is then the one actually read (and whose readout error applies).
"""

from __future__ import annotations

from collections.abc import Sequence

from quantum_service.circuits.ir import Operation

__all__ = ["place_terminal_measurements", "split_terminal_measurements"]


def split_terminal_measurements(operations: Sequence[Operation]
                                ) -> tuple[list[Operation], list[Operation]]:
    """Separates terminal measurements (module docstring) from the rest.

    Args:
        operations: on logical qubits, ``barrier`` and ``id`` already dropped.
    Returns:
        The operations without terminal measurements (the qubits of a ``measure`` that is not
        terminal stay in place, as one ``measure``), and the terminal measurements
        in program order (one ``measure`` per source ``measure``, its terminal qubits only).
    """
    last_action: dict[int, int] = {}
    last_read: dict[int, int] = {}  # clbit -> last operation whose condition reads it
    last_write: dict[int, int] = {}  # clbit -> last measure writing it
    for index, op in enumerate(operations):
        if op.name not in ("measure", "barrier"):
            for q in op.qubits:
                last_action[q] = index
        if op.condition is not None:
            for c in op.condition.clbits:
                last_read[c] = index
        if op.name == "measure":
            for c in op.clbits:
                last_write[c] = index
    kept: list[Operation] = []
    terminal: list[Operation] = []
    for index, op in enumerate(operations):
        if op.name != "measure" or op.condition is not None:
            kept.append(op)
            continue
        pairs = list(zip(op.qubits, op.clbits))
        done = [(q, c) for q, c in pairs if last_action.get(q, -1) < index
                and last_read.get(c, -1) < index and last_write[c] == index]
        pending = [pair for pair in pairs if pair not in done]
        for group, out in ((pending, kept), (done, terminal)):
            if group:
                out.append(Operation("measure", tuple(q for q, _ in group), (),
                                     tuple(c for _, c in group)))
    return kept, terminal


def place_terminal_measurements(terminal: Sequence[Operation], final_layout: Sequence[int]
                                ) -> list[Operation]:
    """The terminal measurements on physical qubits: logical qubit ``v`` read on
    ``final_layout[v]``."""
    return [Operation("measure", tuple(final_layout[q] for q in op.qubits), (), op.clbits)
            for op in terminal]
