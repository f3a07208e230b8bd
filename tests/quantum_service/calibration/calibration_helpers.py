"""Helpers shared by the calibration tests."""

from __future__ import annotations

from types import SimpleNamespace

from quantum_service.calibration.experiments import ExperimentSettings
from quantum_service.contract import CalibrationSnapshot, DeviceParameters, QpuCapabilities
from quantum_service.drivers.simulated import SimulatedQpuDriver


def miscalibrated_driver(true: DeviceParameters, believed: DeviceParameters,
                         caps: QpuCapabilities) -> SimulatedQpuDriver:
    """A non-drifting driver whose true parameters are ``true`` and whose installed snapshot
    holds ``believed``."""
    driver = SimulatedQpuDriver(caps, true, drift=False)
    driver.install_snapshot(CalibrationSnapshot.create(caps.qpu_id, believed))
    return driver


def slot_of(driver: SimulatedQpuDriver) -> SimpleNamespace:
    """What the kernel hands the manager: an object with ``.driver``."""
    return SimpleNamespace(driver=driver)


#: Shorter RB/XEB sweeps than the defaults, for fast tests of the manager (not of the fits).
FAST = ExperimentSettings(rb_lengths=(1, 40, 120), rb_sequences=2, xeb_cycles=(1, 5, 10),
                          xeb_circuits=2)
