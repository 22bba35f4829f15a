"""The course from the command line, over the HTTP API with the instructor's (or student's) token:
``nngrade assignment create|list|update``, ``extension grant|revoke|list``, ``roster
import|list|remove`` and, for students, ``nngrade status``.  The gradebook, regrades and the
submission list are in :mod:`.course_reports`."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import app
from .client import _fail
from .course_http import Server, TimeZone, Token, call, connect, date_option, score, shown, timezone_name
from .render import safe

assignment_app = typer.Typer(help="Exercises published with dates and a late policy.", no_args_is_help=True)
extension_app = typer.Typer(help="One student's own due date for one assignment.", no_args_is_help=True)
roster_app = typer.Typer(help="The course's students: import from CSV, list, remove.", no_args_is_help=True)
app.add_typer(assignment_app, name="assignment")
app.add_typer(extension_app, name="extension")
app.add_typer(roster_app, name="roster")
console = Console()

Policy = Annotated[Optional[str], typer.Option(
    "--late-policy", help="none, per-day, per-hour or fixed.")]
Penalty = Annotated[Optional[float], typer.Option(help="Percent per started day/hour late, or in all (fixed).")]
Cap = Annotated[Optional[float], typer.Option(help="Most a per-day/per-hour penalty takes, in percent.")]
Attempts = Annotated[Optional[int], typer.Option(help="Graded attempts per student.")]


def assignment_table(items: list[dict[str, Any]], title: str = "assignments") -> Table:
    table = Table(title=title)
    for column in ("exercise", "opens", "due", "late until", "zone", "late policy", "tries", "now"):
        table.add_column(column)
    for a in items:
        tz = a["timezone"]
        table.add_row(a["exercise"], shown(a["opens_at"], tz), shown(a["due_at"], tz), shown(a["late_until"], tz),
                      tz, short_policy(a), str(a["max_attempts"] or "∞"), a["state"])
    return table


def short_policy(a: dict[str, Any]) -> str:
    """``10%/day ≤50%``, ``5% once``, ``none``."""
    kind, percent = a["late_policy"], a["penalty_percent"]
    if kind == "none":
        return "none"
    if kind == "fixed":
        return f"{percent:g}% once"
    return f"{percent:g}%/{kind.removeprefix('per-')} ≤{a['penalty_cap']:g}%"


def _assignment_body(*, title, opens, due, late_until, tz, policy, penalty, cap, max_attempts) -> dict[str, Any]:
    body = {"title": title, "opens_at": date_option(opens, "--opens"), "due_at": date_option(due, "--due"),
            "late_until": date_option(late_until, "--late-until"), "timezone": tz, "late_policy": policy,
            "penalty_percent": penalty, "penalty_cap": cap, "max_attempts": max_attempts}
    return {k: v for k, v in body.items() if v is not None}


@assignment_app.command("create")
def assignment_create(
        exercise: str,
        due: Annotated[str, typer.Option(help="Due date, e.g. '2026-12-10 23:59' (in --tz).")],
        opens: Annotated[Optional[str], typer.Option(help="Opening date; default: now.")] = None,
        late_until: Annotated[Optional[str], typer.Option(help="Last moment a late submission is accepted; "
                                                               "default: none after the due date.")] = None,
        title: Annotated[Optional[str], typer.Option(help="Default: the exercise's title.")] = None,
        tz: TimeZone = None, policy: Policy = None, penalty: Penalty = None, cap: Cap = None,
        max_attempts: Attempts = None, server: Server = None, token: Token = None) -> None:
    """Publish EXERCISE as an assignment."""
    from datetime import datetime, timezone

    zone = timezone_name(tz)
    opens = opens or datetime.now(timezone.utc).isoformat(timespec="seconds")
    body = _assignment_body(title=title, opens=opens, due=due, late_until=late_until, tz=zone, policy=policy,
                            penalty=penalty, cap=cap, max_attempts=max_attempts)
    with connect(server, token) as client:
        created = call(client, "POST", "/assignments", json={"exercise": exercise, **body})
    console.print(assignment_table([created], title="published"))


@assignment_app.command("update")
def assignment_update(
        exercise: str,
        due: Annotated[Optional[str], typer.Option(help="New due date (in --tz, else the assignment's zone).")] = None,
        opens: Annotated[Optional[str], typer.Option()] = None,
        late_until: Annotated[Optional[str], typer.Option()] = None,
        no_late_until: Annotated[bool, typer.Option("--no-late-until", help="Close at the due date.")] = False,
        no_max_attempts: Annotated[bool, typer.Option("--no-max-attempts", help="Remove the cap.")] = False,
        title: Annotated[Optional[str], typer.Option()] = None,
        tz: Annotated[Optional[str], typer.Option("--tz", help="Zone of the dates given; also becomes the "
                                                               "assignment's.")] = None,
        policy: Policy = None, penalty: Penalty = None, cap: Cap = None, max_attempts: Attempts = None,
        server: Server = None, token: Token = None) -> None:
    """Change an assignment's dates, late policy or attempt cap (only what is given)."""
    body = _assignment_body(title=title, opens=opens, due=due, late_until=late_until,
                            tz=timezone_name(tz) if tz else None, policy=policy, penalty=penalty, cap=cap,
                            max_attempts=max_attempts)
    body.update(clear_late_until=no_late_until, clear_max_attempts=no_max_attempts)
    with connect(server, token) as client:
        updated = call(client, "PATCH", f"/assignments/{exercise}", json=body)
    console.print(assignment_table([updated], title="updated"))


