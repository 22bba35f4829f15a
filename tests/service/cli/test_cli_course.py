"""The course's commands (``nngrade roster|assignment|extension|submissions|gradebook|regrade|status``)
run as the real ``nngrade`` against a live service on a free port, on SQLite and PostgreSQL, with the
service's clock set by the test."""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import re
import stat
from datetime import timedelta

import pytest

# The commands speak HTTP: both databases behind the routes are covered by tests/service/api's
# course tests; here one backend, the embedded default an instructor starts with.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
ROSTER = ("name,email,section,lms_id,sis_user_id,sis_login_id\n"
          "Ada Lovelace,ada@example.edu,A,1001,s1001,ada\n"
          "Bob Byte,bob@example.edu,B,1002,s1002,bob\n"
          "Cy Cache,cy@example.edu,A,1003,s1003,cy\n")


def nngrade(course, token: str, *args: str):
    """``nngrade ARGS`` with ``token``, through NNGRADE_SERVER/NNGRADE_TOKEN, on a wide terminal."""
    return course.service.cli(*args, env={"NNGRADE_SERVER": course.service.base, "NNGRADE_TOKEN": token,
                                          "COLUMNS": "250"})


def ok(done) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def failed(done, code: int = 2) -> str:
    assert done.returncode == code, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stderr


def cells(text: str) -> list[list[str]]:
    """The rows of a Rich table: its cells, stripped."""
    return [[c.strip() for c in line.strip()[1:-1].split("│")] for line in text.splitlines() if line.startswith("│")]


def imported(course, text: str = ROSTER) -> dict[str, str]:
    """``nngrade roster import``: the tokens file it wrote, by name."""
    path = course.service.workdir / "students.csv"
    path.write_text(text)
    tokens_out = course.service.workdir / "tokens.csv"
    out = ok(nngrade(course, course.instructor.token, "roster", "import", str(path), "--tokens-out", str(tokens_out)))
    assert "3 new students" in out
    with tokens_out.open() as f:
        return {row["name"]: row["token"] for row in csv.DictReader(f)}


def test_roster_import_list_and_remove(course):
    prof = course.instructor.token
    students = course.service.workdir / "students.csv"
    students.write_text(ROSTER + "Dee Dot,not-an-email,B,,,\n")
    tokens_out = course.service.workdir / "tokens.csv"
    err = failed(nngrade(course, prof, "roster", "import", str(students), "--tokens-out", str(tokens_out)))
    assert "422 invalid-roster" in err and "line 5: 'not-an-email' is not an e-mail address" in err
    assert not tokens_out.exists()
    assert cells(ok(nngrade(course, prof, "roster", "list", "--all"))) == []

    students.write_text(ROSTER)
    out = ok(nngrade(course, prof, "roster", "import", str(students), "--tokens-out", str(tokens_out)))
    assert f"3 new students (tokens in {tokens_out}), 0 updated" in out
    assert cells(out) == [["A", "2"], ["B", "1"]]
    assert stat.S_IMODE(os.stat(tokens_out).st_mode) == 0o600
    rows = list(csv.DictReader(tokens_out.open()))
    assert [(r["name"], r["email"], r["section"]) for r in rows] == [
        ("Ada Lovelace", "ada@example.edu", "A"), ("Bob Byte", "bob@example.edu", "B"),
        ("Cy Cache", "cy@example.edu", "A")]
    for r in rows:
        assert course.service.api(r["token"]).get("/api/v1/me").json()["name"] == r["name"]
    again = failed(nngrade(course, prof, "roster", "import", str(students), "--tokens-out", str(tokens_out)))
    assert "exists; tokens are written to a new file only" in again

    listed = cells(ok(nngrade(course, prof, "roster", "list")))
    assert [r[:6] for r in listed] == [["Ada Lovelace", "ada@example.edu", "A", "1001", "s1001", "ada"],
                                       ["Cy Cache", "cy@example.edu", "A", "1003", "s1003", "cy"],
                                       ["Bob Byte", "bob@example.edu", "B", "1002", "s1002", "bob"]]
    assert [r[0] for r in cells(ok(nngrade(course, prof, "roster", "list", "--section", "B")))] == ["Bob Byte"]

    bob = {r["name"]: r["token"] for r in rows}["Bob Byte"]
    assert ok(nngrade(course, prof, "roster", "remove", "Bob Byte")).strip() == \
        "removed 'Bob Byte' from the roster; revoked 1 token(s)"
    assert course.service.api(bob).get("/api/v1/me").status_code == 401
    assert [r[0] for r in cells(ok(nngrade(course, prof, "roster", "list")))] == ["Ada Lovelace", "Cy Cache"]
    removed = [r for r in cells(ok(nngrade(course, prof, "roster", "list", "--all"))) if r[0] == "Bob Byte"]
    assert removed[0][6] == "2027-02-25 12:00"  # the service's clock, in UTC
    assert "404 student-not-on-roster" in failed(nngrade(course, prof, "roster", "remove", "Bob Byte"))
    assert "403 instructor-only" in failed(nngrade(course, rows[0]["token"], "roster", "list"))


