"""One grader per exercise (``graders/<exercise>.py``) and the shared framework (``graders/framework``)."""

from __future__ import annotations

import importlib

from .framework.case import Grader


def get_grader(exercise: str) -> Grader:
    """The grader of ``exercise`` (a module ``graders.<exercise>`` defining ``grader``)."""
    module = importlib.import_module(f"graders.{exercise}")
    return module.grader
