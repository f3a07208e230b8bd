"""A bounded, thread-safe, drop-oldest queue of encoded MQTT messages.

The publisher's buffer between callers (event loop or worker threads) and its network task.
Putting never blocks: when the queue is full the oldest message is discarded and counted, since
for telemetry the newest state is the one worth keeping.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["OutgoingMessage", "Outbox"]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One encoded message: topic, payload bytes, MQTT QoS (0 or 1) and retain flag."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    """FIFO of at most ``capacity`` messages; ``put`` drops the oldest when full.

    Every method is safe to call from any thread; each holds a lock for O(1) work only.

    Raises:
        ValueError: ``capacity < 1``.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"outbox capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._items: deque[OutgoingMessage] = deque()
        self._lock = threading.Lock()
        self._dropped = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def dropped(self) -> int:
        """Messages discarded so far (overflow, :meth:`clear`, or a full :meth:`put_back`)."""
        return self._dropped

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: OutgoingMessage) -> None:
        """Appends ``item``; if the outbox is full, discards the oldest message first."""
        with self._lock:
            if len(self._items) >= self._capacity:
                self._items.popleft()
                self._dropped += 1
            self._items.append(item)

    def put_back(self, item: OutgoingMessage) -> None:
        """Returns a message that failed to send to the front; discards it if the outbox is
        full (it is then the oldest)."""
        with self._lock:
            if len(self._items) >= self._capacity:
                self._dropped += 1
            else:
                self._items.appendleft(item)

    def pop(self) -> OutgoingMessage | None:
        """Removes and returns the oldest message, or None when empty."""
        with self._lock:
            return self._items.popleft() if self._items else None

    def count_dropped(self, count: int = 1) -> None:
        """Counts messages discarded without entering the outbox (e.g. after a stop)."""
        with self._lock:
            self._dropped += count

    def clear(self) -> int:
        """Discards every message, counting them as dropped; returns how many."""
        with self._lock:
            count = len(self._items)
            self._items.clear()
            self._dropped += count
            return count
