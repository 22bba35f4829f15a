"""The sandbox's start-up self-test: a known-correct probe must run correctly before any student's code.

If the sandbox cannot run correct code on this machine (a runtime file it cannot see, a
NumPy submodule it cannot import, a working directory it cannot write), every submission
would be graded as the student's failure.  So before the pool takes its first submission,
:func:`run` grades the probe below through the same path as a submission and compares what
it returns with the same computation done here.  Any difference makes the runner refuse to
grade (``RunnerUnavailable``), with the reason in ``/readyz`` and at start: never blame the
student for the sandbox.
"""

from __future__ import annotations

import numpy as np

from graders.framework.proxy import Limits, StudentFault

#: Touches what submissions rely on: NumPy's lazily imported submodules, the working
#: directory and a temporary file, a matrix product, the random generators.
PROBE = '''
import os
import tempfile

import numpy as np


def probe(a, b, seed):
    import numpy.fft
    import numpy.linalg
    import numpy.random

    with open("probe.txt", "w") as f:
        f.write("written")
    with open("probe.txt") as f:
        written = f.read() == "written"
    with tempfile.TemporaryFile() as t:
        t.write(b"x")
    os.remove("probe.txt")
    return {"solve": np.linalg.solve(a, b), "normal": np.random.default_rng(seed).standard_normal(4),
            "fft": np.abs(np.fft.rfft(b[:, 0])), "product": a @ b, "written": float(written)}
'''


def expected(a: np.ndarray, b: np.ndarray, seed: int) -> dict[str, np.ndarray | float]:
    return {"solve": np.linalg.solve(a, b), "normal": np.random.default_rng(seed).standard_normal(4),
            "fft": np.abs(np.fft.rfft(b[:, 0])), "product": a @ b, "written": 1.0}


def run(open_session) -> str | None:
    """Grade the probe through ``open_session(source, limits)``; None if it ran correctly, else why not."""
    rng = np.random.default_rng(7)
    a, b, seed = rng.standard_normal((6, 6)) + 6 * np.eye(6), rng.standard_normal((6, 2)), 11
    try:
        session = open_session(PROBE, Limits())
    except StudentFault as fault:
        return f"the probe could not be loaded ({fault.code}: {fault.message})"
    try:
        value = session.call("probe", a, b, seed).value
    except StudentFault as fault:
        output = session.output().strip()
        return f"the probe failed ({fault.code}: {fault.message})" + (f"; it printed: {output[-500:]}" if output else "")
    finally:
        session.close()
    want = expected(a, b, seed)
    if type(value) is not dict or set(value) != set(want):
        return f"the probe returned {type(value).__name__} {sorted(value) if type(value) is dict else ''}"
    wrong = [k for k, v in want.items() if not np.allclose(np.asarray(value[k], dtype=float), v, rtol=1e-9, atol=0)]
    return f"the probe computed wrong values for {', '.join(wrong)}" if wrong else None
