"""``/submissions``: upload, read (with long-poll), list, report history, Gradescope export."""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import time
import unicodedata
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from sqlalchemy import and_, func, select, true
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from graders.framework.report import Report
from service.course.assignments import Course
from service.db import DONE, FAILED, GradingReport, Submission, User
from service.submission_file import UnreadableSubmission, source_from_file
from service.worker import queue

from ..course import admit, submission_timing
from ..deps import DB, Credentials, Principal, ServiceState, State, principal
from ..deps import User as CurrentUser
from ..errors import ApiError, documented, invalid
from ..schemas import (GradescopeResults, GradescopeTest, ReportEntry, Status, SubmissionAccepted, SubmissionCreate,
                       SubmissionOut, SubmissionPage, SubmissionSummary)
from .exercises import find

router = APIRouter(tags=["submissions"], responses=documented(401, 404, 422))

ID = Annotated[int, Path(ge=1, le=2**31 - 1, description="Submission id.")]
TERMINAL = (DONE, FAILED)
#: Unicode categories a filename loses: controls, format characters (bidi overrides such as U+202E,
#: which show "\u202egnp.py" as "yp.png", zero-width ones), line and paragraph separators, surrogates.
UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
MULTIPART_SCHEMA = {
    "type": "object",
    "required": ["exercise", "file"],
    "properties": {
        "exercise": {"type": "string", "description": "Exercise id.", "example": "dense"},
        "file": {"type": "string", "format": "binary", "description": "A `.py` file or a `.ipynb` notebook."},
    },
}


def clean_filename(name: str | None) -> str:
    """The base name only, without control, format (bidi) or separator characters, at most 100 characters."""
    printable = "".join(c for c in (name or "") if unicodedata.category(c) not in UNPRINTABLE)
    base = PurePosixPath(printable.replace("\\", "/")).name.strip()
    if len(base) > 100:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 90] + dot + ext[:9]) if dot else base[:100]
    return base or "submission.py"


# ------------------------------------------------------------------ reading


def _summary_fields(sub: Submission, current: GradingReport | None, course: Course) -> dict:
    score = current.score if current else None
    return {"timing": submission_timing(course, user_id=sub.user_id, exercise=sub.exercise,
                                        submitted_at=sub.created_at, raw_score=score),
            "id": sub.id, "student": sub.user.name, "exercise": sub.exercise, "filename": sub.filename,
            "size": sub.size, "sha256": sub.sha256, "status": sub.status, "attempts": sub.attempts,
            "created_at": sub.created_at, "started_at": sub.started_at, "finished_at": sub.finished_at,
            "score": current.score if current else None, "max_score": current.max_score if current else None}


def not_yours(submission_id: int) -> ApiError:
    return ApiError(404, "submission-not-found", f"There is no submission {submission_id} of yours.")


def visible_submission(session, submission_id: int, user: Principal) -> Submission:
    """The submission, if ``user`` may see it (its student, or an instructor); else 404."""
    sub = session.get(Submission, submission_id)
    if sub is None or (not user.instructor and sub.user_id != user.id):
        raise not_yours(submission_id)
    return sub


def submission_status(state: ServiceState, submission_id: int, user: Principal) -> str:
    """The submission's status, if ``user`` may see it (as :func:`visible_submission`); else 404."""
    with state.db.session() as session:
        row = session.execute(select(Submission.user_id, Submission.status)
                              .where(Submission.id == submission_id)).one_or_none()
    if row is None or (not user.instructor and row.user_id != user.id):
        raise not_yours(submission_id)
    return row.status


def current_report(session, submission_id: int) -> GradingReport | None:
    return session.scalar(select(GradingReport).where(GradingReport.submission_id == submission_id,
                                                      GradingReport.is_current))