@assignment_app.command("list")
def assignment_list(server: Server = None, token: Token = None) -> None:
    """The assignments, soonest due first, dates in each assignment's zone."""
    with connect(server, token) as client:
        items = call(client, "GET", "/assignments")
    console.print(assignment_table(items))


# ------------------------------------------------------------------ extensions


def extension_table(items: list[dict[str, Any]], title: str = "extensions") -> Table:
    """Dates in each assignment's zone."""
    table = Table(title=title)
    for column in ("id", "exercise", "student", "due", "late until", "zone", "reason", "revoked"):
        table.add_column(column)
    for e in items:
        tz = e["timezone"]
        table.add_row(str(e["id"]), e["exercise"], safe(e["student"]), shown(e["due_at"], tz),
                      shown(e["late_until"], tz) or "(same window)", tz, safe(e["reason"]),
                      shown(e["revoked_at"], tz))
    return table


@extension_app.command("grant")
def extension_grant(
        exercise: str, student: str,
        due: Annotated[str, typer.Option(help="The student's due date (in the assignment's zone, or with an "
                                              "offset).")],
        late_until: Annotated[Optional[str], typer.Option(help="Default: the new due date plus the "
                                                               "assignment's late window.")] = None,
        reason: Annotated[str, typer.Option(help="Why (kept with the extension).")] = "",
        server: Server = None, token: Token = None) -> None:
    """Give STUDENT a new due date for EXERCISE (replaces an earlier extension)."""
    body = {"exercise": exercise, "student": student, "due_at": date_option(due, "--due"),
            "late_until": date_option(late_until, "--late-until"), "reason": reason}
    with connect(server, token) as client:
        granted = call(client, "POST", "/extensions", json=body)
    console.print(extension_table([granted], title="granted"))


@extension_app.command("revoke")
def extension_revoke(extension_id: int, server: Server = None, token: Token = None) -> None:
    """Revoke an extension (its id from `nngrade extension list`); the assignment's dates hold again."""
    with connect(server, token) as client:
        revoked = call(client, "DELETE", f"/extensions/{extension_id}")
    console.print(extension_table([revoked], title="revoked"))


@extension_app.command("list")
def extension_list(exercise: Annotated[Optional[str], typer.Option()] = None,
                   student: Annotated[Optional[str], typer.Option()] = None,
                   all_: Annotated[bool, typer.Option("--all", help="Revoked ones too.")] = False,
                   server: Server = None, token: Token = None) -> None:
    """The extensions in force."""
    params = {k: v for k, v in {"exercise": exercise, "student": student}.items() if v}
    with connect(server, token) as client:
        items = call(client, "GET", "/extensions", params={**params, "include_revoked": all_})
    console.print(extension_table(items))


# ------------------------------------------------------------------ roster

TOKEN_COLUMNS = ("name", "email", "section", "token")


