"""A student's standing: the assignments open to them with their own dates, best score and attempts left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

import exercises
from service.db import GradingReport, Submission
from service.db.models import Assignment

from .assignments import Course, attempts_used, policy_of
from .policy import NOT_OPEN, Window


@dataclass(frozen=True)
class Standing:
    assignment: Assignment
    window: Window
    state: str
    max_score: float
    best_score: float | None
    attempts_used: int
    attempts_left: int | None
    late_policy: str


def standing(session: Session, *, user_id: int, now: datetime) -> list[Standing]:
    """Every assignment that has opened for the student, soonest due first; ``best_score`` is after
    the late penalty."""
    course = Course.load(session)
    graded: dict[str, list[tuple[datetime, float]]] = {}
    for exercise, submitted_at, score in session.execute(
            select(Submission.exercise, Submission.created_at, GradingReport.score)
            .join(GradingReport, and_(GradingReport.submission_id == Submission.id, GradingReport.is_current))
            .where(Submission.user_id == user_id)):
        graded.setdefault(exercise, []).append((submitted_at, score))
    out = []
    for assignment in course.assignments.values():
        win = course.window(exercise=assignment.exercise, user_id=user_id)
        state = win.state(now=now)
        if state == NOT_OPEN:
            continue
        scores = [course.timing(exercise=assignment.exercise, user_id=user_id, submitted_at=at).apply(raw)
                  for at, raw in graded.get(assignment.exercise, [])]
        scores = [s for s in scores if s is not None]
        used = attempts_used(session, assignment=assignment, user_id=user_id)
        left = None if assignment.max_attempts is None else max(0, assignment.max_attempts - used)
        out.append(Standing(assignment, win, state, exercises.get(assignment.exercise).total_points,
                            max(scores) if scores else None, used, left, policy_of(assignment).describe()))
    return sorted(out, key=lambda s: (s.window.due_at, s.assignment.exercise))
