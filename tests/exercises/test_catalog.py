"""Every exercise in the catalog agrees with its grader and its stored expected outputs."""

from __future__ import annotations

import ast

import numpy as np
import pytest

import exercises
from graders import get_grader
from graders.framework.plain import decode, encode
from service.authoring import stale_entries


@pytest.mark.parametrize("exercise", exercises.ids())
def test_stored_visible_outputs_are_current(exercise):
    """``visible.npz`` holds what the reference answers today (else: ``nngrade exercises regen``)."""
    problems = stale_entries(exercise)
    assert not problems, f"run `nngrade exercises regen {exercise}`: {problems}"


def _rewritten(source, target, change) -> None:
    """Copy the stored outputs at ``source`` to ``target`` with every float array's values passed
    through ``change``."""

    def walk(value):
        if type(value) is np.ndarray and value.dtype.kind == "f":
            return change(value)
        if type(value) in (tuple, list):
            return type(value)(walk(v) for v in value)
        if type(value) is dict:
            return {k: walk(v) for k, v in value.items()}
        return value

    with np.load(source, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    for name in arrays:
        if name.startswith("v"):
            value = walk(decode(arrays[name].tobytes(), max_bytes=2**26))
            arrays[name] = np.frombuffer(encode(value), dtype=np.uint8)
    np.savez_compressed(target, **arrays)


@pytest.mark.parametrize("exercise", ["dense", "two_layer"])
def test_stored_outputs_are_compared_within_the_graders_tolerance(exercise, tmp_path):
    """Another BLAS kernel changes the last bits of a product: still current.  A real change is not."""
    source = exercises.get(exercise).visible_path
    last_bits = tmp_path / "last_bits.npz"
    _rewritten(source, last_bits, lambda a: np.nextafter(a, np.inf).astype(a.dtype))
    assert stale_entries(exercise, last_bits) == []
    wrong = tmp_path / "wrong.npz"
    _rewritten(source, wrong, lambda a: (a * 1.01 + 0.01).astype(a.dtype))
    problems = stale_entries(exercise, wrong)
    assert problems and all("values differ beyond the" in p or "stored," in p for p in problems), problems


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
