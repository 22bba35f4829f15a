"""The Python API a student uses: ``from nngrade import check`` in a notebook, ``check_file``,
and the helpers behind the pytest file that ``nngrade start`` writes."""

from __future__ import annotations

import io
import json
import pathlib
import types

import nbformat
import pytest
from rich.console import Console

import nngrade
from graders import get_grader
from graders.framework.report import Report
from service.cli.render import points

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE_SOURCE = (ROOT / "reference" / "dense.py").read_text()
VISIBLE = [c.name for c in get_grader("dense").cases if not c.hidden]


def notebook_globals(*cells: str) -> dict:
    """Run cells the way a notebook does: one shared globals dict, each cell compiled on its own."""
    namespace: dict = {"__name__": "__main__"}
    for i, cell in enumerate(cells):
        exec(compile(cell, f"/tmp/ipykernel_1/cell{i}.py", "exec"), namespace)
    return namespace


def failures(report: Report) -> dict[str, list[str]]:
    return {t.name: t.diagnoses for t in report.tests if t.outcome != "pass"}


def only_timing(report: Report) -> bool:
    """Every case passed, or only the time-budget case failed (wall time on a loaded machine)."""
    return all(codes == ["too-slow"] for codes in failures(report).values())


# --------------------------------------------------------------------------- check(exercise, namespace)


def test_check_grades_functions_defined_in_a_namespace():
    ns = notebook_globals(REFERENCE_SOURCE)
    report = nngrade.check("dense", ns, show=False)
    assert isinstance(report, Report) and report.status == "graded"
    assert [t.name for t in report.tests] == VISIBLE, "visible cases only"
    assert only_timing(report), failures(report)
    assert report.max_score == sum(c.points for c in get_grader("dense").cases if not c.hidden)


def test_check_defaults_to_the_callers_globals():
    ns = notebook_globals(REFERENCE_SOURCE, "from nngrade import check\nreport = check('dense', show=False)\n")
    assert ns["report"].status == "graded" and only_timing(ns["report"]), failures(ns["report"])


def test_check_accepts_a_module():
    module = types.ModuleType("mine")
    exec(REFERENCE_SOURCE, vars(module))
    assert only_timing(nngrade.check("dense", module, show=False))


def test_check_names_the_mistake_of_a_wrong_function():
    ns = notebook_globals(REFERENCE_SOURCE, "def dense_backward(X, W, dY):\n    return dY @ W, X.T @ dY, dY.sum(axis=0)\n")
    report = nngrade.check("dense", ns, show=False)
    assert "dW-transposed" in report.diagnoses and report.score < report.max_score
    assert failures(report)["backward: small batch"] == ["wrong-shape", "dW-transposed"]
    assert "forward: small batch" not in failures(report)


def test_check_reports_missing_functions_and_exceptions_with_the_cell_line():
    ns = notebook_globals(
        "import numpy as np\n",
        "def dense_forward(X, W, b):\n    Y = X @ W\n    return Y + b\n",
    )
    report = nngrade.check("dense", ns, show=False)
    tests = {t.name: t for t in report.tests}
    forward = tests["forward: small batch"]
    assert forward.diagnoses == ["exception"] and forward.outcome == "error"
    assert forward.message.startswith("ValueError: matmul") and "(line 2, in dense_forward)" in forward.message
    backward = tests["backward: small batch"]
    assert backward.diagnoses == ["missing-function"] and "`dense_backward` is not defined" in backward.message
    assert "Traceback" not in json.dumps(report.model_dump())


def test_check_shows_the_table_and_a_one_line_repr_in_jupyter(capsys):
    ns = notebook_globals(REFERENCE_SOURCE)
    report = nngrade.check("dense", ns)
    out = capsys.readouterr().out
    assert "forward: small" in out and "Score:" in out

    class Printer:  # what IPython's pretty printer calls
        def __init__(self):
            self.parts = []

        def text(self, s):
            self.parts.append(s)

    printer = Printer()
    report._repr_pretty_(printer, False)
    assert printer.parts == [f"<nngrade report dense: {points(report.score, report.max_score)}>"]


WRONG_BACKWARD = "def dense_backward(X, W, dY):\n    return dY @ W, X.T @ dY, dY.sum(axis=0)\n"  # dW transposed


def test_check_shows_scores_with_two_decimals_in_the_table_and_the_repr(capsys):
    report = nngrade.check("dense", notebook_globals(REFERENCE_SOURCE, WRONG_BACKWARD))
    out = capsys.readouterr().out
    assert "1.33 / 2" in out and "Score: 8.33 / 15" in out
    assert "1.33333" not in out and "0.666667" not in out

    class Printer:
        parts: list[str] = []

        def text(self, s):
            self.parts.append(s)

    report._repr_pretty_(Printer(), False)
    assert Printer.parts == ["<nngrade report dense: 8.33 / 15>"]