def test_assignment_create_list_and_update(course):
    prof = course.instructor.token
    out = ok(nngrade(course, prof, "assignment", "create", "dense", "--opens", "2027-03-01 09:00",
                     "--due", "2027-03-10 23:59", "--late-until", "2027-03-13 23:59", "--tz", "Europe/Berlin",
                     "--late-policy", "per-day", "--penalty", "10", "--cap", "50", "--max-attempts", "5"))
    assert "published" in out
    assert cells(out) == [["dense", "2027-03-01 09:00", "2027-03-10 23:59", "2027-03-13 23:59", "Europe/Berlin",
                           "10%/day ≤50%", "5", "not-open"]]
    stored = course.instructor.get("/api/v1/assignments/dense").json()
    assert (stored["opens_at"], stored["due_at"], stored["late_until"]) == (
        "2027-03-01T08:00:00Z", "2027-03-10T22:59:00Z", "2027-03-13T22:59:00Z")
    assert "409 assignment-exists" in failed(nngrade(course, prof, "assignment", "create", "dense", "--due",
                                                     "2027-03-10 23:59"))
    assert "--due: 'tomorrow' is not a date" in failed(nngrade(course, prof, "assignment", "create", "lora",
                                                               "--due", "tomorrow"))
    assert "unknown time zone 'Mars/Olympus'" in failed(nngrade(course, prof, "assignment", "create", "lora",
                                                                "--due", "2027-03-10 23:59", "--tz", "Mars/Olympus"))
    ok(nngrade(course, prof, "assignment", "create", "lora", "--opens", "2027-03-02T10:00+00:00",
               "--due", "2027-03-20T10:00+00:00", "--late-policy", "fixed", "--penalty", "30"))

    out = ok(nngrade(course, prof, "assignment", "update", "dense", "--due", "2027-03-11 23:59", "--no-max-attempts",
                     "--no-late-until"))
    assert cells(out) == [["dense", "2027-03-01 09:00", "2027-03-11 23:59", "", "Europe/Berlin", "10%/day ≤50%", "∞",
                           "not-open"]]
    stored = course.instructor.get("/api/v1/assignments/dense").json()
    assert (stored["due_at"], stored["late_until"], stored["max_attempts"]) == ("2027-03-11T22:59:00Z", None, None)
    assert "404 assignment-not-found" in failed(nngrade(course, prof, "assignment", "update", "toeplitz", "--due",
                                                        "2027-03-10 23:59"))

    course.clock.set(course.OPENS + timedelta(hours=12))
    listed = cells(ok(nngrade(course, prof, "assignment", "list")))
    assert [(r[0], r[2], r[5], r[7]) for r in listed] == [("dense", "2027-03-11 23:59", "10%/day ≤50%", "open"),
                                                          ("lora", "2027-03-20 10:00", "30% once", "not-open")]
    alice = course.student("alice")
    assert [r[0] for r in cells(ok(nngrade(course, alice.token, "assignment", "list")))] == ["dense"]
    assert "403 instructor-only" in failed(nngrade(course, alice.token, "assignment", "update", "dense",
                                                   "--max-attempts", "1"))


