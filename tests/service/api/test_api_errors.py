"""Bad input gets a clear error with a stable code, and never loses or crashes anything."""

from __future__ import annotations

import json

import httpx
import pytest

DENSE = "import numpy as np\n\ndef dense_forward(X, W, b):\n    return X @ W.T + b\n"
LIMIT = 1024 * 1024  # the default NNGRADE_MAX_UPLOAD_BYTES


def error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["code"], str) and body["code"] and isinstance(body["message"], str) and body["message"]
    return body


def test_oversized_upload_is_413(users):
    body = error(users.alice.submit("dense", source=b"#" * (LIMIT + 1), filename="big.py"), 413)
    assert body["code"] == "file-too-large"
    assert users.alice.submit("dense", source=b"#" * (LIMIT - 100) + b"\n" + DENSE.encode(),
                              filename="big.py").status_code == 202
    huge = users.alice.post("/api/v1/submissions", content=b"x" * (8 * LIMIT),
                            headers={"content-type": "application/json"})
    assert error(huge, 413)["code"] == "request-too-large"


def test_unknown_exercise_is_404(users):
    assert error(users.alice.submit("dens", source=DENSE), 404)["code"] == "unknown-exercise"
    response = users.alice.post("/api/v1/submissions", json={"exercise": "nope", "source": DENSE})
    assert "dense" in error(response, 404)["message"]


@pytest.mark.parametrize("filename,data,code,says", [
    ("dense.py", b"\xff\xfe def f(): pass", "not-utf8", "UTF-8"),
    ("dense.py", b"x = 1\x00", "not-utf8", "NUL"),
    ("dense.ipynb", b"{not json", "unreadable-notebook", "notebook"),
    ("dense.ipynb", b'{"cells": 3}', "unreadable-notebook", "cells"),
    ("dense.txt", DENSE.encode(), "unsupported-file-type", ".py"),
])
def test_unreadable_files_are_422_naming_the_problem(users, filename, data, code, says):
    body = error(users.alice.submit("dense", source=data, filename=filename), 422)
    assert body["code"] == code and says in body["message"]


def test_missing_fields_are_422(users):
    no_file = users.alice.post("/api/v1/submissions", data={"exercise": "dense"},
                               files={"other": ("x.py", b"x")})
    body = error(no_file, 422)
    assert body["code"] == "missing-field" and "'file'" in body["message"]
    no_exercise = users.alice.post("/api/v1/submissions", files={"file": ("dense.py", DENSE.encode())})
    assert "'exercise'" in error(no_exercise, 422)["message"]
    no_source = users.alice.post("/api/v1/submissions", json={"exercise": "dense"})
    body = error(no_source, 422)
    assert body["code"] == "invalid-request" and "source" in body["message"]
    assert body["details"][0]["loc"] == ["source"]
    not_json = users.alice.post("/api/v1/submissions", content=b"{", headers={"content-type": "application/json"})
    assert error(not_json, 422)["code"] == "invalid-request"
    wrong_type = users.alice.post("/api/v1/submissions", json={"exercise": ["dense"], "source": 3})
    assert error(wrong_type, 422)["code"] == "invalid-request"


def test_lone_surrogates_in_json_source_are_422(users):
    raw = json.dumps({"exercise": "dense", "source": "x = '\ud800'"}).encode()
    response = users.alice.post("/api/v1/submissions", content=raw, headers={"content-type": "application/json"})
    assert error(response, 422)["code"] in ("not-utf8", "invalid-request")


def test_other_content_types_are_415(users):
    response = users.alice.post("/api/v1/submissions", content=DENSE, headers={"content-type": "text/plain"})
    assert error(response, 415)["code"] == "unsupported-media-type"


def test_framework_errors_are_json_too(users):
    assert error(users.alice.get("/api/v1/no-such-route"), 404)["code"] == "not-found"
    assert error(users.alice.client.delete("/api/v1/exercises"), 405)["code"] == "method-not-allowed"
    assert error(users.alice.get("/api/v1/submissions/abc"), 422)["code"] == "invalid-request"
    assert error(users.alice.get("/api/v1/submissions/0"), 422)["code"] == "invalid-request"
    assert error(users.alice.get("/api/v1/submissions/999999"), 404)["code"] == "submission-not-found"
    assert error(users.instructor.get("/api/v1/regrades/999999"), 404)["code"] == "regrade-not-found"
    assert error(users.alice.get("/api/v1/submissions", params={"status": "lost"}), 422)["code"] == "invalid-request"


def test_refused_submissions_are_not_stored(users):
    before = users.alice.get("/api/v1/submissions", params={"limit": 1}).json()["total"]
    users.alice.submit("dense", source=b"\xff", filename="x.py")
    users.alice.submit("nope", source=DENSE)
    users.alice.submit("dense", source=b"#" * (LIMIT + 1))
    assert users.alice.get("/api/v1/submissions", params={"limit": 1}).json()["total"] == before


def test_the_upload_limit_is_a_setting_and_streamed_bodies_are_cut_off(start_service):
    svc = start_service(max_upload_bytes=1000, grade_in_process=False)
    api = svc.api(svc.token("student", "ann"))
    assert api.submit("dense", source=b"#" * 1000).status_code == 202
    assert error(api.submit("dense", source=b"#" * 1001), 413)["code"] == "file-too-large"

    def chunks(head: bytes = b"", tail: bytes = b""):  # no Content-Length: the body is streamed
        yield head
        for _ in range(200):
            yield b"#" * 1000
        yield tail

    streamed = api.post("/api/v1/submissions", content=chunks(), headers={"content-type": "application/json"})
    assert error(streamed, 413)["code"] == "request-too-large"
    head = (b'--B\r\nContent-Disposition: form-data; name="exercise"\r\n\r\ndense\r\n'
            b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.py"\r\n\r\n')
    multipart = api.post("/api/v1/submissions", content=chunks(head, b"\r\n--B--\r\n"),
                         headers={"content-type": "multipart/form-data; boundary=B"})
    assert error(multipart, 413)["code"] == "request-too-large"
    assert svc.api().get("/healthz").status_code == 200
