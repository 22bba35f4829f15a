"""The grading queue, kept in the database so that nothing is lost when the service dies.

This module owns every state transition of a submission; nothing else writes them.

A submission row *is* its queue entry: :func:`enqueue` (``queued``) → :func:`claim_next` or
:func:`claim` (``running``: a claim token, one more attempt, and a lease) → :func:`finish`
(``done`` or ``failed`` with a new current report), or :func:`release` back to ``queued``;
:func:`requeue_for_regrade` queues a finished one again.  Every change is one transaction;
a report is stored only by the holder of the current claim, so a grading that was given up
on can never add a second current report.

Leases: the claim's holder (a :class:`Lease`, one per process) renews the lease of every
claim it holds with :func:`heartbeat`.  Only a claim whose lease has expired is taken back
(:func:`stale`, :func:`requeue_stale`, :func:`fail_stale`), so any number of processes can
share one database without stealing each other's live work.

Order: new submissions before regrades; within that, round-robin across students in
arrival order — each student's k-th queued submission ranks k, plus one for every
submission of theirs already running — so one student's burst cannot starve the others.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import lazyload

from graders.framework.report import Report
from service.db import DONE, FAILED, QUEUED, RUNNING, Database, GradingReport, Submission
from service.db.models import utcnow

#: How many times a claim is retried when another worker takes the candidate first.
CLAIM_TRIES = 8


@dataclass(frozen=True)
class Lease:
    """Who holds claims, for how long a renewal lasts, and whether student code runs in that process."""

    seconds: float = 30.0
    #: True with the in-process runner: the holder's death may then be the student code's doing.
    inprocess: bool = False
    owner: str = field(default_factory=lambda: f"{socket.gethostname()[:100]}:{os.getpid()}:{uuid.uuid4().hex[:12]}")

    def expiry(self, now: datetime | None = None) -> datetime:
        return (now or utcnow()) + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Job:
    """What a worker needs to grade one claimed submission."""

    submission_id: int
    claim: str
    exercise: str
    filename: str
    content: bytes
    seed: int | None
    attempts: int
    failures: int
    regrade: bool
    regrade_batch_id: int | None
    queued_at: datetime
    started_at: datetime


@dataclass(frozen=True)
class Stale:
    """A ``running`` submission whose lease expired: its holder died or lost the database."""

    submission_id: int
    exercise: str
    failures: int
    inprocess: bool


# ------------------------------------------------------------------ entering the queue


def enqueue(session, *, user_id: int, exercise: str, filename: str, content: bytes, sha256: str,
            idempotency_key: str | None = None, request_sha256: str | None = None,
            now: datetime | None = None) -> Submission:
    """Add a new submission to the queue in ``session``'s transaction (committed with it)."""
    now = now or utcnow()
    sub = Submission(user_id=user_id, exercise=exercise, filename=filename, content=content, size=len(content),
                     sha256=sha256, created_at=now, queued_at=now, status=QUEUED,
                     idempotency_key=idempotency_key, request_sha256=request_sha256)
    session.add(sub)
    session.flush()
    return sub


def requeue_for_regrade(sub: Submission, *, seed: int | None, batch_id: int, now: datetime | None = None) -> bool:
    """Queue a finished submission again (a regrade, after new work); False if it is not finished."""
    if sub.status not in (DONE, FAILED):
        return False
    sub.status, sub.priority, sub.attempts, sub.failures, sub.claim = QUEUED, 1, 0, 0, None
    sub.lease_owner = sub.lease_expires_at = sub.dispatched_at = None
    sub.next_seed, sub.regrade_batch_id, sub.queued_at = seed, batch_id, now or utcnow()
    sub.started_at = sub.finished_at = None
    return True


def _next_candidate():
    queued = (select(Submission.id, Submission.user_id, Submission.priority,
                     func.row_number().over(partition_by=(Submission.user_id, Submission.priority),
                                            order_by=Submission.id).label("rank"))
              .where(Submission.status == QUEUED).subquery())
    running = (select(Submission.user_id, func.count().label("n")).where(Submission.status == RUNNING)
               .group_by(Submission.user_id).subquery())
    return (select(queued.c.id).outerjoin(running, running.c.user_id == queued.c.user_id)
            .order_by(queued.c.priority, queued.c.rank + func.coalesce(running.c.n, 0), queued.c.id).limit(1))


def _take(session, submission_id: int, lease: Lease) -> str | None:
    claim = uuid.uuid4().hex
    now = utcnow()
    taken = session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.status == QUEUED)
        .values(status=RUNNING, claim=claim, attempts=Submission.attempts + 1, started_at=now,
                lease_owner=lease.owner, lease_expires_at=lease.expiry(now), claim_inprocess=lease.inprocess)
        .execution_options(synchronize_session=False))
    return claim if taken.rowcount == 1 else None


#: Built once: constructing the statement cost more than running it on a short queue.
NEXT_CANDIDATE = _next_candidate()


