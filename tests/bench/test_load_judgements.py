"""The judgements of bench/load.py that decide what its report says: the rate limit, the knee, the CPU split."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from load_client import Outcome, rate_limit_mismatches  # noqa: E402
from load_cpu import categorize  # noqa: E402
from load_plot import knee  # noqa: E402


def _burst(token: str, at: float, statuses: list[int]) -> list[Outcome]:
    return [Outcome("dense", token, at + i * 0.01, status=s) for i, s in enumerate(statuses)]


def test_429s_beyond_the_limit_within_a_minute_are_explained_and_others_are_not():
    limit = 5
    burst = _burst("ada", 100.0, [202] * limit + [429, 429])
    assert rate_limit_mismatches(burst, limit) == []
    later = _burst("ada", 100.0 + 63.0, [202])  # the window has moved on
    assert rate_limit_mismatches(burst + later, limit) == []
    early = _burst("bob", 10.0, [202, 429])  # one accepted: a 429 the limit does not explain
    assert len(rate_limit_mismatches(early, limit)) == 1
    too_many = _burst("eve", 10.0, [202] * (limit + 1))  # the sixth should have been refused
    assert len(rate_limit_mismatches(too_many, limit)) == 1
    assert len(rate_limit_mismatches(_burst("kim", 0.0, [429]), 0)) == 1  # limit off: any 429 is wrong


def _point(offered, achieved, p50):
    return {"offered": offered, "achieved": achieved, "p50": p50, "p95": p50, "p99": p50}


def test_the_knee_is_the_first_rate_not_kept_up_with_or_at_double_the_unloaded_latency():
    kept_up = [_point(5, 5.0, 0.03), _point(10, 9.9, 0.035), _point(20, 19.5, 0.05)]
    assert knee(kept_up) is None
    assert knee(kept_up + [_point(40, 30.0, 0.05)])["offered"] == 40  # graded below 95 % of offered
    assert knee(kept_up + [_point(30, 29.0, 0.07)])["offered"] == 30  # p50 more than twice that at 5/s
    assert knee([]) is None


@pytest.mark.parametrize("leaf, part", [
    ("execute (sqlalchemy/engine/default.py:900)", "database"),
    ("close_mask (graders/framework/checks.py:249)", "grading"),
    ("SandboxSession._sendall (service/sandbox/session.py:150)", "sandbox"),
    ("CompletionHub._set (service/api/waiting.py:90)", "queue hand-off"),
    ("H11Protocol.data_received (uvicorn/protocols/http/h11_impl.py:200)", "HTTP"),
    ("mystery (elsewhere.py:1)", "other"),
])
def test_a_sample_goes_to_the_part_of_its_innermost_known_frame(leaf, part):
    stack = f"Thread._bootstrap (threading.py:1002);Thread.run (threading.py:982);{leaf}"
    counts = categorize(f"{stack} 7\n")
    assert counts[part] == 7 and sum(counts.values()) == 7


def test_waits_and_start_up_are_not_counted_as_busy():
    raw = ("Thread._bootstrap (threading.py:1002);SandboxSession._wait (service/sandbox/session.py:219) 50\n"
           "<module> (nngrade/__main__.py:3);_find_and_load (<frozen importlib._bootstrap>:1176) 30\n"
           "Thread._bootstrap (threading.py:1002);close_mask (graders/framework/checks.py:249) 4\n")
    counts = categorize(raw)
    assert sum(counts.values()) == 4 and counts["grading"] == 4


def test_an_unknown_leaf_goes_to_the_known_frame_that_called_it():
    stack = ("Thread._bootstrap (threading.py:1002);WorkerPool._run (service/worker/pool.py:108);"
             "_wrapreduction (numpy/_core/fromnumeric.py:86)")
    assert categorize(f"{stack} 3\n")["queue hand-off"] == 3
