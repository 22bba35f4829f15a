"""Assignments over HTTP on SQLite and PostgreSQL, on a clock the test sets: not offered before they
open, on time to the second, late with the penalty beside the raw score, closed after late-until with
nothing stored, and the attempt cap exact under concurrent submissions."""

from __future__ import annotations

import pathlib
import threading
from datetime import datetime, timedelta, timezone

import httpx

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
SECOND = timedelta(seconds=1)


def submissions_of(api) -> list[dict]:
    return api.get("/api/v1/submissions", params={"limit": 1000}).json()["items"]


def test_before_it_opens_students_are_not_offered_the_exercise_and_instructors_are(course):
    course.publish("dense")
    alice = course.student("alice")
    listed = [e["id"] for e in alice.get("/api/v1/exercises").json()]
    assert "dense" not in listed and {"lora", "toeplitz", "attention", "two_layer"} <= set(listed)
    assert "dense" in [e["id"] for e in course.instructor.get("/api/v1/exercises").json()]
    assert course.instructor.get("/api/v1/exercises/dense").status_code == 200
    for path in ("/api/v1/exercises/dense", "/api/v1/assignments/dense"):
        refused = alice.get(path)
        assert refused.status_code == 404, path
        assert refused.json()["code"] == "assignment-not-open"
        assert "opens at 2027-03-01 09:00:00 Europe/Berlin (2027-03-01T08:00:00Z)" in refused.json()["message"]
    assert alice.get("/api/v1/assignments").json() == []
    early = alice.submit("dense", REFERENCE)
    assert early.status_code == 404 and early.json()["code"] == "assignment-not-open"
    assert submissions_of(alice) == [] and submissions_of(course.instructor) == []

    course.clock.set(course.OPENS - SECOND)
    assert "dense" not in [e["id"] for e in alice.get("/api/v1/exercises").json()]
    course.clock.set(course.OPENS)
    assert "dense" in [e["id"] for e in alice.get("/api/v1/exercises").json()]
    assert alice.get("/api/v1/exercises/dense").json()["id"] == "dense"
    assert [a["state"] for a in alice.get("/api/v1/assignments").json()] == ["open"]
    assert alice.submit("dense", REFERENCE).status_code == 202


def test_one_second_before_the_due_date_is_on_time_and_one_second_after_is_late(course):
    course.publish("dense")
    alice = course.student("alice")
    course.clock.set(course.DUE - SECOND)
    on_time = alice.wait(alice.accepted("dense", REFERENCE))
    course.clock.set(course.DUE + SECOND)
    late = alice.wait(alice.accepted("dense", REFERENCE))

    assert on_time["report"]["score"] == on_time["score"] == 19
    assert on_time["timing"] == {"status": "on-time", "due_at": "2027-03-10T22:59:00Z", "late_by_seconds": 0,
                                 "late_by": "0 s", "penalty_percent": 0.0, "raw_score": 19.0, "score": 19.0,
                                 "extended": False, "summary": "on time"}
    # The report keeps the raw score; the timing beside it says how late and what it cost.
    assert late["report"]["score"] == late["score"] == 19
    assert late["timing"] == {"status": "late", "due_at": "2027-03-10T22:59:00Z", "late_by_seconds": 1,
                              "late_by": "1 s", "penalty_percent": 10.0, "raw_score": 19.0, "score": 17.1,
                              "extended": False, "summary": "late by 1 s: 10% penalty"}
    assert late["created_at"].startswith("2027-03-10T22:59:01")
    listed = {s["id"]: s["timing"]["status"] for s in submissions_of(course.instructor)}
    assert listed == {on_time["id"]: "on-time", late["id"]: "late"}


def test_penalties_count_started_days_up_to_the_cap_and_the_gradebook_applies_them(course):
    course.publish("dense", penalty_cap=25)
    alice, bob = course.student("alice"), course.student("bob")
    course.clock.set(course.DUE + timedelta(days=1, seconds=1))
    two_days = alice.wait(alice.accepted("dense", REFERENCE))
    course.clock.set(course.DUE + timedelta(days=2, hours=5))
    capped = bob.wait(bob.accepted("dense", REFERENCE))
    assert two_days["timing"]["late_by"] == "1 day 1 s" and two_days["timing"]["penalty_percent"] == 20
    assert two_days["timing"]["score"] == 15.2 and two_days["timing"]["raw_score"] == 19
    assert capped["timing"]["summary"] == "late by 2 days 5 h: 25% penalty" and capped["timing"]["score"] == 14.25
    book = course.instructor.get("/api/v1/gradebook").json()
    rows = {r["student"]: r for r in book["rows"]}
    assert rows["alice"]["scores"]["dense"] == 15.2 and rows["alice"]["penalties"]["dense"] == 20
    assert rows["bob"]["scores"]["dense"] == 14.25 and rows["bob"]["penalties"]["dense"] == 25
    on_time_best = course.instructor.get("/api/v1/gradebook", params={"mode": "on-time-best"}).json()
    assert {r["student"]: r["scores"]["dense"] for r in on_time_best["rows"]} == {"alice": None, "bob": None}
    assert alice.get("/api/v1/me/assignments").json()[0]["best_score"] == 15.2


