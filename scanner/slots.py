"""Browser work slots: at most N contexts open at once, handed out by priority.

Consent phases come first (each unlocks a whole state's page visits), then the discovery
visits of state `none` (each may add pages to every state), then the other page visits;
equal priorities are served in arrival order.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
from contextlib import asynccontextmanager

PHASE, DISCOVER, VISIT = 0, 1, 2


class Slots:
    def __init__(self, size: int):
        if size < 1:
            raise ValueError("at least one slot")
        self.size = size
        self.free = size
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self.free > 0 and not self._pending():
            self.free -= 1
            return
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted, then cancelled before it could be used: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self.free += 1

    def _pending(self) -> bool:
        while self._waiters and self._waiters[0][2].done():
            heapq.heappop(self._waiters)
        return bool(self._waiters)

    @asynccontextmanager
    async def hold(self, priority: int):
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()
