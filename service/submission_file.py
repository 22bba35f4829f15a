"""Turning an uploaded file into Python source: a ``.py`` file, or a notebook's code cells.

Notebook cells are read as data (JSON); IPython magics (``%…``, ``%%…`` cells), shell
escapes (``!…``, ``x = !…``), help (``np.dot?``) and ``get_ipython()`` calls are dropped,
never executed (the bodies of ``%%time`` and ``%%capture`` cells are Python and kept).
A ``.py`` file exported from a notebook has its ``get_ipython()`` statements dropped too.
Anything that is not a readable ``.py`` or ``.ipynb`` raises :class:`UnreadableSubmission`
with a message for the student.

Reading is linear in the size of the file (every pattern below is free of nested
repetition, and no step rescans what it has read), and it has a time budget
(``seconds``): a file that would take longer raises :class:`UnreadableSubmission` with the
code ``too-complex`` instead of holding the caller.  The uploaded bytes are what size
limits measure; the source this module returns may be longer (each dropped magic becomes
a ``pass`` stub).
"""

from __future__ import annotations

import json
import re
import time

#: IPython syntax at the start of a logical line: shell escapes, magics, help, and the
#: ``get_ipython()`` calls ``jupyter nbconvert --to script`` writes for them.
MAGIC_LINE = re.compile(
    r"^(\s*)(?![\s#])(?:"
    r"[!%?]"                          # !ls, %time f(), ?np.dot
    r"|[\w.,\[\]()*][\w\s.,\[\]()*]*=\s*[!%]"  # files = !ls, t = %timeit -o f()
    r"|[\w.\[\]()]+\?\??\s*$"         # np.dot? and np.dot??
    r"|.*\bget_ipython\s*\("          # get_ipython().system('ls')
    r")"
)
#: ``%time STATEMENT`` runs the statement in the notebook's namespace: it is kept.
TIME_LINE = re.compile(r"^(\s*)%time\s+(\S.*)$")
# ``import\b`` then one character class: no two repetitions can share a character, so a
# long line that fails (``from __future__ import`` + 40,000 spaces + ``!``) fails in linear time.
FUTURE_LINE = re.compile(r"^from\s+__future__\s+import\b[\w\s,()]*$")
#: Cell magics whose body is Python that IPython runs in the notebook's own namespace.
PYTHON_CELL_MAGICS = frozenset({"time", "capture"})
#: Default time budget of reading one file, in seconds (the service passes its own setting).
PARSE_SECONDS = 5.0
#: How many lines are read between two looks at the clock.
CLOCK_EVERY = 512


class UnreadableSubmission(ValueError):
    """The file cannot be taken at all; ``code`` is stable for API clients."""

    def __init__(self, message: str, code: str = "unreadable-submission"):
        super().__init__(message)
        self.message = message
        self.code = code


class _Budget:
    """The time left for reading one file; :meth:`tick` raises once it is spent."""

    def __init__(self, filename: str, seconds: float | None) -> None:
        self.filename = filename
        self.seconds = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self._lines = 0

    def tick(self) -> None:
        """Called once per line (or cell): looks at the clock every :data:`CLOCK_EVERY` calls."""
        self._lines += 1
        if self._lines >= CLOCK_EVERY:
            self._lines = 0
            self.check()

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise UnreadableSubmission(
                f"{self.filename} took longer than {self.seconds:g} s to read (the limit for one file); "
                f"submit a smaller file, or a notebook with fewer and shorter cells.", "too-complex")


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


