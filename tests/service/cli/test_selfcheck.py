"""The student's local self-check, as a student meets it: the ``nngrade`` command.

Every test runs the real command in a subprocess (``nngrade_cli``), with the default runner
of this environment (the sandbox, or ``NNGRADE_RUNNER=inprocess``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import typer.main

import exercises
from graders import get_grader
from graders.framework.report import Report

ROOT = Path(__file__).resolve().parents[3]

REFERENCE = ROOT / "reference" / "dense.py"
WRONG = '''import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, X.T @ dY, dY.sum(axis=0)   # dW transposed
'''
CONTRACT_KEYS = {"exercise", "exercise_version", "status", "score", "max_score", "diagnoses", "seed", "tests"}
CASE_KEYS = {"name", "visibility", "score", "max_score", "outcome", "message", "diagnoses"}


def visible_names(exercise: str = "dense") -> list[str]:
    return [c.name for c in get_grader(exercise).cases if not c.hidden]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- help, list, show


def test_help_lists_every_command(nngrade_cli):
    from service.cli import app

    out = nngrade_cli("--help", check=True).stdout
    commands = list(typer.main.get_command(app).commands)
    assert {"list", "show", "start", "check", "exercises"} <= set(commands)
    for name in commands:
        assert re.search(rf"│ {re.escape(name)}\s", out), f"{name} missing from --help:\n{out}"
    assert "regen" in nngrade_cli("exercises", "--help", check=True).stdout


def test_list_shows_every_exercise(nngrade_cli):
    out = nngrade_cli("list", check=True).stdout
    for ex in exercises.all_exercises():
        assert ex.id in out
        assert ex.title.split()[0] in out


def test_show_prints_the_statement(nngrade_cli):
    statement = exercises.get("dense").statement
    raw = nngrade_cli("show", "dense", "--raw", check=True).stdout
    assert raw.strip() == statement.strip()
    rendered = nngrade_cli("show", "dense", check=True).stdout
    heading = next(line.lstrip("# ").strip() for line in statement.splitlines() if line.startswith("#"))
    assert heading[:30] in rendered


def test_version_prints_the_installed_version(nngrade_cli):
    import importlib.metadata

    import nngrade

    out = nngrade_cli("--version", check=True).stdout
    assert out == f"nngrade {nngrade.__version__}\n"
    assert nngrade.__version__ == importlib.metadata.version("nngrade"), "one version, written in one place"


def test_unknown_exercise_is_a_usage_error(nngrade_cli):
    result = nngrade_cli("show", "densee")
    assert result.returncode == 2
    assert "unknown exercise 'densee'" in result.stderr and "dense" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- start, and pytest in the folder


def run_pytest(directory: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rN", "-q"],
                          cwd=directory, capture_output=True, text=True, env=env, timeout=300)


def counts(out: str) -> dict[str, int]:
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|skipped|error)", out)}


def run_pytest_expecting_pass(directory: Path, tries: int = 3) -> subprocess.CompletedProcess:
    """Like :func:`run_pytest`, but a run whose only failures are ``too-slow`` (a loaded machine:
    the time-budget case measures wall time) is repeated, at most ``tries`` times in all."""
    for _ in range(tries):
        result = run_pytest(directory)
        failed = counts(result.stdout).get("failed", 0)
        if result.returncode == 0 or failed != result.stdout.count("[too-slow]"):
            break
    return result


def test_start_writes_the_starter_and_a_test_file(nngrade_cli, tmp_path):
    folder = tmp_path / "work"
    result = nngrade_cli("start", "dense", str(folder), check=True)
    assert (folder / "dense.py").read_text() == exercises.get("dense").starter
    assert "def test_" in (folder / "test_dense.py").read_text()
    assert "pytest" in result.stdout

    write(folder / "dense.py", "# my work\n")
    again = nngrade_cli("start", "dense", str(folder), check=True)
    assert (folder / "dense.py").read_text() == "# my work\n", "start must not overwrite the student's work"
    assert "exists" in again.stderr
    nngrade_cli("start", "dense", str(folder), "--force", check=True)
    assert (folder / "dense.py").read_text() == exercises.get("dense").starter

    a_file = write(tmp_path / "notes.txt", "x")
    refused = nngrade_cli("start", "dense", str(a_file))
    assert refused.returncode == 2 and "is a file, not a folder" in " ".join(refused.stderr.split())


def test_pytest_in_the_started_folder_runs_one_item_per_visible_case(nngrade_cli, tmp_path):
    folder = tmp_path / "work"
    nngrade_cli("start", "dense", str(folder), check=True)
    n = len(visible_names())

    starter = run_pytest(folder)
    assert starter.returncode == 1 and counts(starter.stdout) == {"failed": n}, starter.stdout
    assert "NotImplementedError" in starter.stdout

    write(folder / "dense.py", REFERENCE.read_text())
    correct = run_pytest_expecting_pass(folder)
    assert correct.returncode == 0 and counts(correct.stdout) == {"passed": n}, correct.stdout + correct.stderr


def test_pytest_in_a_folder_inside_a_project_ignores_the_projects_pytest_settings(nngrade_cli, tmp_path):
    """A student's ``work/`` inside a course checkout: the checkout's pytest settings (here this project's
    own, with a plugin the student lacks) must not configure, warn about or break the self-check."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    write(checkout / "pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-p no:timeout --strict-markers"\n'
                                       'timeout = 300\ntestpaths = ["tests"]\n')
    nngrade_cli("start", "dense", "work", cwd=checkout, check=True)
    write(checkout / "work" / "dense.py", WRONG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    pytest_command = Path(sys.executable).with_name("pytest")  # the venv's, as a student types it
    result = subprocess.run([str(pytest_command), "-p", "no:cacheprovider", "work/"], cwd=checkout,
                            capture_output=True, text=True, env=env, timeout=300)
    out = result.stdout + result.stderr
    assert f"rootdir: {checkout / 'work'}" in out and "configfile: pytest.ini" in out, out
    assert "Unknown config option" not in out and "PytestConfigWarning" not in out, out
    assert result.returncode == 1 and sum(counts(result.stdout).values()) == len(visible_names()), out
    assert "dW-transposed" in out


def test_start_keeps_a_pytest_ini_the_student_wrote(nngrade_cli, tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    write(folder / "pytest.ini", "[pytest]\naddopts = -x\n")
    nngrade_cli("start", "dense", str(folder), check=True)
    nngrade_cli("start", "lora", str(folder), check=True)
    assert (folder / "pytest.ini").read_text() == "[pytest]\naddopts = -x\n"
    assert (folder / "lora.py").exists() and (folder / "test_lora.py").exists()


def test_pytest_says_once_that_an_empty_file_defines_nothing(nngrade_cli, tmp_path):
    folder = tmp_path / "work"
    nngrade_cli("start", "dense", str(folder), check=True)
    write(folder / "dense.py", "# I will start tomorrow\n\n")
    result = run_pytest(folder)
    assert result.returncode == 1
    assert counts(result.stdout) == {"failed": 1, "skipped": len(visible_names()) - 1}, result.stdout
    line = "dense.py is empty: it defines none of dense_forward, dense_backward."
    assert result.stdout.count(line) == 1, result.stdout
    assert "missing-function" not in result.stdout and "is not defined" not in result.stdout


def test_pytest_failure_messages_are_the_case_feedback(nngrade_cli, tmp_path):
    folder = tmp_path / "work"
    nngrade_cli("start", "dense", str(folder), check=True)
    write(folder / "dense.py", WRONG)
    result = run_pytest(folder)
    assert result.returncode == 1
    got = counts(result.stdout)
    assert got["passed"] >= 1 and got["failed"] >= 1 and sum(got.values()) == len(visible_names())
    out = result.stdout
    assert "backward: small batch" in out
    assert "dW has shape (4, 3); expected (3, 4)" in out  # the case's own message ...
    assert "Your dW is the transpose" in out and "[wrong-shape, dW-transposed]" in out  # ... names the mistake
    assert out.count("Hint: a gradient has the shape of what it is the gradient of") == 1  # ... hinted once
    assert "Traceback" not in out and "nngrade/__init__.py" not in out, "feedback, not a stack trace"
    assert "(1.33 / 2 points; feeds" in out and "0.666667" not in out and "1.33333" not in out


# --------------------------------------------------------------------------- check


def check(nngrade_cli, path: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    result = nngrade_cli("check", "dense", str(path), *args)
    report = json.loads(result.stdout) if "--json" in args else None
    return result, report


def check_expecting_full_marks(nngrade_cli, path: Path, *args: str, tries: int = 3):
    """:func:`check`, repeated while ``too-slow`` is the only diagnosis: the time-budget case
    measures wall time, which a loaded machine stretches."""
    for _ in range(tries):
        result, report = check(nngrade_cli, path, *args)
        slow_only = (report["diagnoses"] == ["too-slow"]) if report is not None else (
            "too-slow" in result.stdout and result.stdout.count("fail") == 1)
        if result.returncode == 0 or not slow_only:
            break
    return result, report


def test_check_a_correct_file_exits_0_with_the_table(nngrade_cli):
    result, _ = check_expecting_full_marks(nngrade_cli, REFERENCE)
    assert result.returncode == 0, result.stdout + result.stderr
    visible = sum(c.points for c in get_grader("dense").cases if not c.hidden)
    assert f"Score: {visible:g} / {visible:g}" in result.stdout
    assert "visible cases only" in result.stdout
    assert "(hidden)" not in result.stdout


def test_check_a_wrong_file_exits_1_and_names_the_mistake(nngrade_cli, tmp_path):
    result, _ = check(nngrade_cli, write(tmp_path / "dense.py", WRONG))
    assert result.returncode == 1
    assert "dW-transposed" in result.stdout and "fail" in result.stdout


def test_check_json_prints_the_contract_report(nngrade_cli, tmp_path):
    result, report = check(nngrade_cli, write(tmp_path / "dense.py", WRONG), "--json")
    assert result.returncode == 1
    assert CONTRACT_KEYS <= set(report)
    Report.model_validate(report)
    assert report["status"] == "graded" and report["exercise"] == "dense"
    assert report["exercise_version"] == exercises.get("dense").version
    assert [t["name"] for t in report["tests"]] == visible_names()
    for t in report["tests"]:
        assert CASE_KEYS <= set(t) and t["visibility"] == "visible"
        assert t["outcome"] in ("pass", "fail", "error", "timeout")
    assert "dW-transposed" in report["diagnoses"]
    assert report["score"] == sum(t["score"] for t in report["tests"]) < report["max_score"]


def test_check_all_runs_hidden_cases_reproducibly(nngrade_cli):
    result, report = check_expecting_full_marks(nngrade_cli, REFERENCE, "--json", "--all")
    assert result.returncode == 0, result.stderr
    hidden = [t for t in report["tests"] if t["visibility"] == "hidden"]
    assert hidden and len(report["tests"]) == len(get_grader("dense").cases)
    assert report["score"] == report["max_score"] == get_grader("dense").total_points
    assert report["hidden_included"] is True and type(report["seed"]) is int


def test_check_all_with_a_seed_reproduces_a_wrong_files_report(nngrade_cli, tmp_path):
    path = write(tmp_path / "dense.py", WRONG)
    _, first = check(nngrade_cli, path, "--json", "--all", "--seed", "12345")
    _, again = check(nngrade_cli, path, "--json", "--all", "--seed", "12345")
    assert first["seed"] == again["seed"] == 12345
    strip = [{k: t[k] for k in CASE_KEYS} for t in first["tests"]]
    assert strip == [{k: t[k] for k in CASE_KEYS} for t in again["tests"]]


def test_check_rejects_a_file_that_is_not_utf8(nngrade_cli, tmp_path):
    path = write(tmp_path / "dense.py", "# caf\u00e9\n".encode("latin-1") + WRONG.encode())
    result, report = check(nngrade_cli, path, "--json")
    assert result.returncode == 1
    assert report["status"] == "rejected" and report["score"] == 0 and report["tests"] == []
    assert "not UTF-8" in report["message"] and "0xe9" in report["message"]
    table, _ = check(nngrade_cli, path)
    assert table.returncode == 1 and "Rejected" in table.stdout and "not UTF-8" in table.stdout


def test_check_a_missing_file_is_a_usage_error(nngrade_cli, tmp_path):
    result, _ = check(nngrade_cli, tmp_path / "nope.py")
    assert result.returncode == 2 and "no such file" in " ".join(result.stderr.split())


def test_check_a_folder_grades_the_exercise_file_in_it(nngrade_cli, tmp_path):
    folder = tmp_path / "work"
    nngrade_cli("start", "dense", str(folder), check=True)
    write(folder / "dense.py", WRONG)
    result, report = check(nngrade_cli, folder, "--json")
    assert result.returncode == 1 and "dW-transposed" in report["diagnoses"], result.stderr


def test_check_a_folder_without_the_exercise_file_says_what_to_give(nngrade_cli, tmp_path):
    result, _ = check(nngrade_cli, tmp_path)
    message = " ".join(result.stderr.split())
    assert result.returncode == 2 and "no such file" not in message
    assert f"{tmp_path} is a folder and it has no dense.py or dense.ipynb" in message
    assert f"nngrade start dense {tmp_path}" in message and f"give the file, e.g. {tmp_path / 'dense.py'}" in message
    write(tmp_path / "dense.py", WRONG)
    write(tmp_path / "dense.ipynb", "{}")
    both = " ".join(check(nngrade_cli, tmp_path)[0].stderr.split())
    assert "it holds both dense.py and dense.ipynb; say which" in both


def test_check_prints_scores_with_two_decimals_under_a_header_on_every_column(nngrade_cli, tmp_path):
    result, _ = check(nngrade_cli, write(tmp_path / "dense.py", WRONG), "--all", "--seed", "1")
    header = next(line for line in result.stdout.splitlines() if "case" in line and "feedback" in line)
    assert [cell.strip() for cell in header.strip("┃ ").split("┃")] == ["case", "result", "points", "feedback"]
    assert "1.33 / 2" in result.stdout and "Score: 11.33 / 19" in result.stdout
    scores = re.findall(r"(\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)", result.stdout)
    assert len(scores) == len(get_grader("dense").cases) + 1, scores  # every row, and the total
    assert all(re.fullmatch(r"\d+(\.\d\d)?", n) for pair in scores for n in pair), scores


@pytest.mark.parametrize("source, line", [
    ("", "dense.py is empty: it defines none of dense_forward, dense_backward."),
    ('"""My dense layer."""\n# to do\n\n   \n', "dense.py is empty: it defines none of dense_forward, dense_backward."),
    ("import numpy as np\n\ndef forward(X, W, b):\n    return X @ W.T + b\n",
     "dense.py defines none of dense_forward, dense_backward: define each at module level"),
])
def test_check_a_file_that_defines_nothing_prints_one_line(nngrade_cli, tmp_path, source, line):
    path = write(tmp_path / "dense.py", source)
    result, _ = check(nngrade_cli, path)
    out = " ".join(result.stdout.split())
    assert result.returncode == 1 and line in out, result.stdout
    assert "┃ case" not in result.stdout and "is not defined" not in out, "one line, not a table"
    assert "Score: 0 / 15" in out
    _, report = check(nngrade_cli, path, "--json")
    assert report["status"] == "graded" and report["tests"] == [] and report["message"].startswith(line)
    assert report["diagnoses"] == ["missing-function"] and report["score"] == 0 and report["max_score"] == 15


def test_prints_of_the_submission_do_not_corrupt_json_in_process(nngrade_cli, tmp_path):
    noisy = REFERENCE.read_text() + "\nprint('hello from import')\n"
    result, report = check(nngrade_cli, write(tmp_path / "dense.py", noisy), "--json", "--in-process")
    assert report["status"] == "graded"
    assert "hello from import" in report["output"]


def test_text_a_submission_chose_cannot_drive_the_terminal(nngrade_cli, tmp_path):
    """Escape sequences in a message or in printed output could repaint the score line."""
    sneaky = REFERENCE.read_text() + (
        "\nprint('[bold]not markup[/bold] \\x1b[2J\\x1b[1A\\rScore: 99 / 15')\n"
        "Fake = type('\\x1b]0;pwned\\x07Odd', (), {})\n"
        "def dense_backward(X, W, dY):\n"
        "    raise ValueError('\\x1b[31mall good\\x1b[0m')\n"
        "def dense_forward(X, W, b):\n"
        "    return Fake()\n"
    )
    result, _ = check(nngrade_cli, write(tmp_path / "dense.py", sneaky))
    assert result.returncode == 1
    assert "\x1b" not in result.stdout and "\r" not in result.stdout and "\x07" not in result.stdout
    flat = " ".join(result.stdout.split())
    assert "\ufffd[31mall good" in flat, "the message is still shown, its control characters made visible"
    assert "[bold]not markup[/bold]" in flat, "printed output is shown as it is, not as Rich markup"


# --------------------------------------------------------------------------- notebooks


def notebook(tmp_path: Path, marker: Path, *, extra_cells: list[str] = ()) -> Path:
    """The reference split over cells, with every kind of IPython-only line around it."""
    reference = REFERENCE.read_text()
    forward, backward = reference.split("\ndef dense_backward", 1)
    m = str(marker)
    cells = [
        nbformat.v4.new_markdown_cell("# Dense layer\n\n!touch nothing: markdown is never code"),
        nbformat.v4.new_code_cell(f"!touch {m}\n%matplotlib inline\n%load_ext autoreload"),
        nbformat.v4.new_code_cell(forward),
        nbformat.v4.new_code_cell(f"%system touch {m}\nfiles = !touch {m}\nnp.dot?\n"),
        nbformat.v4.new_code_cell(f"%%bash\ntouch {m}\n"),
        # IPython skips leading blank lines: this is still a cell magic, its body never Python.
        nbformat.v4.new_code_cell(f"\n\n%%script python\nopen({m!r}, 'w').write('ran')\n"),
        nbformat.v4.new_code_cell(f"get_ipython().system('touch {m}')\n"
                                  f"get_ipython().run_cell_magic(\n    'bash', '', 'touch {m}\\n')\n"
                                  f"if get_ipython() is not None:\n    open({m!r}, 'w').write('ran')\n"),
        nbformat.v4.new_code_cell("def dense_backward" + backward),
        # ``!=`` and ``%`` starting a continuation line are Python, not IPython syntax.
        nbformat.v4.new_code_cell("check_value = (1\n    != 2)\nlabel = ('%d'\n    % 3)\n%time timed = 4\n"),
        nbformat.v4.new_raw_cell(f"!touch {m}"),
        *[nbformat.v4.new_code_cell(c) for c in extra_cells],
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    path = tmp_path / "dense.ipynb"
    nbformat.write(nb, str(path))
    return path


def assert_all_pass_but_timing(report: dict) -> None:
    """Every case passes, except the time-budget case may be too slow on a loaded machine
    (what these tests judge is how the notebook was read, not its speed)."""
    assert report["status"] == "graded"
    failed = [t for t in report["tests"] if t["outcome"] != "pass"]
    assert all(t["diagnoses"] == ["too-slow"] for t in failed), [t["message"] for t in failed]


def test_check_a_notebook_drops_magics_and_shell_escapes_without_running_them(nngrade_cli, tmp_path):
    marker = tmp_path / "marker"
    path = notebook(tmp_path, marker, extra_cells=["assert check_value and label == '3' and timed == 4"])
    result, report = check_expecting_full_marks(nngrade_cli, path, "--json", "--all", "--in-process")
    assert_all_pass_but_timing(report)
    assert not marker.exists(), f"a shell escape or magic ran: {marker.read_text()}"


def test_check_a_notebook_through_the_default_runner(nngrade_cli, tmp_path):
    marker = tmp_path / "marker"
    result, report = check_expecting_full_marks(nngrade_cli, notebook(tmp_path, marker), "--json")
    assert_all_pass_but_timing(report)
    assert not marker.exists()


def test_a_wrong_notebook_gets_the_same_diagnosis_as_the_file(nngrade_cli, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WRONG)])
    path = tmp_path / "wrong.ipynb"
    nbformat.write(nb, str(path))
    result, report = check(nngrade_cli, path, "--json")
    assert result.returncode == 1 and "dW-transposed" in report["diagnoses"]


def test_an_unreadable_notebook_is_rejected(nngrade_cli, tmp_path):
    path = write(tmp_path / "dense.ipynb", "{ this is not json")
    result, report = check(nngrade_cli, path, "--json")
    assert result.returncode == 1 and report["status"] == "rejected"
    assert "not a readable notebook" in report["message"]
