"""The generated ``qcore.v1`` stubs match their .proto files (run ``make protos`` if not)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest

grpc_tools = pytest.importorskip("grpc_tools")
from grpc_tools import protoc  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = ROOT / "protos"


def test_generated_stubs_are_up_to_date(tmp_path: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in (PROTO_DIR / "qcore/v1").glob("*.proto"))
    assert protos, "no .proto files found"
    include = str(importlib.resources.files("grpc_tools") / "_proto")
    status = protoc.main(["grpc_tools.protoc", f"-I{PROTO_DIR}", f"-I{include}",
                          f"--python_out={tmp_path}", f"--pyi_out={tmp_path}",
                          f"--grpc_python_out={tmp_path}", *protos])
    assert status == 0
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*.py*"))
    assert generated
    stale = [str(rel) for rel in generated
             if (PROTO_DIR / rel).read_bytes() != (tmp_path / rel).read_bytes()]
    assert not stale, f"generated stubs are out of date: {stale}; run `make protos`"


def test_stubs_import_as_qcore_v1() -> None:
    from qcore.v1 import (  # noqa: F401
        classical_service_pb2_grpc,
        common_pb2,
        quantum_service_pb2_grpc,
        telemetry_pb2,
    )

    assert common_pb2.DESCRIPTOR.package == "qcore.v1"