class _LineScanner:
    """Just enough of Python's tokenizer to tell where a logical line starts.

    Magics and shell escapes are IPython syntax only at the start of a logical line; inside
    brackets, strings or after a backslash, ``!=`` or ``% 3`` is ordinary Python.  Linear
    in the length of the cell.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None
        self.backslash = False

    @property
    def at_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.backslash

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.backslash = False
        while i < n:
            c = line[i]
            if self.quote is not None:
                if c == "\\":
                    i += 2
                elif line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                else:
                    i += 1
                continue
            if c == "#":
                break
            if c in "\"'":
                self.quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else c
                i += len(self.quote)
                continue
            if c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            elif c == "\\" and i == n - 1:
                self.backslash = True
            i += 1
        if self.quote in ("'", '"') and not line.endswith("\\"):
            self.quote = None  # a one-line string ends with its line


def _drop_magic_lines(lines: list[str], budget: _Budget, *, python_only: bool = False,
                      futures: list[str] | None = None) -> list[str]:
    """Replace magic lines (whole logical lines) by ``pass``; ``python_only``: only ``get_ipython()`` ones.

    With ``futures``, top-level ``from __future__ import …`` lines are moved there (a notebook
    may have them in any cell; a file only at its top).
    """
    scanner = _LineScanner()
    out: list[str] = []
    continuing = False  # inside a dropped get_ipython(...) statement that spans lines
    dropped = 0
    for line in lines:
        budget.tick()
        if continuing:
            scanner.feed(line)
            continuing = not scanner.at_start
            out.append("")
            continue
        if futures is not None and scanner.at_start and FUTURE_LINE.match(line):
            futures.append(line.strip())
            out.append("pass  # nngrade: moved this __future__ import to the top")
            continue
        m = MAGIC_LINE.match(line) if scanner.at_start else None
        timed = TIME_LINE.match(line) if m is not None and not python_only else None
        if timed is not None:
            line = timed.group(1) + timed.group(2)
            m = None
        is_python = m is not None and "get_ipython" in line and re.match(r"\s*[!%?]", line) is None
        if m is None or (python_only and not is_python):
            scanner.feed(line)
            out.append(line)
            continue
        # A dropped line that opened a block (``if get_ipython() is not None:``) keeps its block dead.
        stub = "if False:" if is_python and line.rstrip().endswith(":") else "pass"
        # Only the first stub says why: a file of a million magics must not grow to 29 times its size.
        note = "" if dropped else "  # nngrade: dropped an IPython magic or shell escape"
        dropped += 1
        out.append(f"{m.group(1)}{stub}{note}")
        if is_python:
            scanner.feed(line)
            continuing = not scanner.at_start
    return out


def _strip_magics(cell: str, futures: list[str], budget: _Budget) -> str:
    """A notebook cell as plain Python: cell magics, line magics and shell escapes dropped."""
    lines = cell.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    lines = lines[first:]  # IPython ignores leading blank lines ...
    if lines and lines[0][:1] in " \t":  # ... and the indentation of the first line
        indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
        lines = [line[len(indent):] if line.startswith(indent) else line for line in lines]
    if lines and lines[0].startswith("%%"):
        words = lines[0][2:].split()
        name = words[0] if words else ""
        if name not in PYTHON_CELL_MAGICS:
            return f"# nngrade: dropped a %%{name[:40]} cell\n"
        lines = [f"pass  # nngrade: ran the body of %%{name} as Python"] + lines[1:]
    return "\n".join(_drop_magic_lines(lines, budget, futures=futures)) + "\n"


def notebook_source(data: bytes, filename: str = "submission.ipynb", *, seconds: float | None = PARSE_SECONDS) -> str:
    """The code cells of a notebook, magics dropped, joined in order (``seconds``: the time budget)."""
    budget = _Budget(filename, seconds)
    text = decode_source(data, filename)
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UnreadableSubmission(f"{filename} is not a readable notebook: {str(exc)[:200]}",
                                   "unreadable-notebook") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise UnreadableSubmission(f"{filename} is not a Jupyter notebook (no 'cells' list).", "unreadable-notebook")
    parts: list[str] = []
    futures: list[str] = []
    for i, cell in enumerate(cells):
        budget.tick()
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(s, str) for s in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise UnreadableSubmission(f"{filename}: code cell {i} has no readable source.", "unreadable-notebook")
        parts.append(f"# --- cell {i} ---\n" + _strip_magics(src, futures, budget))
    return "".join(f + "\n" for f in dict.fromkeys(futures)) + "\n".join(parts)


def source_from_file(filename: str, data: bytes, *, seconds: float | None = PARSE_SECONDS) -> str:
    """Source code of an uploaded ``.py`` or ``.ipynb`` file, read within ``seconds`` (None: no budget)."""
    lower = filename.lower()
    if lower.endswith(".ipynb"):
        return notebook_source(data, filename, seconds=seconds)
    if lower.endswith(".py"):
        # A notebook exported with `jupyter nbconvert --to script` calls get_ipython() for its magics.
        text = decode_source(data, filename)
        if "get_ipython" not in text:
            return text
        return "\n".join(_drop_magic_lines(text.splitlines(), _Budget(filename, seconds), python_only=True)) + "\n"
    raise UnreadableSubmission(f"{filename}: submit a .py file or a .ipynb notebook.", "unsupported-file-type")
