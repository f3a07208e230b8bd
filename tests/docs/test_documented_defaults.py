"""The defaults README.md documents: the ports of ``make services``, where the SDK connects, what a
taken port does, and the configuration tables against the services' settings classes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from classical_service.config import ClassicalSettings
from qcore_client.client import ClassicalClient, QuantumClient
from qcore_client.launcher import LocalStack, free_port
from quantum_service.config import QuantumSettings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
_ROW = re.compile(r"^\| `(?P<variable>QCORE_[A-Z_]+)` \| (?P<default>[^|]+) \|", re.MULTILINE)
_PORT_VARIABLES = ("QCORE_QUANTUM_PORT", "QCORE_CLASSICAL_PORT")
_ADDRESS_VARIABLES = ("QCORE_QUANTUM_ADDRESS", "QCORE_CLASSICAL_ADDRESS")


def _documented() -> dict[str, str]:
    """``variable -> default`` of the README's configuration tables (backticks removed)."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    section = section.split("\n## ", 1)[0]
    return {m["variable"]: m["default"].strip().strip("`") for m in _ROW.finditer(section)}


def _rendered(value: object) -> str:
    """A settings default written as the README writes it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


@pytest.mark.parametrize("settings", [QuantumSettings, ClassicalSettings])
def test_configuration_table_lists_every_setting_with_its_default(settings: type[BaseSettings]):
    documented = _documented()
    prefix = settings.model_config["env_prefix"]
    for name, field in settings.model_fields.items():
        variable = field.validation_alias or f"{prefix}{name.upper()}"
        assert variable in documented, f"README's configuration table lacks {variable}"
        default = field.get_default(call_default_factory=True)
        assert documented[variable] == _rendered(default), variable


def test_make_services_ports_default_to_50051_50052_and_follow_the_variables(monkeypatch):
    for variable in _PORT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    stack = LocalStack.on_configured_ports()
    assert (stack.quantum_port, stack.classical_port) == (50051, 50052)
    monkeypatch.setenv("QCORE_QUANTUM_PORT", "6001")
    monkeypatch.setenv("QCORE_CLASSICAL_PORT", "6002")
    stack = LocalStack.on_configured_ports()
    assert (stack.quantum_port, stack.classical_port) == (6001, 6002)
    assert (LocalStack().quantum_port, LocalStack().classical_port) == (0, 0)  # make run


def test_sdk_clients_connect_to_the_address_variables_else_the_default_ports(monkeypatch):
    for variable in _ADDRESS_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    with QuantumClient() as qc, ClassicalClient() as cc:
        assert (qc.address, cc.address) == ("127.0.0.1:50051", "127.0.0.1:50052")
    monkeypatch.setenv("QCORE_QUANTUM_ADDRESS", "127.0.0.1:7001")
    monkeypatch.setenv("QCORE_CLASSICAL_ADDRESS", "127.0.0.1:7002")
    with QuantumClient() as qc, ClassicalClient() as cc:
        assert (qc.address, cc.address) == ("127.0.0.1:7001", "127.0.0.1:7002")
    with QuantumClient("127.0.0.1:7003") as qc:
        assert qc.address == "127.0.0.1:7003"


@pytest.mark.parametrize("taken", _PORT_VARIABLES)
def test_a_taken_port_stops_make_services_with_one_line_naming_the_variable(taken, tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        other = next(v for v in _PORT_VARIABLES if v != taken)
        env = {**os.environ, taken: str(port), other: str(free_port()),
               "QCORE_MQTT_URL": "mqtt://127.0.0.1:1",  # never reached: ports are checked first
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "protos"),
                                              str(ROOT / "clients" / "python"),
                                              os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run([sys.executable, "-m", "qcore_client.mainjob", "--services-only"],
                                env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and f"set {taken} to a free port" in lines[0]
    assert not (tmp_path / "var" / "quantum_service.log").exists()  # nothing was started
