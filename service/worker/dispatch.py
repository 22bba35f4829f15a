"""Telling the graders that work is queued: one dispatcher per process, chosen by the settings.

The database is the queue and the only source of truth; a dispatcher only says "look".
Routers and the sweeper call :meth:`Dispatcher.dispatch` after the submissions are
committed, and never need to know which mode runs:

* :class:`LocalDispatcher` (the embedded default) wakes the grading threads of this process;
* :class:`CeleryDispatcher` (``NNGRADE_BROKER_URL`` set) sends one Celery task per
  submission to the broker, for ``nngrade worker`` processes on any machine.

A dispatch that fails (the broker is away) loses nothing: the submission stays queued in
the database, and :class:`Sweeper` sends it again once the broker answers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger("nngrade.dispatch")


class Dispatcher(Protocol):
    """Says that submissions wait in the queue.  Never raises for a broker that is away."""

    mode: str

    def dispatch(self, submission_ids: Sequence[int]) -> None: ...

    def close(self) -> None: ...


class LocalDispatcher:
    """The embedded default: wake this process's grading threads (if it has any)."""

    mode = "in-process"

    def __init__(self, wake: Callable[[int], None] | None = None):
        self.wake = wake  # called with how many submissions were queued

    def dispatch(self, submission_ids: Sequence[int]) -> None:
        if submission_ids and self.wake is not None:
            self.wake(len(submission_ids))

    def close(self) -> None:
        pass


class CeleryDispatcher:
    """Send one grading task per submission to the broker, and record that it was sent."""

    mode = "celery"

    def __init__(self, celery_app, db):
        self.app = celery_app
        self.db = db
        self.broker_error: str | None = None

    def dispatch(self, submission_ids: Sequence[int]) -> None:
        from . import queue
        from .celery_app import send_grading

        sent: list[int] = []
        try:
            for submission_id in submission_ids:
                send_grading(self.app, submission_id)
                sent.append(submission_id)
            self.broker_error = None
        except Exception as exc:  # kombu's OperationalError, a socket error, a refused publish
            self.broker_error = f"{type(exc).__name__}: {exc}"
            unsent = [i for i in submission_ids if i not in set(sent)]
            log.warning("broker unavailable, %d submission(s) stay queued for the sweeper: %s", len(unsent),
                        self.broker_error)
            try:
                queue.clear_dispatched(self.db, unsent)
            except Exception:  # the database is away too: the sweep after redispatch_after sends them
                log.exception("could not mark %s as not dispatched", unsent)
        if sent:
            try:
                queue.mark_dispatched(self.db, sent)
            except Exception:  # the sweeper may send them once more: a redelivered task is harmless
                log.exception("could not record the dispatch of %s", sent)

    def close(self) -> None:
        try:
            self.app.pool.force_close_all()
        except Exception:
            pass


class Sweeper:
    """A thread that re-sends what the broker never took, and requeues gradings whose worker died.

    Every ``interval`` seconds: claims whose lease ran out go back to the queue (their worker
    stopped heartbeating), then every queued submission that was never dispatched, or whose
    dispatch is older than ``redispatch_after`` seconds, is dispatched again.  Any number of
    API processes may sweep one database: each submission is picked by one of them at a time.
    """

    def __init__(self, db, dispatcher: Dispatcher, *, interval: float, redispatch_after: float,
                 recover: Callable[[], object], on_error: Callable[[str | None], None] | None = None):
        self.db = db
        self.recover = recover
        self.dispatcher = dispatcher
        self.interval = interval
        self.redispatch_after = redispatch_after
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="nngrade-sweeper", daemon=True)
        self._thread.start()

    def sweep(self) -> list[int]:
        """One pass; returns the submissions dispatched again."""
        from . import queue

        self.recover()  # stale claims back to the queue, marked as not dispatched
        due = queue.due_for_dispatch(self.db, older_than=self.redispatch_after)
        if due:
            self.dispatcher.dispatch(due)
        return due

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep()
                error = None
            except Exception as exc:  # the database is away: try again next time
                error = f"{type(exc).__name__}: {exc}"
                log.warning("sweep failed: %s", error)
            if self.on_error is not None:
                self.on_error(error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
