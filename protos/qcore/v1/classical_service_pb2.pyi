from qcore.v1 import quantum_service_pb2 as _quantum_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DataType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DATA_TYPE_UNSPECIFIED: _ClassVar[DataType]
    DATA_TYPE_FLOAT32: _ClassVar[DataType]
    DATA_TYPE_FLOAT64: _ClassVar[DataType]
    DATA_TYPE_INT32: _ClassVar[DataType]
    DATA_TYPE_INT64: _ClassVar[DataType]
    DATA_TYPE_STRING: _ClassVar[DataType]
DATA_TYPE_UNSPECIFIED: DataType
DATA_TYPE_FLOAT32: DataType
DATA_TYPE_FLOAT64: DataType
DATA_TYPE_INT32: DataType
DATA_TYPE_INT64: DataType
DATA_TYPE_STRING: DataType

class Tensor(_message.Message):
    __slots__ = ("name", "dtype", "shape", "data", "string_values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: DataType
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    string_values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ..., string_values: _Optional[_Iterable[str]] = ...) -> None: ...

class TensorSpec(_message.Message):
    __slots__ = ("name", "dtype", "shape")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: DataType
    shape: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[_Union[DataType, str]] = ..., shape: _Optional[_Iterable[int]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "description", "inputs", "outputs", "hybrid", "qpu_id", "parameter_count", "trainable_parameter_count", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    HYBRID_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRAINABLE_PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    inputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    outputs: _containers.RepeatedCompositeFieldContainer[TensorSpec]
    hybrid: bool
    qpu_id: str
    parameter_count: int
    trainable_parameter_count: int
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[TensorSpec, _Mapping]]] = ..., hybrid: _Optional[bool] = ..., qpu_id: _Optional[str] = ..., parameter_count: _Optional[int] = ..., trainable_parameter_count: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: ModelInfo
    def __init__(self, model: _Optional[_Union[ModelInfo, _Mapping]] = ...) -> None: ...

class InferRequest(_message.Message):
    __slots__ = ("model", "inputs")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    model: str
    inputs: _containers.RepeatedCompositeFieldContainer[Tensor]
    def __init__(self, model: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ...) -> None: ...

class InferResponse(_message.Message):
    __slots__ = ("outputs", "quantum_task_count", "wall_s")
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    QUANTUM_TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    WALL_S_FIELD_NUMBER: _ClassVar[int]
    outputs: _containers.RepeatedCompositeFieldContainer[Tensor]
    quantum_task_count: int
    wall_s: float
    def __init__(self, outputs: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., quantum_task_count: _Optional[int] = ..., wall_s: _Optional[float] = ...) -> None: ...

class FineTuneRequest(_message.Message):
    __slots__ = ("base_model", "adapter", "dataset", "steps", "batch_size", "learning_rate", "seed", "output_model", "qpu_id", "shot_count", "options")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_MODEL_FIELD_NUMBER: _ClassVar[int]
    QPU_ID_FIELD_NUMBER: _ClassVar[int]
    SHOT_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    base_model: str
    adapter: str
    dataset: str
    steps: int
    batch_size: int
    learning_rate: float
    seed: int
    output_model: str
    qpu_id: str
    shot_count: int
    options: _containers.ScalarMap[str, float]
    def __init__(self, base_model: _Optional[str] = ..., adapter: _Optional[str] = ..., dataset: _Optional[str] = ..., steps: _Optional[int] = ..., batch_size: _Optional[int] = ..., learning_rate: _Optional[float] = ..., seed: _Optional[int] = ..., output_model: _Optional[str] = ..., qpu_id: _Optional[str] = ..., shot_count: _Optional[int] = ..., options: _Optional[_Mapping[str, float]] = ...) -> None: ...

class FineTuneProgress(_message.Message):
    __slots__ = ("step", "loss", "quantum_task_count", "step_wall_s")
    STEP_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    QUANTUM_TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    STEP_WALL_S_FIELD_NUMBER: _ClassVar[int]
    step: int
    loss: float
    quantum_task_count: int
    step_wall_s: float
    def __init__(self, step: _Optional[int] = ..., loss: _Optional[float] = ..., quantum_task_count: _Optional[int] = ..., step_wall_s: _Optional[float] = ...) -> None: ...

class FineTuneResult(_message.Message):
    __slots__ = ("model", "final_loss", "eval_accuracy", "trainable_parameter_count", "wall_s", "quantum_task_count")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FINAL_LOSS_FIELD_NUMBER: _ClassVar[int]
    EVAL_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    TRAINABLE_PARAMETER_COUNT_FIELD_NUMBER: _ClassVar[int]
    WALL_S_FIELD_NUMBER: _ClassVar[int]
    QUANTUM_TASK_COUNT_FIELD_NUMBER: _ClassVar[int]
    model: str
    final_loss: float
    eval_accuracy: float
    trainable_parameter_count: int
    wall_s: float
    quantum_task_count: int
    def __init__(self, model: _Optional[str] = ..., final_loss: _Optional[float] = ..., eval_accuracy: _Optional[float] = ..., trainable_parameter_count: _Optional[int] = ..., wall_s: _Optional[float] = ..., quantum_task_count: _Optional[int] = ...) -> None: ...

class FineTuneResponse(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: FineTuneProgress
    result: FineTuneResult
    def __init__(self, progress: _Optional[_Union[FineTuneProgress, _Mapping]] = ..., result: _Optional[_Union[FineTuneResult, _Mapping]] = ...) -> None: ...

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
