"""Serving models over gRPC: a NumPy-only hybrid model in a temporary model directory, its
quantum layer on a real in-process quantum service; tensor validation and status codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
import pytest
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import classical_service_pb2_grpc as cs_grpc
from qcore_client.auth import bearer_interceptors

from classical_service import hybrid
from classical_service.inference.errors import InvalidTensorError
from classical_service.inference.models import HybridClassifier
from classical_service.inference.qtha import QthaAdapter, QthaConfig
from classical_service.inference.store import ModelStore, TensorSpecData
from classical_service.inference.tensors import decode_tensor, encode_tensor, validate_inputs
from classical_service.server.ai_servicer import AiServicer
from quantum_service.config import QuantumSettings
from quantum_service.server.app import QuantumServer
from quantum_service.server.app import create_server as create_quantum

F32, F64, I64, STR = (cs_pb2.DATA_TYPE_FLOAT32, cs_pb2.DATA_TYPE_FLOAT64,
                      cs_pb2.DATA_TYPE_INT64, cs_pb2.DATA_TYPE_STRING)
FEATURES, CLASSES = 6, 3


class _Servicer(AiServicer, cs_grpc.ClassicalServiceServicer):
    pass


def _save_model(root: Path) -> HybridClassifier:
    """A one-qubit hybrid classifier with non-zero weights everywhere."""
    rng = np.random.default_rng(7)
    config = QthaConfig(in_features=FEATURES, out_features=FEATURES, qubits=1, layers=1,
                        bond_dim=2, cores=2, scale=0.5)
    adapter = QthaAdapter.initialise(config, rng=rng)
    for name in adapter.parameter_names():
        adapter.params[name] = rng.normal(size=adapter.params[name].shape)
    weights = {f"qtha.{k}": v for k, v in adapter.params.items()}
    weights["head.weight"] = rng.normal(size=(CLASSES, FEATURES))
    weights["head.bias"] = rng.normal(size=CLASSES)
    record = HybridClassifier.record_for("tiny-hybrid", features=FEATURES, classes=CLASSES,
                                         qtha=config, qpu_id="ion-ideal-24")
    ModelStore(root).save(record, weights)
    return HybridClassifier(record, weights)


def _reference_logits(model: HybridClassifier, x: np.ndarray) -> np.ndarray:
    """Closed form for one qubit: RY(h) RZ(a) RY(b)|0> gives <Z> = cos b cos h - sin b sin h
    cos a (Bloch-sphere rotations; Nielsen & Chuang, Exercise 4.6)."""
    p = model.adapter.params
    from classical_service.inference.mpo import mpo_to_dense
    down = mpo_to_dense([p["down.0"], p["down.1"]])
    up = mpo_to_dense([p["up.0"], p["up.1"]])
    h = x @ down
    a, b = p["vqc"]
    z = np.cos(b) * np.cos(h) - np.sin(b) * np.sin(h) * np.cos(a)
    delta = 0.5 * (z + h @ p["skip"]) @ up
    return (x + delta) @ model.head_weight.T + model.head_bias


@dataclass
class _Stack:
    stub: cs_grpc.ClassicalServiceStub
    model: HybridClassifier
    quantum: QuantumServer
    address: str


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[_Stack]:
    quantum = await create_quantum(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                                   telemetry=False, grace_s=0.1))
    model = _save_model(tmp_path / "models")
    servicer = _Servicer(model_dir=tmp_path / "models", quantum_address=quantum.address,
                         telemetry=None)
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    cs_grpc.add_ClassicalServiceServicer_to_server(servicer, server)
    await server.start()
    channel = grpc.aio.insecure_channel(  # the servicer forwards this token to the quantum one
        f"127.0.0.1:{port}", interceptors=bearer_interceptors(quantum.tokens.create("tester")))
    try:
        yield _Stack(cs_grpc.ClassicalServiceStub(channel), model, quantum, f"127.0.0.1:{port}")
    finally:
        await channel.close()
        await server.stop(0.1)
        servicer.close_ai()
        await quantum.stop(0.1)


async def test_list_and_get_model(stack: _Stack) -> None:
    listed = await stack.stub.ListModels(cs_pb2.ListModelsRequest())
    assert [m.name for m in listed.models] == ["tiny-hybrid"]
    info = (await stack.stub.GetModel(cs_pb2.GetModelRequest(name="tiny-hybrid"))).model
    assert info.hybrid and info.qpu_id == "ion-ideal-24"
    assert [(s.name, s.dtype, list(s.shape)) for s in info.inputs] == [
        ("features", F32, [-1, FEATURES])]
    assert [s.name for s in info.outputs] == ["logits", "probabilities", "label"]
    assert info.trainable_parameter_count == sum(
        v.size for v in stack.model.adapter.params.values()) + CLASSES * (FEATURES + 1)


async def test_unknown_model_is_not_found(stack: _Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.stub.GetModel(cs_pb2.GetModelRequest(name="nope"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.stub.Infer(cs_pb2.InferRequest(model="../etc", inputs=[]))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_infer_matches_closed_form_in_one_batch(stack: _Stack,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = hybrid.SessionObjective.__call__

    def counting(self, parameter_sets, *, gradient=False):  # type: ignore[no-untyped-def]
        calls.append(len(parameter_sets))
        return original(self, parameter_sets, gradient=gradient)

    monkeypatch.setattr(hybrid.SessionObjective, "__call__", counting)
    x = np.random.default_rng(8).normal(size=(5, FEATURES)).astype(np.float32)
    reply = await stack.stub.Infer(cs_pb2.InferRequest(
        model="tiny-hybrid", inputs=[encode_tensor("features", x, dtype=F32)]))
    out = {t.name: decode_tensor(t) for t in reply.outputs}
    expected = _reference_logits(stack.model, x.astype(np.float64))
    np.testing.assert_allclose(out["logits"], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out["label"], expected.argmax(1))
    np.testing.assert_allclose(out["probabilities"].sum(1), 1.0, atol=1e-6)
    assert out["logits"].dtype == np.dtype("<f4") and out["label"].dtype == np.dtype("<i8")
    assert calls == [5]  # one session evaluation holding the whole batch (q = 1 observable)
    assert reply.quantum_task_count == 5 and reply.wall_s > 0
    # the sessions stay open: a second call runs one more batch
    reply = await stack.stub.Infer(cs_pb2.InferRequest(
        model="tiny-hybrid", inputs=[encode_tensor("features", x[:2], dtype=F32)]))
    assert calls == [5, 2] and reply.quantum_task_count == 2


async def test_each_caller_infers_in_sessions_of_their_own(stack: _Stack) -> None:
    """The classical service keeps a hybrid model's sessions open between calls; another
    caller's call must not run in them (they were opened with the first caller's token)."""
    owners: list[str] = []
    manager = stack.quantum.sessions
    open_session = manager.open

    async def recording(start, *, owner):  # type: ignore[no-untyped-def]
        owners.append(owner)
        return await open_session(start, owner=owner)

    manager.open = recording  # type: ignore[method-assign]
    x = np.random.default_rng(3).normal(size=(2, FEATURES)).astype(np.float32)
    request = cs_pb2.InferRequest(model="tiny-hybrid",
                                  inputs=[encode_tensor("features", x, dtype=F32)])
    for user in ("alice", "alice", "bob"):
        async with grpc.aio.insecure_channel(stack.address, interceptors=bearer_interceptors(
                stack.quantum.tokens.create(user))) as channel:
            await cs_grpc.ClassicalServiceStub(channel).Infer(request)
    assert owners[0] == "alice" and owners[-1] == "bob"
    assert set(owners) == {"alice", "bob"}


@pytest.mark.parametrize("tensors, message", [
    ([encode_tensor("features", np.zeros((2, FEATURES)), dtype=F64)], "must be DATA_TYPE_FLOAT32"),
    ([encode_tensor("features", np.zeros((2, FEATURES + 1)), dtype=F32)], "must have shape"),
    ([encode_tensor("features", np.zeros(FEATURES), dtype=F32)], "must have shape"),
    ([], "missing input tensor 'features'"),
    ([encode_tensor("features", np.zeros((2, FEATURES)), dtype=F32),
      encode_tensor("extra", np.zeros(2), dtype=F32)], "unknown input tensor 'extra'"),
    ([cs_pb2.Tensor(name="features", dtype=F32, shape=[2, FEATURES], data=b"\0" * 8)],
     "needs 48 bytes"),
    ([encode_tensor("features", np.full((1, FEATURES), np.nan), dtype=F32)], "NaN"),
    ([encode_tensor("features", np.zeros((0, FEATURES)), dtype=F32)], "empty"),
])
async def test_infer_rejects_bad_tensors(stack: _Stack, tensors: list[cs_pb2.Tensor],
                                         message: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stack.stub.Infer(cs_pb2.InferRequest(model="tiny-hybrid", inputs=tensors))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in err.value.details()


async def test_finetune_rejects_bad_requests(stack: _Stack) -> None:
    for request, message in [
            (cs_pb2.FineTuneRequest(adapter="prefix"), "adapter must be one of"),
            (cs_pb2.FineTuneRequest(base_model="gpt-5"), "unknown base_model"),
            (cs_pb2.FineTuneRequest(adapter="lora", options={"qubits": 4}), "unknown option"),
            (cs_pb2.FineTuneRequest(steps=-1), "steps must be"),
            (cs_pb2.FineTuneRequest(output_model="a/b"), "model name")]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in stack.stub.FineTune(request):
                pass
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, message
        assert message in err.value.details()


def test_string_tensors_round_trip() -> None:
    specs = [TensorSpecData("text", STR, (-1,))]
    tensor = encode_tensor("text", ["a", "bé"], dtype=STR)
    assert list(validate_inputs([tensor], specs)["text"]) == ["a", "bé"]
    with pytest.raises(InvalidTensorError, match="string value"):
        validate_inputs([cs_pb2.Tensor(name="text", dtype=STR, shape=[3],
                                       string_values=["a"])], specs)
    with pytest.raises(InvalidTensorError, match="dtype must be"):
        decode_tensor(cs_pb2.Tensor(name="x", dtype=0, shape=[1]))


def test_numeric_tensors_are_little_endian() -> None:
    tensor = encode_tensor("x", np.array([[1, 2]], dtype=">i8"), dtype=I64)
    assert tensor.data == (1).to_bytes(8, "little") + (2).to_bytes(8, "little")
    assert decode_tensor(tensor).tolist() == [[1, 2]]


async def test_finetune_without_the_ai_extra_is_failed_precondition(
        stack: _Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "classical_service.finetune.trainer", None)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in stack.stub.FineTune(cs_pb2.FineTuneRequest(adapter="lora")):
            pass
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "'ai' extra" in err.value.details()
