"""Attacks on the machine's resources: CPU, memory, processes, threads, signals.

Each attack strikes in the first visible case of ``dense`` only ("forward: small batch") and
is correct elsewhere, so the report shows both the outcome of that case and that every other
case, graded after it in a fresh sandbox, still passes.  After each attack the host is checked
(``attack.host_untouched``): nothing leaked, written, or left running, and the reference still
gets full marks.
"""

from __future__ import annotations

import pytest

from sandbox_kit import processes
from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack


@pytest.mark.parametrize("name", ["infinite_loop", "sleep_forever", "sigterm_ignored", "fork_bomb",
                                  "spinning_threads"])
def test_a_hang_is_a_timeout_of_its_case_only(attack, name):
    report = attack(name)
    attack.first_case_only(report, "timeout", outcome="timeout")
    assert "Time limit exceeded in `dense_forward`" in report.tests[0].message
    attack.host_untouched(report)


def test_ignoring_sigxcpu_still_ends_at_the_hard_cpu_limit(attack):
    report = attack("sigxcpu_ignored", max_cpu_seconds=1, max_wall_seconds=10)
    assert report.score == 0
    for t in report.tests:  # the module never loaded: every case carries the load's fault
        assert (t.outcome, t.diagnoses) == ("timeout", ["timeout"]), t
        assert "CPU time limit exceeded while your module was imported" in t.message, t.message
    attack.host_untouched(report)


def test_a_memory_bomb_is_a_memory_limit(attack):
    report = attack("memory_bomb")
    attack.first_case_only(report, "memory-limit")
    attack.host_untouched(report)


def test_a_memory_bomb_at_import_fails_every_case_with_memory_limit(attack):
    report = attack("memory_bomb_import")
    assert report.status == "graded" and report.score == 0
    assert {t.outcome for t in report.tests} == {"error"}
    assert all(t.diagnoses == ["memory-limit"] for t in report.tests)
    attack.host_untouched(report)


def test_a_detached_daemon_dies_with_its_sandbox(attack):
    report = attack("detached_child")
    assert report.score == report.max_score  # the daemon did not change the answer ...
    attack.host_untouched(report)  # ... and did not survive the sandbox (its tag is nowhere on the host)


def test_killing_the_parent_and_init_from_inside_changes_nothing(attack):
    report = attack("kill_parent")
    assert report.score == report.max_score
    attack.host_untouched(report)  # the zygote is the same process, the pool intact


def test_kill_minus_one_reaches_no_process_outside_the_sandbox(attack):
    report = attack("kill_everything")
    assert report.score == report.max_score
    attack.host_untouched(report)  # the sentinel, a process of the sandbox's uid, still runs


def test_two_layer_a_memory_hungry_train_fails_only_the_training_cases(attack):
    report = attack("two_layer_memory", exercise="two_layer")
    for t in report.tests:
        if t.name.startswith("train:"):
            assert (t.outcome, t.diagnoses) == ("error", ["memory-limit"]), t
        else:
            assert t.outcome == "pass", t
    attack.host_untouched(report)


def test_the_pool_process_tree_is_checked_for_real(attack, sandbox):
    """The process check can fail: a sandbox held open shows up as one keeper too many."""
    from graders.framework.proxy import Limits
    from sandbox_kit import pool_problems, wait_for

    session = sandbox.open("import numpy as np\n", Limits())
    try:
        assert wait_for(lambda: [] if sandbox.pool.ready_count() == sandbox.pool.size else ["filling"]) == []
        assert any("keepers" in p for p in pool_problems(sandbox, processes()))
    finally:
        session.close()
    attack.host_untouched()