def read_submission(state: ServiceState, submission_id: int, user: Principal) -> SubmissionOut:
    with state.db.session() as session:
        sub = visible_submission(session, submission_id, user)
        current = current_report(session, sub.id)
        count = session.scalar(select(func.count()).select_from(GradingReport)
                               .where(GradingReport.submission_id == sub.id))
        return SubmissionOut(**_summary_fields(sub, current, Course.load(session)), reports=int(count or 0),
                             report=Report.model_validate(current.report) if current else None)


# ------------------------------------------------------------------ accepting


def _retry_after_queue(state: ServiceState, queued: int) -> int:
    """Seconds the workers need to grade a tenth of the queue (at this process's mean grading time),
    between 1 s and 5 min: long enough that retries do not arrive as a second spike."""
    hists = state.context.metrics.grading_seconds
    graded = sum(h.total for h in hists.values())
    mean = sum(h.sum for h in hists.values()) / graded if graded else 1.0
    workers = state.pool.size if state.pool else 1
    return int(min(300, max(1, math.ceil(queued * mean / workers / 10))))


def _check_limits(session, state: ServiceState, user: Principal, now: datetime) -> None:
    """Raise 429 (the student's rate limit) or 503 (the queue is full), with Retry-After."""
    limit = state.settings.rate_limit
    if limit and not user.instructor:
        window = now - timedelta(minutes=1)
        recent = list(session.scalars(
            select(Submission.created_at).where(Submission.user_id == user.id, Submission.created_at > window)
            .order_by(Submission.created_at).limit(limit)))
        if len(recent) >= limit:
            state.context.metrics.refuse("rate-limit")
            wait = max(1, math.ceil((recent[0] - window).total_seconds()))
            raise ApiError(429, "rate-limited", f"At most {limit} submissions a minute; try again in "
                           f"{wait} s.", headers={"Retry-After": str(wait)})
    queued = queue.queued_count(session)
    if queued >= state.settings.queue_max:
        state.context.metrics.refuse("queue-full")
        wait = _retry_after_queue(state, queued)
        raise ApiError(503, "queue-full", f"The grading queue is full ({queued} waiting); try again in "
                       f"{wait} s.", headers={"Retry-After": str(wait)})


def _request_hash(exercise: str, filename: str, sha256: str) -> str:
    return hashlib.sha256(f"{exercise}\0{filename}\0{sha256}".encode()).hexdigest()


def _existing(session, user: Principal, idempotency_key: str | None, request_hash: str) -> Submission | None:
    """The submission an earlier request with this Idempotency-Key made; 409 if it was another request."""
    if idempotency_key is None:
        return None
    sub = session.scalar(select(Submission).where(Submission.user_id == user.id,
                                                  Submission.idempotency_key == idempotency_key))
    if sub is not None and sub.request_sha256 != request_hash:
        raise ApiError(409, "idempotency-key-reused",
                       "This Idempotency-Key was used for a different submission; use a new key.")
    return sub


def _admit(state: ServiceState, user: Principal, exercise: str, filename: str, data: bytes,
           idempotency_key: str | None) -> Submission | None:
    """Before reading the file: the submission a retry names, or None once the limits allow a new one
    (429/503 otherwise).  Cheap, so a refused student costs no parsing; :func:`_accept` checks again."""
    request_hash = _request_hash(exercise, filename, hashlib.sha256(data).hexdigest())
    with state.db.session() as session:
        found = _existing(session, user, idempotency_key, request_hash)
        if found is None:
            now = state.now()
            admit(session, user, exercise, now)  # a closed assignment is refused before any parsing too
            _check_limits(session, state, user, now)
        return found


