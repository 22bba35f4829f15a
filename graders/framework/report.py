"""The report of the exercise contract: one JSON document per graded submission.

Every text of a report is :data:`Text`: messages and output carry strings a submission
chose (an exception's message, a dict key, a class name), and a string with a lone
surrogate (``"\\ud800"``) cannot be written as UTF-8 at all.  It is made encodable here,
where text enters the report, so that every reader (JSON, the CLI's table, the service's
answers, Gradescope's file) gets text it can write.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr


def encodable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (unchanged if it is valid already)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # UTF-16 pairs up split surrogate halves and replaces the lone ones
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


Text = Annotated[str, AfterValidator(encodable)]

Outcome = Literal["pass", "fail", "error", "timeout"]
Visibility = Literal["visible", "hidden"]


class CaseReport(BaseModel):
    """One test (a grader case) as the student sees it."""

    model_config = ConfigDict(validate_assignment=True)  # a text set later is made encodable too

    name: Text
    visibility: Visibility
    score: float
    max_score: float
    outcome: Outcome
    message: Text = Field(description="What went wrong, in a student's words; hidden tests never show expected values.")
    diagnoses: list[Text] = Field(default_factory=list, description="Diagnosis codes of the contract.")
    feeds: Text = Field(default="", description="What the case gives the student's functions.")
    expects: Text = Field(default="", description="What the case checks.")


class Report(BaseModel):
    """The scored report of one grading run, however it ended."""

    model_config = ConfigDict(validate_assignment=True)

    exercise: Text
    exercise_version: Text
    status: Literal["graded", "rejected"]
    score: float
    max_score: float
    diagnoses: list[Text] = Field(default_factory=list)
    seed: int | None = Field(description="Seed of the hidden cases; a regrade with it reproduces this report.")
    tests: list[CaseReport] = Field(default_factory=list)
    grader_version: Text = ""
    hidden_included: bool = False
    isolation: list[Text] = Field(default_factory=list, description="Isolation layers active while the code ran.")
    message: Text = Field(default="", description="Why a submission was rejected, or a note on the whole run.")
    output: Text = Field(default="", description="The submission's own stdout/stderr, capped; never read for results.")
    duration_ms: float = 0.0
    # Every code the grader found, whatever the feedback level lets ``diagnoses`` show (exam
    # mode shows none). It stays on the trusted side for the class-wide counts (the dashboard,
    # /metrics) and is never serialized, so it never reaches a student.
    _found: list[str] | None = PrivateAttr(default=None)

    @property
    def found_diagnoses(self) -> list[str]:
        """The codes found, shown to the student or not (``diagnoses`` when nothing was hidden)."""
        return list(self.diagnoses if self._found is None else self._found)

    def with_found(self, codes: list[str]) -> "Report":
        """This report, remembering ``codes`` as every code found (see :attr:`found_diagnoses`)."""
        self._found = list(dict.fromkeys(codes))
        return self

    @property
    def passed(self) -> bool:
        return self.status == "graded" and self.score >= self.max_score


def rejected(exercise: str, version: str, message: str, *, isolation: list[str] | None = None) -> Report:
    """A report for a file that could not be taken at all (unreadable, too large, not UTF-8)."""
    return Report(exercise=exercise, exercise_version=version, status="rejected", score=0.0, max_score=0.0,
                  seed=None, message=message, isolation=isolation or [])
