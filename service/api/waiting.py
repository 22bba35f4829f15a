"""Long-polls (``GET /submissions/{id}?wait=S``): a cap per user, and waking them when a grading ends.

Workers are threads; waiters are coroutines on the event loop.  :meth:`CompletionHub.notify`
may be called from any thread (this process's workers call it when they store a report).
Gradings finished by another process are found by one watcher for all waiters: every
``interval`` it asks the database which of the awaited submissions are finished, in one
query, however many clients wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator

from fastapi.concurrency import run_in_threadpool

from .errors import ApiError

log = logging.getLogger("nngrade.api")


class CompletionHub:
    """Waiters by submission, counted by user.

    Parameters
    ----------
    per_user : int
        Waiters one user may hold at once; one more is refused with 429 ``too-many-waits``.
    interval : float
        Seconds between two looks at the database for gradings finished elsewhere.
    """

    def __init__(self, per_user: int = 8, interval: float = 1.0) -> None:
        self.per_user = per_user
        self.interval = interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._per_user: dict[int, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._watcher: asyncio.Task | None = None
        self._finished_among: Callable[[list[int]], set[int]] | None = None

    def bind(self, loop: asyncio.AbstractEventLoop, finished_among: Callable[[list[int]], set[int]] | None = None) -> None:
        """Attach to the event loop; ``finished_among(ids)`` (blocking) names the finished ones."""
        self._loop = loop
        self._finished_among = finished_among
        if finished_among is not None:
            self._watcher = loop.create_task(self._watch(), name="nngrade-long-poll-watcher")

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    @property
    def waiting(self) -> int:
        with self._lock:
            return sum(len(events) for events in self._events.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, submission_id: int) -> AsyncIterator[asyncio.Event]:
        """An event set when ``submission_id``'s grading ends.  Subscribe before looking at its status,
        so that a grading ending in between is not missed."""
        event = asyncio.Event()
        with self._lock:
            self._events[submission_id].add(event)
        try:
            yield event
        finally:
            with self._lock:
                events = self._events.get(submission_id)
                if events is not None:
                    events.discard(event)
                    if not events:
                        del self._events[submission_id]

    @contextlib.contextmanager
    def charge(self, user_id: int) -> Iterator[None]:
        """One wait against ``user_id``'s cap: 429 ``too-many-waits`` beyond it."""
        with self._lock:
            if self._per_user[user_id] >= self.per_user:
                raise ApiError(429, "too-many-waits", f"You already have {self.per_user} requests waiting for "
                               f"reports (?wait=), the most one user may hold open; wait for those, or ask "
                               f"without ?wait.", headers={"Retry-After": "1"})
            self._per_user[user_id] += 1
        try:
            yield
        finally:
            with self._lock:
                self._per_user[user_id] -= 1
                if not self._per_user[user_id]:
                    del self._per_user[user_id]

    def _set(self, submission_ids) -> None:
        with self._lock:
            events = [e for sid in submission_ids for e in self._events.get(sid, ())]
        for event in events:
            event.set()

    def notify(self, submission_id: int) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._set, (submission_id,))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            with self._lock:
                ids = list(self._events)
            if not ids:
                continue
            try:
                finished = await run_in_threadpool(self._finished_among, ids)
            except Exception as exc:  # the database is down: waiters time out as usual
                log.warning("long-poll watcher: %s: %s", type(exc).__name__, str(exc)[:200])
                continue
            self._set(finished)
