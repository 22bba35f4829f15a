"""Submitting over HTTP gives the report the local check gives; submissions, regrades and exports behave."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import pathlib

import pytest

import exercises
from service.grading import grade
from service.submission_file import source_from_file

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference"

WRONG_DENSE = '''
import numpy as np

def dense_forward(X, W, b):
    return X @ W.T + b

def dense_backward(X, W, dY):
    B = X.shape[0]
    return dY @ W, dY.T @ X / B, dY.sum(axis=0) / B
'''

GRADED_EXERCISES = [e for e in exercises.ids() if (REFERENCE / f"{e}.py").is_file()]


def comparable(report: dict, timed: set[str]) -> dict:
    """A report without what legitimately differs between two runs: the time it took, and the
    verdicts of the cases in ``timed`` (time budgets, which a loaded machine can miss)."""
    out = {k: v for k, v in report.items() if k not in ("duration_ms", "score", "diagnoses")}
    out["tests"] = [{k: v for k, v in t.items() if t["name"] not in timed or k in ("name", "visibility", "max_score")}
                    for t in report["tests"]]
    return out


def timed_cases(*reports: dict) -> set[str]:
    return {t["name"] for r in reports for t in r["tests"] if "too-slow" in t["diagnoses"]}


def correct(report: dict) -> bool:
    """Every case passed (a time budget missed on a loaded machine aside)."""
    return report["status"] == "graded" and all(t["outcome"] == "pass" or t["diagnoses"] == ["too-slow"]
                                                for t in report["tests"])


@pytest.mark.parametrize("exercise", GRADED_EXERCISES)
def test_reference_over_http_gets_the_same_report_as_the_local_check(users, exercise):
    path = REFERENCE / f"{exercise}.py"
    response = users.alice.submit(exercise, path)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["Location"] == accepted["location"] == f"/api/v1/submissions/{accepted['id']}"
    assert accepted["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert accepted["size"] == len(path.read_bytes())
    body = users.alice.wait(accepted["id"])
    assert body["status"] == "done"
    report = body["report"]
    assert report["max_score"] == exercises.get(exercise).total_points and report["hidden_included"] is True
    local = grade(exercise, source_from_file(path.name, path.read_bytes()), filename=path.name,
                  include_hidden=True, seed=report["seed"]).model_dump(mode="json")
    timed = timed_cases(report, local)
    assert comparable(report, timed) == comparable(local, timed)
    assert correct(report)


def test_a_wrong_solution_is_named_in_the_report(users):
    sid = users.alice.accepted("dense", source=WRONG_DENSE, filename="dense.py")
    body = users.alice.wait(sid)
    report = body["report"]
    assert body["status"] == "done" and report["status"] == "graded"
    assert 0 < report["score"] < report["max_score"]
    assert "grad-averaged" in report["diagnoses"]
    assert body["score"] == report["score"] and body["max_score"] == report["max_score"]
    assert any("grad-averaged" in t["diagnoses"] and t["outcome"] == "fail" for t in report["tests"])


def test_json_submission_and_notebook_upload(users):
    source = (REFERENCE / "dense.py").read_text()
    response = users.alice.post("/api/v1/submissions", json={"exercise": "dense", "filename": "dense.py",
                                                             "source": source})
    assert response.status_code == 202, response.text
    notebook = {"cells": [{"cell_type": "markdown", "source": "# my dense layer"},
                          {"cell_type": "code", "source": "!pip install torch\n%matplotlib inline\n" + source}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    nb_id = users.alice.accepted("dense", source=json.dumps(notebook), filename="dense.ipynb")
    for sid in (response.json()["id"], nb_id):
        assert correct(users.alice.wait(sid)["report"])


def test_idempotency_key_returns_the_same_submission(users):
    first = users.alice.submit("dense", source=WRONG_DENSE, filename="dense.py", key="retry-1")
    again = users.alice.submit("dense", source=WRONG_DENSE, filename="dense.py", key="retry-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    other = users.alice.submit("dense", source=WRONG_DENSE + "\n# changed\n", filename="dense.py", key="retry-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency-key-reused"
    # keys belong to a student: bob's identical key is his own submission
    bobs = users.bob.submit("dense", source=WRONG_DENSE, filename="dense.py", key="retry-1")
    assert bobs.status_code == 202 and bobs.json()["id"] != first.json()["id"]


def test_long_poll_returns_when_the_report_is_ready(users):
    sid = users.alice.accepted("dense", REFERENCE / "dense.py")
    body = users.alice.get(f"/api/v1/submissions/{sid}", params={"wait": 60}).json()
    assert body["status"] == "done" and body["report"] is not None
    assert body["reports"] == 1 and body["attempts"] == 1


def test_listing_filters_and_pages(users):
    mine = [users.bob.accepted("dense", source=WRONG_DENSE, filename=f"try{i}.py") for i in range(3)]
    for sid in mine:
        users.bob.wait(sid)
    page = users.bob.get("/api/v1/submissions", params={"limit": 2}).json()
    assert page["limit"] == 2 and len(page["items"]) == 2 and page["total"] >= 3
    assert all(item["student"] == "bob" for item in page["items"])
    rest = users.bob.get("/api/v1/submissions", params={"limit": 1000, "offset": 2}).json()
    ids = [i["id"] for i in page["items"]] + [i["id"] for i in rest["items"]]
    assert ids == sorted(ids) and set(mine) <= set(ids)
    # a student filtering on someone else still sees only their own
    assert all(i["student"] == "bob" for i in users.bob.get("/api/v1/submissions", params={"student": "alice"})
               .json()["items"])
    everyone = users.instructor.get("/api/v1/submissions", params={"limit": 1000}).json()
    assert {"alice", "bob"} <= {i["student"] for i in everyone["items"]}
    only_bob = users.instructor.get("/api/v1/submissions", params={"student": "bob", "status": "done"}).json()
    assert only_bob["items"] and all(i["student"] == "bob" and i["status"] == "done" for i in only_bob["items"])
    later = users.instructor.get("/api/v1/submissions", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert later["total"] == 0 and later["items"] == []
    assert users.bob.get("/api/v1/submissions", params={"limit": 1001}).status_code == 422


def test_regrade_keeps_every_report_with_its_version_and_seed(users):
    sid = users.alice.accepted("dense", source=WRONG_DENSE, filename="dense.py")
    first = users.alice.wait(sid)["report"]
    response = users.instructor.post(f"/api/v1/submissions/{sid}/regrade")
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["queued"] == 1 and response.headers["Location"] == f"/api/v1/regrades/{batch['batch']}"
    second = users.alice.wait(sid)["report"]
    assert second["seed"] == first["seed"] and second["score"] == first["score"]  # same seed, same report

    fresh = users.instructor.post(f"/api/v1/submissions/{sid}/regrade", json={"seed": 12345})
    assert fresh.status_code == 202
    third = users.alice.wait(sid)["report"]
    assert third["seed"] == 12345

    history = users.alice.get(f"/api/v1/submissions/{sid}/reports").json()
    assert [h["trigger"] for h in history] == ["submit", "regrade", "regrade"]
    assert [h["current"] for h in history] == [False, False, True]
    assert [h["seed"] for h in history] == [first["seed"], first["seed"], 12345]
    assert all(h["grader_version"] == first["grader_version"] != "" for h in history)
    assert history[-1]["report"] == third


def test_bulk_regrade_progress_is_visible(users):
    ids = [users.bob.accepted("dense", source=WRONG_DENSE, filename="dense.py") for _ in range(2)]
    for sid in ids:
        users.bob.wait(sid)
    response = users.instructor.post("/api/v1/exercises/dense/regrade", json={"new_seed": True})
    assert response.status_code == 202, response.text
    batch = response.json()
    assert batch["exercise"] == "dense" and batch["queued"] >= 2
    for sid in ids:
        users.bob.wait(sid)
    progress = users.instructor.get(batch["location"]).json()
    while not progress["finished"]:
        progress = users.instructor.get(batch["location"]).json()
    assert progress["total"] == batch["queued"]
    assert progress["done"] + progress["superseded"] == progress["total"] and progress["pending"] == 0
    for sid in ids:
        history = users.bob.get(f"/api/v1/submissions/{sid}/reports").json()
        assert history[0]["trigger"] == "submit" and any(h["regrade_batch"] == batch["batch"] for h in history)
        assert sum(h["current"] for h in history) == 1


def test_gradebook_best_and_latest(users, service):
    carol = service.api(service.token("student", "carol"))
    good = carol.wait(carol.accepted("dense", REFERENCE / "dense.py"))["report"]["score"]
    wrong = carol.wait(carol.accepted("dense", source=WRONG_DENSE, filename="dense.py"))["report"]["score"]
    assert wrong < good

    best = users.instructor.get("/api/v1/gradebook").json()
    assert best["mode"] == "best" and [c["id"] for c in best["exercises"]] == exercises.ids()
    row = next(r for r in best["rows"] if r["student"] == "carol")
    assert row["scores"]["dense"] == good and row["total"] == good
    latest = users.instructor.get("/api/v1/gradebook", params={"mode": "latest"}).json()
    assert next(r for r in latest["rows"] if r["student"] == "carol")["scores"]["dense"] == wrong

    response = users.instructor.get("/api/v1/gradebook.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["student", *exercises.ids(), "total"]
    carol_row = next(r for r in rows if r["student"] == "carol")
    assert float(carol_row["dense"]) == good and carol_row.get("lora", "") == ""
    assert "prof" not in {r["student"] for r in rows}  # instructors are not graded


def test_gradescope_results(users):
    sid = users.alice.accepted("dense", source=WRONG_DENSE, filename="dense.py")
    report = users.alice.wait(sid)["report"]
    results = users.alice.get(f"/api/v1/submissions/{sid}/gradescope.json").json()
    assert results["score"] == report["score"]
    assert len(results["tests"]) == len(report["tests"])
    for test, case in zip(results["tests"], report["tests"]):
        assert test["name"] == case["name"] and test["score"] == case["score"]
        assert test["max_score"] == case["max_score"] and test["output"] == case["message"]
        assert test["visibility"] == ("visible" if case["visibility"] == "visible" else "after_due_date")
        assert test["tags"] == case["diagnoses"]
    shown = users.alice.get(f"/api/v1/submissions/{sid}/gradescope.json",
                            params={"hidden_visibility": "visible"}).json()
    assert {t["visibility"] for t in shown["tests"]} == {"visible"}


def test_the_uploaded_file_is_kept_byte_for_byte(users):
    data = ("# café\n" + WRONG_DENSE).encode()
    sid = users.alice.accepted("dense", source=data, filename="../../etc/dense.py")
    response = users.alice.get(f"/api/v1/submissions/{sid}/file")
    assert response.content == data
    assert response.headers["X-Checksum-SHA256"] == hashlib.sha256(data).hexdigest()
    assert users.alice.get(f"/api/v1/submissions/{sid}").json()["filename"] == "dense.py"


def test_exercises_show_statement_and_visible_cases_never_references(users):
    listed = users.alice.get("/api/v1/exercises").json()
    assert [e["id"] for e in listed] == exercises.ids()
    body = users.alice.get("/api/v1/exercises/dense")
    assert body.status_code == 200
    dense = body.json()
    ex = exercises.get("dense")
    assert dense["statement"] == ex.statement and dense["starter"] == ex.starter
    assert dense["version"] == ex.version and dense["limits"]["memory_mb"] == ex.limits.memory_mb
    visible = {c["name"]: c["points"] for c in dense["visible_cases"]}
    assert sum(visible.values()) + dense["hidden_points"] == ex.total_points
    assert all(ex.points[name] == points for name, points in visible.items())
    reference_body = "return dY @ W, dY.T @ X, dY.sum(axis=0)"
    assert reference_body in (REFERENCE / "dense.py").read_text()
    assert reference_body not in body.text
    hidden = [name for name in ex.points if name not in visible]
    assert hidden and not any(name in body.text for name in hidden)
    assert users.alice.get("/api/v1/exercises/nope").json()["code"] == "unknown-exercise"


def test_me(users):
    assert users.alice.get("/api/v1/me").json() == {"name": "alice", "role": "student"}
    assert users.instructor.get("/api/v1/me").json() == {"name": "prof", "role": "instructor"}
