"""Extensions over HTTP on SQLite and PostgreSQL: granted, listed and revoked by instructors, and used by
the submission gate, each submission's timing, the student's standing and the gradebook."""

from __future__ import annotations

import pathlib
from datetime import timedelta

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"


def extensions(api, **params) -> list[dict]:
    response = api.get("/api/v1/extensions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_extension_is_granted_listed_used_and_revoked(course):
    course.publish("dense")
    alice, bob = course.student("alice"), course.student("bob")
    granted = course.instructor.post("/api/v1/extensions", json={
        "exercise": "dense", "student": "alice", "due_at": "2027-03-12T23:59", "reason": "illness"})
    assert granted.status_code == 201, granted.text
    ext = granted.json()
    assert (ext["exercise"], ext["student"], ext["reason"], ext["revoked_at"]) == ("dense", "alice", "illness", None)
    assert ext["due_at"] == "2027-03-12T22:59:00Z" and ext["timezone"] == "Europe/Berlin"
    assert [e["id"] for e in extensions(course.instructor)] == [ext["id"]]
    assert extensions(course.instructor, student="bob") == [] and extensions(course.instructor, exercise="lora") == []

    course.clock.set(course.DUE + timedelta(days=1))  # a day after the due date: alice is still on time
    mine = alice.wait(alice.accepted("dense", REFERENCE))
    theirs = bob.wait(bob.accepted("dense", REFERENCE))
    assert mine["timing"]["status"] == "on-time" and mine["timing"]["extended"] is True
    assert mine["timing"]["summary"] == "on time (extended due date)" and mine["timing"]["score"] == 19
    assert mine["timing"]["due_at"] == "2027-03-12T22:59:00Z"
    assert theirs["timing"]["status"] == "late" and theirs["timing"]["score"] == 17.1
    standing = alice.get("/api/v1/me/assignments").json()[0]
    assert standing["extended"] is True and standing["due_at"] == "2027-03-12T22:59:00Z"
    # no late-until of its own: the assignment's three-day late window follows the new due date
    assert standing["late_until"] == "2027-03-15T22:59:00Z" and standing["state"] == "open"
    assert bob.get("/api/v1/me/assignments").json()[0]["extended"] is False
    book = {r["student"]: r["scores"]["dense"] for r in course.instructor.get("/api/v1/gradebook").json()["rows"]}
    assert book == {"alice": 19, "bob": 17.1}

    revoked = course.instructor.client.delete(f"/api/v1/extensions/{ext['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert extensions(course.instructor) == []
    assert [e["id"] for e in extensions(course.instructor, include_revoked=True)] == [ext["id"]]
    again = alice.get(f"/api/v1/submissions/{mine['id']}").json()["timing"]
    assert again["status"] == "late" and again["extended"] is False and again["score"] == 17.1
    book = {r["student"]: r["scores"]["dense"] for r in course.instructor.get("/api/v1/gradebook").json()["rows"]}
    assert book == {"alice": 17.1, "bob": 17.1}
    assert course.instructor.client.delete("/api/v1/extensions/999").json()["code"] == "extension-not-found"


def test_an_extension_admits_its_student_after_the_assignment_closed(course):
    course.publish("dense")
    alice, bob = course.student("alice"), course.student("bob")
    first = course.instructor.post("/api/v1/extensions", json={"exercise": "dense", "student": "alice",
                                                               "due_at": "2027-03-11T23:59"}).json()
    second = course.instructor.post("/api/v1/extensions", json={
        "exercise": "dense", "student": "alice", "due_at": "2027-03-14T23:59", "late_until": "2027-03-16T23:59",
        "reason": "a second doctor's note"}).json()
    # a new extension replaces the student's earlier one
    assert [e["id"] for e in extensions(course.instructor)] == [second["id"]]
    assert {e["id"]: e["revoked_at"] is not None
            for e in extensions(course.instructor, include_revoked=True)} == {first["id"]: True, second["id"]: False}

    course.clock.set(course.LATE_UNTIL + timedelta(days=2))  # 2027-03-15 23:59 Berlin
    closed = bob.submit("dense", REFERENCE)
    assert closed.status_code == 409 and closed.json()["code"] == "assignment-closed"
    late = alice.wait(alice.accepted("dense", REFERENCE))
    assert late["timing"]["status"] == "late" and late["timing"]["extended"] is True
    assert late["timing"]["late_by"] == "1 day" and late["timing"]["penalty_percent"] == 10
    course.clock.set(course.LATE_UNTIL + timedelta(days=3, seconds=1))
    after = alice.submit("dense", REFERENCE)
    assert after.status_code == 409 and "2027-03-16 23:59:00 Europe/Berlin" in after.json()["message"]


def test_extensions_are_the_instructors_and_check_their_dates(course):
    course.publish("dense")
    alice = course.student("alice")
    body = {"exercise": "dense", "student": "alice", "due_at": "2027-03-12T23:59"}
    assert alice.post("/api/v1/extensions", json=body).status_code == 403
    assert alice.get("/api/v1/extensions").status_code == 403
    for change, code in (({"student": "nobody"}, "student-not-found"), ({"student": "prof"}, "student-not-found"),
                         ({"exercise": "lora"}, "assignment-not-found"),
                         ({"due_at": "2027-02-01T00:00"}, "invalid-dates"),
                         ({"late_until": "2027-03-12T23:00"}, "invalid-dates")):
        refused = course.instructor.post("/api/v1/extensions", json={**body, **change})
        assert refused.json()["code"] == code, (change, refused.text)
        assert refused.status_code in (404, 422)
    assert extensions(course.instructor, include_revoked=True) == []
