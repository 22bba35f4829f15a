"""``/gradebook`` (instructors): one row per student, one column per exercise, for an LMS import."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from sqlalchemy import and_, select

import exercises
from service.db import GradingReport, Submission, User

from ..deps import DB, Instructor
from ..errors import documented
from ..schemas import Gradebook, GradebookColumn, GradebookRow

router = APIRouter(tags=["gradebook"], responses=documented(401, 403, 422))

Mode = Annotated[Literal["best", "latest"], Query(
    description="`best`: the highest current score over a student's submissions; "
                "`latest`: the current score of the student's latest graded submission.")]


def build(session, mode: str) -> Gradebook:
    columns = [GradebookColumn(id=ex.id, title=ex.title, max_score=ex.total_points) for ex in exercises.all_exercises()]
    ids = [c.id for c in columns]
    students = list(session.scalars(select(User.name).where(User.role == "student").order_by(User.name)))
    scores: dict[str, dict[str, float | None]] = {name: dict.fromkeys(ids) for name in students}
    rows = session.execute(
        select(User.name, Submission.exercise, GradingReport.score)
        .join(Submission, Submission.user_id == User.id)
        .join(GradingReport, and_(GradingReport.submission_id == Submission.id, GradingReport.is_current))
        .where(User.role == "student").order_by(Submission.id))
    for name, exercise, score in rows:
        if exercise not in ids:
            continue
        previous = scores[name][exercise]
        scores[name][exercise] = score if mode == "latest" or previous is None else max(previous, score)
    return Gradebook(mode=mode, exercises=columns, rows=[
        GradebookRow(student=name, scores=s, total=sum(v for v in s.values() if v is not None))
        for name, s in scores.items()])


def _cell(value: str) -> str:
    """Keep spreadsheets from reading a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/gradebook", response_model=Gradebook, summary="The gradebook as JSON")
def gradebook(_user: Instructor, session: DB, mode: Mode = "best") -> Gradebook:
    return build(session, mode)


@router.get("/gradebook.csv", response_class=Response, summary="The gradebook as CSV",
            responses={200: {"content": {"text/csv": {"example": "student,dense,lora,total\nada,19,,19\n"}}}})
def gradebook_csv(_user: Instructor, session: DB, mode: Mode = "best") -> Response:
    """Header `student,<exercise ids…>,total`; an empty cell where a student has no graded submission."""
    book = build(session, mode)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *[c.id for c in book.exercises], "total"])
    for row in book.rows:
        writer.writerow([_cell(row.student), *["" if row.scores[c.id] is None else f"{row.scores[c.id]:g}"
                                               for c in book.exercises], f"{row.total:g}"])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="gradebook-{mode}.csv"'})
