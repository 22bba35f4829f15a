"""Waking long-polls (``GET /submissions/{id}?wait=S``) when a grading ends.

Workers are threads; waiters are coroutines on the event loop.  :meth:`CompletionHub.notify`
may be called from any thread.  Gradings finished by another process are seen by the
waiters' periodic re-read of the database.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict


class CompletionHub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[int, set[asyncio.Event]] = defaultdict(set)
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def register(self, submission_id: int) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._events[submission_id].add(event)
        return event

    def unregister(self, submission_id: int, event: asyncio.Event) -> None:
        with self._lock:
            events = self._events.get(submission_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._events[submission_id]

    def _set(self, submission_id: int) -> None:
        with self._lock:
            events = list(self._events.get(submission_id, ()))
        for event in events:
            event.set()

    def notify(self, submission_id: int) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._set, submission_id)
