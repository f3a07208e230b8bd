"""The Dask executor: simulation items as tasks on Dask distributed workers.

* **What ships.** The shared program (:class:`~.simulation.SimulationProgram`) is scattered
  once per content key to every worker (``Client.scatter(..., broadcast=True)`` under the key
  ``qcore-program-<sha256>``); a worker deserialises it once and keeps the engine (fusion plan)
  it builds from it for every later task, so a session ships its program once, not per
  evaluation. Tasks carry only their items.
* **Task size.** Items are grouped (:func:`~.grouping.group_items`) into tasks of at least
  ``10 ×`` the per-task overhead measured when the executor connects, so scheduling costs
  under 10 % of the work; batches whose estimated work is below ``min_offload_s`` run
  in-process. The estimate per item is replaced by the times the workers measure.
* **Determinism.** Tasks are pure functions of their program and items with deterministic keys
  (``tokenize``): a re-run task (its worker died) returns what the first run would have, the
  results are put back in item order, and nothing is counted twice.
* **Faults.** A worker that dies mid-task: the scheduler re-runs its tasks on another worker
  (Dask's ``distributed.scheduler.allowed-failures``). A lost scheduler or an unreachable
  cluster: the batch runs in-process, with a warning in the log and the reason on the result
  (``MappedBatch.where``); the executor tries the cluster again after ``retry_s``. A batch
  never waits for the client's own reconnection (up to its connect timeout): every call that
  asks the scheduler is abandoned as soon as the client stops running.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from dask.base import tokenize
from distributed import Client, Future, KilledWorker, wait

from quantum_service.contract import ExecutionCancelled, MappedBatch, SharedProgram
from quantum_service.execution.grouping import group_items
from quantum_service.execution.inprocess import run_in_process

__all__ = ["DaskExecutor", "OVERHEAD_FACTOR"]

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound=SharedProgram)

#: A task holds at least this many times the measured per-task overhead of work (< 10 %).
OVERHEAD_FACTOR = 10.0
#: Smallest task, seconds, whatever the measured overhead.
MIN_TASK_S = 0.02
#: Programs kept scattered on the workers (least recently used dropped first).
PROGRAMS_KEPT = 16
#: Programs whose measured seconds per item are kept.
MEASURED_KEPT = 4096
#: Seconds between two checks of ``should_stop`` (and of the scheduler) while tasks run.
POLL_S = 0.1
#: Errors of the cluster itself (never of a task's own computation).
CLUSTER_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, KilledWorker, concurrent.futures.CancelledError,
    asyncio.CancelledError)


def _run_group(fn: Callable[[Any, Sequence[Any]], list[Any]], program: Any,
               group: Sequence[Any]) -> tuple[list[Any], float]:
    """Worker side: ``(fn(program, group), compute seconds)``."""
    start = time.perf_counter()
    results = fn(program, group)
    return results, time.perf_counter() - start


def _noop(x: int) -> int:
    return x


def _warm_up() -> None:
    """Worker side: imports the simulation code once, before the first task needs it."""
    from quantum_service.execution import simulation

    del simulation


class DaskExecutor:
    """Runs batches on a Dask cluster (see the module docstring).

    Args:
        connect: returns a connected :class:`distributed.Client` (called at start and again
            after a failure, at most every ``retry_s``); raises ``OSError``/``TimeoutError``
            when the cluster cannot be reached.
        description: the cluster in words (``"LocalCluster, 2 worker processes"``).
        min_offload_s: batches with less estimated work, seconds, run in-process.
        retry_s: seconds after a failure before the cluster is tried again.
        on_close: releases what ``connect`` started (a cluster), called by :meth:`close`.
    """

    def __init__(self, connect: Callable[[], Client], *, description: str,
                 min_offload_s: float = 0.05, retry_s: float = 30.0,
                 on_close: Callable[[], None] | None = None) -> None:
        self._connect = connect
        self.description = description
        self.min_offload_s = min_offload_s
        self.retry_s = retry_s
        self._on_close = on_close
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._programs: OrderedDict[str, Future] = OrderedDict()
        self._item_s: dict[str, float] = {}
        self._retry_at = 0.0
        self._down_reason = "not connected"
        self._closed = False
        self._reconnecting = False
        #: Threads for the scheduler calls a batch abandons once the client stops running.
        self._calls = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="dask-call")
        #: Seconds of scheduling per task, measured at connection (NaN before).
        self.task_overhead_s = float("nan")
        #: Tasks completed on the cluster so far, and their compute seconds as the workers
        #: measured them (benchmarks: the work that more workers would share).
        self.tasks_done = 0
        self.task_compute_s = 0.0
        self._reconnect()

    @property
    def name(self) -> str:
        return "dask"

    @property
    def task_target_s(self) -> float:
        """Seconds of work a task is given (at least :data:`OVERHEAD_FACTOR` × overhead)."""
        overhead = self.task_overhead_s if self.task_overhead_s == self.task_overhead_s else 0.0
        return max(MIN_TASK_S, OVERHEAD_FACTOR * overhead)

    @property
    def connected(self) -> bool:
        """Whether batches go to the cluster now."""
        client = self._client
        return client is not None and client.status == "running"

    def worker_count(self) -> int:
        """Workers the scheduler knows now (0 when not connected)."""
        client = self._client
        if client is None or client.status != "running":
            return 0
        return len(client.scheduler_info().get("workers", {}))

    def _available(self) -> Client | None:
        """The client when the cluster is usable now; else ``None`` (and, once ``retry_s``
        has passed since the last failure, a reconnection in the background, so no batch
        waits for a connection timeout)."""
        with self._lock:
            if self._closed:
                return None
            client = self._client
            if client is not None:
                if client.status == "running":
                    return client
                self._down_reason = f"lost the scheduler of {self.description}"
                self._retry_at = time.monotonic() + self.retry_s
                self._drop_client()
                log.warning("Dask: %s; simulations run in-process, next try in %.0f s",
                            self._down_reason, self.retry_s)
                return None
            if time.monotonic() >= self._retry_at and not self._reconnecting:
                self._reconnecting = True
                threading.Thread(target=self._reconnect, name="dask-reconnect",
                                 daemon=True).start()
            return None

    def _reconnect(self) -> None:
        """Connects (blocking), measures the task overhead and warms the workers up."""
        try:
            client = self._connect()
            try:
                client.run(_warm_up)
                overhead = _measure_overhead(client)
            except BaseException:
                client.close(timeout=2)
                raise
        except CLUSTER_ERRORS as exc:
            with self._lock:
                self._reconnecting = False
                self._retry_at = time.monotonic() + self.retry_s
                self._down_reason = f"{self.description} unreachable: {type(exc).__name__}"
            log.warning("Dask cluster (%s) unreachable (%s); simulations run in-process, "
                        "next try in %.0f s", self.description, exc, self.retry_s)
            return
        with self._lock:
            self._reconnecting = False
            if self._closed:
                client.close(timeout=2)
                return
            self._client, self.task_overhead_s = client, overhead
        log.info("Dask cluster (%s): %d worker(s), task overhead %.2f ms", self.description,
                 len(client.scheduler_info().get("workers", {})), 1e3 * overhead)

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        self._programs.clear()
        if client is not None:
            try:
                client.close(timeout=2)
            except Exception:  # noqa: BLE001 - the connection is gone already
                log.debug("closing a lost Dask client failed", exc_info=True)

    def _mark_down(self, exc: BaseException) -> None:
        with self._lock:
            self._down_reason = f"{self.description} failed: {type(exc).__name__}: {exc}"
            self._retry_at = time.monotonic() + self.retry_s
            self._drop_client()

    def map(self, fn: Callable[[S, Sequence[T]], list[R]], program: S, items: Sequence[T], *,
            item_cost_s: float, should_stop: Callable[[], bool] | None = None
            ) -> MappedBatch[R]:
        """See :meth:`quantum_service.contract.Executor.map`; falls back to in-process
        execution (``where`` says why) when the cluster is unreachable or fails."""
        key = f"{fn.__name__}-{program.content_key}"
        item_s = self._item_s.get(key, item_cost_s)
        if not items or item_s * len(items) < self.min_offload_s:
            return run_in_process(fn, program, items,
                                  should_stop=should_stop, where="in-process")
        client = self._available()
        if client is None:
            return run_in_process(fn, program, items,
                                  should_stop=should_stop,
                                  where=f"in-process (fallback: {self._down_reason})")
        try:
            return self._map_on(client, fn, program, items, item_s, key, should_stop)
        except CLUSTER_ERRORS as exc:
            if not isinstance(exc, KilledWorker):
                self._mark_down(exc)
            log.warning("Dask batch failed (%s: %s); running it in-process", type(exc).__name__,
                        exc)
            return run_in_process(
                fn, program, items, should_stop=should_stop,
                where=f"in-process (fallback: {self.description} failed: {type(exc).__name__})")

    def _map_on(self, client: Client, fn: Callable[[S, Sequence[T]], list[R]], program: S,
                items: Sequence[T], item_s: float, key: str,
                should_stop: Callable[[], bool] | None) -> MappedBatch[R]:
        shared = self._while_running(client, self._ship, client, program)
        info = self._while_running(client, client.scheduler_info)
        workers = max(1, len(info.get("workers", {})))
        groups = group_items(items, item_cost_s=item_s, target_s=self.task_target_s,
                             min_groups=workers)
        futures = [client.submit(_run_group, fn, shared, group, pure=True,
                                 key=f"qcore-{fn.__name__}-{tokenize(key, group)}")
                   for group in groups]
        try:
            pending = set(futures)
            while pending:
                if should_stop is not None and should_stop():
                    raise ExecutionCancelled("execution stopped on request")
                if client.status != "running":
                    raise OSError(f"lost the Dask scheduler (client {client.status})")
                try:
                    _, pending = wait(list(pending), timeout=POLL_S, return_when="ALL_COMPLETED")
                except TimeoutError:
                    pending = {f for f in pending if not f.done()}
            outs = self._while_running(client, client.gather, futures)
        except BaseException:
            if client.status == "running":  # a lost scheduler forgets them by itself
                client.cancel(futures)
            raise
        results: list[R] = []
        compute_s = 0.0
        for part, seconds in outs:
            results.extend(part)
            compute_s += seconds
        if len(self._item_s) >= MEASURED_KEPT and key not in self._item_s:
            self._item_s.clear()  # old programs' measurements: re-measured on next use
        self._item_s[key] = compute_s / len(items)
        with self._lock:
            self.tasks_done += len(groups)
            self.task_compute_s += compute_s
        return MappedBatch(results, f"on Dask ({self.description}: {workers} worker(s), "
                                    f"{len(groups)} task(s))", len(groups))

    def _while_running(self, client: Client, call: Callable[..., R], *args: Any) -> R:
        """``call(*args)``, waited for only while ``client`` runs: a lost scheduler raises
        ``OSError`` within :data:`POLL_S` instead of after the client's reconnection
        timeout (the abandoned call ends by itself when the client gives up)."""
        future = self._calls.submit(call, *args)
        while True:
            try:
                return future.result(timeout=POLL_S)
            except concurrent.futures.TimeoutError:
                if client.status != "running":
                    raise OSError(f"lost the Dask scheduler (client {client.status})") from None

    def _ship(self, client: Client, program: S) -> Future:
        """The program's future on the cluster, scattered to every worker on first use."""
        key = program.content_key
        with self._lock:
            future = self._programs.get(key)
            if future is not None and future.status == "finished":
                self._programs.move_to_end(key)
                return future
        name = f"qcore-program-{key}"
        future = client.scatter({name: program}, broadcast=True)[name]
        with self._lock:
            self._programs[key] = future
            while len(self._programs) > PROGRAMS_KEPT:
                self._programs.popitem(last=False)  # the future's release frees the workers
        return future

    def close(self) -> None:
        """Closes the client and what ``connect`` started (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._drop_client()
        self._calls.shutdown(wait=False, cancel_futures=True)
        if self._on_close is not None:
            self._on_close()


def _measure_overhead(client: Client, tasks: int = 32) -> float:
    """Seconds of scheduling per task: wall time of ``tasks`` no-op tasks over their count
    (after one warm-up round), the pipelined cost that a batch of tasks pays."""
    client.gather(client.map(_noop, range(4), pure=False))
    start = time.perf_counter()
    client.gather(client.map(_noop, range(tasks), pure=False))
    return (time.perf_counter() - start) / tasks
