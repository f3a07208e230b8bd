"""JSON Schemas (draft 2020-12) of the telemetry payloads, derived from ``telemetry.proto``.

One schema per payload type, ``broker/schemas/{MessageName}.schema.json``, describing the JSON
:mod:`broker.payloads` writes: every field required; strings, enums (by value name), int32 and
int64 as ``integer``; double as ``number`` or ``null`` (not a number); bool; Timestamps as
RFC 3339 ``date-time`` strings or ``null`` when unset (the top-level ``time``, which publishers
always set, never null); nested messages and maps as objects;
repeated fields as arrays. ``additionalProperties`` is false, so a schema goes stale (and its
test fails) when a field is added without regenerating it::

    python -m broker.json_schema        # rewrites broker/schemas/*.schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from broker.topics import SCHEMA

__all__ = ["SCHEMA_DIR", "schema_for", "schema_path", "render", "main"]

#: Where the generated schemas are committed.
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ID_BASE = "https://qcore.dev/schemas/telemetry/v1/"

_INTEGER = frozenset({FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32,
                      FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_UINT32,
                      FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_INT64,
                      FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED64,
                      FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_FIXED64})
_FLOAT = frozenset({FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT})


def _value_schema(field: FieldDescriptor, defs: dict[str, Any]) -> dict[str, Any]:
    if field.type in _INTEGER:
        return {"type": "integer"}
    if field.type in _FLOAT:
        return {"type": ["number", "null"]}
    if field.type == FieldDescriptor.TYPE_BOOL:
        return {"type": "boolean"}
    if field.type == FieldDescriptor.TYPE_STRING:
        return {"type": "string"}
    if field.type == FieldDescriptor.TYPE_ENUM:
        return {"enum": [value.name for value in field.enum_type.values]}
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        message = field.message_type
        if message.full_name == "google.protobuf.Timestamp":
            return {"type": ["string", "null"], "format": "date-time"}
        if message.name not in defs:
            defs[message.name] = {}  # placeholder against recursion
            defs[message.name] = _object_schema(message, defs)
        return {"anyOf": [{"$ref": f"#/$defs/{message.name}"}, {"type": "null"}]}
    raise ValueError(f"field {field.full_name}: unsupported type {field.type}")


def _field_schema(field: FieldDescriptor, defs: dict[str, Any]) -> dict[str, Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _value_schema(value, defs)}
    if field.is_repeated:
        item = _value_schema(field, defs)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            item = item["anyOf"][0]  # list entries are never null
        return {"type": "array", "items": item}
    return _value_schema(field, defs)


def _object_schema(descriptor: Descriptor, defs: dict[str, Any]) -> dict[str, Any]:
    fields = sorted(descriptor.fields, key=lambda f: f.number)
    return {
        "type": "object",
        "properties": {f.json_name: _field_schema(f, defs) for f in fields},
        "required": [f.json_name for f in fields],
        "additionalProperties": False,
    }


def schema_for(descriptor: Descriptor) -> dict[str, Any]:
    """The JSON Schema of the payload whose message is ``descriptor``."""
    defs: dict[str, Any] = {}
    body = _object_schema(descriptor, defs)
    # Publishers stamp every message with its time (TelemetryPublisher.publish): never null.
    body["properties"]["time"] = {"type": "string", "format": "date-time"}
    spec = next(s for s in SCHEMA.values() if s.message_class.DESCRIPTOR is descriptor)
    schema: dict[str, Any] = {
        "$schema": _DIALECT,
        "$id": f"{_ID_BASE}{descriptor.name}.schema.json",
        "title": descriptor.name,
        "description": f"qcore telemetry payload {descriptor.full_name} on "
                       f"{{prefix}}/{spec.pattern} ({'retained, ' if spec.retained else ''}"
                       f"QoS {spec.qos}); generated from protos/qcore/v1/telemetry.proto by "
                       "python -m broker.json_schema.",
        **body,
    }
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def schema_path(descriptor: Descriptor) -> Path:
    """``broker/schemas/{MessageName}.schema.json``."""
    return SCHEMA_DIR / f"{descriptor.name}.schema.json"


def render(descriptor: Descriptor) -> str:
    """The committed text of ``descriptor``'s schema (2-space indented JSON, final newline)."""
    return json.dumps(schema_for(descriptor), indent=2) + "\n"


def main() -> int:
    """Writes every payload type's schema into :data:`SCHEMA_DIR`; returns 0."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    for spec in SCHEMA.values():
        descriptor = spec.message_class.DESCRIPTOR
        schema_path(descriptor).write_text(render(descriptor), encoding="utf-8")
        print(schema_path(descriptor).relative_to(SCHEMA_DIR.parent.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
