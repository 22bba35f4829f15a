"""The student's local self-check: ``nngrade list | show | start | check``, and
``nngrade exercises regen`` for instructors."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

import exercises

from . import app
from .render import number, print_report

console = Console()
err = Console(stderr=True)
MAX_PRINTED = 8 * 1024

TEST_TEMPLATE = '''"""Self-check for `{exercise}`, written by `nngrade start {exercise}`.

Run `pytest` in this folder: each visible case of the grader is one test, and a failing
test's message is the grader's feedback.  Hidden cases run when you submit.
"""

import pathlib

import pytest

import nngrade

EXERCISE = "{exercise}"
SOLUTION = pathlib.Path(__file__).with_name("{exercise}.py")


@pytest.fixture(scope="module")
def report():
    return nngrade.check_file(EXERCISE, SOLUTION)


@pytest.mark.parametrize("case", nngrade.visible_cases(EXERCISE))
def test_visible_case(report, case):
    nngrade.assert_case(report, case)
'''
#: The folder's own pytest configuration: it makes the folder pytest's rootdir, so a project
#: around it (a course checkout with its own pytest settings) does not configure these tests.
PYTEST_INI = """# Written by `nngrade start`: pytest's configuration for this folder (it keeps the
# settings of any project around this folder out of your self-check).
[pytest]
"""


def _exercise(exercise: str) -> exercises.Exercise:
    try:
        return exercises.get(exercise)
    except exercises.UnknownExercise as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command("list")
def list_exercises() -> None:
    """List the exercises."""
    table = Table(title="nngrade exercises")
    for col in ("id", "title", "points", "version"):
        table.add_column(col)
    for ex in exercises.all_exercises():
        table.add_row(ex.id, ex.title, number(ex.total_points), ex.version)
    console.print(table)


@app.command()
def show(exercise: str, raw: Annotated[bool, typer.Option(help="Print the Markdown source.")] = False) -> None:
    """Print an exercise's statement."""
    ex = _exercise(exercise)
    if raw:
        typer.echo(ex.statement)
    else:
        console.print(Markdown(ex.statement))


@app.command()
def start(exercise: str, directory: Annotated[Path, typer.Argument(help="Folder to write into.")] = Path("."),
          force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False) -> None:
    """Write the starter file DIR/EXERCISE.py and a pytest self-check DIR/test_EXERCISE.py."""
    ex = _exercise(exercise)
    if directory.exists() and not directory.is_dir():
        err.print(f"[red]{directory} is a file, not a folder[/]")
        raise typer.Exit(2)
    directory.mkdir(parents=True, exist_ok=True)
    solution = directory / f"{ex.id}.py"
    files = {solution: ex.starter, directory / f"test_{ex.id}.py": TEST_TEMPLATE.format(exercise=ex.id)}
    for path, text in files.items():
        if path.exists() and not force:
            err.print(f"[yellow]{path} exists; left as it is (use --force to overwrite)[/]")
            continue
        path.write_text(text, encoding="utf-8")
        console.print(f"wrote {path}")
    ini = directory / "pytest.ini"
    if not ini.exists():  # shared by every exercise started in the folder; a student's own is kept
        ini.write_text(PYTEST_INI, encoding="utf-8")
        console.print(f"wrote {ini}")
    console.print(f"Next: edit {solution}, then run [bold]pytest {directory}[/] "
                  f"or [bold]nngrade check {ex.id} {directory}[/].")


def solution_file(exercise: str, path: Path) -> Path:
    """The file to grade for ``path``: the path itself, or in a folder (as ``nngrade start`` writes
    it) ``EXERCISE.py`` or ``EXERCISE.ipynb``.  Exits with status 2 and says what to give otherwise."""
    if path.is_dir():
        found = [path / f"{exercise}{suffix}" for suffix in (".py", ".ipynb") if (path / f"{exercise}{suffix}").is_file()]
        if len(found) == 1:
            return found[0]
        what = (f"it holds both {found[0].name} and {found[1].name}; say which" if found else
                f"it has no {exercise}.py or {exercise}.ipynb (`nngrade start {exercise} {path}` writes the "
                f"starter)")
        err.print(f"[red]{path} is a folder and {what}: give the file, e.g. {path / (exercise + '.py')}[/]")
        raise typer.Exit(2)
    if not path.is_file():
        err.print(f"[red]{path}: no such file[/]")
        raise typer.Exit(2)
    return path


@app.command()
def check(exercise: str,
          file: Annotated[Path, typer.Argument(help="The .py or .ipynb file, or the folder `nngrade start` wrote.")],
          as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
          all_cases: Annotated[bool, typer.Option("--all", help="Run hidden cases too (needs the references).")] = False,
          seed: Annotated[Optional[int], typer.Option(help="Seed of the hidden cases (to reproduce a report).")] = None,
          in_process: Annotated[bool, typer.Option("--in-process", help="Run the code in this process, without the "
                                                   "sandbox (only for code you trust).")] = False) -> None:
    """Grade FILE (.py or .ipynb, or EXERCISE.py in a folder) locally and print the report.  Exit status 0 on
    full marks."""
    from graders.framework.proxy import InProcessRunner, RunnerUnavailable
    from service.grading import ReferencesMissing, grade_file

    ex = _exercise(exercise)
    file = solution_file(ex.id, file)
    printed = io.StringIO()
    try:
        with contextlib.ExitStack() as capture:
            # Code run in this process (--in-process) must not print into the report (--json);
            # the sandbox captures its own output, and its warnings belong on stderr.
            if in_process:
                capture.enter_context(contextlib.redirect_stdout(printed))
                capture.enter_context(contextlib.redirect_stderr(printed))
            report = grade_file(ex.id, file.name, file.read_bytes(), include_hidden=all_cases, seed=seed,
                                runner=InProcessRunner() if in_process else None)
    except ReferencesMissing as exc:
        err.print(f"[red]--all: {exc}[/]")
        raise typer.Exit(2) from None
    except RunnerUnavailable as exc:
        err.print(f"[red]The sandbox cannot grade: {exc}[/]")
        raise typer.Exit(3) from None
    if printed.getvalue() and not report.output:
        text = printed.getvalue()
        report.output = text if len(text) <= MAX_PRINTED else text[:MAX_PRINTED] + "\n… [cut]"
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
    else:
        print_report(report, console)
    raise typer.Exit(0 if report.passed else 1)


exercises_app = typer.Typer(help="Instructor tools for the exercise catalog.", no_args_is_help=True)
app.add_typer(exercises_app, name="exercises")


@exercises_app.command("regen")
def regen(exercise: Annotated[Optional[str], typer.Argument(help="One exercise; default all.")] = None) -> None:
    """Regenerate the stored expected outputs of visible cases from the references."""
    from service.authoring import RegenError, regenerate

    for ex_id in [exercise] if exercise else exercises.ids():
        _exercise(ex_id)
        try:
            path = regenerate(ex_id)
        except RegenError as exc:
            err.print(f"[red]{ex_id}: {exc}[/]")
            raise typer.Exit(1) from None
        console.print(f"{ex_id}: wrote {path}")
