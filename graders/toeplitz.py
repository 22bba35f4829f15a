"""Grader of ``toeplitz``: 1-D convolution as a Toeplitz matrix.

Contract: ``conv_matrix(kernel, n) -> T (n, n)`` with
``T @ x == np.convolve(x, kernel, mode='same')`` for every ``x`` of length ``n``;
``kernel (k,)``, ``1 <= k <= n``.

Decisions a reader of the reports should know:

* The correct ``T`` only ever comes from the oracle (stored for visible cases, the
  reference for hidden ones).  The mistake detectors read the expected ``T``'s diagonals
  ``p[d]`` (``d = m - i``; a Toeplitz matrix holds one value per diagonal) and move them:
  reversed (the kernel not flipped: the transpose, or ``np.correlate``'s centring for even
  ``k``), shifted by one diagonal (the centre of an even kernel), wrapped modulo ``n`` (a
  circulant), or laid into ``n + k - 1`` rows starting at the band's first diagonal
  (``'full'``) or ``n - k + 1`` rows starting at its last (``'valid'``).  Kernels are
  standard normal, so no kernel entry is zero and the band's ends are visible in ``p``.
* "``T @ x`` equals ``np.convolve(x, kernel, mode='same')``" is checked on the trusted
  side with ``np.convolve`` itself: it is the statement's definition, available wherever
  the grader runs.
* "Toeplitz and zero outside the band" is checked on the student's ``T``: every diagonal
  constant within the float64 tolerance, and non-zero entries only on diagonals where the
  expected ``T`` has its ``k`` non-zero diagonals.
* ``T`` keeps the kernel's float dtype (float32 in, float32 out), as every array in the
  contract does.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from graders.framework import CaseContext, Fail, Grader, Mistake
from graders.framework import checks as C
from graders.framework.case import named_mistakes

grader = Grader("toeplitz", functions=["conv_matrix"])

DEFINITION = "statement, 'Definition'"
SHAPE_OF_T = "statement, 'Shape of T'"
SHAPES = {"T": "(n, n)"}


# --------------------------------------------------------------------------- diagonals


def diagonals(T: np.ndarray) -> np.ndarray:
    """The value of each diagonal ``d = m - i`` of a Toeplitz ``(n, n)`` matrix.

    Returns
    -------
    p : ndarray, shape (2 n - 1,)
        ``p[d + n - 1]`` is the value on diagonal ``d``, for ``d = -(n - 1) .. n - 1``
        (read from the first column and the first row).
    """
    return np.concatenate([T[:0:-1, 0], T[0, :]])


def lay(p: np.ndarray, shape: tuple[int, int], shift: int = 0) -> np.ndarray:
    """The matrix ``M (shape)`` with ``M[i, m] = p[m - i - shift]`` (zero beyond ``p``).

    ``p`` is indexed as :func:`diagonals` returns it (offset ``n - 1``).
    """
    n = (p.shape[0] + 1) // 2
    rows, cols = shape
    index = np.arange(cols)[None, :] - np.arange(rows)[:, None] - shift + n - 1
    inside = (index >= 0) & (index < p.shape[0])
    M = np.zeros(shape)
    M[inside] = p[index[inside]]
    return M


def band(p: np.ndarray) -> tuple[int, int]:
    """The first and last non-zero diagonal ``d`` of ``p``."""
    nonzero = np.flatnonzero(p) - (p.shape[0] + 1) // 2 + 1
    return int(nonzero.min()), int(nonzero.max())


def _even_k(inputs: Mapping[str, Any]) -> None:
    if inputs["kernel"].shape[0] % 2:
        raise ValueError("only for even k")


def _shifted(shift: int):
    def predict(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> dict:
        _even_k(inputs)
        T = expected["T"]
        return {"T": lay(diagonals(T), T.shape, shift)}
    return predict


def _circulant(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> dict:
    T = expected["T"]
    p, n = diagonals(T), T.shape[0]
    return {"T": lay(p, T.shape) + lay(p, T.shape, n) + lay(p, T.shape, -n)}


def _full(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> dict:
    p, (n, k) = diagonals(expected["T"]), (expected["T"].shape[0], inputs["kernel"].shape[0])
    return {"T": lay(p, (n + k - 1, n), -band(p)[1])}


def _valid(inputs: Mapping[str, Any], expected: Mapping[str, Any]) -> dict:
    p, (n, k) = diagonals(expected["T"]), (expected["T"].shape[0], inputs["kernel"].shape[0])
    return {"T": lay(p, (n - k + 1, n), -band(p)[0])}


# --------------------------------------------------------------------------- mistakes

FLIP_HINT = (f"convolution flips the kernel: the newest entry x[i] meets kernel[0], and along a row of T the "
             f"kernel's entries appear in reverse order ({DEFINITION}).")
CENTRE_HINT = (f"'same' keeps the n entries of the full convolution that start at index (k - 1) // 2; for even k "
               f"work out which entry that is on the worked example ({DEFINITION}).")
SHAPE_HINT = f"mode='same' gives an output as long as x, so T is square, (n, n) ({SHAPE_OF_T})."
UNFLIPPED = Mistake(
    "kernel-not-flipped",
    "Your T is the transpose of the right one: it slides the kernel without flipping it, so T @ x is the "
    "cross-correlation np.correlate(x, kernel, 'same'), not the convolution.",
    FLIP_HINT,
    lambda i, e: {"T": e["T"].T},
)
CORRELATE = Mistake(
    "kernel-not-flipped",
    "Your T @ x is np.correlate(x, kernel, 'same'): the kernel is not flipped (and, for an even k, "
    "correlate centres it one place differently).",
    FLIP_HINT,
    lambda i, e: {"T": lay(diagonals(e["T"])[::-1], e["T"].shape, -1)},
)
OFF_BY_ONE_RIGHT = Mistake(
    "even-kernel-off-by-one",
    "For an even kernel your band sits one column to the right of np.convolve's: the centre is off by one "
    "(k // 2 where 'same' starts at (k - 1) // 2).",
    CENTRE_HINT,
    _shifted(1),
)
OFF_BY_ONE_LEFT = Mistake(
    "even-kernel-off-by-one",
    "For an even kernel your band sits one column to the left of np.convolve's: the centre is off by one.",
    CENTRE_HINT,
    _shifted(-1),
)
CIRCULANT = Mistake(
    "circulant-wraparound",
    "Your T wraps around: the kernel entries that fall off one edge reappear in the opposite corner, so T "
    "is circulant (a periodic convolution), while np.convolve pads x with zeros.",
    f"entries of the kernel that land outside columns 0 .. n - 1 are dropped, not wrapped: T is zero outside "
    f"its band ({SHAPE_OF_T}).",
    _circulant,
)
FULL = Mistake(
    "full-or-valid-shape",
    "Your T is the matrix of mode='full', with n + k - 1 rows; mode='same' keeps n of them.",
    SHAPE_HINT,
    _full,
)
FULL_TRANSPOSED = Mistake(
    "full-or-valid-shape",
    "Your T is the transpose of the matrix of mode='full', shape (n, n + k - 1) (the layout of MATLAB's "
    "convmtx); mode='same' is (n, n), and T @ x needs one column per entry of x.",
    SHAPE_HINT,
    lambda i, e: {"T": _full(i, e)["T"].T},
)
VALID = Mistake(
    "full-or-valid-shape",
    "Your T is the matrix of mode='valid', with n - k + 1 rows; mode='same' has n.",
    f"mode='same' lets the kernel overhang the edges of x, so T keeps n rows ({SHAPE_OF_T}).",
    _valid,
)
VALID_TRANSPOSED = Mistake(
    "full-or-valid-shape",
    "Your T is the transpose of the matrix of mode='valid', shape (n, n - k + 1); mode='same' is (n, n).",
    SHAPE_HINT,
    lambda i, e: {"T": _valid(i, e)["T"].T},
)
MISTAKES = (UNFLIPPED, CORRELATE, OFF_BY_ONE_RIGHT, OFF_BY_ONE_LEFT, CIRCULANT, FULL, FULL_TRANSPOSED, VALID,
            VALID_TRANSPOSED)


# --------------------------------------------------------------------------- helpers


def random_kernel(rng: np.random.Generator, k: int, dtype=np.float64) -> np.ndarray:
    return rng.standard_normal(k).astype(dtype)


def check_T(ctx: CaseContext, kernel: np.ndarray, n: int) -> np.ndarray:
    return ctx.check_call("conv_matrix", {"kernel": kernel, "n": n}, returns="T", mistakes=MISTAKES,
                          shapes=SHAPES)["T"]


def student_T(ctx: CaseContext, kernel: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Call ``conv_matrix`` for a property check; returns ``(T, expected T)``, checked for type,
    unchanged inputs, shape and finiteness (naming the mistake on a wrong shape)."""
    result = ctx.call("conv_matrix", kernel, n)
    expected = C.as_array(ctx.expected("conv_matrix", kernel, n), "T")
    T = C.as_array(result.value, "T")
    C.expect_unchanged(result.mutated, ["kernel", "n"], "conv_matrix")
    try:
        C.expect_shape(T, (n, n), "T", SHAPES["T"])
        C.expect_finite(T, "T")
    except Fail as f:
        raise named(f, kernel, expected, T, ctx) from None
    return T, expected


