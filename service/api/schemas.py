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
    scores: dict[str, float | None]
    total: float


class Gradebook(BaseModel):
    mode: Literal["best", "latest"]
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
