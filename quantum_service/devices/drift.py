"""Drift of a simulated QPU's true parameters with device time.

Every noisy simulated QPU owns a :class:`DriftingDevice`: its hidden true parameters evolve on
a fixed grid of device-clock steps (``step_s``), so a trajectory depends only on the seed and the
clock, not on how the clock was advanced (jobs, calibration or idle time). Per qubit and pair:

* qubit frequency, π-pulse amplitude (relative), conditional phase of the 2-qubit gate, readout
  errors (log-normal) and pure-dephasing rate (log-normal) follow Ornstein–Uhlenbeck processes
  ``dx = -x dt/τ + σ sqrt(2/τ) dW`` sampled exactly:
  ``x(t+Δ) = x e^{-Δ/τ} + σ sqrt(1 - e^{-2Δ/τ}) ξ`` (Gillespie, "Exact numerical simulation of
  the Ornstein-Uhlenbeck process and its integral", Phys. Rev. E 54, 2084 (1996));
* T1 switches with a random telegraph process: a two-level system (TLS) drifting into
  resonance with the qubit lowers T1 by a random factor for a random dwell time and pulls the
  qubit frequency (Klimov et al., "Fluctuations of energy-relaxation times in superconducting
  qubits", PRL 121, 090502 (2018): T1 drops by tens of percent, TLS dwell times of minutes to
  hours; Burnett et al., "Decoherence benchmarking of superconducting qubits", npj Quantum Inf.
  5, 54 (2019): T1 and qubit-frequency fluctuations over days). The two-state Markov chain is
  sampled exactly per step: ``P(on | on) = π + (1 - π) e^{-(k_on + k_off) Δ}``,
  ``P(on | off) = π (1 - e^{-(k_on + k_off) Δ})``, ``π = k_on/(k_on + k_off)``.
* T2 follows from T1 and the pure-dephasing time: ``1/T2 = 1/(2 T1) + 1/Tφ``.

The rates per modality (:data:`DRIFT_RATES`) are orders of magnitude from those sources for
transmons; for trapped ions from Wright et al., Nat. Commun. 10, 5464 (2019) and Bruzewicz
et al., "Trapped-ion quantum computing: progress and challenges", Appl. Phys. Rev. 6, 021314
(2019) (laser intensity drift of ~1 % per hour, magnetic-field drift of the clock transition at
the hertz level); for neutral atoms from Evered et al., Nature 622, 268 (2023) and Bluvstein
et al., Nature 626, 58 (2024) (Raman and Rydberg laser intensity drifts of ~1 % per hour move
the single-qubit rotation angle and the CZ's conditional phase, which those experiments
recalibrate every few hours; differential light shifts and bias-field drift move the hyperfine
clock frequency by tens of hertz); for integrated photonics from Carolan et al., Science 349,
711 (2015) and Taballione et al., Quantum 7, 1071 (2023) (thermo-optic phase shifters drift
with the chip temperature: the Mach–Zehnder mixing angle, i.e. the rotation angle, and the
phase of the heralded CZ; detector efficiency drifts slowly; dual-rail photons have no
transition frequency to drift and do not decohere on chip). Devices declared ideal never drift.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

from quantum_service.contract import DeviceParameters, Modality, PairParameters

__all__ = ["DriftRates", "DRIFT_RATES", "DriftingDevice"]

_HOUR = 3600.0

#: Steps whose parameters a device keeps at hand for pinned runs (older ones are recomputed).
_HISTORY_STEPS = 64


@dataclass(frozen=True, slots=True)
class DriftRates:
    """Stationary spreads ``σ`` and correlation times ``τ`` (device seconds) of the drifts.

    Attributes:
        frequency_sigma_hz, frequency_tau_s: qubit-frequency OU process.
        amplitude_sigma, amplitude_tau_s: relative π-amplitude OU process.
        two_qubit_phase_sigma_rad, two_qubit_phase_tau_s: 2-qubit phase-error OU process.
        readout_sigma, readout_tau_s: log-normal OU factor on ``readout_p01``/``readout_p10``.
        dephasing_sigma, dephasing_tau_s: log-normal OU factor on the pure-dephasing rate.
        tls_rate_per_s: rate at which a TLS comes into resonance with a qubit.
        tls_dwell_s: mean time a TLS stays in resonance.
        tls_t1_factor: range of the T1 factor while a TLS is in resonance.
        tls_frequency_shift_hz: one-sigma qubit-frequency pull of a resonant TLS.
    """

    frequency_sigma_hz: float
    frequency_tau_s: float
    amplitude_sigma: float
    amplitude_tau_s: float
    two_qubit_phase_sigma_rad: float
    two_qubit_phase_tau_s: float
    readout_sigma: float
    readout_tau_s: float
    dephasing_sigma: float
    dephasing_tau_s: float
    tls_rate_per_s: float
    tls_dwell_s: float
    tls_t1_factor: tuple[float, float]
    tls_frequency_shift_hz: float


#: Drift rates per modality (see the module docstring for sources).
DRIFT_RATES: dict[Modality, DriftRates] = {
    Modality.SUPERCONDUCTING: DriftRates(
        frequency_sigma_hz=15e3, frequency_tau_s=8 * _HOUR,
        amplitude_sigma=0.006, amplitude_tau_s=6 * _HOUR,
        two_qubit_phase_sigma_rad=0.05, two_qubit_phase_tau_s=4 * _HOUR,
        readout_sigma=0.2, readout_tau_s=8 * _HOUR,
        dephasing_sigma=0.25, dephasing_tau_s=5 * _HOUR,
        tls_rate_per_s=1 / (10 * _HOUR), tls_dwell_s=1.5 * _HOUR,
        tls_t1_factor=(0.3, 0.7), tls_frequency_shift_hz=30e3,
    ),
    Modality.TRAPPED_ION: DriftRates(
        frequency_sigma_hz=5.0, frequency_tau_s=2 * _HOUR,
        amplitude_sigma=0.01, amplitude_tau_s=1 * _HOUR,
        two_qubit_phase_sigma_rad=0.03, two_qubit_phase_tau_s=1 * _HOUR,
        readout_sigma=0.1, readout_tau_s=8 * _HOUR,
        dephasing_sigma=0.2, dephasing_tau_s=4 * _HOUR,
        tls_rate_per_s=0.0, tls_dwell_s=_HOUR, tls_t1_factor=(1.0, 1.0),
        tls_frequency_shift_hz=0.0,
    ),
    Modality.NEUTRAL_ATOM: DriftRates(
        frequency_sigma_hz=20.0, frequency_tau_s=2 * _HOUR,
        amplitude_sigma=0.01, amplitude_tau_s=1 * _HOUR,
        two_qubit_phase_sigma_rad=0.04, two_qubit_phase_tau_s=1 * _HOUR,
        readout_sigma=0.1, readout_tau_s=8 * _HOUR,
        dephasing_sigma=0.2, dephasing_tau_s=4 * _HOUR,
        tls_rate_per_s=0.0, tls_dwell_s=_HOUR, tls_t1_factor=(1.0, 1.0),
        tls_frequency_shift_hz=0.0,
    ),
    Modality.PHOTONIC: DriftRates(
        frequency_sigma_hz=0.0, frequency_tau_s=1 * _HOUR,
        amplitude_sigma=0.01, amplitude_tau_s=2 * _HOUR,
        two_qubit_phase_sigma_rad=0.03, two_qubit_phase_tau_s=2 * _HOUR,
        readout_sigma=0.1, readout_tau_s=8 * _HOUR,
        dephasing_sigma=0.0, dephasing_tau_s=1 * _HOUR,
        tls_rate_per_s=0.0, tls_dwell_s=_HOUR, tls_t1_factor=(1.0, 1.0),
        tls_frequency_shift_hz=0.0,
    ),
}


def _ou_step(x: np.ndarray, sigma: float, tau: float, dt: float, rng: np.random.Generator
             ) -> np.ndarray:
    decay = math.exp(-dt / tau)
    return x * decay + sigma * math.sqrt(1.0 - decay * decay) * rng.standard_normal(x.shape)


class DriftingDevice:
    """The hidden true parameters of a device and their drift with the device clock.

    Args:
        base: parameters at clock 0 (the initial, calibrated device).
        rates: drift rates (e.g. ``DRIFT_RATES[modality]``).
        pairs: the pairs whose 2-qubit phase drifts (the coupling map; ``None`` = all pairs).
        seed: seed of the drift trajectory.
        step_s: device seconds per drift step (parameters are constant within a step).
    """

    def __init__(self, base: DeviceParameters, rates: DriftRates, *,
                 pairs: tuple[tuple[int, int], ...] | None = None, seed: int = 0,
                 step_s: float = 10.0) -> None:
        n = len(base.qubits)
        if pairs is None:
            pairs = tuple(itertools.combinations(range(n), 2))
        self._base = base
        self._rates = rates
        self._pairs = tuple((min(a, b), max(a, b)) for a, b in pairs)
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._step_s = float(step_s)
        self._clock_s = 0.0
        self._steps_done = 0
        self._freq = np.zeros(n)
        self._amp = np.zeros(n)
        self._ro = np.zeros(n)
        self._deph = np.zeros(n)
        self._tls_on = np.zeros(n, dtype=bool)
        self._tls_t1 = np.ones(n)
        self._tls_freq = np.zeros(n)
        self._phase = np.zeros(len(self._pairs))
        self.version = 0
        self._parameters = base
        #: Recent steps' parameters (``step → parameters``), for runs pinned to an earlier step.
        self._history: dict[int, DeviceParameters] = {0: base}

    @property
    def step(self) -> int:
        """Drift steps taken: the parameters are those of step ``step`` (``clock_s //
        step_s``)."""
        return self._steps_done

    def parameters_at(self, step: int) -> DeviceParameters:
        """The true parameters of drift step ``step`` (0 ... :attr:`step`): the trajectory is
        a function of the seed and the step alone, so an earlier step is recalled from the
        recent history or recomputed from the seed (``O(step)`` work).

        Raises:
            ValueError: ``step`` is negative or in the future.
        """
        if not 0 <= step <= self._steps_done:
            raise ValueError(f"drift step {step} is outside 0..{self._steps_done}")
        found = self._history.get(step)
        if found is not None:
            return found
        twin = DriftingDevice(self._base, self._rates, pairs=self._pairs, seed=self._seed,
                              step_s=self._step_s)
        twin.advance(step * self._step_s)
        return twin.parameters

    @property
    def clock_s(self) -> float:
        """Device clock, seconds."""
        return self._clock_s

    @property
    def parameters(self) -> DeviceParameters:
        """The true parameters now."""
        return self._parameters

    def advance(self, seconds: float) -> bool:
        """Advances the clock; returns whether the parameters changed (a step was crossed)."""
        if seconds < 0:
            raise ValueError(f"device time cannot go backwards ({seconds} s)")
        self._clock_s += seconds
        target = int(self._clock_s // self._step_s)
        if target == self._steps_done:
            return False
        for _ in range(target - self._steps_done):
            self._step(self._step_s)
        self._steps_done = target
        self._parameters = self._materialize()
        self._history[target] = self._parameters
        while len(self._history) > _HISTORY_STEPS:
            del self._history[next(iter(self._history))]
        self.version += 1
        return True

    def _step(self, dt: float) -> None:
        r, rng = self._rates, self._rng
        self._freq = _ou_step(self._freq, r.frequency_sigma_hz, r.frequency_tau_s, dt, rng)
        self._amp = _ou_step(self._amp, r.amplitude_sigma, r.amplitude_tau_s, dt, rng)
        self._ro = _ou_step(self._ro, r.readout_sigma, r.readout_tau_s, dt, rng)
        self._deph = _ou_step(self._deph, r.dephasing_sigma, r.dephasing_tau_s, dt, rng)
        self._phase = _ou_step(self._phase, r.two_qubit_phase_sigma_rad,
                               r.two_qubit_phase_tau_s, dt, rng)
        if r.tls_rate_per_s > 0:
            k_on, k_off = r.tls_rate_per_s, 1.0 / r.tls_dwell_s
            stationary = k_on / (k_on + k_off)
            relax = math.exp(-(k_on + k_off) * dt)
            p_on = np.where(self._tls_on, stationary + (1 - stationary) * relax,
                            stationary * (1 - relax))
            now_on = rng.random(p_on.shape) < p_on
            arriving = now_on & ~self._tls_on
            count = int(arriving.sum())
            if count:
                lo, hi = r.tls_t1_factor
                self._tls_t1[arriving] = rng.uniform(lo, hi, count)
                self._tls_freq[arriving] = rng.normal(0.0, r.tls_frequency_shift_hz, count)
            self._tls_t1[~now_on] = 1.0
            self._tls_freq[~now_on] = 0.0
            self._tls_on = now_on

    def _materialize(self) -> DeviceParameters:
        qubits = []
        for q, qp in enumerate(self._base.qubits):
            t1 = qp.t1_us * self._tls_t1[q]
            inv_tphi = max(0.0, 1.0 / qp.t2_us - 1.0 / (2.0 * qp.t1_us)) * math.exp(
                self._deph[q])
            t2 = 1.0 / (1.0 / (2.0 * t1) + inv_tphi)
            factor = math.exp(self._ro[q])
            qubits.append(replace(
                qp, frequency_hz=qp.frequency_hz + self._freq[q] + self._tls_freq[q],
                t1_us=t1, t2_us=t2,
                readout_p01=min(0.45, qp.readout_p01 * factor),
                readout_p10=min(0.45, qp.readout_p10 * factor),
                pi_pulse_amplitude=qp.pi_pulse_amplitude * (1.0 + self._amp[q])))
        pairs: dict[tuple[int, int], PairParameters] = dict(self._base.pairs)
        for (a, b), phase in zip(self._pairs, self._phase):
            pair = self._base.pair(a, b)
            pairs[(a, b)] = replace(pair, two_qubit_phase_rad=pair.two_qubit_phase_rad + phase)
        return replace(self._base, qubits=tuple(qubits), pairs=pairs)