def named(failure: Fail, kernel: np.ndarray, expected: np.ndarray, T: np.ndarray, ctx: CaseContext) -> Fail:
    """``failure`` with the mistakes ``T`` matches added (or the case's hint if none does)."""
    found = named_mistakes(MISTAKES, {"kernel": kernel, "n": expected.shape[0]}, {"T": expected}, {"T": T})
    return Fail.joined([failure, *found], fraction=failure.fraction, hints=[] if found else [ctx.case.tell])


def check_against_convolve(ctx: CaseContext, kernel: np.ndarray, n: int, trials: int) -> None:
    """``T @ x`` against ``np.convolve(x, kernel, mode='same')`` for ``trials`` random ``x``."""
    xs = [ctx.rng.standard_normal(n) for _ in range(trials)]  # drawn whatever happens: the next kernel's are the same
    T, expected = student_T(ctx, kernel, n)
    for x in xs:
        try:
            C.expect_close(T @ x, np.convolve(x, kernel, mode="same"), "(T @ x)", hidden=ctx.hidden)
        except Fail as f:
            f = Fail(f"T @ x is not np.convolve(x, kernel, mode='same') for k = {kernel.shape[0]}, n = {n} and a "
                     f"random x: {f.message}")
            raise named(f, kernel, expected, T, ctx) from None


