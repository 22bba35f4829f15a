"""``nngrade gradebook export``, ``nngrade regrade`` (with a progress bar) and ``nngrade submissions
list``: the instructor's reads and regrades, over the HTTP API."""

from __future__ import annotations

import json
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import app
from .client import _fail
from .course_http import Server, TimeZone, Token, call, connect, score, shown, timezone_name
from .render import safe

gradebook_app = typer.Typer(help="The gradebook, late policy applied.", no_args_is_help=True)
submissions_app = typer.Typer(help="Submissions (instructors: everyone's).", no_args_is_help=True)
app.add_typer(gradebook_app, name="gradebook")
app.add_typer(submissions_app, name="submissions")
console = Console()
err = Console(stderr=True)


class Format(str, Enum):
    csv = "csv"
    canvas = "canvas"
    json = "json"


class Mode(str, Enum):
    best = "best"
    latest = "latest"
    on_time_best = "on-time-best"


PATHS = {Format.csv: "/gradebook.csv", Format.canvas: "/gradebook.canvas.csv", Format.json: "/gradebook"}


@gradebook_app.command("export")
def gradebook_export(
        format_: Annotated[Format, typer.Option("--format", help="csv (nngrade's), canvas (Canvas's gradebook "
                                                                 "import) or json.")] = Format.csv,
        mode: Annotated[Mode, typer.Option(help="Which submission counts.")] = Mode.best,
        section: Annotated[Optional[str], typer.Option(help="Only this section of the roster.")] = None,
        output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead of to "
                                                                              "standard output.")] = None,
        server: Server = None, token: Token = None) -> None:
    """Export the gradebook; with --output, also print a summary table."""
    params = {"mode": mode.value, **({"section": section} if section else {})}
    with connect(server, token) as client:
        body = call(client, "GET", PATHS[format_], params=params)
        book = body if format_ is Format.json else call(client, "GET", "/gradebook", params=params)
    text = json.dumps(body, indent=2) + "\n" if format_ is Format.json else body
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    table = Table(title=f"{output} ({format_.value}, {mode.value}{', section ' + safe(section) if section else ''})")
    for column in ("assignment", "points", "graded", "late (penalised)", "mean"):
        table.add_column(column)
    for c in book["exercises"]:
        scores = [r["scores"][c["id"]] for r in book["rows"] if r["scores"][c["id"]] is not None]
        late = sum(1 for r in book["rows"] if r["penalties"].get(c["id"]))
        table.add_row(safe(c["title"]), f"{c['max_score']:g}", f"{len(scores)} / {len(book['rows'])}", str(late),
                      f"{sum(scores) / len(scores):.2f}" if scores else "—")
    err.print(table)


def _follow(client, batch: int, total: int, label: str, timeout: float) -> None:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task(label, total=total)
        while True:
            state = call(client, "GET", f"/regrades/{batch}")
            progress.update(task, completed=state["done"] + state["superseded"])
            if state["finished"]:
                return
            if time.monotonic() > deadline:
                raise _fail(f"the regrade is still running after {timeout:g} s; follow it with "
                            f"GET /api/v1/regrades/{batch}", 3)
            time.sleep(0.5)


@app.command("regrade")
def regrade(exercise: str,
            student: Annotated[Optional[str], typer.Option(help="Only this student's submissions.")] = None,
            new_seed: Annotated[bool, typer.Option("--new-seed", help="Draw fresh hidden-case seeds.")] = False,
            wait: Annotated[bool, typer.Option(help="Follow the progress until done.")] = True,
            timeout: Annotated[float, typer.Option(help="Stop following after this many seconds.")] = 3600.0,
            server: Server = None, token: Token = None) -> None:
    """Regrade every submission of EXERCISE (or one student's) as one batch, keeping every earlier report."""
    params = {"student": student} if student is not None else {}
    with connect(server, token) as client:
        answer = call(client, "POST", f"/exercises/{exercise}/regrade", json={"new_seed": new_seed}, params=params)
        queued, skipped = answer["queued"], answer["skipped"]
        whose = f" by {student}" if student else ""
        busy = f", {skipped} already being graded" if skipped else ""
        typer.echo(f"regrading {queued} submission(s) of {exercise}{whose} (batch {answer['batch']}{busy})")
        if wait and queued:
            _follow(client, answer["batch"], queued, f"regrade {exercise}", timeout)


@submissions_app.command("list")
def submissions_list(
        student: Annotated[Optional[str], typer.Option()] = None,
        exercise: Annotated[Optional[str], typer.Option()] = None,
        status: Annotated[Optional[str], typer.Option(help="queued, running, done or failed.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
        offset: Annotated[int, typer.Option(min=0)] = 0,
        tz: TimeZone = None, server: Server = None, token: Token = None) -> None:
    """Submissions, oldest first, with their score and whether they were on time."""
    params = {k: v for k, v in {"student": student, "exercise": exercise, "status": status}.items() if v}
    with connect(server, token) as client:
        page = call(client, "GET", "/submissions", params={**params, "limit": limit, "offset": offset})
    zone = timezone_name(tz)
    table = Table(title=f"submissions {offset + 1}–{offset + len(page['items'])} of {page['total']}")
    for column in ("id", "student", "exercise", f"submitted ({zone})", "status", "score", "timing", "counts"):
        table.add_column(column)
    for s in page["items"]:
        timing = s.get("timing")
        table.add_row(str(s["id"]), safe(s["student"]), s["exercise"], shown(s["created_at"], zone), s["status"],
                      score(s["score"], s["max_score"]), safe(timing["summary"]) if timing else "",
                      score(timing["score"]) if timing else score(s["score"]))
    console.print(table)