@roster_app.command("import")
def roster_import(
        file: Annotated[Path, typer.Argument(help="CSV: name,email[,section,lms_id,sis_user_id,sis_login_id].")],
        tokens_out: Annotated[Path, typer.Option("--tokens-out", help="Where the new students' tokens go "
                                                                      "(a new file, readable by you only).")]
        = Path("roster-tokens.csv"),
        server: Server = None, token: Token = None) -> None:
    """Create the students of FILE and write their tokens (shown this once) to --tokens-out.  All rows
    or none: a bad row stops the import with its line number."""
    if not file.is_file():
        raise _fail(f"{file}: no such file")
    if tokens_out.exists():
        raise _fail(f"{tokens_out} exists; tokens are written to a new file only (--tokens-out)")
    with connect(server, token) as client:
        result = call(client, "POST", "/roster", content=file.read_bytes(),
                      headers={"content-type": "text/csv; charset=utf-8"})
    issued = [s for s in result["students"] if s["token"]]
    fd = os.open(tokens_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(TOKEN_COLUMNS)
        writer.writerows([s[c] for c in TOKEN_COLUMNS] for s in issued)
    sections: dict[str, int] = {}
    for s in result["students"]:
        sections[s["section"]] = sections.get(s["section"], 0) + 1
    table = Table(title=f"imported {file.name}")
    for column in ("section", "students"):
        table.add_column(column)
    for section, count in sorted(sections.items()):
        table.add_row(safe(section) or "—", str(count))
    console.print(table)
    typer.echo(f"{result['created']} new students (tokens in {tokens_out}), {result['updated']} updated")


@roster_app.command("list")
def roster_list(section: Annotated[Optional[str], typer.Option()] = None,
                all_: Annotated[bool, typer.Option("--all", help="Removed students too.")] = False,
                server: Server = None, token: Token = None) -> None:
    """The roster, by section and name."""
    params = {"include_removed": all_, **({"section": section} if section else {})}
    with connect(server, token) as client:
        items = call(client, "GET", "/roster", params=params)
    table = Table(title=f"roster ({len(items)})")
    for column in ("name", "email", "section", "ID", "SIS user", "SIS login", "removed"):
        table.add_column(column)
    for s in items:
        table.add_row(*[safe(s[k]) for k in ("name", "email", "section", "lms_id", "sis_user_id", "sis_login_id")],
                      shown(s["removed_at"], "UTC"))
    console.print(table)


@roster_app.command("remove")
def roster_remove(name: str, server: Server = None, token: Token = None) -> None:
    """Take NAME off the roster: their tokens are revoked, their submissions kept."""
    from urllib.parse import quote

    with connect(server, token) as client:
        removed = call(client, "DELETE", f"/roster/{quote(name, safe='')}")
    typer.echo(f"removed {removed['name']!r} from the roster; revoked {removed['revoked_tokens']} token(s)")


# ------------------------------------------------------------------ students


@app.command("status")
def status(server: Server = None, token: Token = None) -> None:
    """Your assignments: due dates (your extension's, if any), best score so far, attempts left."""
    with connect(server, token) as client:
        items = call(client, "GET", "/me/assignments")
    if not items:
        typer.echo("no assignment is open")
        return
    table = Table(title="your assignments")
    for column in ("exercise", "due", "late until", "zone", "now", "best", "tries left"):
        table.add_column(column)
    for a in items:
        tz = a["timezone"]
        due = shown(a["due_at"], tz) + (" (extended)" if a["extended"] else "")
        left = "∞" if a["attempts_left"] is None else str(a["attempts_left"])
        table.add_row(a["exercise"], due, shown(a["late_until"], tz), tz, a["state"],
                      score(a["best_score"], a["max_score"]), left)
    console.print(table)


def print_timing(timing: dict[str, Any] | None, out: Console) -> None:
    """The line under a report: on time, or how late and what it cost beside the raw score."""
    if not timing:
        return
    if timing["status"] == "on-time":
        out.print(f"[green]{safe(timing['summary'])}[/]")
        return
    style = "yellow" if timing["status"] == "late" else "red"
    out.print(f"[{style}]{safe(timing['summary'])}[/]: score {score(timing['score'])} "
              f"(raw {score(timing['raw_score'])}, {timing['penalty_percent']:g}% off)")


from . import course_reports  # noqa: E402,F401  (registers gradebook, regrade, submissions)
