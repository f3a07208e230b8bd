"""Helpers shared by the telemetry tests (imported as a plain module)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from google.protobuf.message import Message

from broker.subscriber import TelemetrySubscriber

LOCAL_HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on which nothing listens right now."""
    with socket.socket() as sock:
        sock.bind((LOCAL_HOST, 0))
        return int(sock.getsockname()[1])


async def next_matching(
    subscriber: TelemetrySubscriber,
    predicate: Callable[[str, Message], bool] = lambda topic, message: True,
    *,
    timeout_s: float = 3.0,
) -> tuple[str, Message]:
    """The next received ``(topic, message)`` satisfying ``predicate``; fails on timeout."""

    async def scan() -> tuple[str, Message]:
        async for topic, message in subscriber:
            if predicate(topic, message):
                return topic, message
        raise AssertionError("subscription ended")

    return await asyncio.wait_for(scan(), timeout_s)


async def eventually(condition: Callable[[], bool], *, timeout_s: float = 3.0,
                     interval_s: float = 0.02) -> None:
    """Waits until ``condition()`` holds; fails after ``timeout_s``."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval_s)
