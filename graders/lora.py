"""Grader of ``lora``: a LoRA adapter on a frozen dense layer, initialization and one step.

Contract: ``lora_init(W0, r, rng) -> (A, B)`` with ``A (m, r)`` drawn from ``rng`` with rank
``r`` and ``B (r, n)`` zero; ``lora_forward(X, W0, A, B) -> X @ (W0 + A @ B).T``;
``lora_backward(X, W0, A, B, dY) -> (dA, dB)`` with ``G = dY.T @ X``, ``dA = G @ B.T``,
``dB = A.T @ G``.  Samples are rows; ``W0`` is ``(m, n)`` and frozen.

Decisions a reader of the reports should know:

* ``lora_init`` cannot be compared with the reference value by value: any continuous
  distribution drawn from ``rng`` is right.  It is judged by properties: shapes, ``B`` zero,
  ``rank(A) = r`` (``numpy.linalg.matrix_rank`` with its default tolerance), reproducible for
  generators with equal seeds, different for different seeds.  Two calls with equal seeds
  that disagree, or two seeds that give the same factors, mean the code did not draw from
  ``rng`` (``global-random``).
* "At initialization ``lora_forward`` equals ``X @ W0.T`` exactly" is checked with the
  student's own ``lora_init`` factors against the frozen layer's output (the reference's
  ``lora_forward`` with a zero adapter) at a relative tolerance of 1e-12: exact up to the
  rounding of one matrix product, so that a correct solution that sums in another order
  (einsum, loops) is not punished, while any non-zero adapter (``B`` not zero) is far
  outside it.
* ``W0-gradient`` is named when ``lora_backward`` returns a tuple, list or dict that holds
  an array of ``W0``'s shape ``(m, n)``.  The cases that look for it choose ``r < min(m, n)``,
  so ``(m, n)`` is neither ``A``'s ``(m, r)`` nor ``B``'s ``(r, n)`` shape and the detection
  cannot mistake a gradient of a factor for one of ``W0``.  If the two other items are the
  correct ``dA`` and ``dB`` the case keeps half its points.  Modifying ``W0`` in place (an
  "update" of the frozen weight) is ``input-mutated``, checked on every call.
* The one-step case runs the student's ``lora_init`` and ``lora_backward`` end to end (the
  course's exercise "Medium 1"): ``A1 = A0 - lr dA``, ``B1 = B0 - lr dB``, then
  ``W0 + A1 @ B1 - W0`` must be non-zero, of rank at most ``r`` and have its columns in the
  span of ``A0`` (relative tolerance 1e-8).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graders.framework import CaseContext, Fail, Grader, Mistake, Rng
from graders.framework import checks as C
from graders.framework.case import unpack

grader = Grader("lora", functions=["lora_init", "lora_forward", "lora_backward"])

INIT = "A (m, r) drawn from rng with rank r, B (r, n) all zeros (statement, 'Initialization')"
FORWARD = "Y = X @ (W0 + A @ B).T (statement, 'Forward')"
BACKWARD = "G = dY.T @ X, dA = G @ B.T, dB = A.T @ G (statement, 'Backward')"
SHAPES = {"A": "(m, r)", "B": "(r, n)", "Y": "(N, m)", "dA": "(m, r)", "dB": "(r, n)"}
#: "Exactly" for the forward pass at initialization: the rounding of one matrix product.
EXACT = 1e-12
#: Relative tolerance of the rank and span checks after one SGD step.
SPAN_TOL = 1e-8
LEARNING_RATE = 0.1


def frozen_layer(rng: np.random.Generator, N: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random ``X (N, n)``, ``W0 (m, n)`` and ``dY (N, m)``."""
    return rng.standard_normal((N, n)), rng.standard_normal((m, n)), rng.standard_normal((N, m))


def adapter(rng: np.random.Generator, m: int, n: int, r: int) -> tuple[np.ndarray, np.ndarray]:
    """A trained-looking adapter: ``A (m, r)`` and ``B (r, n)``, both random and non-zero."""
    return rng.standard_normal((m, r)), rng.standard_normal((r, n))


def random_dims(ctx: CaseContext) -> tuple[int, int, int, int]:
    """``N, n, m`` in 2..9 and ``r`` in 1..min(m, n) - 1 (so W0's shape is no factor's shape)."""
    N, n, m = (int(v) for v in ctx.rng.integers(2, 10, size=3))
    r = int(ctx.rng.integers(1, min(m, n)))
    return N, n, m, r


