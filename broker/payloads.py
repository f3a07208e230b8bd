"""Telemetry payloads as JSON that stock tools (Telegraf, Grafana, Node-RED, jq) read as is.

The encoding is protobuf's proto3 JSON mapping (``google.protobuf.json_format``:
lowerCamelCase field names, enums by name, Timestamps as RFC 3339 strings in UTC) with three
changes, so no consumer needs a transform:

* every field is present: fields at their zero value too (``"qubit": 0``, ``"queueLength": 0``,
  ``"errorMessage": ""``), and an unset message field (a Timestamp not set) as ``null``;
* 64-bit integers are JSON numbers (``"evaluationCount": 9``), not strings; telemetry counters
  stay far below 2**53, where every JSON reader keeps them exact (RFC 8259, section 6);
* a float that is not a number (NaN, ±Infinity) is ``null`` (RFC 8259 has no NaN).

:func:`decode` reads this form back (``null`` in a float field becomes NaN), and also the plain
proto3 JSON of earlier publishers. The JSON Schema of each payload is in ``broker/schemas/``
(:mod:`broker.json_schema`).
"""

from __future__ import annotations

import json
import math
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from broker.errors import InvalidPayloadError
from broker.topics import DEFAULT_PREFIX, parse_topic, spec_for

__all__ = ["to_json_dict", "encode", "decode"]

_INT64 = frozenset({FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT64,
                    FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_UINT64,
                    FieldDescriptor.TYPE_FIXED64})
_FLOAT = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})
_WELL_KNOWN = "google.protobuf."  # Timestamp, Duration...: strings in the JSON mapping


def _is_map(field: FieldDescriptor) -> bool:
    return (field.type == FieldDescriptor.TYPE_MESSAGE
            and field.message_type.GetOptions().map_entry)


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _scalar_out(field: FieldDescriptor, value: Any) -> Any:
    if field.type in _INT64:
        return int(value)
    if field.type in _FLOAT:
        number = float(value)  # json_format writes "NaN", "Infinity", "-Infinity" as strings
        return number if math.isfinite(number) else None
    return value


def _fix_out(descriptor: Descriptor, data: dict[str, Any]) -> dict[str, Any]:
    """``MessageToDict`` output rewritten: int64 as int, non-finite as None, unset message
    fields as None, keys in field-number order."""
    out: dict[str, Any] = {}
    for field in sorted(descriptor.fields, key=lambda f: f.number):
        key = field.json_name
        value = data.get(key)
        if value is None:  # a message field with presence, unset
            out[key] = None
        elif _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            out[key] = {k: _value_out(value_field, v) for k, v in value.items()}
        elif _is_repeated(field):
            out[key] = [_value_out(field, v) for v in value]
        else:
            out[key] = _value_out(field, value)
    return out


def _value_out(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name.startswith(_WELL_KNOWN):
            return value
        return _fix_out(field.message_type, value)
    return _scalar_out(field, value)


def to_json_dict(message: Message) -> dict[str, Any]:
    """The JSON object of ``message`` described in the module docstring (any proto message).

    Returns:
        A dict of JSON values: str, int, float (finite), bool, None, lists and dicts.
    """
    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    return _fix_out(message.DESCRIPTOR, data)


def encode(message: Message) -> bytes:
    """Serialises a telemetry message to its MQTT payload: compact JSON, UTF-8.

    Returns:
        e.g. ``{"jobId": "j1", "state": "JOB_STATE_RUNNING", "qpuId": "", ...}``.
    Raises:
        InvalidPayloadError: ``message`` is not a telemetry message.
    """
    spec_for(message)
    text = json.dumps(to_json_dict(message), separators=(",", ":"), allow_nan=False,
                      ensure_ascii=False)
    return text.encode("utf-8")


def _fix_in(descriptor: Descriptor, data: Any) -> Any:
    """Undoes what json_format.Parse would not read: null in a float field means NaN."""
    if not isinstance(data, dict):
        return data
    for field in descriptor.fields:
        key = field.json_name if field.json_name in data else field.name
        if key not in data:
            continue
        value = data[key]
        if value is None:
            if field.type in _FLOAT and not _is_repeated(field):
                data[key] = "NaN"
            else:
                del data[key]  # an unset message field
        elif _is_map(field):
            value_field = field.message_type.fields_by_name["value"]
            if isinstance(value, dict):
                data[key] = {k: _value_in(value_field, v) for k, v in value.items()}
        elif _is_repeated(field) and isinstance(value, list):
            data[key] = [_value_in(field, v) for v in value]
        else:
            data[key] = _value_in(field, value)
    return data


def _value_in(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name.startswith(_WELL_KNOWN):
            return value
        return _fix_in(field.message_type, value)
    if value is None and field.type in _FLOAT:
        return "NaN"
    return value


def decode(topic: str, payload: bytes | bytearray | str, *,
           prefix: str = DEFAULT_PREFIX) -> Message:
    """Parses a payload received on ``topic`` (under ``prefix``) into the topic's message class.

    Unknown JSON fields and unknown enum value names are ignored (a newer v1 publisher may
    add them); an unknown enum value decodes as the enum's ``*_UNSPECIFIED`` zero value;
    ``null`` in a float field decodes as NaN.

    Raises:
        InvalidTopicError: ``topic`` is not in the schema.
        InvalidPayloadError: the payload is empty (a cleared retained topic), not UTF-8, or not
            the JSON form of the topic's message class.
    """
    parsed = parse_topic(topic, prefix=prefix)
    if not payload:
        raise InvalidPayloadError(f"empty payload on {topic!r} (a cleared retained message)")
    try:
        text = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) else payload
        data = _fix_in(parsed.message_class.DESCRIPTOR, json.loads(text))
        return json_format.ParseDict(data, parsed.message_class(), ignore_unknown_fields=True)
    except (UnicodeDecodeError, ValueError, json_format.ParseError) as exc:
        raise InvalidPayloadError(
            f"payload on {topic!r} is not a JSON {parsed.message_class.__name__}: {exc}"
        ) from None
