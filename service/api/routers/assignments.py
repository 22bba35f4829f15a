"""``/assignments`` (instructors write, everyone reads): exercises published with dates and a late policy."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

import exercises
from service.course.assignments import (check_offered, create_assignment, find_assignment, is_open,
                                        list_assignments, policy_of, update_assignment, window_of)
from service.db.models import Assignment

from ..course import translated
from ..deps import DB, Instructor, State, User
from ..errors import documented
from ..schemas import AssignmentCreate, AssignmentOut, AssignmentUpdate

router = APIRouter(prefix="/assignments", tags=["assignments"], responses=documented(400, 401, 403, 404, 422))


def assignment_out(a: Assignment, now: datetime) -> AssignmentOut:
    return AssignmentOut(exercise=a.exercise, title=a.title, max_score=exercises.get(a.exercise).total_points,
                         opens_at=a.opens_at, due_at=a.due_at, late_until=a.late_until, timezone=a.timezone,
                         late_policy=a.late_policy, penalty_percent=a.penalty_percent, penalty_cap=a.penalty_cap,
                         late_policy_summary=policy_of(a).describe(), max_attempts=a.max_attempts,
                         state=window_of(a).state(now=now))


@router.get("", response_model=list[AssignmentOut], summary="The assignments, soonest due first")
def get_assignments(user: User, session: DB, state: State) -> list[AssignmentOut]:
    """Students see the assignments that have opened; instructors every one."""
    now = state.now()
    return [assignment_out(a, now) for a in list_assignments(session) if user.instructor or is_open(a, now=now)]


@router.post("", status_code=201, response_model=AssignmentOut, summary="Publish an exercise as an assignment",
             responses=documented(409))
def post_assignment(body: AssignmentCreate, _user: Instructor, state: State, response: Response) -> AssignmentOut:
    """Dates without an offset are in `timezone` (default UTC); they are stored in UTC."""
    fields = body.model_dump(exclude_none=True)
    with translated(), state.db.write_session() as session:
        now = state.now()
        assignment = create_assignment(session, now=now, **fields)
        out = assignment_out(assignment, now)
    response.headers["Location"] = f"/api/v1/assignments/{out.exercise}"
    return out


@router.get("/{exercise}", response_model=AssignmentOut, summary="One assignment")
def get_assignment(exercise: str, user: User, session: DB, state: State) -> AssignmentOut:
    now = state.now()
    with translated():
        assignment = find_assignment(session, exercise)
        check_offered(session, exercise=assignment.exercise, instructor=user.instructor, now=now)
    return assignment_out(assignment, now)


@router.patch("/{exercise}", response_model=AssignmentOut, summary="Change an assignment's dates or policy")
def patch_assignment(exercise: str, body: AssignmentUpdate, _user: Instructor, state: State) -> AssignmentOut:
    """Only the fields given change; submissions are judged by the new dates from then on (gradebook too)."""
    with translated(), state.db.write_session() as session:
        now = state.now()
        assignment = update_assignment(session, exercise=exercise, now=now, **body.model_dump(exclude_none=True))
        return assignment_out(assignment, now)
