"""Per-user quotas, checked when a job is submitted (before anything is stored or queued).

* ``quota_max_queued_jobs``: QUEUED + RUNNING jobs a user may have at once;
* ``quota_device_s_per_window``: device seconds a user may have used in the last
  ``quota_window_s`` seconds *plus* the device time predicted for their queued jobs and the new
  one (so a burst of submissions cannot overrun the window).

Both raise :class:`~quantum_service.errors.ResourceExhaustedError` (``RESOURCE_EXHAUSTED``)
with what was used, the limit and when to retry.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from quantum_service.errors import ResourceExhaustedError

__all__ = ["Quotas"]


class Quotas:
    """Usage ledger per user and the quota checks.

    Args:
        max_queued_jobs: limit on QUEUED + RUNNING jobs per user (>= 1).
        device_s_per_window: device-seconds limit per window (> 0).
        window_s: window length, seconds of ``clock``.
        clock: seconds.
    """

    def __init__(self, *, max_queued_jobs: int, device_s_per_window: float, window_s: float,
                 clock: Callable[[], float]) -> None:
        self.max_queued_jobs = max_queued_jobs
        self.device_s_per_window = device_s_per_window
        self.window_s = window_s
        self.clock = clock
        self._ledger: dict[str, deque[tuple[float, float]]] = {}

    def record(self, user: str, device_s: float) -> None:
        """Records ``device_s`` seconds used by ``user`` now."""
        if device_s > 0:
            self._ledger.setdefault(user, deque()).append((self.clock(), device_s))

    def used_s(self, user: str) -> float:
        """Device seconds ``user`` used within the window."""
        ledger = self._ledger.get(user)
        if not ledger:
            return 0.0
        horizon = self.clock() - self.window_s
        while ledger and ledger[0][0] < horizon:
            ledger.popleft()
        return sum(s for _, s in ledger)

    def check(self, user: str, *, active_jobs: int, pending_s: float, predicted_s: float
              ) -> None:
        """Raises ResourceExhaustedError when a new job of ``predicted_s`` exceeds a quota.

        Args:
            active_jobs: the user's QUEUED + RUNNING jobs now.
            pending_s: device time predicted for those jobs.
            predicted_s: device time predicted for the new job.
        """
        if active_jobs >= self.max_queued_jobs:
            raise ResourceExhaustedError(
                f"user {user!r} already has {active_jobs} queued or running jobs (the limit is "
                f"{self.max_queued_jobs}); wait for some to finish or cancel some, then "
                f"resubmit", reason="QUEUED_JOB_QUOTA")
        used = self.used_s(user)
        if used + pending_s + predicted_s > self.device_s_per_window:
            ledger = self._ledger.get(user)
            retry = (f"usage starts leaving the window in "
                     f"{max(0.0, ledger[0][0] + self.window_s - self.clock()):.0f} s"
                     if ledger else "queued jobs release their reservation as they finish")
            raise ResourceExhaustedError(
                f"user {user!r}: this job's predicted {predicted_s:.3g} device-s on top of "
                f"{used:.3g} s used in the last {self.window_s:.0f} s and {pending_s:.3g} s "
                f"queued exceeds the quota of {self.device_s_per_window:.3g} device-s per "
                f"window; {retry} — retry later, submit fewer shots or parameter sets, or ask "
                f"the operator to raise QCORE_QUANTUM_QUOTA_DEVICE_S_PER_WINDOW",
                reason="DEVICE_TIME_QUOTA")