def test_check_of_an_unknown_exercise_says_which_exist():
    with pytest.raises(KeyError, match="unknown exercise 'nope'; known: dense"):
        nngrade.check("nope", {}, show=False)


# --------------------------------------------------------------------------- check_file


def test_check_file_grades_a_py_and_a_notebook_alike(tmp_path):
    py = tmp_path / "dense.py"
    py.write_text(REFERENCE_SOURCE)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\n" + REFERENCE_SOURCE)])
    ipynb = tmp_path / "dense.ipynb"
    nbformat.write(nb, str(ipynb))
    from_py, from_nb = nngrade.check_file("dense", py), nngrade.check_file("dense", ipynb)
    for report in (from_py, from_nb):
        assert report.status == "graded" and [t.name for t in report.tests] == VISIBLE
        assert only_timing(report), failures(report)


def test_check_file_hidden_cases_with_a_seed(tmp_path):
    report = nngrade.check_file("dense", ROOT / "reference" / "dense.py", include_hidden=True, seed=7)
    assert report.seed == 7 and report.hidden_included
    assert any(t.visibility == "hidden" for t in report.tests)


@pytest.mark.parametrize("source", ["", "\n\n", "# dense layer: to do\n", '"""Dense."""\n\n# later\n'])
def test_check_file_of_an_empty_file_says_so_in_one_line(tmp_path, source):
    path = tmp_path / "dense.py"
    path.write_text(source)
    report = nngrade.check_file("dense", path)
    assert report.status == "graded" and report.tests == [] and report.diagnoses == ["missing-function"]
    assert report.message == "dense.py is empty: it defines none of dense_forward, dense_backward."
    assert report.score == 0 and report.max_score == sum(c.points for c in get_grader("dense").cases if not c.hidden)


def test_check_file_of_a_file_defining_only_one_function_keeps_the_table(tmp_path):
    path = tmp_path / "dense.py"
    path.write_text(REFERENCE_SOURCE.split("\ndef dense_backward", 1)[0])
    report = nngrade.check_file("dense", path)
    assert [t.name for t in report.tests] == VISIBLE and report.message == ""
    assert "missing-function" in report.diagnoses and "forward: small batch" not in failures(report)


def test_check_file_rejects_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "dense.py"
    path.write_bytes(b"\xff\xfe" + REFERENCE_SOURCE.encode("utf-16-le"))
    report = nngrade.check_file("dense", path)
    assert report.status == "rejected" and report.tests == [] and "not UTF-8" in report.message
    out = io.StringIO()
    from service.cli.render import print_report

    print_report(report, Console(file=out, width=120))
    assert "Rejected" in out.getvalue() and "not UTF-8" in out.getvalue()


# --------------------------------------------------------------------------- helpers of the pytest file


def test_visible_cases_are_the_graders_visible_cases_in_order():
    assert nngrade.visible_cases("dense") == VISIBLE


def test_assert_case_fails_with_the_case_feedback():
    ns = notebook_globals(REFERENCE_SOURCE, WRONG_BACKWARD)
    report = nngrade.check("dense", ns, show=False)
    nngrade.assert_case(report, "forward: small batch")  # passes silently
    with pytest.raises(pytest.fail.Exception) as info:
        nngrade.assert_case(report, "backward: small batch")
    message = str(info.value)
    assert message.startswith("fail: dW has shape (4, 3); expected (3, 4)")
    assert "[wrong-shape, dW-transposed]" in message and "(2 / 3 points; feeds" in message
    with pytest.raises(pytest.fail.Exception, match=r"\(1\.33 / 2 points; feeds"):
        nngrade.assert_case(report, "backward: square weights (n_in = n_out)")
    with pytest.raises(pytest.fail.Exception, match="no case named"):
        nngrade.assert_case(report, "no such case")


def test_assert_case_on_a_report_of_one_line_fails_the_first_case_and_skips_the_rest(tmp_path):
    path = tmp_path / "dense.py"
    path.write_text("")
    report = nngrade.check_file("dense", path)
    with pytest.raises(pytest.fail.Exception, match="^dense.py is empty: it defines none of dense_forward"):
        nngrade.assert_case(report, VISIBLE[0])
    for case in VISIBLE[1:]:
        with pytest.raises(pytest.skip.Exception, match="see the first case"):
            nngrade.assert_case(report, case)


def test_assert_case_on_a_rejected_report():
    from graders.framework.report import rejected

    with pytest.raises(pytest.fail.Exception, match="Your file was rejected: not UTF-8"):
        nngrade.assert_case(rejected("dense", "1", "not UTF-8"), VISIBLE[0])
