"""``/dashboard``: the instructors' pages, and ``/``.

Each page is a plain function of the request's session and the database; the aggregation is in
:mod:`.queries`, the drawing in :mod:`.charts`, the HTML in ``templates/``.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

import exercises
from graders.framework import codes as registry
from service.api.deps import State
from service.api.routers.regrades import batch_progress, queue_regrade
from service.api.schemas import RegradeRequest
from service.course import gradebook as course_gradebook
from service.db import Submission, User
from service.submission_file import UnreadableSubmission, source_from_file

from . import charts, queries, sessions
from .render import SECURITY_HEADERS, diff_lines, page, pygments_css, source_html
from .sessions import DashboardSession

router = APIRouter(include_in_schema=False)

Mode = Annotated[Literal["best", "latest"], Query()]
Order = Annotated[Literal["asc", "desc"], Query()]
Filter = Annotated[str, Query(max_length=200)]
Sort = Annotated[str, Query(max_length=100)]


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to the login page."""


class PageError(Exception):
    """An error shown as a page (``message.html``)."""

    def __init__(self, status: int, title: str, message: str):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def instructor_session(request: Request, state: State) -> DashboardSession:
    dash = sessions.current(state, request)
    if dash is None:
        raise LoginRequired()
    return dash


Dash = Annotated[DashboardSession, Depends(instructor_session)]


async def checked_session(request: Request, state: State) -> DashboardSession:
    """The session of a state-changing request whose CSRF token (form field or header) is right."""
    dash = await run_in_threadpool(sessions.current, state, request)
    if dash is None:
        raise LoginRequired()
    submitted = request.headers.get(sessions.CSRF_HEADER)
    if submitted is None:
        submitted = (await request.form()).get(sessions.CSRF_FIELD)
    if not sessions.csrf_ok(request, dash.csrf, submitted if isinstance(submitted, str) else None):
        raise PageError(403, "Request refused", "This form is out of date or came from another site (its CSRF "
                                                "token is missing or wrong). Reload the page and try again.")
    return dash


Checked = Annotated[DashboardSession, Depends(checked_session)]


def _exercise(exercise: str) -> exercises.Exercise:
    try:
        return exercises.get(exercise)
    except exercises.UnknownExercise:
        raise PageError(404, "No such exercise", f"There is no exercise {exercise[:80]!r}.") from None


# ------------------------------------------------------------------ entry, login, logout


@router.get("/")
def root(request: Request, state: State):
    if sessions.current(state, request) is not None:
        return RedirectResponse("/dashboard/", status_code=303)
    return page(request, "root.html", exercises=exercises.all_exercises())


@router.get("/dashboard/login")
def login_form(request: Request, state: State):
    if sessions.current(state, request) is not None:
        return RedirectResponse("/dashboard/", status_code=303)
    return _login_page(request)


def _login_page(request: Request, *, status_code: int = 200, error: str = "") -> Response:
    csrf = sessions.login_csrf(request)
    response = page(request, "login.html", status_code=status_code, csrf=csrf, error=error)
    sessions.set_login_csrf(response, request, csrf)
    return response


