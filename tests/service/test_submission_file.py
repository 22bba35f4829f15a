"""Reading uploads: linear in the file's size, with a time budget (issue 11 section 2, issue 12 item 14)."""

from __future__ import annotations

import json

import pytest

from service.submission_file import UnreadableSubmission, source_from_file


def notebook(*cells: str) -> bytes:
    return json.dumps({"cells": [{"cell_type": "code", "source": c} for c in cells]}).encode()


def test_a_cell_of_520000_newlines_is_read_within_the_default_budget():
    # quadratic before (lines.pop(0) per blank line: 16.8 s), so the budget would have stopped it
    source = source_from_file("big.ipynb", notebook("\n" * 520_000 + "x = 1\n"), seconds=3.0)
    assert source.rstrip().endswith("x = 1")


def test_the_future_import_pattern_does_not_backtrack():
    line = "from __future__ import" + " " * 200_000 + "!"  # 14 s of regex backtracking before, per 40 KB
    assert line in source_from_file("nb.ipynb", notebook(line), seconds=3.0)
    moved = source_from_file("nb.ipynb", notebook("x = 1", "from __future__ import annotations"))
    assert moved.startswith("from __future__ import annotations\n")


def test_a_file_of_magics_grows_little_when_read():
    data = notebook("%x\n" * 100_000)
    assert len(source_from_file("m.ipynb", data)) < 2 * len(data)


def test_reading_stops_at_its_time_budget():
    with pytest.raises(UnreadableSubmission) as caught:
        source_from_file("m.ipynb", notebook(*["%x\n" * 10] * 2000), seconds=1e-9)
    assert caught.value.code == "too-complex" and "m.ipynb" in caught.value.message