def claim_next(db: Database, lease: Lease | None = None) -> tuple[int, str] | None:
    """Claim the next submission to grade: ``(id, claim)``, or None when the queue is empty.

    A claim's commit does not wait for the disk (``durable=False``): lost in a power failure,
    the submission is simply ``queued`` again, and the report that would follow is only ever
    stored by a durable commit of the claim's holder (:func:`finish`), which makes the claim
    durable with it."""
    lease = lease or Lease()
    for _ in range(CLAIM_TRIES):
        with db.write_session(durable=False) as session:
            candidate = session.scalar(NEXT_CANDIDATE)
            if candidate is None:
                return None
            claim = _take(session, candidate, lease)
        if claim is not None:
            return candidate, claim
    return None


def claim(db: Database, submission_id: int, lease: Lease | None = None) -> str | None:
    """Claim one given submission if it is queued (for a task that grades it by id); as durable as
    :func:`claim_next`'s."""
    with db.write_session(durable=False) as session:
        return _take(session, submission_id, lease or Lease())


def heartbeat(db: Database, lease: Lease) -> int:
    """Renew the lease of every claim ``lease.owner`` holds; returns how many."""
    with db.write_session() as session:
        renewed = session.execute(update(Submission).where(Submission.status == RUNNING,
                                                           Submission.lease_owner == lease.owner)
                                  .values(lease_expires_at=lease.expiry())
                                  .execution_options(synchronize_session=False))
        return int(renewed.rowcount or 0)


def load_job(db: Database, submission_id: int, claim: str) -> Job | None:
    with db.session() as session:
        sub = session.get(Submission, submission_id)
        if sub is None or sub.status != RUNNING or sub.claim != claim:
            return None
        return Job(submission_id=sub.id, claim=claim, exercise=sub.exercise, filename=sub.filename,
                   content=sub.content, seed=sub.next_seed, attempts=sub.attempts, failures=sub.failures,
                   regrade=sub.priority > 0,
                   regrade_batch_id=sub.regrade_batch_id, queued_at=sub.queued_at,
                   started_at=sub.started_at or utcnow())


def locked(session, submission_id: int) -> Submission | None:
    """The submission, its row locked for this transaction (PostgreSQL; SQLite's write lock covers it)."""
    return session.scalar(select(Submission).where(Submission.id == submission_id)
                          .options(lazyload(Submission.user)).with_for_update())


def store_report(session, sub: Submission, report: Report, *, status: str, trigger: str, note: str = "") -> None:
    """Make ``report`` the submission's one current report and end its grading with ``status``."""
    session.execute(update(GradingReport).where(GradingReport.submission_id == sub.id, GradingReport.is_current)
                    .values(is_current=False).execution_options(synchronize_session=False))
    session.add(GradingReport(
        submission_id=sub.id, is_current=True, trigger=trigger, regrade_batch_id=sub.regrade_batch_id,
        status=report.status, score=report.score, max_score=report.max_score, seed=report.seed,
        grader_version=report.grader_version, exercise_version=report.exercise_version,
        diagnoses=report.found_diagnoses, duration_ms=report.duration_ms, report=report.model_dump(mode="json"),
        note=note))
    sub.status = status
    sub.finished_at = utcnow()
    sub.claim = sub.lease_owner = sub.lease_expires_at = None
    sub.next_seed = None


def finish(db: Database, job: Job, report: Report, *, status: str = DONE, note: str = "") -> bool:
    """Store the report of a claimed job; False if the claim is no longer this job's."""
    with db.write_session() as session:
        sub = locked(session, job.submission_id)
        if sub is None or sub.status != RUNNING or sub.claim != job.claim:
            return False
        store_report(session, sub, report, status=status, trigger="regrade" if job.regrade else "submit", note=note)
        return True


def release(db: Database, submission_id: int, claim: str, *, count_failure: bool) -> bool:
    """Put a claimed submission back in the queue (shutdown, the runner unavailable, or a retry
    after an error); ``count_failure``: the error counts toward ``max_attempts``."""
    values = {"status": QUEUED, "claim": None, "started_at": None, "lease_owner": None, "lease_expires_at": None,
              "dispatched_at": None}
    if count_failure:
        values["failures"] = Submission.failures + 1
    with db.write_session() as session:
        done = session.execute(update(Submission).where(Submission.id == submission_id, Submission.claim == claim,
                                                        Submission.status == RUNNING)
                               .values(**values).execution_options(synchronize_session=False))
        return done.rowcount == 1


def _is_stale(now: datetime, every_running: bool = False):
    if every_running:
        return Submission.status == RUNNING
    return (Submission.status == RUNNING) & or_(Submission.lease_expires_at.is_(None),
                                                Submission.lease_expires_at < now)


