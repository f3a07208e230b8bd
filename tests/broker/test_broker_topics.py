"""The topic schema: topic strings, id validation, parsing, canonical JSON payloads."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiomqtt
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from qcore.v1 import common_pb2, telemetry_pb2

from broker import topics
from broker.errors import InvalidPayloadError, InvalidTopicError
from broker.topics import TopicKind

BUILDERS: list[tuple[Callable[[str], str], str, TopicKind, type[Message]]] = [
    (topics.service_status_topic, "qcore/v1/services/{}/status", TopicKind.SERVICE_STATUS,
     telemetry_pb2.ServiceStatus),
    (topics.qpu_status_topic, "qcore/v1/qpus/{}/status", TopicKind.QPU_STATUS,
     telemetry_pb2.QpuStatusEvent),
    (topics.qpu_calibration_topic, "qcore/v1/qpus/{}/calibration", TopicKind.QPU_CALIBRATION,
     telemetry_pb2.CalibrationEvent),
    (topics.job_state_topic, "qcore/v1/jobs/{}/state", TopicKind.JOB_STATE,
     telemetry_pb2.JobStateEvent),
    (topics.session_progress_topic, "qcore/v1/sessions/{}/progress", TopicKind.SESSION_PROGRESS,
     telemetry_pb2.SessionProgressEvent),
    (topics.optimization_progress_topic, "qcore/v1/optimizations/{}/progress",
     TopicKind.OPTIMIZATION_PROGRESS, telemetry_pb2.OptimizationProgressEvent),
]


@pytest.mark.parametrize(("build", "template", "kind", "cls"), BUILDERS)
def test_topic_strings_and_parse_round_trip(build: Callable[[str], str], template: str,
                                            kind: TopicKind, cls: type[Message]) -> None:
    topic = build("sc-5q.01")
    assert topic == template.format("sc-5q.01")
    assert topics.parse_topic(topic) == (kind, "sc-5q.01", cls)
    parsed_kind, topic_id, message_class = topics.parse_topic(topic)
    assert (parsed_kind, topic_id, message_class) == (kind, "sc-5q.01", cls)


@pytest.mark.parametrize(("build", "template", "kind", "cls"), BUILDERS)
@pytest.mark.parametrize("bad_id", ["", "a/b", "q+", "#", "x\x00y"])
def test_builders_reject_ids_that_are_not_one_topic_level(
    build: Callable[[str], str], template: str, kind: TopicKind, cls: type[Message], bad_id: str
) -> None:
    with pytest.raises(InvalidTopicError) as info:
        build(bad_id)
    assert topics.SCHEMA[kind].id_field in str(info.value)
    assert info.value.reason == "INVALID_TOPIC"
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("topic", [
    "qcore/v2/jobs/j1/state",          # other version
    "other/v1/jobs/j1/state",
    "qcore/v1/jobs/j1",                # too few levels
    "qcore/v1/jobs/j1/state/extra",    # too many
    "qcore/v1/jobs/j1/status",         # unknown leaf for the collection
    "qcore/v1/widgets/j1/state",       # unknown collection
    "qcore/v1/jobs/+/state",           # a wildcard is a filter, not a topic
    "qcore/v1/jobs//state",            # empty id
    "qcore/v1/#",
])
def test_parse_topic_rejects_foreign_topics(topic: str) -> None:
    with pytest.raises(InvalidTopicError):
        topics.parse_topic(topic)


def test_retained_and_qos_follow_the_documented_schema() -> None:
    retained = {kind for kind, spec in topics.SCHEMA.items() if spec.retained}
    assert retained == {TopicKind.SERVICE_STATUS, TopicKind.QPU_STATUS, TopicKind.QPU_CALIBRATION}
    qos0 = {kind for kind, spec in topics.SCHEMA.items() if spec.qos == 0}
    assert qos0 == {TopicKind.SESSION_PROGRESS, TopicKind.OPTIMIZATION_PROGRESS,
                    TopicKind.FINETUNE_PROGRESS}
    # Every row of the table in the module docstring is a real topic of the schema.
    for spec in topics.SCHEMA.values():
        assert f"``{spec.topic('{' + spec.id_field + '}')}``" in topics.__doc__
        assert spec.message_class.__name__ in topics.__doc__


@pytest.mark.parametrize(("build", "template", "kind", "cls"), BUILDERS)
def test_wildcards_match_their_kind_only(build: Callable[[str], str], template: str,
                                         kind: TopicKind, cls: type[Message]) -> None:
    # aiomqtt.Topic.matches implements MQTT filter matching independently of our code.
    topic = aiomqtt.Topic(build("abc"))
    assert topic.matches(topics.ALL)
    for other_kind in TopicKind:
        assert topic.matches(topics.wildcard(other_kind)) == (other_kind is kind)


def _timestamp(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


def test_encode_is_canonical_proto3_json() -> None:
    event = telemetry_pb2.JobStateEvent(
        job_id="j-1", state=common_pb2.JOB_STATE_FAILED, qpu_id="ion-11", owner="",
        error_message="readout timeout", device_time_s=1.5,
        time=_timestamp("2024-05-01T12:00:00.250Z"),
    )
    # Hand-written from the proto3 JSON mapping (protobuf.dev/programming-guides/json):
    # lowerCamelCase names, enum value names, RFC 3339 time, default values omitted.
    assert json.loads(topics.encode(event)) == {
        "jobId": "j-1",
        "state": "JOB_STATE_FAILED",
        "qpuId": "ion-11",
        "errorMessage": "readout timeout",
        "deviceTimeS": 1.5,
        "time": "2024-05-01T12:00:00.250Z",
    }
    progress = telemetry_pb2.SessionProgressEvent(session_id="s", evaluation_count=12)
    # int64 is a JSON string in the mapping.
    assert json.loads(topics.encode(progress)) == {"sessionId": "s", "evaluationCount": "12"}
    assert b"\n" not in topics.encode(event)


def _examples() -> list[Message]:
    snapshot = common_pb2.CalibrationSnapshot(
        snapshot_id="cal-7", qpu_id="sc-5q", create_time=_timestamp("2024-05-01T00:00:00Z"),
        qubits=[common_pb2.QubitCalibration(qubit=0, frequency_hz=5.1e9, t1_us=85.0, t2_us=60.5,
                                            readout_fidelity=0.97)],
        pairs=[common_pb2.PairCalibration(qubit_a=0, qubit_b=1, two_qubit_gate_fidelity=0.99)],
    )
    return [
        telemetry_pb2.ServiceStatus(service="quantum", state=telemetry_pb2.SERVICE_STATE_ONLINE,
                                    address="127.0.0.1:50051", version="0.1.0"),
        telemetry_pb2.QpuStatusEvent(qpu_id="sc-5q", status=common_pb2.QPU_STATUS_CALIBRATING,
                                     queue_length=3, device_time_s=0.25),
        telemetry_pb2.CalibrationEvent(qpu_id="sc-5q", snapshot=snapshot),
        telemetry_pb2.JobStateEvent(job_id="j1", state=common_pb2.JOB_STATE_RUNNING),
        telemetry_pb2.SessionProgressEvent(session_id="s1", event="evaluate",
                                           evaluation_count=2**40, expectation_value=-1.137),
        telemetry_pb2.OptimizationProgressEvent(run_id="r1", optimizer="spsa", iteration=4,
                                                energy=-0.5, finished=True),
    ]


@pytest.mark.parametrize("message", _examples(), ids=lambda m: type(m).__name__)
def test_encode_decode_round_trip_on_the_message_topic(message: Message) -> None:
    topic = topics.topic_for(message)
    assert topics.parse_topic(topic).message_class is type(message)
    decoded = topics.decode(topic, topics.encode(message))
    assert type(decoded) is type(message)
    assert decoded == message
    assert topics.decode(topic, topics.encode(message).decode()) == message  # str payloads too


def test_topic_for_uses_the_id_field() -> None:
    assert topics.topic_for(telemetry_pb2.JobStateEvent(job_id="j9")) == "qcore/v1/jobs/j9/state"
    assert (topics.topic_for(telemetry_pb2.CalibrationEvent(qpu_id="q"))
            == "qcore/v1/qpus/q/calibration")
    with pytest.raises(InvalidTopicError, match="job_id"):
        topics.topic_for(telemetry_pb2.JobStateEvent())


def test_decode_ignores_unknown_fields_and_enum_values_from_newer_publishers() -> None:
    payload = b'{"jobId": "j1", "state": "JOB_STATE_QUEUED", "priorityClass": "gold"}'
    assert topics.decode("qcore/v1/jobs/j1/state", payload) == telemetry_pb2.JobStateEvent(
        job_id="j1", state=common_pb2.JOB_STATE_QUEUED)
    newer_enum = b'{"jobId": "j1", "state": "JOB_STATE_PREEMPTED"}'
    assert topics.decode("qcore/v1/jobs/j1/state", newer_enum) == telemetry_pb2.JobStateEvent(
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
        topics.decode("qcore/v1/jobs/j1/state", payload)


def test_encode_and_check_reject_messages_of_the_wrong_class() -> None:
    with pytest.raises(InvalidPayloadError, match="not a telemetry message"):
        topics.encode(common_pb2.Circuit(qubit_count=2))
    with pytest.raises(InvalidPayloadError, match="carries JobStateEvent"):
        topics.check_message("qcore/v1/jobs/j1/state", telemetry_pb2.QpuStatusEvent())
