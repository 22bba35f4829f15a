"""Small reusable checks.  Each raises :class:`Fail` with a student-facing message.

All checks run on the trusted side, on plain data that already crossed the proxy:
arrays here are exact ``numpy.ndarray`` objects, never student-defined types.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import codes

#: (rtol, atol) per dtype. ``atol`` is relative to the largest expected magnitude, so a
#: different but valid summation order passes while a wrong formula does not.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float64": (1e-7, 1e-9),
    "float32": (2e-4, 2e-5),
    "float16": (2e-2, 2e-3),
}


class Fail(Exception):
    """A case did not pass.

    Parameters
    ----------
    message : str
        What went wrong, in a student's words: the failing property and the mistakes named.
        No hint and no diagnosis code in the text: codes go in ``diagnoses``, hints in ``hints``.
    diagnoses : sequence of str
        Diagnosis codes of the registry (:mod:`graders.framework.codes`).
    fraction : float
        Share of the case's points still earned (partial credit), in [0, 1).
    hints : sequence of str
        Where to look, each pointing at an idea and the statement's section.  The report
        shows each distinct hint once (:mod:`graders.framework.feedback`).
    """

    def __init__(self, message: str, diagnoses: Sequence[str] = (), *, fraction: float = 0.0,
                 hints: Sequence[str] = ()):
        super().__init__(message)
        self.message = message
        self.diagnoses = list(dict.fromkeys(diagnoses))
        for code in self.diagnoses:
            codes.get(code)  # an unknown code is a bug in the grader: it fails loudly
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.hints = list(dict.fromkeys(h for h in hints if h))

    @classmethod
    def joined(cls, fails: Sequence["Fail"], *, fraction: float = 0.0, hints: Sequence[str] = ()) -> "Fail":
        """One failure that says everything ``fails`` say (in order, nothing twice)."""
        lines = list(dict.fromkeys(line for f in fails for line in f.message.splitlines() if line))
        return cls("\n".join(lines), [c for f in fails for c in f.diagnoses], fraction=fraction,
                   hints=[h for f in fails for h in f.hints] + list(hints))


class Problems:
    """The failures of one case, collected so that one does not hide the next.

    ``with problems.check(): C.expect_...(...)`` records a :class:`Fail` instead of
    raising it; :meth:`raise_if_any` raises them all as one.
    """

    def __init__(self) -> None:
        self.fails: list[Fail] = []

    def __bool__(self) -> bool:
        return bool(self.fails)

    def add(self, fail: Fail) -> None:
        self.fails.append(fail)

    @property
    def diagnoses(self) -> list[str]:
        return list(dict.fromkeys(c for f in self.fails for c in f.diagnoses))

    def check(self) -> "_Recorder":
        return _Recorder(self)

    def raise_if_any(self, *, fraction: float | None = None, hints: Sequence[str] = ()) -> None:
        """Raise one :class:`Fail` of everything recorded; ``fraction`` defaults to the first
        failure's (a case of several calls scores as if it had stopped at the first failing one)."""
        if self.fails:
            fraction = self.fails[0].fraction if fraction is None else fraction
            raise Fail.joined(self.fails, fraction=fraction, hints=hints)


class _Recorder:
    def __init__(self, problems: Problems):
        self.problems = problems
        self.failed = False

    def __enter__(self) -> "_Recorder":
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        if isinstance(value, Fail):
            self.problems.add(value)
            self.failed = True
            return True
        return False


def tolerance_for(dtype: np.dtype) -> tuple[float, float]:
    return TOLERANCES.get(np.dtype(dtype).name, TOLERANCES["float64"])


def comparison_dtype(expected: np.dtype, actual: np.dtype) -> np.dtype:
    """The dtype whose tolerance compares ``actual`` with ``expected``: the coarser of the two
    float dtypes (a float32 result of float64 inputs is judged at float32 precision, and
    its wrong dtype is reported on its own)."""
    candidates = [np.dtype(d) for d in (expected, actual) if np.dtype(d).name in TOLERANCES]
    return max(candidates, key=lambda d: tolerance_for(d)[0]) if candidates else np.dtype(np.float64)