def _accept(state: ServiceState, user: Principal, exercise: str, filename: str, data: bytes,
            idempotency_key: str | None) -> Submission:
    """Commit the submission (bytes and hash) to the queue, or raise 409/429/503."""
    sha256 = hashlib.sha256(data).hexdigest()
    request_hash = _request_hash(exercise, filename, sha256)
    try:
        with state.db.write_session(exclusive=True) as session:  # the counts below hold until the insert
            found = _existing(session, user, idempotency_key, request_hash)
            if found is not None:
                return found
            now = state.now()
            admit(session, user, exercise, now)  # the course's dates and attempt cap
            _check_limits(session, state, user, now)
            return queue.enqueue(session, user_id=user.id, exercise=exercise, filename=filename, content=data,
                                 sha256=sha256, idempotency_key=idempotency_key, request_sha256=request_hash,
                                 now=now)
    except IntegrityError:  # a concurrent retry with the same Idempotency-Key won the race
        with state.db.session() as session:
            found = _existing(session, user, idempotency_key, request_hash)
            if found is None:
                raise
            return found


def _submit(state: ServiceState, user: Principal, exercise: str, filename: str, data: bytes,
            idempotency_key: str | None) -> Submission:
    """The submission a retry names, or a new one: limits checked, the file read within its time
    budget (422 if it cannot be), committed to the queue and the graders told."""
    found = _admit(state, user, exercise, filename, data, idempotency_key)
    if found is not None:
        return found
    try:
        source_from_file(filename, data, seconds=state.settings.max_parse_seconds)
    except UnreadableSubmission as exc:
        raise ApiError(422, exc.code, exc.message) from None
    sub = _accept(state, user, exercise, filename, data, idempotency_key)
    state.enqueued([sub.id])
    return sub


def _single(form, name: str):
    """The one value of form field ``name``: None if absent, 422 if given more than once."""
    values = form.getlist(name)
    if len(values) > 1:
        raise ApiError(422, "duplicate-field", f"The form has {len(values)} {name!r} fields; send exactly one "
                                               f"`exercise` and one `file`.")
    return values[0] if values else None


async def _read_upload(request: Request, limit: int) -> tuple[str, str, bytes]:
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=4, max_fields=20)
        except MultiPartException as exc:
            raise ApiError(422, "invalid-multipart", f"The multipart body cannot be read: {exc.message}") from None
        exercise, upload = _single(form, "exercise"), _single(form, "file")
        missing = [name for name, value in (("exercise", exercise), ("file", upload)) if value is None]
        if missing:
            raise ApiError(422, "missing-field", f"The form lacks {' and '.join(repr(m) for m in missing)}: send "
                           f"`exercise` (the exercise id) and `file` (the .py or .ipynb file).")
        if not isinstance(exercise, str):
            raise ApiError(422, "invalid-field", "`exercise` must be a plain form field, not a file.")
        if not isinstance(upload, UploadFile):
            raise ApiError(422, "invalid-field", "`file` must be a file upload (curl: -F file=@dense.py).")
        data = await upload.read(limit + 1)
        return exercise, clean_filename(upload.filename), data
    if content_type.startswith("application/json"):
        try:
            payload = SubmissionCreate.model_validate_json(await request.body())
        except ValidationError as exc:
            raise invalid(list(exc.errors(include_url=False))) from None
        try:
            data = payload.source.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(422, "not-utf8", "`source` contains characters that are not valid UTF-8 "
                                            "(lone surrogates).") from None
        return payload.exercise, clean_filename(payload.filename), data
    raise ApiError(415, "unsupported-media-type",
                   "Send multipart/form-data (fields `exercise` and `file`) or application/json "
                   "(`{exercise, filename, source}`).")


@router.post(
    "/submissions", status_code=202, response_model=SubmissionAccepted, summary="Submit a file for grading",
    responses=documented(409, 413, 415, 429, 503),
    openapi_extra={"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": MULTIPART_SCHEMA},
        "application/json": {"schema": SubmissionCreate.model_json_schema()}}}})