def stale(db: Database, *, exclude_owner: str | None = None, every_running: bool = False) -> list[Stale]:
    """Claims whose lease has expired (a holder that died, or lost the database for longer than a lease);
    ``every_running``: every claim but ``exclude_owner``'s (when no other process can hold one)."""
    condition = _is_stale(utcnow(), every_running)
    if exclude_owner is not None:
        condition &= or_(Submission.lease_owner.is_(None), Submission.lease_owner != exclude_owner)
    with db.session() as session:
        rows = session.execute(select(Submission.id, Submission.exercise, Submission.failures,
                                      Submission.claim_inprocess).where(condition).order_by(Submission.id))
        return [Stale(int(i), e, int(f), bool(p)) for i, e, f, p in rows]


def requeue_stale(db: Database, submission_id: int, *, count_failure: bool, every_running: bool = False) -> bool:
    """Queue a stale claim's submission again, if its lease is still expired (not renewed meanwhile)."""
    values = {"status": QUEUED, "claim": None, "started_at": None, "lease_owner": None, "lease_expires_at": None,
              "dispatched_at": None}
    if count_failure:
        values["failures"] = Submission.failures + 1
    with db.write_session() as session:
        done = session.execute(update(Submission).where(Submission.id == submission_id,
                                                        _is_stale(utcnow(), every_running))
                               .values(**values).execution_options(synchronize_session=False))
        return done.rowcount == 1


def fail_stale(db: Database, submission_id: int, report: Report, note: str, *, every_running: bool = False) -> bool:
    """End a stale claim's submission with ``report`` (status ``failed``), if its lease is still expired."""
    with db.write_session() as session:
        sub = locked(session, submission_id)
        if sub is None or sub.status != RUNNING:
            return False
        if not every_running and sub.lease_expires_at is not None and sub.lease_expires_at >= utcnow():
            return False
        sub.failures += 1
        store_report(session, sub, report, status=FAILED, trigger="recovery", note=note)
        return True


def depth(db: Database) -> dict[str, int]:
    """How many submissions are in each state."""
    with db.session() as session:
        counts = dict(session.execute(select(Submission.status, func.count()).group_by(Submission.status)).all())
    return {status: int(counts.get(status, 0)) for status in (QUEUED, RUNNING, DONE, FAILED)}


def queued_count(session) -> int:
    return int(session.scalar(select(func.count()).select_from(Submission).where(Submission.status == QUEUED)))


def finished_among(db: Database, submission_ids: list[int]) -> set[int]:
    """Which of these submissions are ``done`` or ``failed`` now (one query, for the long-poll watcher)."""
    found: set[int] = set()
    with db.session() as session:
        for start in range(0, len(submission_ids), 500):
            chunk = submission_ids[start:start + 500]
            found.update(session.scalars(select(Submission.id).where(Submission.id.in_(chunk),
                                                                     Submission.status.in_((DONE, FAILED)))))
    return found


def oldest_queued_seconds(db: Database) -> float:
    """How long the oldest queued submission has waited (0 when none waits)."""
    with db.session() as session:
        oldest = session.scalar(select(func.min(Submission.queued_at)).where(Submission.status == QUEUED))
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite's aggregate bypasses the column type
        oldest = oldest.replace(tzinfo=timezone.utc)
    return max(0.0, (utcnow() - oldest).total_seconds())


def mark_dispatched(db: Database, submission_ids: list[int]) -> None:
    """Record that grading tasks for these queued submissions were sent to the broker."""
    with db.write_session() as session:
        session.execute(update(Submission).where(Submission.id.in_(submission_ids), Submission.status == QUEUED)
                        .values(dispatched_at=utcnow()).execution_options(synchronize_session=False))


def due_for_dispatch(db: Database, *, older_than: float, limit: int = 1000) -> list[int]:
    """Queued submissions never dispatched, or dispatched more than ``older_than`` seconds ago, each
    marked as dispatched now so that another sweeping process does not pick it too."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    with db.write_session() as session:
        ids = list(session.scalars(
            select(Submission.id).where(Submission.status == QUEUED,
                                        or_(Submission.dispatched_at.is_(None), Submission.dispatched_at < cutoff))
            .order_by(Submission.priority, Submission.id).limit(limit).with_for_update(skip_locked=True)))
        if ids:
            session.execute(update(Submission).where(Submission.id.in_(ids)).values(dispatched_at=utcnow())
                            .execution_options(synchronize_session=False))
    return ids


def clear_dispatched(db: Database, submission_ids: list[int]) -> None:
    """The broker did not take these: the next sweep sends them again."""
    with db.write_session() as session:
        session.execute(update(Submission).where(Submission.id.in_(submission_ids), Submission.status == QUEUED)
                        .values(dispatched_at=None).execution_options(synchronize_session=False))


def lease_remaining(db: Database, submission_id: int) -> float | None:
    """Seconds until the lease of a ``running`` submission runs out (0 if it already has), or None
    when it is not running (nothing to wait for)."""
    with db.session() as session:
        row = session.execute(select(Submission.status, Submission.lease_expires_at)
                              .where(Submission.id == submission_id)).first()
    if row is None or row.status != RUNNING or row.lease_expires_at is None:
        return None
    return max(0.0, (row.lease_expires_at - utcnow()).total_seconds())
