"""Cheap drift checks ("canaries"): a few circuits per qubit and pair whose outcome moves
linearly with a drifted parameter, read against the calibrated estimates.

Per qubit (probabilities readout-corrected with the calibrated assignment matrix):

* ``readout``: ``|0>`` and ``|1>`` read with ``readout_shots`` shots each; drifted when ``p01``
  or ``p10`` moved by more than ``readout_threshold``;
* ``rabi``: a train of ``N = 21`` ``π/2`` pulses (``N ≡ 1 mod 4``) gives
  ``P1 = (1 + sin(N π ε/2))/2`` for an amplitude error ``ε = A_cal/A_true - 1``;
* ``ramsey``: ``r(π/2) · delay τ · r(π/2, φ_r)`` with ``φ_r = π/2`` and ``π`` gives
  ``(1 + sin φ)/2`` and ``(1 - cos φ)/2``, ``φ = 2π Δ τ`` (τ counted between pulse centres),
  so ``φ = atan2`` of the two; a delay ``τ/8`` fixes ``Δ`` without aliasing, ``τ`` refines it;
* ``t1``: ``r(π) · delay T1_cal`` gives ``P1 = e^{-T1_cal/T1}``.

Per pair: ``cphase`` — the conditional Ramsey of :func:`~.experiments.cphase` at the phase
``π/2`` with ``k = 7`` ``cz`` (odd, so that the control in ``|1>`` adds ``kπ ≡ π``):
``P1(c=0) + P1(c=1) - 1 = -sin(kδ)/2``; ``ms_angle`` — 9 ``rxx(π/2)`` give
``<Z_a> = -sin(9δ)``. Error amplification as in Sheldon et al., "Characterizing errors on
qubit operations via iterative randomized benchmarking", PRA 93, 012301 (2016).

Canaries are played simultaneously: one circuit kind on every checked qubit at once, and pair
canaries on rounds of disjoint pairs, so a check costs a few circuits' worth of device time
whatever the qubit count (simultaneous characterisation: Gambetta et al., PRL 109, 240504
(2012)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from quantum_service.calibration.experiments import ExperimentContext, wrap
from quantum_service.calibration.programs import delay, program, pulse
from quantum_service.circuits.ir import Operation, ParameterExpression

__all__ = ["CanaryReading", "qubit_canaries", "pair_canaries", "disjoint_rounds",
           "PAIR_CANARIES"]

_PI = math.pi
_TRAIN = 21
_CZ_TRAIN = 7
#: Pair nodes that have a canary (others turn stale only through dependencies or schedule).
PAIR_CANARIES = frozenset({"cphase", "ms_angle"})


@dataclass(frozen=True, slots=True)
class CanaryReading:
    """One drift check: the node it guards, its target, the estimated deviation (in the
    node's unit: relative amplitude, Hz, relative T1, probability, radians) and whether it
    exceeds the threshold."""

    node: str
    target: int | tuple[int, int]
    deviation: float
    drifted: bool


def _asin(x: float) -> float:
    return math.asin(max(-1.0, min(1.0, x)))


def qubit_canaries(ctx: ExperimentContext, qubits: Sequence[int], *, nodes: frozenset[str]
                   ) -> list[CanaryReading]:
    """Runs the canaries of ``qubits`` for the nodes the graph has (``nodes``), each canary
    circuit played on all those qubits at once
    (:meth:`~quantum_service.contract.driver.Simultaneous.execute_native_simultaneous`).

    Returns:
        the readings of the nodes in ``nodes``, qubit by qubit.
    """
    s, n, shots = ctx.settings, ctx.qubit_count, ctx.settings.canary_shots
    qubits = list(qubits)
    if not qubits:
        return []
    est = ctx.estimates.qubits

    def each(build) -> list:
        return [build(q) for q in qubits]

    rows = {"p0": ctx.p1_simultaneous(each(lambda q: program(n, [], [q])), shots=s.readout_shots),
            "p1": ctx.p1_simultaneous(each(lambda q: program(n, [pulse(q, _PI)], [q])),
                                      shots=s.readout_shots)}
    if "rabi" in nodes:
        rows["train"] = ctx.p1_simultaneous(
            each(lambda q: program(n, [pulse(q, _PI / 2)] * _TRAIN, [q])), shots=shots)
    taus = {q: min(0.6 / (2 * _PI * s.frequency_threshold_hz) * 1e9, 0.2 * est[q].t2_us * 1e3)
            for q in qubits}
    if "ramsey" in nodes:  # two quadratures at a short and a long delay
        for key, fraction, phase in (("short_y", 1 / 8, _PI / 2), ("short_x", 1 / 8, _PI),
                                     ("long_y", 1.0, _PI / 2), ("long_x", 1.0, _PI)):
            rows[key] = ctx.p1_simultaneous(each(lambda q: program(
                n, [pulse(q, _PI / 2), delay(q, taus[q] * fraction),
                    pulse(q, _PI / 2, phase)], [q])), shots=shots)
    if "t1" in nodes:  # the longest canary: fewer shots (a 30 % threshold is still > 4σ)
        rows["t1"] = ctx.p1_simultaneous(each(lambda q: program(
            n, [pulse(q, _PI), delay(q, est[q].t1_us * 1e3)], [q])), shots=s.shots)
    ctx.experiments.append("canary:" + ",".join(f"q{q}" for q in qubits))
    drive_ns = ctx.drive_duration_ns()
    readings = []
    for column, q in enumerate(qubits):
        qp, tau_ns = est[q], taus[q]
        raw = {key: float(row[column]) for key, row in rows.items()}
        p = dict(zip(raw, ctx.corrected(q, np.array(list(raw.values()))).tolist()))
        dev = max(abs(raw["p0"] - qp.readout_p01), abs((1.0 - raw["p1"]) - qp.readout_p10))
        readings.append(CanaryReading("readout", q, float(dev), dev > s.readout_threshold))
        if "train" in p:
            eps = 2.0 * _asin(2.0 * p["train"] - 1.0) / (_TRAIN * _PI)
            readings.append(CanaryReading("rabi", q, eps, abs(eps) > s.amplitude_threshold))
        if "long_x" in p:
            # P1 = (1 + sin φ)/2 and (1 - cos φ)/2 with φ = 2π Δ (τ + pulse): the short delay
            # fixes Δ without aliasing (|Δ| < 4/τ), the long one refines it.
            short = math.atan2(2.0 * p["short_y"] - 1.0, 1.0 - 2.0 * p["short_x"])
            coarse = short / (2 * _PI * (tau_ns / 8 + drive_ns) * 1e-9)
            long_span = 2 * _PI * (tau_ns + drive_ns) * 1e-9
            long = math.atan2(2.0 * p["long_y"] - 1.0, 1.0 - 2.0 * p["long_x"])
            detuning = coarse + wrap(long - coarse * long_span) / long_span
            readings.append(CanaryReading("ramsey", q, detuning,
                                          abs(detuning) > s.frequency_threshold_hz))
        if "t1" in p:
            ratio = 1.0 / max(-math.log(max(p["t1"], 1e-3)), 1e-3)  # T1_true / T1_cal
            readings.append(CanaryReading("t1", q, ratio - 1.0,
                                          abs(ratio - 1.0) > s.t1_relative_threshold))
    return [r for r in readings if r.node in nodes]


def disjoint_rounds(pairs: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Splits ``pairs`` into rounds of pairwise disjoint pairs (greedy edge colouring, at most
    ``2Δ - 1`` rounds for maximum degree ``Δ``), in first-fit order."""
    rounds: list[tuple[set[int], list[tuple[int, int]]]] = []
    for pair in pairs:
        for used, members in rounds:
            if pair[0] not in used and pair[1] not in used:
                used.update(pair)
                members.append(pair)
                break
        else:
            rounds.append(({pair[0], pair[1]}, [pair]))
    return [members for _, members in rounds]


def pair_canaries(ctx: ExperimentContext, pairs: Sequence[tuple[int, int]], *, node: str
                  ) -> list[CanaryReading]:
    """Runs the canary of a pair node (``"cphase"`` or ``"ms_angle"``) on ``pairs``, disjoint
    pairs at once (:func:`disjoint_rounds`)."""
    n, s = ctx.qubit_count, ctx.settings
    readings = []
    for round_ in disjoint_rounds(list(pairs)):
        if node == "cphase":
            p = np.array([ctx.p1_simultaneous(
                [program(n, [*([pulse(b, _PI)] if c else []), pulse(a, _PI / 2),
                             *[Operation("cz", (a, b))] * _CZ_TRAIN,
                             pulse(a, _PI / 2, _PI / 2)], [a]) for a, b in round_],
                shots=s.canary_shots) for c in (0, 1)])
            deltas = [-_asin(2.0 * (ctx.corrected(a, p[:, i]).sum() - 1.0)) / _CZ_TRAIN
                      for i, (a, _) in enumerate(round_)]
        else:
            gate = [Operation("rxx", (a, b), (ParameterExpression(_PI / 2),)) for a, b in round_]
            p = ctx.p1_simultaneous([program(n, [g] * 9, [a]) for g, (a, _) in zip(gate, round_)],
                                    shots=s.canary_shots)
            deltas = [_asin(2.0 * float(ctx.corrected(a, p[i:i + 1])[0]) - 1.0) / 9.0
                      for i, (a, _) in enumerate(round_)]
        ctx.experiments.append("canary:" + ",".join(f"q{a}-q{b}" for a, b in round_))
        readings += [CanaryReading(node, pair, float(d), abs(d) > s.phase_threshold_rad)
                     for pair, d in zip(round_, deltas)]
    return readings


def drifted_fraction(readings: list[CanaryReading]) -> float:
    """Fraction of readings flagged as drifted (for reports)."""
    return float(np.mean([r.drifted for r in readings])) if readings else 0.0
