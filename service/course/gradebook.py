"""The gradebook: one row per student, one column per exercise, the late policy applied, in three
modes, and written as nngrade's CSV or Canvas's gradebook import CSV.

Modes, over a student's graded submissions of an exercise (their current reports):

* ``best`` — the highest score after the late penalty;
* ``latest`` — the latest submission's score after the penalty;
* ``on-time-best`` — the highest score among the submissions made by the (extended) due date.

A submission after the deadline (possible only when dates or an extension changed after it) earns nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

import exercises
from service.db import GradingReport, Submission, User
from service.db.models import Assignment, Extension, RosterEntry

from .assignments import Course

MODES = ("best", "latest", "on-time-best")
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "Points Possible"


@dataclass(frozen=True)
class Column:
    id: str
    title: str
    max_score: float
    assignment: bool = False


@dataclass
class Row:
    student: str
    email: str = ""
    section: str = ""
    lms_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    scores: dict[str, float | None] = field(default_factory=dict)
    #: Percent taken off the score in ``scores`` (0 when on time or not an assignment).
    penalties: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return round(sum(v for v in self.scores.values() if v is not None), 4)


@dataclass
class Book:
    mode: str
    section: str | None
    columns: list[Column]
    rows: list[Row]


def build(session: Session, *, mode: str = "best", section: str | None = None) -> Book:
    """The gradebook of every student (removed ones left out), or of one ``section``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    course = Course.load(session)
    columns = [Column(ex.id, course.assignments[ex.id].title, ex.total_points, True) if ex.id in course.assignments
               else Column(ex.id, ex.title, ex.total_points) for ex in exercises.all_exercises()]
    ids = [c.id for c in columns]
    query = (select(User, RosterEntry).outerjoin(RosterEntry, RosterEntry.user_id == User.id)
             .where(User.role == "student", RosterEntry.removed_at.is_(None)))
    if section is not None:
        query = query.where(RosterEntry.section == section)
    rows: dict[int, Row] = {}
    for user, entry in session.execute(query.order_by(User.name)):
        row = Row(student=user.name, scores=dict.fromkeys(ids), penalties=dict.fromkeys(ids, 0.0))
        if entry is not None:
            row.email, row.section, row.lms_id = entry.email, entry.section, entry.lms_id
            row.sis_user_id, row.sis_login_id = entry.sis_user_id, entry.sis_login_id
        rows[user.id] = row
    for user_id, exercise, score, penalty in _counted(session, course, mode, list(rows)):
        if exercise in rows[user_id].scores:
            rows[user_id].scores[exercise] = score
            rows[user_id].penalties[exercise] = penalty
    return Book(mode=mode, section=section, columns=columns, rows=list(rows.values()))


def _counted(session: Session, course: Course, mode: str,
             user_ids: list[int]) -> list[tuple[int, str, float, float]]:
    """``(user_id, exercise, score, penalty percent)`` of the submission that counts in ``mode``.

    The database aggregates what needs no judgement: over the submissions made by the student's
    due date (every submission, for an exercise with no assignment) the best score and the latest
    one.  Only the submissions after the due date come back one by one, to be judged by the late
    policy (:meth:`Course.timing`, the one place that decides); with 1,000 students and 20,000
    reports that is a few rows, not every report.
    """
    if not user_ids:
        return []
    # The student's active extension, the latest granted, decides the due date (as Course.load does).
    active = (select(Extension.assignment_id, Extension.user_id, func.max(Extension.id).label("id"))
              .where(Extension.revoked_at.is_(None)).group_by(Extension.assignment_id, Extension.user_id)
              .subquery())
    extension = aliased(Extension)
    due = func.coalesce(extension.due_at, Assignment.due_at)
    graded = (select(Submission.id, Submission.user_id, Submission.exercise, Submission.created_at,
                     GradingReport.score)
              .join(GradingReport, and_(GradingReport.submission_id == Submission.id, GradingReport.is_current))
              .outerjoin(Assignment, Assignment.exercise == Submission.exercise)
              .outerjoin(active, and_(active.c.assignment_id == Assignment.id, active.c.user_id == Submission.user_id))
              .outerjoin(extension, extension.id == active.c.id)
              .where(Submission.user_id.in_(user_ids)))
    by_due = or_(Assignment.id.is_(None), Submission.created_at <= due)
    on_time = graded.where(by_due).subquery()
    groups = (select(on_time.c.user_id, on_time.c.exercise, func.max(on_time.c.score).label("best"),
                     func.max(on_time.c.id).label("latest"))
              .group_by(on_time.c.user_id, on_time.c.exercise).subquery())
    best: dict[tuple[int, str], tuple[int, float]] = {}  # (user, exercise) -> (submission id, score) counting
    if mode == "latest":
        query = select(groups.c.user_id, groups.c.exercise, on_time.c.id, on_time.c.score).join(
            on_time, on_time.c.id == groups.c.latest)
    else:
        query = select(groups.c.user_id, groups.c.exercise, groups.c.latest, groups.c.best)
    for user_id, exercise, sid, score in session.execute(query):
        best[(user_id, exercise)] = (sid, score)
    penalties = dict.fromkeys(best, 0.0)
    if mode != "on-time-best":
        for sid, user_id, exercise, submitted_at, raw in session.execute(graded.where(~by_due)):
            timing = course.timing(exercise=exercise, user_id=user_id, submitted_at=submitted_at)
            score = timing.apply(raw) if timing is not None else raw
            if score is None:  # after the deadline: earns nothing, and is nobody's latest either
                continue
            key = (user_id, exercise)
            known = best.get(key)
            if known is None or (sid > known[0] if mode == "latest" else score > known[1]):
                best[key], penalties[key] = (sid, score), timing.penalty_percent if timing is not None else 0.0
    return [(user_id, exercise, score, penalties[(user_id, exercise)])
            for (user_id, exercise), (_sid, score) in best.items()]


def _cell(value: str) -> str:
    """Keep spreadsheets from reading a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _number(value: float | None) -> str:
    return "" if value is None else f"{round(value, 2):g}"


def plain_csv(book: Book) -> str:
    """Header ``student,<exercise ids…>,total``; an empty cell where a student has no graded submission."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *[c.id for c in book.columns], "total"])
    for row in book.rows:
        writer.writerow([_cell(row.student), *[_number(row.scores[c.id]) for c in book.columns],
                         _number(row.total)])
    return out.getvalue()


def canvas_title(column: Column) -> str:
    return f"{column.title} ({column.max_score:g})"


def canvas_csv(book: Book) -> str:
    """Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login ID, Section``, one column per
    assignment titled ``Title (points)`` (every exercise while none is published), a "Points Possible"
    row under the header, then one row per student with the roster's LMS ids; an empty cell where there
    is no graded submission."""
    columns = [c for c in book.columns if c.assignment] or book.columns
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CANVAS_FIXED, *[canvas_title(c) for c in columns]])
    writer.writerow([CANVAS_POINTS_ROW, "", "", "", "", *[f"{c.max_score:g}" for c in columns]])
    for row in book.rows:
        writer.writerow([_cell(row.student), _cell(row.lms_id), _cell(row.sis_user_id), _cell(row.sis_login_id),
                         _cell(row.section), *[_number(row.scores[c.id]) for c in columns]])
    return out.getvalue()
