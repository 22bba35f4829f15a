"""The API's request and response bodies (pydantic), apart from the database models.

The report itself is the contract's :class:`graders.framework.report.Report`, unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from graders.framework.report import Report

Status = Literal["queued", "running", "done", "failed"]
Role = Literal["student", "instructor"]
MAX_SEED = 2**63 - 1


class ErrorOut(BaseModel):
    """Every error: a stable machine-readable ``code`` and a message for a person."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"code": "unknown-exercise", "message": "unknown exercise 'dens'; known: dense, lora"}]})

    code: str = Field(description="Stable identifier of the error, e.g. `file-too-large`, `missing-token`.")
    message: str
    details: list[dict] | None = Field(default=None, description="Per-field problems of an invalid request.")


class Me(BaseModel):
    name: str
    role: Role


# ------------------------------------------------------------------ exercises


class LimitsOut(BaseModel):
    cpu_seconds: float
    wall_seconds: float
    call_seconds: float
    memory_mb: int
    output_kb: int
    processes: int


class CaseInfo(BaseModel):
    name: str
    points: float
    feeds: str = Field(description="What the case gives your functions.")
    expects: str = Field(description="What it checks.")


class ExerciseSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": "dense", "title": "Batched dense layer: forward and backward",
         "summary": "Y = X @ W.T + b for a batch of samples as rows, and its three gradients.",
         "version": "1.0.0", "total_points": 19, "functions": ["dense_forward", "dense_backward"]}]})

    id: str
    title: str
    summary: str
    version: str
    total_points: float
    functions: list[str]


class ExerciseDetail(ExerciseSummary):
    statement: str = Field(description="The statement, Markdown.")
    starter: str = Field(description="The starter file with the exact signatures.")
    visible_cases: list[CaseInfo]
    hidden_cases: int = Field(description="How many hidden cases run on the server.")
    hidden_points: float
    limits: LimitsOut = Field(description="The budgets a submission runs under (capped by the service's settings).")


# ------------------------------------------------------------------ submissions


class SubmissionCreate(BaseModel):
    """A submission as JSON (the alternative to a multipart upload)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"exercise": "dense", "filename": "dense.py",
         "source": "import numpy as np\n\ndef dense_forward(X, W, b):\n    return X @ W.T + b\n"}]})

    exercise: str = Field(min_length=1, max_length=100)
    filename: str = Field(default="submission.py", min_length=1, max_length=255,
                          description="`.py`, or `.ipynb` with the notebook's JSON as `source`.")
    source: str


class SubmissionAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"id": 42, "status": "queued", "exercise": "dense", "filename": "dense.py", "size": 812,
         "sha256": "9f2c…", "created_at": "2026-11-23T16:30:00Z", "location": "/api/v1/submissions/42"}]})

    id: int
    status: Status
    exercise: str
    filename: str
    size: int
    sha256: str
    created_at: datetime
    location: str


TimingStatus = Literal["on-time", "late", "after-deadline"]


class Timing(BaseModel):
    """How a submission stands against its assignment's (or the student's extended) dates."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "late", "due_at": "2026-12-10T22:59:00Z", "late_by_seconds": 5400, "late_by": "1 h 30 min",
         "penalty_percent": 10, "raw_score": 19, "score": 17.1, "extended": False,
         "summary": "late by 1 h 30 min: 10% penalty"}]})

    status: TimingStatus
    due_at: datetime = Field(description="The due date that held for this student (UTC).")
    late_by_seconds: int
    late_by: str = Field(description="The same, for a person.")
    penalty_percent: float
    raw_score: float | None = Field(description="The grader's score, before the penalty.")
    score: float | None = Field(description="The score that counts: after the penalty (none after the deadline).")
    extended: bool = Field(description="The student's extension set the dates.")
    summary: str


class SubmissionSummary(BaseModel):
    id: int
    student: str
    exercise: str
    filename: str
    size: int
    sha256: str
    status: Status
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    score: float | None = Field(description="Score of the current report, once there is one.")
    max_score: float | None
    timing: Timing | None = Field(default=None, description="On time or late, and the penalty, when the "
                                                              "exercise is an assignment.")


class SubmissionOut(SubmissionSummary):
    report: Report | None = Field(description="The current report (the contract's), once graded.")
    reports: int = Field(description="How many reports this submission has (regrades add more).")


class SubmissionPage(BaseModel):
    items: list[SubmissionSummary]
    total: int
    limit: int
    offset: int


class ReportEntry(BaseModel):
    id: int
    current: bool
    created_at: datetime
    trigger: Literal["submit", "regrade", "recovery"]
    regrade_batch: int | None
    seed: int | None
    grader_version: str
    exercise_version: str
    score: float
    max_score: float
    report: Report


# ------------------------------------------------------------------ regrades


class RegradeRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"new_seed": False}, {"seed": 1234}]})

    seed: int | None = Field(default=None, ge=0, le=MAX_SEED,
                             description="Seed of the hidden cases for every regraded submission.")
    new_seed: bool = Field(default=False, description="Draw a fresh seed; default: each submission's current "
                                                      "report's seed, so only a grader change shows.")


class RegradeOut(BaseModel):
    batch: int
    exercise: str
    queued: int = Field(description="Submissions queued for regrading.")
    skipped: int = Field(description="Submissions already queued or being graded, left as they are.")
    location: str


class RegradeProgress(BaseModel):
    id: int
    exercise: str | None
    created_at: datetime
    total: int
    done: int = Field(description="Regraded: a report of this regrade was stored.")
    pending: int = Field(description="Still queued or being graded.")
    superseded: int = Field(description="Taken over by a later regrade before this one reached them.")
    finished: bool


