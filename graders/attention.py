"""Grader of ``attention``: a stable softmax, scaled dot-product attention, and a counterexample.

Contract: ``softmax(S, axis=-1)``; ``attention(Q, K, V) -> (out, A)`` with
``A = softmax(Q @ K.T / sqrt(d_k), axis=1)`` of shape ``(T_q, T_k)`` and ``out = A @ V``;
``self_attention_counterexample(T, d_k) -> X (T, d_k)`` such that with ``Q = K = X`` some row
of ``A`` has its largest entry off the diagonal.  Tokens are rows.

How mistakes are recognised:

* Wrong formulas are predicted from the reference on transformed inputs, never written out
  here: softmax along another axis is the reference's ``softmax(S, axis=k)``; ``A`` without the
  ``1/sqrt(d_k)`` scale is the reference's ``A`` for ``Q * sqrt(d_k)``; ``A`` scaled by ``1/d_k`` is
  its ``A`` for ``Q / sqrt(d_k)``; ``A`` normalised over the columns is the transpose of its ``A``
  for queries and keys swapped.  ``out`` transposed is the expected ``out.T``; ``A.T @ V`` is
  computed from the expected ``A``.
* Properties are checked on the student's weights themselves: sums along the softmax axis
  within 1e-12 of 1 and no negative entry.  Weights that sum to 1 along another axis
  (within 1e-9) are named ``softmax-wrong-axis`` (or ``axis-ignored`` when the call passed
  ``axis``); weights that sum to 1 along no axis are ``rows-not-normalised``; ``nan``/``inf``
  from finite scores is ``softmax-overflow``.
* The counterexample is checked by computing the statement's attention weights for
  ``Q = K = X`` here, with NumPy: some row ``i`` must have an off-diagonal entry larger than
  ``A[i, i]`` by more than 1e-9 (a tie is not a counterexample).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from graders.framework import CaseContext, Fail, Grader, Mistake
from graders.framework import checks as C
from graders.framework.case import OutputSpec, unpack

grader = Grader("attention", functions=["softmax", "attention", "self_attention_counterexample"])

SOFTMAX = "statement, 'Softmax'"
ATTENTION = "statement, 'Attention'"
COUNTER = "statement, 'When does a token not attend most to itself?'"
COUNTER_HINT = (f"with Q = K = X, compare the score x_i . x_j of another token with x_i . x_i; by Cauchy-Schwarz, "
                f"which tokens x_j can beat it? ({COUNTER})")
SHAPES = {"P": "the shape of S", "out": "(T_q, d_v)", "A": "(T_q, T_k)", "X": "(T, d_k)"}
#: Every row of A (every slice of P along the axis) must sum to 1 within this.
SUM_TOL = 1e-12
#: Sums along another axis this close to 1 mean "normalised along the wrong axis".
OTHER_AXIS_TOL = 1e-9
#: A counterexample's off-diagonal weight must beat the diagonal one by more than this.
MARGIN = 1e-9
OVERFLOW_HINT = (f"adding the same constant to every score of a slice leaves the softmax unchanged; choose the "
                 f"constant so that no exponent is large ({SOFTMAX}).")
NORMALISE_HINT = (f"divide the exponentials by their own sum along the axis, keeping that axis so that the division "
                  f"lines up with the right entries ({SOFTMAX}).")
AXIS_HINT = f"the max and the sum both run along the axis asked for ({SOFTMAX})."


# --------------------------------------------------------------------------- property checks


def weight_findings(P: Any, shape: tuple[int, ...], axis: int, wrong_axis_code: str, name: str) -> list[Fail]:
    """What is wrong with weights ``P`` that should sum to 1 along ``axis``."""
    if type(P) is not np.ndarray or P.dtype.kind != "f" or P.shape != shape or P.ndim == 0:
        return []
    if not np.all(np.isfinite(P)):
        return [Fail(f"{name} has nan or inf entries although every score was finite: np.exp overflowed (exp(710) "
                     f"is already inf in float64) or a slice of zeros was divided by its zero sum.",
                     ["softmax-overflow"], hints=[OVERFLOW_HINT])]
    if np.any(P < 0):
        return [Fail(f"{name} has negative entries (the smallest is {P.min():.3g}); softmax weights are "
                     f"exponentials divided by their sum and are never negative.", ["rows-not-normalised"],
                     hints=[NORMALISE_HINT])]
    axis = axis % P.ndim
    sums = P.sum(axis=axis)
    if np.all(np.abs(sums - 1) <= SUM_TOL):
        return []
    for k in range(P.ndim):
        if k != axis and np.all(np.abs(P.sum(axis=k) - 1) <= OTHER_AXIS_TOL):
            return [Fail(f"{name} sums to 1 along axis {k}, not along axis {axis}.", [wrong_axis_code],
                         hints=[AXIS_HINT])]
    worst = float(np.max(np.abs(sums - 1)))
    if worst <= OTHER_AXIS_TOL:
        return [Fail(f"The sums of {name} along axis {axis} are 1 only up to {worst:.2g}; they must be 1 within "
                     f"{SUM_TOL:g}. Rounding errors that large come from subtracting large numbers, e.g. "
                     f"exp(S - (max + log(sum))) with scores of 1e4.", ["rows-not-normalised"],
                     hints=[f"shift first, then normalise the shifted exponentials ({SOFTMAX})."])]
    return [Fail(f"The sums of {name} along axis {axis} range from {sums.min():.15g} to {sums.max():.15g}; each "
                 f"must be 1 within {SUM_TOL:g}, and {name} sums to 1 along no other axis either.",
                 ["rows-not-normalised"], hints=[NORMALISE_HINT])]


#: A named mistake that explains the weights' sums: the generic finding about them would mislead.
EXPLAINS_SUMS = {"scale-after-softmax": "rows-not-normalised"}


def check_weights_call(ctx: CaseContext, function: str, args: Mapping[str, Any], *, returns: OutputSpec | tuple,
                       weights: str, shape: tuple[int, ...], axis: int, wrong_axis_code: str,
                       mistakes: tuple[Mistake, ...], kwargs: Mapping[str, Any] | None = None) -> dict[str, np.ndarray]:
    """``check_call``, then the properties of the returned weights (named ``weights``, of ``shape``).

    On a failed value check the function is called once more to look at its weights and add
    what the properties say (without repeating a code a mistake detector already named).
    """
    kwargs = dict(kwargs or {})
    try:
        got = ctx.check_call(function, args, kwargs=kwargs, returns=returns, mistakes=mistakes, shapes=SHAPES)
    except Fail as failed:
        again = ctx.call(function, *args.values(), **kwargs)
        try:
            P = unpack(returns, again.value, function)[weights]
        except Fail:
            P = None
        explained = {EXPLAINS_SUMS.get(c) for c in failed.diagnoses}
        extra = [f for f in weight_findings(P, shape, axis, wrong_axis_code, weights)
                 if not set(f.diagnoses) & (set(failed.diagnoses) | explained)]
        if not extra:
            raise
        # The findings carry their own hint: drop the case's generic one that check_call added.
        hints = [h for h in failed.hints if h != ctx.case.tell]
        raise Fail.joined([Fail(failed.message, failed.diagnoses, hints=hints), *extra],
                          fraction=failed.fraction) from None
    findings = weight_findings(got[weights], shape, axis, wrong_axis_code, weights)
    if findings:
        raise Fail.joined(findings, fraction=0.5)
    return got


# --------------------------------------------------------------------------- softmax


def softmax_mistakes(ctx: CaseContext, S: np.ndarray, axis: int | None) -> tuple[Mistake, ...]:
    """Softmax along each wrong axis, predicted by the reference along that axis."""
    target = S.ndim - 1 if axis is None else axis % S.ndim
    found = []
    for k in range(S.ndim):
        if k == target:
            continue
        wrong = C.as_array(ctx.expected("softmax", S, axis=k), "P")
        if axis is None:
            found.append(Mistake(
                "softmax-wrong-axis", f"Your softmax normalised along axis {k}; by default (axis=-1) it normalises "
                f"along the last axis, axis {target}.", AXIS_HINT,
                lambda i, e, w=wrong: {"P": w}))
        else:
            last = " (the last axis)" if k == S.ndim - 1 else ""
            found.append(Mistake(
                "axis-ignored", f"Called with axis={axis}, your softmax normalised along axis {k}{last}: it does "
                f"not use its axis argument.", AXIS_HINT,
                lambda i, e, w=wrong: {"P": w}))
    return tuple(found)


def check_softmax(ctx: CaseContext, S: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Check ``softmax(S)`` (default axis) or ``softmax(S, axis=axis)``; return the student's P."""
    kwargs = {} if axis is None else {"axis": axis}
    got = check_weights_call(ctx, "softmax", {"S": S}, kwargs=kwargs, returns="P", weights="P",
                             shape=S.shape, axis=-1 if axis is None else axis,
                             wrong_axis_code="softmax-wrong-axis" if axis is None else "axis-ignored",
                             mistakes=softmax_mistakes(ctx, S, axis))
    return got["P"]


