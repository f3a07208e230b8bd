"""The driver contract: the one package that the kernel, calibration, the compiler-facing
code, the device models and every driver depend on.

* :mod:`.capabilities` — :class:`Modality`, :class:`QpuCapabilities`, native gates, the
  feature-flag names qcore reads;
* :mod:`.parameters` — device parameters and :class:`CalibrationSnapshot` (SI units in names);
* :mod:`.programs` — :class:`PreparedProgram`, :class:`ExecutionOptions`,
  :class:`ExecutionResult`, :class:`ExecutionCancelled`;
* :mod:`.driver` — the abstract :class:`QpuDriver` and the typed protocols of optional
  abilities (:class:`Calibratable`, :class:`Simultaneous`, :class:`FixedLayout`,
  :class:`PostSelecting`), declared through accessors, never probed;
* :mod:`.mitigation` — :class:`MitigationOptions` (zero-noise extrapolation, Pauli twirling,
  dynamical decoupling) and the :class:`MitigationRecord` of each mitigated result;
* :mod:`.executor` — the :class:`Executor` interface: where pure simulation work runs;
* :mod:`.device_time` — the one model of device time and shot accounting.

It depends only on :mod:`quantum_service.circuits`, :mod:`quantum_service.simulator.pauli`
and :mod:`quantum_service.errors`.
"""

from __future__ import annotations

from quantum_service.contract.capabilities import (
    ATOM_LOSS,
    DELAY,
    DRIVE_GATES,
    HERALDED_TWO_QUBIT_GATES,
    PHOTON_LOSS,
    POST_SELECTION,
    Modality,
    NativeGateInfo,
    QpuCapabilities,
)
from quantum_service.contract.driver import (
    Calibratable,
    FixedLayout,
    Mitigating,
    Offloadable,
    PostSelecting,
    QpuDriver,
    Simultaneous,
)
from quantum_service.contract.executor import Executor, MappedBatch, SharedProgram
from quantum_service.contract.mitigation import (
    DYNAMICAL_DECOUPLING,
    PAULI_TWIRLING,
    ZERO_NOISE_EXTRAPOLATION,
    DecouplingSequence,
    DynamicalDecoupling,
    Extrapolation,
    Folding,
    MitigationOptions,
    MitigationRecord,
    PauliTwirling,
    ZeroNoiseExtrapolation,
)
from quantum_service.contract.parameters import (
    CalibrationRejection,
    CalibrationSnapshot,
    DeviceParameters,
    PairParameters,
    QubitParameters,
)
from quantum_service.contract.programs import (
    ExecutionCancelled,
    ExecutionOptions,
    ExecutionResult,
    PreparedProgram,
)

__all__ = [
    "ATOM_LOSS",
    "DELAY",
    "DYNAMICAL_DECOUPLING",
    "DRIVE_GATES",
    "HERALDED_TWO_QUBIT_GATES",
    "PHOTON_LOSS",
    "PAULI_TWIRLING",
    "POST_SELECTION",
    "ZERO_NOISE_EXTRAPOLATION",
    "Calibratable",
    "CalibrationRejection",
    "CalibrationSnapshot",
    "DecouplingSequence",
    "DynamicalDecoupling",
    "DeviceParameters",
    "ExecutionCancelled",
    "ExecutionOptions",
    "ExecutionResult",
    "Executor",
    "Extrapolation",
    "FixedLayout",
    "Folding",
    "MappedBatch",
    "Mitigating",
    "MitigationOptions",
    "MitigationRecord",
    "Modality",
    "NativeGateInfo",
    "Offloadable",
    "PairParameters",
    "PauliTwirling",
    "PostSelecting",
    "PreparedProgram",
    "QpuCapabilities",
    "QpuDriver",
    "QubitParameters",
    "SharedProgram",
    "Simultaneous",
    "ZeroNoiseExtrapolation",
]
