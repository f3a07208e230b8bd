"""The per-QPU job queue and its order: a multifactor priority score.

Every queued job gets a score in ``[0, w_fs + w_pri + w_age]`` (Slurm documentation,
"Multifactor Priority Plugin": ``priority = Σ_i weight_i × factor_i`` with every factor in
``[0, 1]``):

    score = w_fs × F(owner) + w_pri × priority/10 + w_age × min(1, age / max_age)

* ``F`` is the owner's fair-share factor ``2^(-U_N/S_N)`` (:mod:`.fairshare`);
* ``priority`` is ``SubmitJobRequest.priority`` (0–10);
* ``age`` is the time since the job was queued; at ``max_age`` (Slurm ``PriorityMaxAge``)
  the age factor saturates, so every job eventually overtakes newer, higher-priority work.

The highest score runs next; equal scores run in submission order. Scores are recomputed each
time the worker picks a job, because fair share and age change while jobs wait.

Session evaluations do not compete in this order: they wait in a separate *session lane* that
the QPU's worker serves first, between jobs and between the chunks of a running job.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quantum_service.config import QuantumSettings
from quantum_service.kernel.fairshare import FairShare

__all__ = [
    "REPLAYED_POSITIONS",
    "QpuQueue",
    "QueueEntry",
    "RunningJobs",
    "SchedulerPolicy",
    "SessionWork",
    "priority_score",
]

MAX_PRIORITY = 10

#: Queue positions whose order :meth:`QpuQueue.estimates` replays choice by choice (quadratic
#: in this number; later positions keep the order of the last replayed moment).
REPLAYED_POSITIONS = 128


@dataclass(frozen=True, slots=True)
class SchedulerPolicy:
    """Scheduler settings (see :class:`quantum_service.config.QuantumSettings`)."""

    fair_share_half_life_s: float = 3600.0
    weight_fair_share: float = 0.5
    weight_priority: float = 0.3
    weight_age: float = 0.2
    max_age_s: float = 600.0
    user_shares: tuple[tuple[str, float], ...] = ()
    quota_max_queued_jobs: int = 100
    quota_device_s_per_window: float = 3600.0
    quota_window_s: float = 3600.0
    placement_wait_scale_s: float = 60.0
    multiprogramming: bool = True
    multiprogramming_max_jobs: int = 4
    multiprogramming_max_fidelity_loss: float = 0.05
    parallel_chunks: int = 2
    chunk_parameter_sets: int = 8

    @staticmethod
    def from_settings(settings: QuantumSettings) -> SchedulerPolicy:
        """The policy from the service settings: every policy field the settings define."""
        names = {f.name for f in dataclasses.fields(SchedulerPolicy)}
        values = {k: v for k, v in settings.model_dump().items() if k in names}
        values["user_shares"] = tuple(sorted(dict(values.get("user_shares", {})).items()))
        return SchedulerPolicy(**values)


def priority_score(*, fair_share: float, priority: int, age_s: float,
                   policy: SchedulerPolicy) -> float:
    """The multifactor score of the module docstring (higher runs earlier)."""
    age = min(1.0, max(0.0, age_s) / policy.max_age_s)
    return (policy.weight_fair_share * fair_share
            + policy.weight_priority * priority / MAX_PRIORITY
            + policy.weight_age * age)


@dataclass(slots=True)
class QueueEntry:
    """A queued job as the scheduler sees it.

    Attributes:
        job_id, owner, priority: from the job.
        enqueue_time: scheduler-clock seconds when it was queued.
        predicted_s: predicted device time, seconds (quotas, fair share).
        predicted_run_s: predicted wall-clock run time of its simulation, seconds (ETAs,
            placement waits; :mod:`.runtime`); defaults to ``predicted_s``.
        seq: submission order (tie-breaker).
    """

    job_id: str
    owner: str
    priority: int
    enqueue_time: float
    predicted_s: float
    predicted_run_s: float | None = None
    seq: int = 0

    @property
    def run_s(self) -> float:
        """``predicted_run_s``, else ``predicted_s``, seconds."""
        return self.predicted_s if self.predicted_run_s is None else self.predicted_run_s


@dataclass(slots=True)
class SessionWork:
    """A session evaluation waiting in the session lane."""

    fn: Callable[[], Any]
    future: asyncio.Future


@dataclass(slots=True)
class RunningJobs:
    """The job(s) a QPU runs now (several when multi-programmed) and when they started
    (scheduler clock, seconds)."""

    entries: list[QueueEntry]
    start: float


class QpuQueue:
    """One QPU's queued jobs (scored) and its session lane.

    Args:
        fair_share: the kernel-wide fair-share state.
        policy: weights.
        clock: scheduler clock, seconds (the fair share's clock).
    """

    def __init__(self, *, fair_share: FairShare, policy: SchedulerPolicy,
                 clock: Callable[[], float]) -> None:
        self.fair_share = fair_share
        self.policy = policy
        self.clock = clock
        self.entries: dict[str, QueueEntry] = {}
        self.sessions: deque[SessionWork] = deque()
        self.running: RunningJobs | None = None
        self._wakeup = asyncio.Event()
        self._seq = itertools.count()
        self.closed = False

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: QueueEntry) -> None:
        entry.seq = next(self._seq)
        self.entries[entry.job_id] = entry
        self.fair_share.known(entry.owner)
        self._wakeup.set()

    def remove(self, job_id: str) -> QueueEntry | None:
        return self.entries.pop(job_id, None)

    def add_session_work(self, work: SessionWork) -> None:
        self.sessions.append(work)
        self._wakeup.set()

    def ordered(self) -> list[QueueEntry]:
        """Queued entries, the next to run first."""
        now = self.clock()
        factors = self.fair_share.factors()
        return sorted(self.entries.values(), key=lambda e: self._key(e, factors, now))

    def _key(self, entry: QueueEntry, factors: dict[str, float], now: float
             ) -> tuple[float, int]:
        return (-priority_score(fair_share=factors.get(entry.owner, 1.0),
                                priority=entry.priority, age_s=now - entry.enqueue_time,
                                policy=self.policy), entry.seq)

    def close(self) -> None:
        """Wakes the worker for good: :meth:`wait` returns at once from now on (the kernel is
        stopping)."""
        self.closed = True
        self._wakeup.set()

    async def wait(self) -> None:
        """Returns once session work or a queued job is waiting, or the queue is closed."""
        while not self.sessions and not self.entries and not self.closed:
            self._wakeup.clear()
            await self._wakeup.wait()

    def estimates(self) -> dict[str, tuple[int, float]]:
        """``job_id → (queue_position, predicted start)`` of every queued job.

        The order is the one the worker will follow, predicted by replaying its choices: each
        next job is the best-scored (:meth:`ordered`'s score) at its predicted start, with the
        fair-share factors of that moment, after the running job and every job predicted to
        run before it have charged their predicted device time to their owners
        (:meth:`FairShare.factors` ``extra_usage_s``), so two users' interleaved jobs get the
        interleaved order fair share will give them, not the order of now. The first
        :data:`REPLAYED_POSITIONS` positions are replayed; the rest follow in the order of the
        last replayed moment. Positions are 1-based; the start is the scheduler-clock time when
        the predicted run time (:attr:`QueueEntry.run_s`) of the running work and of every job
        ahead has elapsed, ``now + max(0, running predicted - running elapsed) + Σ predicted
        ahead``; it never decreases along the queue.
        """
        now = self.clock()
        ahead = self._running_left_s(now)
        charged: dict[str, float] = {}
        for entry in self.running.entries if self.running is not None else ():
            charged[entry.owner] = charged.get(entry.owner, 0.0) + entry.predicted_s
        waiting = list(self.entries.values())
        out: dict[str, tuple[int, float]] = {}
        while waiting:
            factors = self.fair_share.factors(charged)
            at = now + ahead
            if len(out) >= REPLAYED_POSITIONS:
                waiting.sort(key=lambda e: self._key(e, factors, at))
                for entry in waiting:
                    out[entry.job_id] = (len(out) + 1, now + ahead)
                    ahead += entry.run_s
                break
            best = min(range(len(waiting)), key=lambda i: self._key(waiting[i], factors, at))
            entry = waiting.pop(best)
            out[entry.job_id] = (len(out) + 1, at)
            ahead += entry.run_s
            charged[entry.owner] = charged.get(entry.owner, 0.0) + entry.predicted_s
        return out

    def predicted_wait_s(self) -> float:
        """Predicted run time before a job queued now would start, seconds."""
        now = self.clock()
        return self._running_left_s(now) + sum(e.run_s for e in self.entries.values())

    def _running_left_s(self, now: float) -> float:
        if self.running is None:
            return 0.0
        predicted = max((e.run_s for e in self.running.entries), default=0.0)
        return max(0.0, predicted - (now - self.running.start))