# --------------------------------------------------------------------------- mistakes

ADAPTER_IGNORED = Mistake(
    "adapter-ignored", "Your Y is X @ W0.T: the adapter A @ B is left out of the forward pass.",
    f"the effective weight is W0 + A @ B: {FORWARD}.",
    lambda i, e: {"Y": e["Y"] - i["X"] @ (i["A"] @ i["B"]).T},
)
DA_AVERAGED = Mistake(
    "grad-averaged", "You divided dA by the batch size N.",
    f"the contract sums over the batch and never averages: {BACKWARD}.",
    lambda i, e: {"dA": e["dA"] / i["X"].shape[0]},
)
DB_AVERAGED = Mistake(
    "grad-averaged", "You divided dB by the batch size N.",
    f"the contract sums over the batch and never averages: {BACKWARD}.",
    lambda i, e: {"dB": e["dB"] / i["X"].shape[0]},
)
DA_TRANSPOSED = Mistake(
    "grad-transposed", "Your dA is the transpose of the gradient (shape (r, m), e.g. B @ G.T).",
    f"dA has A's shape (m, r): {BACKWARD}.",
    lambda i, e: {"dA": e["dA"].T},
)
DB_TRANSPOSED = Mistake(
    "grad-transposed", "Your dB is the transpose of the gradient (shape (n, r), e.g. G.T @ A).",
    f"dB has B's shape (r, n): {BACKWARD}.",
    lambda i, e: {"dB": e["dB"].T},
)
BACKWARD_MISTAKES = (DA_AVERAGED, DB_AVERAGED, DA_TRANSPOSED, DB_TRANSPOSED)


def diagnose_init(A: np.ndarray, B: np.ndarray, r: int) -> None:
    """Raise :class:`Fail` naming what is wrong with well-shaped initial factors."""
    a_zero, b_zero = not A.any(), not B.any()
    if a_zero and b_zero:
        raise Fail("lora_init returned A = 0 and B = 0. Then dA = G @ B.T = 0 and dB = A.T @ G = 0: no gradient "
                   f"ever reaches the adapter, it can never learn (adapter-dead). Hint: {INIT}.", ["adapter-dead"])
    if a_zero:
        raise Fail("lora_init returned A = 0 and a random B: the mirrored convention (the LoRA paper names the "
                   "factors the other way round). In this exercise A (m, r) is the random factor and B (r, n) "
                   f"starts at zero (lora-mirrored). Hint: {INIT}.", ["lora-mirrored"])
    if not b_zero:
        raise Fail("lora_init returned a non-zero B, so A @ B != 0 and the adapted layer no longer starts as the "
                   f"pretrained W0 (B-not-zero). Hint: {INIT}.", ["B-not-zero"])
    rank = int(np.linalg.matrix_rank(A))
    if rank < r:
        raise Fail(f"Your A has rank {rank}, not r = {r}: its columns are linearly dependent (e.g. one random column "
                   f"repeated, or a constant), so the adapter can only learn a rank-{rank} update "
                   f"(A-rank-deficient). Hint: draw every entry of A independently from rng; {INIT}.",
                   ["A-rank-deficient"])


