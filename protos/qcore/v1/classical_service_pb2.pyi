from qcore.v1 import quantum_service_pb2 as _quantum_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OptimizerInfo(_message.Message):
    __slots__ = ("name", "description", "uses_gradient", "default_options")
    class DefaultOptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    USES_GRADIENT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    uses_gradient: bool
    default_options: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., uses_gradient: _Optional[bool] = ..., default_options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListOptimizersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListOptimizersResponse(_message.Message):
    __slots__ = ("optimizers",)
    OPTIMIZERS_FIELD_NUMBER: _ClassVar[int]
    optimizers: _containers.RepeatedCompositeFieldContainer[OptimizerInfo]
    def __init__(self, optimizers: _Optional[_Iterable[_Union[OptimizerInfo, _Mapping]]] = ...) -> None: ...

class MinimizeRequest(_message.Message):
    __slots__ = ("optimizer", "session", "initial_parameters", "max_iterations", "tolerance", "options", "seed", "name")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    OPTIMIZER_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    INITIAL_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITERATIONS_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    optimizer: str
    session: _quantum_service_pb2.SessionStart
    initial_parameters: _containers.RepeatedScalarFieldContainer[float]
    max_iterations: int
    tolerance: float
    options: _containers.ScalarMap[str, float]
    seed: int
    name: str
    def __init__(self, optimizer: _Optional[str] = ..., session: _Optional[_Union[_quantum_service_pb2.SessionStart, _Mapping]] = ..., initial_parameters: _Optional[_Iterable[float]] = ..., max_iterations: _Optional[int] = ..., tolerance: _Optional[float] = ..., options: _Optional[_Mapping[str, float]] = ..., seed: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class MinimizeIteration(_message.Message):
    __slots__ = ("iteration", "energy", "evaluation_count", "parameters", "gradient_norm")
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    ENERGY_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    GRADIENT_NORM_FIELD_NUMBER: _ClassVar[int]
    iteration: int
    energy: float
    evaluation_count: int
    parameters: _containers.RepeatedScalarFieldContainer[float]
    gradient_norm: float
    def __init__(self, iteration: _Optional[int] = ..., energy: _Optional[float] = ..., evaluation_count: _Optional[int] = ..., parameters: _Optional[_Iterable[float]] = ..., gradient_norm: _Optional[float] = ...) -> None: ...

class MinimizeResult(_message.Message):
    __slots__ = ("energy", "parameters", "iteration_count", "evaluation_count", "converged", "message", "session_id", "qpu_id", "device_time_s", "wall_s")
    ENERGY_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ITERATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONVERGED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TIME_S_FIELD_NUMBER: _ClassVar[int]
    WALL_S_FIELD_NUMBER: _ClassVar[int]
    energy: float
    parameters: _containers.RepeatedScalarFieldContainer[float]
    iteration_count: int
    evaluation_count: int
    converged: bool
    message: str
    session_id: str
    qpu_id: str
    device_time_s: float
    wall_s: float
    def __init__(self, energy: _Optional[float] = ..., parameters: _Optional[_Iterable[float]] = ..., iteration_count: _Optional[int] = ..., evaluation_count: _Optional[int] = ..., converged: _Optional[bool] = ..., message: _Optional[str] = ..., session_id: _Optional[str] = ..., qpu_id: _Optional[str] = ..., device_time_s: _Optional[float] = ..., wall_s: _Optional[float] = ...) -> None: ...

class MinimizeResponse(_message.Message):
    __slots__ = ("iteration", "result")
    ITERATION_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    iteration: MinimizeIteration
    result: MinimizeResult
    def __init__(self, iteration: _Optional[_Union[MinimizeIteration, _Mapping]] = ..., result: _Optional[_Union[MinimizeResult, _Mapping]] = ...) -> None: ...