def fmt_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def describe_type(value: Any) -> str:
    if type(value) is np.ndarray:
        return f"an array of shape {fmt_shape(value.shape)}"
    if type(value) in (tuple, list):
        return f"a {type(value).__name__} of length {len(value)}"
    if value is None:
        return "None"
    return f"a {type(value).__name__}"


def _holds_none(value: Any) -> bool:
    if value is None:
        return True
    return type(value) in (list, tuple) and any(_holds_none(v) for v in value)


def as_array(value: Any, name: str, *, allow_list: bool = True) -> np.ndarray:
    """Accept an array, or (where the contract allows) a list/number converted to one."""
    if type(value) is np.ndarray:
        return value
    if allow_list and type(value) in (list, tuple, int, float, bool):
        try:
            if _holds_none(value):  # NumPy would silently turn None into nan
                raise ValueError("None in a list")
            arr = np.asarray(value, dtype=np.float64)
        except (ValueError, TypeError):
            raise Fail(f"{name} should be a numpy array; got {describe_type(value)} that is not a "
                       f"rectangular list of numbers.", ["bad-return-type"]) from None
        return arr
    raise Fail(f"{name} should be a numpy array; got {describe_type(value)}.", ["bad-return-type"])


def as_number(value: Any, name: str) -> float:
    """Accept a Python number or a 0-d (or single-element) array as a float."""
    if type(value) in (int, float, bool):
        return float(value)
    if type(value) is np.ndarray and value.size == 1 and value.dtype.kind in "biuf":
        return float(value.reshape(()))
    raise Fail(f"{name} should be a single number (a float); got {describe_type(value)}.", ["bad-return-type"])


def as_tuple(value: Any, names: Sequence[str], function: str) -> tuple:
    """Unpack a returned tuple (a list is accepted) of exactly ``len(names)`` items."""
    n = len(names)
    if type(value) in (tuple, list) and len(value) == n:
        return tuple(value)
    raise Fail(f"`{function}` should return a tuple of {n} items ({', '.join(names)}); "
               f"it returned {describe_type(value)}.", ["bad-return-type"])


