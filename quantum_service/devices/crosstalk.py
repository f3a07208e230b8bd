"""Crosstalk between neighbouring qubits: always-on ZZ coupling and spectator errors.

Which qubits are neighbours: the pairs of the coupling map; on all-to-all devices (trapped-ion
chains, photonic interferometers) consecutive qubits, which sit next to each other in the chain
(:func:`crosstalk_pairs`).

**Always-on ZZ.** Two coupled transmons are never fully decoupled: the repulsion of their
``|11>`` level from the non-computational levels shifts it by ``ζ`` (the static ZZ rate), so
``H = (ζ/4) Z⊗Z`` in the symmetric convention, i.e. ``ζ |11><11|`` up to single-qubit
``Z`` terms. Those single-qubit terms are part of each qubit's frequency as Ramsey calibration
measures it (neighbours in ``|0>``), so what remains in the calibrated frame is the conditional
phase ``U(t) = diag(1, 1, 1, e^{-i 2π ζ t})`` (:func:`zz_phase_gate`) accumulating over every
time ``t`` both qubits spend — idling, in other gates, in readout — outside a gate on the pair
itself (whose calibration absorbs it). ``ζ/2π`` is tens of kHz between fixed-frequency
transmons (Sundaresan et al., "Reducing unitary and spectator errors in cross resonance with
optimized rotary echoes", PRX Quantum 1, 020318 (2020); IBM Quantum Platform reports of
Eagle-class devices) and is suppressed to a few kHz at the idle point of tunable couplers
(Sung et al., "Realization of high-fidelity CZ and ZZ-free iSWAP gates with a tunable
coupler", PRX 11, 021058 (2021)). Ground-state ions, atoms and photons have no static
spin–spin interaction: ``ζ = 0``. A qubit whose neighbour stays in ``|0>`` (an unused qubit)
sees no phase, so the simulation needs only the used qubits.

**Spectator errors.** While a 2-qubit gate drives qubit ``a``, a neighbour ``c`` that takes
no part in it gets a Z error with probability ``p_ac`` (``PairParameters.spectator_error`` of
the pair ``(a, c)``; :func:`spectator_kraus`). Superconducting: simultaneous operation raises
Sycamore's 2-qubit Pauli error from 0.36 % to 0.62 % (Arute et al., Nature 574, 505 (2019),
Fig. 2), a few 1e-3 shared among the neighbours, so ``p ≈ 1e-3``. Trapped ions: the
addressing beam spills ~1–3 % of its Rabi frequency onto the neighbouring ion (Debnath et al.,
Nature 536, 63 (2016)); a spill ``r`` of a ``π/2`` Mølmer–Sørensen drive rotates the neighbour
by ``r π/2``, an error probability ``sin²(r π/4) ≈ 2.5e-4`` at ``r = 2 %``. Neutral atoms in
hyperfine ground states and photons: 0.

**What a job outside the pair sees.** A qubit ``a`` whose neighbour ``b`` (in another job) is
in ``|1>`` with probability ``p`` over a shared time ``T`` is, from ``a``'s job, dephased:
``ρ → (1 - p) ρ + p Rz(φ) ρ Rz(φ)†`` with ``φ = 2π ζ T``. Its entanglement fidelity, and the
Hellinger fidelity of an X-basis parity measurement on ``a``, is
``1 - p sin²(φ/2)`` (:func:`dephasing_fidelity`); ``p = 1/2`` when nothing is known about
``b``. Only part of the schedule counts (:func:`sensitive_window_ns`): before the first
non-diagonal gate on either qubit both are in ``|0>`` (no ``|11>`` population), and after
``a``'s last non-diagonal gate the phase commutes with everything left on ``a`` (its
Z-basis readout).
"""

from __future__ import annotations

import numpy as np

from quantum_service.circuits.ir import Circuit
from quantum_service.contract import QpuCapabilities

__all__ = [
    "UNKNOWN_EXCITATION",
    "crosstalk_neighbours",
    "crosstalk_pairs",
    "DIAGONAL_GATES",
    "dephasing_fidelity",
    "drive_windows_ns",
    "sensitive_window_ns",
    "spectator_kraus",
    "zz_phase_gate",
    "zz_phase_rad",
]

#: Gates (and instructions) diagonal in the computational basis: a ZZ phase commutes with them.
DIAGONAL_GATES = frozenset({"rz", "z", "s", "sdg", "t", "tdg", "p", "u1", "id", "cz", "cp",
                            "crz", "rzz", "measure", "barrier", "delay"})

#: Probability that a neighbour of unknown state is in ``|1>``.
UNKNOWN_EXCITATION = 0.5


def crosstalk_pairs(caps: QpuCapabilities) -> tuple[tuple[int, int], ...]:
    """Neighbouring pairs ``(a, b)``, ``a < b``, sorted: the coupling map's edges, or
    consecutive qubits on all-to-all devices."""
    edges = caps.coupling_map or tuple((q, q + 1) for q in range(caps.qubit_count - 1))
    return tuple(sorted({(min(a, b), max(a, b)) for a, b in edges}))


