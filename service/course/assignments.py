"""Assignments and extensions: keyword-only write functions the routes and the tests call, and
:func:`admit_submission`, the gate every student submission passes (inside the exclusive write
transaction that accepts it, so the attempt count and the insert are atomic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import exercises
from service.db import FAILED, Submission, User
from service.db.models import Assignment, Extension

from .errors import CourseError
from .policy import (CLOSED, NOT_OPEN, LatePolicy, Timing, Window, assess, check_dates, describe_delay, to_utc,
                     window, zone)


def policy_of(assignment: Assignment) -> LatePolicy:
    return LatePolicy(assignment.late_policy, assignment.penalty_percent, assignment.penalty_cap)


def window_of(assignment: Assignment, extension: Extension | None = None) -> Window:
    return window(opens_at=assignment.opens_at, due_at=assignment.due_at, late_until=assignment.late_until,
                  extension_due=extension.due_at if extension else None,
                  extension_late_until=extension.late_until if extension else None)


def find_assignment(session: Session, exercise: str) -> Assignment:
    found = session.scalar(select(Assignment).where(Assignment.exercise == exercise))
    if found is None:
        raise CourseError(404, "assignment-not-found", f"{exercise!r} is not published as an assignment; see "
                                                       f"`nngrade assignment list`")
    return found


def list_assignments(session: Session) -> list[Assignment]:
    return list(session.scalars(select(Assignment).order_by(Assignment.due_at, Assignment.exercise)))


def _student(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None or user.role != "student":
        raise CourseError(404, "student-not-found", f"there is no student {name!r}")
    return user


def _apply(assignment: Assignment, *, tz: str, opens_at, due_at, late_until, title, late_policy, penalty_percent,
           penalty_cap, max_attempts, clear_late_until: bool = False, clear_max_attempts: bool = False) -> None:
    zone(tz)
    assignment.timezone = tz
    if title is not None:
        assignment.title = title.strip() or assignment.title
    if opens_at is not None:
        assignment.opens_at = to_utc(opens_at, tz)
    if due_at is not None:
        assignment.due_at = to_utc(due_at, tz)
    if late_until is not None:
        assignment.late_until = to_utc(late_until, tz)
    elif clear_late_until:
        assignment.late_until = None
    policy = LatePolicy(late_policy if late_policy is not None else assignment.late_policy,
                        penalty_percent if penalty_percent is not None else assignment.penalty_percent,
                        penalty_cap if penalty_cap is not None else assignment.penalty_cap)
    assignment.late_policy, assignment.penalty_percent, assignment.penalty_cap = policy.kind, policy.percent, policy.cap
    if max_attempts is not None:
        if max_attempts < 1:
            raise CourseError(422, "invalid-max-attempts", f"max attempts must be at least 1, not {max_attempts}")
        assignment.max_attempts = max_attempts
    elif clear_max_attempts:
        assignment.max_attempts = None
    check_dates(opens_at=assignment.opens_at, due_at=assignment.due_at, late_until=assignment.late_until)


def create_assignment(session: Session, *, exercise: str, opens_at: datetime, due_at: datetime,
                      late_until: datetime | None = None, timezone: str = "UTC", title: str | None = None,
                      late_policy: str = "none", penalty_percent: float = 0.0, penalty_cap: float = 100.0,
                      max_attempts: int | None = None, now: datetime) -> Assignment:
    """Publish ``exercise``; naive dates are read in ``timezone`` and stored in UTC.  409 if it already is."""
    try:
        ex = exercises.get(exercise)
    except exercises.UnknownExercise as exc:
        raise CourseError(404, "unknown-exercise", str(exc)) from None
    if session.scalar(select(Assignment.id).where(Assignment.exercise == ex.id)) is not None:
        raise CourseError(409, "assignment-exists", f"{ex.id!r} is already an assignment; change it with "
                                                    f"`nngrade assignment update {ex.id}`")
    assignment = Assignment(exercise=ex.id, title=ex.title, opens_at=now, due_at=now, created_at=now, updated_at=now)
    _apply(assignment, tz=timezone, opens_at=opens_at, due_at=due_at, late_until=late_until, title=title,
           late_policy=late_policy, penalty_percent=penalty_percent, penalty_cap=penalty_cap,
           max_attempts=max_attempts)
    session.add(assignment)
    session.flush()
    return assignment


def update_assignment(session: Session, *, exercise: str, now: datetime, timezone: str | None = None,
                      opens_at: datetime | None = None, due_at: datetime | None = None,
                      late_until: datetime | None = None, clear_late_until: bool = False, title: str | None = None,
                      late_policy: str | None = None, penalty_percent: float | None = None,
                      penalty_cap: float | None = None, max_attempts: int | None = None,
                      clear_max_attempts: bool = False) -> Assignment:
    """Change what is given (None: unchanged); naive dates are read in ``timezone`` (default: the
    assignment's)."""
    assignment = find_assignment(session, exercise)
    _apply(assignment, tz=timezone or assignment.timezone, opens_at=opens_at, due_at=due_at, late_until=late_until,
           title=title, late_policy=late_policy, penalty_percent=penalty_percent, penalty_cap=penalty_cap,
           max_attempts=max_attempts, clear_late_until=clear_late_until, clear_max_attempts=clear_max_attempts)
    assignment.updated_at = now
    session.flush()
    return assignment


# ------------------------------------------------------------------ extensions


def active_extension(session: Session, *, assignment_id: int, user_id: int) -> Extension | None:
    return session.scalar(select(Extension).where(Extension.assignment_id == assignment_id,
                                                  Extension.user_id == user_id, Extension.revoked_at.is_(None))
                          .order_by(Extension.id.desc()).limit(1))


def grant_extension(session: Session, *, exercise: str, student: str, due_at: datetime,
                    late_until: datetime | None = None, reason: str = "", granted_by: int | None = None,
                    now: datetime) -> Extension:
    """A new due date (and late-until) for one student; naive dates are in the assignment's zone.  It
    replaces (revokes) the student's earlier extension of that assignment."""
    assignment = find_assignment(session, exercise)
    user = _student(session, student)
    due = to_utc(due_at, assignment.timezone)
    late = to_utc(late_until, assignment.timezone) if late_until is not None else None
    check_dates(opens_at=assignment.opens_at, due_at=due, late_until=late)
    previous = active_extension(session, assignment_id=assignment.id, user_id=user.id)
    if previous is not None:
        previous.revoked_at = now
    extension = Extension(assignment_id=assignment.id, user_id=user.id, due_at=due, late_until=late,
                          reason=reason.strip(), granted_by=granted_by, created_at=now)
    session.add(extension)
    session.flush()
    return extension


def revoke_extension(session: Session, *, extension_id: int, now: datetime) -> Extension:
    extension = session.get(Extension, extension_id)
    if extension is None:
        raise CourseError(404, "extension-not-found", f"there is no extension {extension_id}")
    if extension.revoked_at is None:
        extension.revoked_at = now
    session.flush()
    return extension


def list_extensions(session: Session, *, exercise: str | None = None, student: str | None = None,
                    include_revoked: bool = False) -> list[tuple[Extension, Assignment]]:
    query = select(Extension, Assignment).join(Assignment, Extension.assignment_id == Assignment.id)
    if exercise is not None:
        query = query.where(Assignment.exercise == exercise)
    if student is not None:
        query = query.join(User, Extension.user_id == User.id).where(User.name == student)
    if not include_revoked:
        query = query.where(Extension.revoked_at.is_(None))
    return [(e, a) for e, a in session.execute(query.order_by(Extension.id))]


# ------------------------------------------------------------------ the course as a whole


@dataclass
class Course:
    """Every assignment and active extension, loaded once, to judge many submissions without a query each."""

    assignments: dict[str, Assignment] = field(default_factory=dict)
    extensions: dict[tuple[int, int], Extension] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "Course":
        course = cls({a.exercise: a for a in session.scalars(select(Assignment))})
        for ext in session.scalars(select(Extension).where(Extension.revoked_at.is_(None)).order_by(Extension.id)):
            course.extensions[(ext.assignment_id, ext.user_id)] = ext
        return course

    def window(self, *, exercise: str, user_id: int) -> Window | None:
        assignment = self.assignments.get(exercise)
        if assignment is None:
            return None
        return window_of(assignment, self.extensions.get((assignment.id, user_id)))

    def timing(self, *, exercise: str, user_id: int, submitted_at: datetime) -> Timing | None:
        """How the submission stands; None for an exercise that is not an assignment (no dates)."""
        win = self.window(exercise=exercise, user_id=user_id)
        if win is None:
            return None
        return assess(win, policy_of(self.assignments[exercise]), submitted_at=submitted_at)


def is_open(assignment: Assignment, *, now: datetime) -> bool:
    """Whether students are offered the assignment's exercise at ``now`` (an extension opens nothing earlier)."""
    return window_of(assignment).state(now=now) != NOT_OPEN


def not_open_error(assignment: Assignment) -> CourseError:
    return CourseError(404, "assignment-not-open", f"{assignment.title!r} opens at "
                       f"{_stamp(assignment.opens_at, assignment.timezone)}; it is not offered and takes no "
                       f"submissions before that")


def check_offered(session: Session, *, exercise: str, instructor: bool, now: datetime) -> None:
    """Raise 404 ``assignment-not-open`` when a student asks for an exercise whose assignment has not opened."""
    if instructor:
        return
    assignment = session.scalar(select(Assignment).where(Assignment.exercise == exercise))
    if assignment is not None and not is_open(assignment, now=now):
        raise not_open_error(assignment)


def unopened_exercises(session: Session, *, now: datetime) -> set[str]:
    """The exercises published as assignments that have not opened at ``now``: hidden from students."""
    return {a.exercise for a in list_assignments(session) if not is_open(a, now=now)}


def attempts_used(session: Session, *, assignment: Assignment, user_id: int) -> int:
    """The student's submissions of the assignment since it opened, except those the service failed to grade."""
    return int(session.scalar(select(func.count()).select_from(Submission).where(
        Submission.user_id == user_id, Submission.exercise == assignment.exercise,
        Submission.created_at >= assignment.opens_at, Submission.status != FAILED)) or 0)


def admit_submission(session: Session, *, user_id: int, exercise: str, instructor: bool, now: datetime) -> None:
    """Raise unless the student may submit ``exercise`` at ``now``: 404 before it opens, 409
    ``assignment-closed`` after its (extended) late-until, 429 ``attempts-exhausted`` when the cap is
    reached.  Instructors and exercises that are not assignments pass.  Run it inside the exclusive
    write transaction that inserts the submission, so concurrent submissions cannot both take the last
    attempt."""
    if instructor:
        return
    assignment = session.scalar(select(Assignment).where(Assignment.exercise == exercise))
    if assignment is None:
        return
    win = window_of(assignment, active_extension(session, assignment_id=assignment.id, user_id=user_id))
    state = win.state(now=now)
    if state == NOT_OPEN:
        raise not_open_error(assignment)
    if state == CLOSED:
        raise CourseError(409, "assignment-closed", f"{assignment.title!r} closed at "
                          f"{_stamp(win.late_until, assignment.timezone)} (due "
                          f"{_stamp(win.due_at, assignment.timezone)}), {describe_delay(now - win.late_until)} ago; "
                          f"nothing was stored")
    if assignment.max_attempts is not None:
        used = attempts_used(session, assignment=assignment, user_id=user_id)
        if used >= assignment.max_attempts:
            raise CourseError(429, "attempts-exhausted", f"you have used all {assignment.max_attempts} graded "
                              f"attempts of {assignment.title!r} ({used} submitted)")


def _stamp(value: datetime, tz: str) -> str:
    """``2026-12-10 23:59 Europe/Berlin (2026-12-10T22:59:00Z)``."""
    wall = value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S")
    return f"{wall} {tz} ({value.astimezone(zone('UTC')).strftime('%Y-%m-%dT%H:%M:%SZ')})"
