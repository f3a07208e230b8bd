"""The qcore telemetry topic schema, version 1.

Every topic lives under ``qcore/v1/``; each carries exactly one message type of
``protos/qcore/v1/telemetry.proto``, serialised with protobuf's canonical proto3 JSON mapping
(``google.protobuf.json_format.MessageToJson``: lowerCamelCase field names, enums by name,
Timestamps as RFC 3339 strings), UTF-8, so any MQTT tool can read it.

============================================  ==============================  ========  ===
topic                                         payload                         retained  QoS
============================================  ==============================  ========  ===
``qcore/v1/services/{service}/status``        ``ServiceStatus``               yes       1
``qcore/v1/qpus/{qpu_id}/status``             ``QpuStatusEvent``              yes       1
``qcore/v1/qpus/{qpu_id}/calibration``        ``CalibrationEvent``            yes       1
``qcore/v1/jobs/{job_id}/state``              ``JobStateEvent``               no        1
``qcore/v1/sessions/{session_id}/progress``   ``SessionProgressEvent``        no        0
``qcore/v1/optimizations/{run_id}/progress``  ``OptimizationProgressEvent``   no        0
``qcore/v1/finetunes/{run_id}/progress``      ``FineTuneProgressEvent``       no        0
============================================  ==============================  ========  ===

When each is published:

* service status: ONLINE on every (re)connect of a service's publisher, OFFLINE when it stops;
  OFFLINE is also its MQTT Last Will, which the broker publishes if the connection drops;
* QPU status: on every change (online, calibrating, offline, queue length);
* calibration: on every new calibration snapshot;
* job state: on every job state change (``QUEUED`` ... ``CANCELLED``);
* session progress: on open, on each evaluation, on close;
* optimisation progress: on every optimiser iteration;
* fine-tuning progress: on every fine-tuning step.

Rules:

* Ids (``service``, ``qpu_id``, ...) are non-empty and contain no ``/``, ``+``, ``#`` or NUL, so
  one id is exactly one topic level (MQTT 3.1.1, OASIS standard, section 4.7).
* Retained topics hold the latest state; a monitor that connects late reads it at once. A
  zero-length retained payload clears a retained topic (MQTT 3.1.1, section 3.3.1.3); subscribers
  skip such payloads.
* Progress streams use QoS 0: each event supersedes the previous one, so a lost one costs
  nothing. State changes use QoS 1.
* Compatibility: within ``v1`` fields are only added, never renamed or renumbered; decoders
  ignore unknown fields. An incompatible change gets new topics under ``qcore/v2/``.

Subscribe to everything with :data:`ALL`, or to one kind with :func:`wildcard`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from google.protobuf import json_format
from google.protobuf.message import Message
from qcore.v1 import telemetry_pb2

from broker.errors import InvalidPayloadError, InvalidTopicError

__all__ = [
    "PREFIX",
    "ALL",
    "TopicKind",
    "TopicSpec",
    "SCHEMA",
    "ParsedTopic",
    "service_status_topic",
    "qpu_status_topic",
    "qpu_calibration_topic",
    "job_state_topic",
    "session_progress_topic",
    "optimization_progress_topic",
    "finetune_progress_topic",
    "spec_for",
    "topic_for",
    "wildcard",
    "parse_topic",
    "check_message",
    "encode",
    "decode",
]

#: Root of every qcore topic; the version is part of the path.
PREFIX = "qcore/v1"

#: Wildcard subscription matching every qcore v1 topic.
ALL = f"{PREFIX}/#"

_FORBIDDEN_ID_CHARACTERS = ("/", "+", "#", "\x00")


class TopicKind(enum.StrEnum):
    """The kinds of topic in the schema."""

    SERVICE_STATUS = "service_status"
    QPU_STATUS = "qpu_status"
    QPU_CALIBRATION = "qpu_calibration"
    JOB_STATE = "job_state"
    SESSION_PROGRESS = "session_progress"
    OPTIMIZATION_PROGRESS = "optimization_progress"
    FINETUNE_PROGRESS = "finetune_progress"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One row of the schema table.

    Attributes:
        kind: The topic kind.
        collection: First level after the prefix (``"qpus"``).
        leaf: Last level (``"status"``).
        message_class: The proto class of the payload.
        id_field: The payload field that holds the topic's id (``"qpu_id"``).
        retained: Whether publishers set the MQTT retain flag.
        qos: MQTT quality of service publishers use (0 or 1).
    """

    kind: TopicKind
    collection: str
    leaf: str
    message_class: type[Message]
    id_field: str
    retained: bool
    qos: int

    def topic(self, topic_id: str) -> str:
        """The topic for one id.

        Raises:
            InvalidTopicError: ``topic_id`` is empty or contains ``/``, ``+``, ``#`` or NUL.
        """
        return f"{PREFIX}/{self.collection}/{_checked_id(topic_id, self.id_field)}/{self.leaf}"


