"""What a student reads names the course material by its titles, never by this project's names for it.

A student has the statement, the starter, the report and the course's chapters by their titles;
"the seeds", "project 004", "chapter 000", "the adjoints note" or an exercise label without its
chapter mean nothing to them.  Scanned: every statement and starter, and every string a grader
or the framework can put into a report (string constants and the literal parts of f-strings;
docstrings are for maintainers and are left out), and the registry's explanations.
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

import exercises
from graders.framework import codes

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRADER_SOURCES = sorted((ROOT / "graders").glob("*.py")) + sorted((ROOT / "graders" / "framework").glob("*.py"))

#: Internal names for the course material, each with what a student would not understand.
INTERNAL = [
    (re.compile(r"\bthe seeds\b|\bseed's\b|\bseeds translate\b|\bseeds/"), "the project's name for the course material"),
    (re.compile(r"\b(?:project|chapter|lecture|note|page|seed)s? \(?\d{3}\b|(?<![\w.])\(\d{3}\)", re.I), "a file number"),
    (re.compile(r"\badjoints note\b|backprop-through-adjoints note", re.I), "the project's name for a lesson"),
]
#: An exercise label of the course is only meaningful with its chapter.
LABEL = re.compile(r"\b(?:Easy|Medium|Hard)\b\*?(?: \d)?")
CHAPTER = re.compile(r"chapter on\s", re.I)


def internal_names(text: str) -> list[str]:
    found = [f"{m.group(0)!r} ({why})" for pattern, why in INTERNAL for m in pattern.finditer(text)]
    for m in LABEL.finditer(text):
        around = text[max(0, m.start() - 80):m.end() + 80]
        if not CHAPTER.search(around):
            found.append(f"{m.group(0)!r} (an exercise label without its chapter)")
    return found


def student_strings(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in ``path`` that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_scan_finds_what_the_issue_reported():
    reported = ["How the seeds translate:", "as the seeds do", "project 004", "chapter 000", "the adjoints note",
                "(exercise 'Easy 2')", "The seed's LinearLayer.backward does exactly this.", "lecture (003)"]
    assert all(internal_names(text) for text in reported)
    fine = ["exercise *Easy 2* of the chapter on linear layers", "two generators built from the same seed",
            "different seeds give different ones", "the neural-network-from-scratch project", "seed=0"]
    assert not [text for text in fine if internal_names(text)]


@pytest.mark.parametrize("exercise", exercises.ids())
@pytest.mark.parametrize("part", ["statement", "starter"])
def test_statement_and_starter_use_the_course_titles(exercise, part):
    text = getattr(exercises.get(exercise), part)
    assert internal_names(text) == []


@pytest.mark.parametrize("path", GRADER_SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_messages_and_hints_use_the_course_titles(path):
    found = [(line, name) for line, text in student_strings(path) for name in internal_names(text)]
    assert found == []


def test_messages_do_not_spell_out_their_codes():
    """A message says what went wrong; its code travels in the diagnoses (and the registry explains it)."""
    written = re.compile(r"\((?:" + "|".join(re.escape(c) for c in codes.CODES if "-" in c) + r")\)")
    found = [(path.name, line, text[:80]) for path in GRADER_SOURCES for line, text in student_strings(path)
             if written.search(text)]
    assert found == []


def test_code_explanations_use_the_course_titles():
    assert [(c.code, internal_names(c.explanation)) for c in codes.CODES.values() if internal_names(c.explanation)] == []