# --------------------------------------------------------------------------- attention

OUT_TRANSPOSED = Mistake(
    "out-transposed", "Your out is transposed, shape (d_v, T_q): the tokens-as-columns formula V · A.T of the "
    "chapter on linear layers (V.T @ A.T here).",
    f"tokens are rows here, so out has one row per query, shape (T_q, d_v) (statement, 'Conventions').",
    lambda i, e: {"out": e["out"].T},
)
OUT_USES_A_T = Mistake(
    "out-transposed", "Your out uses A.T (A.T @ V): output row i must mix the values with row i of A, query i's "
    "weights.", f"row i of out is query i's weighted average of the values ({ATTENTION}).",
    lambda i, e: {"out": e["A"].T @ i["V"]},
)
SCALE_HINT = (f"the scale belongs to the scores, before the softmax, and depends on the key dimension d_k = "
              f"Q.shape[1] ({ATTENTION}).")


def attention_mistakes(ctx: CaseContext, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> tuple[Mistake, ...]:
    """The weight mistakes, predicted by the reference on transformed queries and keys."""
    root = np.sqrt(Q.shape[1])
    _, by_columns = ctx.expected("attention", K, Q, np.zeros((Q.shape[0], 1)))
    _, unscaled = ctx.expected("attention", Q * root, K, V)
    _, by_dk = ctx.expected("attention", Q / root, K, V)
    by_keys = ctx.expected("attention", Q * root / np.sqrt(K.shape[0]), K, V)[1] if K.shape[0] != Q.shape[1] else None
    return (
        Mistake("softmax-wrong-axis", "Your A is normalised over its columns (softmax along axis 0): every column "
                "sums to 1 instead of every row.", f"each query's row of weights sums to 1 ({ATTENTION}).",
                lambda i, e: {"A": by_columns.T}),
        Mistake("missing-scale", "Your A is softmax(Q @ K.T): the scores are not scaled by 1/sqrt(d_k).",
                SCALE_HINT, lambda i, e: {"A": unscaled}),
        Mistake("scale-by-dk", "Your A divides the scores by d_k instead of sqrt(d_k).",
                f"the scale is one over the square root of d_k ({ATTENTION}).", lambda i, e: {"A": by_dk}),
        Mistake("scale-by-keys", f"Your A divides the scores by sqrt(T_k) = sqrt({K.shape[0]}), the square root of "
                f"the number of keys, instead of by sqrt(d_k) = sqrt({Q.shape[1]}).", SCALE_HINT,
                lambda i, e: {"A": by_keys} if by_keys is not None else {}),
        Mistake("scale-after-softmax", "Your A is softmax(Q @ K.T) / sqrt(d_k): the scale was applied to the weights "
                "after the softmax, so every row sums to 1/sqrt(d_k) instead of 1.", SCALE_HINT,
                lambda i, e: {"A": unscaled / root}),
        OUT_TRANSPOSED,
        OUT_USES_A_T,
    )


def check_attention(ctx: CaseContext, Q: np.ndarray, K: np.ndarray, V: np.ndarray) -> dict[str, np.ndarray]:
    return check_weights_call(ctx, "attention", {"Q": Q, "K": K, "V": V}, returns=("out", "A"), weights="A",
                              shape=(Q.shape[0], K.shape[0]), axis=1, wrong_axis_code="softmax-wrong-axis",
                              mistakes=attention_mistakes(ctx, Q, K, V))


def tokens(rng: np.random.Generator, T_q: int, T_k: int, d_k: int, d_v: int, scale: float = 1.0):
    """Random ``Q (T_q, d_k)``, ``K (T_k, d_k)`` (both times ``scale``) and ``V (T_k, d_v)``."""
    return (scale * rng.standard_normal((T_q, d_k)), scale * rng.standard_normal((T_k, d_k)),
            rng.standard_normal((T_k, d_v)))


# --------------------------------------------------------------------------- counterexample


def self_attention_weights(X: np.ndarray) -> np.ndarray:
    """The statement's ``A`` for ``Q = K = X``, computed on the trusted side (finite ``X @ X.T`` only)."""
    S = X @ X.T / np.sqrt(X.shape[1])
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def check_counterexample(ctx: CaseContext, T: int, d_k: int) -> None:
    result = ctx.call("self_attention_counterexample", T, d_k)
    X = C.as_array(result.value, "X")
    C.expect_shape(X, (T, d_k), "X", SHAPES["X"])
    if X.dtype.kind not in "biuf":
        raise Fail(f"X should hold real numbers; it has dtype {X.dtype}.", ["bad-return-type"])
    X = X.astype(np.float64)
    C.expect_finite(X, "X")
    with np.errstate(all="ignore"):
        scores = X @ X.T / np.sqrt(d_k)
    if not np.all(np.isfinite(scores)):
        raise Fail(f"With your X (T = {T}, d_k = {d_k}) the scores X @ X.T / sqrt(d_k) overflow to inf, so the "
                   f"attention weights are not defined; keep the entries of X moderate.",
                   ["counterexample-invalid", "not-finite"])
    A = self_attention_weights(X)
    diagonal = np.diag(A).copy()
    others = np.where(np.eye(T, dtype=bool), -np.inf, A)
    beats = others.max(axis=1) - diagonal
    if not np.any(beats > MARGIN):
        i = int(np.argmax(beats))
        raise Fail(f"With Q = K = your X (T = {T}, d_k = {d_k}) every token still attends most to itself: in every "
                   f"row i of A = softmax(X @ X.T / sqrt(d_k), axis=1) the diagonal entry A[i, i] is the largest or "
                   f"tied (closest: row {i}, A[{i}, {i}] = {diagonal[i]:.6g}, best other entry "
                   f"{others[i].max():.6g}).", ["counterexample-invalid"], hints=[COUNTER_HINT])


# --------------------------------------------------------------------------- visible cases


@grader.case("softmax: rows of a score matrix (default axis)", points=2,
             feeds="S (3, 5), standard normal times 2; softmax(S)",
             expects="P of shape (3, 5), every row summing to 1 within 1e-12, no negative entry",
             tell=f"Work through the worked example by hand ({SOFTMAX}).")
def softmax_rows(ctx: CaseContext) -> None:
    check_softmax(ctx, 2.0 * ctx.rng.standard_normal((3, 5)))


@grader.case("softmax honours axis: axis=0, and a 3-D input", points=2,
             feeds="S (4, 3) with axis=0; S (2, 3, 4) with axis=1, axis=-1 and axis=0",
             expects="P sums to 1 along the axis asked for",
             tell=AXIS_HINT)
def softmax_axes(ctx: CaseContext) -> None:
    problems = C.Problems()
    square, cube = ctx.rng.standard_normal((4, 3)), ctx.rng.standard_normal((2, 3, 4))
    for S, axis in ((square, 0), (cube, 1), (cube, -1), (cube, 0)):
        with problems.check():
            check_softmax(ctx, S, axis=axis)
    problems.raise_if_any()


@grader.case("softmax: adding a constant to a row changes nothing", points=1,
             feeds="S (4, 5); S + c[:, None] with c = (0, 37.5, -120, 1000)",
             expects="softmax(S + c[:, None]) == softmax(S), both correct and finite",
             tell=f"softmax(S + c) = softmax(S) for a constant c per row ({SOFTMAX}).")
def softmax_shift(ctx: CaseContext) -> None:
    S = ctx.rng.standard_normal((4, 5))
    P = check_softmax(ctx, S)
    shifted = check_softmax(ctx, S + np.array([0.0, 37.5, -120.0, 1000.0])[:, None])
    C.expect_close(shifted, P, "softmax(S + c[:, None]) vs your softmax(S)", hidden=ctx.hidden)


@grader.case("softmax: scores of magnitude 1e4 stay finite", points=2,
             feeds="S (3, 4) uniform in [-1e4, 1e4], its last row all close to -1e4",
             expects="finite P, rows summing to 1, equal to the exact softmax",
             tell=OVERFLOW_HINT)
def softmax_large(ctx: CaseContext) -> None:
    S = ctx.rng.uniform(-1e4, 1e4, size=(3, 4))
    S[2] = -1e4 + ctx.rng.uniform(0.0, 1.0, size=4)
    check_softmax(ctx, S)


@grader.case("attention: self-attention, T = 4, d_k = 3", points=3,
             feeds="Q (4, 3), K (4, 3), V (4, 2): standard normal",
             expects="A (4, 4) = softmax(Q @ K.T / sqrt(3), axis=1), out (4, 2) = A @ V; rows of A sum to 1",
             tell=f"Work through the worked example by hand ({ATTENTION}).")
def attention_square(ctx: CaseContext) -> None:
    check_attention(ctx, *tokens(ctx.rng, 4, 4, 3, 2))


@grader.case("attention: more keys than queries (T_q != T_k)", points=2,
             feeds="Q (2, 4), K (5, 4), V (5, 3): standard normal",
             expects="A (2, 5) with rows summing to 1, out (2, 3)",
             tell=f"A has one row per query and one column per key ({ATTENTION}).")
def attention_rectangular(ctx: CaseContext) -> None:
    check_attention(ctx, *tokens(ctx.rng, 2, 5, 4, 3))


@grader.case("attention: d_k = 1", points=1,
             feeds="Q (3, 1), K (4, 1), V (4, 2)", expects="A (3, 4), out (3, 2); d_k read from the shapes",
             tell=f"d_k is read from the shapes ({ATTENTION}).")
def attention_dk1(ctx: CaseContext) -> None:
    check_attention(ctx, *tokens(ctx.rng, 3, 4, 1, 2))


@grader.case("attention: scores of magnitude 1e4 stay finite", points=1,
             feeds="Q (3, 4), K (4, 4) standard normal times 100, V (4, 2): scores around 1e4",
             expects="finite A and out, equal to the exact values", tell=OVERFLOW_HINT)
def attention_large(ctx: CaseContext) -> None:
    check_attention(ctx, *tokens(ctx.rng, 3, 4, 4, 2, scale=100.0))


@grader.case("counterexample: a token that attends most to another", points=2,
             feeds="(T, d_k) = (3, 2), (2, 1) and (5, 4)",
             expects="X (T, d_k), finite, such that with Q = K = X some row of A has its largest entry off the "
                     "diagonal", tell=COUNTER_HINT)
def counterexample(ctx: CaseContext) -> None:
    problems = C.Problems()
    for T, d_k in ((3, 2), (2, 1), (5, 4)):
        with problems.check():
            check_counterexample(ctx, T, d_k)
    problems.raise_if_any()


# --------------------------------------------------------------------------- hidden cases


@grader.case("softmax: random shapes and axes", points=1, visibility="hidden",
             feeds="S with 1 to 3 axes of length 1..6, entries up to 1e3 in size, a random axis (also negative)",
             expects="P sums to 1 along that axis")
def softmax_random(ctx: CaseContext) -> None:
    ndim = int(ctx.rng.integers(1, 4))
    shape = tuple(int(v) for v in ctx.rng.integers(1, 7, size=ndim))
    S = ctx.rng.standard_normal(shape) * 10.0 ** ctx.rng.uniform(0, 3)
    check_softmax(ctx, S)
    check_softmax(ctx, S, axis=int(ctx.rng.integers(-ndim, ndim)))


@grader.case("attention: random shapes", points=2, visibility="hidden",
             feeds="T_q, d_v in 1..7, T_k, d_k in 2..7, standard normal", expects="A and out by the formulas",
             tell=f"Work through the worked example by hand ({ATTENTION}).")
def attention_random(ctx: CaseContext) -> None:
    # d_k >= 2 and T_k >= 2: with d_k = 1 the 1/d_k and 1/sqrt(d_k) scales agree, and with one key
    # every row of A is [1] whatever the scale, so the case could not tell the mistakes apart.
    T_q, d_v = (int(v) for v in ctx.rng.integers(1, 8, size=2))
    T_k, d_k = (int(v) for v in ctx.rng.integers(2, 8, size=2))
    check_attention(ctx, *tokens(ctx.rng, T_q, T_k, d_k, d_v))


@grader.case("attention: random shapes, large scores", points=1, visibility="hidden",
             feeds="T_q, T_k, d_k, d_v in 2..7, Q and K times 100", expects="finite A and out by the formulas",
             tell=OVERFLOW_HINT)
def attention_random_large(ctx: CaseContext) -> None:
    check_attention(ctx, *tokens(ctx.rng, *(int(v) for v in ctx.rng.integers(2, 8, size=4)), scale=100.0))


@grader.case("counterexample: random T and d_k", points=1, visibility="hidden",
             feeds="T in 2..8, d_k in 1..6", expects="a valid counterexample", tell=COUNTER_HINT)
def counterexample_random(ctx: CaseContext) -> None:
    check_counterexample(ctx, int(ctx.rng.integers(2, 9)), int(ctx.rng.integers(1, 7)))
