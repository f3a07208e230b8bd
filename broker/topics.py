"""The qcore telemetry topic schema, version 1, under a deployment's topic prefix.

Every topic lives under a prefix, ``qcore/v1`` by default (``QCORE_TOPIC_PREFIX``), so that
deployments (and test runs) sharing a broker never write into each other's topics. Each topic
carries exactly one message type of ``protos/qcore/v1/telemetry.proto`` as JSON that stock tools
read without transforms (:mod:`broker.payloads`; JSON Schemas in ``broker/schemas/``).

============================================  =============================  ========  ===
topic (after ``{prefix}/``)                   payload                        retained  QoS
============================================  =============================  ========  ===
``services/{service}/status``                 ``ServiceStatus``              yes       1
``qpus/{qpu_id}/status``                      ``QpuStatusEvent``             yes       1
``qpus/{qpu_id}/calibration``                 ``CalibrationSummaryEvent``    yes       1
``qpus/{qpu_id}/calibration/full``            ``CalibrationEvent``           yes       1
``qpus/{qpu_id}/qubits/{qubit}/calibration``  ``QubitCalibrationEvent``      yes       1
``jobs/{job_id}/state``                       ``JobStateEvent``              no        1
``sessions/{session_id}/progress``            ``SessionProgressEvent``       no        0
``optimizations/{run_id}/progress``           ``OptimizationProgressEvent``  no        0
``finetunes/{run_id}/progress``               ``FineTuneProgressEvent``      no        0
============================================  =============================  ========  ===

When each is published:

* service status: ONLINE on every (re)connect of a service's publisher, OFFLINE when it stops;
  OFFLINE is also its MQTT Last Will, which the broker publishes if the connection drops;
* QPU status: on every change (online, calibrating, queue length), OFFLINE when the service
  stops;
* calibration (summary, full snapshot, one message per qubit): on every new snapshot;
* job state: on every job state change (``QUEUED`` ... ``CANCELLED``);
* session progress: on open, on each evaluation, on close;
* optimisation progress: on every optimiser iteration;
* fine-tuning progress: on every fine-tuning step.

Rules:

* Ids (``service``, ``qpu_id``, ...) are non-empty and contain no ``/``, ``+``, ``#`` or NUL, so
  one id is exactly one topic level (MQTT 3.1.1, OASIS standard, section 4.7).
* Retained topics hold the latest state; a monitor that connects late reads it at once, and a
  publisher publishes every one of them again after it reconnects. A zero-length retained
  payload clears a retained topic (MQTT 3.1.1, section 3.3.1.3); subscribers skip such payloads.
* Progress streams use QoS 0: each event supersedes the previous one, so a lost one costs
  nothing. State changes use QoS 1.
* Compatibility: within ``v1`` fields are only added, never renamed or renumbered; decoders
  ignore unknown fields. An incompatible change gets new topics under ``qcore/v2``.

Subscribe to everything with :func:`all_topics`, or to one kind with :func:`wildcard`.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from google.protobuf.message import Message
from qcore.v1 import telemetry_pb2

from broker.errors import InvalidPayloadError, InvalidTopicError

__all__ = [
    "DEFAULT_PREFIX",
    "PREFIX_ENV_VAR",
    "TopicKind",
    "TopicSpec",
    "SCHEMA",
    "ParsedTopic",
    "check_prefix",
    "configured_prefix",
    "all_topics",
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
]

#: Default root of every qcore topic; the schema version is part of the path.
DEFAULT_PREFIX = "qcore/v1"
#: Environment variable naming the topic prefix of a deployment.
PREFIX_ENV_VAR = "QCORE_TOPIC_PREFIX"

_FORBIDDEN_ID_CHARACTERS = ("/", "+", "#", "\x00")


class TopicKind(enum.StrEnum):
    """The kinds of topic in the schema."""

    SERVICE_STATUS = "service_status"
    QPU_STATUS = "qpu_status"
    QPU_CALIBRATION = "qpu_calibration"
    QPU_CALIBRATION_FULL = "qpu_calibration_full"
    QUBIT_CALIBRATION = "qubit_calibration"
    JOB_STATE = "job_state"
    SESSION_PROGRESS = "session_progress"
    OPTIMIZATION_PROGRESS = "optimization_progress"
    FINETUNE_PROGRESS = "finetune_progress"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One row of the schema table.

    Attributes:
        kind: The topic kind.
        levels: The levels after the prefix; ``"{}"`` marks an id level
            (``("qpus", "{}", "status")``).
        message_class: The proto class of the payload.
        id_fields: The payload fields holding the ids, one per ``"{}"`` level, dotted for a
            nested field (``("qpu_id", "calibration.qubit")``).
        retained: Whether publishers set the MQTT retain flag.
        qos: MQTT quality of service publishers use (0 or 1).
    """

    kind: TopicKind
    levels: tuple[str, ...]
    message_class: type[Message]
    id_fields: tuple[str, ...]
    retained: bool
    qos: int

    def topic(self, *topic_ids: str | int, prefix: str = DEFAULT_PREFIX) -> str:
        """The topic for one id per id level, under ``prefix``.

        Raises:
            InvalidTopicError: a wrong number of ids, an id that is empty or contains ``/``,
                ``+``, ``#`` or NUL, or a malformed prefix.
        """
        if len(topic_ids) != len(self.id_fields):
            raise InvalidTopicError(f"{self.kind} topics take {len(self.id_fields)} id(s) "
                                    f"({', '.join(self.id_fields)}), got {len(topic_ids)}")
        ids = iter(_checked_id(str(i), f) for i, f in zip(topic_ids, self.id_fields, strict=True))
        levels = [next(ids) if level == "{}" else level for level in self.levels]
        return "/".join([check_prefix(prefix), *levels])

    def filter(self, prefix: str = DEFAULT_PREFIX) -> str:
        """The subscription filter matching every topic of this kind (``+`` for each id)."""
        return "/".join([check_prefix(prefix), *("+" if x == "{}" else x for x in self.levels)])

    @property
    def pattern(self) -> str:
        """The levels after the prefix with named ids: ``qpus/{qpu_id}/status``."""
        names = iter(f.rsplit(".", 1)[-1] for f in self.id_fields)
        return "/".join(f"{{{next(names)}}}" if x == "{}" else x for x in self.levels)


