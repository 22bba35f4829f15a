"""The service's tables (SQLAlchemy 2).  The API's pydantic schemas are separate (``service.api.schemas``).

* :class:`User` — a student or an instructor, known by a unique name.
* :class:`Token` — a bearer token of a user; only its SHA-256 is stored.
* :class:`Submission` — the uploaded file (bytes and hash) and its place in the grading queue.
* :class:`GradingReport` — one grading run's report; a submission keeps every report it ever
  got (regrades add more), and exactly one of them is ``is_current`` once it has been graded.
* :class:`RegradeBatch` — a bulk regrade, so its progress can be followed.
* :class:`Assignment`, :class:`Extension`, :class:`RosterEntry` — the course (``service.course``): an
  exercise's dates and late policy, one student's own dates, and the roster with the LMS's ids.
* :class:`WorkerProcess` — a running ``nngrade worker`` process and when it was last seen.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, TypeDecorator, UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: Submission states.  ``done`` and ``failed`` are final until a regrade queues it again.
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)
ROLES = ("student", "instructor")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[str]: JSON()}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list["Token"]] = relationship(back_populates="user")


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(back_populates="tokens", lazy="joined")


class RegradeBatch(Base):
    __tablename__ = "regrade_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exercise: Mapped[str | None] = mapped_column(String(100), default=None)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    total: Mapped[int] = mapped_column(Integer, default=0)
    seed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    new_seed: Mapped[bool] = mapped_column(Boolean, default=False)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key", name="uq_submissions_user_idempotency"),
        Index("ix_submissions_queue", "status", "priority", "id"),
        Index("ix_submissions_user_created", "user_id", "created_at"),
        Index("ix_submissions_exercise", "exercise", "id"),
        Index("ix_submissions_lease", "status", "lease_expires_at"),
        # the dashboard: each student's attempts at an exercise, and the submissions of a day
        Index("ix_submissions_exercise_user", "exercise", "user_id", "id"),
        Index("ix_submissions_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    exercise: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_sha256: Mapped[str | None] = mapped_column(String(64), default=None)

    # the queue
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0: a new submission; 1: a regrade
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # gradings started
    #: Gradings that ended in a way that counts toward ``max_attempts``: the grader failed, or the
    #: process that ran the student's code in itself (the in-process runner) died.
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claim: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The process holding the claim, and until when: it renews the lease while it grades.
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Whether the claim's holder runs student code in its own process (so its death may be the code's doing).
    claim_inprocess: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    #: Seed for the queued grading (a regrade's); None draws a fresh one.
    next_seed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    regrade_batch_id: Mapped[int | None] = mapped_column(ForeignKey("regrade_batches.id"), default=None,
                                                         index=True)
    #: When a grading task for the queued submission was last sent to the broker (Celery mode).
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")


class GradingReport(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_created", "created_at"),)  # the dashboard's last hour
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    trigger: Mapped[str] = mapped_column(String(20), default="submit")  # submit | regrade | recovery
    regrade_batch_id: Mapped[int | None] = mapped_column(ForeignKey("regrade_batches.id"), default=None)
    status: Mapped[str] = mapped_column(String(20))  # the report's: graded | rejected
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    seed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    grader_version: Mapped[str] = mapped_column(String(100), default="")
    exercise_version: Mapped[str] = mapped_column(String(50), default="")
    diagnoses: Mapped[list[str]] = mapped_column(default=list)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    report: Mapped[dict[str, Any]] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")


# At most one current report per submission, enforced by the database itself.
Index("uq_reports_current", GradingReport.submission_id, unique=True,
      sqlite_where=GradingReport.is_current, postgresql_where=GradingReport.is_current)


# ------------------------------------------------------------------ the course (service.course)

#: Late policies: no penalty; a percentage per started day or hour late (capped); a fixed percentage.
LATE_POLICIES = ("none", "per-day", "per-hour", "fixed")


class Assignment(Base):
    """An exercise published to the students with its dates (UTC) and late policy; one per exercise."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exercise: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column()
    #: The last moment a submission is accepted; None: the due date is also the end.
    late_until: Mapped[datetime | None] = mapped_column(default=None)
    #: The IANA zone the instructor entered the dates in (for display; the dates are UTC).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    late_policy: Mapped[str] = mapped_column(String(20), default="none")
    #: Percent per started unit (per-day, per-hour) or in all (fixed).
    penalty_percent: Mapped[float] = mapped_column(Float, default=0.0)
    #: The most a per-day or per-hour penalty takes, in percent.
    penalty_cap: Mapped[float] = mapped_column(Float, default=100.0)
    max_attempts: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Extension(Base):
    """One student's own due date (and late-until) for one assignment; revoked ones are kept."""

    __tablename__ = "extensions"
    __table_args__ = (Index("ix_extensions_assignment_user", "assignment_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column()
    late_until: Mapped[datetime | None] = mapped_column(default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class RosterEntry(Base):
    """A student on the course roster: e-mail, section and the LMS's ids.  Removal keeps the row."""

    __tablename__ = "roster"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    section: Mapped[str] = mapped_column(String(100), default="")
    lms_id: Mapped[str] = mapped_column(String(100), default="")  # Canvas's "ID"
    sis_user_id: Mapped[str] = mapped_column(String(100), default="")
    sis_login_id: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")


class WorkerProcess(Base):
    """A ``nngrade worker`` process, refreshed every ``interval`` seconds while it runs."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    concurrency: Mapped[int] = mapped_column(Integer)
    isolation: Mapped[list[str]] = mapped_column(default=list)
    interval: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow, index=True)
