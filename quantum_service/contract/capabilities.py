"""What a QPU is and can do, as data: its modality, native gates, durations and limits.

Part of the driver contract (:mod:`quantum_service.contract`). Besides the fixed fields of
:class:`QpuCapabilities`, a driver may declare open-ended feature flags and numbers
(:attr:`~quantum_service.contract.driver.QpuDriver.supports` and ``properties``); the flag names
qcore itself reads are the constants below.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "ATOM_LOSS",
    "DELAY",
    "DRIVE_GATES",
    "HERALDED_TWO_QUBIT_GATES",
    "PHOTON_LOSS",
    "POST_SELECTION",
    "Modality",
    "NativeGateInfo",
    "QpuCapabilities",
]


class Modality(str, Enum):
    """The physical platform of a QPU."""

    SUPERCONDUCTING = "superconducting"
    TRAPPED_ION = "trapped_ion"
    NEUTRAL_ATOM = "neutral_atom"
    PHOTONIC = "photonic"


#: ``supports`` flag: the device discards shots (``ExecutionResult.discarded_shot_counts``).
POST_SELECTION = "post_selection"
#: ``supports`` flag: two-qubit gates succeed probabilistically and herald success (photonic);
#: such QPUs keep few of the shots asked for, so automatic placement never chooses them.
HERALDED_TWO_QUBIT_GATES = "heralded_two_qubit_gates"
#: ``supports`` flag: atoms may be lost during a shot (neutral atoms).
ATOM_LOSS = "atom_loss"
#: ``supports`` flag: photons may be lost (photonic).
PHOTON_LOSS = "photon_loss"

#: Single-qubit gates a calibration program may play as resonant drive pulses
#: (:meth:`~quantum_service.contract.driver.Calibratable.execute_native`); on a noisy device
#: their rotation angle is scaled by ``A_cal/A_true``.
DRIVE_GATES = frozenset({"x", "y", "sx", "sxdg", "r", "rx", "ry"})
#: The idle pseudo-gate of calibration programs (one constant parameter: nanoseconds).
DELAY = "delay"


@dataclass(frozen=True, slots=True)
class NativeGateInfo:
    """A native gate: name (see :mod:`quantum_service.circuits.gates`), arity, duration."""

    name: str
    qubit_count: int
    parameter_count: int
    duration_ns: float


@dataclass(frozen=True, slots=True)
class QpuCapabilities:
    """What a QPU is and can do, as data.

    Attributes:
        qpu_id: stable identifier, e.g. ``"sc-grid-16"``.
        modality: the physical platform.
        qubit_count: physical qubits.
        coupling_map: undirected edges where 2-qubit native gates act; ``None`` = all-to-all.
        native_gates: the native gate set with durations.
        readout_duration_ns, reset_duration_ns: per-shot measurement and reset/cooling time.
        max_shot_count: largest ``shot_count`` accepted per circuit.
        max_parameter_set_count: largest number of parameter sets per request.
        noisy: ``False`` for an ideal (noiseless) device.
        max_simulated_qubits: most *active* qubits one circuit may touch on this simulated
            device (density-matrix simulation of noisy devices is limited by memory:
            noisy programs wider than the exact density matrix run as trajectories).
        description: one line for humans, with the device it is modelled on.
        dynamic_circuits: the QPU runs dynamic circuits: mid-circuit measurement, mid-circuit
            reset and operations conditioned on measured bits (classical feed-forward).
        feed_forward_latency_ns: time from the end of a readout to the start of an operation
            conditioned on it (classical decision and control latency), ns; 0 without
            ``dynamic_circuits``. Orders of magnitude per modality: superconducting transmons
            about 0.5–1 µs after the readout (IBM Quantum dynamic-circuits documentation;
            Córcoles et al., PRL 127, 100501 (2021)); trapped ions tens of µs (Pino et al.,
            Nature 592, 209 (2021)); neutral atoms about a millisecond (Bluvstein et al.,
            Nature 626, 58 (2024)); dual-rail photonic qubits are destroyed by detection and
            declare no dynamic circuits.
    """

    qpu_id: str
    modality: Modality
    qubit_count: int
    coupling_map: tuple[tuple[int, int], ...] | None
    native_gates: tuple[NativeGateInfo, ...]
    readout_duration_ns: float
    reset_duration_ns: float
    max_shot_count: int = 100_000
    max_parameter_set_count: int = 10_000
    noisy: bool = True
    max_simulated_qubits: int = 24
    description: str = ""
    dynamic_circuits: bool = False
    feed_forward_latency_ns: float = 0.0

    @property
    def native_gate_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.native_gates)

    def gate_duration_ns(self, name: str) -> float:
        """Duration of native gate ``name``, ns; 0 for a name that is not native."""
        for gate in self.native_gates:
            if gate.name == name:
                return gate.duration_ns
        return 0.0

    @property
    def slowest_gate_ns(self) -> float:
        """The longest native gate duration, ns (0 without native gates)."""
        return max((g.duration_ns for g in self.native_gates), default=0.0)
