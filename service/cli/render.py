"""Printing a report for a person: a Rich table of cases, then the diagnoses."""

from __future__ import annotations

import re

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graders.framework.report import Report

STYLE = {"pass": "green", "fail": "red", "error": "magenta", "timeout": "yellow"}
#: Control characters (ESC among them) other than newline and tab.  Messages and output carry
#: text a submission chose; on a terminal an escape sequence could repaint the score line.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def number(value: float) -> str:
    """A score as a person reads it: a whole number as it is, else two decimals (``2``, ``1.33``, ``0.50``)."""
    rounded = round(value, 2)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.2f}"


def points(score: float, max_score: float) -> str:
    """``score / max_score`` as every report shows it: ``11.33 / 19``."""
    return f"{number(score)} / {number(max_score)}"


def clean(text: str) -> str:
    """``text`` with every control character but newline and tab shown as U+FFFD."""
    return CONTROL.sub("\ufffd", text)


def safe(text: str) -> str:
    """:func:`clean` text, escaped for Rich markup."""
    return escape(clean(text))


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    if report.status == "rejected":
        console.print(f"[bold red]Rejected[/]: {safe(report.message)}")
        return
    if report.tests:
        table = Table(title=safe(f"{report.exercise} v{report.exercise_version}"), show_lines=True, expand=True)
        table.add_column("case", ratio=3)
        table.add_column("result", width=7)
        table.add_column("points", justify="right", width=11)
        table.add_column("feedback", ratio=6)
        for t in report.tests:
            name = safe(t.name) + (" [dim](hidden)[/]" if t.visibility == "hidden" else "")
            codes = f"\n[dim]{safe(', '.join(t.diagnoses))}[/]" if t.diagnoses else ""
            table.add_row(name, f"[{STYLE[t.outcome]}]{t.outcome}[/]", points(t.score, t.max_score),
                          safe(t.message) + codes)
        console.print(table)
    if report.message and not any(t.message == report.message for t in report.tests):
        console.print(safe(report.message))  # a note on the whole run (an empty file: the only line)
    colour = "green" if report.score >= report.max_score else "yellow"
    hidden = "" if report.hidden_included else " (visible cases only)"
    console.print(f"[bold {colour}]Score: {points(report.score, report.max_score)}[/]{hidden}")
    if report.diagnoses:
        console.print(f"Diagnoses: {safe(', '.join(report.diagnoses))}")
    if report.isolation:
        console.print(f"[dim]isolation: {safe(', '.join(report.isolation))}; seed {report.seed}[/]")
    if report.output.strip():
        console.print("[dim]Your code printed:[/]")
        console.print(clean(report.output.rstrip()), markup=False, highlight=False)
