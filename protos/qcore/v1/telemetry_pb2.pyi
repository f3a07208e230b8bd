import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from qcore.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_STATE_UNSPECIFIED: _ClassVar[ServiceState]
    SERVICE_STATE_ONLINE: _ClassVar[ServiceState]
    SERVICE_STATE_OFFLINE: _ClassVar[ServiceState]
SERVICE_STATE_UNSPECIFIED: ServiceState
SERVICE_STATE_ONLINE: ServiceState
SERVICE_STATE_OFFLINE: ServiceState

class ServiceStatus(_message.Message):
    __slots__ = ("service", "state", "address", "version", "time", "last_will")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_WILL_FIELD_NUMBER: _ClassVar[int]
    service: str
    state: ServiceState
    address: str
    version: str
    time: _timestamp_pb2.Timestamp
    last_will: bool
    def __init__(self, service: _Optional[str] = ..., state: _Optional[_Union[ServiceState, str]] = ..., address: _Optional[str] = ..., version: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_will: _Optional[bool] = ...) -> None: ...

class QpuStatusEvent(_message.Message):
    __slots__ = ("qpu_id", "status", "queue_length", "device_time_s", "active_session_id", "time")
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    status: _common_pb2.QpuStatus
    queue_length: int
    device_time_s: float
    active_session_id: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, qpu_id: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.QpuStatus, str]] = ..., queue_length: _Optional[int] = ..., device_time_s: _Optional[float] = ..., active_session_id: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CalibrationEvent(_message.Message):
    __slots__ = ("qpu_id", "snapshot", "time", "trigger", "experiments")
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    snapshot: _common_pb2.CalibrationSnapshot
    time: _timestamp_pb2.Timestamp
    trigger: str
    experiments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, qpu_id: _Optional[str] = ..., snapshot: _Optional[_Union[_common_pb2.CalibrationSnapshot, _Mapping]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trigger: _Optional[str] = ..., experiments: _Optional[_Iterable[str]] = ...) -> None: ...

class CalibrationSummaryEvent(_message.Message):
    __slots__ = ("qpu_id", "snapshot_id", "parent_snapshot_id", "trigger", "experiments", "recalibrated_qubits", "calibration_device_time_s", "qubit_count", "pair_count", "t1_us_median", "t1_us_min", "t2_us_median", "t2_us_min", "readout_fidelity_mean", "readout_fidelity_min", "single_qubit_gate_fidelity_mean", "two_qubit_gate_fidelity_mean", "two_qubit_gate_fidelity_min", "create_time", "time")
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    RECALIBRATED_QUBITS_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    QUBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAIR_COUNT_FIELD_NUMBER: _ClassVar[int]
    T1_US_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    T1_US_MIN_FIELD_NUMBER: _ClassVar[int]
    T2_US_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    T2_US_MIN_FIELD_NUMBER: _ClassVar[int]
    READOUT_FIDELITY_MEAN_FIELD_NUMBER: _ClassVar[int]
    READOUT_FIDELITY_MIN_FIELD_NUMBER: _ClassVar[int]
    SINGLE_QUBIT_GATE_FIDELITY_MEAN_FIELD_NUMBER: _ClassVar[int]
    TWO_QUBIT_GATE_FIDELITY_MEAN_FIELD_NUMBER: _ClassVar[int]
    TWO_QUBIT_GATE_FIDELITY_MIN_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    snapshot_id: str
    parent_snapshot_id: str
    trigger: str
    experiments: _containers.RepeatedScalarFieldContainer[str]
    recalibrated_qubits: _containers.RepeatedScalarFieldContainer[int]
    calibration_device_time_s: float
    qubit_count: int
    pair_count: int
    t1_us_median: float
    t1_us_min: float
    t2_us_median: float
    t2_us_min: float
    readout_fidelity_mean: float
    readout_fidelity_min: float
    single_qubit_gate_fidelity_mean: float
    two_qubit_gate_fidelity_mean: float
    two_qubit_gate_fidelity_min: float
    create_time: _timestamp_pb2.Timestamp
    time: _timestamp_pb2.Timestamp
    def __init__(self, qpu_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., parent_snapshot_id: _Optional[str] = ..., trigger: _Optional[str] = ..., experiments: _Optional[_Iterable[str]] = ..., recalibrated_qubits: _Optional[_Iterable[int]] = ..., calibration_device_time_s: _Optional[float] = ..., qubit_count: _Optional[int] = ..., pair_count: _Optional[int] = ..., t1_us_median: _Optional[float] = ..., t1_us_min: _Optional[float] = ..., t2_us_median: _Optional[float] = ..., t2_us_min: _Optional[float] = ..., readout_fidelity_mean: _Optional[float] = ..., readout_fidelity_min: _Optional[float] = ..., single_qubit_gate_fidelity_mean: _Optional[float] = ..., two_qubit_gate_fidelity_mean: _Optional[float] = ..., two_qubit_gate_fidelity_min: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class QubitCalibrationEvent(_message.Message):
    __slots__ = ("qpu_id", "snapshot_id", "calibration", "time")
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    snapshot_id: str
    calibration: _common_pb2.QubitCalibration
    time: _timestamp_pb2.Timestamp
    def __init__(self, qpu_id: _Optional[str] = ..., snapshot_id: _Optional[str] = ..., calibration: _Optional[_Union[_common_pb2.QubitCalibration, _Mapping]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class JobStateEvent(_message.Message):
    __slots__ = ("job_id", "state", "qpu_id", "owner", "error_message", "device_time_s", "time")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    state: _common_pb2.JobState
    qpu_id: str
    owner: str
    error_message: str
    device_time_s: float
    time: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.JobState, str]] = ..., qpu_id: _Optional[str] = ..., owner: _Optional[str] = ..., error_message: _Optional[str] = ..., device_time_s: _Optional[float] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SessionProgressEvent(_message.Message):
    __slots__ = ("session_id", "qpu_id", "event", "evaluation_count", "expectation_value", "device_time_s", "time")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_VALUE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    qpu_id: str
    event: str
    evaluation_count: int
    expectation_value: float
    device_time_s: float
    time: _timestamp_pb2.Timestamp
    def __init__(self, session_id: _Optional[str] = ..., qpu_id: _Optional[str] = ..., event: _Optional[str] = ..., evaluation_count: _Optional[int] = ..., expectation_value: _Optional[float] = ..., device_time_s: _Optional[float] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OptimizationProgressEvent(_message.Message):
    __slots__ = ("run_id", "name", "optimizer", "iteration", "energy", "evaluation_count", "finished", "time")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    ENERGY_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    name: str
    optimizer: str
    iteration: int
    energy: float
    evaluation_count: int
    finished: bool
    time: _timestamp_pb2.Timestamp
    def __init__(self, run_id: _Optional[str] = ..., name: _Optional[str] = ..., optimizer: _Optional[str] = ..., iteration: _Optional[int] = ..., energy: _Optional[float] = ..., evaluation_count: _Optional[int] = ..., finished: _Optional[bool] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FineTuneProgressEvent(_message.Message):
    __slots__ = ("run_id", "model", "adapter", "step", "loss", "quantum_task_count", "finished", "time")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    QUANTUM_TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    model: str
    adapter: str
    step: int
    loss: float
    quantum_task_count: int
    finished: bool
    time: _timestamp_pb2.Timestamp
    def __init__(self, run_id: _Optional[str] = ..., model: _Optional[str] = ..., adapter: _Optional[str] = ..., step: _Optional[int] = ..., loss: _Optional[float] = ..., quantum_task_count: _Optional[int] = ..., finished: _Optional[bool] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
