"""The topic schema: topic strings under a prefix, id validation, parsing."""

from __future__ import annotations

from collections.abc import Callable

import aiomqtt
import pytest
from google.protobuf.message import Message
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
     telemetry_pb2.CalibrationSummaryEvent),
    (topics.job_state_topic, "qcore/v1/jobs/{}/state", TopicKind.JOB_STATE,
     telemetry_pb2.JobStateEvent),
    (topics.session_progress_topic, "qcore/v1/sessions/{}/progress", TopicKind.SESSION_PROGRESS,
     telemetry_pb2.SessionProgressEvent),
    (topics.optimization_progress_topic, "qcore/v1/optimizations/{}/progress",
     TopicKind.OPTIMIZATION_PROGRESS, telemetry_pb2.OptimizationProgressEvent),
    (topics.finetune_progress_topic, "qcore/v1/finetunes/{}/progress",
     TopicKind.FINETUNE_PROGRESS, telemetry_pb2.FineTuneProgressEvent),
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
    assert topics.SCHEMA[kind].id_fields[0] in str(info.value)
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
    "qcore/v1/qpus/q/calibration/part",  # unknown leaf under calibration
    "qcore/v1/qpus/q/qubits/calibration",
])
def test_parse_topic_rejects_foreign_topics(topic: str) -> None:
    with pytest.raises(InvalidTopicError):
        topics.parse_topic(topic)


def test_retained_and_qos_follow_the_documented_schema() -> None:
    retained = {kind for kind, spec in topics.SCHEMA.items() if spec.retained}
    assert retained == {TopicKind.SERVICE_STATUS, TopicKind.QPU_STATUS, TopicKind.QPU_CALIBRATION,
                        TopicKind.QPU_CALIBRATION_FULL, TopicKind.QUBIT_CALIBRATION}
    qos0 = {kind for kind, spec in topics.SCHEMA.items() if spec.qos == 0}
    assert qos0 == {TopicKind.SESSION_PROGRESS, TopicKind.OPTIMIZATION_PROGRESS,
                    TopicKind.FINETUNE_PROGRESS}
    # Every row of the table in the module docstring is a real topic of the schema.
    for spec in topics.SCHEMA.values():
        assert f"``{spec.pattern}``" in topics.__doc__
        assert spec.message_class.__name__ in topics.__doc__


@pytest.mark.parametrize(("build", "template", "kind", "cls"), BUILDERS)
def test_wildcards_match_their_kind_only(build: Callable[[str], str], template: str,
                                         kind: TopicKind, cls: type[Message]) -> None:
    # aiomqtt.Topic.matches implements MQTT filter matching independently of our code.
    topic = aiomqtt.Topic(build("abc"))
    assert topic.matches(topics.all_topics())
    for other_kind in TopicKind:
        assert topic.matches(topics.wildcard(other_kind)) == (other_kind is kind)


def test_calibration_topics_per_qubit_and_full_snapshot() -> None:
    qubit = telemetry_pb2.QubitCalibrationEvent(
        qpu_id="sc-grid-16", calibration=common_pb2.QubitCalibration(qubit=0))
    topic = topics.topic_for(qubit)
    assert topic == "qcore/v1/qpus/sc-grid-16/qubits/0/calibration"  # qubit 0 is an id too
    assert topics.parse_topic(topic) == (TopicKind.QUBIT_CALIBRATION, "sc-grid-16/0",
                                         telemetry_pb2.QubitCalibrationEvent)
    full = topics.topic_for(telemetry_pb2.CalibrationEvent(qpu_id="sc-grid-16"))
    assert full == "qcore/v1/qpus/sc-grid-16/calibration/full"
    # A monitor of the summaries does not receive the full snapshots (several KB each).
    summaries = topics.wildcard(TopicKind.QPU_CALIBRATION)
    assert not aiomqtt.Topic(full).matches(summaries)
    assert not aiomqtt.Topic(topic).matches(summaries)
    assert aiomqtt.Topic(topic).matches(topics.wildcard(TopicKind.QUBIT_CALIBRATION))


@pytest.mark.parametrize("prefix", ["lab-a/qcore/v1", "qcore/v1", "x"])
def test_every_topic_lives_under_its_prefix(prefix: str) -> None:
    event = telemetry_pb2.JobStateEvent(job_id="j1")
    topic = topics.topic_for(event, prefix=prefix)
    assert topic == f"{prefix}/jobs/j1/state"
    assert topics.parse_topic(topic, prefix=prefix).kind is TopicKind.JOB_STATE
    assert aiomqtt.Topic(topic).matches(topics.all_topics(prefix))
    assert aiomqtt.Topic(topic).matches(topics.wildcard(TopicKind.JOB_STATE, prefix=prefix))
    other = "lab-b/qcore/v1"
    assert not aiomqtt.Topic(topic).matches(topics.all_topics(other))
    with pytest.raises(InvalidTopicError):
        topics.parse_topic(topic, prefix=other)


@pytest.mark.parametrize("prefix", ["", "/qcore", "qcore/", "a//b", "a/+/b", "a/#", "$SYS/q",
                                    "a\x00b"])
def test_malformed_prefixes_are_rejected(prefix: str) -> None:
    with pytest.raises(InvalidTopicError, match="prefix"):
        topics.check_prefix(prefix)


def test_configured_prefix_reads_the_environment_variable() -> None:
    assert topics.configured_prefix({}) == "qcore/v1"
    assert topics.configured_prefix({"QCORE_TOPIC_PREFIX": " lab-a/qcore/v1 "}) == "lab-a/qcore/v1"
    with pytest.raises(InvalidTopicError):
        topics.configured_prefix({"QCORE_TOPIC_PREFIX": "lab/#"})


def test_topic_for_uses_the_id_fields() -> None:
    assert topics.topic_for(telemetry_pb2.JobStateEvent(job_id="j9")) == "qcore/v1/jobs/j9/state"
    assert (topics.topic_for(telemetry_pb2.CalibrationSummaryEvent(qpu_id="q"))
            == "qcore/v1/qpus/q/calibration")
    with pytest.raises(InvalidTopicError, match="job_id"):
        topics.topic_for(telemetry_pb2.JobStateEvent())


def test_check_rejects_messages_of_the_wrong_class() -> None:
    with pytest.raises(InvalidPayloadError, match="not a telemetry message"):
        topics.topic_for(common_pb2.Circuit(qubit_count=2))
    with pytest.raises(InvalidPayloadError, match="carries JobStateEvent"):
        topics.check_message("qcore/v1/jobs/j1/state", telemetry_pb2.QpuStatusEvent())
