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

import os

import pytest

from sandbox_kit import FULL_LAYERS, Attack, Host, start_runner


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


@pytest.fixture(scope="module")
def sandbox(host):
    """A warm pool with every layer, started after the secrets are in the environment."""
    runner = start_runner()
    assert FULL_LAYERS <= set(runner.isolation), runner.isolation
    yield runner
    runner.close()


def checked_attack(host, runner, request):
    """An :class:`Attack` through ``runner``; fails the test if it passed without checking the host."""
    a = Attack(host, runner)
    yield a
    if not a.checked and getattr(request.node, "rep_call_passed", False):
        pytest.fail("the test did not check the host (attack.host_untouched)")


@pytest.fixture
def attack(host, sandbox, request):
    """``attack(name, exercise="dense", **limits) -> Report`` through the module's full-isolation pool."""
    yield from checked_attack(host, sandbox, request)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call_passed = report.passed

