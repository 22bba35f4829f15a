"""Which grading workers are alive: each ``nngrade worker`` process announces itself in the database.

A worker writes its row at start and refreshes ``last_seen`` every ``interval`` seconds, renewing
the lease of every claim it holds in the same beat (``queue.heartbeat``) and forgetting the
rows of workers gone for over :data:`FORGET_AFTER`; a worker not seen for three intervals
counts as gone (``/readyz`` and ``/metrics`` read :func:`alive`).  The row is removed at a
clean shutdown.  The database is the one place every API process and worker already shares, so
no broker round trip is needed to answer.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from sqlalchemy import delete, select, update

from service.db import Database
from service.db.models import WorkerProcess, utcnow

from .queue import Lease, heartbeat

log = logging.getLogger("nngrade.worker")

#: A worker not seen for this many heartbeat intervals is gone.
MISSED_BEATS = 3
#: A gone worker's row (killed, its machine lost) is kept this long for an operator to see, then
#: removed by the next beat of any live worker, so the table does not grow with every crash.
FORGET_AFTER = timedelta(hours=1)


class Liveness:
    """Announce this worker process in the database until :meth:`stop`."""

    def __init__(self, db: Database, *, concurrency: int, isolation: list[str], interval: float, lease: Lease):
        self.db = db
        self.lease = lease
        self.interval = interval
        self.id = uuid.uuid4().hex
        self.row = dict(id=self.id, hostname=socket.gethostname()[:200], pid=os.getpid(), concurrency=concurrency,
                        isolation=list(isolation), interval=interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nngrade-liveness", daemon=True)

    def start(self) -> None:
        self.beat()
        self._thread.start()

    def beat(self) -> None:
        now = utcnow()
        with self.db.write_session() as session:
            found = session.execute(update(WorkerProcess).where(WorkerProcess.id == self.id)
                                    .values(last_seen=now).execution_options(synchronize_session=False))
            if found.rowcount == 0:
                session.add(WorkerProcess(**self.row, started_at=now, last_seen=now))
            session.execute(delete(WorkerProcess).where(WorkerProcess.last_seen < now - FORGET_AFTER)
                            .execution_options(synchronize_session=False))
        heartbeat(self.db, self.lease)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception as exc:  # the database is away: the next beat tries again
                log.warning("worker heartbeat failed: %s: %s", type(exc).__name__, exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            with self.db.write_session() as session:
                session.execute(delete(WorkerProcess).where(WorkerProcess.id == self.id))
        except Exception:
            log.warning("could not remove this worker's row; it expires by itself")


def alive(db: Database) -> list[WorkerProcess]:
    """The worker processes seen within their last few heartbeat intervals."""
    now = utcnow()
    with db.session() as session:
        rows = list(session.scalars(select(WorkerProcess).order_by(WorkerProcess.started_at)))
    return [w for w in rows if w.last_seen >= now - timedelta(seconds=MISSED_BEATS * w.interval)]

