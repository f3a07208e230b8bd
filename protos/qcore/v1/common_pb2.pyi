import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Modality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODALITY_UNSPECIFIED: _ClassVar[Modality]
    MODALITY_SUPERCONDUCTING: _ClassVar[Modality]
    MODALITY_TRAPPED_ION: _ClassVar[Modality]
    MODALITY_NEUTRAL_ATOM: _ClassVar[Modality]
    MODALITY_PHOTONIC: _ClassVar[Modality]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class QpuStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QPU_STATUS_UNSPECIFIED: _ClassVar[QpuStatus]
    QPU_STATUS_ONLINE: _ClassVar[QpuStatus]
    QPU_STATUS_CALIBRATING: _ClassVar[QpuStatus]
    QPU_STATUS_OFFLINE: _ClassVar[QpuStatus]

class ExtrapolationMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXTRAPOLATION_METHOD_UNSPECIFIED: _ClassVar[ExtrapolationMethod]
    EXTRAPOLATION_METHOD_RICHARDSON: _ClassVar[ExtrapolationMethod]
    EXTRAPOLATION_METHOD_LINEAR: _ClassVar[ExtrapolationMethod]
    EXTRAPOLATION_METHOD_EXPONENTIAL: _ClassVar[ExtrapolationMethod]

class FoldingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FOLDING_METHOD_UNSPECIFIED: _ClassVar[FoldingMethod]
    FOLDING_METHOD_GLOBAL: _ClassVar[FoldingMethod]
    FOLDING_METHOD_LOCAL: _ClassVar[FoldingMethod]

