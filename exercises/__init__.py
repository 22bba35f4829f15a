"""The exercise catalog: one folder per exercise with its statement, starter and metadata.

``exercises/<id>/``:

* ``statement.md`` — what the student reads (formulas, shapes, a worked example).
* ``starter.py`` — the exact signatures with numpydoc docstrings.
* ``metadata.toml`` — id, title, version, points (total and per case), budgets, and the
  ``feedback`` level (``hints``, ``codes`` or ``score``: :mod:`graders.framework.feedback`).
* ``visible.npz`` — the inputs' digests and expected outputs of the visible cases,
  generated from the references by ``nngrade exercises regen``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from graders.framework.feedback import DEFAULT as DEFAULT_FEEDBACK, check_level
from graders.framework.proxy import Limits

ROOT = Path(__file__).resolve().parent
ORDER = ("dense", "lora", "toeplitz", "attention", "two_layer")


class UnknownExercise(KeyError):
    def __init__(self, exercise: str):
        super().__init__(exercise)
        self.exercise = exercise

    def __str__(self) -> str:
        return f"unknown exercise {self.exercise[:80]!r}; known: {', '.join(ids())}"


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    version: str
    functions: tuple[str, ...]
    total_points: float
    points: dict[str, float] = field(hash=False)
    limits: Limits = field(default_factory=Limits)
    summary: str = ""
    #: How much a report tells: ``hints`` (default), ``codes`` or ``score`` (exam mode).
    feedback: str = DEFAULT_FEEDBACK

    @property
    def folder(self) -> Path:
        return ROOT / self.id

    @property
    def statement(self) -> str:
        return (self.folder / "statement.md").read_text(encoding="utf-8")

    @property
    def starter(self) -> str:
        return (self.folder / "starter.py").read_text(encoding="utf-8")

    @property
    def visible_path(self) -> Path:
        return self.folder / "visible.npz"


def ids() -> list[str]:
    """Exercise ids in course order, then any others an instructor added."""
    found = sorted(p.name for p in ROOT.iterdir() if (p / "metadata.toml").is_file())
    return [e for e in ORDER if e in found] + [e for e in found if e not in ORDER]


@lru_cache(maxsize=None)
def get(exercise: str) -> Exercise:
    """Load an exercise's metadata; raise :class:`UnknownExercise` for an unknown id."""
    if exercise not in ids():
        raise UnknownExercise(exercise)
    meta = tomllib.loads((ROOT / exercise / "metadata.toml").read_text(encoding="utf-8"))
    return Exercise(
        id=meta["id"],
        title=meta["title"],
        version=str(meta["version"]),
        functions=tuple(meta["functions"]),
        total_points=float(meta["total_points"]),
        points={str(k): float(v) for k, v in meta["points"].items()},
        limits=Limits(**meta.get("limits", {})),
        summary=meta.get("summary", ""),
        feedback=check_level(meta.get("feedback", DEFAULT_FEEDBACK)),
    )


def all_exercises() -> list[Exercise]:
    return [get(e) for e in ids()]
