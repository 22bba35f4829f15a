"""How much a report tells: the exercise's feedback level, applied in this one place.

Every report passes through :func:`compose` when a grading run ends, wherever it runs (the
CLI, the pytest self-check, the notebook ``check()``, the service's workers): they all
grade through ``service.grading.grade``, which passes the exercise's level.

Levels (``feedback`` in ``exercises/<id>/metadata.toml``):

``hints`` (default)
    Each failing test says what went wrong (the failing property, the mistakes named) and
    carries its diagnosis codes; each distinct hint is shown once, in the first test that
    needs it, instead of in every failing row.
``codes``
    The same without any hint: the diagnosis and the failing property.
``score``
    Exam mode: pass or fail per visible test, with its points; no message and no code.
    The hidden tests become one row with their total, so that they never say more than
    the visible ones.
"""

from __future__ import annotations

from typing import Sequence

from .report import CaseReport

LEVELS = ("hints", "codes", "score")
DEFAULT = "hints"
HIDDEN_ROW = "hidden cases"
SCORE_NOTE = "This exercise reports pass or fail per test only (exam mode)."


class UnknownLevel(ValueError):
    pass


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise UnknownLevel(f"feedback level must be one of {', '.join(LEVELS)}; got {level!r}")
    return level


def with_hints(message: str, hints: Sequence[str]) -> str:
    return "\n".join([message] * bool(message) + [f"Hint: {h}" for h in hints])


def compose(tests: Sequence[CaseReport], hints: Sequence[Sequence[str]], level: str = DEFAULT) -> list[CaseReport]:
    """The tests of a report as ``level`` shows them; ``hints[i]`` are test ``i``'s hints."""
    check_level(level)
    if level == "score":
        return _score_only(tests)
    shown: set[str] = set()
    out = []
    for test, own in zip(tests, hints):
        new = [h for h in dict.fromkeys(own) if h not in shown] if level == "hints" else []
        shown.update(new)
        out.append(test.model_copy(update={"message": with_hints(test.message, new)}))
    return out


def _score_only(tests: Sequence[CaseReport]) -> list[CaseReport]:
    def bare(t: CaseReport, **update) -> CaseReport:
        outcome = "pass" if t.outcome == "pass" else "fail"
        return t.model_copy(update={"outcome": outcome, "message": "", "diagnoses": [], **update})

    visible = [bare(t) for t in tests if t.visibility == "visible"]
    hidden = [t for t in tests if t.visibility == "hidden"]
    if not hidden:
        return visible
    row = CaseReport(name=HIDDEN_ROW, visibility="hidden", score=round(sum(t.score for t in hidden), 6),
                     max_score=sum(t.max_score for t in hidden),
                     outcome="pass" if all(t.outcome == "pass" for t in hidden) else "fail", message="",
                     diagnoses=[], feeds="", expects=f"{len(hidden)} hidden tests")
    return visible + [row]
