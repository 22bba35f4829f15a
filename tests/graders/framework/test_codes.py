"""The registry of diagnosis codes is the contract's table, and every part of nngrade takes its codes from it."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

from graders.framework import codes
from graders.framework.case import Mistake
from graders.framework.checks import Fail

ROOT = pathlib.Path(__file__).resolve().parents[3]
CONTRACT = ROOT.parent / "shared" / "exercise-contract.md"


def contract_table() -> dict[str, set[str]]:
    """``scope -> codes`` from the contract's "Diagnosis codes" table (``any`` for "any exercise")."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split("## Diagnosis codes", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("scope", "") or set(cells[0]) <= set("-"):
            continue
        scope = codes.ANY if cells[0] == "any exercise" else cells[0].strip("`")
        table[scope] = set(re.findall(r"`([^`]+)`", cells[1]))
    return table


@pytest.fixture(scope="module")
def contract() -> dict[str, set[str]]:
    if not CONTRACT.is_file():
        pytest.fail(f"the exercise contract is not at {CONTRACT} (../shared beside the project)")
    table = contract_table()
    assert {codes.ANY, "dense", "lora", "toeplitz", "attention", "two_layer"} <= set(table)
    return table


def test_every_contract_code_is_in_the_registry_with_its_scope(contract):
    missing = [(scope, code) for scope, names in contract.items() for code in names
               if code not in codes.CODES or scope not in codes.CODES[code].scopes or not codes.CODES[code].contract]
    assert missing == []


def test_every_registry_code_marked_contract_is_in_the_contract(contract):
    listed = {code for names in contract.values() for code in names}
    assert sorted(c.code for c in codes.CODES.values() if c.contract and c.code not in listed) == []
    assert sorted(c.code for c in codes.CODES.values() if not c.contract and c.code in listed) == []
    # the primary scope is the contract's
    assert [c.code for c in codes.CODES.values() if c.contract and c.code not in contract[c.scope]] == []


def test_every_code_has_an_explanation_in_a_students_words():
    for c in codes.CODES.values():
        assert c.explanation.endswith(".") and len(c.explanation) > 30, c.code
        assert "-" not in c.code or c.code not in c.explanation, f"{c.code}: the explanation repeats the code"
        assert codes.explain(c.code) == c.explanation
    assert codes.explain("no-such-code") == ""


def test_for_exercise_lists_the_general_codes_and_the_exercises_own(contract):
    for exercise in ("dense", "lora", "toeplitz", "attention", "two_layer"):
        names = {c.code for c in codes.for_exercise(exercise)}
        assert contract[codes.ANY] | contract[exercise] <= names
        others = {code for scope, listed in contract.items() if scope not in (codes.ANY, exercise) for code in listed}
        assert not (names & others) - contract[exercise] - {"grad-averaged"}, exercise  # lora sums like dense


def test_the_proxy_takes_its_code_sets_from_the_registry():
    from graders.framework import proxy

    # proxy.reported_fault is the one judge of what the student's side (sandbox or in-process) reports
    assert proxy.SANDBOX_CODES is codes.SANDBOX_CODES
    assert proxy.FATAL_CODES is codes.FATAL_CODES
    assert codes.FATAL_CODES == {"timeout", "memory-limit", "crashed", "output-limit"}
    assert not codes.SANDBOX_CODES & {"timeout", "crashed", "output-limit", "grader-error"}


def test_every_fault_the_students_side_reports_is_a_sandbox_code():
    """``execution.py`` runs inside the sandbox: the codes it reports must be ones the sandbox may report."""
    tree = ast.parse((ROOT / "graders" / "framework" / "execution.py").read_text(encoding="utf-8"))
    reported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Fault" and node.args \
                and isinstance(node.args[0], ast.Constant):
            reported.add(node.args[0].value)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "fault" and isinstance(value, ast.List) \
                        and isinstance(value.elts[0], ast.Constant):
                    reported.add(value.elts[0].value)
    assert reported and reported <= codes.SANDBOX_CODES, reported - codes.SANDBOX_CODES


def test_an_unknown_code_is_refused_where_a_grader_writes_it():
    with pytest.raises(codes.UnknownCode):
        Fail("something", ["dW-transpose"])
    with pytest.raises(codes.UnknownCode):
        Mistake("grad-avg", "says", "hint", lambda i, e: {})
