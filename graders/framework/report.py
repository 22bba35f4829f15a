"""The report of the exercise contract: one JSON document per graded submission."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Outcome = Literal["pass", "fail", "error", "timeout"]
Visibility = Literal["visible", "hidden"]


class CaseReport(BaseModel):
    """One test (a grader case) as the student sees it."""

    name: str
    visibility: Visibility
    score: float
    max_score: float
    outcome: Outcome
    message: str = Field(description="What went wrong, in a student's words; hidden tests never show expected values.")
    diagnoses: list[str] = Field(default_factory=list, description="Diagnosis codes of the contract.")
    feeds: str = Field(default="", description="What the case gives the student's functions.")
    expects: str = Field(default="", description="What the case checks.")


class Report(BaseModel):
    """The scored report of one grading run, however it ended."""

    exercise: str
    exercise_version: str
    status: Literal["graded", "rejected"]
    score: float
    max_score: float
    diagnoses: list[str] = Field(default_factory=list)
    seed: int | None = Field(description="Seed of the hidden cases; a regrade with it reproduces this report.")
    tests: list[CaseReport] = Field(default_factory=list)
    grader_version: str = ""
    hidden_included: bool = False
    isolation: list[str] = Field(default_factory=list, description="Isolation layers active while the code ran.")
    message: str = Field(default="", description="Why a submission was rejected, or a note on the whole run.")
    output: str = Field(default="", description="The submission's own stdout/stderr, capped; never read for results.")
    duration_ms: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "graded" and self.score >= self.max_score


def rejected(exercise: str, version: str, message: str, *, isolation: list[str] | None = None) -> Report:
    """A report for a file that could not be taken at all (unreadable, too large, not UTF-8)."""
    return Report(exercise=exercise, exercise_version=version, status="rejected", score=0.0, max_score=0.0,
                  seed=None, message=message, isolation=isolation or [])
