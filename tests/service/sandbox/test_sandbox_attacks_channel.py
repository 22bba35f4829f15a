"""Attacks on the result channel and on the trusted side's trust in it.

The trusted side believes nothing the sandbox says but plain data it validates: the
isolation list comes from what it knew before student code ran, every reply must answer
the request it was sent for, labels and counts are parsed strictly, and whatever the sandbox
writes costs the trusted process a small, bounded amount of memory, returned after every
grading.  Each malformed message is the submission's fault (``crashed``), never a grader error.
"""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from sandbox_kit import FULL_LAYERS, checked_attack, start_runner
from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack
PROTOCOL = "broke the grading protocol"
#: Cases of ``dense`` that call ``dense_forward``, in the order they run.
FORWARD_CASES = ["forward: small batch", "forward: bias on every row (B = n_out)",
                 "edge shapes: B = 1, n_in = 1, n_out = 1", "float32 in, float32 out",
                 "large batch within the time budget", "forward: random shapes", "backward: scaled inputs, float32"]


def no_grader_errors(report) -> None:
    assert "grader-error" not in report.diagnoses, [(t.name, t.message) for t in report.tests]


# --------------------------------------------------------------------------- the isolation list


def test_rewriting_the_layer_list_after_loading_changes_no_report(attack):
    report = attack("forge_layers")
    assert report.score == report.max_score  # it computes correctly; only its claims are in question
    assert FULL_LAYERS <= set(report.isolation)
    assert not {"score-19-of-19-approved", "verified-by-instructor"} & set(report.isolation), report.isolation
    attack.host_untouched(report)


@pytest.fixture(scope="module")
def no_seccomp(host):
    runner = start_runner(disabled=frozenset({"seccomp"}))
    yield runner
    runner.close()


def test_a_layer_the_service_switched_off_cannot_be_claimed(host, no_seccomp, request):
    for checked in checked_attack(host, no_seccomp, request):
        report = checked("forge_layers")
        assert "seccomp" not in report.isolation and "seccomp" not in no_seccomp.isolation, report.isolation
        assert not {"score-19-of-19-approved", "verified-by-instructor"} & set(report.isolation)
        checked.host_untouched(report, full=False)


# --------------------------------------------------------------------------- answers out of turn


def test_a_second_answer_to_one_call_is_never_taken_for_the_next(attack):
    report = attack("second_reply")
    first, second, *rest = report.tests
    # The forged answer came first and is the submission's answer to call 1 (wrong values); the
    # runner's real answer is then a byte out of turn: the next call ends the session.
    assert (first.outcome, first.score) == ("fail", 0.0), first
    assert (second.outcome, second.diagnoses) == ("error", ["crashed"]), second
    assert PROTOCOL in second.message and "request" in second.message
    assert all(t.outcome == "pass" for t in rest), [(t.name, t.message) for t in rest if t.outcome != "pass"]
    no_grader_errors(report)
    attack.host_untouched(report)


@pytest.mark.parametrize("label", ["'\\u00b3'", "'\\u0663'", "'99'", "'-0'", "'W'"])
def test_labels_that_name_no_argument_are_a_protocol_fault(attack, label):
    report = attack("bad_labels", replace={"__LABEL__": label})
    no_grader_errors(report)
    assert report.score == 0 and report.diagnoses == ["crashed"]
    assert all(PROTOCOL in t.message and "changed argument" in t.message for t in report.tests)
    attack.host_untouched(report)


# --------------------------------------------------------------------------- what the trusted side spends


def test_a_reply_of_many_empty_arrays_is_refused_unparsed(attack):
    tracemalloc.start()
    try:
        report = attack("many_empty_arrays", replace={"__COUNT__": "80_000"})  # ~1 MB of header per call
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    forward = [t for t in report.tests if t.name in FORWARD_CASES]
    assert forward and all(t.diagnoses == ["crashed"] and "lists" in t.message for t in forward), forward[0]
    no_grader_errors(report)
    # One reply's bytes and their copy at most (parsed, 80 000 arrays would cost 30 MB and more).
    assert peak < 12 * 2**20, f"the trusted side held {peak / 2**20:.1f} MB at its peak"
    attack.host_untouched(report)


def test_garbled_large_frames_leave_nothing_behind_without_the_cycle_collector(attack):
    size = 16 * 2**20
    attack("garbled_big_frames", replace={"__SIZE__": str(size)}, include_hidden=False)  # warm every path
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        report = attack("garbled_big_frames", replace={"__SIZE__": str(size)}, include_hidden=False)
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        gc.enable()
    forward = [t for t in report.tests if t.name in FORWARD_CASES]
    assert len(forward) >= 4 and all("garbled answer" in t.message for t in forward), forward[0]
    assert peak >= size  # each frame was read (and refused) in full
    assert after - before < 4 * 2**20, f"{(after - before) / 2**20:.1f} MB still held after grading"
    attack.host_untouched(report)


# --------------------------------------------------------------------------- one wall budget


def test_the_wall_budget_is_one_for_the_whole_submission(attack):
    # dense allows 2 s per call, and 3 s for the whole submission: however many fresh sandboxes
    # the timeouts start, at most one call can use its full 2 s before the budget is spent.
    report = attack("slow_every_call", max_wall_seconds=3)
    forward = [t for t in report.tests if t.name in FORWARD_CASES]
    assert all(t.outcome == "timeout" for t in forward), forward
    per_call = [t for t in forward if "2 s per call" in t.message]
    whole = [t for t in forward if "3 s for the whole submission" in t.message]
    assert len(per_call) <= 1 and len(per_call) + len(whole) == len(forward), [t.message for t in forward]
    assert any("before this test started" in t.message for t in whole)
    attack.host_untouched(report)
