"""How many items make one task: the size rule shared by every executor."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["group_items"]

T = TypeVar("T")


def group_items(items: Sequence[T], *, item_cost_s: float, target_s: float,
                min_groups: int = 1) -> list[Sequence[T]]:
    """Splits ``items`` into consecutive groups of about ``target_s`` seconds of work each,
    and into at least ``min(min_groups, len(items))`` groups (to feed that many workers).

    Args:
        items: the work items, in order.
        item_cost_s: estimated seconds per item, >= 0.
        target_s: wanted seconds per group, > 0 (an executor sets it so that its per-task
            overhead is a small fraction of it).
        min_groups: lower bound on the number of groups, >= 1.
    Returns:
        the groups, in order; concatenated they are ``items``. Group sizes differ by at most
        one.
    """
    n = len(items)
    if n == 0:
        return []
    per_group = max(1, int(target_s // item_cost_s)) if item_cost_s > 0 else n
    groups = max(math.ceil(n / per_group), min(max(1, min_groups), n))
    size, extra = divmod(n, groups)
    out: list[Sequence[T]] = []
    start = 0
    for g in range(groups):
        stop = start + size + (1 if g < extra else 0)
        out.append(items[start:stop])
        start = stop
    return out
