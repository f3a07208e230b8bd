"""The QPU registry.

Holds one driver per QPU, tracks how many jobs each has queued or running, how many sessions
hold a lease on it and whether it is calibrating, and describes what it supports
(:func:`qpu_supports`, :func:`qpu_properties`). Placement of work that names no QPU is in
:mod:`quantum_service.kernel.placement`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from quantum_service.contract import (
    DYNAMICAL_DECOUPLING,
    PAULI_TWIRLING,
    POST_SELECTION,
    ZERO_NOISE_EXTRAPOLATION,
    QpuDriver,
)
from quantum_service.errors import NotFoundError, ResourceExhaustedError

__all__ = ["QpuRegistry", "QpuSlot", "QpuStatus", "qpu_properties", "qpu_supports"]


class QpuStatus(IntEnum):
    """Mirrors ``qcore.v1.QpuStatus`` (same numeric values)."""

    ONLINE = 1
    CALIBRATING = 2
    OFFLINE = 3


@dataclass(slots=True)
class QpuSlot:
    """One QPU as the kernel tracks it.

    Attributes:
        driver: the QPU's driver.
        queue_length: jobs queued or running on it.
        session_count: session leases it grants now.
        calibrations: calibrations running on it now (maintenance between jobs and
            ``Calibrate`` calls; they may overlap).
    """

    driver: QpuDriver
    queue_length: int = 0
    session_count: int = 0
    calibrations: int = 0

    @property
    def status(self) -> QpuStatus:
        """``CALIBRATING`` while a calibration runs on the QPU, else ``ONLINE``."""
        return QpuStatus.CALIBRATING if self.calibrations > 0 else QpuStatus.ONLINE


#: Flags every QPU gets unless its driver declares otherwise: parameter-shift gradients and
#: readout mitigation are options of the driver interface
#: (:class:`~quantum_service.contract.ExecutionOptions`); mid-circuit measurement (dynamic
#: circuits) follows :attr:`QpuCapabilities.dynamic_circuits`; post-selection (discarded shots)
#: and circuit-level error mitigation must be declared by a driver that offers them.
_DEFAULT_SUPPORTS: dict[str, bool] = {
    "gradients": True,
    "readout_mitigation": True,
    "mid_circuit_measurement": False,
    POST_SELECTION: False,
    ZERO_NOISE_EXTRAPOLATION: False,
    PAULI_TWIRLING: False,
    DYNAMICAL_DECOUPLING: False,
}


def qpu_supports(driver: QpuDriver, *, multi_programming: bool, calibration: bool
                 ) -> dict[str, bool]:
    """Capability flags of a QPU (``QpuDescription.supports``).

    The interface defaults (``gradients``, ``readout_mitigation``, ``post_selection``, and
    ``mid_circuit_measurement`` = ``capabilities.dynamic_circuits``), overridden by what the
    driver declares in :attr:`~quantum_service.contract.driver.QpuDriver.supports` (e.g.
    ``heralded_two_qubit_gates``, ``atom_loss``), then the kernel's own facts, which no driver
    overrides: ``adjoint_gradients`` (exact, noiseless evaluation only),
    ``multi_programming`` and ``calibration`` (kept calibrated by the service).

    Args:
        driver: the QPU's driver.
        multi_programming: the kernel packs several jobs onto disjoint qubits of this QPU.
        calibration: the service calibrates this QPU (schedule, drift, ``Calibrate``).
    """
    flags = dict(_DEFAULT_SUPPORTS)
    flags["mid_circuit_measurement"] = driver.capabilities.dynamic_circuits
    flags.update({str(k): bool(v) for k, v in driver.supports.items()})
    flags["adjoint_gradients"] = not driver.capabilities.noisy
    flags["multi_programming"] = multi_programming
    flags["calibration"] = calibration
    return flags


def qpu_properties(driver: QpuDriver) -> dict[str, float]:
    """Numbers describing a QPU (``QpuDescription.properties``): ``max_simulated_qubits``
    (most active qubits one circuit may touch), ``feed_forward_latency_ns`` on a QPU that runs
    dynamic circuits, and the modality-specific numbers its driver
    declares in :attr:`~quantum_service.contract.driver.QpuDriver.properties` (e.g.
    ``blockade_radius_um``, ``two_qubit_herald_success``); non-finite values are left out."""
    values = {"max_simulated_qubits": float(driver.capabilities.max_simulated_qubits)}
    if driver.capabilities.dynamic_circuits:
        values["feed_forward_latency_ns"] = driver.capabilities.feed_forward_latency_ns
    values.update({str(k): float(v) for k, v in driver.properties.items()})
    return {k: v for k, v in values.items() if math.isfinite(v)}


class QpuRegistry:
    """The QPUs the kernel owns.

    Args:
        drivers: one per QPU; ids must be unique.
        max_sessions_per_qpu: leases a QPU grants at once.
    """

    def __init__(self, drivers: Iterable[QpuDriver], *, max_sessions_per_qpu: int = 8) -> None:
        self._slots: dict[str, QpuSlot] = {}
        for driver in drivers:
            qpu_id = driver.capabilities.qpu_id
            if qpu_id in self._slots:
                raise ValueError(f"duplicate qpu_id {qpu_id!r}")
            self._slots[qpu_id] = QpuSlot(driver)
        self.max_sessions_per_qpu = max_sessions_per_qpu

    def __iter__(self):
        return iter(self._slots.values())

    def get(self, qpu_id: str) -> QpuSlot:
        """Raises NotFoundError (listing the known ids) for an unknown QPU."""
        try:
            return self._slots[qpu_id]
        except KeyError:
            raise NotFoundError(
                f"unknown qpu_id {qpu_id!r}; known QPUs: {', '.join(self._slots)}",
                reason="QPU_NOT_FOUND") from None

    def has_free_lease(self, slot: QpuSlot) -> bool:
        """Whether ``slot``'s QPU grants fewer than ``max_sessions_per_qpu`` leases now."""
        return slot.session_count < self.max_sessions_per_qpu

    def acquire_lease(self, slot: QpuSlot) -> None:
        """Takes a session lease on ``slot``'s QPU.

        Raises:
            ResourceExhaustedError: the QPU already grants ``max_sessions_per_qpu`` leases.
        """
        if not self.has_free_lease(slot):
            raise ResourceExhaustedError(
                f"QPU {slot.driver.capabilities.qpu_id!r} already has "
                f"{slot.session_count} open sessions (the limit); close one or choose another "
                f"QPU", reason="SESSION_LIMIT")
        slot.session_count += 1

    def release_lease(self, slot: QpuSlot) -> None:
        slot.session_count = max(0, slot.session_count - 1)
