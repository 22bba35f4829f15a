"""Fixtures of the sandbox tests: a real pool, a host full of bait, and hostile submissions.

* ``host`` (per module) — secrets in the environment (set before the pool starts), a
  root-only secret file, a world-readable data directory with a database file, listening
  TCP and unix sockets, and a process of the sandbox uid outside any sandbox.  The
  environment is restored when the module ends.
* ``sandbox`` (per module) — a started :class:`SandboxRunner` with every layer.
* ``attack(name, ...)`` — grades ``attacks/<name>.py`` through a runner with small limits
  and returns the report; the test then calls ``attack.host_untouched(report)``, which
  checks the host (see ``sandbox_kit``) and grades the reference for full marks.  A test
  that forgets the host check fails.
"""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from sandbox_kit import (ATTACKS, FULL_LAYERS, ROOT, Host, pool_problems, processes, stray_processes, wait_for,
                         zygote_pid)

#: Limits for hostile code: every hang ends within two seconds.
FAST = {"max_wall_seconds": 2, "max_cpu_seconds": 2}
SEED = 20240611
REFERENCE = (ROOT / "reference" / "dense.py").read_text()
PRELUDE_LINE = "from _prelude import *  # noqa"
REFERENCE_LINE = "from _reference import *  # noqa"
FIRST_CASE = "forward: small batch"


def settings(**overrides):
    from service.config import Settings

    return Settings(**{**FAST, **overrides})


@pytest.fixture(scope="module")
def host():
    """The host's bait; the secrets are in this process's environment while the module runs."""
    from service.config import get_settings

    bait = Host.create()
    saved = {k: os.environ.get(k) for k in ("NNGRADE_TEST_SECRET", "DATABASE_URL")}
    cached = get_settings.cache_info().currsize
    os.environ["NNGRADE_TEST_SECRET"] = bait.secret
    os.environ["DATABASE_URL"] = f"postgresql://grader:{bait.secret}@127.0.0.1:5432/nngrade"
    try:
        yield bait
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if cached == 0:
            get_settings.cache_clear()  # nothing may keep the fake DATABASE_URL
        bait.close()


def start_runner(**kwargs):
    from service.sandbox import SandboxRunner

    runner = SandboxRunner(pool_size=2, **kwargs)
    runner.start()
    return runner


@pytest.fixture(scope="module")
def sandbox(host):
    """A warm pool with every layer, started after the secrets are in the environment."""
    runner = start_runner()
    assert FULL_LAYERS <= set(runner.isolation), runner.isolation
    yield runner
    runner.close()


def attack_source(name: str, host: Host, *, exercise: str = "dense", replace: dict[str, str] | None = None) -> str:
    """The submission ``attacks/<name>`` (``.py`` unless named) with the host's paths filled in, and its
    prelude (``from _prelude import *``: a correct dense layer; ``from _reference import *``: the
    exercise's reference, for attacks on one function of a larger exercise)."""
    path = ATTACKS / (name if "." in name else f"{name}.py")
    source = path.read_text()
    if PRELUDE_LINE in source:
        source = source.replace(PRELUDE_LINE, (ATTACKS / f"_prelude_{exercise}.py").read_text())
    if REFERENCE_LINE in source:
        reference = (ROOT / "reference" / f"{exercise}.py").read_text()
        source = source.replace(REFERENCE_LINE, reference.replace("from __future__ import annotations", ""))
    for key, value in {**host.placeholders(), **(replace or {})}.items():
        source = source.replace(key, value)
    return source


class Attack:
    """Grades hostile submissions and checks the host afterwards."""

    def __init__(self, host: Host, runner):
        self.host = host
        self.runner = runner
        self.before = set(processes())
        self.zygote = zygote_pid(runner)
        self.checked = False
        self.tags: tuple[str, ...] = (f"nngrade-{host.token[:6]}",)

    def source(self, name: str, **kw) -> str:
        return attack_source(name, self.host, **kw)

    def __call__(self, name: str, *, exercise: str = "dense", source: str | None = None, include_hidden: bool = True,
                 filename: str = "submission.py", replace: dict[str, str] | None = None, **limits):
        from service.grading import grade

        source = self.source(name, exercise=exercise, replace=replace) if source is None else source
        return grade(exercise, source, filename=filename, include_hidden=include_hidden, seed=SEED,
                     runner=self.runner, settings=settings(**limits))

    def host_untouched(self, *reports, full: bool = True) -> None:
        """Nothing leaked into the reports, nothing written, nothing left running, the grader answers.

        ``full=False`` (the degraded mode): the reports need not list every layer, and the world-writable
        directories (/tmp, /var/tmp, /dev/shm), which only a mount namespace hides, are not checked."""
        self.checked = True
        for report in reports:  # Report objects, or the text a command printed
            text = report if isinstance(report, str) else json.dumps(report.model_dump(mode="json"))
            assert not self.host.leaked(text), f"host secrets in the report: {self.host.leaked(text)}"
            if isinstance(report, str):
                continue
            assert report.status in ("graded", "rejected")
            if full and report.status == "graded":
                assert FULL_LAYERS <= set(report.isolation), report.isolation
        written = self.host.written(shared_tmp=full)
        assert not written, f"files written on the host: {written}"
        assert not self.host.changed(), f"host files changed: {self.host.changed()}"
        problems = wait_for(lambda: [str(p) for p in stray_processes(self.before, self.tags)])
        assert not problems, f"processes escaped the sandbox: {problems}"
        problems = wait_for(lambda: pool_problems(self.runner, processes()))
        assert not problems, f"the pool's processes are not as they should be: {problems}"
        assert zygote_pid(self.runner) == self.zygote, "the attack took the zygote down"
        assert self.host.sentinel.poll() is None, "a process of the sandbox uid outside the sandbox was killed"
        assert (self.host.tcp.accepted, self.host.unix.accepted, self.host.abstract.accepted) == (0, 0, 0), \
            "a host service received a connection from the sandbox"
        self.reference_full_marks()

    def first_case_only(self, report, code: str, outcome: str = "error") -> None:
        """The first visible case ("forward: small batch", where the attacks strike) ends in ``code``;
        every other case, each run after it in a fresh sandbox, passes."""
        assert report.status == "graded"
        first, *rest = report.tests
        assert first.name == FIRST_CASE
        assert (first.outcome, first.diagnoses, first.score) == (outcome, [code], 0.0), first
        failed = [(t.name, t.outcome, t.message[:200]) for t in rest if t.outcome != "pass"]
        assert not failed, failed
        assert report.score == report.max_score - first.max_score
        assert report.diagnoses == [code]

    def reference_full_marks(self) -> None:
        from service.grading import grade

        report = grade("dense", REFERENCE, include_hidden=True, seed=SEED, runner=self.runner,
                       settings=settings(max_wall_seconds=30, max_cpu_seconds=30))
        assert report.score == report.max_score, [(t.name, t.message) for t in report.tests if t.outcome != "pass"]


@pytest.fixture
def attack(host, sandbox, request):
    """``attack(name, exercise="dense", **limits) -> Report`` through the module's full-isolation pool."""
    a = Attack(host, sandbox)
    yield a
    if not a.checked and getattr(request.node, "rep_call_passed", False):
        pytest.fail("the test did not check the host (attack.host_untouched)")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call_passed = report.passed

