"""Device parameters as data: the physical parameters of a QPU and its calibration snapshots.

Part of the driver contract (:mod:`quantum_service.contract`): drivers, calibration, the kernel
and the device models all speak in these types.

A simulated QPU has *true* parameters (hidden from the OS, drifting with device time: see
:mod:`quantum_service.devices.drift`) and *calibrated estimates* (what the OS believes,
versioned as :class:`CalibrationSnapshot`). Decoherence and readout noise follow from the true
parameters; coherent gate errors follow from the mismatch between true and calibrated values
(:mod:`quantum_service.devices.noise`).

Units are in the names: ``t1_us``/``t2_us`` in microseconds, ``frequency_hz`` in hertz,
durations in nanoseconds, phases in radians. Fidelities are average gate fidelities in
``[0, 1]``. ``pi_pulse_amplitude`` is a dimensionless drive amplitude: the rotation angle of a
resonant pulse is proportional to its amplitude (Rabi's formula, Krantz et al., "A quantum
engineer's guide to superconducting qubits", Appl. Phys. Rev. 6, 021318 (2019), §IV.B), so a
pulse of amplitude ``a`` rotates by ``π a / pi_pulse_amplitude``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

__all__ = ["QubitParameters", "PairParameters", "DeviceParameters", "CalibrationRejection",
           "CalibrationSnapshot"]


@dataclass(frozen=True, slots=True)
class QubitParameters:
    """Physical parameters of one qubit.

    Attributes:
        frequency_hz: qubit transition frequency.
        t1_us: energy-relaxation time T1.
        t2_us: dephasing time T2 (<= 2 T1).
        readout_p01: probability of reading 1 when the qubit is in 0.
        readout_p10: probability of reading 0 when the qubit is in 1.
        single_qubit_gate_fidelity: average fidelity of a native 1-qubit gate, including
            decoherence during the gate.
        pi_pulse_amplitude: drive amplitude of a π rotation (dimensionless, nominally 1).
    """

    frequency_hz: float
    t1_us: float
    t2_us: float
    readout_p01: float
    readout_p10: float
    single_qubit_gate_fidelity: float
    pi_pulse_amplitude: float = 1.0

    @property
    def readout_fidelity(self) -> float:
        return 1.0 - 0.5 * (self.readout_p01 + self.readout_p10)


@dataclass(frozen=True, slots=True)
class PairParameters:
    """Physical parameters of one coupled pair.

    Attributes:
        qubit_a, qubit_b: the pair, ``qubit_a < qubit_b``.
        two_qubit_gate_fidelity: average fidelity of the native 2-qubit gate.
        two_qubit_phase_rad: coherent error of the native 2-qubit gate as its uncompensated
            pulse makes it: for ``cz`` an extra conditional phase on ``|11>``; for ``rxx``
            (Mølmer–Sørensen) an extra rotation angle of a ``rxx(π/2)`` gate.
        zz_khz: always-on ZZ coupling ``ζ/2π`` of the pair, kHz: the pair accumulates the
            conditional phase ``2π ζ t`` on ``|11>`` over every time ``t`` both qubits spend
            outside a gate on this pair (:mod:`quantum_service.devices.crosstalk`).
        spectator_error: probability of a Z error on one qubit of the pair per native 2-qubit
            gate that drives the other qubit with a third one (spectator error).
    """

    qubit_a: int
    qubit_b: int
    two_qubit_gate_fidelity: float
    two_qubit_phase_rad: float = 0.0
    zz_khz: float = 0.0
    spectator_error: float = 0.0


@dataclass(frozen=True, slots=True)
class DeviceParameters:
    """All physical parameters of a device: one entry per qubit, one per coupled pair.

    ``pairs`` is keyed by ``(min(a, b), max(a, b))``. The ``default_*`` values apply to pairs
    not listed (all-to-all devices list none).
    """

    qubits: tuple[QubitParameters, ...]
    pairs: dict[tuple[int, int], PairParameters] = field(default_factory=dict)
    default_two_qubit_gate_fidelity: float = 1.0
    default_zz_khz: float = 0.0
    default_spectator_error: float = 0.0

    def pair(self, a: int, b: int) -> PairParameters:
        key = (min(a, b), max(a, b))
        found = self.pairs.get(key)
        if found is None:
            return PairParameters(key[0], key[1], self.default_two_qubit_gate_fidelity,
                                  zz_khz=self.default_zz_khz,
                                  spectator_error=self.default_spectator_error)
        return found

    def with_qubit(self, q: int, **changes: Any) -> DeviceParameters:
        """A copy with fields of qubit ``q`` replaced (keyword names of QubitParameters)."""
        qubits = list(self.qubits)
        qubits[q] = replace(qubits[q], **changes)
        return replace(self, qubits=tuple(qubits))

    def with_pair(self, a: int, b: int, **changes: Any) -> DeviceParameters:
        """A copy with fields of pair ``(a, b)`` replaced (listed if it was not)."""
        key = (min(a, b), max(a, b))
        pairs = dict(self.pairs)
        pairs[key] = replace(self.pair(*key), **changes)
        return replace(self, pairs=pairs)


@dataclass(frozen=True, slots=True)
class CalibrationRejection:
    """A calibration node whose new estimate was not installed (the old one was kept, stale).

    Attributes:
        node: the calibration node (``"ramsey"``, ``"cphase"``).
        target: its qubit, or its pair ``(a, b)`` with ``a < b``.
        reason: UPPER_SNAKE cause: ``SIGMA_ABOVE_CEILING`` (the fit's one-sigma uncertainty
            exceeds the node's ceiling), ``OUT_OF_RANGE`` (a fitted value outside its physical
            range or on a bound of the fit), ``FIT_FAILED`` (the fit did not converge) or
            ``PARENT_REJECTED`` (a node it depends on was rejected in the same run, so it was
            not run on a stale parent).
        detail: what was measured against what, e.g. ``"σ(frequency_hz) = 5.1e+03 > 3e+03"``
            (the retry included).
    """

    node: str
    target: int | tuple[int, int]
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CalibrationSnapshot:
    """A versioned set of calibrated estimates of a device's parameters.

    Every job result records the ``snapshot_id`` it ran under. A snapshot made by calibration
    names its parent and what caused it.

    Attributes:
        snapshot_id: ``cal-{qpu_id}-{12 hex}``.
        qpu_id: the device.
        create_time: UTC wall time of creation.
        parameters: the calibrated estimates.
        trigger: ``"initial"``, ``"schedule"``, ``"drift"`` or ``"on_demand"``.
        recalibrated_qubits: qubits whose values were re-measured (others carried over).
        calibration_device_time_s: device time the experiments of this snapshot used, s.
        parent_snapshot_id: the snapshot this one supersedes (empty for the first).
        device_clock_s: device clock (busy + idle device time, s) at creation.
        experiments: experiments run, e.g. ``"rabi:q3"``, ``"cphase:q3-q4"``.
        qubit_uncertainties: per qubit, one-sigma uncertainty of each fitted field, keyed by
            field name (``"t1_us"``); empty mappings for values not fitted.
        pair_uncertainties: per pair key, the same for pair fields.
        qubit_calibrate_times: per qubit, UTC wall time of its last calibration.
        rejections: the nodes of the calibration that made this snapshot whose new estimates
            were rejected (their previous values are carried over); empty when every fit was
            accepted.
    """

    snapshot_id: str
    qpu_id: str
    create_time: datetime
    parameters: DeviceParameters
    trigger: str = "initial"
    recalibrated_qubits: tuple[int, ...] = ()
    calibration_device_time_s: float = 0.0
    parent_snapshot_id: str = ""
    device_clock_s: float = 0.0
    experiments: tuple[str, ...] = ()
    qubit_uncertainties: tuple[Mapping[str, float], ...] = ()
    pair_uncertainties: Mapping[tuple[int, int], Mapping[str, float]] = field(
        default_factory=dict)
    qubit_calibrate_times: tuple[datetime, ...] = ()
    rejections: tuple[CalibrationRejection, ...] = ()

    @staticmethod
    def create(qpu_id: str, parameters: DeviceParameters, *, trigger: str = "initial",
               device_clock_s: float = 0.0) -> CalibrationSnapshot:
        now = datetime.now(UTC)
        return CalibrationSnapshot(
            snapshot_id=f"cal-{qpu_id}-{uuid.uuid4().hex[:12]}",
            qpu_id=qpu_id,
            create_time=now,
            parameters=parameters,
            trigger=trigger,
            device_clock_s=device_clock_s,
            qubit_uncertainties=tuple({} for _ in parameters.qubits),
            qubit_calibrate_times=tuple(now for _ in parameters.qubits),
        )

    def updated(self, parameters: DeviceParameters) -> CalibrationSnapshot:
        """A child snapshot with new values and nothing else changed (trigger kept)."""
        return self.derive(parameters, trigger=self.trigger)

    def derive(self, parameters: DeviceParameters, *, trigger: str,
               recalibrated_qubits: tuple[int, ...] = (), experiments: tuple[str, ...] = (),
               calibration_device_time_s: float = 0.0, device_clock_s: float | None = None,
               qubit_uncertainties: Mapping[int, Mapping[str, float]] | None = None,
               pair_uncertainties: Mapping[tuple[int, int], Mapping[str, float]] | None = None,
               rejections: tuple[CalibrationRejection, ...] = (),
               ) -> CalibrationSnapshot:
        """The child snapshot after a calibration: new id, this one as parent.

        Uncertainties and calibrate times of qubits not in ``recalibrated_qubits`` carry over;
        ``rejections`` are this calibration's own (a parent's are not inherited).
        """
        now = datetime.now(UTC)
        uncertainties = list(self.qubit_uncertainties or ({} for _ in parameters.qubits))
        times = list(self.qubit_calibrate_times or (self.create_time for _ in parameters.qubits))
        for q, values in (qubit_uncertainties or {}).items():
            uncertainties[q] = {**uncertainties[q], **values}
        for q in recalibrated_qubits:
            times[q] = now
        pairs = dict(self.pair_uncertainties)
        for key, values in (pair_uncertainties or {}).items():
            pairs[key] = {**pairs.get(key, {}), **values}
        return CalibrationSnapshot(
            snapshot_id=f"cal-{self.qpu_id}-{uuid.uuid4().hex[:12]}",
            qpu_id=self.qpu_id, create_time=now, parameters=parameters, trigger=trigger,
            recalibrated_qubits=tuple(sorted(recalibrated_qubits)),
            calibration_device_time_s=calibration_device_time_s,
            parent_snapshot_id=self.snapshot_id,
            device_clock_s=self.device_clock_s if device_clock_s is None else device_clock_s,
            experiments=experiments, qubit_uncertainties=tuple(uncertainties),
            pair_uncertainties=pairs, qubit_calibrate_times=tuple(times),
            rejections=tuple(rejections))
