"""The unified driver interface: one abstract :class:`QpuDriver` for every modality.

A driver declares what its QPU can do as data (:class:`QpuCapabilities`) and executes
*prepared programs*: circuits already compiled for it, with an observable or a measurement
request, evaluated for a batch of parameter sets. The kernel never branches on the modality; it
reads capabilities, asks the driver to prepare (compile) once, and executes many times.

Lifecycle (as in qibolab): ``connect()`` → many ``prepare()``/``execute()`` → ``disconnect()``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from quantum_service.circuits.ir import Circuit

__all__ = [
    "Modality",
    "NativeGateInfo",
    "QpuCapabilities",
    "ExecutionOptions",
    "ExecutionResult",
    "PreparedProgram",
    "QpuDriver",
]


class Modality(str, Enum):
    SUPERCONDUCTING = "superconducting"
    TRAPPED_ION = "trapped_ion"
    NEUTRAL_ATOM = "neutral_atom"
    PHOTONIC = "photonic"


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
            ``16**n`` bytes per complex128 density matrix).
        description: one line for humans, with the device it is modelled on.
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

    @property
    def native_gate_names(self) -> frozenset[str]:
        return frozenset(g.name for g in self.native_gates)

    def gate_duration_ns(self, name: str) -> float:
        for gate in self.native_gates:
            if gate.name == name:
                return gate.duration_ns
        return 0.0


@dataclass(frozen=True, slots=True)
class ExecutionOptions:
    """How to execute a prepared program.

    Attributes:
        shot_count: 0 for exact expectation values (observable programs only); otherwise the
            number of shots per circuit and parameter set.
        gradient: also return gradients of expectation values (parameter-shift rule or adjoint).
        seed: seed for shot sampling and stochastic noise.
        readout_mitigation: also return counts corrected with the latest calibrated readout
            assignment matrices (``ExecutionResult.mitigated_probabilities``).
        gradient_method: ``"parameter_shift"`` (runs on any QPU; device time counts the
            shifted circuits) or ``"adjoint"`` (exact, noiseless simulation only).
    """

    shot_count: int = 0
    gradient: bool = False
    seed: int | None = None
    readout_mitigation: bool = False
    gradient_method: str = "parameter_shift"


@dataclass(slots=True)
class ExecutionResult:
    """Results for a batch of ``m`` parameter sets of one prepared program.

    Attributes:
        expectation_values: float64 ``(m,)`` (observable programs), else ``None``.
        standard_errors: float64 ``(m,)``; zeros for exact values.
        gradients: float64 ``(m, parameter_count)`` when requested.
        counts: per parameter set, bitstring → count (sampling programs), else ``None``.
        device_time_s: QPU time this batch used (gates, readout, reset, times shots).
        circuit_executions: circuits run, counting every shifted circuit of a gradient.
        discarded_shot_counts: per parameter set, shots the device discarded (photonic failed
            heralds, lost atoms); ``counts`` hold the kept shots only.
        mitigated_probabilities: per parameter set, readout-mitigated quasi-probabilities
            (when ``ExecutionOptions.readout_mitigation``).
        engine: the engine that ran the batch (``statevector``, ``density_matrix``; see
            :mod:`quantum_service.engines`); empty for drivers without one.
        engine_reason: why that engine was chosen (one sentence).
    """

    expectation_values: np.ndarray | None = None
    standard_errors: np.ndarray | None = None
    gradients: np.ndarray | None = None
    counts: list[dict[str, int]] | None = None
    device_time_s: float = 0.0
    circuit_executions: int = 0
    discarded_shot_counts: list[int] | None = None
    mitigated_probabilities: list[dict[str, float]] | None = None
    engine: str = ""
    engine_reason: str = ""


@dataclass(slots=True)
class PreparedProgram:
    """A circuit compiled for one QPU, plus what to compute from it.

    Created by :meth:`QpuDriver.prepare`; drivers attach their own executable form in
    ``payload``. ``parameters`` are the symbolic parameters, in parameter-vector order.
    """

    qpu_id: str
    circuit: Circuit
    parameters: tuple[str, ...]
    observable: Sequence[tuple[str, float]] | None
    compiled_gate_count: int
    compiled_depth: int
    swap_count: int
    calibration_snapshot_id: str
    #: One shot's gate schedule on the device, ns (readout and reset excluded); 0 if unknown.
    duration_ns: float = 0.0
    #: Device qubits the program occupies (gates, measurements, observable support).
    physical_qubits: tuple[int, ...] = ()
    payload: object = field(default=None, repr=False)


class QpuDriver(abc.ABC):
    """Abstract driver. Subclasses implement :meth:`prepare` and :meth:`execute`.

    Drivers never import ``grpc``; they raise :mod:`quantum_service.errors` exceptions.
    ``execute`` is blocking and thread-safe; the kernel calls it from worker threads.
    """

    @property
    @abc.abstractmethod
    def capabilities(self) -> QpuCapabilities:
        """The QPU's capabilities."""

    def connect(self) -> None:  # noqa: B027 - optional hook
        """Opens the device (default: nothing to do)."""

    def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Releases the device (default: nothing to do)."""

    @abc.abstractmethod
    def prepare(self, circuit: Circuit, *, observable: Sequence[tuple[str, float]] | None
                ) -> PreparedProgram:
        """Validates and compiles ``circuit`` for this QPU (once per program).

        Raises:
            InvalidProgramError: the circuit cannot run here (too wide, unroutable, ...).
        """

    @abc.abstractmethod
    def execute(self, program: PreparedProgram, parameter_sets: np.ndarray,
                options: ExecutionOptions) -> ExecutionResult:
        """Runs ``program`` for each row of ``parameter_sets`` (float64 ``(m, n)``)."""

    @abc.abstractmethod
    def calibration_snapshot(self) -> object:
        """The current calibration snapshot (a :class:`CalibrationSnapshot`)."""

    @property
    def device_time_s(self) -> float:
        """Total device time consumed so far, seconds."""
        return 0.0
