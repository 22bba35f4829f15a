"""Grading workers as threads of the service process.

Each worker claims the next submission from the database queue and grades it with
:func:`tasks.grade_submission`; the student's code itself runs in the configured runner
(the sandbox pool), never in these threads.  An idle worker sleeps until :meth:`WorkerPool.wake`
(a submission to this process) or ``poll_interval`` (one that came through another process).

A keeper thread renews the lease of every claim this process holds (a third of
``lease_seconds``), takes back the claims of holders that are gone, and puts back the
claims a worker could not release while the database was unreachable.
"""

from __future__ import annotations

import logging
import threading
import time

from service.db.engine import is_storage_error

from . import queue
from .tasks import GradingContext, grade_submission, recover_interrupted

log = logging.getLogger("nngrade.worker")

#: Seconds a worker waits before trying again when the runner cannot run code.
UNAVAILABLE_BACKOFF = 5.0


class WorkerPool:
    def __init__(self, context: GradingContext, workers: int, *, poll_interval: float = 1.0):
        self.context = context
        self.size = max(1, workers)
        self.poll_interval = poll_interval
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._generation = 0
        self._claims: dict[int, tuple[int, str]] = {}  # thread ident -> (submission, claim)
        self._unreleased: list[tuple[int, str, bool]] = []  # (submission, claim, count_failure) to put back
        self._claims_lock = threading.Lock()
        self._keeper: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> tuple[list[int], list[int]]:
        """Recover interrupted gradings, then start the workers.  Returns what was recovered."""
        recovered = recover_interrupted(self.context)
        for i in range(self.size):
            thread = threading.Thread(target=self._run, name=f"nngrade-worker-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)
        self._keeper = threading.Thread(target=self._keep, name="nngrade-lease-keeper", daemon=True)
        self._keeper.start()
        return recovered

    def wake(self, n: int | None = None) -> None:
        """Wake ``n`` idle workers (all of them when None): ``n`` submissions were queued.

        Woken beyond that, a worker would only take the write lock to find the queue empty.
        A worker busy meanwhile sees the new generation and looks at the queue again before
        it sleeps, so no submission waits for ``poll_interval``."""
        with self._cond:
            self._generation += 1
            if n is None:
                self._cond.notify_all()
            else:
                self._cond.notify(n)

    def stop(self, timeout: float = 10.0) -> list[int]:
        """Stop taking work; wait up to ``timeout`` for gradings in progress, then put the
        unfinished ones back in the queue (without counting the attempt).  Returns those ids."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._keeper is not None:
            self._keeper.join(max(0.0, deadline - time.monotonic()))
        released = []
        with self._claims_lock:
            pending = list(self._claims.values()) + [(s, c) for s, c, _ in self._unreleased]
        for submission_id, claim in pending:
            try:
                if queue.release(self.context.db, submission_id, claim, count_failure=False):
                    released.append(submission_id)
            except Exception:
                log.exception("could not put submission %s back in the queue", submission_id)
        return released

    @property
    def alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    @property
    def busy(self) -> int:
        with self._claims_lock:
            return len(self._claims)

    # ------------------------------------------------------------------ the loop

    def _idle(self, generation: int) -> None:
        with self._cond:
            if self._generation == generation and not self._stop.is_set():
                self._cond.wait(self.poll_interval)

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.is_set():
            with self._cond:
                generation = self._generation
            with self.context.exclusive():
                try:
                    item = queue.claim_next(self.context.db, self.context.lease)
                except Exception:
                    log.exception("could not read the grading queue; retrying")
                    item = ()
                if item:
                    self._grade(me, *item)
            if item is None:
                self._idle(generation)
            elif not item:  # the database did not answer
                self._stop.wait(self.poll_interval)
            elif self.context.unavailable:  # the runner refuses to run code: back off, the work stays queued
                self._stop.wait(max(self.poll_interval, UNAVAILABLE_BACKOFF))

    def _grade(self, me: int, submission_id: int, claim: str) -> None:
        with self._claims_lock:
            self._claims[me] = (submission_id, claim)
        try:
            grade_submission(submission_id, claim=claim, context=self.context)
        except Exception as exc:  # e.g. the database went away mid-way: put it back for later
            storage = is_storage_error(exc)
            if storage:  # the service's trouble, not the submission's: it does not count
                log.error("submission %s: the database failed (%s); it goes back to the queue",
                          submission_id, type(exc).__name__)
            else:
                log.exception("worker failed on submission %s", submission_id)
            self._put_back(submission_id, claim, count_failure=not storage)
            self._stop.wait(self.poll_interval)
        finally:
            with self._claims_lock:
                self._claims.pop(me, None)

    def _put_back(self, submission_id: int, claim: str, *, count_failure: bool) -> None:
        try:
            queue.release(self.context.db, submission_id, claim, count_failure=count_failure)
        except Exception:  # still unreachable: the keeper renews its lease and puts it back later
            log.warning("could not put submission %s back in the queue yet; will retry", submission_id)
            with self._claims_lock:
                self._unreleased.append((submission_id, claim, count_failure))

    # ------------------------------------------------------------------ leases

    def _keep(self) -> None:
        interval = self.context.settings.lease_seconds / 3
        while not self._stop.wait(interval):
            try:
                queue.heartbeat(self.context.db, self.context.lease)
                with self._claims_lock:
                    unreleased, self._unreleased = self._unreleased, []
                for submission_id, claim, count_failure in unreleased:
                    self._put_back(submission_id, claim, count_failure=count_failure)
                requeued, failed = recover_interrupted(self.context)
                if requeued or unreleased:
                    self.wake()
            except Exception as exc:
                log.warning("could not renew leases or take back stale claims: %s: %s", type(exc).__name__,
                            str(exc)[:200])
