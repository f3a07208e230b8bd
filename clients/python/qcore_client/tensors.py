"""NumPy arrays ⇄ ``qcore.v1.Tensor`` messages on the client side.

Numeric tensors are packed little-endian, row-major, in ``Tensor.data``; text tensors carry their
values in ``Tensor.string_values`` (``protos/qcore/v1/classical_service.proto``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qcore.v1 import classical_service_pb2 as cs_pb2

__all__ = ["encode", "decode"]

#: NumPy kind/size -> DataType; float64 and int64 by default.
_DTYPES: dict[str, int] = {
    "float32": cs_pb2.DATA_TYPE_FLOAT32, "float64": cs_pb2.DATA_TYPE_FLOAT64,
    "int32": cs_pb2.DATA_TYPE_INT32, "int64": cs_pb2.DATA_TYPE_INT64,
}
_NUMPY: dict[int, str] = {v: f"<{k[0]}{int(k[-2:]) // 8}" for k, v in _DTYPES.items()}


def encode(name: str, values: np.ndarray | Sequence[str] | Sequence[float]) -> cs_pb2.Tensor:
    """A ``Tensor`` named ``name``: strings become ``DATA_TYPE_STRING``; float32/float64/int32/
    int64 arrays keep their type; other numeric arrays become float64 (floats) or int64.

    Raises:
        TypeError: complex or object values that are not all strings.
    """
    array = np.asarray(values)
    if array.dtype.kind in "US" or (array.dtype == object
                                    and all(isinstance(v, str) for v in array.reshape(-1))):
        return cs_pb2.Tensor(name=name, dtype=cs_pb2.DATA_TYPE_STRING, shape=list(array.shape),
                             string_values=[str(v) for v in array.reshape(-1)])
    if array.dtype.kind not in "fiub":
        raise TypeError(f"tensor {name!r}: cannot send {array.dtype} values (use float, int or "
                        "str)")
    dtype = _DTYPES.get(array.dtype.name, cs_pb2.DATA_TYPE_FLOAT64 if array.dtype.kind == "f"
                        else cs_pb2.DATA_TYPE_INT64)
    packed = np.ascontiguousarray(array, dtype=_NUMPY[dtype])
    return cs_pb2.Tensor(name=name, dtype=dtype, shape=list(array.shape), data=packed.tobytes())


def decode(tensor: cs_pb2.Tensor) -> np.ndarray:
    """The tensor's values in its shape (``object`` array of ``str`` for text).

    Raises:
        ValueError: an unspecified dtype, or data that does not fill the shape.
    """
    shape = tuple(int(d) for d in tensor.shape)
    if tensor.dtype == cs_pb2.DATA_TYPE_STRING:
        return np.array(list(tensor.string_values), dtype=object).reshape(shape)
    if tensor.dtype not in _NUMPY:
        raise ValueError(f"tensor {tensor.name!r} has no data type")
    return np.frombuffer(tensor.data, dtype=_NUMPY[tensor.dtype]).reshape(shape)
