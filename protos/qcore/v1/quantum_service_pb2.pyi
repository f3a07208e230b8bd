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

class GradientMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRADIENT_METHOD_UNSPECIFIED: _ClassVar[GradientMethod]
    GRADIENT_METHOD_PARAMETER_SHIFT: _ClassVar[GradientMethod]
    GRADIENT_METHOD_ADJOINT: _ClassVar[GradientMethod]
GRADIENT_METHOD_UNSPECIFIED: GradientMethod
GRADIENT_METHOD_PARAMETER_SHIFT: GradientMethod
GRADIENT_METHOD_ADJOINT: GradientMethod

class ListQpusRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListQpusResponse(_message.Message):
    __slots__ = ("qpus", "next_page_token")
    QPUS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    qpus: _containers.RepeatedCompositeFieldContainer[_common_pb2.QpuDescription]
    next_page_token: str
    def __init__(self, qpus: _Optional[_Iterable[_Union[_common_pb2.QpuDescription, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetQpuRequest(_message.Message):
    __slots__ = ("qpu_id",)
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    def __init__(self, qpu_id: _Optional[str] = ...) -> None: ...

class GetQpuResponse(_message.Message):
    __slots__ = ("qpu",)
    QPU_FIELD_NUMBER: _ClassVar[int]
    qpu: _common_pb2.QpuDescription
    def __init__(self, qpu: _Optional[_Union[_common_pb2.QpuDescription, _Mapping]] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("request_id", "qpu_id", "programs", "observable", "observables", "shot_count", "parameter_sets", "name", "seed", "priority", "readout_mitigation", "replay_of_job_id", "mitigation", "max_bond_dimension")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRAMS_FIELD_NUMBER: _ClassVar[int]
    OBSERVABLE_FIELD_NUMBER: _ClassVar[int]
    OBSERVABLES_FIELD_NUMBER: _ClassVar[int]
    SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SETS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    READOUT_MITIGATION_FIELD_NUMBER: _ClassVar[int]
    REPLAY_OF_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MITIGATION_FIELD_NUMBER: _ClassVar[int]
    MAX_BOND_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    qpu_id: str
    programs: _containers.RepeatedCompositeFieldContainer[_common_pb2.Program]
    observable: _common_pb2.Observable
    observables: _containers.RepeatedCompositeFieldContainer[_common_pb2.Observable]
    shot_count: int
    parameter_sets: _containers.RepeatedCompositeFieldContainer[_common_pb2.ParameterSet]
    name: str
    seed: int
    priority: int
    readout_mitigation: bool
    replay_of_job_id: str
    mitigation: _common_pb2.MitigationOptions
    max_bond_dimension: int
    def __init__(self, request_id: _Optional[str] = ..., qpu_id: _Optional[str] = ..., programs: _Optional[_Iterable[_Union[_common_pb2.Program, _Mapping]]] = ..., observable: _Optional[_Union[_common_pb2.Observable, _Mapping]] = ..., observables: _Optional[_Iterable[_Union[_common_pb2.Observable, _Mapping]]] = ..., shot_count: _Optional[int] = ..., parameter_sets: _Optional[_Iterable[_Union[_common_pb2.ParameterSet, _Mapping]]] = ..., name: _Optional[str] = ..., seed: _Optional[int] = ..., priority: _Optional[int] = ..., readout_mitigation: _Optional[bool] = ..., replay_of_job_id: _Optional[str] = ..., mitigation: _Optional[_Union[_common_pb2.MitigationOptions, _Mapping]] = ..., max_bond_dimension: _Optional[int] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ExperimentResult(_message.Message):
    __slots__ = ("program_index", "parameter_set_index", "counts", "expectation_value", "standard_error", "discarded_shot_count", "mitigated_probabilities", "engine", "engine_reason", "expectation_values", "standard_errors", "truncation_error", "mitigation")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MitigatedProbabilitiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    PROGRAM_INDEX_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SET_INDEX_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_VALUE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    DISCARDED_SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MITIGATED_PROBABILITIES_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_VALUES_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERRORS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATION_ERROR_FIELD_NUMBER: _ClassVar[int]
    MITIGATION_FIELD_NUMBER: _ClassVar[int]
    program_index: int
    parameter_set_index: int
    counts: _containers.ScalarMap[str, int]
    expectation_value: float
    standard_error: float
    discarded_shot_count: int
    mitigated_probabilities: _containers.ScalarMap[str, float]
    engine: str
    engine_reason: str
    expectation_values: _containers.RepeatedScalarFieldContainer[float]
    standard_errors: _containers.RepeatedScalarFieldContainer[float]
    truncation_error: float
    mitigation: _common_pb2.MitigationResult
    def __init__(self, program_index: _Optional[int] = ..., parameter_set_index: _Optional[int] = ..., counts: _Optional[_Mapping[str, int]] = ..., expectation_value: _Optional[float] = ..., standard_error: _Optional[float] = ..., discarded_shot_count: _Optional[int] = ..., mitigated_probabilities: _Optional[_Mapping[str, float]] = ..., engine: _Optional[str] = ..., engine_reason: _Optional[str] = ..., expectation_values: _Optional[_Iterable[float]] = ..., standard_errors: _Optional[_Iterable[float]] = ..., truncation_error: _Optional[float] = ..., mitigation: _Optional[_Union[_common_pb2.MitigationResult, _Mapping]] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ("experiments",)
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    experiments: _containers.RepeatedCompositeFieldContainer[ExperimentResult]
    def __init__(self, experiments: _Optional[_Iterable[_Union[ExperimentResult, _Mapping]]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("job_id", "request_id", "name", "state", "qpu_id", "owner", "create_time", "start_time", "end_time", "program_count", "parameter_set_count", "shot_count", "error_message", "result", "calibration_snapshot_id", "device_time_s", "placement_reason", "priority", "queue_position", "estimated_start_time", "exact", "device_state", "replay_of_job_id", "physical_qubits")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SET_COUNT_FIELD_NUMBER: _ClassVar[int]
    SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    PLACEMENT_REASON_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_STATE_FIELD_NUMBER: _ClassVar[int]
    REPLAY_OF_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PHYSICAL_QUBITS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    request_id: str
    name: str
    state: _common_pb2.JobState
    qpu_id: str
    owner: str
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    program_count: int
    parameter_set_count: int
    shot_count: int
    error_message: str
    result: JobResult
    calibration_snapshot_id: str
    device_time_s: float
    placement_reason: str
    priority: int
    queue_position: int
    estimated_start_time: _timestamp_pb2.Timestamp
    exact: bool
    device_state: str
    replay_of_job_id: str
    physical_qubits: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, job_id: _Optional[str] = ..., request_id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.JobState, str]] = ..., qpu_id: _Optional[str] = ..., owner: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., program_count: _Optional[int] = ..., parameter_set_count: _Optional[int] = ..., shot_count: _Optional[int] = ..., error_message: _Optional[str] = ..., result: _Optional[_Union[JobResult, _Mapping]] = ..., calibration_snapshot_id: _Optional[str] = ..., device_time_s: _Optional[float] = ..., placement_reason: _Optional[str] = ..., priority: _Optional[int] = ..., queue_position: _Optional[int] = ..., estimated_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exact: _Optional[bool] = ..., device_state: _Optional[str] = ..., replay_of_job_id: _Optional[str] = ..., physical_qubits: _Optional[_Iterable[int]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "qpu_id", "state")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    qpu_id: str
    state: _common_pb2.JobState
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., qpu_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.JobState, str]] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class CalibrateRequest(_message.Message):
    __slots__ = ("qpu_id", "qubits", "force")
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    QUBITS_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    qubits: _containers.RepeatedScalarFieldContainer[int]
    force: bool
    def __init__(self, qpu_id: _Optional[str] = ..., qubits: _Optional[_Iterable[int]] = ..., force: _Optional[bool] = ...) -> None: ...

class CalibrateResponse(_message.Message):
    __slots__ = ("snapshot", "experiments", "device_time_s")
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENTS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    snapshot: _common_pb2.CalibrationSnapshot
    experiments: _containers.RepeatedScalarFieldContainer[str]
    device_time_s: float
    def __init__(self, snapshot: _Optional[_Union[_common_pb2.CalibrationSnapshot, _Mapping]] = ..., experiments: _Optional[_Iterable[str]] = ..., device_time_s: _Optional[float] = ...) -> None: ...

class SessionStart(_message.Message):
    __slots__ = ("qpu_id", "program", "observable", "observables", "shot_count", "idle_timeout_s", "gradient_method", "seed", "mitigation", "max_bond_dimension")
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    PROGRAM_FIELD_NUMBER: _ClassVar[int]
    OBSERVABLE_FIELD_NUMBER: _ClassVar[int]
    OBSERVABLES_FIELD_NUMBER: _ClassVar[int]
    SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MITIGATION_FIELD_NUMBER: _ClassVar[int]
    MAX_BOND_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    qpu_id: str
    program: _common_pb2.Program
    observable: _common_pb2.Observable
    observables: _containers.RepeatedCompositeFieldContainer[_common_pb2.Observable]
    shot_count: int
    idle_timeout_s: int
    gradient_method: GradientMethod
    seed: int
    mitigation: _common_pb2.MitigationOptions
    max_bond_dimension: int
    def __init__(self, qpu_id: _Optional[str] = ..., program: _Optional[_Union[_common_pb2.Program, _Mapping]] = ..., observable: _Optional[_Union[_common_pb2.Observable, _Mapping]] = ..., observables: _Optional[_Iterable[_Union[_common_pb2.Observable, _Mapping]]] = ..., shot_count: _Optional[int] = ..., idle_timeout_s: _Optional[int] = ..., gradient_method: _Optional[_Union[GradientMethod, str]] = ..., seed: _Optional[int] = ..., mitigation: _Optional[_Union[_common_pb2.MitigationOptions, _Mapping]] = ..., max_bond_dimension: _Optional[int] = ...) -> None: ...

class SessionEvaluate(_message.Message):
    __slots__ = ("sequence", "parameter_values", "parameter_set_count", "compute_gradient", "trace_context")
    class TraceContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_VALUES_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_SET_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_GRADIENT_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    parameter_values: bytes
    parameter_set_count: int
    compute_gradient: bool
    trace_context: _containers.ScalarMap[str, str]
    def __init__(self, sequence: _Optional[int] = ..., parameter_values: _Optional[bytes] = ..., parameter_set_count: _Optional[int] = ..., compute_gradient: _Optional[bool] = ..., trace_context: _Optional[_Mapping[str, str]] = ...) -> None: ...

class OpenSessionRequest(_message.Message):
    __slots__ = ("start", "evaluate")
    START_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_FIELD_NUMBER: _ClassVar[int]
    start: SessionStart
    evaluate: SessionEvaluate
    def __init__(self, start: _Optional[_Union[SessionStart, _Mapping]] = ..., evaluate: _Optional[_Union[SessionEvaluate, _Mapping]] = ...) -> None: ...

class SessionReady(_message.Message):
    __slots__ = ("session_id", "qpu_id", "parameters", "qubit_count", "compiled_gate_count", "compiled_depth", "calibration_snapshot_id", "expire_time", "observable_count")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    QUBIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPILED_GATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPILED_DEPTH_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_SNAPSHOT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    OBSERVABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    qpu_id: str
    parameters: _containers.RepeatedScalarFieldContainer[str]
    qubit_count: int
    compiled_gate_count: int
    compiled_depth: int
    calibration_snapshot_id: str
    expire_time: _timestamp_pb2.Timestamp
    observable_count: int
    def __init__(self, session_id: _Optional[str] = ..., qpu_id: _Optional[str] = ..., parameters: _Optional[_Iterable[str]] = ..., qubit_count: _Optional[int] = ..., compiled_gate_count: _Optional[int] = ..., compiled_depth: _Optional[int] = ..., calibration_snapshot_id: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., observable_count: _Optional[int] = ...) -> None: ...

class SessionResult(_message.Message):
    __slots__ = ("sequence", "expectation_values", "standard_errors", "gradients", "device_time_s", "evaluation_count", "engine", "exact", "truncation_error", "mitigation")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTATION_VALUES_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERRORS_FIELD_NUMBER: _ClassVar[int]
    GRADIENTS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATION_ERROR_FIELD_NUMBER: _ClassVar[int]
    MITIGATION_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    expectation_values: bytes
    standard_errors: bytes
    gradients: bytes
    device_time_s: float
    evaluation_count: int
    engine: str
    exact: bool
    truncation_error: float
    mitigation: _containers.RepeatedCompositeFieldContainer[_common_pb2.MitigationResult]
    def __init__(self, sequence: _Optional[int] = ..., expectation_values: _Optional[bytes] = ..., standard_errors: _Optional[bytes] = ..., gradients: _Optional[bytes] = ..., device_time_s: _Optional[float] = ..., evaluation_count: _Optional[int] = ..., engine: _Optional[str] = ..., exact: _Optional[bool] = ..., truncation_error: _Optional[float] = ..., mitigation: _Optional[_Iterable[_Union[_common_pb2.MitigationResult, _Mapping]]] = ...) -> None: ...

class OpenSessionResponse(_message.Message):
    __slots__ = ("ready", "result")
    READY_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    ready: SessionReady
    result: SessionResult
    def __init__(self, ready: _Optional[_Union[SessionReady, _Mapping]] = ..., result: _Optional[_Union[SessionResult, _Mapping]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "qpu_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    qpu_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., qpu_id: _Optional[str] = ...) -> None: ...

class SessionSummary(_message.Message):
    __slots__ = ("session_id", "owner", "qpu_id", "open_time", "idle_timeout_s", "expire_time", "evaluation_count", "request_count", "device_time_s", "shot_count", "parameter_count", "observable_count")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    OBSERVABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    owner: str
    qpu_id: str
    open_time: _timestamp_pb2.Timestamp
    idle_timeout_s: float
    expire_time: _timestamp_pb2.Timestamp
    evaluation_count: int
    request_count: int
    device_time_s: float
    shot_count: int
    parameter_count: int
    observable_count: int
    def __init__(self, session_id: _Optional[str] = ..., owner: _Optional[str] = ..., qpu_id: _Optional[str] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idle_timeout_s: _Optional[float] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluation_count: _Optional[int] = ..., request_count: _Optional[int] = ..., device_time_s: _Optional[float] = ..., shot_count: _Optional[int] = ..., parameter_count: _Optional[int] = ..., observable_count: _Optional[int] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[SessionSummary]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[SessionSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
