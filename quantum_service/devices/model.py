"""Device models: the physical parameters of a simulated QPU and its calibration snapshots.

A simulated QPU has *true* parameters (hidden from the OS) and *calibrated estimates* (what the
OS believes, versioned as :class:`CalibrationSnapshot`). The noise applied to a circuit is derived
from the true parameters; what the OS reports comes from the snapshot.

Units are in the names: ``t1_us``/``t2_us`` in microseconds, ``frequency_hz`` in hertz,
durations in nanoseconds. Fidelities are average gate fidelities in ``[0, 1]``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

__all__ = ["QubitParameters", "PairParameters", "DeviceParameters", "CalibrationSnapshot"]


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
    """

    frequency_hz: float
    t1_us: float
    t2_us: float
    readout_p01: float
    readout_p10: float
    single_qubit_gate_fidelity: float

    @property
    def readout_fidelity(self) -> float:
        return 1.0 - 0.5 * (self.readout_p01 + self.readout_p10)


@dataclass(frozen=True, slots=True)
class PairParameters:
    """Physical parameters of one coupled pair: the native 2-qubit gate's average fidelity."""

    qubit_a: int
    qubit_b: int
    two_qubit_gate_fidelity: float


@dataclass(frozen=True, slots=True)
class DeviceParameters:
    """All physical parameters of a device: one entry per qubit, one per coupled pair.

    ``pairs`` is keyed by ``(min(a, b), max(a, b))``. ``default_pair`` applies to pairs not listed
    (all-to-all devices list none).
    """

    qubits: tuple[QubitParameters, ...]
    pairs: dict[tuple[int, int], PairParameters] = field(default_factory=dict)
    default_two_qubit_gate_fidelity: float = 1.0

    def pair(self, a: int, b: int) -> PairParameters:
        key = (min(a, b), max(a, b))
        found = self.pairs.get(key)
        if found is None:
            return PairParameters(key[0], key[1], self.default_two_qubit_gate_fidelity)
        return found


@dataclass(frozen=True, slots=True)
class CalibrationSnapshot:
    """A versioned set of calibrated estimates of a device's parameters.

    Every job result records the ``snapshot_id`` it ran under.
    """

    snapshot_id: str
    qpu_id: str
    create_time: datetime
    parameters: DeviceParameters

    @staticmethod
    def create(qpu_id: str, parameters: DeviceParameters) -> CalibrationSnapshot:
        return CalibrationSnapshot(
            snapshot_id=f"cal-{qpu_id}-{uuid.uuid4().hex[:12]}",
            qpu_id=qpu_id,
            create_time=datetime.now(UTC),
            parameters=parameters,
        )

    def updated(self, parameters: DeviceParameters) -> CalibrationSnapshot:
        return replace(CalibrationSnapshot.create(self.qpu_id, parameters))
