"""Attacks while loading and ending: exits, crashes, recursion, forbidden imports, files that
are not Python, notebooks with shell escapes."""

from __future__ import annotations

import json
import pathlib

import pytest

from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack


def every_case(report, outcome: str, code: str, words: str = "") -> None:
    """The module never loaded: every case carries the load's fault, and scores nothing."""
    assert report.status == "graded" and report.score == 0
    for t in report.tests:
        assert (t.outcome, t.diagnoses) == (outcome, [code]), t
        assert words in t.message, t.message
    assert report.diagnoses == [code]


@pytest.mark.parametrize("name, outcome, code, words", [
    ("sys_exit_import", "error", "exception", "called sys.exit()"),
    ("os_exit_import", "error", "crashed", "exit status 0"),
    ("heavy_import", "timeout", "timeout", "while your module was imported"),
    ("forbidden_import", "error", "forbidden-import", "PyTorch"),
    ("syntax_error", "error", "syntax-error", "line 4"),
])
def test_a_module_that_cannot_load_fails_every_case_with_its_code(attack, name, outcome, code, words):
    report = attack(name)
    every_case(report, outcome, code, words)
    attack.host_untouched(report)


@pytest.mark.parametrize("name, code, words", [
    ("sys_exit_call", "exception", "called sys.exit()"),
    ("os_exit_call", "crashed", "exit status 7"),
    ("segfault_ctypes", "crashed", "killed by SIGSEGV"),
    ("deep_c_recursion", "crashed", "killed by SIGSEGV"),  # the C stack overflows
    ("unbounded_recursion", "exception", "RecursionError"),
    ("forbidden_import_dynamic", "forbidden-import", "scikit-learn"),  # importlib at call time
])
def test_a_call_that_ends_badly_fails_its_case_with_its_code(attack, name, code, words):
    report = attack(name)
    attack.first_case_only(report, code)
    assert words in report.tests[0].message, report.tests[0].message
    attack.host_untouched(report)


# --------------------------------------------------------------------------- files that are not Python


def test_a_non_utf8_file_is_rejected_by_nngrade_check(attack, nngrade_cli, tmp_path):
    path = tmp_path / "latin1.py"
    path.write_bytes("# r\xe9sum\xe9: ".encode("latin-1") + attack.source("infinite_loop").encode())
    done = nngrade_cli("check", "dense", str(path), "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["status"] == "rejected" and report["score"] == 0 and report["tests"] == []
    assert "not UTF-8" in report["message"] and "0xe9" in report["message"]
    attack.host_untouched(done.stdout + done.stderr)


def test_an_11_mb_source_file_is_rejected_without_running(attack, nngrade_cli, tmp_path):
    source = attack.source("detached_child") + ("# padding " + "x" * 90 + "\n") * 110_000
    assert len(source) > 11_000_000
    path = tmp_path / "huge.py"
    path.write_text(source)
    done = nngrade_cli("check", "dense", str(path), "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    cli_report = json.loads(done.stdout)
    assert cli_report["status"] == "rejected" and "largest accepted file is 1048576 bytes" in cli_report["message"]
    report = attack("detached_child", source=source)  # the grading path refuses it too
    assert report.status == "rejected" and report.tests == [] and report.isolation == []
    attack.host_untouched(report, done.stdout + done.stderr)


def test_notebook_shell_escapes_and_magics_are_dropped_never_run(attack):
    from service.submission_file import source_from_file

    notebook = attack.source("notebook_magics.ipynb")
    source = source_from_file("submission.ipynb", notebook.encode())
    assert "touch" not in source.replace("# nngrade: dropped", "")
    report = attack("notebook_magics.ipynb", source=source, filename="submission.ipynb")
    assert report.score == report.max_score  # the Python of every cell was kept
    for suffix in ("bang", "system", "bash", "getipython", "magic", "indented", "indented2"):
        assert not pathlib.Path(f"/tmp/nngrade-attack-{attack.host.token}-{suffix}").exists()
    attack.host_untouched(report)
