"""The publisher's buffers between callers (event loop or worker threads) and its network task.

* :class:`Outbox`: a bounded, thread-safe, drop-oldest queue of encoded event messages. Putting
  never blocks: when the queue is full the oldest message is discarded and counted, since for
  telemetry the newest state is the one worth keeping.
* :class:`RetainedState`: the latest message of every retained topic, with the set of topics
  the broker does not have yet ("dirty"). A newer state replaces an unsent one (never queued
  twice), and after a reconnect every topic is marked dirty, so the broker holds every retained
  topic again even if it lost them (an in-memory broker restarted).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["OutgoingMessage", "Outbox", "RetainedState"]


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


class RetainedState:
    """The latest message per retained topic, at most ``capacity`` topics, thread-safe.

    Raises:
        ValueError: ``capacity < 1``.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"retained-state capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._latest: dict[str, OutgoingMessage] = {}
        self._dirty: dict[str, None] = {}  # insertion-ordered set of topics to (re)send
        self._lock = threading.Lock()
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Messages refused because ``capacity`` topics are already held."""
        return self._dropped

    @property
    def topics(self) -> int:
        """Retained topics held."""
        return len(self._latest)

    @property
    def pending(self) -> int:
        """Retained topics the broker has not acknowledged in their latest state."""
        return len(self._dirty)

    def put(self, item: OutgoingMessage) -> None:
        """Records ``item`` as its topic's latest state, to be sent (replacing an unsent one).
        A new topic beyond ``capacity`` is refused and counted in :attr:`dropped`."""
        with self._lock:
            if item.topic not in self._latest and len(self._latest) >= self._capacity:
                self._dropped += 1
                return
            self._latest[item.topic] = item
            self._dirty.pop(item.topic, None)
            self._dirty[item.topic] = None

    def pop(self) -> OutgoingMessage | None:
        """The oldest dirty topic's latest message (now marked clean), or None."""
        with self._lock:
            if not self._dirty:
                return None
            topic = next(iter(self._dirty))
            del self._dirty[topic]
            return self._latest[topic]

    def put_back(self, item: OutgoingMessage) -> None:
        """Marks ``item``'s topic dirty again after a failed send, unless a newer state is
        already waiting (then that one is sent instead)."""
        with self._lock:
            if self._latest.get(item.topic) is item and item.topic not in self._dirty:
                self._dirty[item.topic] = None

    def mark_all_dirty(self) -> int:
        """Marks every topic to be sent again (after a reconnect); returns how many."""
        with self._lock:
            self._dirty = dict.fromkeys(self._latest)
            return len(self._dirty)