_SPECS = (
    TopicSpec(TopicKind.SERVICE_STATUS, "services", "status", telemetry_pb2.ServiceStatus,
              "service", retained=True, qos=1),
    TopicSpec(TopicKind.QPU_STATUS, "qpus", "status", telemetry_pb2.QpuStatusEvent,
              "qpu_id", retained=True, qos=1),
    TopicSpec(TopicKind.QPU_CALIBRATION, "qpus", "calibration", telemetry_pb2.CalibrationEvent,
              "qpu_id", retained=True, qos=1),
    TopicSpec(TopicKind.JOB_STATE, "jobs", "state", telemetry_pb2.JobStateEvent,
              "job_id", retained=False, qos=1),
    TopicSpec(TopicKind.SESSION_PROGRESS, "sessions", "progress",
              telemetry_pb2.SessionProgressEvent, "session_id", retained=False, qos=0),
    TopicSpec(TopicKind.OPTIMIZATION_PROGRESS, "optimizations", "progress",
              telemetry_pb2.OptimizationProgressEvent, "run_id", retained=False, qos=0),
    TopicSpec(TopicKind.FINETUNE_PROGRESS, "finetunes", "progress",
              telemetry_pb2.FineTuneProgressEvent, "run_id", retained=False, qos=0),
)

#: The schema, by kind.
SCHEMA: Mapping[TopicKind, TopicSpec] = MappingProxyType({spec.kind: spec for spec in _SPECS})

_BY_LEVELS = {(spec.collection, spec.leaf): spec for spec in _SPECS}
_BY_MESSAGE = {spec.message_class.DESCRIPTOR.full_name: spec for spec in _SPECS}


class ParsedTopic(NamedTuple):
    """A decoded topic: ``kind, topic_id, message_class = parse_topic(topic)``."""

    kind: TopicKind
    topic_id: str
    message_class: type[Message]


def _checked_id(topic_id: str, field: str) -> str:
    if not isinstance(topic_id, str) or not topic_id:
        raise InvalidTopicError(f"{field} must be a non-empty string, got {topic_id!r}")
    bad = [c for c in _FORBIDDEN_ID_CHARACTERS if c in topic_id]
    if bad:
        raise InvalidTopicError(
            f"{field} {topic_id!r} contains {', '.join(map(repr, bad))}; an id is one MQTT topic "
            "level and may not contain '/', the wildcards '+' and '#', or NUL"
        )
    return topic_id


def service_status_topic(service: str) -> str:
    """``qcore/v1/services/{service}/status``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.SERVICE_STATUS].topic(service)


def qpu_status_topic(qpu_id: str) -> str:
    """``qcore/v1/qpus/{qpu_id}/status``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.QPU_STATUS].topic(qpu_id)


def qpu_calibration_topic(qpu_id: str) -> str:
    """``qcore/v1/qpus/{qpu_id}/calibration``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.QPU_CALIBRATION].topic(qpu_id)


def job_state_topic(job_id: str) -> str:
    """``qcore/v1/jobs/{job_id}/state``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.JOB_STATE].topic(job_id)


def session_progress_topic(session_id: str) -> str:
    """``qcore/v1/sessions/{session_id}/progress``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.SESSION_PROGRESS].topic(session_id)


def optimization_progress_topic(run_id: str) -> str:
    """``qcore/v1/optimizations/{run_id}/progress``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.OPTIMIZATION_PROGRESS].topic(run_id)