def test_after_late_until_a_submission_is_refused_with_the_dates_and_nothing_is_stored(course):
    course.publish("dense")
    alice = course.student("alice")
    course.clock.set(course.LATE_UNTIL)
    last = alice.wait(alice.accepted("dense", REFERENCE))
    assert last["timing"]["status"] == "late" and last["timing"]["penalty_percent"] == 30

    course.clock.set(course.LATE_UNTIL + SECOND)
    for refused in (alice.submit("dense", REFERENCE, key="after-close"),
                    alice.post("/api/v1/submissions", json={"exercise": "dense", "filename": "dense.py",
                                                            "source": REFERENCE.read_text()})):
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["code"] == "assignment-closed"
        assert "closed at 2027-03-13 23:59:00 Europe/Berlin (2027-03-13T22:59:00Z)" in body["message"]
        assert "due 2027-03-10 23:59:00 Europe/Berlin (2027-03-10T22:59:00Z)" in body["message"]
        assert "1 s ago; nothing was stored" in body["message"]
    assert [s["id"] for s in submissions_of(course.instructor)] == [last["id"]]
    assert alice.get("/api/v1/me/assignments").json()[0]["state"] == "closed"
    # The key of the refused request was not taken: once the dates allow it, it makes a submission.
    assert course.instructor.client.patch("/api/v1/assignments/dense",
                                         json={"late_until": "2027-03-20T23:59"}).status_code == 200
    assert alice.submit("dense", REFERENCE, key="after-close").status_code == 202


def test_the_attempt_cap_is_exact_under_concurrent_submissions(course):
    course.publish("dense", max_attempts=3)
    alice = course.student("alice")
    course.clock.set(course.OPENS + timedelta(days=1))
    first = alice.accepted("dense", REFERENCE, key="first")
    racers = 12
    barrier = threading.Barrier(racers)
    answers: list[httpx.Response] = []
    source = REFERENCE.read_bytes()

    def race(i: int) -> None:
        with httpx.Client(base_url=alice.base, headers={"Authorization": f"Bearer {alice.token}"},
                          timeout=120) as client:
            barrier.wait()
            answers.append(client.post("/api/v1/submissions", data={"exercise": "dense"},
                                       files={"file": (f"dense{i}.py", source)}))

    threads = [threading.Thread(target=race, args=(i,)) for i in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a.status_code for a in answers)
    assert codes == [202] * 2 + [429] * (racers - 2), [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 429):
        assert refused.json()["code"] == "attempts-exhausted"
        assert "used all 3 graded attempts" in refused.json()["message"] and "(3 submitted)" in refused.json()["message"]
    assert len(submissions_of(alice)) == 3
    # a retry of an accepted request is that submission, not an attempt more
    retried = alice.submit("dense", REFERENCE, key="first")
    assert retried.status_code == 202 and retried.json()["id"] == first
    standing = alice.get("/api/v1/me/assignments").json()[0]
    assert standing["attempts_used"] == 3 and standing["attempts_left"] == 0
    # The cap is the student's: another student still has every attempt.
    assert course.student("bob").submit("dense", REFERENCE).status_code == 202


def test_instructors_publish_and_change_assignments_students_only_read(course):
    created = course.publish("lora", title="LoRA, init", late_policy="fixed", penalty_percent=30)
    assert created["title"] == "LoRA, init" and created["max_score"] == 20 and created["state"] == "not-open"
    assert created["opens_at"] == "2027-03-01T08:00:00Z" and created["due_at"] == "2027-03-10T22:59:00Z"
    assert created["late_policy_summary"] == "30% off when late"
    again = course.instructor.post("/api/v1/assignments", json={"exercise": "lora", "opens_at": "2027-03-01T09:00",
                                                               "due_at": "2027-03-02T09:00"})
    assert again.status_code == 409 and again.json()["code"] == "assignment-exists"
    backwards = course.instructor.post("/api/v1/assignments", json={"exercise": "dense", "opens_at": "2027-03-05",
                                                                   "due_at": "2027-03-01"})
    assert backwards.status_code == 422 and backwards.json()["code"] == "invalid-dates"
    zone = course.instructor.post("/api/v1/assignments", json={"exercise": "dense", "opens_at": "2027-03-01",
                                                              "due_at": "2027-03-02", "timezone": "Mars/Olympus"})
    assert zone.status_code == 422 and zone.json()["code"] == "unknown-timezone"
    unknown = course.instructor.post("/api/v1/assignments", json={"exercise": "nope", "opens_at": "2027-03-01",
                                                                 "due_at": "2027-03-02"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown-exercise"
    alice = course.student("alice")
    assert alice.post("/api/v1/assignments", json={"exercise": "dense", "opens_at": "2027-03-01",
                                                   "due_at": "2027-03-02"}).status_code == 403
    assert alice.client.patch("/api/v1/assignments/lora", json={"max_attempts": 1}).status_code == 403

    changed = course.instructor.client.patch("/api/v1/assignments/lora", json={
        "due_at": "2027-03-11T12:00", "max_attempts": 5, "clear_late_until": True})
    assert changed.status_code == 200, changed.text
    assert changed.json()["due_at"] == "2027-03-11T11:00:00Z" and changed.json()["late_until"] is None
    assert changed.json()["max_attempts"] == 5 and changed.json()["timezone"] == "Europe/Berlin"
    course.clock.set(course.OPENS)
    listed = course.instructor.get("/api/v1/assignments").json()
    assert [(a["exercise"], a["state"]) for a in listed] == [("lora", "open")]
    course.clock.set(datetime(2027, 3, 11, 11, 0, 0, tzinfo=timezone.utc))
    assert alice.get("/api/v1/assignments/lora").json()["state"] == "open"
    course.clock.set(datetime(2027, 3, 11, 11, 0, 1, tzinfo=timezone.utc))
    assert alice.get("/api/v1/assignments/lora").json()["state"] == "closed"
    missing = course.instructor.client.patch("/api/v1/assignments/toeplitz", json={"max_attempts": 2})
    assert missing.status_code == 404 and missing.json()["code"] == "assignment-not-found"
