"""The wheel built for students: no reference solutions in it, and a self-check that works without them.

Builds the wheel offline (``python -m build --wheel --no-isolation``), opens it, then installs
it into a fresh virtual environment with ``pip install --no-index --no-deps``.  The fresh
environment gets its dependencies (numpy, pydantic, typer …) from this environment's
site-packages as a plain path entry: the ``.pth`` files there — among them the editable
install of this checkout, which would bring ``reference`` back — are not processed for such
an entry, so nothing of the checkout is importable.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import exercises
from graders import get_grader

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(180)

WRONG = '''import numpy as np


def dense_forward(X, W, b):
    return X @ W.T + b


def dense_backward(X, W, dY):
    return dY @ W, X.T @ dY, dY.sum(axis=0)   # dW transposed
'''


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (path,) = out.glob("nngrade-*.whl")
    return path


@pytest.fixture(scope="module")
def names(wheel) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_the_wheel_holds_no_reference_solutions(wheel, names):
    assert not [n for n in names if n.split("/")[0] in ("reference", "reference.py", "tests")]
    with zipfile.ZipFile(wheel) as zf:
        record = next(n for n in names if n.endswith(".dist-info/RECORD"))
        assert "reference/" not in zf.read(record).decode()
        # No module may import the references directly: only the oracle looks them up, by name, at run time.
        for name in names:
            if name.endswith(".py"):
                text = zf.read(name).decode()
                assert not re.search(r"^\s*(from|import)\s+reference\b", text, re.M), name


def test_the_wheel_holds_every_exercise_and_grader(names):
    ids = exercises.ids()
    assert {"dense", "lora", "toeplitz", "attention"} <= set(ids)
    for ex in ids:
        for part in ("statement.md", "starter.py", "metadata.toml", "visible.npz"):
            assert f"exercises/{ex}/{part}" in names, f"{ex}/{part} missing from the wheel"
        assert f"graders/{ex}.py" in names
    for module in ("nngrade/__init__.py", "service/cli/__init__.py", "service/cli/selfcheck.py",
                   "service/grading.py", "graders/framework/plain.py", "graders/framework/execution.py"):
        assert module in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert entry_points


def test_the_wheel_requires_pytest_for_the_students_self_check(wheel, names):
    """`nngrade start` writes a pytest file: pytest comes with the package, not only with an extra."""
    import nngrade

    with zipfile.ZipFile(wheel) as zf:
        metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)
    assert any(re.match(r"pytest\b[^;-]*$", r) for r in requires), requires
    assert re.search(rf"^Version: {re.escape(nngrade.__version__)}$", metadata, re.M)


# --------------------------------------------------------------------------- installed in a fresh environment


def clean_env() -> dict[str, str]:
    """This environment minus anything that would put the checkout on sys.path."""
    return {k: v for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE") and not k.startswith("PYTEST")}


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("student-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                              "--no-index", "--no-deps", "--disable-pip-version-check", str(wheel)],
                             capture_output=True, text=True, timeout=120, env=clean_env())
    assert install.returncode == 0, install.stderr[-3000:]
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, env=clean_env()).stdout.strip()
    # The dependencies: this environment's site-packages as plain entries (their .pth files are not read).
    deps = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    Path(purelib, "zz_nngrade_test_dependencies.pth").write_text("\n".join(deps) + "\n")
    return root


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd,
                          env=clean_env(), timeout=120)


def test_the_installed_package_comes_from_the_wheel_and_has_no_references(venv, tmp_path):
    where = run(venv, "python", "-c", "import service, nngrade, graders; print(service.__file__, nngrade.__file__)",
                cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(ROOT) not in where.stdout and str(venv) in where.stdout
    missing = run(venv, "python", "-c", "import reference", cwd=tmp_path)
    assert missing.returncode == 1 and "No module named 'reference'" in missing.stderr
    oracle = run(venv, "python", "-c",
                 "from graders.framework.oracle import load_reference; print(load_reference('dense'))", cwd=tmp_path)
    assert oracle.stdout.strip() == "None", oracle.stderr


def test_check_all_says_the_references_are_not_installed(venv, tmp_path):
    solution = tmp_path / "dense.py"
    solution.write_text((ROOT / "reference" / "dense.py").read_text())
    result = run(venv, "nngrade", "check", "dense", str(solution), "--all", "--in-process", cwd=tmp_path)
    assert result.returncode == 2
    message = " ".join(result.stderr.split())
    assert "reference solutions are not installed" in message and "hidden cases" in message
    assert "Traceback" not in result.stderr


def test_check_grades_visible_cases_from_the_stored_outputs(venv, tmp_path):
    import json

    solution = tmp_path / "dense.py"
    solution.write_text((ROOT / "reference" / "dense.py").read_text())
    result = run(venv, "nngrade", "check", "dense", str(solution), "--json", "--in-process", cwd=tmp_path)
    report = json.loads(result.stdout)
    assert report["status"] == "graded" and not report["hidden_included"]
    assert [t["name"] for t in report["tests"]] == [c.name for c in get_grader("dense").cases if not c.hidden]
    failed = [t for t in report["tests"] if t["outcome"] != "pass"]
    assert all(t["diagnoses"] == ["too-slow"] for t in failed), failed  # wall time on a loaded machine only

    solution.write_text(WRONG)
    wrong = run(venv, "nngrade", "check", "dense", str(solution), "--json", "--in-process", cwd=tmp_path)
    assert wrong.returncode == 1 and "dW-transposed" in json.loads(wrong.stdout)["diagnoses"]


def test_show_and_start_work_from_the_wheel(venv, tmp_path):
    shown = run(venv, "nngrade", "show", "dense", "--raw", cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == exercises.get("dense").statement.strip()
    started = run(venv, "nngrade", "start", "dense", "work", cwd=tmp_path)
    assert started.returncode == 0
    assert (tmp_path / "work" / "dense.py").read_text() == exercises.get("dense").starter


def test_pytest_in_a_started_folder_grades_through_the_installed_wheel(venv, tmp_path):
    assert run(venv, "nngrade", "start", "dense", "work", cwd=tmp_path).returncode == 0
    (tmp_path / "work" / "dense.py").write_text(WRONG)
    result = run(venv, "python", "-m", "pytest", "-p", "no:cacheprovider", "work", cwd=tmp_path)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "dW-transposed" in result.stdout and "passed" in result.stdout and "rootdir: " + str(tmp_path / "work") \
        in result.stdout
