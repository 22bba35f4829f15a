"""Loading a submission and calling its functions: the student side of the proxy.

The same two functions run inside the sandbox (``service/sandbox/child.py``) and in the
in-process proxy, so a submission behaves identically under both.  Every failure is a
:class:`Fault` with a diagnosis code from the exercise contract; nothing here lets an
exception escape with a traceback.

This module imports only the standard library, NumPy and :mod:`plain` (by a relative
import that also works when the sandbox loads these files from a flat directory).
"""

from __future__ import annotations

import ast
import sys
import types
import warnings
from typing import Any

import numpy as np

try:  # inside the package
    from .plain import NotPlain, Rng, to_plain
except ImportError:  # inside the sandbox, where the framework files sit in one flat directory
    from plain import NotPlain, Rng, to_plain  # type: ignore[no-redef]

MAX_MESSAGE = 2000
MAX_WARNINGS = 20
#: Packages the course forbids by name, for a friendlier message; any other
#: non-standard-library import other than NumPy is forbidden too.
FRAMEWORKS = {
    "torch": "PyTorch",
    "tensorflow": "TensorFlow",
    "jax": "JAX",
    "jaxlib": "JAX",
    "sklearn": "scikit-learn",
    "keras": "Keras",
    "scipy": "SciPy",
    "autograd": "autograd",
    "cupy": "CuPy",
    "mxnet": "MXNet",
    "paddle": "PaddlePaddle",
}
ALLOWED_TOP_LEVEL = frozenset(sys.stdlib_module_names) | {"numpy"}