async def create_submission(
        request: Request, response: Response, user: CurrentUser, state: State,
        idempotency_key: Annotated[str | None, Header(
            alias="Idempotency-Key", min_length=1, max_length=200,
            description="Retrying with the same key returns the same submission instead of a new one.")] = None,
) -> SubmissionAccepted:
    """Upload a `.py` file or a `.ipynb` notebook (multipart, fields `exercise` and `file`) or send the
    source as JSON.  The file's bytes and SHA-256 are committed before the answer; grading happens in the
    background: follow `Location` (with `?wait=30` to wait for the report)."""
    limit = state.settings.max_upload_bytes
    exercise, filename, data = await _read_upload(request, limit)
    ex = find(exercise)
    if len(data) > limit:
        raise ApiError(413, "file-too-large", f"{filename} is larger than {limit} bytes ({limit / 2**20:g} MiB), "
                                              f"the largest file this service accepts.")
    # One trip to a thread for all of it: off the event loop, so /healthz answers meanwhile.
    sub = await run_in_threadpool(_submit, state, user, ex.id, filename, data, idempotency_key)
    location = f"/api/v1/submissions/{sub.id}"
    response.headers["Location"] = location
    return SubmissionAccepted(id=sub.id, status=sub.status, exercise=sub.exercise, filename=sub.filename,
                              size=sub.size, sha256=sub.sha256, created_at=sub.created_at, location=location)


def submission_json(state: ServiceState, submission_id: int, user: Principal) -> tuple[str, Response]:
    """:func:`read_submission`'s status and its JSON answer, serialized here in the thread: a thousand
    waits woken at once would otherwise serialize a thousand reports on the event loop."""
    out = read_submission(state, submission_id, user)
    return out.status, Response(out.model_dump_json(), media_type="application/json")


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, summary="A submission and its report",
            responses=documented(429))
async def get_submission(
        submission_id: ID, credentials: Credentials, state: State,
        wait: Annotated[float, Query(ge=0, le=86400, description="Wait up to this many seconds for the report "
                                     "(long-poll; capped by the service).")] = 0.0,
) -> Response:
    """`status` is `queued`, `running`, `done` or `failed`; once graded, `report` is the contract's report.
    With `?wait=S` the answer comes as soon as grading ends, or after S seconds; a user may hold a few
    such requests open at once (429 `too-many-waits` beyond)."""
    deadline = time.monotonic() + min(wait, state.settings.long_poll_max)
    if deadline <= time.monotonic():
        return await run_in_threadpool(_answer, state, credentials, submission_id)
    # Subscribed before the first look, which is the token and the status alone in one trip to a
    # thread: a thousand waits arriving at once read no reports, and no grading ending between is missed.
    async with state.hub.subscribe(submission_id) as finished:
        user, status = await run_in_threadpool(_first_look, state, credentials, submission_id)
        if status not in TERMINAL:
            with state.hub.charge(user.id):  # 429 beyond the cap per user
                while (remaining := deadline - time.monotonic()) > 0:
                    try:  # woken by this process's workers, or by the hub's one watcher of the database
                        await asyncio.wait_for(finished.wait(), timeout=remaining)
                    except asyncio.TimeoutError:
                        break
                    finished.clear()
                    status, answer = await run_in_threadpool(submission_json, state, submission_id, user)
                    if status in TERMINAL:
                        return answer
    return (await run_in_threadpool(submission_json, state, submission_id, user))[1]


def _answer(state: ServiceState, credentials: HTTPAuthorizationCredentials | None, submission_id: int) -> Response:
    """The token and the answer in one trip to a thread."""
    return submission_json(state, submission_id, principal(state, credentials))[1]


def _first_look(state: ServiceState, credentials: HTTPAuthorizationCredentials | None,
                submission_id: int) -> tuple[Principal, str]:
    user = principal(state, credentials)
    return user, submission_status(state, submission_id, user)