def finetune_progress_topic(run_id: str) -> str:
    """``qcore/v1/finetunes/{run_id}/progress``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.FINETUNE_PROGRESS].topic(run_id)


def spec_for(message: Message) -> TopicSpec:
    """The schema row whose payload type is ``type(message)``.

    Raises:
        InvalidPayloadError: ``message`` is not a ``qcore.v1`` telemetry message.
    """
    try:
        return _BY_MESSAGE[message.DESCRIPTOR.full_name]
    except (AttributeError, KeyError):
        raise InvalidPayloadError(
            f"{type(message).__name__} is not a telemetry message; expected one of "
            f"{', '.join(spec.message_class.__name__ for spec in _SPECS)}"
        ) from None


def topic_for(message: Message) -> str:
    """The topic a telemetry message belongs on, from its type and its id field.

    ``topic_for(JobStateEvent(job_id="j1", ...)) == "qcore/v1/jobs/j1/state"``.

    Raises:
        InvalidPayloadError: ``message`` is not a telemetry message.
        InvalidTopicError: its id field is empty or not a valid topic level.
    """
    spec = spec_for(message)
    return spec.topic(getattr(message, spec.id_field))


def wildcard(kind: TopicKind) -> str:
    """The subscription filter matching every topic of one kind (``qcore/v1/jobs/+/state``)."""
    spec = SCHEMA[TopicKind(kind)]
    return f"{PREFIX}/{spec.collection}/+/{spec.leaf}"


def parse_topic(topic: str) -> ParsedTopic:
    """Decodes a concrete topic into ``(kind, topic_id, message_class)``.

    Raises:
        InvalidTopicError: ``topic`` is not a topic of this schema (other prefix or version,
            unknown collection or leaf, wrong number of levels, invalid id).
    """
    levels = topic.split("/") if isinstance(topic, str) else []
    if len(levels) != 5 or "/".join(levels[:2]) != PREFIX:
        raise InvalidTopicError(
            f"{topic!r} is not a qcore telemetry topic; expected {PREFIX}/<collection>/<id>/<leaf>"
        )
    spec = _BY_LEVELS.get((levels[2], levels[4]))
    if spec is None:
        known = ", ".join(f"{PREFIX}/{s.collection}/{{{s.id_field}}}/{s.leaf}" for s in _SPECS)
        raise InvalidTopicError(f"unknown telemetry topic {topic!r}; known topics: {known}")
    return ParsedTopic(spec.kind, _checked_id(levels[3], spec.id_field), spec.message_class)


def check_message(topic: str, message: Message) -> ParsedTopic:
    """Parses ``topic`` and checks that ``message`` is the class it carries.

    Raises:
        InvalidTopicError: ``topic`` is not in the schema.
        InvalidPayloadError: ``message`` is not the topic's message class.
    """
    parsed = parse_topic(topic)
    if not isinstance(message, parsed.message_class):
        raise InvalidPayloadError(
            f"topic {topic!r} carries {parsed.message_class.__name__}, "
            f"got {type(message).__name__}"
        )
    return parsed


def encode(message: Message) -> bytes:
    """Serialises a telemetry message to its MQTT payload: canonical proto3 JSON, UTF-8.

    Returns:
        Compact JSON bytes (``{"jobId": "j1", "state": "JOB_STATE_RUNNING"}``); fields at their
        default value are omitted, as the proto3 JSON mapping specifies.
    Raises:
        InvalidPayloadError: ``message`` is not a telemetry message.
    """
    spec_for(message)
    text: str = json_format.MessageToJson(message, indent=None)
    return text.encode("utf-8")


def decode(topic: str, payload: bytes | bytearray | str) -> Message:
    """Parses a payload received on ``topic`` into the topic's message class.

    Unknown JSON fields and unknown enum value names are ignored (a newer v1 publisher may
    add them); an unknown enum value decodes as the enum's ``*_UNSPECIFIED`` zero value.

    Raises:
        InvalidTopicError: ``topic`` is not in the schema.
        InvalidPayloadError: the payload is empty (a cleared retained topic), not UTF-8, or not
            the JSON form of the topic's message class.
    """
    parsed = parse_topic(topic)
    if not payload:
        raise InvalidPayloadError(f"empty payload on {topic!r} (a cleared retained message)")
    try:
        text = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
        return json_format.Parse(text, parsed.message_class(), ignore_unknown_fields=True)
    except (UnicodeDecodeError, json_format.ParseError) as exc:
        raise InvalidPayloadError(
            f"payload on {topic!r} is not a JSON {parsed.message_class.__name__}: {exc}"
        ) from None
