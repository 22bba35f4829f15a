"""``/exercises``: the catalog as students see it — never a reference or a hidden expected value."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

import exercises
from graders import get_grader

from ..deps import State, User
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
def list_exercises(_user: User) -> list[dict]:
    return [summary(ex) for ex in exercises.all_exercises()]


@router.get("/exercises/{exercise}", response_model=ExerciseDetail, summary="One exercise: statement, starter, cases")
def get_exercise(exercise: str, _user: User, state: State) -> ExerciseDetail:
    ex = find(exercise)
    cases = get_grader(ex.id).cases
    hidden = [c for c in cases if c.hidden]
    limits = ex.limits.capped(state.settings.limit_caps)
    return ExerciseDetail(
        **summary(ex), statement=ex.statement, starter=ex.starter,
        visible_cases=[CaseInfo(name=c.name, points=c.points, feeds=c.feeds, expects=c.expects)
                       for c in cases if not c.hidden],
        hidden_cases=len(hidden), hidden_points=sum(c.points for c in hidden), limits=LimitsOut(**asdict(limits)))
