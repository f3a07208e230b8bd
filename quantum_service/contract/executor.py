"""Where a driver's pure simulation work runs: the executor interface.

Part of the driver contract (:mod:`quantum_service.contract`). A driver splits a batch into
*items* (parameter sets, shot blocks of one parameter set) whose results are pure functions of
the item and of one shared, read-only program; an :class:`Executor` decides where they run —
in the service process, or on Dask workers — and how many items make one task. Device state
(drift clock, device time, calibration) never leaves the driver: only the program and the items
do.

Determinism: every item carries everything its result depends on (its own random stream's
seed and index), so the grouping of items into tasks and the number of workers never change a
result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

__all__ = ["Executor", "MappedBatch", "SharedProgram"]

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound="SharedProgram")


class SharedProgram(Protocol):
    """The read-only program every item of a batch needs, shipped to a worker once.

    ``content_key`` names its content (e.g. a SHA-256 of its pickled form): two programs with
    the same key are interchangeable, so a worker that already holds one reuses it and
    whatever it built from it (fusion plans)."""

    @property
    def content_key(self) -> str: ...


@dataclass(frozen=True, slots=True)
class MappedBatch(Generic[R]):
    """The results of :meth:`Executor.map`, in item order.

    Attributes:
        results: one result per item.
        where: where the items ran, one phrase a user can read (``"in-process"``,
            ``"dask: 2 workers, 4 tasks"``, ``"in-process fallback: ..."``).
        tasks: how many tasks the items were grouped into.
    """

    results: list[R]
    where: str
    tasks: int


class Executor(Protocol):
    """Runs pure batch functions over items (see the module docstring).

    ``fn(program, items)`` must return one result per item, each depending only on
    ``program`` and that item (not on the other items of the group), and must be a
    module-level function (it is pickled by reference).
    """

    @property
    def name(self) -> str:
        """``"in-process"`` or ``"dask"``."""
        ...

    def map(self, fn: Callable[[S, Sequence[T]], list[R]], program: S, items: Sequence[T], *,
            item_cost_s: float, should_stop: Callable[[], bool] | None = None
            ) -> MappedBatch[R]:
        """Runs ``fn`` over ``items`` in groups and returns the results in item order.

        Args:
            fn: the pure batch function.
            program: the shared program (shipped once per worker, keyed by content).
            items: the work items.
            item_cost_s: estimated compute seconds of one item (sizes the tasks; an executor
                may refine it with measured times).
            should_stop: asked between groups; ``True`` stops the batch.
        Raises:
            ExecutionCancelled: ``should_stop`` returned ``True``.
            QcoreError: raised by ``fn`` (the item is invalid), unchanged.
        """
        ...

    def close(self) -> None:
        """Releases workers and connections (idempotent)."""
        ...
