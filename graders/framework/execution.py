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
import linecache
import re
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
    # The source by its file name, so a fault can quote the line it happened on.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
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


def _layout(value: Any) -> Any:
    """What a call could change about an argument without writing array data: which objects
    the containers hold, and each array's shape and dtype.  Holds references, copies nothing."""
    t = type(value)
    if t is np.ndarray:
        return (value, value.shape, value.dtype)
    if t is tuple or t is list:
        return (value, [_layout(v) for v in value])
    if t is dict:
        return (value, {k: _layout(v) for k, v in value.items()})
    return (value,)


def _unchanged(layout: Any, value: Any) -> bool:
    if layout[0] is not value:
        return False
    t = type(value)
    if t is np.ndarray:
        return value.shape == layout[1] and value.dtype == layout[2]
    if t is tuple or t is list:
        return len(value) == len(layout[1]) and all(_unchanged(a, v) for a, v in zip(layout[1], value))
    if t is dict:
        return value.keys() == layout[1].keys() and all(_unchanged(layout[1][k], value[k]) for k in value)
    return True


def _arrays(value: Any, label: str, out: list[tuple[str, np.ndarray]]) -> list[tuple[str, np.ndarray]]:
    t = type(value)
    if t is np.ndarray:
        out.append((label, value))
    elif t is tuple or t is list:
        for v in value:
            _arrays(v, label, out)
    elif t is dict:
        for v in value.values():
            _arrays(v, label, out)
    return out


#: What NumPy says when code writes into a read-only array (``X[0] = 1``, ``X += 1``,
#: ``np.add(a, b, out=X)``, ``X.sort()``, ``X.setflags(write=True)`` ...).
_READ_ONLY = re.compile(r"read-only|WRITEABLE flag")
_NAME = re.compile(r"[^\W\d]\w*")
_WRITERS = frozenset({"copyto", "put", "place", "putmask", "fill_diagonal", "shuffle"})


def _written_names(line: str) -> set[str]:
    """Names a statement writes into: assignment targets, ``out=`` and writing calls' first argument."""
    try:
        tree = ast.parse(line.strip())
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()

    def base(node: ast.AST) -> None:
        while isinstance(node, (ast.Subscript, ast.Attribute)):
            node = node.value
        if isinstance(node, ast.Name):
            names.add(node.id)

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for target in getattr(node, "targets", None) or [node.target]:
                if isinstance(target, (ast.Subscript, ast.Attribute)) or isinstance(node, ast.AugAssign):
                    base(target)
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "out":
                    base(kw.value)
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _WRITERS and node.args:
                base(node.args[0])
            elif isinstance(func, ast.Attribute):
                base(func.value)  # X.fill(0), X.sort(), X.setflags(write=True)
    return names


def _refused_write(exc: BaseException, function: str, fn: Any, args: tuple, kwargs: dict) -> dict | None:
    """``input-mutated`` if ``exc`` is NumPy refusing a write into one of the (read-only) inputs.

    The input is found from the traceback: the innermost frame of the submission, its line,
    and the arrays named on that line that share memory with an argument.  None if the
    refused write was into some other read-only array (then it is an ordinary exception).
    """
    if type(exc) is not ValueError or not _READ_ONLY.search(str(exc)):
        return None
    frame, lineno = None, 0
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") not in (__name__, "numpy") and \
                not str(tb.tb_frame.f_globals.get("__name__")).startswith("numpy."):
            frame, lineno = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    del tb
    if frame is None:
        return None
    line = linecache.getline(frame.f_code.co_filename, lineno).strip()
    inputs = []
    for i, a in enumerate(args):
        _arrays(a, str(i), inputs)
    for k, v in kwargs.items():
        _arrays(v, k, inputs)
    local = frame.f_locals
    del frame
    on_line = [n for n in dict.fromkeys(_NAME.findall(line)) if type(local.get(n)) is np.ndarray]
    written = _written_names(line)
    hits: dict[str, str] = {}
    for names in ([n for n in on_line if n in written], on_line):
        for name in names:
            for label, arr in inputs:
                if label not in hits and np.may_share_memory(local[name], arr):
                    hits[label] = name
        if hits:
            break
    if not hits:
        return None
    params = getattr(getattr(fn, "__code__", None), "co_varnames", ())
    said = []
    for label, name in hits.items():
        param = params[int(label)] if label.isdecimal() and int(label) < len(params) else label
        what = f"`{param}`" if type(param) is str else f"argument {int(label) + 1}"
        said.append(what + (f" (through `{name}`)" if name != param else ""))
    return {"fault": ["input-mutated",
                      _cap(f"`{function}` tried to change its input {', '.join(said)} in place"
                           + (f" (line {lineno}: `{_cap(line, 200)}`)" if line else "")
                           + ". Inputs are read-only: functions must return new arrays and leave their "
                             "arguments unchanged (write `A = A + x`, not `A += x`; copy with `A = A.copy()` "
                             "before changing A in place).")],
            "warnings": []}


