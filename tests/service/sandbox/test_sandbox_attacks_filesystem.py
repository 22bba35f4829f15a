"""Attacks on the host's files: secrets, references, the database, other submissions' files,
writes outside the working directory, a full disk, planted links.

Attacks that look for something carry what they found into the report (``exfil``), so a leak
would show in the report that the host check reads; the decoded findings are asserted too.
"""

from __future__ import annotations

import dataclasses
import errno

import pytest

from sandbox_kit import SANDBOX_UID, SEED, exfil
from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack
ALLOWED_ENV = {"PATH", "PWD", "HOME", "LANG", "LD_LIBRARY_PATH", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
               "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"}
#: Seconds of wall and CPU time for an attack that must run to its end: far more than any machine needs,
#: and under the suite's pytest timeout (300 s), so a real hang still ends in a report.
UNHURRIED = 240


def unhurried(attack, name: str):
    """Grade attack ``name`` (on dense, every case, hidden too) as ``attack(name)`` does, but with no time
    limit a slow or busy machine could reach: such a test proves what the code finds, not how fast."""
    import exercises
    from graders import get_grader
    from graders.framework.oracle import ReferenceOracle, StoredOracle, load_reference
    from graders.framework.run import Submission, run_grader

    ex = exercises.get("dense")
    limits = dataclasses.replace(ex.limits, cpu_seconds=UNHURRIED, wall_seconds=UNHURRIED, call_seconds=UNHURRIED)
    return run_grader(get_grader("dense"), attack.runner, Submission(attack.source(name)),
                      exercise_version=ex.version, limits=limits, visible_oracle=StoredOracle(ex.visible_path),
                      hidden_oracle=ReferenceOracle(load_reference("dense")), seed=SEED)


def test_etc_shadow_and_roots_files_do_not_exist_inside(attack):
    report = attack("read_shadow")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found and all(value == f"errno {errno.ENOENT}" for value in found.values()), found
    attack.host_untouched(report)


def test_proc_shows_no_other_process_environment(attack):
    report = attack("proc_environ")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found["hits"] == []
    assert set(found["pids"]) <= {"1", "self"}, found["pids"]  # its own pid namespace: itself only
    attack.host_untouched(report)


def test_pid_1_is_the_sandbox_itself(attack):
    report = attack("proc1_cmdline")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert "/opt/nngrade/child.py" in found["cmdline"]
    assert "NNGRADE" not in found["environ"] and "DATABASE_URL" not in found["environ"]
    assert found["status_uid"] and all(str(SANDBOX_UID) in line for line in found["status_uid"])
    attack.host_untouched(report)


def test_the_services_environment_is_out_of_reach(attack):
    report = attack("service_environment")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert set(found["own environ"]) <= ALLOWED_ENV, found["own environ"]
    assert found["own environ"]["OPENBLAS_NUM_THREADS"] == "1"
    for what in ("environ", "cmdline", "cwd", "root"):  # the grader's host pid does not exist inside
        assert found[what] == f"errno {errno.ENOENT}", (what, found[what])
    attack.host_untouched(report)


def test_references_and_graders_at_their_host_paths_do_not_exist_inside(attack):
    report = attack("read_references")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert all(str(value).startswith("errno ") for value in found.values()), found
    attack.host_untouched(report)


def test_walking_the_whole_filesystem_finds_no_reference_grader_or_database(attack):
    report = unhurried(attack, "walk_for_references")  # dense allows 2 s per call; a cold walk can take more
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found["entries"] > 1000  # it did walk (the read-only /usr is large) ...
    assert found["hits"] == []  # ... and found nothing worth stealing
    attack.host_untouched(report)


def test_the_database_file_and_the_secret_file_are_out_of_reach(attack):
    report = attack("read_database")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found.pop("glob") == []
    assert all(str(value).startswith("errno ") for value in found.values()), found
    attack.host_untouched(report)


def test_a_solution_planted_by_one_submission_is_invisible_to_the_next(attack):
    planted = attack("plant_solution")
    assert planted.score == planted.max_score
    report = attack("walk_for_solutions")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found["read"] > 0 and found["hits"] == [] and found["planted_env"] is None, found
    attack.host_untouched(planted, report)


def test_writes_outside_the_working_directory_reach_only_private_tmpfs(attack):
    report = attack("write_outside")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    marker = f"nngrade-attack-{attack.host.token}"
    private = {f"/tmp/{marker}", f"/dev/shm/{marker}", f"/proc/self/root/tmp/{marker}", f"../{marker}"}
    assert {path for path, result in found.items() if result == "written"} == private, found
    attack.host_untouched(report)  # the marker is in none of the host's directories, the runtime unchanged


def test_filling_the_disk_stops_at_the_tmpfs_caps(attack):
    report = attack("fill_disk")
    attack.first_case_only(report, "exception")
    found = exfil(report)
    assert found["big"] == f"errno {errno.EFBIG}"  # RLIMIT_FSIZE: 16 MB per file
    assert found["total_mb"] <= 2 * 64, found  # the work dir and /tmp share one 64 MB tmpfs, /dev/shm has its own
    assert set(found["errors"].values()) <= {errno.ENOSPC, errno.EROFS, errno.ENOENT, errno.EACCES}, found
    assert found["errors"]["."] == errno.ENOSPC and found["errors"]["/dev/shm"] == errno.ENOSPC
    attack.host_untouched(report)


def test_links_left_in_the_working_directory_harm_nothing(attack):
    report = attack("plant_symlinks")
    assert report.score == report.max_score
    attack.host_untouched(report)  # the reference and the runner keep their contents
