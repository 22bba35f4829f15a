"""``/extensions`` (instructors): one student's own due date for one assignment, listed and revocable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from service.course.assignments import grant_extension, list_extensions, revoke_extension
from service.db.models import Assignment, Extension

from ..course import translated
from ..deps import DB, Instructor, State
from ..errors import documented
from ..schemas import ExtensionCreate, ExtensionOut

router = APIRouter(prefix="/extensions", tags=["extensions"], responses=documented(400, 401, 403, 404, 422))


def extension_out(e: Extension, a: Assignment) -> ExtensionOut:
    return ExtensionOut(id=e.id, exercise=a.exercise, student=e.user.name, due_at=e.due_at, late_until=e.late_until,
                        timezone=a.timezone, reason=e.reason, created_at=e.created_at, revoked_at=e.revoked_at)


@router.get("", response_model=list[ExtensionOut], summary="The extensions in force (or every one)")
def get_extensions(_user: Instructor, session: DB,
                   exercise: Annotated[str | None, Query(max_length=100)] = None,
                   student: Annotated[str | None, Query(max_length=200)] = None,
                   include_revoked: bool = False) -> list[ExtensionOut]:
    return [extension_out(e, a) for e, a in list_extensions(session, exercise=exercise, student=student,
                                                            include_revoked=include_revoked)]


@router.post("", status_code=201, response_model=ExtensionOut, summary="Grant an extension")
def post_extension(body: ExtensionCreate, user: Instructor, state: State) -> ExtensionOut:
    """Replaces the student's earlier extension of the assignment; the gradebook and the reports use it."""
    with translated(), state.db.write_session() as session:
        extension = grant_extension(session, granted_by=user.id, now=state.now(), **body.model_dump())
        return extension_out(extension, session.get(Assignment, extension.assignment_id))


@router.delete("/{extension_id}", response_model=ExtensionOut, summary="Revoke an extension")
def delete_extension(extension_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _user: Instructor,
                     state: State) -> ExtensionOut:
    with translated(), state.db.write_session() as session:
        extension = revoke_extension(session, extension_id=extension_id, now=state.now())
        return extension_out(extension, session.get(Assignment, extension.assignment_id))
