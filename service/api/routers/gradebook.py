"""``/gradebook`` (instructors): one row per student, one column per exercise, the late policy applied;
as JSON, nngrade's CSV, or Canvas's gradebook import CSV (``/gradebook.canvas.csv``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from service.course import gradebook as book

from ..deps import DB, Instructor
from ..errors import documented
from ..schemas import Gradebook, GradebookColumn, GradebookRow

router = APIRouter(tags=["gradebook"], responses=documented(401, 403, 422))

Mode = Annotated[Literal["best", "latest", "on-time-best"], Query(
    description="`best`: the highest score after the late penalty over a student's submissions; "
                "`latest`: the latest graded submission's, after the penalty; "
                "`on-time-best`: the highest among the submissions made by the (extended) due date.")]
Section = Annotated[str | None, Query(max_length=100, description="Only the roster's students of this section.")]


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/gradebook", response_model=Gradebook, summary="The gradebook as JSON")
def gradebook(_user: Instructor, session: DB, mode: Mode = "best", section: Section = None) -> Gradebook:
    b = book.build(session, mode=mode, section=section)
    return Gradebook(mode=b.mode, section=b.section,
                     exercises=[GradebookColumn(id=c.id, title=c.title, max_score=c.max_score) for c in b.columns],
                     rows=[GradebookRow(student=r.student, section=r.section, scores=r.scores, penalties=r.penalties,
                                        total=r.total) for r in b.rows])


@router.get("/gradebook.csv", response_class=Response, summary="The gradebook as CSV",
            responses={200: {"content": {"text/csv": {"example": "student,dense,lora,total\nada,19,,19\n"}}}})
def gradebook_csv(_user: Instructor, session: DB, mode: Mode = "best", section: Section = None) -> Response:
    """Header `student,<exercise ids…>,total`; an empty cell where a student has no graded submission."""
    return _csv(book.plain_csv(book.build(session, mode=mode, section=section)), f"gradebook-{mode}.csv")


@router.get("/gradebook.canvas.csv", response_class=Response, summary="The gradebook as Canvas imports it",
            responses={200: {"content": {"text/csv": {"example":
                "Student,ID,SIS User ID,SIS Login ID,Section,Dense layer (19)\r\n"
                "Points Possible,,,,,19\r\nAda,1001,s1001,ada,A,17.1\r\n"}}}})
def gradebook_canvas(_user: Instructor, session: DB, mode: Mode = "best", section: Section = None) -> Response:
    """Canvas's gradebook import: `Student, ID, SIS User ID, SIS Login ID, Section` from the roster, a
    "Points Possible" row, one column per assignment titled `Title (points)`, late penalties applied."""
    return _csv(book.canvas_csv(book.build(session, mode=mode, section=section)), f"gradebook-canvas-{mode}.csv")