@router.get("/submissions", response_model=SubmissionPage, summary="List submissions")
def list_submissions(
        user: CurrentUser, session: DB,
        student: Annotated[str | None, Query(max_length=200, description="A student's name (instructors).")] = None,
        exercise: Annotated[str | None, Query(max_length=100)] = None,
        status: Status | None = None,
        since: Annotated[datetime | None, Query(description="Submitted at or after (ISO 8601).")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> SubmissionPage:
    """Students see their own submissions, instructors everyone's; oldest first."""
    conditions = []
    if not user.instructor:
        conditions.append(Submission.user_id == user.id)
    if student is not None:
        conditions.append(User.name == student)
    if exercise is not None:
        conditions.append(Submission.exercise == exercise)
    if status is not None:
        conditions.append(Submission.status == status)
    if since is not None:
        conditions.append(Submission.created_at >= since)
    where = and_(true(), *conditions)
    total = session.scalar(select(func.count()).select_from(Submission).join(User, Submission.user_id == User.id)
                           .where(where))
    rows = session.execute(
        select(Submission, GradingReport).join(User, Submission.user_id == User.id)
        .outerjoin(GradingReport, and_(GradingReport.submission_id == Submission.id, GradingReport.is_current))
        .where(where).order_by(Submission.id).limit(limit).offset(offset)).all()
    course = Course.load(session)
    return SubmissionPage(items=[SubmissionSummary(**_summary_fields(s, r, course)) for s, r in rows],
                          total=int(total or 0), limit=limit, offset=offset)


@router.get("/submissions/{submission_id}/reports", response_model=list[ReportEntry],
            summary="Every report of a submission, oldest first")
def list_reports(submission_id: ID, user: CurrentUser, session: DB) -> list[ReportEntry]:
    """Regrades keep earlier reports; each carries its grader version and seed."""
    sub = visible_submission(session, submission_id, user)
    rows = session.scalars(select(GradingReport).where(GradingReport.submission_id == sub.id)
                           .order_by(GradingReport.id))
    return [ReportEntry(id=r.id, current=r.is_current, created_at=r.created_at, trigger=r.trigger,
                        regrade_batch=r.regrade_batch_id, seed=r.seed, grader_version=r.grader_version,
                        exercise_version=r.exercise_version, score=r.score, max_score=r.max_score,
                        report=Report.model_validate(r.report)) for r in rows]


@router.get("/submissions/{submission_id}/file", summary="The submitted file, as uploaded",
            response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
def get_file(submission_id: ID, user: CurrentUser, session: DB) -> Response:
    sub = visible_submission(session, submission_id, user)
    safe = re.sub(r'[^A-Za-z0-9._-]', "_", sub.filename)
    return Response(sub.content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "X-Content-Type-Options": "nosniff", "X-Checksum-SHA256": sub.sha256})


GradescopeVisibility = GradescopeTest.model_fields["visibility"].annotation


@router.get("/submissions/{submission_id}/gradescope.json", response_model=GradescopeResults,
            summary="The current report in Gradescope's results.json format", responses=documented(409))
def gradescope(submission_id: ID, user: CurrentUser, session: DB,
               hidden_visibility: Annotated[GradescopeVisibility, Query(
                   description="Gradescope visibility of the hidden cases.")] = "after_due_date",
               ) -> GradescopeResults:
    sub = visible_submission(session, submission_id, user)
    current = current_report(session, sub.id)
    if current is None:
        raise ApiError(409, "not-graded-yet", f"Submission {sub.id} has no report yet ({sub.status}).")
    report = Report.model_validate(current.report)
    tests = [GradescopeTest(
        name=t.name, score=t.score, max_score=t.max_score, status="passed" if t.outcome == "pass" else "failed",
        output=t.message, visibility="visible" if t.visibility == "visible" else hidden_visibility,
        tags=list(t.diagnoses)) for t in report.tests]
    summary = report.message or f"{report.exercise} v{report.exercise_version}: {report.score:g}/{report.max_score:g}"
    if report.diagnoses:
        summary += "\nDiagnoses: " + ", ".join(report.diagnoses)
    return GradescopeResults(score=report.score, execution_time=round(report.duration_ms / 1000, 3), output=summary,
                             stdout_visibility="hidden", tests=tests)
