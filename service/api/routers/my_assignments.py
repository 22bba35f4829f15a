"""``/me/assignments``: a student's standing — open assignments, their own due dates, best score, attempts left."""

from __future__ import annotations

from fastapi import APIRouter

from service.course.standing import standing
from ..deps import DB, State, User
from ..errors import documented
from ..schemas import MyAssignment

router = APIRouter(prefix="/me/assignments", tags=["account"], responses=documented(401))


@router.get("", response_model=list[MyAssignment], summary="Your assignments and where you stand")
def my_assignments(user: User, session: DB, state: State) -> list[MyAssignment]:
    """Every assignment that has opened, soonest due first, with your extension's dates if you have one."""
    return [MyAssignment(exercise=s.assignment.exercise, title=s.assignment.title, state=s.state,
                         opens_at=s.window.opens_at, due_at=s.window.due_at, late_until=s.window.late_until,
                         extended=s.window.extended, timezone=s.assignment.timezone, late_policy=s.late_policy,
                         max_score=s.max_score, best_score=s.best_score, attempts_used=s.attempts_used,
                         attempts_left=s.attempts_left)
            for s in standing(session, user_id=user.id, now=state.now())]
