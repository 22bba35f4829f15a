"""Each isolation layer, tested on its own where it can be: seen from inside the sandbox,
switched off one at a time, refused when required, and per submission.

* every layer is active on this machine, and applied, not just claimed: the submission reads
  its own rlimits, no-new-privs, seccomp mode, capabilities and uid;
* the limits are each exercise's own (``two_layer`` gets more CPU and memory than ``dense``),
  capped by the service-wide settings;
* with seccomp off, the network namespace alone still keeps the host's loopback out of reach,
  and with the per-submission user namespace off, seccomp alone still denies ``unshare``;
* ``require_isolation`` refuses to run code without every layer and grades normally with them;
* one submission cannot see another's files, shared memory or environment;
* the warm pool serves many submissions in a row and refills to its size.
"""

from __future__ import annotations

import errno
import math
import tomllib

import pytest

from sandbox_kit import (FULL_LAYERS, REFERENCE, ROOT, SANDBOX_UID, SEED, Attack, exfil, settings,  # noqa: F401
                         start_runner, attack, host, sandbox)  # (the last three: fixtures)

FIRST = {"dense": "forward: small batch", "two_layer": "init_params: shapes, zero biases, Xavier-normal weights"}


def metadata_limits(exercise: str) -> dict:
    return tomllib.loads((ROOT / "exercises" / exercise / "metadata.toml").read_text())["limits"]


def inside(attack, exercise: str, **limits) -> dict:
    report = attack("report_limits", exercise=exercise, **{"max_wall_seconds": 60, "max_cpu_seconds": 60, **limits})
    return exfil(report, FIRST[exercise]), report


def test_every_layer_is_active_and_applied_inside(attack):
    found, report = inside(attack, "dense")
    assert FULL_LAYERS | {"proc-hidden"} <= set(report.isolation), report.isolation
    assert found["NoNewPrivs"] == "1"
    assert found["Seccomp"] == "2"  # a filter is loaded
    for caps in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
        assert int(found[caps], 16) == 0, (caps, found[caps])
    assert found["uid"] == SANDBOX_UID and found["pid"] == 1  # unprivileged, alone in its pid namespace
    assert found["cwd"] == "/tmp/work" and found["hostname"] == "sandbox"
    assert found["CORE"] == (0, 0) and found["NOFILE"] == (64, 64) and found["FSIZE"] == (16 << 20, 16 << 20)
    attack.host_untouched(report)


def test_limits_are_each_exercises_own_and_capped_by_the_settings(attack):
    seen = {}
    for exercise in ("dense", "two_layer"):
        meta = metadata_limits(exercise)
        found, report = inside(attack, exercise)
        cpu = math.ceil(meta["cpu_seconds"])
        assert found["CPU"] == (cpu, cpu + 1), (exercise, found["CPU"])
        assert found["AS"] == (meta["memory_mb"] << 20,) * 2, (exercise, found["AS"])
        assert found["NPROC"] == (meta.get("processes", 16),) * 2
        seen[exercise] = found
        capped, capped_report = inside(attack, exercise, max_cpu_seconds=3, max_memory_mb=300)
        assert capped["CPU"] == (3, 4) and capped["AS"] == (300 << 20,) * 2
        attack.host_untouched(report, capped_report)
    assert seen["two_layer"]["CPU"] > seen["dense"]["CPU"] and seen["two_layer"]["AS"] > seen["dense"]["AS"]


def test_one_submission_leaves_nothing_for_the_next(attack):
    leave = attack("traces", replace={"__MODE__": "'leave'"})
    assert set(exfil(leave)) == {"/tmp/nngrade-attack-%s-trace" % attack.host.token, "shm", "env",
                                 "nngrade-attack-%s-trace" % attack.host.token,
                                 "/dev/shm/nngrade-attack-%s-trace" % attack.host.token,
                                 "/tmp/work/nngrade-attack-%s-t2" % attack.host.token}  # it can see its own
    find = attack("traces", replace={"__MODE__": "'find'"})
    assert exfil(find) == []  # the next one, in a fresh sandbox, sees none of them
    attack.host_untouched(leave, find)


def test_the_warm_pool_serves_many_submissions_in_a_row_and_refills(attack, sandbox):
    reports = [attack("reference", source=REFERENCE, include_hidden=False) for _ in range(25)]
    assert all(r.score == r.max_score for r in reports)
    assert sandbox.ready() and sandbox.status()["missing"] == []
    attack.host_untouched(*reports)  # the pool is back to its size, the zygote the same process


@pytest.fixture(scope="module")
def partial_pools(host):
    pools = {}
    yield lambda off: pools.setdefault(off, start_runner(disabled=frozenset({off})))
    for runner in pools.values():
        runner.close()


def test_the_network_namespace_alone_keeps_loopback_out_of_reach(host, partial_pools):
    runner = partial_pools("seccomp")
    attack = Attack(host, runner)
    report = attack("connect_tcp", replace={"__TARGET_PORT__": str(host.tcp.address[1])})
    assert "seccomp" not in report.isolation and "namespaces" in report.isolation
    found = exfil(report)
    assert found["127.0.0.1"] == f"errno {errno.ENETUNREACH}", found  # a socket, but no route anywhere
    attack.host_untouched(report, full=False)  # the test's server received no connection


def test_seccomp_alone_denies_new_namespaces(host, partial_pools):
    runner = partial_pools("userns")
    attack = Attack(host, runner)
    report = attack("unshare_mount")
    assert "seccomp" in report.isolation and "namespaces" not in report.isolation
    assert set(exfil(report).values()) == {errno.EPERM}
    attack.host_untouched(report, full=False)


# --------------------------------------------------------------------------- require_isolation


def test_require_isolation_refuses_a_sandbox_without_every_layer(host):
    from service.grading import grade
    from service.sandbox import IsolationUnavailable

    runner = start_runner(disabled=frozenset({"seccomp"}), require_isolation=True)
    try:
        with pytest.raises(IsolationUnavailable, match="seccomp"):
            grade("dense", REFERENCE, runner=runner, settings=settings(), seed=SEED)
    finally:
        runner.close()


def test_require_isolation_with_every_layer_grades_normally(host):
    from service.grading import grade

    runner = start_runner(require_isolation=True)
    try:
        report = grade("dense", REFERENCE, runner=runner, settings=settings(), seed=SEED, include_hidden=True)
        assert report.score == report.max_score and FULL_LAYERS <= set(report.isolation)
    finally:
        runner.close()
