"""Where the kernel's blocking work runs: an admission pool and one execution lane per QPU.

* **Admission** (parsing QASM, placement, compiling) runs on a pool of its own that never
  runs a simulation, so ``SubmitJob``, ``OpenSession`` and every other RPC are answered
  while simulations run.
* **Execution lanes**: each QPU has a pool of ``lane_workers`` threads of its own for its jobs'
  chunks, its session evaluations and its calibration experiments. A long job on one QPU
  occupies only that QPU's lane; other QPUs' jobs and sessions never queue behind it.

The simulator's numba kernels release the GIL, so lanes of different QPUs run in parallel
on as many cores as there are. Threads cannot be interrupted: a stop asks running work to
return (the drivers check ``ExecutionOptions.should_stop`` between parameter sets) and then
leaves the lanes without waiting (:meth:`ExecutionLanes.shutdown`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from quantum_service.errors import NotFoundError

__all__ = ["ExecutionLanes"]

T = TypeVar("T")


class ExecutionLanes:
    """The admission pool and the per-QPU execution lanes.

    Args:
        qpu_ids: the QPUs, one lane each.
        lane_workers: threads per lane (>= 1): how many chunks of one QPU's work run at once.
        admission_workers: threads of the admission pool (>= 1).
    Raises:
        ValueError: a worker count below 1.
    """

    def __init__(self, qpu_ids: Iterable[str], *, lane_workers: int = 2,
                 admission_workers: int = 2) -> None:
        if lane_workers < 1 or admission_workers < 1:
            raise ValueError(f"lane_workers and admission_workers must be >= 1, got "
                             f"{lane_workers} and {admission_workers}")
        self.lane_workers = lane_workers
        self._admission = ThreadPoolExecutor(max_workers=admission_workers,
                                             thread_name_prefix="admission")
        self._lanes = {qpu_id: ThreadPoolExecutor(max_workers=lane_workers,
                                                  thread_name_prefix=f"lane-{qpu_id}")
                       for qpu_id in qpu_ids}
        self._busy = 0
        self._busy_lock = threading.Lock()

    @property
    def busy(self) -> int:
        """Lane tasks started and not yet returned (threads still inside a simulation)."""
        return self._busy

    async def admit(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` on the admission pool (never behind a simulation)."""
        return await asyncio.get_running_loop().run_in_executor(self._admission, fn, *args)

    async def on_lane(self, qpu_id: str, fn: Callable[..., T], *args: Any) -> T:
        """Runs ``fn(*args)`` on ``qpu_id``'s execution lane.

        Raises:
            NotFoundError: no lane for ``qpu_id`` (reason ``QPU_NOT_FOUND``).
        """
        lane = self._lanes.get(qpu_id)
        if lane is None:
            raise NotFoundError(f"no execution lane for QPU {qpu_id!r}", reason="QPU_NOT_FOUND")
        return await asyncio.get_running_loop().run_in_executor(lane, self._counted, fn, args)

    def _counted(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self._busy_lock:
            self._busy += 1
        try:
            return fn(*args)
        finally:
            with self._busy_lock:
                self._busy -= 1

    def shutdown(self) -> None:
        """Drops queued work and returns without waiting for running threads."""
        for pool in (self._admission, *self._lanes.values()):
            pool.shutdown(wait=False, cancel_futures=True)
