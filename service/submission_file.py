"""Turning an uploaded file into Python source: a ``.py`` file, or a notebook's code cells.

Notebook cells are read as data (JSON); IPython magics (``%…``, ``%%…`` cells), shell
escapes (``!…``, ``x = !…``) and ``get_ipython()`` calls are dropped, never executed.
Anything that is not a readable ``.py`` or ``.ipynb`` raises :class:`UnreadableSubmission`
with a message for the student.
"""

from __future__ import annotations

import json
import re

MAGIC_LINE = re.compile(r"^(\s*)(?:[!%]|[\w\s.,\[\]()*]+=\s*[!%]|.*\bget_ipython\s*\()")


class UnreadableSubmission(ValueError):
    """The file cannot be taken at all; ``code`` is stable for API clients."""

    def __init__(self, message: str, code: str = "unreadable-submission"):
        super().__init__(message)
        self.message = message
        self.code = code


def decode_source(data: bytes, filename: str = "submission.py") -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableSubmission(
            f"{filename} is not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            f"save it as UTF-8.", "not-utf8") from None
    if "\x00" in text:
        raise UnreadableSubmission(f"{filename} contains NUL bytes; it is not a Python source file.", "not-utf8")
    return text


def _strip_magics(cell: str) -> str:
    lines = cell.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        return "# nngrade: dropped a %%cell magic\n"
    out = []
    for line in lines:
        m = MAGIC_LINE.match(line)
        if m:
            out.append(f"{m.group(1)}pass  # nngrade: dropped an IPython magic or shell escape")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def notebook_source(data: bytes, filename: str = "submission.ipynb") -> str:
    """The code cells of a notebook, magics dropped, joined in order."""
    text = decode_source(data, filename)
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnreadableSubmission(f"{filename} is not a readable notebook: {str(exc)[:200]}",
                                   "unreadable-notebook") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise UnreadableSubmission(f"{filename} is not a Jupyter notebook (no 'cells' list).", "unreadable-notebook")
    parts = []
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise UnreadableSubmission(f"{filename}: code cell {i} has no readable source.", "unreadable-notebook")
        parts.append(f"# --- cell {i} ---\n" + _strip_magics(src))
    return "\n".join(parts)


def source_from_file(filename: str, data: bytes) -> str:
    """Source code of an uploaded ``.py`` or ``.ipynb`` file."""
    lower = filename.lower()
    if lower.endswith(".ipynb"):
        return notebook_source(data, filename)
    if lower.endswith(".py"):
        return decode_source(data, filename)
    raise UnreadableSubmission(f"{filename}: submit a .py file or a .ipynb notebook.", "unsupported-file-type")