class DecouplingSequence(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECOUPLING_SEQUENCE_UNSPECIFIED: _ClassVar[DecouplingSequence]
    DECOUPLING_SEQUENCE_XX: _ClassVar[DecouplingSequence]
    DECOUPLING_SEQUENCE_XY4: _ClassVar[DecouplingSequence]
MODALITY_UNSPECIFIED: Modality
MODALITY_SUPERCONDUCTING: Modality
MODALITY_TRAPPED_ION: Modality
MODALITY_NEUTRAL_ATOM: Modality
MODALITY_PHOTONIC: Modality
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
QPU_STATUS_UNSPECIFIED: QpuStatus
QPU_STATUS_ONLINE: QpuStatus
QPU_STATUS_CALIBRATING: QpuStatus
QPU_STATUS_OFFLINE: QpuStatus
EXTRAPOLATION_METHOD_UNSPECIFIED: ExtrapolationMethod
EXTRAPOLATION_METHOD_RICHARDSON: ExtrapolationMethod
EXTRAPOLATION_METHOD_LINEAR: ExtrapolationMethod
EXTRAPOLATION_METHOD_EXPONENTIAL: ExtrapolationMethod
FOLDING_METHOD_UNSPECIFIED: FoldingMethod
FOLDING_METHOD_GLOBAL: FoldingMethod
FOLDING_METHOD_LOCAL: FoldingMethod
DECOUPLING_SEQUENCE_UNSPECIFIED: DecouplingSequence
DECOUPLING_SEQUENCE_XX: DecouplingSequence
DECOUPLING_SEQUENCE_XY4: DecouplingSequence

class ParameterTerm(_message.Message):
    __slots__ = ("symbol", "coefficient")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    coefficient: float
    def __init__(self, symbol: _Optional[str] = ..., coefficient: _Optional[float] = ...) -> None: ...

class ParameterExpression(_message.Message):
    __slots__ = ("constant", "terms")
    CONSTANT_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    constant: float
    terms: _containers.RepeatedCompositeFieldContainer[ParameterTerm]
    def __init__(self, constant: _Optional[float] = ..., terms: _Optional[_Iterable[_Union[ParameterTerm, _Mapping]]] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("name", "qubits", "params", "clbits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUBITS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    CLBITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    qubits: _containers.RepeatedScalarFieldContainer[int]
    params: _containers.RepeatedCompositeFieldContainer[ParameterExpression]
    clbits: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., qubits: _Optional[_Iterable[int]] = ..., params: _Optional[_Iterable[_Union[ParameterExpression, _Mapping]]] = ..., clbits: _Optional[_Iterable[int]] = ...) -> None: ...

class Circuit(_message.Message):
    __slots__ = ("qubit_count", "clbit_count", "operations", "parameters", "name")
    QUBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CLBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    qubit_count: int
    clbit_count: int
    operations: _containers.RepeatedCompositeFieldContainer[Operation]
    parameters: _containers.RepeatedScalarFieldContainer[str]
    name: str
    def __init__(self, qubit_count: _Optional[int] = ..., clbit_count: _Optional[int] = ..., operations: _Optional[_Iterable[_Union[Operation, _Mapping]]] = ..., parameters: _Optional[_Iterable[str]] = ..., name: _Optional[str] = ...) -> None: ...

class Program(_message.Message):
    __slots__ = ("openqasm", "circuit")
    OPENQASM_FIELD_NUMBER: _ClassVar[int]
    CIRCUIT_FIELD_NUMBER: _ClassVar[int]
    openqasm: str
    circuit: Circuit
    def __init__(self, openqasm: _Optional[str] = ..., circuit: _Optional[_Union[Circuit, _Mapping]] = ...) -> None: ...

class PauliTerm(_message.Message):
    __slots__ = ("pauli_string", "coefficient")
    PAULI_STRING_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    pauli_string: str
    coefficient: float
    def __init__(self, pauli_string: _Optional[str] = ..., coefficient: _Optional[float] = ...) -> None: ...

class Observable(_message.Message):
    __slots__ = ("terms",)
    TERMS_FIELD_NUMBER: _ClassVar[int]
    terms: _containers.RepeatedCompositeFieldContainer[PauliTerm]
    def __init__(self, terms: _Optional[_Iterable[_Union[PauliTerm, _Mapping]]] = ...) -> None: ...

class ParameterSet(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class NativeGate(_message.Message):
    __slots__ = ("name", "qubit_count", "parameter_count", "duration_ns", "fidelity")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    FIDELITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    qubit_count: int
    parameter_count: int
    duration_ns: float
    fidelity: float
    def __init__(self, name: _Optional[str] = ..., qubit_count: _Optional[int] = ..., parameter_count: _Optional[int] = ..., duration_ns: _Optional[float] = ..., fidelity: _Optional[float] = ...) -> None: ...

class Coupling(_message.Message):
    __slots__ = ("qubit_a", "qubit_b")
    QUBIT_A_FIELD_NUMBER: _ClassVar[int]
    QUBIT_B_FIELD_NUMBER: _ClassVar[int]
    qubit_a: int
    qubit_b: int
    def __init__(self, qubit_a: _Optional[int] = ..., qubit_b: _Optional[int] = ...) -> None: ...

class QubitCalibration(_message.Message):
    __slots__ = ("qubit", "frequency_hz", "t1_us", "t2_us", "readout_fidelity", "single_qubit_gate_fidelity", "pi_pulse_amplitude", "readout_p01", "readout_p10", "uncertainties", "calibrate_time")
    class UncertaintiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    QUBIT_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_HZ_FIELD_NUMBER: _ClassVar[int]
    T1_US_FIELD_NUMBER: _ClassVar[int]
    T2_US_FIELD_NUMBER: _ClassVar[int]
    READOUT_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    SINGLE_QUBIT_GATE_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    PI_PULSE_AMPLITUDE_FIELD_NUMBER: _ClassVar[int]
    READOUT_P01_FIELD_NUMBER: _ClassVar[int]
    READOUT_P10_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTIES_FIELD_NUMBER: _ClassVar[int]
    CALIBRATE_TIME_FIELD_NUMBER: _ClassVar[int]
    qubit: int
    frequency_hz: float
    t1_us: float
    t2_us: float
    readout_fidelity: float
    single_qubit_gate_fidelity: float
    pi_pulse_amplitude: float
    readout_p01: float
    readout_p10: float
    uncertainties: _containers.ScalarMap[str, float]
    calibrate_time: _timestamp_pb2.Timestamp
    def __init__(self, qubit: _Optional[int] = ..., frequency_hz: _Optional[float] = ..., t1_us: _Optional[float] = ..., t2_us: _Optional[float] = ..., readout_fidelity: _Optional[float] = ..., single_qubit_gate_fidelity: _Optional[float] = ..., pi_pulse_amplitude: _Optional[float] = ..., readout_p01: _Optional[float] = ..., readout_p10: _Optional[float] = ..., uncertainties: _Optional[_Mapping[str, float]] = ..., calibrate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PairCalibration(_message.Message):
    __slots__ = ("qubit_a", "qubit_b", "two_qubit_gate_fidelity", "two_qubit_phase_rad", "uncertainties")
    class UncertaintiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    QUBIT_A_FIELD_NUMBER: _ClassVar[int]
    QUBIT_B_FIELD_NUMBER: _ClassVar[int]
    TWO_QUBIT_GATE_FIDELITY_FIELD_NUMBER: _ClassVar[int]
    TWO_QUBIT_PHASE_RAD_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTIES_FIELD_NUMBER: _ClassVar[int]
    qubit_a: int
    qubit_b: int
    two_qubit_gate_fidelity: float
    two_qubit_phase_rad: float
    uncertainties: _containers.ScalarMap[str, float]
    def __init__(self, qubit_a: _Optional[int] = ..., qubit_b: _Optional[int] = ..., two_qubit_gate_fidelity: _Optional[float] = ..., two_qubit_phase_rad: _Optional[float] = ..., uncertainties: _Optional[_Mapping[str, float]] = ...) -> None: ...

class CalibrationRejection(_message.Message):
    __slots__ = ("node", "qubits", "reason", "detail")
    NODE_FIELD_NUMBER: _ClassVar[int]
    QUBITS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    node: str
    qubits: _containers.RepeatedScalarFieldContainer[int]
    reason: str
    detail: str
    def __init__(self, node: _Optional[str] = ..., qubits: _Optional[_Iterable[int]] = ..., reason: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class CalibrationSnapshot(_message.Message):
    __slots__ = ("snapshot_id", "qpu_id", "create_time", "qubits", "pairs", "trigger", "recalibrated_qubits", "calibration_device_time_s", "parent_snapshot_id", "rejections")
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    QUBITS_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    RECALIBRATED_QUBITS_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    PARENT_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    snapshot_id: str
    qpu_id: str
    create_time: _timestamp_pb2.Timestamp
    qubits: _containers.RepeatedCompositeFieldContainer[QubitCalibration]
    pairs: _containers.RepeatedCompositeFieldContainer[PairCalibration]
    trigger: str
    recalibrated_qubits: _containers.RepeatedScalarFieldContainer[int]
    calibration_device_time_s: float
    parent_snapshot_id: str
    rejections: _containers.RepeatedCompositeFieldContainer[CalibrationRejection]
    def __init__(self, snapshot_id: _Optional[str] = ..., qpu_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., qubits: _Optional[_Iterable[_Union[QubitCalibration, _Mapping]]] = ..., pairs: _Optional[_Iterable[_Union[PairCalibration, _Mapping]]] = ..., trigger: _Optional[str] = ..., recalibrated_qubits: _Optional[_Iterable[int]] = ..., calibration_device_time_s: _Optional[float] = ..., parent_snapshot_id: _Optional[str] = ..., rejections: _Optional[_Iterable[_Union[CalibrationRejection, _Mapping]]] = ...) -> None: ...

class QpuDescription(_message.Message):
    __slots__ = ("qpu_id", "modality", "description", "qubit_count", "coupling_map", "all_to_all", "native_gates", "max_shot_count", "max_parameter_set_count", "readout_duration_ns", "reset_duration_ns", "noisy", "status", "calibration", "queue_length", "device_time_s", "supports", "properties")
    class SupportsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bool
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bool] = ...) -> None: ...
    class PropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    MODALITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COUPLING_MAP_FIELD_NUMBER: _ClassVar[int]
    ALL_TO_ALL_FIELD_NUMBER: _ClassVar[int]
    NATIVE_GATES_FIELD_NUMBER: _ClassVar[int]
    MAX_SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_PARAMETER_SET_COUNT_FIELD_NUMBER: _ClassVar[int]
    READOUT_DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    RESET_DURATION_NS_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    SUPPORTS_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    modality: Modality
    description: str
    qubit_count: int
    coupling_map: _containers.RepeatedCompositeFieldContainer[Coupling]
    all_to_all: bool
    native_gates: _containers.RepeatedCompositeFieldContainer[NativeGate]
    max_shot_count: int
    max_parameter_set_count: int
    readout_duration_ns: float
    reset_duration_ns: float
    noisy: bool
    status: QpuStatus
    calibration: CalibrationSnapshot
    queue_length: int
    device_time_s: float
    supports: _containers.ScalarMap[str, bool]
    properties: _containers.ScalarMap[str, float]
    def __init__(self, qpu_id: _Optional[str] = ..., modality: _Optional[_Union[Modality, str]] = ..., description: _Optional[str] = ..., qubit_count: _Optional[int] = ..., coupling_map: _Optional[_Iterable[_Union[Coupling, _Mapping]]] = ..., all_to_all: _Optional[bool] = ..., native_gates: _Optional[_Iterable[_Union[NativeGate, _Mapping]]] = ..., max_shot_count: _Optional[int] = ..., max_parameter_set_count: _Optional[int] = ..., readout_duration_ns: _Optional[float] = ..., reset_duration_ns: _Optional[float] = ..., noisy: _Optional[bool] = ..., status: _Optional[_Union[QpuStatus, str]] = ..., calibration: _Optional[_Union[CalibrationSnapshot, _Mapping]] = ..., queue_length: _Optional[int] = ..., device_time_s: _Optional[float] = ..., supports: _Optional[_Mapping[str, bool]] = ..., properties: _Optional[_Mapping[str, float]] = ...) -> None: ...

class ZeroNoiseExtrapolation(_message.Message):
    __slots__ = ("scale_factors", "folding", "extrapolation")
    SCALE_FACTORS_FIELD_NUMBER: _ClassVar[int]
    FOLDING_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATION_FIELD_NUMBER: _ClassVar[int]
    scale_factors: _containers.RepeatedScalarFieldContainer[float]
    folding: FoldingMethod
    extrapolation: ExtrapolationMethod
    def __init__(self, scale_factors: _Optional[_Iterable[float]] = ..., folding: _Optional[_Union[FoldingMethod, str]] = ..., extrapolation: _Optional[_Union[ExtrapolationMethod, str]] = ...) -> None: ...

class PauliTwirling(_message.Message):
    __slots__ = ("randomization_count",)
    RANDOMIZATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    randomization_count: int
    def __init__(self, randomization_count: _Optional[int] = ...) -> None: ...

class DynamicalDecoupling(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: DecouplingSequence
    def __init__(self, sequence: _Optional[_Union[DecouplingSequence, str]] = ...) -> None: ...

class MitigationOptions(_message.Message):
    __slots__ = ("zero_noise_extrapolation", "pauli_twirling", "dynamical_decoupling")
    ZERO_NOISE_EXTRAPOLATION_FIELD_NUMBER: _ClassVar[int]
    PAULI_TWIRLING_FIELD_NUMBER: _ClassVar[int]
    DYNAMICAL_DECOUPLING_FIELD_NUMBER: _ClassVar[int]
    zero_noise_extrapolation: ZeroNoiseExtrapolation
    pauli_twirling: PauliTwirling
    dynamical_decoupling: DynamicalDecoupling
    def __init__(self, zero_noise_extrapolation: _Optional[_Union[ZeroNoiseExtrapolation, _Mapping]] = ..., pauli_twirling: _Optional[_Union[PauliTwirling, _Mapping]] = ..., dynamical_decoupling: _Optional[_Union[DynamicalDecoupling, _Mapping]] = ...) -> None: ...

class MitigationResult(_message.Message):
    __slots__ = ("scale_factors", "expectation_values", "standard_errors", "extrapolation", "randomization_count", "decoupling_pulse_count")
    SCALE_FACTORS_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_VALUES_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERRORS_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATION_FIELD_NUMBER: _ClassVar[int]
    RANDOMIZATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    DECOUPLING_PULSE_COUNT_FIELD_NUMBER: _ClassVar[int]
    scale_factors: _containers.RepeatedScalarFieldContainer[float]
    expectation_values: _containers.RepeatedScalarFieldContainer[float]
    standard_errors: _containers.RepeatedScalarFieldContainer[float]
    extrapolation: ExtrapolationMethod
    randomization_count: int
    decoupling_pulse_count: int
    def __init__(self, scale_factors: _Optional[_Iterable[float]] = ..., expectation_values: _Optional[_Iterable[float]] = ..., standard_errors: _Optional[_Iterable[float]] = ..., extrapolation: _Optional[_Union[ExtrapolationMethod, str]] = ..., randomization_count: _Optional[int] = ..., decoupling_pulse_count: _Optional[int] = ...) -> None: ...