def as_dict(value: Any, keys: Sequence[str], name: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise Fail(f"{name} should be a dict with keys {', '.join(keys)}; got {describe_type(value)}.",
                   ["bad-return-type"])
    missing = [k for k in keys if k not in value]
    if missing:
        raise Fail(f"{name} is missing the key(s) {', '.join(missing)}.", ["bad-return-type"])
    return value


SQUEEZE_HINT = ("keep exactly the axes of the shapes in the statement, even those of length 1: no extra axis "
                "kept from a sum or a column vector, none squeezed away (statement, 'Conventions').")
DTYPE_HINT = ("new arrays take their dtype from the inputs (np.zeros_like, or dtype=X.dtype); a fixed dtype "
              "changes the precision (statement, 'Conventions').")


def only_unit_axes_differ(actual: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """True if the shapes differ, but only by axes of length 1 (``(1, n)`` for ``(n,)``, ``(n,)`` for ``(n, 1)``)."""
    return tuple(actual) != tuple(shape) and [d for d in actual if d != 1] == [d for d in shape if d != 1]


def expect_shape(actual: np.ndarray, shape: tuple[int, ...], name: str, meaning: str = "") -> None:
    if actual.shape != tuple(shape):
        means = f" = {meaning}" if meaning else ""
        hints = [SQUEEZE_HINT] if only_unit_axes_differ(actual.shape, tuple(shape)) else []
        raise Fail(f"{name} has shape {fmt_shape(actual.shape)}; expected {fmt_shape(tuple(shape))}{means}.",
                   ["wrong-shape"], hints=hints)


def expect_dtype(actual: np.ndarray, dtype: np.dtype, name: str) -> None:
    if actual.dtype != np.dtype(dtype):
        raise Fail(f"{name} has dtype {actual.dtype}; expected {np.dtype(dtype)}, the dtype of the inputs.",
                   ["wrong-dtype"], hints=[DTYPE_HINT])


def conform(actual: np.ndarray, shape: tuple[int, ...], dtype: np.dtype | None, name: str, meaning: str = "",
            problems: "Problems | None" = None) -> np.ndarray | None:
    """``actual`` checked for shape and dtype, and converted where its values can still be compared.

    A wrong shape that differs only by axes of length 1 is reshaped to ``shape``; a wrong
    real dtype is converted to ``dtype``.  Each such problem is recorded in ``problems``
    (the case still fails), so that the value checks and mistake detectors that follow run
    on the converted array and a mistake behind a wrong shape or dtype is still named.

    Returns
    -------
    ndarray or None
        The array to compare (``shape``, ``dtype``), or None if the values cannot be compared.
    """
    problems = problems if problems is not None else Problems()
    value: np.ndarray | None = actual
    with problems.check():
        expect_shape(actual, shape, name, meaning)
    if actual.shape != tuple(shape):
        value = actual.reshape(shape) if only_unit_axes_differ(actual.shape, tuple(shape)) else None
    if dtype is not None:
        with problems.check():
            expect_dtype(actual, dtype, name)
        if actual.dtype != np.dtype(dtype) and value is not None:
            value = value.astype(dtype) if actual.dtype.kind in "biuf" else None
    return value


def expect_finite(actual: np.ndarray, name: str) -> None:
    if actual.dtype.kind == "f" and not np.all(np.isfinite(actual)):
        bad = ~np.isfinite(actual)
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Fail(f"{name} contains {int(bad.sum())} non-finite value(s) (nan or inf), the first at index "
                   f"{list(idx)}: {actual[idx]}.", ["not-finite"])


def close_mask(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Elementwise ``|a - e| <= atol * scale + rtol * |e|`` with ``scale = max(1, max |e|)``."""
    a = actual.astype(np.float64, copy=False)  # neither is written to: no copy of float64 arrays
    e = expected.astype(np.float64, copy=False)
    abs_e = np.abs(e)
    scale = max(1.0, float(np.max(abs_e))) if e.size else 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(a - e) <= atol * scale + rtol * abs_e
    if not ok.all():  # equal infinities, which the difference above makes nan
        ok = ok | ((a == e) & np.isfinite(e))
    return ok


def is_close(actual: np.ndarray, expected: np.ndarray, dtype: np.dtype | None = None) -> bool:
    """Same shape and all entries within the tolerance of ``dtype`` (default: expected's)."""
    if type(actual) is not np.ndarray or type(expected) is not np.ndarray or actual.shape != expected.shape:
        return False
    rtol, atol = tolerance_for(dtype if dtype is not None else expected.dtype)
    return bool(np.all(close_mask(actual, expected, rtol, atol)))


def expect_close(actual: np.ndarray, expected: np.ndarray, name: str, *, hidden: bool,
                 rtol: float | None = None, atol: float | None = None) -> None:
    """Compare values; report the worst element, and for visible cases its expected value."""
    d_rtol, d_atol = tolerance_for(expected.dtype)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    ok = close_mask(actual, expected, rtol, atol)
    if ok.all():
        return
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(ok, 0.0, np.abs(a - e))
    err = np.nan_to_num(err, nan=np.inf)
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape)) if err.ndim else ()
    where = f"{name}{list(idx)}" if idx else name
    nbad = int((~ok).sum())
    if hidden:
        raise Fail(f"{nbad} of {ok.size} entries of {name} are wrong; the largest error is at {where}, "
                   f"where your value is {a[idx]:.6g}.")
    raise Fail(f"{nbad} of {ok.size} entries of {name} are wrong; the worst is {where} = {a[idx]:.6g}, "
               f"expected {e[idx]:.6g} (difference {err[idx]:.3g}).")


def expect_unchanged(mutated: Sequence[str], labels: Sequence[str], function: str) -> None:
    """``mutated`` holds argument positions/keywords reported by the proxy."""
    if not mutated:
        return
    names = []
    for m in mutated:
        names.append(labels[int(m)] if m.isdigit() and int(m) < len(labels) else m)
    raise Fail(f"`{function}` modified its input(s) {', '.join(names)} in place.", ["input-mutated"],
               hints=["a function returns new arrays and leaves its arguments as they were: an in-place operation "
                      "(+=, out=, a slice assignment) on an argument changes the caller's array (statement, "
                      "'Conventions')."])