def test_extension_grant_list_and_revoke(course):
    prof = course.instructor.token
    course.publish("dense")
    alice = course.student("alice")
    out = ok(nngrade(course, prof, "extension", "grant", "dense", "alice", "--due", "2027-03-12 23:59",
                     "--reason", "illness"))
    [granted] = cells(out)
    ext_id = int(granted[0])
    assert granted[1:] == ["dense", "alice", "2027-03-12 23:59", "(same window)", "Europe/Berlin", "illness", ""]
    assert [e["id"] for e in course.instructor.get("/api/v1/extensions").json()] == [ext_id]
    assert [r[0] for r in cells(ok(nngrade(course, prof, "extension", "list")))] == [str(ext_id)]
    assert cells(ok(nngrade(course, prof, "extension", "list", "--student", "bob"))) == []
    assert "404 student-not-found" in failed(nngrade(course, prof, "extension", "grant", "dense", "nobody",
                                                     "--due", "2027-03-12 23:59"))

    course.clock.set(course.DUE + timedelta(days=1))
    status = cells(ok(nngrade(course, alice.token, "status")))
    assert status == [["dense", "2027-03-12 23:59 (extended)", "2027-03-15 23:59", "Europe/Berlin", "open", "—", "∞"]]

    out = ok(nngrade(course, prof, "extension", "revoke", str(ext_id)))
    assert "revoked" in out and cells(out)[0][7] != ""
    assert course.instructor.get("/api/v1/extensions").json() == []
    assert cells(ok(nngrade(course, prof, "extension", "list"))) == []
    assert [r[0] for r in cells(ok(nngrade(course, prof, "extension", "list", "--all")))] == [str(ext_id)]
    assert cells(ok(nngrade(course, alice.token, "status")))[0][1:5] == [
        "2027-03-10 23:59", "2027-03-13 23:59", "Europe/Berlin", "late"]
    assert "404 extension-not-found" in failed(nngrade(course, prof, "extension", "revoke", "999"))


def graded(course, api, when, source=REFERENCE) -> dict:
    """``api``'s submission of ``source`` at the instant ``when``, once graded."""
    course.clock.set(when)
    return api.wait(api.accepted("dense", source))


