"""Regrading (instructors): one submission, or every submission of an exercise, as a batch whose
progress can be followed.  Earlier reports are kept; each report records its grader version and seed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from service.db import QUEUED, RUNNING, GradingReport, RegradeBatch, Submission, User
from service.db.models import utcnow
from service.worker import queue as grading_queue

from ..deps import Instructor, ServiceState, State
from ..errors import ApiError, documented
from ..schemas import RegradeOut, RegradeProgress, RegradeRequest
from .exercises import find
from .submissions import ID, current_report

router = APIRouter(tags=["regrades"], responses=documented(400, 401, 403, 404, 422))

Request_ = Annotated[RegradeRequest | None, Body(description="Seed policy; optional.")]


def queue_regrade(state: ServiceState, *, user_id: int, exercise: str, submission_ids: list[int] | None,
                  request: RegradeRequest, student: str | None = None) -> tuple[RegradeBatch, int, int]:
    """Create a batch and queue every finished submission it covers (of ``exercise``, or only
    ``student``'s, or the ``submission_ids``); returns (batch, queued, skipped)."""
    with state.db.write_session() as session:
        query = select(Submission).where(Submission.exercise == exercise)
        if student is not None:
            student_id = session.scalar(select(User.id).where(User.name == student, User.role == "student"))
            if student_id is None:
                raise ApiError(404, "student-not-found", f"There is no student {student!r}.")
            query = query.where(Submission.user_id == student_id)
        if submission_ids is not None:
            query = select(Submission).where(Submission.id.in_(submission_ids))
        subs = list(session.scalars(query.order_by(Submission.id).options(lazyload(Submission.user))
                                    .with_for_update()))
        batch = RegradeBatch(exercise=exercise, requested_by=user_id, seed=request.seed, new_seed=request.new_seed)
        session.add(batch)
        session.flush()
        requeued: list[int] = []
        skipped = 0
        now = utcnow()
        for sub in subs:
            if request.seed is not None:
                seed = request.seed
            elif request.new_seed:
                seed = None
            else:
                current = current_report(session, sub.id)
                seed = current.seed if current is not None else None
            if grading_queue.requeue_for_regrade(sub, seed=seed, batch_id=batch.id, now=now):
                requeued.append(sub.id)
            else:  # queued or being graded already
                skipped += 1
        batch.total = len(requeued)
    state.enqueued(requeued)
    return batch, len(requeued), skipped


def _answer(response: Response, batch: RegradeBatch, exercise: str, queued: int, skipped: int) -> RegradeOut:
    location = f"/api/v1/regrades/{batch.id}"
    response.headers["Location"] = location
    return RegradeOut(batch=batch.id, exercise=exercise, queued=queued, skipped=skipped, location=location)


@router.post("/submissions/{submission_id}/regrade", status_code=202, response_model=RegradeOut,
             summary="Regrade one submission", responses=documented(409))
def regrade_submission(submission_id: ID, user: Instructor, state: State, response: Response,
                       body: Request_ = None) -> RegradeOut:
    with state.db.session() as session:
        sub = session.get(Submission, submission_id)
        if sub is None:
            raise ApiError(404, "submission-not-found", f"There is no submission {submission_id}.")
        exercise = sub.exercise
    batch, queued, skipped = queue_regrade(state, user_id=user.id, exercise=exercise, submission_ids=[submission_id],
                                           request=body or RegradeRequest())
    if not queued:
        raise ApiError(409, "grading-in-progress", f"Submission {submission_id} is already queued or being graded.")
    return _answer(response, batch, exercise, queued, skipped)


@router.post("/exercises/{exercise}/regrade", status_code=202, response_model=RegradeOut,
             summary="Regrade every submission of an exercise")
def regrade_exercise(exercise: str, user: Instructor, state: State, response: Response,
                     body: Request_ = None,
                     student: Annotated[str | None, Query(max_length=200, description="Only this student's "
                                                          "submissions, in one batch.")] = None) -> RegradeOut:
    """New submissions keep priority over regrades, so a bulk regrade never holds up students."""
    ex = find(exercise)
    batch, queued, skipped = queue_regrade(state, user_id=user.id, exercise=ex.id, submission_ids=None,
                                           request=body or RegradeRequest(), student=student)
    return _answer(response, batch, ex.id, queued, skipped)


@router.get("/regrades/{batch_id}", response_model=RegradeProgress, summary="Progress of a regrade")
def regrade_progress(batch_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _user: Instructor,
                     state: State) -> RegradeProgress:
    progress = batch_progress(state, batch_id=batch_id)
    if progress is None:
        raise ApiError(404, "regrade-not-found", f"There is no regrade {batch_id}.")
    return progress


def batch_progress(state: ServiceState, *, batch_id: int) -> RegradeProgress | None:
    """How far the regrade ``batch_id`` has come; None if there is no such batch."""
    with state.db.session() as session:
        batch = session.get(RegradeBatch, batch_id)
        if batch is None:
            return None
        done = session.scalar(select(func.count()).select_from(GradingReport)
                              .where(GradingReport.regrade_batch_id == batch_id))
        pending = session.scalar(select(func.count()).select_from(Submission).where(
            Submission.regrade_batch_id == batch_id, Submission.status.in_((QUEUED, RUNNING))))
    done, pending = int(done or 0), int(pending or 0)
    return RegradeProgress(id=batch.id, exercise=batch.exercise, created_at=batch.created_at, total=batch.total,
                           done=done, pending=pending, superseded=max(0, batch.total - done - pending),
                           finished=pending == 0)