def check_structure(ctx: CaseContext, kernel: np.ndarray, n: int) -> None:
    """``T`` is Toeplitz and non-zero only on the diagonals of the band."""
    T, expected = student_T(ctx, kernel, n)
    k = kernel.shape[0]
    _, atol = C.tolerance_for(np.float64)
    scale = max(1.0, float(np.abs(T).max()))
    step = np.abs(T[1:, 1:] - T[:-1, :-1])
    if np.any(step > atol * scale):
        i, m = (int(v) for v in np.unravel_index(int(np.argmax(step)), step.shape))
        raise named(Fail(f"T is not Toeplitz (k = {k}, n = {n}): T[{i + 1}, {m + 1}] = {T[i + 1, m + 1]:.6g} and "
                         f"T[{i}, {m}] = {T[i, m]:.6g} lie on the same diagonal but differ."),
                    kernel, expected, T, ctx)
    outside = (np.abs(T) > atol * scale) & (expected == 0)
    if np.any(outside):
        i, m = (int(v) for v in np.argwhere(outside)[0])
        filled = int(np.count_nonzero(np.abs(diagonals(T)) > atol * scale))
        which = (f"it fills {filled} diagonals where a kernel of length {k} fills exactly {k}" if filled != k else
                 f"its {k} non-zero diagonals are not the ones np.convolve's kernel lands on")
        raise named(Fail(f"T has non-zero entries outside the band (k = {k}, n = {n}): {which}; the first stray "
                         f"entry is T[{i}, {m}] = {T[i, m]:.6g}."),
                    kernel, expected, T, ctx)


# --------------------------------------------------------------------------- visible cases


def sizes_case(name: str, points: float, sizes: tuple[tuple[int, int], ...], *, expects: str, tell: str,
               dtype=np.float64) -> None:
    """Register a visible case that checks ``T`` for a standard normal kernel of each ``(k, n)``."""
    kind = "" if dtype is np.float64 else f" {np.dtype(dtype).name}"
    feeds = ", then ".join(f"kernel ({k},){kind} with n = {n}" for k, n in sizes) + ": standard normal"

    @grader.case(name, points=points, feeds=feeds, expects=expects, tell=tell)
    def body(ctx: CaseContext) -> None:
        problems = C.Problems()
        for k, n in sizes:
            with problems.check():
                check_T(ctx, random_kernel(ctx.rng, k, dtype), n)
        problems.raise_if_any()


