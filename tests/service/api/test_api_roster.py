"""The roster over HTTP on SQLite and PostgreSQL: an import is every row or none (a bad row is named by
its line), tokens are shown once and work, a removed student loses access but keeps their work, and
sections filter the gradebook in every format."""

from __future__ import annotations

import csv
import io
import pathlib

REFERENCE = pathlib.Path(__file__).resolve().parents[3] / "reference" / "dense.py"
ROSTER = ("name,email,section,lms_id,sis_user_id,sis_login_id\n"
          "Ada Lovelace,ada@example.edu,A,1001,s1001,ada\n"
          "Bob Byte,bob@example.edu,B,1002,s1002,bob\n"
          "Cy Cache,cy@example.edu,A,1003,s1003,cy\n")


def post_roster(api, text: str):
    return api.post("/api/v1/roster", content=text.encode(), headers={"content-type": "text/csv"})


def roster_names(api, **params) -> list[str]:
    return [s["name"] for s in api.get("/api/v1/roster", params=params).json()]


def test_import_issues_tokens_once_and_a_reimport_updates_without_new_ones(course):
    done = post_roster(course.instructor, ROSTER)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["created"], body["updated"]) == (3, 0)
    tokens = {s["name"]: s["token"] for s in body["students"]}
    for name, token in tokens.items():
        assert course.service.api(token).get("/api/v1/me").json() == {"name": name, "role": "student"}
    assert roster_names(course.instructor) == ["Ada Lovelace", "Cy Cache", "Bob Byte"]  # by section, then name
    listed = course.instructor.get("/api/v1/roster").json()
    assert all("token" not in s for s in listed)
    assert {s["name"]: (s["lms_id"], s["sis_user_id"], s["sis_login_id"]) for s in listed}["Bob Byte"] == \
        ("1002", "s1002", "bob")

    again = post_roster(course.instructor, ROSTER.replace("B,1002,s1002,bob", "A,2002,s2002,bobby")).json()
    assert (again["created"], again["updated"]) == (0, 3) and {s["token"] for s in again["students"]} == {None}
    assert roster_names(course.instructor, section="A") == ["Ada Lovelace", "Bob Byte", "Cy Cache"]
    assert course.service.api(tokens["Bob Byte"]).get("/api/v1/me").status_code == 200


def test_bad_rows_are_named_by_line_and_nothing_is_imported(course):
    bad = ROSTER + ("Dee Dot,not-an-email,B,1004,,\n"
                    "Eve Edge,ada@example.edu,B,1005,,\n"
                    "Fay Flag,fay@example.edu\n")
    refused = post_roster(course.instructor, bad)
    assert refused.status_code == 422 and refused.json()["code"] == "invalid-roster"
    message = refused.json()["message"]
    assert message.startswith("the roster was not imported (nothing was changed): ")
    assert "line 5: 'not-an-email' is not an e-mail address" in message
    assert "line 6: 'ada@example.edu' is already on line 2" in message
    assert "line 7: 2 fields, expected 6" in message
    assert "line 2:" not in message and "line 4:" not in message
    assert roster_names(course.instructor, include_removed=True) == []
    assert course.instructor.get("/api/v1/gradebook").json()["rows"] == []

    header = post_roster(course.instructor, "name,mail\nAda,ada@example.edu\n")
    assert header.status_code == 422 and "line 1: unknown column(s) 'mail'" in header.json()["message"]
    binary = course.instructor.post("/api/v1/roster", content=b"name,email\n\xff\xfe,x@y.z\n",
                                    headers={"content-type": "text/csv"})
    assert binary.status_code == 422 and binary.json()["code"] == "not-utf8"
    # a row that conflicts with the database (an instructor's name) stops the whole import too
    conflict = post_roster(course.instructor, ROSTER + "prof,prof@example.edu,A,,,\n")
    assert conflict.status_code == 422 and "line 5: 'prof' is an instructor, not a student" in \
        conflict.json()["message"]
    assert roster_names(course.instructor, include_removed=True) == []
    assert post_roster(course.instructor, ROSTER).json()["created"] == 3


