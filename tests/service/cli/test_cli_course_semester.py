"""Issue 16's "done when", with ``nngrade`` commands only, on PostgreSQL: an instructor imports
a roster of 200 students from a CSV, publishes the five exercises with due dates and a 10 %-per-day late
policy, grants one extension, a handful of students submit; once the clock is past the deadline a late
submission's report says how late it was and what it cost, and the Canvas export has the penalties
applied, column by column."""

from __future__ import annotations

import csv
import pathlib
from datetime import datetime, timezone

import pytest

# A semester's course runs on a server database; both backends' dates and policies are covered by
# tests/service/api's course tests.
pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]

ROOT = pathlib.Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "reference"
DW_TRANSPOSED = ROOT / "tests" / "graders" / "solutions" / "dense" / "dW_transposed.py"
UTC = timezone.utc
#: Due dates in Europe/Berlin (CET, UTC+1 all March up to the 28th); late until three days after each.
DUE = {"dense": "2027-03-10", "lora": "2027-03-12", "toeplitz": "2027-03-15", "attention": "2027-03-17",
       "two_layer": "2027-03-19"}
LATE_UNTIL = {"dense": "2027-03-13", "lora": "2027-03-15", "toeplitz": "2027-03-18", "attention": "2027-03-20",
              "two_layer": "2027-03-22"}
TITLES = {"dense": "Dense layer", "lora": "LoRA", "toeplitz": "Toeplitz convolution", "attention": "Attention",
          "two_layer": "Two-layer network"}
POINTS = {"dense": 19, "lora": 20, "toeplitz": 18, "attention": 21, "two_layer": 24}


def student(i: int) -> dict[str, str]:
    return {"name": f"Student {i:03d}", "email": f"s{i:03d}@uni.example", "section": "AB"[i % 2],
            "lms_id": str(70000 + i), "sis_user_id": f"S{i:05d}", "sis_login_id": f"s{i:03d}"}


def run(service, config: pathlib.Path, *args: str, code: int = 0):
    done = service.cli(*args, env={"NNGRADE_CLIENT_CONFIG": str(config), "COLUMNS": "250"}, timeout=300)
    assert done.returncode == code, f"nngrade {' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_a_semester_with_nngrade_commands_only(course, tmp_path):
    service = course.service
    made = run(service, tmp_path / "none.toml", "token", "create", "--role", "instructor", "--name", "Prof Ada")
    config = tmp_path / "client.toml"
    config.write_text(f'server = "{service.base}"\ntoken = "{made.stdout.splitlines()[-1]}"\n'
                      f'timezone = "Europe/Berlin"\n')

    roster = tmp_path / "students.csv"
    with roster.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(student(1)))
        writer.writeheader()
        writer.writerows(student(i) for i in range(1, 201))
    tokens_csv = tmp_path / "tokens.csv"
    done = run(service, config, "roster", "import", str(roster), "--tokens-out", str(tokens_csv))
    assert "200 new students" in done.stdout
    tokens = {row["name"]: row["token"] for row in csv.DictReader(tokens_csv.open())}
    assert len(tokens) == 200

    for ex in DUE:
        run(service, config, "assignment", "create", ex, "--title", TITLES[ex], "--opens", "2027-03-01 09:00",
            "--due", f"{DUE[ex]} 23:59", "--late-until", f"{LATE_UNTIL[ex]} 23:59", "--late-policy", "per-day",
            "--penalty", "10", "--cap", "50")
    listed = run(service, config, "assignment", "list").stdout
    assert listed.count("10%/day ≤50%") == 5 and listed.count("Europe/Berlin") == 5
    run(service, config, "extension", "grant", "dense", "Student 007", "--due", "2027-03-14 23:59",
        "--reason", "illness")

    def submit(name: str, exercise: str, path: pathlib.Path, code: int = 0):
        return run(service, config, "submit", exercise, str(path), "--token", tokens[name], "--wait", code=code)

    course.clock.set(datetime(2027, 3, 9, 12, 0, tzinfo=UTC))  # every assignment open, none due yet
    for ex in DUE:
        submit("Student 001", ex, REFERENCE / f"{ex}.py")
    wrong = submit("Student 002", "dense", DW_TRANSPOSED, code=1)
    assert "dW-transposed" in wrong.stdout and "on time" in wrong.stdout
    submit("Student 003", "lora", REFERENCE / "lora.py")

    # Past dense's deadline (2027-03-10 23:59 Berlin) by 1 day 1 h 1 min: two started days, 20 %.
    course.clock.set(datetime(2027, 3, 12, 0, 0, tzinfo=UTC))
    late = submit("Student 002", "dense", REFERENCE / "dense.py")
    assert "late by 1 day 1 h 1 min: 20% penalty: score 15.2 (raw 19, 20% off)" in late.stdout
    extended = submit("Student 007", "dense", REFERENCE / "dense.py")
    assert "on time (extended due date)" in extended.stdout
    status = run(service, config, "status", "--token", tokens["Student 002"]).stdout
    assert "15.2 / 19" in status

    # After dense's late-until: refused, nothing stored.
    course.clock.set(datetime(2027, 3, 14, 12, 0, tzinfo=UTC))
    closed = submit("Student 004", "dense", REFERENCE / "dense.py", code=2)
    assert "409 assignment-closed" in closed.stderr and "2027-03-13 23:59:00 Europe/Berlin" in closed.stderr
    assert "Student 004" not in run(service, config, "submissions", "list").stdout

    export = tmp_path / "canvas.csv"
    run(service, config, "gradebook", "export", "--format", "canvas", "--mode", "best", "-o", str(export))
    with export.open(newline="") as f:
        rows = list(csv.reader(f))
    assert export.read_bytes().count(b"\r\n") == len(rows) == 202
    header, points, students = rows[0], rows[1], rows[2:]
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5:] == [f"{TITLES[ex]} ({POINTS[ex]})" for ex in DUE]
    assert points == ["Points Possible", "", "", "", "", *[str(POINTS[ex]) for ex in DUE]]
    assert [r[:5] for r in students] == [[s["name"], s["lms_id"], s["sis_user_id"], s["sis_login_id"],
                                          s["section"]] for s in map(student, range(1, 201))]
    scores = {r[0]: r[5:] for r in students}
    assert scores["Student 001"] == [str(POINTS[ex]) for ex in DUE]
    assert scores["Student 002"] == ["15.2", "", "", "", ""]  # late and penalised beats the wrong one on time
    assert scores["Student 003"] == ["", "20", "", "", ""]
    assert scores["Student 007"] == ["19", "", "", "", ""]  # on time by the extension
    assert all(scores[f"Student {i:03d}"] == [""] * 5 for i in (4, 5, *range(8, 201)))
