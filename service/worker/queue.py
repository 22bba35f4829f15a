"""The grading queue, kept in the database so that nothing is lost when the service dies.

A submission row *is* its queue entry: ``queued`` → ``running`` (claimed, with a claim
token and one more attempt) → ``done`` or ``failed`` with a new current report.  Every
state change is one transaction; a report is stored only by the holder of the current
claim, so a grading that was given up on (recovered, released) can never add a second
current report.

Order: new submissions before regrades; within that, round-robin across students in
arrival order — each student's k-th queued submission ranks k, plus one for every
submission of theirs already running — so one student's burst cannot starve the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import lazyload

from graders.framework.report import Report
from service.db import DONE, FAILED, QUEUED, RUNNING, Database, GradingReport, Submission
from service.db.models import utcnow

#: How many times a claim is retried when another worker takes the candidate first.
CLAIM_TRIES = 8


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
    regrade: bool
    regrade_batch_id: int | None
    queued_at: datetime
    started_at: datetime


def _next_candidate():
    queued = (select(Submission.id, Submission.user_id, Submission.priority,
                     func.row_number().over(partition_by=(Submission.user_id, Submission.priority),
                                            order_by=Submission.id).label("rank"))
              .where(Submission.status == QUEUED).subquery())
    running = (select(Submission.user_id, func.count().label("n")).where(Submission.status == RUNNING)
               .group_by(Submission.user_id).subquery())
    return (select(queued.c.id).outerjoin(running, running.c.user_id == queued.c.user_id)
            .order_by(queued.c.priority, queued.c.rank + func.coalesce(running.c.n, 0), queued.c.id).limit(1))


def _take(session, submission_id: int) -> str | None:
    claim = uuid.uuid4().hex
    taken = session.execute(
        update(Submission).where(Submission.id == submission_id, Submission.status == QUEUED)
        .values(status=RUNNING, claim=claim, attempts=Submission.attempts + 1, started_at=utcnow())
        .execution_options(synchronize_session=False))
    return claim if taken.rowcount == 1 else None


def claim_next(db: Database) -> tuple[int, str] | None:
    """Claim the next submission to grade: ``(id, claim)``, or None when the queue is empty."""
    for _ in range(CLAIM_TRIES):
        with db.write_session() as session:
            candidate = session.scalar(_next_candidate())
            if candidate is None:
                return None
            claim = _take(session, candidate)
        if claim is not None:
            return candidate, claim
    return None


def claim(db: Database, submission_id: int) -> str | None:
    """Claim one given submission if it is queued (for a task that grades it by id)."""
    with db.write_session() as session:
        return _take(session, submission_id)


def load_job(db: Database, submission_id: int, claim: str) -> Job | None:
    with db.session() as session:
        sub = session.get(Submission, submission_id)
        if sub is None or sub.status != RUNNING or sub.claim != claim:
            return None
        return Job(submission_id=sub.id, claim=claim, exercise=sub.exercise, filename=sub.filename,
                   content=sub.content, seed=sub.next_seed, attempts=sub.attempts, regrade=sub.priority > 0,
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
        diagnoses=list(report.diagnoses), duration_ms=report.duration_ms, report=report.model_dump(mode="json"),
        note=note))
    sub.status = status
    sub.finished_at = utcnow()
    sub.claim = None
    sub.next_seed = None


def finish(db: Database, job: Job, report: Report, *, status: str = DONE, note: str = "") -> bool:
    """Store the report of a claimed job; False if the claim is no longer this job's."""
    with db.write_session() as session:
        sub = locked(session, job.submission_id)
        if sub is None or sub.status != RUNNING or sub.claim != job.claim:
            return False
        store_report(session, sub, report, status=status, trigger="regrade" if job.regrade else "submit", note=note)
        return True


def release(db: Database, submission_id: int, claim: str, *, count_attempt: bool) -> bool:
    """Put a claimed submission back in the queue (shutdown, or a retry after an error)."""
    values = {"status": QUEUED, "claim": None, "started_at": None}
    if not count_attempt:
        values["attempts"] = Submission.attempts - 1
    with db.write_session() as session:
        done = session.execute(update(Submission).where(Submission.id == submission_id, Submission.claim == claim,
                                                        Submission.status == RUNNING)
                               .values(**values).execution_options(synchronize_session=False))
        return done.rowcount == 1


def interrupted(db: Database) -> list[tuple[int, str, int]]:
    """Submissions left ``running`` by a service that died: ``(id, exercise, attempts)``."""
    with db.session() as session:
        return [tuple(r) for r in session.execute(
            select(Submission.id, Submission.exercise, Submission.attempts).where(Submission.status == RUNNING)
            .order_by(Submission.id))]


def requeue_interrupted(db: Database, submission_id: int) -> None:
    with db.write_session() as session:
        session.execute(update(Submission).where(Submission.id == submission_id, Submission.status == RUNNING)
                        .values(status=QUEUED, claim=None, started_at=None)
                        .execution_options(synchronize_session=False))


def fail_interrupted(db: Database, submission_id: int, report: Report, note: str) -> bool:
    """End an interrupted submission with ``report`` (status ``failed``)."""
    with db.write_session() as session:
        sub = locked(session, submission_id)
        if sub is None or sub.status != RUNNING:
            return False
        store_report(session, sub, report, status=FAILED, trigger="recovery", note=note)
        return True


def depth(db: Database) -> dict[str, int]:
    """How many submissions are in each state."""
    with db.session() as session:
        counts = dict(session.execute(select(Submission.status, func.count()).group_by(Submission.status)).all())
    return {status: int(counts.get(status, 0)) for status in (QUEUED, RUNNING, DONE, FAILED)}


def queued_count(session) -> int:
    return int(session.scalar(select(func.count()).select_from(Submission).where(Submission.status == QUEUED)))
