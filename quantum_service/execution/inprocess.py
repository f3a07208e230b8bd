"""The default executor: simulation in the calling thread of the service process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from quantum_service.contract import ExecutionCancelled, MappedBatch, SharedProgram

__all__ = ["InProcessExecutor", "run_in_process"]

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound=SharedProgram)


class InProcessExecutor:
    """Runs every batch in the calling thread (a QPU's execution lane), asking
    ``should_stop`` before each item (each parameter set), as the driver contract says."""

    @property
    def name(self) -> str:
        return "in-process"

    def map(self, fn: Callable[[S, Sequence[T]], list[R]], program: S, items: Sequence[T], *,
            item_cost_s: float, should_stop: Callable[[], bool] | None = None
            ) -> MappedBatch[R]:
        """See :meth:`quantum_service.contract.Executor.map` (``item_cost_s`` is not needed
        here)."""
        return run_in_process(fn, program, items, should_stop=should_stop, where="in-process")

    def close(self) -> None:
        """Nothing to release."""


def run_in_process(fn: Callable[[S, Sequence[T]], list[R]], program: S, items: Sequence[T], *,
                   should_stop: Callable[[], bool] | None, where: str) -> MappedBatch[R]:
    """Runs ``fn`` over ``items`` here, one item at a time after a ``should_stop`` check (all
    at once without ``should_stop``); ``where`` is recorded on the batch.

    Raises:
        ExecutionCancelled: ``should_stop`` returned ``True`` before an item.
    """
    if should_stop is None:
        return MappedBatch(fn(program, items), where, 1 if items else 0)
    results: list[R] = []
    for start in range(len(items)):
        if should_stop():
            raise ExecutionCancelled("execution stopped on request")
        results.extend(fn(program, items[start:start + 1]))
    return MappedBatch(results, where, len(items))