def call_init(ctx: CaseContext, W0: np.ndarray, r: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Call ``lora_init`` with ``Rng(seed)``; check type, shapes, dtype, finiteness, ``W0`` unchanged."""
    result = ctx.call("lora_init", W0, r, Rng(seed))
    C.expect_unchanged(result.mutated, ["W0", "r", "rng"], "lora_init")
    got = unpack(("A", "B"), result.value, "lora_init")
    m, n = W0.shape
    for name, shape in (("A", (m, r)), ("B", (r, n))):
        C.expect_shape(got[name], shape, name, SHAPES[name])
        C.expect_dtype(got[name], W0.dtype, name)
        C.expect_finite(got[name], name)
    return got["A"], got["B"]


def check_init(ctx: CaseContext, W0: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    A, B = call_init(ctx, W0, r, ctx.seed())
    diagnose_init(A, B, r)
    return A, B


def returned_items(value: Any) -> list[Any]:
    """The items of a returned tuple, list or dict (values); ``[]`` for anything else."""
    if type(value) is dict:
        return list(value.values())
    return list(value) if type(value) in (tuple, list) else []


def shaped_like_w0(items: list[Any], args: dict[str, np.ndarray]) -> list[bool]:
    """Which items are arrays of ``W0``'s shape; all False where that shape is also a factor's."""
    W0 = args["W0"]
    if W0.shape in (args["A"].shape, args["B"].shape):
        return [False] * len(items)  # ambiguous: the cases looking for W0-gradient avoid these shapes
    return [type(v) is np.ndarray and v.shape == W0.shape for v in items]


def reject_w0_gradient(ctx: CaseContext, value: Any, args: dict[str, np.ndarray]) -> None:
    """Fail with ``W0-gradient`` if ``lora_backward`` returned an array shaped like ``W0``."""
    W0 = args["W0"]
    items = returned_items(value)
    like_w0 = shaped_like_w0(items, args)
    if not any(like_w0):
        return
    rest = [v for v, w in zip(items, like_w0) if not w]
    dA, dB = ctx.expected("lora_backward", *args.values())
    right = (len(rest) == 2 and all(type(v) is np.ndarray for v in rest)
             and C.is_close(rest[0], dA) and C.is_close(rest[1], dB))
    also = " Your dA and dB themselves are right." if right else ""
    raise Fail(f"lora_backward returned {C.describe_type(value)} that includes an array of W0's shape "
               f"{C.fmt_shape(W0.shape)}: a gradient for W0. W0 is frozen: it gets no gradient, and lora_backward "
               f"returns exactly (dA, dB) (W0-gradient).{also} Hint: {BACKWARD}.", ["W0-gradient"],
               fraction=0.5 if right else 0.0)


def check_backward(ctx: CaseContext, X, W0, A, B, dY) -> dict[str, np.ndarray]:
    args = {"X": X, "W0": W0, "A": A, "B": B, "dY": dY}
    reject_w0_gradient(ctx, ctx.call("lora_backward", *args.values()).value, args)
    return ctx.check_call("lora_backward", args, returns=("dA", "dB"), mistakes=BACKWARD_MISTAKES, shapes=SHAPES)


def check_forward(ctx: CaseContext, X, W0, A, B) -> dict[str, np.ndarray]:
    return ctx.check_call("lora_forward", {"X": X, "W0": W0, "A": A, "B": B}, returns="Y",
                          mistakes=(ADAPTER_IGNORED,), shapes=SHAPES)


def one_step(ctx: CaseContext, N: int, n: int, m: int, r: int) -> None:
    """The student's init, the student's gradients, one SGD step: check the update's rank and span."""
    X, W0, dY = frozen_layer(ctx.rng, N, n, m)
    A0, B0 = call_init(ctx, W0, r, ctx.seed())
    args = {"X": X, "W0": W0, "A": A0, "B": B0, "dY": dY}
    result = ctx.call("lora_backward", *args.values())
    C.expect_unchanged(result.mutated, list(args), "lora_backward")
    if any(shaped_like_w0(returned_items(result.value), args)):
        raise Fail(f"lora_backward returned a gradient for W0 (an array of shape {C.fmt_shape(W0.shape)}); "
                   f"W0 is frozen and gets none (W0-gradient). Hint: {BACKWARD}.", ["W0-gradient"])
    grads = unpack(("dA", "dB"), result.value, "lora_backward")
    for name, like in (("dA", A0), ("dB", B0)):
        C.expect_shape(grads[name], like.shape, name, SHAPES[name])
        C.expect_finite(grads[name], name)
    A1 = A0 - LEARNING_RATE * grads["dA"]
    B1 = B0 - LEARNING_RATE * grads["dB"]
    delta = (W0 + A1 @ B1) - W0
    scale = np.linalg.norm(W0, 2) + np.linalg.norm(A1 @ B1, 2)
    tol = SPAN_TOL * scale
    setup = (f"From your lora_init (A0, B0) and your lora_backward at (A0, B0), one SGD step with lr = "
             f"{LEARNING_RATE} gives A1, B1; the update is W0 + A1 @ B1 - W0.")
    if np.linalg.norm(delta, 2) <= tol:
        if not A0.any() and not B0.any():
            raise Fail(f"{setup} It is zero: with A0 = 0 and B0 = 0 both gradients vanish (dA = G @ B.T, "
                       f"dB = A.T @ G), so the adapter never learns (adapter-dead). Hint: {INIT}.", ["adapter-dead"])
        raise Fail(f"{setup} It is zero: your gradients at initialization do not move the adapter. At B = 0, "
                   f"dA = G @ B.T is zero but dB = A.T @ G is not. Hint: {BACKWARD}.")
    singular = np.linalg.svd(delta, compute_uv=False)
    rank = int(np.sum(singular > tol))
    if rank > r:
        raise Fail(f"{setup} It has rank {rank}, more than r = {r}: a LoRA update A1 @ B1 can never have rank "
                   f"above r. Hint: {BACKWARD}.")
    if not A0.any():
        raise Fail(f"{setup} Its columns do not lie in the span of the initial A, because your A0 is zero and "
                   f"B0 random (the mirrored convention): the step moved A instead of B (lora-mirrored). "
                   f"Hint: {INIT}.", ["lora-mirrored"])
    U, s, _ = np.linalg.svd(A0, full_matrices=False)
    basis = U[:, s > s[0] * 1e-12]
    residual = delta - basis @ (basis.T @ delta)
    if np.linalg.norm(residual, 2) > tol:
        extra = ("B0 is not zero, so dA = G @ B0.T moved A as well. "
                 if B0.any() else "At B = 0 the gradient dA = G @ B.T must be zero, so A stays put; yours is not. ")
        codes = ["B-not-zero"] if B0.any() else []
        raise Fail(f"{setup} Its columns leave the span of the initial A0 (the part outside has norm "
                   f"{np.linalg.norm(residual, 2):.3g}). {extra}Hint: {BACKWARD}.", codes)


# --------------------------------------------------------------------------- visible cases


@grader.case("init: shapes, B = 0, A of rank r", points=3,
             feeds="W0 (6, 5), r = 2, a generator rng", expects="A (6, 2) from rng with rank 2, B (2, 5) all zeros; "
             "W0 unchanged", tell=f"Check the initialization: {INIT}.")
def init_basic(ctx: CaseContext) -> None:
    _, W0, _ = frozen_layer(ctx.rng, 1, 5, 6)
    check_init(ctx, W0, 2)


@grader.case("init: reproducible for equal seeds, different for different seeds", points=2,
             feeds="W0 (5, 4), r = 3; generators from seeds s, s again, and t != s",
             expects="equal (A, B) for the two generators seeded s; different (A, B) for seed t",
             tell="Draw every random number from the rng argument (rng.standard_normal(...)), never from "
                  "np.random or a generator you seed yourself.")
def init_reproducible(ctx: CaseContext) -> None:
    _, W0, _ = frozen_layer(ctx.rng, 1, 4, 5)
    s, t = ctx.seed(), ctx.seed()
    while t == s:
        t = ctx.seed()
    first, again, other = (call_init(ctx, W0, 3, seed) for seed in (s, s, t))
    if not any(a.any() for a in first + other):
        diagnose_init(*first, 3)  # nothing was drawn at all: adapter-dead
    if not all(np.array_equal(a, b) for a, b in zip(first, again)):
        raise Fail("Two calls of lora_init with generators built from the same seed returned different factors: "
                   "your code draws from the global np.random (or a fresh, unseeded generator) instead of the "
                   f"rng argument (global-random). {ctx.case.tell}", ["global-random"])
    if all(np.array_equal(a, b) for a, b in zip(first, other)):
        raise Fail("Generators with different seeds gave identical factors: your code ignores the rng argument "
                   "and uses a fixed seed (np.random.seed(...) or default_rng(0)) instead (global-random). "
                   f"{ctx.case.tell}", ["global-random"])


@grader.case("forward: a trained adapter", points=2,
             feeds="X (4, 5), W0 (3, 5), A (3, 2), B (2, 5): standard normal",
             expects="Y = X @ (W0 + A @ B).T, shape (4, 3); inputs unchanged", tell=f"Check the formula: {FORWARD}.")
def forward_trained(ctx: CaseContext) -> None:
    X, W0, _ = frozen_layer(ctx.rng, 4, 5, 3)
    check_forward(ctx, X, W0, *adapter(ctx.rng, 3, 5, 2))


@grader.case("forward at initialization equals the frozen layer", points=2,
             feeds="W0 (4, 6), r = 2; your lora_init's (A, B); X (5, 6)",
             expects="lora_forward(X, W0, A, B) == X @ W0.T exactly (up to the rounding of one matrix product)",
             tell=f"With B = 0 the adapter adds nothing: {FORWARD}.")
def forward_at_init(ctx: CaseContext) -> None:
    X, W0, _ = frozen_layer(ctx.rng, 5, 6, 4)
    r = 2
    frozen = C.as_array(ctx.expected("lora_forward", X, W0, np.zeros((4, r)), np.zeros((r, 6))), "X @ W0.T")
    A, B = call_init(ctx, W0, r, ctx.seed())
    result = ctx.call("lora_forward", X, W0, A, B)
    C.expect_unchanged(result.mutated, ["X", "W0", "A", "B"], "lora_forward")
    Y = unpack("Y", result.value, "lora_forward")["Y"]
    C.expect_shape(Y, frozen.shape, "Y", SHAPES["Y"])
    C.expect_finite(Y, "Y")
    try:
        C.expect_close(Y, frozen, "Y at initialization vs X @ W0.T", hidden=ctx.hidden, rtol=EXACT, atol=EXACT)
    except Fail as f:
        if B.any():
            raise Fail(f"{f.message}\nYour lora_init returned a non-zero B, so the adapter changes the output "
                       f"from the first step (B-not-zero). Hint: {INIT}.", ["B-not-zero"]) from None
        raise Fail(f"{f.message}\n{ctx.case.tell}") from None


@grader.case("backward: gradients of both factors", points=3,
             feeds="X (4, 6), W0 (5, 6), A (5, 2), B (2, 6), dY (4, 5): standard normal",
             expects="exactly (dA (5, 2), dB (2, 6)) by the formulas of the statement, no gradient for W0; "
                     "inputs unchanged", tell=f"Check the formulas: {BACKWARD}.")
def backward_values(ctx: CaseContext) -> None:
    X, W0, dY = frozen_layer(ctx.rng, 4, 6, 5)
    check_backward(ctx, X, W0, *adapter(ctx.rng, 5, 6, 2), dY)


@grader.case("one SGD step from initialization stays in span(A0)", points=3,
             feeds="W0 (6, 5), r = 2, X (8, 5), dY (8, 6); your lora_init and lora_backward; lr = 0.1",
             expects="W0 + A1 @ B1 - W0 is non-zero, has rank <= r, and its columns lie in the span of A0",
             tell=f"At initialization B = 0, so dA = 0 and only B moves: {BACKWARD}.")
def sgd_step(ctx: CaseContext) -> None:
    one_step(ctx, 8, 5, 6, 2)


@grader.case("edge ranks: r = 1 and r = min(m, n)", points=1,
             feeds="W0 (4, 3) with r = 1 and r = 3; backward with A (4, 3), B (3, 3)",
             expects="init properties for both ranks; dA, dB at full rank")
def edge_ranks(ctx: CaseContext) -> None:
    X, W0, dY = frozen_layer(ctx.rng, 5, 3, 4)
    check_init(ctx, W0, 1)
    check_init(ctx, W0, 3)
    check_backward(ctx, X, W0, *adapter(ctx.rng, 4, 3, 3), dY)


# --------------------------------------------------------------------------- hidden cases


@grader.case("init: random shapes", points=1, visibility="hidden",
             feeds="W0 (m, n) with m, n in 2..9, r in 1..min(m, n) - 1", expects="init properties",
             tell=f"Check the initialization: {INIT}.")
def init_random(ctx: CaseContext) -> None:
    _, n, m, r = random_dims(ctx)
    check_init(ctx, ctx.rng.standard_normal((m, n)), r)


@grader.case("forward and backward: random shapes", points=2, visibility="hidden",
             feeds="N, n, m in 2..9, r in 1..min(m, n) - 1, random adapter",
             expects="Y, dA and dB by the formulas", tell=f"Check the formulas: {FORWARD}; {BACKWARD}.")
def forward_backward_random(ctx: CaseContext) -> None:
    N, n, m, r = random_dims(ctx)
    X, W0, dY = frozen_layer(ctx.rng, N, n, m)
    A, B = adapter(ctx.rng, m, n, r)
    check_forward(ctx, X, W0, A, B)
    check_backward(ctx, X, W0, A, B, dY)


@grader.case("one SGD step: random shapes", points=1, visibility="hidden",
             feeds="N, n, m in 2..9, r in 1..min(m, n) - 1; your lora_init and lora_backward",
             expects="the update is non-zero, of rank <= r, in the span of A0",
             tell=f"At initialization B = 0, so dA = 0 and only B moves: {BACKWARD}.")
def sgd_step_random(ctx: CaseContext) -> None:
    one_step(ctx, *random_dims(ctx))