_SPECS = (
    TopicSpec(TopicKind.SERVICE_STATUS, ("services", "{}", "status"),
              telemetry_pb2.ServiceStatus, ("service",), retained=True, qos=1),
    TopicSpec(TopicKind.QPU_STATUS, ("qpus", "{}", "status"), telemetry_pb2.QpuStatusEvent,
              ("qpu_id",), retained=True, qos=1),
    TopicSpec(TopicKind.QPU_CALIBRATION, ("qpus", "{}", "calibration"),
              telemetry_pb2.CalibrationSummaryEvent, ("qpu_id",), retained=True, qos=1),
    TopicSpec(TopicKind.QPU_CALIBRATION_FULL, ("qpus", "{}", "calibration", "full"),
              telemetry_pb2.CalibrationEvent, ("qpu_id",), retained=True, qos=1),
    TopicSpec(TopicKind.QUBIT_CALIBRATION, ("qpus", "{}", "qubits", "{}", "calibration"),
              telemetry_pb2.QubitCalibrationEvent, ("qpu_id", "calibration.qubit"),
              retained=True, qos=1),
    TopicSpec(TopicKind.JOB_STATE, ("jobs", "{}", "state"), telemetry_pb2.JobStateEvent,
              ("job_id",), retained=False, qos=1),
    TopicSpec(TopicKind.SESSION_PROGRESS, ("sessions", "{}", "progress"),
              telemetry_pb2.SessionProgressEvent, ("session_id",), retained=False, qos=0),
    TopicSpec(TopicKind.OPTIMIZATION_PROGRESS, ("optimizations", "{}", "progress"),
              telemetry_pb2.OptimizationProgressEvent, ("run_id",), retained=False, qos=0),
    TopicSpec(TopicKind.FINETUNE_PROGRESS, ("finetunes", "{}", "progress"),
              telemetry_pb2.FineTuneProgressEvent, ("run_id",), retained=False, qos=0),
)

#: The schema, by kind.
SCHEMA: Mapping[TopicKind, TopicSpec] = MappingProxyType({spec.kind: spec for spec in _SPECS})

_BY_MESSAGE = {spec.message_class.DESCRIPTOR.full_name: spec for spec in _SPECS}


class ParsedTopic(NamedTuple):
    """A decoded topic: ``kind, topic_id, message_class = parse_topic(topic)``; ``topic_id``
    joins several ids with ``/`` (``"sc-grid-16/3"`` for qubit 3 of ``sc-grid-16``)."""

    kind: TopicKind
    topic_id: str
    message_class: type[Message]


def check_prefix(prefix: str) -> str:
    """Returns ``prefix`` if it is a valid topic prefix: one or more non-empty levels
    separated by ``/``, no wildcard (``+``, ``#``), no NUL, not starting with ``$`` (reserved
    for broker topics such as ``$SYS``, MQTT 3.1.1 section 4.7.2).

    Raises:
        InvalidTopicError: otherwise.
    """
    if not isinstance(prefix, str) or not prefix:
        raise InvalidTopicError(f"the topic prefix must be a non-empty string, got {prefix!r}")
    levels = prefix.split("/")
    if any(not level for level in levels) or any(c in prefix for c in "+#\x00") \
            or prefix.startswith("$"):
        raise InvalidTopicError(
            f"topic prefix {prefix!r} must be levels separated by '/' (e.g. 'qcore/v1' or "
            "'lab-a/qcore/v1'), with no empty level, no '+', '#' or NUL, not starting with '$'")
    return prefix


