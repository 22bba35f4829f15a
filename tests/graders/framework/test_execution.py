"""Loading a submission and calling it: every failure is a fault with a contract code.

The first part drives :mod:`graders.framework.execution` directly (the code that runs on the
student's side under every runner); the second goes through the default runner
(``runner`` fixture), as the graders do.
"""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from graders.framework.execution import Fault, invoke, load_submission
from graders.framework.plain import Rng, frozen
from graders.framework.proxy import Limits, StudentFault

OK = "import numpy as np\n\ndef f(X):\n    return X * 2\n"


def load(source: str) -> dict:
    return load_submission(textwrap.dedent(source), "sub.py")


def fault_of(source: str) -> Fault:
    with pytest.raises(Fault) as info:
        load(source)
    return info.value


# --------------------------------------------------------------------------- loading


def test_syntax_error_names_the_line():
    fault = fault_of("import numpy as np\n\ndef f(X):\n    return (X\n")
    assert fault.code == "syntax-error"
    assert "line 4" in fault.message and "Python cannot read your file" in fault.message


@pytest.mark.parametrize("source", [
    "x = 1\x00\n",                                  # NUL byte
    "x = " + "(" * 300 + "1" + ")" * 300 + "\n",    # nested too deeply for the parser
    "def f(:\n",
    "\tif True:\n        pass\n",                   # bad indentation
    "x = 1\nfrom __future__ import annotations\n",  # only the compiler sees these two
    "return 3\n",
])
def test_unparseable_sources_are_syntax_errors(source):
    assert fault_of(source).code == "syntax-error"


@pytest.mark.parametrize("source, label", [
    ("import torch\n", "PyTorch"),
    ("import torch.nn as nn\n", "PyTorch"),
    ("from torch import nn\n", "PyTorch"),
    ("def f(X):\n    import torch\n    return X\n", "PyTorch"),
    ("import sklearn.linear_model\n", "scikit-learn"),
    ("from sklearn.neural_network import MLPClassifier\n", "scikit-learn"),
    ("import scipy\n", "SciPy"),
    ("from scipy import linalg\n", "SciPy"),
    ("try:\n    import scipy.special\nexcept ImportError:\n    pass\n", "SciPy"),
    ("import numpy as np, tensorflow as tf\n", "TensorFlow"),
    ("import pandas\n", "pandas"),
])
def test_forbidden_imports_are_named(source, label):
    fault = fault_of(source)
    assert fault.code == "forbidden-import"
    assert label in fault.message and "NumPy and the Python standard library" in fault.message


def test_a_dynamic_import_of_a_missing_package_is_a_forbidden_import():
    fault = fault_of("torch = __import__('torch')\n")
    assert fault.code == "forbidden-import" and "PyTorch" in fault.message


def test_standard_library_and_numpy_imports_are_allowed():
    ns = load("import math, itertools, functools\nfrom collections import defaultdict\n"
              "import numpy as np\nfrom numpy.linalg import norm\n")
    assert "norm" in ns and "math" in ns