class Fault(Exception):
    """A submission's failure, tagged with a diagnosis code of the contract."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message[:MAX_MESSAGE]


def _cap(text: str, limit: int = MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 20] + f"… [{len(text) - limit + 20} more characters]"


def describe_exception(exc: BaseException, filename: str) -> str:
    """``"ValueError: shapes (3,2) and (3,2) not aligned (line 7, in dense_forward)"``."""
    try:
        text = str(exc)
    except BaseException:  # a student's exception class whose __str__ raises
        text = "<the exception could not be printed>"
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            where = f" (line {tb.tb_lineno}, in {tb.tb_frame.f_code.co_name})"
        tb = tb.tb_next
    name = type(exc).__qualname__[:80]
    return _cap(f"{name}: {_cap(text, 1500)}{where}" if text else f"{name}{where}")


def forbidden_import(module: str) -> Fault:
    top = module.split(".")[0]
    label = FRAMEWORKS.get(top)
    what = f"{label} ({top})" if label else top
    return Fault(
        "forbidden-import",
        f"Your code imports {what}. The exercises are written with NumPy and the Python standard "
        f"library only; nothing else is installed for submissions. Remove `import {module}`.",
    )


def check_imports(tree: ast.AST) -> None:
    """Raise ``forbidden-import`` for any import outside the standard library and NumPy."""
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name.split(".")[0] not in ALLOWED_TOP_LEVEL:
                raise forbidden_import(name)


def load_submission(source: str, filename: str = "submission.py") -> dict[str, Any]:
    """Compile and execute a submission as the module ``submission``.

    Returns
    -------
    dict
        The module's namespace.

    Raises
    ------
    Fault
        ``syntax-error``, ``forbidden-import``, ``memory-limit`` or ``exception`` (including
        ``sys.exit`` at import).
    """
    try:
        tree = ast.parse(source, filename)
        check_imports(tree)
        # Some errors only the compiler finds (a misplaced __future__ import, `return` outside a function).
        code = compile(tree, filename, "exec")
    except SyntaxError as exc:
        line = f"line {exc.lineno}: " if exc.lineno else ""
        text = (exc.text or "").strip()
        shown = f"\n    {_cap(text, 200)}" if text else ""
        raise Fault("syntax-error", f"Python cannot read your file: {line}{exc.msg}{shown}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise Fault("syntax-error", f"Python cannot read your file: {type(exc).__name__}: {_cap(str(exc), 300)}") from None
    module = types.ModuleType("submission")
    module.__file__ = filename
    sys.modules["submission"] = module
    try:
        exec(code, module.__dict__)
    except SystemExit:
        raise Fault("exception", "Your module called sys.exit() (or exit()) while it was being imported; "
                    "define the functions at module level and do not exit.") from None
    except ModuleNotFoundError as exc:
        name = exc.name or ""
        if name and name.split(".")[0] not in ALLOWED_TOP_LEVEL:
            raise forbidden_import(name) from None
        raise Fault("exception", "Importing your module failed: " + describe_exception(exc, filename)) from None
    except MemoryError:
        raise Fault("memory-limit", "Your module ran out of memory while it was being imported.") from None
    except BaseException as exc:
        raise Fault("exception", "Importing your module failed: " + describe_exception(exc, filename)) from None
    return module.__dict__


# --------------------------------------------------------------------------- calls


def materialize(value: Any, *, copy: bool = False) -> Any:
    """Turn :class:`Rng` leaves into generators; with ``copy``, arrays into private copies."""
    t = type(value)
    if t is Rng:
        return value.make()
    if t in (tuple, list):
        return t(materialize(v, copy=copy) for v in value)
    if t is dict:
        return {k: materialize(v, copy=copy) for k, v in value.items()}
    if copy and t is np.ndarray:
        return value.copy()
    return value


def _snapshot(value: Any) -> Any:
    t = type(value)
    if t is np.ndarray:
        return value.copy()
    if t in (tuple, list):
        return t(_snapshot(v) for v in value)
    if t is dict:
        return {k: _snapshot(v) for k, v in value.items()}
    return value


def _same(before: Any, after: Any) -> bool:
    """Exact-type comparison of a snapshot with the argument after the call."""
    if type(before) is not type(after):
        return False
    if type(before) is np.ndarray:
        return (
            before.shape == after.shape
            and before.dtype == after.dtype
            and bool(np.array_equal(before, after, equal_nan=before.dtype.kind == "f"))
        )
    if type(before) in (tuple, list):
        return len(before) == len(after) and all(_same(b, a) for b, a in zip(before, after))
    if type(before) is dict:
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    if type(before) is np.random.Generator or type(before) is Rng:
        return True
    return before == after if type(before) in (bool, int, float, type(None), str) else True


def invoke(namespace: dict[str, Any], function: str, args: tuple, kwargs: dict[str, Any],
           *, filename: str = "submission.py", copy_result: bool = True) -> dict[str, Any]:
    """Call ``namespace[function](*args, **kwargs)`` and describe what happened.

    ``copy_result=False`` (the sandbox, which encodes the value at once) lets already-plain
    arrays through uncopied; in-process, results are always copied away from student objects.

    Returns
    -------
    dict
        ``{"value": plain, "mutated": [argument labels], "warnings": [text]}`` on success,
        ``{"fault": [code, message], "warnings": [...]}`` otherwise.  Argument labels are
        positions (``"0"``, ``"1"``) or keyword names, with a key for dict items
        (``"0['W1']"``).
    """
    fn = namespace.get(function)
    if fn is None or not callable(fn):
        what = "is not defined" if fn is None else "is not a function"
        return {"fault": ["missing-function",
                          f"`{function}` {what} in your file. Define it at module level with the "
                          f"signature given in the statement."], "warnings": []}
    call_args = tuple(materialize(a) for a in args)
    call_kwargs = {k: materialize(v) for k, v in kwargs.items()}
    before_args = _snapshot(call_args)
    before_kwargs = _snapshot(call_kwargs)
    caught: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        try:
            with np.errstate(all="warn"):
                result = fn(*call_args, **call_kwargs)
        except SystemExit:
            return {"fault": ["exception", f"`{function}` called sys.exit(); return a value instead."],
                    "warnings": []}
        except MemoryError:
            return {"fault": ["memory-limit", f"`{function}` ran out of memory."], "warnings": []}
        except RecursionError as exc:
            return {"fault": ["exception", describe_exception(exc, filename)], "warnings": []}
        except ModuleNotFoundError as exc:  # an import by name at call time, out of check_imports' sight
            if exc.name and exc.name.split(".")[0] not in ALLOWED_TOP_LEVEL:
                fault = forbidden_import(exc.name)
                return {"fault": [fault.code, fault.message], "warnings": []}
            return {"fault": ["exception", describe_exception(exc, filename)], "warnings": []}
        except BaseException as exc:
            return {"fault": ["exception", describe_exception(exc, filename)], "warnings": []}
        for rec in records[:MAX_WARNINGS]:
            try:
                caught.append(_cap(f"{rec.category.__name__}: {rec.message}", 300))
            except BaseException:
                caught.append("Warning: <unprintable>")
    mutated = [str(i) for i, (b, a) in enumerate(zip(before_args, call_args)) if not _same(b, a)]
    mutated += [k for k in before_kwargs if not _same(before_kwargs[k], call_kwargs.get(k))]
    try:
        value = to_plain(result, where=f"the value returned by `{function}`", copy=copy_result)
    except NotPlain as exc:
        return {"fault": ["bad-return-type", str(exc)], "warnings": caught}
    except MemoryError:
        return {"fault": ["memory-limit", f"`{function}` returned more data than fits in memory."],
                "warnings": caught}
    return {"value": value, "mutated": mutated, "warnings": caught}
