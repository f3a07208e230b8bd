"""``qcore_client.tensors``: arrays and strings survive the trip through ``qcore.v1.Tensor``."""

from __future__ import annotations

import numpy as np
import pytest

from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore_client.tensors import decode, encode


@pytest.mark.parametrize(("values", "dtype"), [
    (np.arange(6, dtype=np.float32).reshape(2, 3), cs_pb2.DATA_TYPE_FLOAT32),
    (np.linspace(0, 1, 4), cs_pb2.DATA_TYPE_FLOAT64),
    (np.arange(5, dtype=np.int32), cs_pb2.DATA_TYPE_INT32),
    ([[1, 2], [3, 4]], cs_pb2.DATA_TYPE_INT64),
    (["a sentence", "another"], cs_pb2.DATA_TYPE_STRING),
])
def test_round_trip_keeps_values_shape_and_type(values, dtype):
    tensor = encode("x", values)
    assert tensor.dtype == dtype and list(tensor.shape) == list(np.shape(values))
    decoded = decode(tensor)
    assert decoded.shape == np.shape(values)
    assert decoded.tolist() == np.asarray(values).tolist()


def test_complex_values_are_refused():
    with pytest.raises(TypeError, match="complex"):
        encode("z", np.array([1j]))