sizes_case("odd kernel: k = 3, n = 6", 2, ((3, 6),),
           expects="T (6, 6) with T @ x == np.convolve(x, kernel, 'same')",
           tell=f"Work through the worked example by hand ({DEFINITION}).")
sizes_case("even kernels: k = 2, n = 5 and k = 4, n = 7", 2, ((2, 5), (4, 7)),
           expects="T (n, n), centred as np.convolve's 'same'",
           tell=f"For even k the centre matters ({DEFINITION}).")
sizes_case("k = 1: a scaled identity", 1, ((1, 5),),
           expects="T = kernel[0] * I, shape (5, 5)",
           tell="A kernel of one entry scales x: T is kernel[0] times the identity.")
sizes_case("k = n, odd and even", 2, ((5, 5), (6, 6)),
           expects="T (n, n): the kernel overhangs both edges of x",
           tell=f"Entries of the kernel that land outside 0 .. n - 1 are dropped ({SHAPE_OF_T}).")
sizes_case("n = 1", 1, ((1, 1),),
           expects="T = [[kernel[0]]], shape (1, 1)",
           tell="A kernel of one entry scales x.")


@grader.case("T @ x equals np.convolve(x, kernel, mode='same')", points=2,
             feeds="kernels (5,) and (4,) with n = 9; three random x of length 9 each",
             expects="T @ x == np.convolve(x, kernel, mode='same') for each x",
             tell=f"Compare T @ x with np.convolve(x, kernel, mode='same') yourself ({DEFINITION}).")
def matches_convolve(ctx: CaseContext) -> None:
    problems = C.Problems()
    for k in (5, 4):
        with problems.check():
            check_against_convolve(ctx, random_kernel(ctx.rng, k), 9, trials=3)
    problems.raise_if_any()


@grader.case("T is Toeplitz and zero outside the band", points=2,
             feeds="kernels (4,) with n = 10 and (3,) with n = 8",
             expects="every diagonal of T constant; non-zero entries only on the k diagonals of the band",
             tell=f"Each row of T is the row above shifted one column to the right, and only k diagonals "
                  f"are non-zero ({SHAPE_OF_T}).")
def toeplitz_structure(ctx: CaseContext) -> None:
    problems = C.Problems()
    for k, n in ((4, 10), (3, 8)):
        with problems.check():
            check_structure(ctx, random_kernel(ctx.rng, k), n)
    problems.raise_if_any()


sizes_case("float32 kernel, float32 T", 1, ((3, 6),), dtype=np.float32,
           expects="T (6, 6) float32, within float32 tolerance",
           tell=f"Work through the worked example by hand ({DEFINITION}).")


# --------------------------------------------------------------------------- hidden cases


@grader.case("random kernels, odd and even k", points=3, visibility="hidden",
             feeds="six random (k, n), n in 2..30, k in 1..n, three odd k and three even",
             expects="T (n, n) by the definition")
def random_kernels(ctx: CaseContext) -> None:
    problems = C.Problems()
    for t in range(6):
        n = int(ctx.rng.integers(2, 31))
        k = int(ctx.rng.choice(np.arange(1 + t % 2, n + 1, 2)))  # odd k for even t, even k for odd t
        with problems.check():
            check_T(ctx, random_kernel(ctx.rng, k), n)
    problems.raise_if_any()


@grader.case("random T @ x vs np.convolve", points=1, visibility="hidden",
             feeds="a random (k, n), n in 1..40, k in 1..n; three random x",
             expects="T @ x == np.convolve(x, kernel, mode='same')")
def random_convolve(ctx: CaseContext) -> None:
    n = int(ctx.rng.integers(1, 41))
    k = int(ctx.rng.integers(1, n + 1))
    check_against_convolve(ctx, random_kernel(ctx.rng, k), n, trials=3)


@grader.case("long input: n = 300", points=1, visibility="hidden",
             feeds="a random kernel with k in 2..15, n = 300", expects="T (300, 300) by the definition")
def long_input(ctx: CaseContext) -> None:
    k = int(ctx.rng.integers(2, 16))
    check_T(ctx, random_kernel(ctx.rng, k), 300)
