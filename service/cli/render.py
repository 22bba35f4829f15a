"""Printing a report for a person: a Rich table of cases, then the diagnoses."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graders.framework.report import Report

STYLE = {"pass": "green", "fail": "red", "error": "magenta", "timeout": "yellow"}


def print_report(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    if report.status == "rejected":
        console.print(f"[bold red]Rejected[/]: {escape(report.message)}")
        return
    table = Table(title=f"{report.exercise} v{report.exercise_version}", show_lines=True, expand=True)
    table.add_column("case", ratio=3)
    table.add_column("", width=7)
    table.add_column("points", justify="right", width=9)
    table.add_column("feedback", ratio=6)
    for t in report.tests:
        name = escape(t.name) + (" [dim](hidden)[/]" if t.visibility == "hidden" else "")
        codes = f"\n[dim]{escape(', '.join(t.diagnoses))}[/]" if t.diagnoses else ""
        table.add_row(name, f"[{STYLE[t.outcome]}]{t.outcome}[/]", f"{t.score:g}/{t.max_score:g}",
                      escape(t.message) + codes)
    console.print(table)
    colour = "green" if report.score >= report.max_score else "yellow"
    hidden = "" if report.hidden_included else " (visible cases only)"
    console.print(f"[bold {colour}]Score: {report.score:g} / {report.max_score:g}[/]{hidden}")
    if report.diagnoses:
        console.print(f"Diagnoses: {escape(', '.join(report.diagnoses))}")
    if report.isolation:
        console.print(f"[dim]isolation: {escape(', '.join(report.isolation))}; seed {report.seed}[/]")
    if report.output.strip():
        console.print("[dim]Your code printed:[/]")
        console.print(escape(report.output.rstrip()), markup=False, highlight=False)
