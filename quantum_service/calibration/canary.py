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
``π/2`` with 3 ``cz``: ``P1(c=0) + P1(c=1) - 1 ≈ -3δ/2``; ``ms_angle`` — 9 ``rxx(π/2)`` give
``<Z_a> = -sin(9δ)``. Error amplification as in Sheldon et al., "Characterizing errors on
qubit operations via iterative randomized benchmarking", PRA 93, 012301 (2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from quantum_service.calibration.experiments import ExperimentContext, wrap
from quantum_service.calibration.programs import delay, program, pulse
from quantum_service.circuits.ir import Operation, ParameterExpression

__all__ = ["CanaryReading", "qubit_canaries", "pair_canaries", "PAIR_CANARIES"]

_PI = math.pi
_TRAIN = 21
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


def qubit_canaries(ctx: ExperimentContext, q: int, *, nodes: frozenset[str]
                   ) -> list[CanaryReading]:
    """Runs the canaries of qubit ``q`` for the nodes it has (``nodes``)."""
    s, n, shots = ctx.settings, ctx.qubit_count, ctx.settings.canary_shots
    qp = ctx.estimates.qubits[q]
    readout = ctx.p1([program(n, [], [q]), program(n, [pulse(q, _PI)], [q])],
                     shots=s.readout_shots)
    circuits = [program(n, [pulse(q, _PI / 2)] * _TRAIN, [q])]
    tau_ns = min(0.6 / (2 * _PI * s.frequency_threshold_hz) * 1e9, 0.2 * qp.t2_us * 1e3)
    for tau in (tau_ns / 8, tau_ns):  # two quadratures at a short and a long delay
        for phase in (_PI / 2, _PI):
            circuits.append(program(n, [pulse(q, _PI / 2), delay(q, tau),
                                        pulse(q, _PI / 2, phase)], [q]))
    with_t1 = "t1" in nodes
    raw = np.concatenate([readout, ctx.p1(circuits, shots=shots)])
    if with_t1:  # the longest canary: fewer shots (a 30 % threshold is still > 4σ)
        t1_check = program(n, [pulse(q, _PI), delay(q, qp.t1_us * 1e3)], [q])
        raw = np.concatenate([raw, ctx.p1([t1_check], shots=s.shots)])
    ctx.experiments.append(f"canary:q{q}")
    readings = []
    dev = max(abs(raw[0] - qp.readout_p01), abs((1.0 - raw[1]) - qp.readout_p10))
    readings.append(CanaryReading("readout", q, float(dev), dev > s.readout_threshold))
    p = ctx.corrected(q, raw)
    eps = 2.0 * _asin(2.0 * p[2] - 1.0) / (_TRAIN * _PI)
    readings.append(CanaryReading("rabi", q, eps, abs(eps) > s.amplitude_threshold))
    # P1 = (1 + sin φ)/2 and (1 - cos φ)/2 with φ = 2π Δ (τ + pulse): the short delay fixes
    # Δ without aliasing (|Δ| < 4/τ), the long one refines it.
    drive_ns = ctx.drive_duration_ns()
    short = math.atan2(2.0 * p[3] - 1.0, 1.0 - 2.0 * p[4])
    coarse = short / (2 * _PI * (tau_ns / 8 + drive_ns) * 1e-9)
    long_span = 2 * _PI * (tau_ns + drive_ns) * 1e-9
    long = math.atan2(2.0 * p[5] - 1.0, 1.0 - 2.0 * p[6])
    detuning = coarse + wrap(long - coarse * long_span) / long_span
    readings.append(CanaryReading("ramsey", q, detuning,
                                  abs(detuning) > s.frequency_threshold_hz))
    if with_t1:
        ratio = 1.0 / max(-math.log(max(p[7], 1e-3)), 1e-3)  # T1_true / T1_cal
        readings.append(CanaryReading("t1", q, ratio - 1.0,
                                      abs(ratio - 1.0) > s.t1_relative_threshold))
    return [r for r in readings if r.node in nodes]


def pair_canaries(ctx: ExperimentContext, pair: tuple[int, int], *, node: str
                  ) -> CanaryReading:
    """Runs the canary of a pair node (``"cphase"`` or ``"ms_angle"``)."""
    a, b = pair
    n, s = ctx.qubit_count, ctx.settings
    if node == "cphase":
        circuits = [program(n, [*([pulse(b, _PI)] if c else []), pulse(a, _PI / 2),
                                *[Operation("cz", (a, b))] * 3, pulse(a, _PI / 2, _PI / 2)],
                            [a]) for c in (0, 1)]
        p = ctx.corrected(a, ctx.p1(circuits, shots=s.canary_shots))
        delta = -2.0 * (p[0] + p[1] - 1.0) / 3.0
    else:
        gate = Operation("rxx", (a, b), (ParameterExpression(_PI / 2),))
        p = ctx.corrected(a, ctx.p1([program(n, [gate] * 9, [a])], shots=s.canary_shots))
        delta = _asin(2.0 * p[0] - 1.0) / 9.0
    ctx.experiments.append(f"canary:q{a}-q{b}")
    return CanaryReading(node, pair, float(delta), abs(delta) > s.phase_threshold_rad)


def drifted_fraction(readings: list[CanaryReading]) -> float:
    """Fraction of readings flagged as drifted (for reports)."""
    return float(np.mean([r.drifted for r in readings])) if readings else 0.0