def crosstalk_neighbours(caps: QpuCapabilities) -> dict[int, set[int]]:
    """Each qubit's neighbours (:func:`crosstalk_pairs`), every qubit a key."""
    out: dict[int, set[int]] = {q: set() for q in range(caps.qubit_count)}
    for a, b in crosstalk_pairs(caps):
        out[a].add(b)
        out[b].add(a)
    return out


def zz_phase_rad(zz_khz: float, duration_ns: float) -> float:
    """Conditional phase ``2π ζ t`` of a ZZ rate ``ζ/2π = zz_khz`` kHz over ``duration_ns``."""
    return 2.0 * np.pi * zz_khz * 1e3 * duration_ns * 1e-9


def zz_phase_gate(phase_rad: float) -> np.ndarray:
    """``diag(1, 1, 1, e^{-iφ})``, complex128 ``(4, 4)``: ZZ evolution of phase ``φ``."""
    return np.diag([1.0, 1.0, 1.0, np.exp(-1j * phase_rad)]).astype(np.complex128)


def spectator_kraus(p: float) -> tuple[np.ndarray, np.ndarray]:
    """Kraus operators ``sqrt(1-p) I``, ``sqrt(p) Z`` (complex128 ``(2, 2)``) of a spectator's
    Z error with probability ``p`` in ``[0, 1]``."""
    return (np.sqrt(1.0 - p) * np.eye(2, dtype=np.complex128),
            np.sqrt(p) * np.diag([1.0, -1.0]).astype(np.complex128))


def dephasing_fidelity(phase_rad: float, excited_probability: float = UNKNOWN_EXCITATION
                       ) -> float:
    """``1 - p sin²(φ/2)``: the fidelity left to a qubit whose neighbour, in ``|1>`` with
    probability ``p``, imprints the conditional phase ``φ`` (module docstring)."""
    return 1.0 - excited_probability * float(np.sin(phase_rad / 2.0)) ** 2


def drive_windows_ns(circuit: Circuit, caps: QpuCapabilities) -> dict[int, tuple[float, float]]:
    """Per qubit, ``(start of its first, end of its last)`` non-diagonal gate in the schedule
    the simulated device runs (:mod:`quantum_service.engines.executable`): as soon as possible,
    except leading single-qubit gates followed by a multi-qubit gate, which end when that gate
    starts (native gates, durations from ``caps``), ns; qubits without one are absent."""
    clock: dict[int, float] = {}
    out: dict[int, tuple[float, float]] = {}
    leading: dict[int, list[tuple[str, float]]] = {}  # not yet placed: (name, duration)
    started: set[int] = set()

    def mark(q: int, name: str, start: float, end: float) -> None:
        if name not in DIAGONAL_GATES:
            out[q] = (out[q][0] if q in out else start, end)

    def place(q: int, end: float | None) -> None:
        """The leading gates of ``q``: ending at ``end`` (as late as possible) or from the
        qubit's clock (as soon as possible)."""
        gates = leading.pop(q, [])
        t = clock.get(q, 0.0) if end is None else end - sum(d for _, d in gates)
        for name, d in gates:
            mark(q, name, t, t + d)
            t += d
        clock[q] = max(clock.get(q, 0.0), t)

    for op in circuit.operations:
        if op.name in ("measure", "barrier"):
            for q in op.qubits:
                place(q, None)
                started.add(q)
            continue
        duration = caps.gate_duration_ns(op.name)
        if len(op.qubits) == 1 and op.condition is None and op.name not in ("reset", "delay") \
                and op.qubits[0] not in started:
            leading.setdefault(op.qubits[0], []).append((op.name, duration))
            continue
        multi = len(op.qubits) > 1 and op.condition is None
        start = max((clock.get(q, 0.0) + sum(d for _, d in leading.get(q, ()))
                     for q in op.qubits), default=0.0)
        for q in op.qubits:
            place(q, start if multi else None)
            started.add(q)
        start = max((clock.get(q, 0.0) for q in op.qubits), default=0.0)
        end = start + duration
        for q in op.qubits:
            clock[q] = end
            mark(q, op.name, start, end)
    for q in list(leading):
        place(q, None)
    return out


def sensitive_window_ns(receiver: tuple[float, float] | None,
                        source: tuple[float, float] | None) -> float:
    """Time, ns, over which the ZZ phase of a pair can change what the ``receiver`` qubit's
    job measures: from the first non-diagonal gate of either qubit to the receiver's last
    (both windows from :func:`drive_windows_ns`; ``None``: the qubit is never driven, stays
    in ``|0>`` or is only read, and nothing is seen)."""
    if receiver is None or source is None:
        return 0.0
    return max(0.0, receiver[1] - max(receiver[0], source[0]))
