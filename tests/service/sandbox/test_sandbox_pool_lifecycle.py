"""The warm pool over a long-lived service's life: threads come and go, zygotes die, sources are large."""

from __future__ import annotations

import os
import pathlib
import signal
import threading
import time

import pytest

from service.grading import grade
from service.sandbox import SandboxRunner
from service.sandbox.zygote import bwrap_available

ROOT = pathlib.Path(__file__).resolve().parents[3]
REFERENCE = (ROOT / "reference" / "dense.py").read_text()


@pytest.fixture(params=["bwrap", "degraded"])
def runner(request):
    if request.param == "bwrap" and not bwrap_available():
        pytest.skip("bubblewrap is not installed")
    runner = SandboxRunner(pool_size=2, disabled=frozenset() if request.param == "bwrap" else frozenset({"bwrap"}))
    yield runner
    runner.close()


def full_marks(runner, source: str = REFERENCE) -> bool:
    report = grade("dense", source, runner=runner)
    return report.score == report.max_score and "crashed" not in report.diagnoses


def test_the_zygote_outlives_the_thread_that_started_it(runner):
    # bwrap --die-with-parent follows the *thread* that forked it; a request or worker
    # thread that starts the pool and then exits must not take the sandboxes with it.
    starter = threading.Thread(target=runner.start)
    starter.start()
    starter.join()
    zygote = runner.pool._zygote
    time.sleep(0.5)
    assert zygote.alive()
    assert full_marks(runner)
    assert runner.pool._zygote is zygote  # no restart was needed


def test_a_dead_zygote_never_hands_out_its_dead_sandboxes(runner):
    runner.start()
    deadline = time.monotonic() + 10
    while runner.pool.ready_count() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    old = runner.pool._zygote
    os.kill(old.process.pid, signal.SIGKILL)
    old.process.wait(timeout=10)
    assert full_marks(runner)  # a correct submission is not reported as crashed
    assert runner.pool._zygote is not old and runner.pool._zygote.alive()


def test_a_large_source_arrives_whole(runner):
    # one comment line of a million characters, then the functions: over any string cap
    source = "# " + "x" * 1_000_000 + "\n" + REFERENCE
    assert len(source.encode()) > 1_000_000
    assert full_marks(runner, source)