def configured_prefix(environ: Mapping[str, str] | None = None) -> str:
    """``QCORE_TOPIC_PREFIX`` from ``environ`` (``os.environ`` by default), else
    :data:`DEFAULT_PREFIX`.

    Raises:
        InvalidTopicError: the variable is set to a malformed prefix.
    """
    env = os.environ if environ is None else environ
    return check_prefix(env.get(PREFIX_ENV_VAR, "").strip() or DEFAULT_PREFIX)


def all_topics(prefix: str = DEFAULT_PREFIX) -> str:
    """The subscription filter matching every topic under ``prefix`` (``qcore/v1/#``)."""
    return f"{check_prefix(prefix)}/#"


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


def service_status_topic(service: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/services/{service}/status``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.SERVICE_STATUS].topic(service, prefix=prefix)


def qpu_status_topic(qpu_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/qpus/{qpu_id}/status``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.QPU_STATUS].topic(qpu_id, prefix=prefix)


def qpu_calibration_topic(qpu_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/qpus/{qpu_id}/calibration`` (the summary). Raises InvalidTopicError."""
    return SCHEMA[TopicKind.QPU_CALIBRATION].topic(qpu_id, prefix=prefix)


def job_state_topic(job_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/jobs/{job_id}/state``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.JOB_STATE].topic(job_id, prefix=prefix)


def session_progress_topic(session_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/sessions/{session_id}/progress``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.SESSION_PROGRESS].topic(session_id, prefix=prefix)


def optimization_progress_topic(run_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/optimizations/{run_id}/progress``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.OPTIMIZATION_PROGRESS].topic(run_id, prefix=prefix)


def finetune_progress_topic(run_id: str, *, prefix: str = DEFAULT_PREFIX) -> str:
    """``{prefix}/finetunes/{run_id}/progress``. Raises InvalidTopicError for a bad id."""
    return SCHEMA[TopicKind.FINETUNE_PROGRESS].topic(run_id, prefix=prefix)


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


def _field_value(message: Message, dotted: str) -> object:
    value: object = message
    for name in dotted.split("."):
        value = getattr(value, name)
    return value


def topic_for(message: Message, *, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic a telemetry message belongs on, from its type and its id fields.

    ``topic_for(JobStateEvent(job_id="j1", ...)) == "qcore/v1/jobs/j1/state"``.

    Raises:
        InvalidPayloadError: ``message`` is not a telemetry message.
        InvalidTopicError: an id field is empty or not a valid topic level, or a bad prefix.
    """
    spec = spec_for(message)
    return spec.topic(*(_field_value(message, f) for f in spec.id_fields), prefix=prefix)


def wildcard(kind: TopicKind, *, prefix: str = DEFAULT_PREFIX) -> str:
    """The subscription filter matching every topic of one kind (``qcore/v1/jobs/+/state``)."""
    return SCHEMA[TopicKind(kind)].filter(prefix)


def parse_topic(topic: str, *, prefix: str = DEFAULT_PREFIX) -> ParsedTopic:
    """Decodes a concrete topic under ``prefix`` into ``(kind, topic_id, message_class)``.

    Raises:
        InvalidTopicError: ``topic`` is not a topic of this schema under ``prefix`` (another
            prefix, unknown levels, wrong number of levels, invalid id).
    """
    head = check_prefix(prefix) + "/"
    if not isinstance(topic, str) or not topic.startswith(head):
        raise InvalidTopicError(f"{topic!r} is not a qcore telemetry topic under {prefix!r}")
    levels = topic[len(head):].split("/")
    for spec in _SPECS:
        if len(spec.levels) == len(levels) and all(
                want == "{}" or want == got for want, got in zip(spec.levels, levels, strict=True)):
            ids = [_checked_id(got, "id") for want, got in zip(spec.levels, levels, strict=True)
                   if want == "{}"]
            return ParsedTopic(spec.kind, "/".join(ids), spec.message_class)
    known = ", ".join(f"{prefix}/{spec.pattern}" for spec in _SPECS)
    raise InvalidTopicError(f"unknown telemetry topic {topic!r}; known topics: {known}")


def check_message(topic: str, message: Message, *, prefix: str = DEFAULT_PREFIX) -> ParsedTopic:
    """Parses ``topic`` and checks that ``message`` is the class it carries.

    Raises:
        InvalidTopicError: ``topic`` is not in the schema.
        InvalidPayloadError: ``message`` is not the topic's message class.
    """
    parsed = parse_topic(topic, prefix=prefix)
    if not isinstance(message, parsed.message_class):
        raise InvalidPayloadError(
            f"topic {topic!r} carries {parsed.message_class.__name__}, "
            f"got {type(message).__name__}"
        )
    return parsed
