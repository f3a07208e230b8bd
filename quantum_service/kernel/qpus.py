"""The QPU registry.

Holds one driver per QPU, tracks how many jobs each has queued or running and how many sessions
hold a lease on it. Placement of work that names no QPU is in
:mod:`quantum_service.kernel.placement`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from quantum_service.drivers.base import QpuDriver
from quantum_service.errors import NotFoundError, ResourceExhaustedError

__all__ = ["QpuRegistry", "QpuSlot"]


@dataclass(slots=True)
class QpuSlot:
    driver: QpuDriver
    queue_length: int = 0
    session_count: int = 0


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

    def acquire_lease(self, slot: QpuSlot) -> None:
        """Takes a session lease on ``slot``'s QPU.

        Raises:
            ResourceExhaustedError: the QPU already grants ``max_sessions_per_qpu`` leases.
        """
        if slot.session_count >= self.max_sessions_per_qpu:
            raise ResourceExhaustedError(
                f"QPU {slot.driver.capabilities.qpu_id!r} already has "
                f"{slot.session_count} open sessions (the limit); close one or choose another "
                f"QPU", reason="SESSION_LIMIT")
        slot.session_count += 1

    def release_lease(self, slot: QpuSlot) -> None:
        slot.session_count = max(0, slot.session_count - 1)