def test_removing_a_student_revokes_their_tokens_and_keeps_their_submissions(course):
    course.publish("dense")
    tokens = {s["name"]: s["token"] for s in post_roster(course.instructor, ROSTER).json()["students"]}
    course.clock.set(course.OPENS)
    ada = course.service.api(tokens["Ada Lovelace"])
    sid = ada.wait(ada.accepted("dense", REFERENCE))["id"]
    removed = course.instructor.client.delete("/api/v1/roster/Ada%20Lovelace")
    assert removed.status_code == 200 and removed.json() == {"name": "Ada Lovelace", "revoked_tokens": 1}
    assert ada.get("/api/v1/me").status_code == 401
    kept = course.instructor.get("/api/v1/submissions", params={"student": "Ada Lovelace"}).json()["items"]
    assert [s["id"] for s in kept] == [sid] and kept[0]["score"] == 19
    assert "Ada Lovelace" not in [r["student"] for r in course.instructor.get("/api/v1/gradebook").json()["rows"]]
    assert roster_names(course.instructor) == ["Cy Cache", "Bob Byte"]
    assert "Ada Lovelace" in roster_names(course.instructor, include_removed=True)
    again = course.instructor.client.delete("/api/v1/roster/Ada%20Lovelace")
    assert again.status_code == 404 and again.json()["code"] == "student-not-on-roster"
    # back on the roster: a new token, the old one stays revoked
    back = post_roster(course.instructor, ROSTER).json()
    fresh = {s["name"]: s["token"] for s in back["students"]}["Ada Lovelace"]
    assert fresh and fresh != tokens["Ada Lovelace"] and ada.get("/api/v1/me").status_code == 401
    assert course.service.api(fresh).get("/api/v1/me").status_code == 200


def test_sections_filter_the_gradebook_in_every_format(course):
    course.publish("dense", title="Dense layer")
    tokens = {s["name"]: s["token"] for s in post_roster(course.instructor, ROSTER).json()["students"]}
    course.clock.set(course.OPENS)
    for name in ("Ada Lovelace", "Bob Byte"):
        student = course.service.api(tokens[name])
        student.wait(student.accepted("dense", REFERENCE))
    params = {"section": "A"}
    book = course.instructor.get("/api/v1/gradebook", params=params).json()
    assert book["section"] == "A"
    assert [(r["student"], r["section"], r["scores"]["dense"]) for r in book["rows"]] == \
        [("Ada Lovelace", "A", 19), ("Cy Cache", "A", None)]
    plain = list(csv.reader(io.StringIO(course.instructor.get("/api/v1/gradebook.csv", params=params).text)))
    assert [row[0] for row in plain[1:]] == ["Ada Lovelace", "Cy Cache"]
    canvas = list(csv.reader(io.StringIO(course.instructor.get("/api/v1/gradebook.canvas.csv", params=params).text)))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Dense layer (19)"]
    assert canvas[1:] == [["Points Possible", "", "", "", "", "19"], ["Ada Lovelace", "1001", "s1001", "ada", "A", "19"],
                          ["Cy Cache", "1003", "s1003", "cy", "A", ""]]
    only_b = course.instructor.get("/api/v1/gradebook", params={"section": "B"}).json()["rows"]
    assert [(r["student"], r["scores"]["dense"]) for r in only_b] == [("Bob Byte", 19)]
    assert course.instructor.get("/api/v1/gradebook", params={"section": "Z"}).json()["rows"] == []
    student = course.service.api(tokens["Cy Cache"])
    assert student.get("/api/v1/gradebook", params=params).status_code == 403
    assert student.get("/api/v1/roster").status_code == 403 and post_roster(student, ROSTER).status_code == 403
