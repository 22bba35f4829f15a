"""Every exercise in the catalog agrees with its grader and its stored expected outputs."""

from __future__ import annotations

import ast

import pytest

import exercises
from graders import get_grader
from service.authoring import stored_is_current


@pytest.mark.parametrize("exercise", exercises.ids())
def test_stored_visible_outputs_are_current(exercise):
    """``visible.npz`` holds what the reference answers today (else: ``nngrade exercises regen``)."""
    assert stored_is_current(exercise), f"run `nngrade exercises regen {exercise}`"


@pytest.mark.parametrize("exercise", exercises.ids())
def test_metadata_points_agree_with_the_grader(exercise):
    ex = exercises.get(exercise)
    grader = get_grader(exercise)
    assert ex.id == grader.exercise == exercise
    assert ex.points == {case.name: case.points for case in grader.cases}
    assert list(ex.points) == [case.name for case in grader.cases], "list the cases in the grader's order"
    assert ex.total_points == grader.total_points == sum(ex.points.values())


@pytest.mark.parametrize("exercise", exercises.ids())
def test_starter_defines_every_graded_function(exercise):
    ex = exercises.get(exercise)
    assert tuple(ex.functions) == get_grader(exercise).functions
    tree = ast.parse(ex.starter)
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    for function in ex.functions:
        assert function in defined, f"starter.py of {exercise} does not define {function}"
        assert ast.get_docstring(defined[function]), f"{exercise}.{function} has no docstring"
        assert function in ex.statement, f"the statement of {exercise} does not mention {function}"
