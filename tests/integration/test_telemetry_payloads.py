"""Every payload type the services publish, as received by a plain MQTT client, against its JSON
Schema in ``broker/schemas/`` (jsonschema): numbers as JSON numbers, null instead of NaN, every
field present, a time on every message (the Last Will included), calibration split into a
summary, one small message per qubit and the full snapshot on its own topic."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from datetime import datetime
from pathlib import Path

import aiomqtt
import jsonschema
import pytest
from qcore.v1 import classical_service_pb2 as cs_pb2
from qcore.v1 import common_pb2, telemetry_pb2
from qcore.v1 import quantum_service_pb2 as qs_pb2
from qcore_client.client import session_start
from qcore_client.problems.molecules import ansatz, load_molecule

from broker.json_schema import schema_path
from broker.payloads import encode
from broker.topics import SCHEMA, TopicKind, parse_topic

ROOT = Path(__file__).resolve().parents[2]
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _rfc3339(value: object) -> bool:
    """RFC 3339 date-time in UTC as protobuf writes it (jsonschema checks formats only with
    optional packages installed)."""
    return not isinstance(value, str) or (
        value.endswith("Z") and datetime.fromisoformat(value[:-1] + "+00:00") is not None)


def _validator(kind: TopicKind) -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_path(SCHEMA[kind].message_class.DESCRIPTOR).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


async def _record(url: str, prefix: str, received: list[tuple[str, bytes]],
                  ready: asyncio.Event) -> None:
    host, port = url.removeprefix("mqtt://").rsplit(":", 1)
    async with aiomqtt.Client(host, int(port)) as client:
        await client.subscribe(f"{prefix}/#", qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            received.append((message.topic.value, message.payload))


_KILLED_PUBLISHER = """
import asyncio, sys
from broker.publisher import TelemetryPublisher

async def main() -> None:
    publisher = TelemetryPublisher(sys.argv[1], client_id="will-test", service="doomed",
                                   prefix=sys.argv[2])
    await publisher.start()
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_every_published_payload_matches_its_json_schema(stack) -> None:
    received: list[tuple[str, bytes]] = []
    ready = asyncio.Event()
    recorder = asyncio.create_task(_record(stack.mqtt_url, stack.topic_prefix, received, ready))
    await asyncio.wait_for(ready.wait(), 5)
    try:
        job = (await stack.quantum_stub.SubmitJob(qs_pb2.SubmitJobRequest(
            programs=[common_pb2.Program(openqasm="OPENQASM 2.0; include \"qelib1.inc\"; "
                                         "qreg q[2]; creg c[2]; h q[0]; cx q[0],q[1]; "
                                         "measure q -> c;")],
            shot_count=50, qpu_id="sc-grid-16"))).job
        molecule = load_molecule("h2")
        request = cs_pb2.MinimizeRequest(optimizer="spsa", max_iterations=3, seed=1, session=(
            session_start(ansatz(molecule), molecule.observable, qpu_id="ion-ideal-24")))
        async for _ in stack.classical_stub.Minimize(request):
            pass
        for _ in range(200):
            states = [json.loads(p)["state"] for t, p in received if job.job_id in t]
            if "JOB_STATE_SUCCEEDED" in states:
                break
            await asyncio.sleep(0.05)
        # A publisher killed without DISCONNECT: the broker sends its Last Will.
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _KILLED_PUBLISHER, stack.mqtt_url, stack.topic_prefix,
            cwd=ROOT, env=os.environ.copy())
        will_topic = f"{stack.topic_prefix}/services/doomed/status"
        for _ in range(200):
            if any(t == will_topic for t, _ in received):
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        for _ in range(200):
            if sum(t == will_topic for t, _ in received) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        recorder.cancel()
        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
            await recorder

    by_kind: dict[TopicKind, list[dict]] = {}
    for topic, payload in received:
        if not payload:
            continue
        kind = parse_topic(topic, prefix=stack.topic_prefix).kind
        document = json.loads(payload)
        _validator(kind).validate(document)
        assert b"NaN" not in payload and b"Infinity" not in payload
        by_kind.setdefault(kind, []).append(document)
    # FineTune needs the optional ai extra; its payload is checked as the publisher encodes it.
    event = telemetry_pb2.FineTuneProgressEvent(run_id="f", step=1, loss=float("nan"),
                                                quantum_task_count=3)
    event.time.FromJsonString("2026-01-01T00:00:00.250Z")
    finetune = json.loads(encode(event))
    _validator(TopicKind.FINETUNE_PROGRESS).validate(finetune)
    assert set(by_kind) == set(TopicKind) - {TopicKind.FINETUNE_PROGRESS}

    qpus = {d["qpuId"] for d in by_kind[TopicKind.QPU_STATUS]}
    assert {d["qpuId"] for d in by_kind[TopicKind.QPU_CALIBRATION]} == qpus
    assert {d["qpuId"] for d in by_kind[TopicKind.QPU_CALIBRATION_FULL]} == qpus
    qubits = {(d["qpuId"], d["calibration"]["qubit"]) for d in by_kind[TopicKind.QUBIT_CALIBRATION]}
    assert ("sc-grid-16", 0) in qubits  # qubit 0 is present, not dropped as a zero
    assert len([q for q in qubits if q[0] == "sc-grid-16"]) == 16
    assert any(d["queueLength"] == 0 for d in by_kind[TopicKind.QPU_STATUS])
    progress = by_kind[TopicKind.OPTIMIZATION_PROGRESS]
    assert all(isinstance(d["evaluationCount"], int) for d in progress)
    sessions = by_kind[TopicKind.SESSION_PROGRESS]
    assert all(isinstance(d["evaluationCount"], int) for d in sessions)
    # Stock tools read the summaries and per-qubit messages; the full snapshot is the big one.
    sizes = {kind: max(len(json.dumps(d)) for d in documents)
             for kind, documents in by_kind.items()}
    assert sizes[TopicKind.QUBIT_CALIBRATION] < 1024 and sizes[TopicKind.QPU_CALIBRATION] < 1024
    will = [d for d in by_kind[TopicKind.SERVICE_STATUS] if d["service"] == "doomed"][-1]
    assert will["state"] == "SERVICE_STATE_OFFLINE" and will["lastWill"] is True
    assert will["time"]  # validated as an RFC 3339 date-time by the schema
