"""Roles and tokens: 401 without a valid token, 403 for the wrong role, 404 for another student's work."""

from __future__ import annotations

import pytest

STUDENT_SOURCE = "import numpy as np\n\ndef dense_forward(X, W, b):\n    return X @ W.T + b\n"


@pytest.fixture(scope="module")
def alices(users) -> int:
    return users.alice.accepted("dense", source=STUDENT_SOURCE, filename="dense.py")


PER_SUBMISSION = ["", "/reports", "/file", "/gradescope.json"]


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/exercises"), ("GET", "/api/v1/exercises/dense"), ("POST", "/api/v1/submissions"),
    ("GET", "/api/v1/submissions"), ("GET", "/api/v1/submissions/1"), ("GET", "/api/v1/gradebook"),
    ("GET", "/api/v1/gradebook.csv"), ("POST", "/api/v1/exercises/dense/regrade"), ("GET", "/api/v1/me")])
def test_no_token_is_401(users, method, path):
    response = users.anonymous.client.request(method, path)
    assert response.status_code == 401
    assert response.json()["code"] == "missing-token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_and_revoked_tokens_are_401(service, users):
    bogus = service.api("nng_not-a-real-token")
    assert bogus.get("/api/v1/me").json()["code"] == "invalid-token"
    token = service.token("student", "dora")
    dora = service.api(token)
    assert dora.get("/api/v1/me").status_code == 200
    listed = service.cli("token", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    import json

    dora_id = next(t["id"] for t in json.loads(listed.stdout) if t["name"] == "dora")
    revoked = service.cli("token", "revoke", str(dora_id))
    assert revoked.returncode == 0, revoked.stderr
    response = dora.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "invalid-token"


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/gradebook"), ("GET", "/api/v1/gradebook.csv"), ("POST", "/api/v1/exercises/dense/regrade"),
    ("POST", "/api/v1/submissions/1/regrade"), ("GET", "/api/v1/regrades/1")])
def test_students_cannot_do_instructor_things(users, method, path):
    response = users.alice.client.request(method, path)
    assert response.status_code == 403 and response.json()["code"] == "instructor-only"


@pytest.mark.parametrize("suffix", PER_SUBMISSION)
def test_another_students_submission_is_404(users, alices, suffix):
    response = users.bob.get(f"/api/v1/submissions/{alices}{suffix}")
    assert response.status_code == 404 and response.json()["code"] == "submission-not-found"
    users.alice.wait(alices)
    assert users.alice.get(f"/api/v1/submissions/{alices}{suffix}").status_code == 200
    assert users.instructor.get(f"/api/v1/submissions/{alices}{suffix}").status_code == 200
    assert alices not in [s["id"] for s in users.bob.get("/api/v1/submissions", params={"limit": 1000})
                          .json()["items"]]


def test_no_route_serves_references(users):
    """The API has no route to a reference; the exercise route is tested to hold none of its text."""
    paths = users.alice.get("/api/v1/openapi.json").json()["paths"]
    assert paths and not any("reference" in p for p in paths)
    for path in ("/reference/dense.py", "/api/v1/reference/dense", "/api/v1/exercises/dense/reference",
                 "/api/v1/exercises/../reference/dense.py"):
        assert users.instructor.get(path).status_code == 404
