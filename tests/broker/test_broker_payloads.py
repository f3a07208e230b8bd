"""Payload JSON: what stock tools read without transforms, and decoding it back."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from qcore.v1 import common_pb2, telemetry_pb2

from broker.errors import InvalidPayloadError
from broker.json_schema import SCHEMA_DIR, render, schema_path
from broker.payloads import decode, encode
from broker.topics import SCHEMA, topic_for


def _timestamp(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


def test_every_field_is_present_with_numbers_as_json_numbers() -> None:
    event = telemetry_pb2.JobStateEvent(
        job_id="j-1", state=common_pb2.JOB_STATE_FAILED, qpu_id="ion-11",
        error_message="readout timeout", device_time_s=1.5,
        time=_timestamp("2024-05-01T12:00:00.250Z"),
    )
    # Hand-written: lowerCamelCase names, enum names, RFC 3339 time, zero values present.
    assert json.loads(encode(event)) == {
        "jobId": "j-1", "state": "JOB_STATE_FAILED", "qpuId": "ion-11", "owner": "",
        "errorMessage": "readout timeout", "deviceTimeS": 1.5,
        "time": "2024-05-01T12:00:00.250Z",
    }
    progress = telemetry_pb2.SessionProgressEvent(session_id="s", evaluation_count=9)
    text = encode(progress)
    assert b'"evaluationCount":9' in text  # int64 as a JSON number, not "9"
    assert json.loads(text)["expectationValue"] == 0.0
    assert json.loads(text)["time"] is None  # unset message field: null, never missing
    assert b"\n" not in text
    qpu = json.loads(encode(telemetry_pb2.QpuStatusEvent(qpu_id="q")))
    assert qpu["queueLength"] == 0 and qpu["status"] == "QPU_STATUS_UNSPECIFIED"
    qubit = json.loads(encode(telemetry_pb2.QubitCalibrationEvent(
        qpu_id="q", calibration=common_pb2.QubitCalibration(qubit=0))))
    assert qubit["calibration"]["qubit"] == 0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_null_and_decode_as_nan(value: float) -> None:
    summary = telemetry_pb2.CalibrationSummaryEvent(qpu_id="q", two_qubit_gate_fidelity_min=value)
    text = encode(summary)
    assert b"NaN" not in text and b"Infinity" not in text
    assert json.loads(text)["twoQubitGateFidelityMin"] is None
    decoded = decode(topic_for(summary), text)
    assert math.isnan(decoded.two_qubit_gate_fidelity_min)
    qubit = common_pb2.QubitCalibration(qubit=1, uncertainties={"t1_us": value})
    uncertain = telemetry_pb2.QubitCalibrationEvent(qpu_id="q", calibration=qubit)
    assert json.loads(encode(uncertain))["calibration"]["uncertainties"] == {"t1_us": None}
    assert math.isnan(decode(topic_for(uncertain), encode(uncertain))
                      .calibration.uncertainties["t1_us"])


def _examples() -> list[Message]:
    snapshot = common_pb2.CalibrationSnapshot(
        snapshot_id="cal-7", qpu_id="sc-5q", create_time=_timestamp("2024-05-01T00:00:00Z"),
        qubits=[common_pb2.QubitCalibration(qubit=0, frequency_hz=5.1e9, t1_us=85.0, t2_us=60.5,
                                            readout_fidelity=0.97)],
        pairs=[common_pb2.PairCalibration(qubit_a=0, qubit_b=1, two_qubit_gate_fidelity=0.99)],
    )
    return [
        telemetry_pb2.ServiceStatus(service="quantum", state=telemetry_pb2.SERVICE_STATE_ONLINE,
                                    address="127.0.0.1:50051", version="0.1.0", last_will=True),
        telemetry_pb2.QpuStatusEvent(qpu_id="sc-5q", status=common_pb2.QPU_STATUS_CALIBRATING,
                                     queue_length=3, device_time_s=0.25),
        telemetry_pb2.CalibrationEvent(qpu_id="sc-5q", snapshot=snapshot),
        telemetry_pb2.CalibrationSummaryEvent(qpu_id="sc-5q", snapshot_id="cal-7", qubit_count=5,
                                              recalibrated_qubits=[0, 3], t1_us_median=80.0),
        telemetry_pb2.QubitCalibrationEvent(qpu_id="sc-5q", snapshot_id="cal-7",
                                            calibration=snapshot.qubits[0]),
        telemetry_pb2.JobStateEvent(job_id="j1", state=common_pb2.JOB_STATE_RUNNING),
        telemetry_pb2.SessionProgressEvent(session_id="s1", event="evaluate",
                                           evaluation_count=2**40, expectation_value=-1.137),
        telemetry_pb2.OptimizationProgressEvent(run_id="r1", optimizer="spsa", iteration=4,
                                                energy=-0.5, finished=True),
        telemetry_pb2.FineTuneProgressEvent(run_id="f1", step=3, loss=0.25,
                                            quantum_task_count=7),
    ]


@pytest.mark.parametrize("message", _examples(), ids=lambda m: type(m).__name__)
def test_encode_decode_round_trip_on_the_message_topic(message: Message) -> None:
    topic = topic_for(message)
    decoded = decode(topic, encode(message))
    assert type(decoded) is type(message)
    assert decoded == message
    assert decode(topic, encode(message).decode()) == message  # str payloads too


def test_decode_reads_plain_proto3_json_of_earlier_publishers() -> None:
    old = b'{"sessionId": "s", "evaluationCount": "9", "expectationValue": "NaN"}'
    decoded = decode("qcore/v1/sessions/s/progress", old)
    assert decoded.evaluation_count == 9 and math.isnan(decoded.expectation_value)


def test_decode_ignores_unknown_fields_and_enum_values_from_newer_publishers() -> None:
    payload = b'{"jobId": "j1", "state": "JOB_STATE_QUEUED", "priorityClass": "gold"}'
    assert decode("qcore/v1/jobs/j1/state", payload) == telemetry_pb2.JobStateEvent(
        job_id="j1", state=common_pb2.JOB_STATE_QUEUED)
    newer_enum = b'{"jobId": "j1", "state": "JOB_STATE_PREEMPTED"}'
    assert decode("qcore/v1/jobs/j1/state", newer_enum) == telemetry_pb2.JobStateEvent(
        job_id="j1", state=common_pb2.JOB_STATE_UNSPECIFIED)


@pytest.mark.parametrize("payload", [
    b"",                                  # cleared retained topic
    b"not json",
    b'{"jobId": 5}',                       # wrong JSON type
    b"[1, 2]",                             # JSON, but not an object
    b"\xff\xfe",                           # not UTF-8
])
def test_decode_rejects_bad_payloads(payload: bytes) -> None:
    with pytest.raises(InvalidPayloadError):
        decode("qcore/v1/jobs/j1/state", payload)


def test_encode_rejects_messages_that_are_not_telemetry() -> None:
    with pytest.raises(InvalidPayloadError, match="not a telemetry message"):
        encode(common_pb2.Circuit(qubit_count=2))


def test_committed_json_schemas_are_up_to_date() -> None:
    """``python -m broker.json_schema`` regenerates them from telemetry.proto."""
    for spec in SCHEMA.values():
        descriptor = spec.message_class.DESCRIPTOR
        path = schema_path(descriptor)
        assert path.exists(), f"{path.name} missing: run python -m broker.json_schema"
        assert path.read_text(encoding="utf-8") == render(descriptor), (
            f"{path.name} is stale: run python -m broker.json_schema")
    assert sorted(p.name for p in SCHEMA_DIR.glob("*.schema.json")) == sorted(
        schema_path(s.message_class.DESCRIPTOR).name for s in SCHEMA.values())


def test_a_schema_rejects_what_stock_tools_tripped_on() -> None:
    schema = json.loads(schema_path(telemetry_pb2.SessionProgressEvent.DESCRIPTOR).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = json.loads(encode(telemetry_pb2.SessionProgressEvent(
        session_id="s", evaluation_count=9, time=_timestamp("2024-05-01T12:00:00Z"))))
    validator.validate(good)
    for bad in ({**good, "evaluationCount": "9"}, {**good, "expectationValue": "NaN"},
                {k: v for k, v in good.items() if k != "qpuId"}, {**good, "time": None}):
        assert not validator.is_valid(bad), bad
