"""Shared fixtures: one per real component."""

from __future__ import annotations

import os

# Before NumPy is imported anywhere: one BLAS thread, as in the service and the sandbox.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "tests" / "graders" / "solutions"


@pytest.fixture
def exam_catalog(tmp_path_factory, monkeypatch):
    """The catalog with ``dense`` in exam mode (``feedback = "score"`` in its metadata)."""
    import shutil

    import exercises

    root = tmp_path_factory.mktemp("exam-catalog")
    for ex in exercises.ids():
        shutil.copytree(exercises.ROOT / ex, root / ex)
    meta = root / "dense" / "metadata.toml"
    meta.write_text(meta.read_text().replace('feedback = "hints"', 'feedback = "score"'))
    monkeypatch.setattr(exercises, "ROOT", root)
    exercises.get.cache_clear()
    yield root
    exercises.get.cache_clear()


@pytest.fixture(scope="session")
def runner():
    """The runner graders are tested through: the default grading path."""
    from service.grading import default_runner

    return default_runner()


@pytest.fixture(scope="session")
def grade_file(runner):
    """``grade_file(exercise, path, include_hidden=True, seed=None) -> Report`` through :func:`runner`,
    by the same path as ``nngrade check`` and the service's workers."""
    from service.grading import grade_file as grade_upload

    def _grade(exercise: str, path: pathlib.Path, include_hidden: bool = True, seed: int | None = None):
        path = pathlib.Path(path)
        return grade_upload(exercise, path.name, path.read_bytes(), include_hidden=include_hidden, seed=seed,
                            runner=runner)

    return _grade


@pytest.fixture(scope="session")
def nngrade_cli():
    """Run the installed ``nngrade`` command; returns the CompletedProcess."""

    def _run(*args: str, check: bool = False, cwd: pathlib.Path | None = None, env: dict | None = None,
             timeout: float = 300):
        return subprocess.run([sys.executable, "-m", "nngrade", *args], capture_output=True, text=True,
                              check=check, cwd=cwd, env=env, timeout=timeout)

    return _run


def report_json(completed) -> dict:
    return json.loads(completed.stdout)