@pytest.mark.parametrize("source, words", [
    ("from numpy.linalg import backpropagate\n", "ImportError"),
    ("import numpy as np\nx = 1 / 0\n", "ZeroDivisionError: division by zero (line 2, in <module>)"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("from . import helpers\n", "ImportError"),
])
def test_failures_at_import_are_exceptions(source, words):
    fault = fault_of(source)
    assert fault.code == "exception"
    assert fault.message.startswith("Importing your module failed: ") and words in fault.message


@pytest.mark.parametrize("source", ["import sys\nsys.exit(0)\n", "raise SystemExit(3)\n", "import sys\nsys.exit('bye')\n"])
def test_sys_exit_at_import_is_an_exception(source):
    fault = fault_of(source)
    assert fault.code == "exception" and "sys.exit()" in fault.message


def test_memory_error_at_import_is_memory_limit():
    assert fault_of("raise MemoryError\n").code == "memory-limit"


# --------------------------------------------------------------------------- calling


def call(ns, name, *args, **kwargs):
    """``invoke`` as every runner calls it: on read-only copies of the arguments."""
    args, kwargs = frozen((args, kwargs))
    return invoke(ns, name, args, kwargs, filename="sub.py")


def test_missing_and_non_callable_functions():
    ns = load("f = 3\n")
    assert call(ns, "g")["fault"][0] == "missing-function"
    assert "`g` is not defined" in call(ns, "g")["fault"][1]
    fault = call(ns, "f", np.zeros(1))["fault"]
    assert fault[0] == "missing-function" and "is not a function" in fault[1]


def test_an_exception_names_type_line_and_function():
    ns = load("""
        import numpy as np

        def helper(X):
            return X @ X

        def f(X):
            return helper(X)
    """)
    code, message = call(ns, "f", np.zeros((2, 3)))["fault"]
    assert code == "exception"
    assert message.startswith("ValueError: matmul") and message.endswith("(line 5, in helper)")


@pytest.mark.parametrize("body, code, words", [
    ("import sys; sys.exit(1)", "exception", "called sys.exit()"),
    ("raise SystemExit", "exception", "called sys.exit()"),
    ("raise KeyboardInterrupt", "exception", "KeyboardInterrupt"),
    ("return f(X)", "exception", "RecursionError"),
    ("raise MemoryError", "memory-limit", "ran out of memory"),
    ("raise ValueError('x' * 100000)", "exception", "more characters"),
    ("raise Odd()", "exception", "could not be printed"),
])
def test_every_way_a_call_can_end_badly_is_a_fault(body, code, words):
    ns = load(f"""
        class Odd(Exception):
            def __str__(self):
                raise RuntimeError("no")

        def f(X):
            {body}
    """)
    fault = call(ns, "f", np.zeros(2))["fault"]
    assert fault[0] == code and words in fault[1] and len(fault[1]) <= 2000


def test_warnings_are_reported_and_do_not_fail_the_call():
    ns = load("import numpy as np\ndef f(X):\n    return np.log(X)\n")
    result = call(ns, "f", np.array([0.0, 1.0]))
    assert result["value"][0] == -np.inf
    assert any("RuntimeWarning" in w and "divide by zero" in w for w in result["warnings"])


@pytest.mark.parametrize("body, named", [
    ("X[0] = 5.0", "`X`"),
    ("X += 1", "`X`"),
    ("np.multiply(W, 2, out=W)", "`W`"),
    ("np.add(X, W, out=W)", "`W`"),                     # both on the line; only W is written
    ("A = W.T; A[0, 0] = 0", "`W` (through `A`)"),
    ("X.setflags(write=True)", "`X`"),
    ("W.sort(axis=0)", "`W`"),
    ("np.copyto(X, 0.0)", "`X`"),
    ("scale *= 3", "`scale`"),
    ("helper(X)", "`X` (through `Z`)"),               # the innermost frame of the submission decides
])
def test_a_write_into_an_input_is_refused_and_named(body, named):
    ns = load(f"""
        import numpy as np

        def helper(Z):
            Z -= 1

        def f(X, W, *, scale):
            {body}
            return X.sum()
    """)
    fault = call(ns, "f", np.zeros((2, 2)), np.ones((2, 2)), scale=np.ones(2))["fault"]
    assert fault[0] == "input-mutated", fault
    assert f"`f` tried to change its input {named} in place" in fault[1]
    assert "read-only" in fault[1]


def test_a_write_into_the_functions_own_read_only_array_is_an_exception():
    ns = load("""
        import numpy as np

        def f(X):
            Y = np.broadcast_to(np.zeros(1), (3,))
            Y[0] = 1
            return X
    """)
    code, message = call(ns, "f", np.zeros(3))["fault"]
    assert code == "exception" and "read-only" in message


def test_arguments_reach_the_function_read_only_over_immutable_memory():
    ns = load("""
        import numpy as np

        def f(X):
            base = X
            while isinstance(base, np.ndarray) and base.base is not None:
                base = base.base
            view = np.frombuffer(base, dtype=X.dtype)
            return np.array([X.flags.writeable, view.flags.writeable, isinstance(base, (bytearray, np.ndarray))])
    """)
    assert call(ns, "f", np.zeros((2, 3)))["value"].tolist() == [False, False, False]


def test_replaced_items_and_reshaped_arguments_are_reported_by_position_and_keyword():
    ns = load("""
        def f(X, d, lst, *, k):
            X.shape = (X.size,)
            d["W1"] = d["W1"] + 1.0
            lst.append(1.0)
            k.update(extra=None)
            return 0.0
    """)
    result = call(ns, "f", np.zeros((2, 1)), {"W1": np.zeros(2), "b1": np.zeros(1)}, [np.zeros(1)],
                  k={"a": np.ones(2)})
    assert set(result["mutated"]) == {"0", "1", "2", "k"}
    untouched = call(load(OK), "f", np.ones(3))
    assert untouched["mutated"] == [] and untouched["value"].tolist() == [2.0, 2.0, 2.0]


def test_writable_arguments_are_refused_by_invoke():
    with pytest.raises(TypeError, match="read-only"):
        invoke(load(OK), "f", (np.ones(3),), {})


def test_the_in_process_runner_gives_read_only_copies_and_keeps_the_originals():
    from graders.framework.proxy import InProcessRunner

    X = np.ones(3)
    session = InProcessRunner().open("def f(X):\n    X[:] = 7\n    return 0.0\n", Limits())
    with pytest.raises(StudentFault) as info:
        session.call("f", X)
    assert info.value.code == "input-mutated" and "`X`" in info.value.message
    assert X.tolist() == [1.0, 1.0, 1.0] and X.flags.writeable


def test_rng_arguments_arrive_as_generators_with_the_grader_stream():
    ns = load("def f(rng):\n    return rng.standard_normal(4)\n")
    result = call(ns, "f", Rng(42))
    np.testing.assert_array_equal(result["value"], np.random.default_rng(42).standard_normal(4))
    assert result["mutated"] == [], "drawing from the generator is not mutating an input"


# --------------------------------------------------------------------------- not running student methods


class Flags:
    called: list[str] = []


def _flag(name):
    def method(self, *args, **kwargs):
        Flags.called.append(name)
        return True

    return method


def test_odd_results_are_rejected_without_calling_their_methods():
    """The student function runs; after it returns, none of its object's methods may."""
    methods = {name: _flag(name) for name in (
        "__eq__", "__ne__", "__array__", "__array_ufunc__", "__array_function__", "__len__", "__iter__",
        "__getitem__", "__reduce__", "__reduce_ex__", "__float__", "__bool__", "__repr__", "__str__", "__format__")}
    methods["__class__"] = property(_flag("__class__"))
    Odd = type("Odd", (), methods)
    OddArray = type("OddArray", (np.ndarray,), {k: v for k, v in methods.items() if k != "__class__"})
    ns = {
        "odd": lambda: Odd(),
        "odd_array": lambda: np.zeros(3).view(OddArray),
        "odd_in_tuple": lambda: (np.zeros(1), Odd()),
        "odd_in_dict": lambda: {"W1": np.zeros(1).view(OddArray)},
        "masked": lambda: np.ma.masked_array(np.zeros(3).view(OddArray)),
    }
    for name in ns:
        Flags.called = []
        code, message = call(ns, name)["fault"]
        assert code == "bad-return-type" and f"`{name}`" in message
        assert Flags.called == [], f"{name}: {Flags.called} ran after the call returned"


# --------------------------------------------------------------------------- through the default runner


def open_session(runner, source: str):
    return runner.open(textwrap.dedent(source), Limits(), filename="sub.py")


@pytest.mark.parametrize("source, code", [
    ("def f(X:\n", "syntax-error"),
    ("import torch\n", "forbidden-import"),
    ("import sys\nsys.exit(0)\n", "exception"),
    ("raise RuntimeError('at import')\n", "exception"),
])
def test_runner_refuses_to_open_broken_sources_with_a_code(runner, source, code):
    with pytest.raises(StudentFault) as info:
        open_session(runner, source)
    assert info.value.code == code and not info.value.fatal
    assert "Traceback" not in info.value.message


def test_runner_session_turns_call_failures_into_faults_and_keeps_going(runner):
    session = open_session(runner, """
        import sys
        import numpy as np

        class Sub(np.ndarray):
            pass

        def good(X):
            return X.sum(axis=0)

        def boom(X):
            raise ValueError("no")

        def leave(X):
            sys.exit(0)

        def sub(X):
            return X.view(Sub)

        def text(X):
            return "X"

        def nan(X):
            return X * np.nan

        def mutate(X):
            X += 1
            return X.copy()
    """)
    try:
        X = np.arange(6.0).reshape(3, 2)
        faults = {}
        for name in ("missing", "boom", "leave", "sub", "text"):
            with pytest.raises(StudentFault) as info:
                session.call(name, X)
            faults[name] = info.value.code
        assert faults == {"missing": "missing-function", "boom": "exception", "leave": "exception",
                          "sub": "bad-return-type", "text": "bad-return-type"}
        assert np.isnan(session.call("nan", X).value).all()
        with pytest.raises(StudentFault) as info:
            session.call("mutate", X)
        assert info.value.code == "input-mutated" and "`X`" in info.value.message and not info.value.fatal
        assert X.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], "the grader's array is untouched"
        result = session.call("good", X)
        assert type(result.value) is np.ndarray and result.value.tolist() == [6.0, 9.0]
        assert result.seconds >= 0
    finally:
        session.close()


