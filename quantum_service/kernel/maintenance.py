"""Maintenance between jobs (calibration) and the ``CALIBRATING`` status of a QPU.

A QPU's worker asks its :class:`Maintenance` hook between jobs whether work is due
(:meth:`Maintenance.is_due`, cheap) and, when it is, awaits :meth:`Maintenance.maintain` with
the QPU ``CALIBRATING``. :class:`~quantum_service.calibration.manager.CalibrationManager` is such
a hook; :class:`EveryJob` turns any coroutine function into one that is due before every job.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from quantum_service.kernel.events import KernelEvents
from quantum_service.kernel.qpus import QpuSlot

__all__ = ["EveryJob", "Maintenance", "calibrating"]


class Maintenance(Protocol):
    """Work a QPU's worker runs between jobs."""

    def is_due(self, slot: QpuSlot) -> bool:
        """Whether :meth:`maintain` has work on ``slot`` now (cheap; runs nothing)."""

    async def maintain(self, slot: QpuSlot) -> None:
        """Does the due work on ``slot`` (the QPU is ``CALIBRATING`` meanwhile)."""


class EveryJob:
    """A :class:`Maintenance` that awaits ``hook(slot)`` before every job."""

    def __init__(self, hook: Callable[[QpuSlot], Awaitable[None]]) -> None:
        self.hook = hook

    def is_due(self, slot: QpuSlot) -> bool:
        return True

    async def maintain(self, slot: QpuSlot) -> None:
        await self.hook(slot)


@contextlib.asynccontextmanager
async def calibrating(slot: QpuSlot, events: KernelEvents) -> AsyncIterator[None]:
    """Marks ``slot``'s QPU ``CALIBRATING`` for the duration of the block.

    Publishes a ``QpuStatusEvent`` with ``CALIBRATING`` when the first calibration on the QPU
    starts and with ``ONLINE`` when the last one ends, also when it raises or is cancelled
    (calibrations may overlap: maintenance and a ``Calibrate`` call).
    """
    slot.calibrations += 1
    if slot.calibrations == 1:
        events.publish_qpu_status(slot)
    try:
        yield
    finally:
        slot.calibrations -= 1
        if slot.calibrations == 0:
            events.publish_qpu_status(slot)
