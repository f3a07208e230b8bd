"""The shipped Telegraf config and Grafana dashboard against the real topics and payloads: the
Telegraf config parses as TOML, consumes the topics of the schema, and reads only JSON
paths the payload schemas define; the dashboard parses and queries only measurements, fields and
tags that config produces."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import aiomqtt

from broker.json_schema import schema_path
from broker.topics import SCHEMA, TopicKind

MONITORING = Path(__file__).resolve().parents[2] / "broker" / "monitoring"


def _consumers() -> list[dict[str, Any]]:
    config = tomllib.loads((MONITORING / "telegraf.conf").read_text(encoding="utf-8"))
    return config["inputs"]["mqtt_consumer"]


def _schema_has(schema: dict[str, Any], path: str) -> bool:
    """Whether the dotted JSON ``path`` names a property in ``schema`` (following $refs)."""
    node = schema
    for key in path.split("."):
        while "properties" not in node:
            refs = [o["$ref"] for o in node.get("anyOf", []) if "$ref" in o]
            if not refs:
                return False
            node = schema["$defs"][refs[0].rsplit("/", 1)[-1]]
        if key not in node["properties"]:
            return False
        node = node["properties"][key]
    return True


def _produced() -> dict[str, tuple[set[str], set[str]]]:
    """``measurement -> (fields, tags)`` the Telegraf config writes."""
    produced = {}
    for consumer in _consumers():
        parser = consumer["json_v2"][0]
        fields = {f["rename"] for f in parser.get("field", [])}
        tags = {t["rename"] for t in parser.get("tag", [])}
        for parsing in consumer.get("topic_parsing", []):
            tags |= {t for t in parsing["tags"].split("/") if t != "_"}
        produced[consumer["name_override"]] = (fields, tags)
    return produced


def test_telegraf_consumes_every_topic_of_the_schema_and_reads_existing_fields() -> None:
    consumers = _consumers()
    by_topic = {c["topics"][0]: c for c in consumers}
    assert all(len(c["topics"]) == 1 for c in consumers)
    # Every topic but the full calibration snapshot (nested arrays; the summary and the
    # per-qubit topics carry its numbers one level deep).
    specs = [spec for spec in SCHEMA.values() if spec.kind is not TopicKind.QPU_CALIBRATION_FULL]
    assert set(by_topic) == {spec.filter() for spec in specs}
    for spec in specs:
        consumer = by_topic[spec.filter()]
        schema = json.loads(schema_path(spec.message_class.DESCRIPTOR).read_text())
        assert consumer["data_format"] == "json_v2"
        assert consumer["qos"] == 1
        parser = consumer["json_v2"][0]
        assert parser["timestamp_path"] == "time" and _schema_has(schema, "time")
        paths = [f["path"] for f in parser.get("field", [])] + [
            t["path"] for t in parser.get("tag", [])]
        assert paths, spec.kind
        for path in paths:
            assert _schema_has(schema, path), f"{spec.kind}: no {path!r} in {schema['title']}"
        for field in parser.get("field", []):
            kind = schema  # the JSON type the schema gives agrees with the Telegraf type
            for key in field["path"].split("."):
                kind = kind["properties"][key] if "properties" in kind else schema["$defs"][
                    kind["anyOf"][0]["$ref"].rsplit("/", 1)[-1]]["properties"][key]
            expected = {"int": "integer", "float": "number", "bool": "boolean",
                        "string": "string"}[field["type"]]
            types = kind.get("type", [])
            assert expected in (types if isinstance(types, list) else [types]), field
        for parsing in consumer.get("topic_parsing", []):
            assert parsing["topic"] == spec.filter()
            levels = parsing["tags"].split("/")
            example = spec.topic(*(f"id{i}" for i in range(len(spec.id_fields))))
            assert aiomqtt.Topic(example).matches(parsing["topic"])
            assert len(levels) == len(example.split("/"))
            # tags sit exactly on the id levels
            ids = [i for i, level in enumerate(parsing["topic"].split("/")) if level == "+"]
            assert [i for i, tag in enumerate(levels) if tag != "_"] == ids


_FROM = re.compile(r'FROM "(?P<measurement>\w+)"')
_SELECTED = re.compile(r'\w+\("(?P<field>\w+)"\)')
_TAGS = re.compile(r'"(?P<tag>\w+)"\s*(?:=~|,|\s+fill|$)')


def test_grafana_dashboard_queries_only_what_telegraf_writes() -> None:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    produced = _produced()
    queries = [target["query"] for panel in dashboard["panels"] for target in panel["targets"]]
    queries += [v["query"] for v in dashboard["templating"]["list"]]
    assert len(dashboard["panels"]) >= 10
    measurements_used = set()
    for query in queries:
        measurement = _FROM.search(query)["measurement"]
        assert measurement in produced, query
        measurements_used.add(measurement)
        fields, tags = produced[measurement]
        select, _, rest = query.partition(" FROM ")
        for match in _SELECTED.finditer(select):
            assert match["field"] in fields, (match["field"], query)
        for match in _TAGS.finditer(rest.replace(f'"{measurement}"', "")):
            assert match["tag"] in tags, (match["tag"], query)
        for key in re.findall(r'WITH KEY = "(\w+)"', query):
            assert key in tags, query
    # QPUs, calibration per QPU and per qubit, jobs and hybrid loops all have a panel.
    assert {"qcore_qpu_status", "qcore_calibration", "qcore_qubit_calibration",
            "qcore_job_state", "qcore_optimization_progress"} <= measurements_used
