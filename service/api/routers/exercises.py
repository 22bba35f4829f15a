"""``/exercises``: the catalog as students see it — never a reference or a hidden expected value, and
no exercise whose assignment has not opened yet (instructors see every one)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

import exercises
from graders import get_grader
from service.course.assignments import check_offered, unopened_exercises

from ..course import translated
from ..deps import DB, State, User
from ..errors import ApiError, documented
from ..schemas import CaseInfo, ExerciseDetail, ExerciseSummary, LimitsOut

router = APIRouter(tags=["exercises"], responses=documented(401, 404, 422))


def find(exercise: str) -> exercises.Exercise:
    try:
        return exercises.get(exercise)
    except exercises.UnknownExercise as exc:
        raise ApiError(404, "unknown-exercise", str(exc)) from None


def summary(ex: exercises.Exercise) -> dict:
    return {"id": ex.id, "title": ex.title, "summary": ex.summary, "version": ex.version,
            "total_points": ex.total_points, "functions": list(ex.functions)}


@router.get("/exercises", response_model=list[ExerciseSummary], summary="List the exercises")
def list_exercises(user: User, session: DB, state: State) -> list[dict]:
    """Students do not see the exercises published as assignments that have not opened."""
    hidden = set() if user.instructor else unopened_exercises(session, now=state.now())
    return [summary(ex) for ex in exercises.all_exercises() if ex.id not in hidden]


@router.get("/exercises/{exercise}", response_model=ExerciseDetail, summary="One exercise: statement, starter, cases")
def get_exercise(exercise: str, user: User, session: DB, state: State) -> ExerciseDetail:
    """404 ``assignment-not-open`` for a student before the exercise's assignment opens."""
    ex = find(exercise)
    with translated():
        check_offered(session, exercise=ex.id, instructor=user.instructor, now=state.now())
    cases = get_grader(ex.id).cases
    hidden = [c for c in cases if c.hidden]
    limits = ex.limits.capped(state.settings.limit_caps)
    return ExerciseDetail(
        **summary(ex), statement=ex.statement, starter=ex.starter,
        visible_cases=[CaseInfo(name=c.name, points=c.points, feeds=c.feeds, expects=c.expects)
                       for c in cases if not c.hidden],
        hidden_cases=len(hidden), hidden_points=sum(c.points for c in hidden), limits=LimitsOut(**asdict(limits)))