def test_runner_returns_plain_copies_of_numpy_scalars_and_lists(runner):
    session = open_session(runner, """
        import numpy as np

        def scalar(X):
            return np.float32(X.sum())

        def nested(X):
            return {"a": [1, 2.5, True, None], "b": (X[0],)}
    """)
    try:
        value = session.call("scalar", np.ones(3, dtype=np.float32)).value
        assert type(value) is np.ndarray and value.dtype == np.float32 and value.shape == ()
        nested = session.call("nested", np.arange(3.0)).value
        assert nested["a"] == [1, 2.5, True, None]
        assert type(nested["b"]) is tuple and type(nested["b"][0]) is np.ndarray
    finally:
        session.close()


def test_output_of_the_submission_is_not_mixed_with_results(runner, capsys):
    session = open_session(runner, "def f(X):\n    print('hello')\n    return X\n")
    try:
        assert session.call("f", np.ones(1)).value.tolist() == [1.0]
    finally:
        session.close()
    # In-process the print goes to this process's stdout; in the sandbox it is captured.
    assert "hello" in capsys.readouterr().out + session.output()


@pytest.fixture(autouse=True)
def _keep_sys_modules_clean():
    before = sys.modules.get("submission")
    yield
    if before is None:
        sys.modules.pop("submission", None)
