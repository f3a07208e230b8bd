"""Fair share: each user's recent device-time usage against their share of the QPUs.

The factor is Slurm's classic fair-share factor (Slurm documentation, "Multifactor Priority
Plugin", section "Fair-share Factor", https://slurm.schedmd.com/priority_multifactor.html):

    F = 2^(-U_N / S_N)

with ``U_N`` the user's *decayed* usage normalised by the decayed usage of all users, and
``S_N`` the user's shares normalised by the shares of all known users. Usage decays with a
half-life ``T½`` (Slurm ``PriorityDecayHalfLife``): a device-second used ``Δt`` ago counts
``2^(-Δt/T½)``. ``F = 1`` for a user who used nothing, ``0.5`` for one whose usage fraction
equals their share, and tends to 0 for heavy users. The same principle orders IBM Quantum's
fair-share scheduler (IBM Quantum documentation, "Fair-share scheduler": jobs of the group
furthest below its allocated share over a rolling window run first).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["FairShare"]


@dataclass(slots=True)
class _Usage:
    value_s: float = 0.0  # decayed device seconds as of ``at``
    at: float = 0.0


class FairShare:
    """Decayed usage per user and the fair-share factor.

    Args:
        half_life_s: usage half-life, seconds (> 0).
        shares: shares per user; unlisted users have ``default_shares``.
        default_shares: shares of a user not in ``shares`` (> 0).
        clock: seconds (any epoch); ``time.time`` in the service, a device-time clock in
            benchmarks.
    """

    def __init__(self, *, half_life_s: float, shares: Mapping[str, float] | None = None,
                 default_shares: float = 1.0, clock: Callable[[], float]) -> None:
        if half_life_s <= 0 or default_shares <= 0:
            raise ValueError("half_life_s and default_shares must be > 0")
        self.half_life_s = half_life_s
        self.shares = dict(shares or {})
        self.default_shares = default_shares
        self.clock = clock
        self._usage: dict[str, _Usage] = {}

    def _decayed(self, usage: _Usage, now: float) -> float:
        return usage.value_s * math.exp2(-max(0.0, now - usage.at) / self.half_life_s)

    def known(self, user: str) -> None:
        """Registers ``user`` (its shares count in ``S_N`` from now on)."""
        self._usage.setdefault(user, _Usage(0.0, self.clock()))

    def record(self, user: str, device_s: float) -> None:
        """Adds ``device_s`` seconds of device time to ``user``'s usage, now."""
        now = self.clock()
        usage = self._usage.setdefault(user, _Usage(0.0, now))
        usage.value_s = self._decayed(usage, now) + max(0.0, device_s)
        usage.at = now

    def usage_s(self, user: str) -> float:
        """``user``'s decayed usage now, device seconds."""
        usage = self._usage.get(user)
        return self._decayed(usage, self.clock()) if usage else 0.0

    def user_shares(self, user: str) -> float:
        return float(self.shares.get(user, self.default_shares))

    def factors(self, extra_usage_s: Mapping[str, float] | None = None) -> dict[str, float]:
        """The fair-share factor ``F`` in ``(0, 1]`` of every known user.

        Args:
            extra_usage_s: device seconds per user added to the usage now, as if already
                recorded (what-if factors: the queue's ETAs predict the order jobs will run
                in once the jobs ahead have charged their owners).
        """
        now = self.clock()
        extra = extra_usage_s or {}
        users = set(self._usage) | set(self.shares) | set(extra)
        decayed = {user: self._decayed(u, now) for user, u in self._usage.items()}
        for user, device_s in extra.items():
            decayed[user] = decayed.get(user, 0.0) + max(0.0, device_s)
        total_usage = sum(decayed.values())
        total_shares = sum(self.user_shares(u) for u in users) or 1.0
        out = {}
        for user in users:
            u_n = decayed.get(user, 0.0) / total_usage if total_usage > 0 else 0.0
            s_n = self.user_shares(user) / total_shares
            out[user] = math.exp2(-u_n / s_n)
        return out

    def factor(self, user: str) -> float:
        """``user``'s fair-share factor (1.0 for an unknown user)."""
        return self.factors().get(user, 1.0)
