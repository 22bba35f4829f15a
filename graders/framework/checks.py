"""Small reusable checks.  Each raises :class:`Fail` with a student-facing message.

All checks run on the trusted side, on plain data that already crossed the proxy:
arrays here are exact ``numpy.ndarray`` objects, never student-defined types.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

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
        What to tell the student.
    diagnoses : sequence of str
        Diagnosis codes of the contract.
    fraction : float
        Share of the case's points still earned (partial credit), in [0, 1).
    """

    def __init__(self, message: str, diagnoses: Sequence[str] = (), *, fraction: float = 0.0):
        super().__init__(message)
        self.message = message
        self.diagnoses = list(dict.fromkeys(diagnoses))
        self.fraction = min(max(float(fraction), 0.0), 1.0)


def tolerance_for(dtype: np.dtype) -> tuple[float, float]:
    return TOLERANCES.get(np.dtype(dtype).name, TOLERANCES["float64"])


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


def expect_shape(actual: np.ndarray, shape: tuple[int, ...], name: str, meaning: str = "") -> None:
    if actual.shape != tuple(shape):
        means = f" = {meaning}" if meaning else ""
        raise Fail(f"{name} has shape {fmt_shape(actual.shape)}; expected {fmt_shape(tuple(shape))}{means}.",
                   ["wrong-shape"])


def expect_dtype(actual: np.ndarray, dtype: np.dtype, name: str) -> None:
    if actual.dtype != np.dtype(dtype):
        raise Fail(f"{name} has dtype {actual.dtype}; expected {np.dtype(dtype)} "
                   f"(keep the dtype of the inputs: do not convert to another precision).", ["wrong-dtype"])


def expect_finite(actual: np.ndarray, name: str) -> None:
    if actual.dtype.kind == "f" and not np.all(np.isfinite(actual)):
        bad = ~np.isfinite(actual)
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise Fail(f"{name} contains {int(bad.sum())} non-finite value(s) (nan or inf), the first at index "
                   f"{list(idx)}: {actual[idx]}.", ["not-finite"])


def close_mask(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Elementwise ``|a - e| <= atol * scale + rtol * |e|`` with ``scale = max(1, max |e|)``."""
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    scale = max(1.0, float(np.max(np.abs(e)))) if e.size else 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(a - e) <= atol * scale + rtol * np.abs(e)
    return ok | ((a == e) & np.isfinite(e))


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
    raise Fail(f"`{function}` modified its input(s) {', '.join(names)} in place. Functions must return new "
               f"arrays and leave their arguments unchanged (use `A = A + x`, not `A += x`, on inputs).",
               ["input-mutated"])
