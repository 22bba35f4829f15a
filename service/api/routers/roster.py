"""``/roster`` (instructors): import students from a CSV (tokens shown once), list them, remove them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from service.course.roster import import_roster, list_roster, parse_roster, remove_student
from service.db.models import RosterEntry

from ..course import translated
from ..deps import DB, Instructor, State
from ..errors import ApiError, documented
from ..schemas import RosterImport, RosterImported, RosterRemoved, RosterStudent

router = APIRouter(prefix="/roster", tags=["roster"], responses=documented(400, 401, 403, 404, 422))

CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {
    "schema": {"type": "string"},
    "example": "name,email,section,lms_id,sis_user_id,sis_login_id\nAda Lovelace,ada@example.edu,A,1001,s1001,ada\n"}}}}


def student_fields(e: RosterEntry) -> dict:
    return {"name": e.user.name, "email": e.email, "section": e.section, "lms_id": e.lms_id,
            "sis_user_id": e.sis_user_id, "sis_login_id": e.sis_login_id, "created_at": e.created_at,
            "removed_at": e.removed_at}


@router.get("", response_model=list[RosterStudent], summary="The roster, by section and name")
def get_roster(_user: Instructor, session: DB, section: Annotated[str | None, Query(max_length=100)] = None,
               include_removed: bool = False) -> list[RosterStudent]:
    return [RosterStudent(**student_fields(e)) for e in list_roster(session, section=section,
                                                                    include_removed=include_removed)]


@router.post("", response_model=RosterImport, summary="Import students from a CSV", openapi_extra=CSV_BODY)
async def post_roster(request: Request, _user: Instructor, state: State) -> RosterImport:
    """Body: the CSV (`name,email` required; `section,lms_id,sis_user_id,sis_login_id` optional).  Every
    row or none: a bad row is a 422 naming its line.  New students get a token, returned this once."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, "not-utf8", "The roster must be UTF-8 text (save the CSV as UTF-8).") from None
    with translated():
        rows = parse_roster(text)
        with state.db.write_session() as session:
            imported = import_roster(session, rows=rows, now=state.now())
            students = [RosterImported(**student_fields(i.entry), token=i.token) for i in imported]
    created = sum(1 for s in students if s.token is not None)
    return RosterImport(created=created, updated=len(students) - created, students=students)


@router.delete("/{name}", response_model=RosterRemoved, summary="Remove a student (tokens revoked, work kept)")
def delete_student(name: Annotated[str, Path(max_length=200)], _user: Instructor, state: State) -> RosterRemoved:
    with translated(), state.db.write_session() as session:
        entry, revoked = remove_student(session, name=name, now=state.now())
        return RosterRemoved(name=entry.user.name, revoked_tokens=revoked)
