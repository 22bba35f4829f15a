"""The degraded mode: no bubblewrap, no user namespaces, no seccomp (a laptop, an unprivileged
container).  The runner says what is missing, loudly, and every report lists the layers that
were active; the layers that remain (a separate process of another uid, an empty environment,
resource limits, no new privileges, a keeper that kills what the submission started) still
end every runaway submission in a report and leave no process behind.

Attacks that need the missing layers to fail (reading world-readable files, connecting to
loopback services, ``kill(-1)`` over every process of the sandbox uid) are not run here: they
would succeed, which is what the warning is for.
"""

from __future__ import annotations

import subprocess

import pytest

from sandbox_kit import AS_SANDBOX_UID, FULL_LAYERS, ROOT, checked_attack, start_runner
from sandbox_kit import host  # noqa: F401  (fixture)

DEGRADED = frozenset({"bwrap", "userns", "seccomp"})
pytestmark = pytest.mark.attack


@pytest.fixture(scope="module")
def degraded(host):
    runner = start_runner(disabled=DEGRADED)
    yield runner
    runner.close()


@pytest.fixture
def attack(host, degraded, request):
    yield from checked_attack(host, degraded, request)


def test_the_degraded_runner_says_what_is_missing_and_still_grades(host, capsys, caplog):
    from service.grading import grade

    runner = start_runner(disabled=DEGRADED)
    try:
        # once: in the log where one is configured (pytest's here), else on stderr
        said = capsys.readouterr().err + caplog.text
        assert said.count("WITHOUT bwrap, namespaces, no-capabilities, seccomp") == 1, said
        assert runner.missing_layers() == ["bwrap", "namespaces", "no-capabilities", "seccomp"]
        report = grade("dense", (ROOT / "reference" / "dense.py").read_text(), include_hidden=True, runner=runner)
        assert report.score == report.max_score
        assert set(report.isolation) == {"process", "empty-env", "rlimits", "no-new-privs"}
        assert not FULL_LAYERS <= set(report.isolation)
    finally:
        runner.close()


@pytest.mark.parametrize("name, outcome, code", [
    ("infinite_loop", "timeout", "timeout"),
    ("sleep_forever", "timeout", "timeout"),
    ("sigterm_ignored", "timeout", "timeout"),
    ("fork_bomb", "timeout", "timeout"),
    ("memory_bomb", "error", "memory-limit"),
    ("output_flood", "error", "output-limit"),
    ("segfault_ctypes", "error", "crashed"),
    ("os_exit_call", "error", "crashed"),
    ("huge_return", "error", "memory-limit"),
])
def test_runaway_submissions_end_in_their_report_without_the_missing_layers(attack, name, outcome, code):
    report = attack(name)
    attack.first_case_only(report, code, outcome=outcome)
    attack.host_untouched(report, full=False)


def test_a_detached_daemon_is_killed_without_a_pid_namespace(attack):
    report = attack("detached_child")
    assert report.score == report.max_score
    attack.host_untouched(report, full=False)  # no process with the daemon's tag anywhere


def test_links_left_in_the_working_directory_are_removed_without_following_them(attack):
    report = attack("plant_symlinks")
    assert report.score == report.max_score
    attack.host_untouched(report, full=False)  # the reference the links point at is intact


def test_other_processes_of_the_sandbox_uid_leave_a_submission_its_process_budget(attack):
    """Without a user namespace RLIMIT_NPROC counts every task of the sandbox's uid on the host (other
    pools, other sandboxes); 20 of them must not leave a submission unable to fork at all."""
    crowd = [subprocess.Popen(["sleep", "600"], **AS_SANDBOX_UID)
             for _ in range(20)]
    try:
        report = attack("detached_child")  # forks twice
    finally:
        for p in crowd:
            p.kill()
            p.wait()
    assert report.score == report.max_score, report.tests[0].message
    attack.host_untouched(report, full=False)