def invoke(namespace: dict[str, Any], function: str, args: tuple, kwargs: dict[str, Any],
           *, filename: str = "submission.py", copy_result: bool = True) -> dict[str, Any]:
    """Call ``namespace[function](*args, **kwargs)`` and describe what happened.

    The arrays in ``args`` and ``kwargs`` must be read-only (``plain.decode(...,
    readonly=True)``, as every runner gives them): a write into one is refused by NumPy and
    reported as ``input-mutated``.  Replacing the items of a list or dict argument, or the
    shape of an array, is found by comparing the arguments' layout before and after.

    ``copy_result=False`` (the sandbox, which encodes the value at once) lets already-plain
    arrays through uncopied; in-process, results are always copied away from student objects.

    Returns
    -------
    dict
        ``{"value": plain, "mutated": [argument labels], "warnings": [text]}`` on success,
        ``{"fault": [code, message], "warnings": [...]}`` otherwise.  Argument labels are
        positions (``"0"``, ``"1"``) or keyword names.

    Raises
    ------
    TypeError
        If an argument array is writable (a caller's bug: the check would be blind).
    """
    fn = namespace.get(function)
    if fn is None or not callable(fn):
        what = "is not defined" if fn is None else "is not a function"
        return {"fault": ["missing-function",
                          f"`{function}` {what} in your file. Define it at module level with the "
                          f"signature given in the statement."], "warnings": []}
    call_args = tuple(materialize(a) for a in args)
    call_kwargs = {k: materialize(v) for k, v in kwargs.items()}
    if any(a.flags.writeable for _, a in _arrays(call_args, "", []) + _arrays(call_kwargs, "", [])):
        raise TypeError("invoke() needs read-only argument arrays (plain.decode(..., readonly=True))")
    before_args = [_layout(a) for a in call_args]
    before_kwargs = {k: _layout(v) for k, v in call_kwargs.items()}
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
            try:
                refused = _refused_write(exc, function, fn, call_args, call_kwargs)
            except Exception:  # the submission broke what the search relies on: an ordinary exception
                refused = None
            return refused or {"fault": ["exception", describe_exception(exc, filename)], "warnings": []}
        for rec in records[:MAX_WARNINGS]:
            try:
                caught.append(_cap(f"{rec.category.__name__}: {rec.message}", 300))
            except BaseException:
                caught.append("Warning: <unprintable>")
    mutated = [str(i) for i, (b, a) in enumerate(zip(before_args, call_args)) if not _unchanged(b, a)]
    mutated += [k for k in before_kwargs if k not in call_kwargs or not _unchanged(before_kwargs[k], call_kwargs[k])]
    try:
        value = to_plain(result, where=f"the value returned by `{function}`", copy=copy_result)
    except NotPlain as exc:
        return {"fault": ["bad-return-type", str(exc)], "warnings": caught}
    except MemoryError:
        return {"fault": ["memory-limit", f"`{function}` returned more data than fits in memory."],
                "warnings": caught}
    return {"value": value, "mutated": mutated, "warnings": caught}
