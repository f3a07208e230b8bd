"""Compatibility re-exports: the driver interface lives in :mod:`quantum_service.contract`.

Import from :mod:`quantum_service.contract` in new code; this module keeps
``quantum_service.drivers.base`` imports of third-party drivers working.
"""

from __future__ import annotations

from quantum_service.contract import (
    ExecutionOptions,
    ExecutionResult,
    Modality,
    NativeGateInfo,
    PreparedProgram,
    QpuCapabilities,
    QpuDriver,
)

__all__ = [
    "Modality",
    "NativeGateInfo",
    "QpuCapabilities",
    "ExecutionOptions",
    "ExecutionResult",
    "PreparedProgram",
    "QpuDriver",
]
