"""Attacks on the service through a submission's report: text a submission chose reaches the
database, the API's answers and Gradescope's file, for the student and the instructor.

No ``host`` fixture here: its fake ``DATABASE_URL`` would reach the service's own fixtures.
"""

from __future__ import annotations

import pytest

from sandbox_kit import attack_source
from test_sandbox_attacks_output import surrogate_cases

pytestmark = pytest.mark.attack


def test_text_that_utf8_cannot_encode_does_not_break_the_service(users):
    alice, prof = users.alice, users.instructor
    submission = alice.accepted("dense", source=attack_source("lone_surrogates", None), filename="dense.py")
    body = alice.wait(submission)
    assert body["status"] == "done", body
    surrogate_cases(body["report"]["tests"])
    for who, path in ((alice, f"/api/v1/submissions/{submission}"), (prof, f"/api/v1/submissions/{submission}"),
                      (prof, f"/api/v1/submissions/{submission}/reports"),
                      (prof, f"/api/v1/submissions/{submission}/gradescope.json")):
        response = who.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        assert "\ufffd" in response.text or "\\ufffd" in response.text, path