@router.post("/dashboard/login")
def login(request: Request, state: State, token: Annotated[str, Form(max_length=500)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = ""):
    expected = request.cookies.get(sessions.LOGIN_COOKIE, "")
    if not expected or not sessions.csrf_ok(request, expected, csrf_token):
        return _login_page(request, status_code=403, error="The login form was out of date; please try again.")
    try:
        with state.db.session() as session:
            cookie = sessions.login(session, state.settings, token)
    except sessions.NotInstructor:
        return page(request, "students.html", status_code=403)
    if cookie is None:
        return _login_page(request, status_code=401, error="That token is unknown or revoked.")
    response = RedirectResponse("/dashboard/", status_code=303)
    sessions.set_cookie(response, request, state.settings, cookie)
    response.delete_cookie(sessions.LOGIN_COOKIE, path="/dashboard")
    return response


@router.post("/dashboard/logout")
def logout(request: Request, _dash: Checked):
    response = RedirectResponse("/dashboard/login", status_code=303)
    sessions.clear_cookie(response, request)
    return response


# ------------------------------------------------------------------ the overview


def _shown(book: course_gradebook.Book, *, q: str, sort: str, order: str) -> course_gradebook.Book:
    """The rows the overview shows: filtered by name (case-insensitive substring), then sorted; a
    student without a score sorts after every score either way.  By name is the gradebook's own order
    (the API's CSV), so the unfiltered download is that CSV."""
    needle = q.strip().casefold()
    rows = [r for r in book.rows if needle in r.student.casefold()]
    if sort == "total":
        rows.sort(key=lambda r: r.total, reverse=order == "desc")
    elif sort in {c.id for c in book.columns}:
        scored = sorted((r for r in rows if r.scores[sort] is not None), key=lambda r: r.scores[sort],
                        reverse=order == "desc")
        rows = scored + [r for r in rows if r.scores[sort] is None]
    elif order == "desc":
        rows.reverse()
    return dataclasses.replace(book, rows=rows)


@router.get("/dashboard/")
def overview(request: Request, dash: Dash, state: State, mode: Mode = "best", q: Filter = "",
             sort: Sort = "student", order: Order = "asc"):
    with state.db.session() as session:
        book = _shown(course_gradebook.build(session, mode=mode), q=q, sort=sort, order=order)
        ids = queries.student_ids(session)
        activity = queries.activity(session)
        latest = queries.latest_report_id(session)
    params = {"mode": mode, "q": q, "sort": sort, "order": order}
    return page(request, "overview.html", dash=dash, book=book, ids=ids, activity=activity, latest=latest,
                params=params, exercises=exercises.all_exercises())


@router.get("/dashboard/gradebook.csv")
def overview_csv(_dash: Dash, state: State, mode: Mode = "best", q: Filter = "", sort: Sort = "student",
                 order: Order = "asc"):
    """The overview's table as CSV, in the API's ``/gradebook.csv`` columns: the rows shown, in their order."""
    with state.db.session() as session:
        book = _shown(course_gradebook.build(session, mode=mode), q=q, sort=sort, order=order)
    return Response(course_gradebook.plain_csv(book), media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="gradebook-{mode}.csv"'})


@router.get("/dashboard/live")
def live(_dash: Dash, state: State):
    """What the live pages poll: the newest report's id and the queue (two indexed reads)."""
    with state.db.session() as session:
        latest = queries.latest_report_id(session)
        queued, running = queries.queue(session)
    return JSONResponse({"latest": latest, "queued": queued, "running": running},
                        headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------ an exercise


@router.get("/dashboard/exercises/{exercise}")
def exercise_page(request: Request, dash: Dash, state: State, exercise: str,
                  batch: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    ex = _exercise(exercise)
    with state.db.session() as session:
        stats = queries.exercise_stats(session, exercise=ex.id)
        latest = queries.latest_report_id(session)
    chart = charts.histogram(stats.best_fractions, title=f"{ex.id}: best score per student")
    return page(request, "exercise.html", dash=dash, ex=ex, stats=stats, chart=chart, latest=latest, batch=batch,
                exercises=exercises.all_exercises())


@router.post("/dashboard/exercises/{exercise}/regrade")
def regrade_exercise(dash: Checked, state: State, exercise: str):
    ex = _exercise(exercise)
    batch, _queued, _skipped = queue_regrade(state, user_id=dash.user.id, exercise=ex.id, submission_ids=None,
                                             request=RegradeRequest())
    return RedirectResponse(f"/dashboard/exercises/{ex.id}?batch={batch.id}", status_code=303)


@router.get("/dashboard/regrades/{batch_id}.json")
def regrade_progress(_dash: Dash, state: State, batch_id: int):
    progress = batch_progress(state, batch_id=batch_id)
    if progress is None:
        return JSONResponse({"error": f"there is no regrade {batch_id}"}, status_code=404)
    return JSONResponse(progress.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


# ------------------------------------------------------------------ a student


@router.get("/dashboard/students/{user_id}")
def student_page(request: Request, dash: Dash, state: State, user_id: int):
    with state.db.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise PageError(404, "No such student", f"There is no user {user_id}.")
        name, role = user.name, user.role
        attempts = queries.attempts(session, user_id=user_id)
    by_exercise: dict[str, list[queries.Attempt]] = defaultdict(list)
    for a in attempts:
        by_exercise[a.exercise].append(a)
    series = [charts.Series(ex, [a.score / a.max_score if a.max_score else 0.0 for a in rows if a.score is not None])
              for ex, rows in by_exercise.items()]
    series = [s for s in series if s.values]
    chart = charts.lines(series, title=f"{name}: score over attempts") if series else None
    return page(request, "student.html", dash=dash, name=name, role=role, attempts=list(reversed(attempts)),
                chart=chart, explain=registry.explain, exercises=exercises.all_exercises())


# ------------------------------------------------------------------ a submission


def _source(sub: Submission) -> str:
    try:
        return source_from_file(sub.filename, sub.content)
    except UnreadableSubmission:
        return sub.content.decode("utf-8", errors="replace")


@router.get("/dashboard/submissions/{submission_id}")
def submission_page(request: Request, dash: Dash, state: State, submission_id: int,
                    batch: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None, busy: bool = False):
    with state.db.session() as session:
        sub = session.get(Submission, submission_id)
        if sub is None:
            raise PageError(404, "No such submission", f"There is no submission {submission_id}.")
        source = _source(sub)
        reports = queries.reports_of(session, submission_id=sub.id)
        previous = queries.previous_attempt(session, sub)
        diff = (diff_lines(_source(previous), source, old_name=f"#{previous.id} {previous.filename}",
                           new_name=f"#{sub.id} {sub.filename}") if previous is not None else None)
        info = {"id": sub.id, "student": sub.user.name, "user_id": sub.user_id, "exercise": sub.exercise,
                "filename": sub.filename, "size": sub.size, "sha256": sub.sha256, "status": sub.status,
                "created_at": sub.created_at, "finished_at": sub.finished_at,
                "previous": previous.id if previous is not None else None}
    current = next((r for r in reports if r.is_current), None)
    try:
        limits = exercises.get(info["exercise"]).limits
    except exercises.UnknownExercise:
        limits = None
    return page(request, "submission.html", dash=dash, sub=info, source=source_html(source), reports=reports,
                current=current, diff=diff, limits=limits, fatal=registry.FATAL_CODES, explain=registry.explain,
                batch=batch, busy=busy, exercises=exercises.all_exercises())


@router.post("/dashboard/submissions/{submission_id}/regrade")
def regrade_submission(dash: Checked, state: State, submission_id: int):
    with state.db.session() as session:
        sub = session.get(Submission, submission_id)
        if sub is None:
            raise PageError(404, "No such submission", f"There is no submission {submission_id}.")
        exercise = sub.exercise
    batch, queued, _skipped = queue_regrade(state, user_id=dash.user.id, exercise=exercise,
                                            submission_ids=[submission_id], request=RegradeRequest())
    where = f"?batch={batch.id}" if queued else "?busy=true"
    return RedirectResponse(f"/dashboard/submissions/{submission_id}{where}", status_code=303)


@router.get("/dashboard/pygments.css")
def highlight_css():
    return PlainTextResponse(pygments_css(), media_type="text/css", headers={"Cache-Control": "max-age=86400"})
