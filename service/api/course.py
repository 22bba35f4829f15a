"""Where the API meets :mod:`service.course`: course refusals become API errors, a submission is
admitted (or not), and a submission's timing becomes its schema."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime

from service.course import CourseError
from service.course.assignments import Course, admit_submission
from service.course.policy import Timing as PolicyTiming, describe_delay

from .deps import Principal
from .errors import ApiError
from .schemas import Timing


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Raise a :class:`CourseError` as the :class:`ApiError` with its status, code and message."""
    try:
        yield
    except CourseError as exc:
        raise ApiError(exc.status, exc.code, exc.message, headers=exc.headers) from None


def admit(session, user: Principal, exercise: str, now: datetime) -> None:
    """Refuse a submission of ``user`` the course does not allow at ``now`` (404, 409, 429); call it
    inside the exclusive write transaction that inserts the submission."""
    with translated():
        admit_submission(session, user_id=user.id, exercise=exercise, instructor=user.instructor, now=now)


def timing_out(timing: PolicyTiming | None, raw_score: float | None) -> Timing | None:
    if timing is None:
        return None
    return Timing(status=timing.status, due_at=timing.due_at, late_by_seconds=int(timing.late_by.total_seconds()),
                  late_by=describe_delay(timing.late_by), penalty_percent=timing.penalty_percent,
                  raw_score=raw_score, score=timing.apply(raw_score) if raw_score is not None else None,
                  extended=timing.extended, summary=timing.describe())


def submission_timing(course: Course, *, user_id: int, exercise: str, submitted_at: datetime,
                      raw_score: float | None) -> Timing | None:
    """The timing of one submission (None when its exercise is not an assignment)."""
    return timing_out(course.timing(exercise=exercise, user_id=user_id, submitted_at=submitted_at), raw_score)
