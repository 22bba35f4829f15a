"""The sandbox's runtime, in both configurations (bubblewrap, and degraded mode with the keepers'
namespaces): correct code runs correctly, sandboxes graded at the same time share no terminal
and cannot take each other's CPU time, each one's CPU time is measured from outside, and a
closed pool leaves nothing behind."""

from __future__ import annotations

import fcntl
import glob
import os
import pathlib
import threading

import pytest

from graders.framework.proxy import InProcessRunner, Limits, StudentFault
from sandbox_kit import ROOT
from service.grading import grade
from service.sandbox import SandboxRunner, cgroups, selftest
from service.sandbox.zygote import bwrap_available

CONFIGURATIONS = {"bwrap": frozenset(), "degraded": frozenset({"bwrap"})}
EXERCISES = ("dense", "lora", "toeplitz", "attention", "two_layer")
#: What a submission sees under /dev when it looks for another one's terminal.
HARVEST = '''
import glob, os

def harvest():
    found = []
    for path in sorted(glob.glob("/dev/pts/*")) + ["/dev/ptmx", "/dev/tty"]:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError:
            continue
        try:
            found.append(path + ":" + os.read(fd, 4096).decode(errors="replace"))
        except OSError:
            found.append(path + ":opened")
        finally:
            os.close(fd)
    raise ValueError("HARVEST " + repr(found))
'''
#: Opens a pty and leaves a secret in it, then waits (the other submission harvests meanwhile).
WRITE_TO_PTY = '''
import os, time

def write_secret():
    try:
        leader, follower = os.openpty()
    except OSError as exc:
        raise ValueError("NO-PTY " + type(exc).__name__)
    os.write(leader, b"ANSWER-FROM-A\\n")
    time.sleep(3)
    return 1.0
'''
#: Spins in setsid() children that outlive every per-process limit, and returns at once.
SPINNER = '''
import os

def spin(n):
    for _ in range(int(n)):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    pass
            os._exit(0)
    return 1.0
'''
#: Hands its work to a detached child and returns while the child still computes.
OFFLOAD = '''
import os, time

def offload(seconds):
    if os.fork() == 0:
        os.setsid()
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass
        os._exit(0)
    time.sleep(seconds * 3)
    return 1.0
'''


@pytest.fixture(scope="module", params=sorted(CONFIGURATIONS))
def runner(request):
    if request.param == "bwrap" and not bwrap_available():
        pytest.skip("bubblewrap is not installed")
    runner = SandboxRunner(pool_size=2, disabled=CONFIGURATIONS[request.param])
    runner.start()
    yield runner
    runner.close()


def message(runner, source: str, function: str, *args) -> str:
    session = runner.open(source, Limits())
    try:
        session.call(function, *args)
    except StudentFault as fault:
        return fault.message
    finally:
        session.close()
    return ""


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_reference_gets_full_marks(runner, exercise):
    # In degraded mode the keeper's private /tmp used to hide the zygote's NumPy: lazily
    # imported numpy.random failed and correct code was graded as crashed.
    report = grade(exercise, (ROOT / "reference" / f"{exercise}.py").read_text(), include_hidden=True,
                   runner=runner)
    assert report.score == report.max_score, [(t.name, t.message) for t in report.tests if t.outcome != "pass"]


def test_the_self_test_probe_passes_and_the_runner_is_ready(runner):
    assert runner.self_test_error is None and runner.ready(), runner.status()
    assert selftest.run(lambda source, limits: runner.open(source, limits)) is None


def test_the_self_test_names_a_sandbox_that_cannot_run_correct_code(runner):
    # A sandbox without room to allocate cannot run the probe: the reason is given, not a score.
    failure = selftest.run(lambda source, limits: runner.open(source, Limits(memory_mb=1)))
    assert failure is not None and "probe" in failure


def test_two_sandboxes_share_no_terminal(runner):
    writer = runner.open(WRITE_TO_PTY, Limits())
    written: list[str] = []

    def write() -> None:
        try:
            writer.call("write_secret")
            written.append("pty opened")
        except StudentFault as fault:
            written.append(fault.message)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        harvested = message(runner, HARVEST, "harvest")
    finally:
        thread.join()
        writer.close()
    assert "HARVEST []" in harvested, harvested
    assert written and "NO-PTY" in written[0], written


