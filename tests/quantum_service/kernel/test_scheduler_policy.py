"""Fair share, priority score, queue order, ETAs and quotas (pure scheduler objects)."""

from __future__ import annotations

import math

import pytest

from quantum_service.errors import ResourceExhaustedError
from quantum_service.kernel.fairshare import FairShare
from quantum_service.kernel.quotas import Quotas
from quantum_service.kernel.scheduler import QpuQueue, QueueEntry, SchedulerPolicy


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_fair_share_factor_follows_slurm_formula_and_decays():
    clock = Clock()
    fs = FairShare(half_life_s=100.0, clock=clock)
    fs.record("alice", 30.0)
    fs.record("bob", 10.0)
    # U_N = 0.75 / 0.25, S_N = 0.5 each: F = 2^(-U_N/S_N)
    assert fs.factor("alice") == pytest.approx(2 ** -1.5)
    assert fs.factor("bob") == pytest.approx(2 ** -0.5)
    assert fs.factor("carol") == 1.0
    clock.t += 100.0  # one half-life
    assert fs.usage_s("alice") == pytest.approx(15.0)
    fs.record("bob", 15.0)  # bob now has 5 + 15 = 20 against alice's 15
    assert fs.factor("bob") < fs.factor("alice")


def test_shares_weight_the_factor():
    fs = FairShare(half_life_s=100.0, shares={"alice": 3.0}, clock=Clock())
    fs.record("alice", 10.0)
    fs.record("bob", 10.0)
    # S_N(alice) = 0.75, S_N(bob) = 0.25; U_N = 0.5 each
    assert fs.factor("alice") == pytest.approx(2 ** (-0.5 / 0.75))
    assert fs.factor("bob") == pytest.approx(2 ** (-0.5 / 0.25))


def _queue(policy: SchedulerPolicy, clock: Clock) -> QpuQueue:
    fs = FairShare(half_life_s=policy.fair_share_half_life_s, clock=clock)
    return QpuQueue(fair_share=fs, policy=policy, clock=clock)


async def test_order_by_fair_share_priority_and_age():
    clock = Clock()
    policy = SchedulerPolicy(weight_fair_share=0.5, weight_priority=0.3, weight_age=0.2,
                             max_age_s=100.0)
    queue = _queue(policy, clock)
    queue.fair_share.record("heavy", 100.0)
    queue.add(QueueEntry("a", "heavy", 0, clock.t, 1.0))
    queue.add(QueueEntry("b", "light", 0, clock.t, 1.0))
    assert [e.job_id for e in queue.ordered()] == ["b", "a"]  # fair share
    queue.add(QueueEntry("c", "heavy", 10, clock.t, 1.0))
    # heavy: F = 2^-2 -> 0.5*0.25 + 0.3 = 0.425 for c, below light b (0.5), above a (0.125)
    assert [e.job_id for e in queue.ordered()] == ["b", "c", "a"]
    queue.add(QueueEntry("d", "light", 0, clock.t - 100.0, 1.0))  # saturated age
    assert queue.ordered()[0].job_id == "d"
    # equal scores keep submission order
    queue2 = _queue(policy, clock)
    for name in "xyz":
        queue2.add(QueueEntry(name, "u", 5, clock.t, 1.0))
    assert [e.job_id for e in queue2.ordered()] == ["x", "y", "z"]


async def test_queue_positions_and_start_estimates_are_monotonic():
    clock = Clock()
    queue = _queue(SchedulerPolicy(), clock)
    for i, (owner, prio, predicted) in enumerate([("a", 0, 2.0), ("b", 5, 3.0), ("c", 9, 1.5),
                                                  ("a", 1, 4.0)]):
        queue.add(QueueEntry(f"j{i}", owner, prio, clock.t, predicted))
    estimates = queue.estimates()
    order = [e.job_id for e in queue.ordered()]
    assert [estimates[j][0] for j in order] == [1, 2, 3, 4]
    starts = [estimates[j][1] for j in order]
    assert starts == sorted(starts)
    assert starts[0] == clock.t
    predicted = {e.job_id: e.predicted_s for e in queue.ordered()}
    assert starts[-1] - starts[0] == pytest.approx(sum(predicted[j] for j in order[:-1]))
    assert queue.predicted_wait_s() == pytest.approx(10.5)


async def test_estimates_replay_the_order_the_worker_will_pick():
    """Fair share interleaves two users' jobs as each run charges its owner: the estimated
    order is the one a worker picking ``ordered()[0]`` after every run actually follows."""
    clock = Clock()
    queue = _queue(SchedulerPolicy(), clock)
    for i in range(3):  # alice's three jobs are queued before bob's three
        queue.add(QueueEntry(f"a{i}", "alice", 0, clock.t, 2.0, seq=i))
    for i in range(3):
        queue.add(QueueEntry(f"b{i}", "bob", 0, clock.t, 2.0, seq=3 + i))
    estimates = queue.estimates()
    predicted = sorted(estimates, key=lambda job_id: estimates[job_id][0])
    assert predicted == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert [e.job_id for e in queue.ordered()][:2] == ["a0", "a1"]  # the order of now differs
    picked, starts = [], []
    while len(queue):
        entry = queue.ordered()[0]
        queue.remove(entry.job_id)
        picked.append(entry.job_id)
        starts.append(clock.t)
        queue.fair_share.record(entry.owner, entry.predicted_s)
        clock.t += entry.run_s
    assert picked == predicted
    assert [estimates[j][1] for j in picked] == pytest.approx(starts)


def test_quota_errors_are_actionable():
    clock = Clock()
    quotas = Quotas(max_queued_jobs=2, device_s_per_window=10.0, window_s=60.0, clock=clock)
    quotas.check("alice", active_jobs=1, pending_s=0.0, predicted_s=1.0)
    with pytest.raises(ResourceExhaustedError, match="2 queued or running") as info:
        quotas.check("alice", active_jobs=2, pending_s=0.0, predicted_s=1.0)
    assert info.value.reason == "QUEUED_JOB_QUOTA"
    quotas.record("alice", 8.0)
    with pytest.raises(ResourceExhaustedError, match="retry later") as info:
        quotas.check("alice", active_jobs=0, pending_s=1.0, predicted_s=2.0)
    assert info.value.reason == "DEVICE_TIME_QUOTA"
    quotas.check("bob", active_jobs=0, pending_s=0.0, predicted_s=9.0)
    clock.t += 61.0  # usage leaves the window
    quotas.check("alice", active_jobs=0, pending_s=1.0, predicted_s=2.0)
    assert math.isclose(quotas.used_s("alice"), 0.0)