def test_submissions_list_status_and_gradebook_export(course):
    prof = course.instructor.token
    course.publish("dense", title="Dense layer", max_attempts=4)
    tokens = imported(course)
    ada, bob = course.service.api(tokens["Ada Lovelace"]), course.service.api(tokens["Bob Byte"])
    wrong = course.service.workdir / "dense_wrong.py"
    wrong.write_text(REFERENCE.read_text().replace("dY.T @ X", "X.T @ dY"))
    first = graded(course, ada, course.DUE - timedelta(hours=1), wrong)
    late = graded(course, ada, course.DUE + timedelta(seconds=1))
    bobs = graded(course, bob, course.DUE + timedelta(days=1, hours=2))
    first_score = f"{round(first['score'], 2):g}"
    assert first["score"] < 19 and late["score"] == bobs["score"] == 19

    listed = cells(ok(nngrade(course, prof, "submissions", "list", "--tz", "Europe/Berlin")))
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in listed] == [
        (str(first["id"]), "Ada Lovelace", "dense", "2027-03-10 22:59", "done"),
        (str(late["id"]), "Ada Lovelace", "dense", "2027-03-10 23:59", "done"),
        (str(bobs["id"]), "Bob Byte", "dense", "2027-03-12 01:59", "done")]
    assert [(r[6], r[7]) for r in listed] == [
        ("on time", first_score), ("late by 1 s: 10% penalty", "17.1"),
        ("late by 1 day 2 h: 20% penalty", "15.2")]
    assert [r[0] for r in cells(ok(nngrade(course, prof, "submissions", "list", "--student", "Bob Byte")))] == \
        [str(bobs["id"])]
    assert [r[0] for r in cells(ok(nngrade(course, ada.token, "submissions", "list")))] == \
        [str(first["id"]), str(late["id"])]

    status = cells(ok(nngrade(course, ada.token, "status")))
    assert status == [["dense", "2027-03-10 23:59", "2027-03-13 23:59", "Europe/Berlin", "late", "17.1 / 19", "2"]]

    for fmt, path in (("csv", "/api/v1/gradebook.csv"), ("canvas", "/api/v1/gradebook.canvas.csv"),
                      ("json", "/api/v1/gradebook")):
        for mode in ("best", "latest", "on-time-best"):
            out = ok(nngrade(course, prof, "gradebook", "export", "--format", fmt, "--mode", mode))
            served = course.instructor.get(path, params={"mode": mode})
            if fmt == "json":
                assert json.loads(out) == served.json()
            else:
                assert out == served.text.replace("\r\n", "\n"), (fmt, mode)
    canvas = list(csv.reader(io.StringIO(ok(nngrade(course, prof, "gradebook", "export", "--format", "canvas")))))
    assert canvas == [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Dense layer (19)"],
                      ["Points Possible", "", "", "", "", "19"],
                      ["Ada Lovelace", "1001", "s1001", "ada", "A", "17.1"],
                      ["Bob Byte", "1002", "s1002", "bob", "B", "15.2"],
                      ["Cy Cache", "1003", "s1003", "cy", "A", ""]]
    on_time = list(csv.reader(io.StringIO(ok(nngrade(course, prof, "gradebook", "export", "--mode",
                                                     "on-time-best")))))
    assert on_time[1:] == [["Ada Lovelace", first_score, "", "", "", "", first_score],
                           ["Bob Byte", "", "", "", "", "", "0"], ["Cy Cache", "", "", "", "", "", "0"]]
    section = json.loads(ok(nngrade(course, prof, "gradebook", "export", "--format", "json", "--section", "A")))
    assert [r["student"] for r in section["rows"]] == ["Ada Lovelace", "Cy Cache"]

    target = course.service.workdir / "canvas.csv"
    done = nngrade(course, prof, "gradebook", "export", "--format", "canvas", "-o", str(target))
    assert ok(done) == "" and target.read_text().replace("\r\n", "\n") == \
        course.instructor.get("/api/v1/gradebook.canvas.csv").text.replace("\r\n", "\n")
    summary = cells(done.stderr)
    assert summary[0] == ["Dense layer", "19", "2 / 3", "2", "16.15"]
    assert [r[2:] for r in summary[1:]] == [["0 / 3", "0", "—"]] * 4
    assert "403 instructor-only" in failed(nngrade(course, ada.token, "gradebook", "export"))


def reports_of(api, sid: int) -> int:
    return len(api.get(f"/api/v1/submissions/{sid}/reports").json())


def test_regrade_follows_one_batch_with_a_progress_bar(course):
    prof = course.instructor.token
    course.clock.set(course.OPENS)
    alice, bob = course.student("alice"), course.student("bob")
    mine = [alice.wait(alice.accepted("dense", REFERENCE))["id"] for _ in range(3)]
    theirs = bob.wait(bob.accepted("dense", REFERENCE))["id"]

    done = nngrade(course, prof, "regrade", "dense", "--student", "alice")
    out = ok(done)
    batch = int(re.fullmatch(r"regrading 3 submission\(s\) of dense by alice \(batch (\d+)\)\n", out).group(1))
    assert re.search(r"regrade dense .* 3/3", done.stderr), done.stderr
    progress = course.instructor.get(f"/api/v1/regrades/{batch}").json()
    assert (progress["total"], progress["done"], progress["finished"]) == (3, 3, True)
    assert [reports_of(alice, sid) for sid in mine] == [2, 2, 2] and reports_of(bob, theirs) == 1

    done = nngrade(course, prof, "regrade", "dense")
    everyone = int(re.fullmatch(r"regrading 4 submission\(s\) of dense \(batch (\d+)\)\n", ok(done)).group(1))
    assert everyone == batch + 1 and re.search(r"regrade dense .* 4/4", done.stderr), done.stderr
    assert [reports_of(alice, sid) for sid in mine] == [3, 3, 3] and reports_of(bob, theirs) == 2

    assert "404 student-not-found" in failed(nngrade(course, prof, "regrade", "dense", "--student", "nobody"))
    assert ok(nngrade(course, prof, "regrade", "lora", "--student", "alice")).strip() == \
        f"regrading 0 submission(s) of lora by alice (batch {everyone + 1})"
    assert "403 instructor-only" in failed(nngrade(course, alice.token, "regrade", "dense"))