def test_a_call_is_charged_the_cpu_of_the_children_it_leaves_running(runner):
    session = runner.open(OFFLOAD, Limits())
    try:
        result = session.call("offload", 0.4)
    finally:
        session.close()
    assert result.cpu_seconds is not None
    if runner.pool.cpu_accounting == "cgroup":  # /proc counts only the runner and the children it reaped
        assert result.cpu_seconds >= 0.3, result


def test_a_spinning_neighbour_is_not_charged_to_another_sandbox(runner):
    spinner = runner.open(SPINNER, Limits())
    try:
        spinner.call("spin", 3)
        session = runner.open(OFFLOAD.replace("seconds * 3", "0"), Limits())
        try:
            result = session.call("offload", 0.0)
        finally:
            session.close()
    finally:
        spinner.close()
    assert result.cpu_seconds is not None and result.cpu_seconds < 0.2, result


def test_correct_submissions_keep_full_marks_beside_a_spinning_neighbour(runner):
    sources = {ex: (ROOT / "reference" / f"{ex}.py").read_text() for ex in ("dense", "two_layer")}
    for _ in range(3):
        spinner = runner.open(SPINNER, Limits())
        try:
            spinner.call("spin", 4)
            reports: dict[str, object] = {}
            threads = [threading.Thread(target=lambda ex=ex: reports.__setitem__(
                ex, grade(ex, sources[ex], include_hidden=True, runner=runner))) for ex in sources]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            spinner.close()
        for ex, report in reports.items():
            assert report.score == report.max_score, (ex, [(t.name, t.message) for t in report.tests
                                                           if t.outcome != "pass"])


def test_the_in_process_runner_reports_the_cpu_time_of_a_call():
    session = InProcessRunner().open("def f(n):\n    return float(sum(range(int(n))))\n", Limits())
    assert session.call("f", 2_000_000).cpu_seconds > 0


# --------------------------------------------------------------------------- clean shutdown


def sandbox_leftovers() -> set[str]:
    return set(glob.glob("/tmp/nngrade-zygote-*")) | set(glob.glob("/tmp/nngrade-sandbox-*"))


def own_pool_dirs() -> set[str]:
    return {p for base in cgroups.own_hierarchies().values()
            for p in glob.glob(str(base / cgroups.TOP / f"pool-{os.getpid()}-*"))}


@pytest.mark.parametrize("disabled", [frozenset(), frozenset({"bwrap"}), frozenset({"bwrap", "userns"})],
                         ids=["bwrap", "degraded", "degraded-without-userns"])
def test_a_closed_pool_leaves_no_directory_and_no_cgroup(disabled):
    if "bwrap" not in disabled and not bwrap_available():
        pytest.skip("bubblewrap is not installed")
    before_dirs, before_groups = sandbox_leftovers(), own_pool_dirs()
    runner = SandboxRunner(pool_size=2, disabled=disabled)
    runner.start()
    report = grade("dense", (ROOT / "reference" / "dense.py").read_text(), runner=runner)
    assert report.score == report.max_score
    if runner.pool.cpu_accounting == "cgroup":
        assert own_pool_dirs() - before_groups
    runner.close()
    assert sandbox_leftovers() - before_dirs == set()
    assert own_pool_dirs() - before_groups == set()


def test_the_next_start_removes_what_a_killed_service_left_and_keeps_what_a_live_one_holds():
    stale_dir = pathlib.Path("/tmp/nngrade-sandbox-stale-test")
    live_dir = pathlib.Path("/tmp/nngrade-sandbox-live-test")
    for d in (stale_dir, live_dir):
        d.mkdir(exist_ok=True)
        (d / "left.txt").write_text("x")
    lock = os.open(live_dir, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(lock, fcntl.LOCK_EX)  # as a live keeper holds its directory
    hierarchies = cgroups.own_hierarchies()
    stale_groups = [base / cgroups.TOP / "pool-999999999-1-1" / "sb-1" for base in hierarchies.values()]
    if os.geteuid() == 0 and len(hierarchies) == len(cgroups.CONTROLLERS):
        for group in stale_groups:
            group.mkdir(parents=True, exist_ok=True)
    runner = SandboxRunner(pool_size=1, disabled=frozenset({"bwrap", "userns"}))
    try:
        runner.start()
        assert not stale_dir.exists()
        assert (live_dir / "left.txt").exists()
        assert not any(g.parent.exists() for g in stale_groups)
    finally:
        runner.close()
        os.close(lock)
        import shutil

        shutil.rmtree(live_dir, ignore_errors=True)
        shutil.rmtree(stale_dir, ignore_errors=True)
