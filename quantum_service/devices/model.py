"""Compatibility re-exports: device parameters and calibration snapshots live in
:mod:`quantum_service.contract.parameters`; import them from there in new code."""

from __future__ import annotations

from quantum_service.contract.parameters import (
    CalibrationSnapshot,
    DeviceParameters,
    PairParameters,
    QubitParameters,
)

__all__ = ["QubitParameters", "PairParameters", "DeviceParameters", "CalibrationSnapshot"]