# ------------------------------------------------------------------ gradebook


class GradebookColumn(BaseModel):
    id: str
    title: str
    max_score: float


class GradebookRow(BaseModel):
    student: str
    section: str = ""
    scores: dict[str, float | None] = Field(description="After the late penalty.")
    penalties: dict[str, float] = Field(default_factory=dict, description="Percent taken off each score.")
    total: float


class Gradebook(BaseModel):
    mode: Literal["best", "latest", "on-time-best"]
    section: str | None = None
    exercises: list[GradebookColumn]
    rows: list[GradebookRow]


class GradescopeTest(BaseModel):
    name: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str
    visibility: Literal["visible", "hidden", "after_due_date", "after_published"]
    tags: list[str]


class GradescopeResults(BaseModel):
    """Gradescope's ``results.json`` for an autograder."""

    score: float
    execution_time: float
    output: str
    stdout_visibility: Literal["visible", "hidden", "after_due_date", "after_published"]
    tests: list[GradescopeTest]


# ------------------------------------------------------------------ health


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    runner: str
    isolation: list[str]


class Check(BaseModel):
    ok: bool
    detail: str


class Ready(BaseModel):
    ready: bool
    checks: dict[str, Check]
    isolation: list[str]


# ------------------------------------------------------------------ the course (service.course)

LatePolicyKind = Literal["none", "per-day", "per-hour", "fixed"]
AssignmentState = Literal["not-open", "open", "late", "closed"]


class AssignmentWrite(BaseModel):
    """Dates without an offset are read in ``timezone``; with one (``…Z``, ``…+01:00``) as given."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"exercise": "dense", "opens_at": "2026-12-01T09:00", "due_at": "2026-12-10T23:59",
         "late_until": "2026-12-13T23:59", "timezone": "Europe/Berlin", "late_policy": "per-day",
         "penalty_percent": 10, "penalty_cap": 30, "max_attempts": 20}]})

    title: str | None = Field(default=None, max_length=200, description="Default: the exercise's title.")
    opens_at: datetime | None = None
    due_at: datetime | None = None
    late_until: datetime | None = Field(default=None, description="Last moment a late submission is accepted; "
                                                                  "none: the due date closes the assignment.")
    timezone: str | None = Field(default=None, max_length=64, description="IANA zone of the dates, e.g. "
                                                                          "`Europe/Berlin`; default UTC.")
    late_policy: LatePolicyKind | None = None
    penalty_percent: float | None = Field(default=None, ge=0, le=100,
                                          description="Per started day/hour (per-day, per-hour) or once (fixed).")
    penalty_cap: float | None = Field(default=None, ge=0, le=100, description="Most a per-day/per-hour penalty "
                                                                              "takes, in percent.")
    max_attempts: int | None = Field(default=None, ge=1, le=100000, description="Graded attempts per student.")


class AssignmentCreate(AssignmentWrite):
    exercise: str = Field(min_length=1, max_length=100)
    opens_at: datetime
    due_at: datetime


class AssignmentUpdate(AssignmentWrite):
    clear_late_until: bool = Field(default=False, description="Remove the late window.")
    clear_max_attempts: bool = Field(default=False, description="Remove the attempt cap.")


class AssignmentOut(BaseModel):
    exercise: str
    title: str
    max_score: float
    opens_at: datetime
    due_at: datetime
    late_until: datetime | None
    timezone: str
    late_policy: LatePolicyKind
    penalty_percent: float
    penalty_cap: float
    late_policy_summary: str
    max_attempts: int | None
    state: AssignmentState = Field(description="Now, for a student without an extension.")


class ExtensionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"exercise": "dense", "student": "ada", "due_at": "2026-12-14T23:59", "reason": "illness"}]})

    exercise: str = Field(min_length=1, max_length=100)
    student: str = Field(min_length=1, max_length=200)
    due_at: datetime = Field(description="Without an offset: in the assignment's time zone.")
    late_until: datetime | None = Field(default=None, description="Default: the new due date plus the "
                                                                  "assignment's late window.")
    reason: str = Field(default="", max_length=2000)


class ExtensionOut(BaseModel):
    id: int
    exercise: str
    student: str
    due_at: datetime
    late_until: datetime | None = Field(description="None: the new due date plus the assignment's late window.")
    timezone: str = Field(description="The assignment's zone, for display.")
    reason: str
    created_at: datetime
    revoked_at: datetime | None


class RosterStudent(BaseModel):
    name: str
    email: str
    section: str
    lms_id: str
    sis_user_id: str
    sis_login_id: str
    created_at: datetime
    removed_at: datetime | None


class RosterImported(RosterStudent):
    token: str | None = Field(description="The new student's token, shown this once; none for a student "
                                          "already on the roster (details updated).")


class RosterImport(BaseModel):
    created: int
    updated: int
    students: list[RosterImported]


class RosterRemoved(BaseModel):
    name: str
    revoked_tokens: int


class MyAssignment(BaseModel):
    exercise: str
    title: str
    state: AssignmentState
    opens_at: datetime
    due_at: datetime = Field(description="Your due date (your extension's, if you have one).")
    late_until: datetime
    extended: bool
    timezone: str
    late_policy: str
    max_score: float
    best_score: float | None = Field(description="Your best score so far, after any late penalty.")
    attempts_used: int
    attempts_left: int | None = Field(description="None: no cap.")
