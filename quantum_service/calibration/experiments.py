"""Calibration experiments: one function per calibration node, run on the device.

Each function runs its programs through
:meth:`~quantum_service.contract.driver.Calibratable.execute_native` (so it costs device
time and sees the true noise, shot noise included), fits the data
(:mod:`quantum_service.calibration.fitting`) and writes the new estimates into the
:class:`ExperimentContext`. Later experiments are played with the updated estimates.

Protocols (Krantz et al., Appl. Phys. Rev. 6, 021318 (2019), §V unless noted):

* ``readout``: prepare ``|0>`` and ``|1>``; ``p01``, ``p10`` are the wrong-outcome fractions.
* ``rabi``: a pulse of amplitude ``a`` (played as ``r(π a / A_cal)``) swept over
  ``[0, 2.2 A_cal]``, then a 4k+1 ``π/2``-pulse train swept over ``A ± 3 %`` for precision;
  fit :func:`~.fitting.rabi_model`.
* ``ramsey``: ``r(π/2) · delay t · r(π/2, 2π f_art t)``; fit
  :func:`~.fitting.ramsey_model` for the detuning ``Δ = f_true - f_cal``.
* ``t1``: ``r(π) · delay t``; fit ``A e^{-t/T1} + B``.
* ``t2_echo`` (Hahn echo): ``r(π/2) · delay t/2 · r(π) · delay t/2 · r(π/2)``; fit
  ``B - A e^{-t/T2}`` (Hahn, Phys. Rev. 80, 580 (1950)).
* ``rb_1q``: Clifford sequences of increasing length, survival fitted to ``A p^m + 1/2`` on
  readout-corrected probabilities (uncertainty scaled by the scatter between random
  sequences); error per Clifford ``(1 - p)/2``, divided by the mean pulses
  per Clifford (Magesan et al., PRL 106, 180504 (2011)).
* ``cphase`` (``cz``): conditional Ramsey — the target's phase after 3 gates with the
  control in ``|0>`` and ``|1>`` differs by ``3 (π + δ)`` (Barends et al., Nature 508, 500 (2014)).
* ``ms_angle`` (``rxx``): ``k = 1..16`` repeated ``rxx(π/2 + δ)`` gates on ``|00>`` give
  ``<Z_a> = V r^k cos(k (π/2 + δ))``: even ``k`` fix the contrast, odd ``k`` the angle error
  (error amplification).
* ``ecr_phase`` (``ecr``): ``b`` along ``+X``, then ``2k`` ECRs (``k = 1..8``): two ECRs with
  the conditional phase error rotate ``b`` about ``Y`` by ``δ`` (``a`` is flipped twice); two
  quadratures give the angle ``kδ``, fitted by a line.
* ``xeb_2q``: cross-entropy benchmarking — cycles of Haar-random 1-qubit gates and the native
  gate; per circuit the least-squares fidelity
  ``F = Σ_x (p_meas - 1/4)(p_ideal - 1/4) / Σ_x (p_ideal - 1/4)²`` on readout-mitigated
  probabilities, fitted to ``A f^m``; the cycle's process infidelity ``15/16 (1 - f)`` minus the
  1-qubit pulses' ``3/2 (1 - F_1q)`` each is the gate's process infidelity, ×4/5 its average
  infidelity (Arute et al., Nature 574, 505 (2019), supplementary §IV; Nielsen, Phys. Lett. A
  303, 249 (2002)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from quantum_service.calibration import fitting
from quantum_service.calibration.mitigation import mitigate_counts
from quantum_service.calibration.programs import delay, program, pulse, pulse_count, rb_sequence
from quantum_service.circuits.gates import gate_spec
from quantum_service.circuits.ir import Circuit, Operation, ParameterExpression
from quantum_service.compiler.euler import synthesize_1q
from quantum_service.contract import DeviceParameters, Modality, Simultaneous

__all__ = ["ExperimentSettings", "LARGE_DEVICE_QUBITS", "LARGE_DEVICE_QUBITS_PER_RUN",
           "settings_for", "settings_for_device", "ExperimentContext", "QUBIT_EXPERIMENTS",
           "PAIR_EXPERIMENTS", "wrap"]

_PI = math.pi


@dataclass(frozen=True, slots=True)
class ExperimentSettings:
    """Shots, sweeps and drift thresholds of one modality's experiments.

    Attributes:
        shots: shots per point of fitted sweeps.
        canary_shots: shots per canary circuit.
        readout_shots: shots per prepared state of the readout experiment.
        ramsey_artificial_hz, ramsey_span_ns, ramsey_points: Ramsey sweep.
        rb_lengths, rb_sequences, rb_shots: RB sweep.
        xeb_cycles, xeb_circuits: XEB sweep (cycles, random circuits per depth).
        frequency_threshold_hz, amplitude_threshold, t1_relative_threshold,
        readout_threshold, phase_threshold_rad: canary deviations beyond which a value is
            drifted. Each sits at 3–4 standard deviations of its canary's shot noise (Ramsey
            ~0.75 kHz, 21-pulse train ~0.001, 7-``cz`` conditional Ramsey ~0.007 rad at 1000
            shots on transmons), so that a flag is rarely a false alarm, and well below the
            drift's stationary spread (``DRIFT_RATES``), so that drift is caught early.
        canary_period_s: device seconds between canary checks (used by
            ``CalibrationPolicy(canary_period_s="auto")``). Transmons: 10 device-minutes —
            frequency drift then adds ~3 kHz rms between checks (``σ sqrt(2Δ/τ)`` of the OU
            drift), comparable to the threshold, at ~0.2 % of device time
            (``benchmarks/CALIBRATION_REPORT.md``).
        max_qubits_per_run: most qubits one calibration run recalibrates (``None``: all);
            the stale nodes of the other qubits are deferred to the next runs, stalest qubits
            first (rolling calibration; see :func:`settings_for_device`).
    """

    shots: int = 400
    readout_shots: int = 2000
    canary_shots: int = 1000
    ramsey_artificial_hz: float = 1e6
    ramsey_span_ns: float = 4000.0
    ramsey_points: int = 41
    rb_lengths: tuple[int, ...] = (1, 60, 180, 360)
    rb_sequences: int = 4
    rb_shots: int = 300
    xeb_cycles: tuple[int, ...] = (1, 6, 12, 20)
    xeb_circuits: int = 5
    frequency_threshold_hz: float = 3e3
    amplitude_threshold: float = 0.003
    t1_relative_threshold: float = 0.3
    readout_threshold: float = 0.015
    phase_threshold_rad: float = 0.03
    canary_period_s: float = 600.0
    max_qubits_per_run: int | None = None

    def scaled(self, factor: int) -> ExperimentSettings:
        """These settings with ``factor`` times the shots of fitted sweeps (``shots``,
        ``readout_shots``, ``rb_shots``) and the random sequences and circuits per length
        (``rb_sequences``, ``xeb_circuits``): shot-noise-limited uncertainties shrink by
        ``sqrt(factor)`` (a retried calibration node). Canary settings are unchanged.

        Raises:
            ValueError: ``factor < 1``.
        """
        if factor < 1:
            raise ValueError(f"scale factor must be >= 1, got {factor}")
        return replace(self, shots=self.shots * factor,
                       readout_shots=self.readout_shots * factor,
                       rb_shots=self.rb_shots * factor,
                       rb_sequences=self.rb_sequences * factor,
                       xeb_circuits=self.xeb_circuits * factor)


#: Devices with more qubits than this calibrate in rolling runs (:func:`settings_for_device`).
LARGE_DEVICE_QUBITS = 16
#: Qubits per calibration run on large devices.
LARGE_DEVICE_QUBITS_PER_RUN = 8


def settings_for_device(modality: Modality, qubit_count: int,
                        t2_us: Sequence[float] = ()) -> ExperimentSettings:
    """:func:`settings_for` ``modality``, fitted to one device.

    * Rolling calibration on large devices. A full sweep costs wall time linear in qubits
      and pairs, dominated by the simulated experiments (~3–5 s per transmon qubit for its
      six nodes and ~1–2 s per pair on one core): ~7 min for ``sc-wukong-72``. Devices with
      more than :data:`LARGE_DEVICE_QUBITS` qubits recalibrate at most
      :data:`LARGE_DEVICE_QUBITS_PER_RUN` qubits (and their pairs) per run, stalest first;
      each run is one maintenance slot between jobs (~30–60 s) and the deferred nodes follow
      in the next slots. Canaries stay simultaneous over all qubits (:mod:`.canary`).
      Devices up to 16 qubits run every stale node at once.
    * Short-T2 qubits: the Ramsey canary waits ``τ = min(0.6/(2π f_th), 0.2 T2)``, so its
      detuning noise is ``σ = 1/(2π τ e^{-τ/T2} sqrt(canary_shots))``; the frequency
      threshold is raised to ``4σ`` of the device's 10th-percentile ``T2`` where that
      exceeds the modality's (``sc-wukong-72``, T2 ≈ 5 µs: ~25 kHz), so fresh qubits are not
      flagged as drifted.

    Args:
        modality, qubit_count: the device's.
        t2_us: its qubits' calibrated T2 (µs); empty: no threshold adjustment.
    """
    settings = settings_for(modality)
    if qubit_count > LARGE_DEVICE_QUBITS:
        settings = replace(settings, max_qubits_per_run=LARGE_DEVICE_QUBITS_PER_RUN)
    if len(t2_us):
        t2_ns = float(np.percentile(np.asarray(t2_us, dtype=float), 10)) * 1e3
        tau = min(0.6 / (2 * _PI * settings.frequency_threshold_hz) * 1e9, 0.2 * t2_ns)
        sigma = 1.0 / (2 * _PI * tau * 1e-9 * math.exp(-tau / t2_ns)
                       * math.sqrt(settings.canary_shots))
        if 4 * sigma > settings.frequency_threshold_hz:
            settings = replace(settings, frequency_threshold_hz=4 * sigma)
    return settings


def settings_for(modality: Modality) -> ExperimentSettings:
    """Defaults per modality.

    * transmons: µs-scale shots, kHz drifts: the class defaults;
    * trapped ions: ~0.2 ms per shot (readout and cooling), Hz drifts, 1 %/h intensity drift:
      fewer shots, a 40 ms Ramsey span, canaries every 30 device-minutes;
    * neutral atoms: ~0.2 s per shot (imaging and reloading the array), so few shots, wide
      thresholds (3–4σ of 200-shot canaries: ~3 Hz, 0.0025, 0.022 rad) and canaries every
      6 device-hours (a check of the 16-atom array costs ~20 device-minutes, ~5 %); Ramsey
      as for ions (T2 ~ 1 s);
    * photonic: ns-scale shots: the transmon shot counts; no Ramsey or T1 (not in its graph).
    """
    if modality is Modality.TRAPPED_ION:
        return ExperimentSettings(shots=200, readout_shots=1000, canary_shots=400,
                                  ramsey_artificial_hz=100.0, ramsey_span_ns=40e6, ramsey_points=21,
                                  rb_lengths=(1, 20, 60, 120), rb_sequences=3, rb_shots=150,
                                  frequency_threshold_hz=3.0, amplitude_threshold=0.004,
                                  phase_threshold_rad=0.03, canary_period_s=1800.0)
    if modality is Modality.NEUTRAL_ATOM:
        return ExperimentSettings(shots=40, readout_shots=200, canary_shots=200,
                                  ramsey_artificial_hz=100.0, ramsey_span_ns=40e6, ramsey_points=15,
                                  rb_lengths=(1, 20, 60), rb_sequences=2, rb_shots=40,
                                  xeb_cycles=(1, 4, 8), xeb_circuits=3,
                                  frequency_threshold_hz=12.0, amplitude_threshold=0.01,
                                  readout_threshold=0.03, phase_threshold_rad=0.08,
                                  canary_period_s=6 * 3600.0)
    return ExperimentSettings()


def wrap(angle: float) -> float:
    """``angle`` wrapped into ``(-π, π]``."""
    return float(-((-angle + _PI) % (2 * _PI) - _PI))


@dataclass(slots=True)
class ExperimentContext:
    """What experiments share: the device, the working estimates, a seed source.

    Attributes:
        driver: the device.
        estimates: the working calibrated estimates (updated by each experiment).
        settings: shots, sweeps, thresholds.
        rng: seeds for shot sampling and random sequences.
        uncertainties: per qubit, fitted one-sigma uncertainties by field name.
        pair_uncertainties: per pair, the same.
        experiments: names of the experiments run, in order.
    """

    driver: Simultaneous
    estimates: DeviceParameters
    settings: ExperimentSettings
    rng: np.random.Generator
    uncertainties: dict[int, dict[str, float]] = field(default_factory=dict)
    pair_uncertainties: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)
    experiments: list[str] = field(default_factory=list)

    @property
    def qubit_count(self) -> int:
        return self.driver.capabilities.qubit_count

    def run(self, circuit: Circuit, parameter_sets: np.ndarray | None = None, *, shots: int
            ) -> list[dict[str, int]]:
        """Runs ``circuit`` (per parameter set) with the working estimates; counts."""
        sets = np.zeros((1, 0)) if parameter_sets is None else parameter_sets
        out = self.driver.execute_native(circuit, sets, shot_count=shots,
                                         seed=int(self.rng.integers(2**62)),
                                         calibrated=self.estimates)
        return out.counts or []

    def p1(self, circuits: list[Circuit], *, shots: int, clbit: int = 0) -> np.ndarray:
        """P(clbit reads 1) of each circuit."""
        return np.array([_p1(self.run(c, shots=shots)[0], clbit) for c in circuits])

    def p1_simultaneous(self, circuits: list[Circuit], *, shots: int) -> np.ndarray:
        """P(clbit 0 reads 1) of each circuit, the circuits (on disjoint qubits) played at once
        (:meth:`~quantum_service.contract.driver.Simultaneous.execute_native_simultaneous`)."""
        counts = self.driver.execute_native_simultaneous(
            circuits, shot_count=shots, seed=int(self.rng.integers(2**62)),
            calibrated=self.estimates)
        return np.array([_p1(c, 0) for c in counts])

    def corrected(self, q: int, p1: np.ndarray) -> np.ndarray:
        """Readout-corrected P(1): ``(P1 - p01)/(1 - p01 - p10)`` with the estimates."""
        qp = self.estimates.qubits[q]
        return (p1 - qp.readout_p01) / (1.0 - qp.readout_p01 - qp.readout_p10)

    def set_qubit(self, q: int, values: dict[str, float], errors: dict[str, float]) -> None:
        self.estimates = self.estimates.with_qubit(q, **values)
        self.uncertainties.setdefault(q, {}).update(errors)

    def set_pair(self, a: int, b: int, values: dict[str, float], errors: dict[str, float]
                 ) -> None:
        self.estimates = self.estimates.with_pair(a, b, **values)
        self.pair_uncertainties.setdefault((min(a, b), max(a, b)), {}).update(errors)

    def drive_duration_ns(self) -> float:
        caps = self.driver.capabilities
        return max(g.duration_ns for g in caps.native_gates if g.qubit_count == 1)


def _p1(counts: dict[str, int], clbit: int) -> float:
    total = sum(counts.values())
    return sum(v for k, v in counts.items() if k[len(k) - 1 - clbit] == "1") / total


def _sweep_p1(ctx: ExperimentContext, circuit: Circuit, sets: np.ndarray, shots: int
              ) -> np.ndarray:
    return np.array([_p1(c, 0) for c in ctx.run(circuit, sets, shots=shots)])


# -- single-qubit nodes ---------------------------------------------------------------------

def readout(ctx: ExperimentContext, q: int) -> None:
    n, shots = ctx.qubit_count, ctx.settings.readout_shots
    p01, p10 = ctx.p1([program(n, [], [q]), program(n, [pulse(q, _PI)], [q])], shots=shots)
    p10 = 1.0 - p10
    ctx.set_qubit(q, {"readout_p01": float(p01), "readout_p10": float(p10)},
                  {"readout_p01": float(fitting.binomial_sigma(p01, shots)),
                   "readout_p10": float(fitting.binomial_sigma(p10, shots))})
    ctx.experiments.append(f"readout:q{q}")


def rabi(ctx: ExperimentContext, q: int) -> None:
    n, shots = ctx.qubit_count, ctx.settings.shots
    a_cal = ctx.estimates.qubits[q].pi_pulse_amplitude
    theta = ParameterExpression.symbol("theta")
    single = program(n, [pulse(q, theta)], [q])
    amplitudes = np.linspace(0.0, 2.2 * a_cal, 23)
    y = _sweep_p1(ctx, single, (_PI * amplitudes / a_cal)[:, None], shots)
    coarse = fitting.fit(fitting.rabi_model, amplitudes, y, shots=shots, p0=(0.5, 0.9, a_cal),
                         bounds=([0, 0, 0.5 * a_cal], [1, 1.2, 2 * a_cal]), what=f"rabi q{q}")
    a_pi = float(coarse.values[2])
    # Fine stage: a train of N = 4k+1 π/2 pulses rotates by N π/2 · a/A; sweep a near A.
    train = 41
    fine_ops = [pulse(q, theta * 0.5) for _ in range(train)]
    fine = program(n, fine_ops, [q])
    amplitudes = a_pi * np.linspace(0.97, 1.03, 21)
    y = _sweep_p1(ctx, fine, (_PI * amplitudes / a_cal)[:, None], shots)

    def train_model(a: np.ndarray, offset: float, contrast: float, a_true: float) -> np.ndarray:
        return offset - 0.5 * contrast * np.cos(train * 0.5 * _PI * a / a_true)

    result = fitting.fit(train_model, amplitudes, y, shots=shots, p0=(0.5, 0.8, a_pi),
                         bounds=([0, 0, 0.95 * a_pi], [1, 1.2, 1.05 * a_pi]),
                         what=f"rabi train q{q}")
    ctx.set_qubit(q, {"pi_pulse_amplitude": float(result.values[2])},
                  {"pi_pulse_amplitude": float(result.errors[2])})
    ctx.experiments.append(f"rabi:q{q}")


def ramsey(ctx: ExperimentContext, q: int) -> None:
    s, n = ctx.settings, ctx.qubit_count
    qp = ctx.estimates.qubits[q]
    f_art = s.ramsey_artificial_hz
    times = np.linspace(0.0, s.ramsey_span_ns, s.ramsey_points)
    circuits = [program(n, [pulse(q, _PI / 2), delay(q, t),
                            pulse(q, _PI / 2, 2 * _PI * f_art * t * 1e-9)], [q]) for t in times]
    y = ctx.p1(circuits, shots=s.shots)

    def model(t, offset, contrast, detuning, t2, phase):
        return fitting.ramsey_model(t, offset, contrast, detuning, t2, phase, artificial_hz=f_art)

    t2_ns = qp.t2_us * 1e3
    # Start the fit at the best detuning of a grid (linear least squares per grid point), so
    # that a large drift cannot trap it in a side minimum.
    grid = np.linspace(-0.4 * f_art, 0.4 * f_art, 161)
    residuals = []
    for detuning in grid:
        arg = 2 * _PI * (detuning - f_art) * times * 1e-9
        design = np.column_stack([np.ones_like(times), np.cos(arg), np.sin(arg)])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        residuals.append(float(np.sum((design @ coef - y) ** 2)))
    start = float(grid[int(np.argmin(residuals))])
    result = fitting.fit(model, times, y, shots=s.shots, p0=(0.5, 0.9, start, t2_ns, 0.0),
                         bounds=([0, 0, -0.4 * f_art, 0.05 * t2_ns, -_PI],
                                 [1, 1.2, 0.4 * f_art, 50 * t2_ns, _PI]),
                         what=f"ramsey q{q}")
    ctx.set_qubit(q, {"frequency_hz": qp.frequency_hz + float(result.values[2])},
                  {"frequency_hz": float(result.errors[2])})
    ctx.experiments.append(f"ramsey:q{q}")


def t1(ctx: ExperimentContext, q: int) -> None:
    s, n = ctx.settings, ctx.qubit_count
    t1_ns = ctx.estimates.qubits[q].t1_us * 1e3
    times = np.linspace(0.0, 3.0 * t1_ns, 21)
    y = ctx.p1([program(n, [pulse(q, _PI), delay(q, t)], [q]) for t in times], shots=s.shots)
    result = fitting.fit(fitting.exponential_model, times, y, shots=s.shots,
                         p0=(0.9, t1_ns, 0.02), bounds=([0, 0.05 * t1_ns, -0.2],
                                                        [1.2, 20 * t1_ns, 0.5]),
                         what=f"t1 q{q}")
    ctx.set_qubit(q, {"t1_us": float(result.values[1]) * 1e-3},
                  {"t1_us": float(result.errors[1]) * 1e-3})
    ctx.experiments.append(f"t1:q{q}")


def t2_echo(ctx: ExperimentContext, q: int) -> None:
    s, n = ctx.settings, ctx.qubit_count
    qp = ctx.estimates.qubits[q]
    t2_ns = qp.t2_us * 1e3
    times = np.linspace(0.0, 2.5 * t2_ns, 21)
    circuits = [program(n, [pulse(q, _PI / 2), delay(q, t / 2), pulse(q, _PI), delay(q, t / 2),
                            pulse(q, _PI / 2)], [q]) for t in times]
    y = ctx.p1(circuits, shots=s.shots)
    result = fitting.fit(fitting.exponential_model, times, y, shots=s.shots,
                         p0=(-0.45, t2_ns, 0.5), bounds=([-1.0, 0.05 * t2_ns, 0.0],
                                                         [0.0, 20 * t2_ns, 1.0]),
                         what=f"t2 echo q{q}")
    t2_us = min(float(result.values[1]) * 1e-3, 2.0 * ctx.estimates.qubits[q].t1_us)
    ctx.set_qubit(q, {"t2_us": t2_us}, {"t2_us": float(result.errors[1]) * 1e-3})
    ctx.experiments.append(f"t2_echo:q{q}")


def rb_1q(ctx: ExperimentContext, q: int) -> None:
    s, n = ctx.settings, ctx.qubit_count
    natives = ctx.driver.capabilities.native_gate_names
    basis = "sx" if "sx" in natives else "r"
    use_x = "x" in natives
    lengths, survival, pulses, cliffords = [], [], 0, 0
    for m in s.rb_lengths:
        for _ in range(s.rb_sequences):
            ops = rb_sequence(q, m, ctx.rng, basis=basis, use_x=use_x)
            pulses += pulse_count(ops)
            cliffords += m + 1
            p1 = ctx.p1([program(n, ops, [q])], shots=s.rb_shots)
            lengths.append(m)
            survival.append(1.0 - float(ctx.corrected(q, p1)[0]))
    x, y = np.array(lengths, float), np.clip(np.array(survival), 0.0, 1.0)
    result = fitting.fit(fitting.rb_model, x, y, shots=s.rb_shots, p0=(0.5, 0.999),
                         bounds=([0.0, 0.5], [0.6, 1.0]), what=f"rb q{q}", absolute=False)
    per_pulse = (1.0 - result.values[1]) / 2.0 / (pulses / cliffords)
    error = result.errors[1] / 2.0 / (pulses / cliffords)
    ctx.set_qubit(q, {"single_qubit_gate_fidelity": float(1.0 - per_pulse)},
                  {"single_qubit_gate_fidelity": float(error)})
    ctx.experiments.append(f"rb_1q:q{q}")


# -- pair nodes -----------------------------------------------------------------------------

def cphase(ctx: ExperimentContext, pair: tuple[int, int]) -> None:
    a, b = pair
    n, shots = ctx.qubit_count, ctx.settings.shots
    phi = ParameterExpression.symbol("phi")
    phases = np.linspace(0.0, 2 * _PI, 16, endpoint=False)
    reps = 3  # odd: the conditional phase difference is reps · (π + δ)
    fitted = []
    for control in (0, 1):
        prep = [pulse(b, _PI)] if control else []
        circuit = program(n, [*prep, pulse(a, _PI / 2), *[Operation("cz", (a, b))] * reps,
                              pulse(a, _PI / 2, phi)], [a])
        y = _sweep_p1(ctx, circuit, phases[:, None], shots)
        guess = math.atan2(float(np.sum(y * np.sin(phases))), float(np.sum(y * np.cos(phases))))
        fitted.append(fitting.fit(fitting.cosine_phase_model, phases, y, shots=shots,
                                  p0=(0.5, 0.9, guess), what=f"cphase q{a}-q{b}"))
    delta = wrap(fitted[1].values[2] - fitted[0].values[2] - reps * _PI) / reps
    error = math.hypot(fitted[0].errors[2], fitted[1].errors[2]) / reps
    old = ctx.estimates.pair(a, b).two_qubit_phase_rad
    ctx.set_pair(a, b, {"two_qubit_phase_rad": old + delta}, {"two_qubit_phase_rad": error})
    ctx.experiments.append(f"cphase:q{a}-q{b}")


def ms_angle(ctx: ExperimentContext, pair: tuple[int, int]) -> None:
    a, b = pair
    n, shots = ctx.qubit_count, ctx.settings.shots
    reps = np.arange(1, 17)
    gate = Operation("rxx", (a, b), (ParameterExpression(_PI / 2),))
    y = ctx.corrected(a, ctx.p1([program(n, [gate] * int(k), [a]) for k in reps], shots=shots))

    def model(k, visibility, decay, delta):
        # <Z_a> after k gates rxx(π/2 + δ) on |00>: cos(k (π/2 + δ)), damped by V r^k.
        return 0.5 - 0.5 * visibility * decay**k * np.cos(k * (_PI / 2 + delta))

    result = fitting.fit(model, reps.astype(float), np.clip(y, 0.0, 1.0), shots=shots,
                         p0=(0.95, 0.99, 0.0), bounds=([0.0, 0.5, -0.3], [1.2, 1.0, 0.3]),
                         what=f"ms angle q{a}-q{b}")
    old = ctx.estimates.pair(a, b).two_qubit_phase_rad
    ctx.set_pair(a, b, {"two_qubit_phase_rad": old + float(result.values[2])},
                 {"two_qubit_phase_rad": float(result.errors[2])})
    ctx.experiments.append(f"ms_angle:q{a}-q{b}")


def ecr_phase(ctx: ExperimentContext, pair: tuple[int, int]) -> None:
    """The conditional phase error ``δ`` of a drifted ``ecr`` (see the module docstring).

    ECR flips the control ``a`` (``ECR = (X⊗I − Y⊗X)/√2``), so two ECRs with the error
    ``diag(1, 1, 1, e^{iδ})`` after each rotate the target ``b`` about ``Y`` by ``δ`` and
    return ``a`` to ``|0>``. ``b`` prepared along ``+X`` is read after ``2k`` ECRs directly
    (``P1 = (1 + V sin kδ)/2``) and after ``ry(π/2)`` (``P1 = (1 + V cos kδ)/2``); the angle
    ``kδ = atan2`` of the two, unwrapped over ``k = 1..8``, is fitted by a line through 0
    (error amplification, as ``ms_angle``; its uncertainty from the residual scatter).
    """
    a, b = pair
    n, shots = ctx.qubit_count, ctx.settings.shots
    reps = np.arange(1, 9)
    gate = Operation("ecr", (a, b))
    prepare = pulse(b, _PI / 2, _PI / 2)
    circuits = []
    for k in reps:
        body = [prepare, *[gate] * (2 * int(k))]
        circuits += [program(n, body, [b]), program(n, [*body, pulse(b, _PI / 2, _PI / 2)], [b])]
    p = ctx.corrected(b, ctx.p1(circuits, shots=shots))
    angles = np.unwrap(np.concatenate([[0.0], np.arctan2(2 * p[0::2] - 1, 2 * p[1::2] - 1)]))[1:]
    delta = float(reps @ angles / (reps @ reps))
    residual = angles - reps * delta
    error = float(math.sqrt(max(residual @ residual, 1e-12) / (len(reps) - 1) / (reps @ reps)))
    old = ctx.estimates.pair(a, b).two_qubit_phase_rad
    ctx.set_pair(a, b, {"two_qubit_phase_rad": old + delta}, {"two_qubit_phase_rad": error})
    ctx.experiments.append(f"ecr_phase:q{a}-q{b}")


def _haar_1q(rng: np.random.Generator) -> np.ndarray:
    z = (rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2))) / math.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))  # Mezzadri, Notices AMS 54, 592 (2007)


def _ideal_probabilities(ops: list[Operation], a: int, b: int) -> np.ndarray:
    """Ideal outcome probabilities over index ``bit_a + 2 bit_b`` of a 2-qubit native circuit."""
    swap = np.eye(4)[[0, 2, 1, 3]]
    state = np.zeros(4, dtype=np.complex128)
    state[0] = 1.0
    for op in ops:
        matrix = gate_spec(op.name).matrix([p.constant for p in op.params])
        if len(op.qubits) == 2:  # the matrix lists qubits[0] as most significant
            full = matrix if op.qubits[0] == b else swap @ matrix @ swap
        elif op.qubits[0] == a:
            full = np.kron(np.eye(2), matrix)
        else:
            full = np.kron(matrix, np.eye(2))
        state = full @ state
    return np.abs(state) ** 2


def xeb_2q(ctx: ExperimentContext, pair: tuple[int, int]) -> None:
    """Cross-entropy benchmarking of a pair's native gate (see the module docstring)."""
    a, b = pair
    n, s = ctx.qubit_count, ctx.settings
    natives = ctx.driver.capabilities.native_gate_names
    basis, use_x = ("sx", "x" in natives) if "sx" in natives else ("r", False)
    entangler = (Operation("cz", (a, b)) if "cz" in natives
                 else Operation("ecr", (a, b)) if "ecr" in natives
                 else Operation("rxx", (a, b), (ParameterExpression(_PI / 2),)))
    cycles, fidelities, pulses = [], [], {a: 0, b: 0}
    cycle_total = 0
    for m in s.xeb_cycles:
        for _ in range(s.xeb_circuits):
            ops: list[Operation] = []
            for _ in range(m):
                for q in (a, b):
                    layer = synthesize_1q(_haar_1q(ctx.rng), q, basis=basis, use_x=use_x)
                    pulses[q] += pulse_count(layer)
                    ops += layer
                ops.append(entangler)
            cycle_total += m
            ideal = _ideal_probabilities(ops, a, b)
            counts = ctx.run(program(n, ops, [a, b]), shots=s.shots)[0]
            cal = ctx.estimates.qubits
            quasi = mitigate_counts(counts, clbit_errors={
                0: (cal[a].readout_p01, cal[a].readout_p10),
                1: (cal[b].readout_p01, cal[b].readout_p10)}, clbit_count=2)
            measured = np.array([quasi.get(f"{i >> 1}{i & 1}", 0.0) for i in range(4)])
            centred = ideal - 0.25
            fidelities.append(float((measured - 0.25) @ centred / (centred @ centred)))
            cycles.append(m)
    result = fitting.fit(fitting.xeb_model, np.array(cycles, float), np.array(fidelities),
                         shots=s.shots, p0=(1.0, 0.97), bounds=([0.3, 0.3], [1.3, 1.0]),
                         what=f"xeb q{a}-q{b}", absolute=False,
                         sigma=np.full(len(cycles), 1.0 / math.sqrt(s.shots)))
    f, f_err = float(result.values[1]), float(result.errors[1])
    # Process infidelities add: cycle = 2q gate + the 1q pulses of both qubits.
    e_cycle = 15.0 / 16.0 * (1.0 - f)
    e_1q = sum(pulses[q] / cycle_total * 1.5 * (1.0 - ctx.estimates.qubits[q]
                                                 .single_qubit_gate_fidelity) for q in (a, b))
    r_2q = max(0.0, 0.8 * (e_cycle - e_1q))
    ctx.set_pair(a, b, {"two_qubit_gate_fidelity": 1.0 - r_2q},
                 {"two_qubit_gate_fidelity": 0.8 * 15.0 / 16.0 * f_err})
    ctx.experiments.append(f"xeb_2q:q{a}-q{b}")


#: Node name → experiment on one qubit.
QUBIT_EXPERIMENTS = {"readout": readout, "rabi": rabi, "ramsey": ramsey, "t1": t1,
                     "t2_echo": t2_echo, "rb_1q": rb_1q}
#: Node name → experiment on one pair.
PAIR_EXPERIMENTS = {"cphase": cphase, "ms_angle": ms_angle, "ecr_phase": ecr_phase,
                    "xeb_2q": xeb_2q}
