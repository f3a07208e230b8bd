"""``qcore.v1.Tensor`` ⇄ NumPy, and validation of request tensors against a model's specs.

Numeric tensors are packed little-endian, row-major, in ``Tensor.data``; string tensors carry
their values in ``Tensor.string_values`` (``classical_service.proto``). Every check raises
:class:`~classical_service.inference.errors.InvalidTensorError` with the tensor's name and what
was expected, before any compute is spent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from qcore.v1 import classical_service_pb2 as cs_pb2

from classical_service.inference.errors import InvalidTensorError
from classical_service.inference.store import TensorSpecData

__all__ = [
    "DTYPE_NAMES",
    "NUMPY_DTYPES",
    "decode_tensor",
    "encode_outputs",
    "encode_tensor",
    "validate_inputs",
]

#: DataType enum value -> little-endian NumPy dtype (None: strings).
NUMPY_DTYPES: dict[int, np.dtype | None] = {
    cs_pb2.DATA_TYPE_FLOAT32: np.dtype("<f4"),
    cs_pb2.DATA_TYPE_FLOAT64: np.dtype("<f8"),
    cs_pb2.DATA_TYPE_INT32: np.dtype("<i4"),
    cs_pb2.DATA_TYPE_INT64: np.dtype("<i8"),
    cs_pb2.DATA_TYPE_STRING: None,
}
DTYPE_NAMES: dict[int, str] = {v: cs_pb2.DataType.Name(v) for v in cs_pb2.DataType.values()}
_MAX_ELEMENTS = 1 << 26  # 64 Mi elements per tensor


def decode_tensor(tensor: cs_pb2.Tensor) -> np.ndarray:
    """The tensor's values as an array of its declared shape.

    Returns:
        A NumPy array (little-endian numeric dtype, or ``object`` of ``str`` for strings).
    Raises:
        InvalidTensorError: unspecified dtype, negative dims, or a byte/value count that does
            not match the shape.
    """
    if tensor.dtype not in NUMPY_DTYPES:
        raise InvalidTensorError(f"tensor {tensor.name!r}: dtype must be one of "
                                 f"{sorted(n for k, n in DTYPE_NAMES.items() if k)}, got "
                                 f"{DTYPE_NAMES.get(tensor.dtype, tensor.dtype)}")
    shape = tuple(int(d) for d in tensor.shape)
    if any(d < 0 for d in shape):
        raise InvalidTensorError(f"tensor {tensor.name!r}: shape {list(shape)} has a negative "
                                 "dimension")
    count = math.prod(shape)
    if count > _MAX_ELEMENTS:
        raise InvalidTensorError(f"tensor {tensor.name!r}: {count} elements exceed the limit "
                                 f"of {_MAX_ELEMENTS}")
    dtype = NUMPY_DTYPES[tensor.dtype]
    if dtype is None:
        if len(tensor.string_values) != count:
            raise InvalidTensorError(f"tensor {tensor.name!r}: shape {list(shape)} needs {count} "
                                     f"string value(s), got {len(tensor.string_values)}")
        return np.array(list(tensor.string_values), dtype=object).reshape(shape)
    if len(tensor.data) != count * dtype.itemsize:
        raise InvalidTensorError(f"tensor {tensor.name!r}: shape {list(shape)} of "
                                 f"{DTYPE_NAMES[tensor.dtype]} needs {count * dtype.itemsize} "
                                 f"bytes of data, got {len(tensor.data)}")
    return np.frombuffer(tensor.data, dtype=dtype).reshape(shape)


def encode_tensor(name: str, values: np.ndarray | Sequence[str], *, dtype: int) -> cs_pb2.Tensor:
    """Packs ``values`` as a ``Tensor`` of DataType ``dtype`` (values are cast to it)."""
    np_dtype = NUMPY_DTYPES[dtype]
    if np_dtype is None:
        arr = np.asarray(values, dtype=object)
        return cs_pb2.Tensor(name=name, dtype=dtype, shape=list(arr.shape),
                             string_values=[str(v) for v in arr.reshape(-1)])
    arr = np.ascontiguousarray(values, dtype=np_dtype)
    return cs_pb2.Tensor(name=name, dtype=dtype, shape=list(arr.shape), data=arr.tobytes())


def _shape_ok(shape: tuple[int, ...], spec: Sequence[int]) -> bool:
    return len(shape) == len(spec) and all(s == -1 or s == d for d, s in zip(shape, spec))


def validate_inputs(tensors: Iterable[cs_pb2.Tensor], specs: Sequence[TensorSpecData]
                    ) -> dict[str, np.ndarray]:
    """Decodes request tensors and checks them against the model's input specs.

    Every spec must be matched by exactly one tensor of its name and dtype whose shape matches
    (``-1`` matches any size); all inputs share the leading (batch) size, which must be >= 1.

    Returns:
        ``{name: array}`` in spec order.
    Raises:
        InvalidTensorError: missing, duplicate or unknown names, wrong dtype or shape, a
            mismatched batch size, or non-finite floats.
    """
    by_name: dict[str, cs_pb2.Tensor] = {}
    expected = {s.name: s for s in specs}
    for tensor in tensors:
        if tensor.name in by_name:
            raise InvalidTensorError(f"input tensor {tensor.name!r} is given twice")
        if tensor.name not in expected:
            raise InvalidTensorError(f"unknown input tensor {tensor.name!r}; the model takes "
                                     f"{sorted(expected)}")
        by_name[tensor.name] = tensor
    out: dict[str, np.ndarray] = {}
    batch: int | None = None
    for spec in specs:
        if spec.name not in by_name:
            raise InvalidTensorError(f"missing input tensor {spec.name!r} "
                                     f"({DTYPE_NAMES[spec.dtype]}, shape {list(spec.shape)})")
        tensor = by_name[spec.name]
        if tensor.dtype != spec.dtype:
            raise InvalidTensorError(f"input tensor {spec.name!r} must be "
                                     f"{DTYPE_NAMES[spec.dtype]}, got "
                                     f"{DTYPE_NAMES.get(tensor.dtype, tensor.dtype)}")
        values = decode_tensor(tensor)
        if not _shape_ok(values.shape, spec.shape):
            raise InvalidTensorError(f"input tensor {spec.name!r} must have shape "
                                     f"{list(spec.shape)} (-1: any size), got "
                                     f"{list(values.shape)}")
        if values.ndim and (batch is None):
            batch = values.shape[0]
        if values.ndim and values.shape[0] != batch:
            raise InvalidTensorError(f"input tensor {spec.name!r} has batch size "
                                     f"{values.shape[0]}, other inputs have {batch}")
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise InvalidTensorError(f"input tensor {spec.name!r} contains NaN or infinity")
        out[spec.name] = values
    if batch == 0:
        raise InvalidTensorError("the batch is empty (leading dimension 0)")
    return out


def encode_outputs(outputs: Mapping[str, np.ndarray], specs: Sequence[TensorSpecData]
                   ) -> list[cs_pb2.Tensor]:
    """Packs a model's outputs in spec order with each spec's dtype."""
    return [encode_tensor(s.name, outputs[s.name], dtype=s.dtype) for s in specs]
