"""Dynamical decoupling: pulse sequences in the idle windows of a compiled circuit's schedule.

An idle qubit of a noisy simulated device keeps decohering (:mod:`quantum_service.devices`):
``T1``/``T2`` relaxation, precession at a stale calibrated frequency (``Rz(2π Δf t)``), and the
ZZ phase it accumulates with each neighbour. A sequence of π pulses whose product is the
identity refocuses the coherent, quasi-static parts (detuning; ZZ with a neighbour that is not
pulsed at the same times) — Hahn echo / CPMG for ``X–X`` and ``XY4`` for ``X–Y–X–Y``
(Viola, Knill & Lloyd, "Dynamical decoupling of open quantum systems", PRL 82, 2417 (1999);
Ezzell et al., "Dynamical decoupling for superconducting qubits: a performance survey",
PRApplied 20, 064027 (2023)). Markovian ``T1``/``T2`` decay is not refocused, and every pulse
adds its own gate error, so decoupling pays off where coherent idle errors dominate.

Schedule: operations start as soon as their qubits are free (the schedule the simulated
device plays); each window between two operations on a qubit, or between its last gate and the
end of the schedule, that lasts at least twice the sequence's pulse time gets the ``n`` pulses
spaced ``τ/2n, τ/n, …, τ/n, τ/2n`` (``τ`` = window minus pulse time), written as ``delay``
pseudo-gates and native pulses. The schedule's length is unchanged, so decoupling costs no
device time. Windows before a qubit's first gate (the qubit is still in ``|0⟩``) are left alone.
"""

from __future__ import annotations

from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler.euler import synthesize_1q
from quantum_service.contract import DELAY, QpuCapabilities
from quantum_service.contract.mitigation import DecouplingSequence
from quantum_service.engines.executable import gate_duration_ns
from quantum_service.mitigation.folding import split_body
from quantum_service.mitigation.twirling import PAULIS

__all__ = ["insert_decoupling", "sequence_paulis"]


def sequence_paulis(sequence: DecouplingSequence) -> tuple[int, ...]:
    """The pulses of ``sequence`` as Pauli indices (``X = 1``, ``Y = 3``; see
    :data:`~quantum_service.mitigation.twirling.PAULIS`)."""
    return (1, 1) if sequence is DecouplingSequence.XX else (1, 3, 1, 3)


def insert_decoupling(circuit: Circuit, caps: QpuCapabilities, *, sequence: DecouplingSequence,
                      basis: str, use_x: bool) -> tuple[Circuit, int]:
    """``circuit`` with decoupling pulses in its idle windows (module docstring).

    Args:
        circuit: a native circuit on physical qubits (measurements at the end).
        caps: the device (gate durations, ns).
        sequence: the pulse sequence.
        basis, use_x: the target's single-qubit basis (see
            :func:`~quantum_service.compiler.euler.synthesize_1q`).
    Returns:
        the new circuit and the number of pulses inserted.
    Raises:
        InvalidProgramError: a dynamic circuit (reason ``UNSUPPORTED_OPERATION``).
    """
    body, tail = split_body(circuit)
    clock: dict[int, float] = {}
    last: dict[int, int] = {}
    windows: dict[int, list[tuple[int, float]]] = {}  # body index → (qubit, idle ns) after it
    for i, op in enumerate(body):
        if op.name == DELAY:
            for q in op.qubits:
                clock[q] = clock.get(q, 0.0) + float(op.params[0].constant)
                last[q] = i
            continue
        start = max(clock.get(q, 0.0) for q in op.qubits)
        for q in op.qubits:
            if q in last and start - clock[q] > 0:
                windows.setdefault(last[q], []).append((q, start - clock[q]))
        end = start + gate_duration_ns(caps, op.name, len(op.qubits))
        for q in op.qubits:
            clock[q] = end
            last[q] = i
    finish = max(clock.values(), default=0.0)
    for q, t in clock.items():
        if finish - t > 0:
            windows.setdefault(last[q], []).append((q, finish - t))
    paulis = sequence_paulis(sequence)
    out: list[Operation] = []
    inserted = 0
    for i, op in enumerate(body):
        out.append(op)
        for q, idle_ns in windows.get(i, ()):
            pulses = [synthesize_1q(PAULIS[p], q, basis=basis, use_x=use_x) for p in paulis]
            pulse_ns = sum(gate_duration_ns(caps, g.name, 1) for pulse in pulses for g in pulse)
            if pulse_ns <= 0 or idle_ns < 2 * pulse_ns:
                continue
            tau = idle_ns - pulse_ns
            n = len(pulses)
            for k, pulse in enumerate(pulses):
                out.append(_delay(q, tau / (2 * n) if k == 0 else tau / n))
                out.extend(pulse)
            out.append(_delay(q, tau / (2 * n)))
            inserted += n
    return Circuit(circuit.qubit_count, tuple(out + tail), circuit.clbit_count,
                   circuit.parameters, circuit.name), inserted


def _delay(qubit: int, ns: float) -> Operation:
    return Operation(DELAY, (qubit,), (ParameterExpression(float(ns)),))
