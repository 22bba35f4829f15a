"""Attacks through output and error messages: floods, fake reports, huge and unprintable exceptions.

Output is captured, capped and never parsed for results; messages are capped before they cross.
"""

from __future__ import annotations

import json

import pytest

from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack


@pytest.mark.parametrize("name", ["output_flood", "output_flood_fd"])
def test_gigabytes_of_output_are_an_output_limit(attack, name):
    report = attack(name)
    attack.first_case_only(report, "output-limit")
    assert "printed more than 64 KB" in report.tests[0].message
    assert len(report.output) <= 9000  # the report keeps a capped excerpt at most
    attack.host_untouched(report)


def test_a_fake_report_on_every_descriptor_changes_no_score(attack):
    report = attack("fake_report")
    # The fake went to stdout, stderr and the RPC socket: bytes on the channel that the runner did
    # not write are a protocol fault, and the sandbox is stopped.
    attack.first_case_only(report, "crashed")
    assert "broke the grading protocol" in report.tests[0].message
    assert report.score < report.max_score
    attack.host_untouched(report)


def test_a_fake_report_does_not_reach_the_json_of_nngrade_check(attack, nngrade_cli, tmp_path):
    path = tmp_path / "fake_report.py"
    path.write_text(attack.source("fake_report"))
    done = nngrade_cli("check", "dense", str(path), "--json", "--all", "--seed", "7")
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)  # exactly one JSON document: the real report
    assert report["score"] < report["max_score"] == 19
    first = report["tests"][0]
    assert (first["name"], first["outcome"], first["score"]) == ("forward: small batch", "error", 0.0)
    assert "forward: small batch" not in [t["name"] for t in report["tests"][1:]]
    attack.host_untouched(done.stdout + done.stderr)


def test_a_200_mb_exception_message_is_cut(attack):
    report = attack("big_exception_message")
    attack.first_case_only(report, "exception")
    message = report.tests[0].message
    assert message.startswith("ValueError: all tests passed") and len(message) <= 2000
    attack.host_untouched(report)


def test_an_unprintable_exception_is_still_an_exception(attack):
    report = attack("evil_exception")
    attack.first_case_only(report, "exception")
    message = report.tests[0].message
    assert "could not be printed" in message and len(message) <= 2000
    attack.host_untouched(report)


def surrogate_cases(tests) -> None:
    """The case the attack put lone surrogates in shows U+FFFD in their place; the others pass."""
    first, *rest = tests
    assert first["diagnoses"] == ["exception"] and "marks: 19/19 \ufffd\ufffd" in first["message"], first
    assert all(t["outcome"] == "pass" for t in rest)


def test_text_that_utf8_cannot_encode_is_shown_by_nngrade_check(attack, nngrade_cli, tmp_path):
    path = tmp_path / "lone_surrogates.py"
    path.write_text(attack.source("lone_surrogates"))
    table = nngrade_cli("check", "dense", str(path))
    assert table.returncode == 1 and "Traceback" not in table.stderr, table.stderr[-2000:]
    assert "marks: 19/19" in table.stdout and "\ufffd" in table.stdout
    done = nngrade_cli("check", "dense", str(path), "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    surrogate_cases(json.loads(done.stdout)["tests"])
    report = attack("lone_surrogates")
    json.dumps(report.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")  # every text encodes
    attack.host_untouched(report, table.stdout + table.stderr)

