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

INIT = "statement, 'Initialization'"
FORWARD = "statement, 'Forward'"
BACKWARD = "statement, 'Backward'"
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
    f"the adapted layer's weight is the frozen one plus the low-rank correction ({FORWARD}).",
    lambda i, e: {"Y": e["Y"] - i["X"] @ (i["A"] @ i["B"]).T},
)
SUM_HINT = f"like a dense layer's, these gradients sum the samples' contributions and never average ({BACKWARD})."
DA_AVERAGED = Mistake(
    "grad-averaged", "You divided dA by the batch size N.", SUM_HINT,
    lambda i, e: {"dA": e["dA"] / i["X"].shape[0]},
)
DB_AVERAGED = Mistake(
    "grad-averaged", "You divided dB by the batch size N.", SUM_HINT,
    lambda i, e: {"dB": e["dB"] / i["X"].shape[0]},
)
SHAPE_HINT = f"a gradient has the shape of its factor: dA like A (m, r), dB like B (r, n) ({BACKWARD})."
DA_TRANSPOSED = Mistake(
    "grad-transposed", "Your dA is the transpose of the gradient (shape (r, m), e.g. B @ G.T).", SHAPE_HINT,
    lambda i, e: {"dA": e["dA"].T},
)
DB_TRANSPOSED = Mistake(
    "grad-transposed", "Your dB is the transpose of the gradient (shape (n, r), e.g. G.T @ A).", SHAPE_HINT,
    lambda i, e: {"dB": e["dB"].T},
)
BACKWARD_MISTAKES = (DA_AVERAGED, DB_AVERAGED, DA_TRANSPOSED, DB_TRANSPOSED)
DEAD_HINT = f"one factor must start random so that the other gets a gradient ({INIT})."
B_ZERO_HINT = f"the adapted layer must start out exactly as the pretrained one ({INIT})."
MIRRORED_HINT = "follow this exercise's names, not the paper's: A is the random factor (statement, 'Conventions')."
RNG_HINT = (f"every random number comes from the generator passed as rng, never from np.random or a generator "
            f"the function makes itself ({INIT}).")


def diagnose_init(A: np.ndarray, B: np.ndarray, r: int) -> Fail | None:
    """What is wrong with well-shaped initial factors, or None."""
    a_zero, b_zero = not A.any(), not B.any()
    if a_zero and b_zero:
        return Fail("lora_init returned A = 0 and B = 0. Then dA = G @ B.T = 0 and dB = A.T @ G = 0: no gradient "
                    "ever reaches the adapter, it can never learn.", ["adapter-dead"],
                    hints=[DEAD_HINT])
    if a_zero:
        return Fail("lora_init returned A = 0 and a random B: the mirrored convention (the LoRA paper names the "
                    "factors the other way round). In this exercise A (m, r) is the random factor and B (r, n) "
                    "starts at zero.", ["lora-mirrored"],
                    hints=[MIRRORED_HINT])
    if not b_zero:
        return Fail("lora_init returned a non-zero B, so A @ B != 0 and the adapted layer no longer starts as the "
                    "pretrained W0.", ["B-not-zero"],
                    hints=[B_ZERO_HINT])
    rank = int(np.linalg.matrix_rank(A))
    if rank < r:
        return Fail(f"Your A has rank {rank}, not r = {r}: its columns are linearly dependent (e.g. one random "
                    f"column repeated, or a constant), so the adapter can only learn a rank-{rank} update.",
                    ["A-rank-deficient"], hints=[f"draw every entry of A independently from rng ({INIT})."])
    return None


def call_init(ctx: CaseContext, W0: np.ndarray, r: int, seed: int,
              problems: C.Problems) -> tuple[np.ndarray, np.ndarray] | None:
    """Call ``lora_init`` with ``Rng(seed)``; check type, shapes, dtype, finiteness, ``W0`` unchanged.

    Problems go to ``problems``; the factors come back converted to ``W0``'s dtype when their
    values can still be judged (a wrong dtype does not hide a wrong convention), else None.
    """
    result = ctx.call("lora_init", W0, r, Rng(seed))
    with problems.check():
        C.expect_unchanged(result.mutated, ["W0", "r", "rng"], "lora_init")
    got = unpack(("A", "B"), result.value, "lora_init")
    m, n = W0.shape
    factors = []
    for name, shape in (("A", (m, r)), ("B", (r, n))):
        value = C.conform(got[name], shape, W0.dtype, name, SHAPES[name], problems)
        if value is not None:
            with problems.check() as finite:
                C.expect_finite(value, name)
            value = None if finite.failed else value
        factors.append(value)
    A, B = factors
    return None if A is None or B is None else (A, B)


def check_init(ctx: CaseContext, W0: np.ndarray, r: int, problems: C.Problems) -> tuple[np.ndarray, np.ndarray] | None:
    factors = call_init(ctx, W0, r, ctx.seed(), problems)
    if factors is not None:
        found = diagnose_init(*factors, r)
        if found is not None:
            problems.add(found)
    return factors


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


W0_HINT = f"W0 is frozen: lora_backward returns exactly (dA, dB) ({BACKWARD})."


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
               f"{C.fmt_shape(W0.shape)}: a gradient for W0, which is frozen and gets none.{also}", ["W0-gradient"],
               fraction=0.5 if right else 0.0, hints=[W0_HINT])


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
    problems = C.Problems()
    factors = call_init(ctx, W0, r, ctx.seed(), problems)
    if factors is None:
        problems.raise_if_any()
    A0, B0 = factors
    args = {"X": X, "W0": W0, "A": A0, "B": B0, "dY": dY}
    result = ctx.call("lora_backward", *args.values())
    with problems.check():
        C.expect_unchanged(result.mutated, list(args), "lora_backward")
    if any(shaped_like_w0(returned_items(result.value), args)):
        problems.add(Fail(f"lora_backward returned a gradient for W0 (an array of shape {C.fmt_shape(W0.shape)}); "
                          f"W0 is frozen and gets none.", ["W0-gradient"], hints=[W0_HINT]))
        problems.raise_if_any()
    grads = unpack(("dA", "dB"), result.value, "lora_backward")
    for name, like in (("dA", A0), ("dB", B0)):
        grads[name] = C.conform(grads[name], like.shape, None, name, SHAPES[name], problems)
        if grads[name] is None:
            problems.raise_if_any()
        with problems.check():
            C.expect_finite(grads[name], name)
    if problems and not all(np.all(np.isfinite(g)) for g in grads.values()):
        problems.raise_if_any()
    A1 = A0 - LEARNING_RATE * grads["dA"]
    B1 = B0 - LEARNING_RATE * grads["dB"]
    delta = (W0 + A1 @ B1) - W0
    scale = np.linalg.norm(W0, 2) + np.linalg.norm(A1 @ B1, 2)
    tol = SPAN_TOL * scale
    setup = (f"From your lora_init (A0, B0) and your lora_backward at (A0, B0), one SGD step with lr = "
             f"{LEARNING_RATE} gives A1, B1; the update is W0 + A1 @ B1 - W0.")
    if np.linalg.norm(delta, 2) <= tol:
        if not A0.any() and not B0.any():
            problems.add(Fail(f"{setup} It is zero: with A0 = 0 and B0 = 0 both gradients vanish (dA = G @ B.T, "
                              f"dB = A.T @ G), so the adapter never learns.", ["adapter-dead"],
                              hints=[DEAD_HINT]))
        else:
            problems.add(Fail(f"{setup} It is zero: your gradients at initialization do not move the adapter. At "
                              f"B = 0, dA = G @ B.T is zero but dB = A.T @ G is not.", hints=[ctx.case.tell]))
        problems.raise_if_any()
    singular = np.linalg.svd(delta, compute_uv=False)
    rank = int(np.sum(singular > tol))
    if rank > r:
        problems.add(Fail(f"{setup} It has rank {rank}, more than r = {r}: a LoRA update A1 @ B1 can never have "
                          f"rank above r.", hints=[ctx.case.tell]))
    elif not A0.any():
        problems.add(Fail(f"{setup} Its columns do not lie in the span of the initial A, because your A0 is zero and "
                          f"B0 random (the mirrored convention): the step moved A instead of B.", ["lora-mirrored"],
                          hints=[MIRRORED_HINT]))
    else:
        U, s, _ = np.linalg.svd(A0, full_matrices=False)
        basis = U[:, s > s[0] * 1e-12]
        residual = delta - basis @ (basis.T @ delta)
        if np.linalg.norm(residual, 2) > tol:
            extra = ("B0 is not zero, so dA = G @ B0.T moved A as well."
                     if B0.any() else "At B = 0 the gradient dA = G @ B.T must be zero, so A stays put; yours is not.")
            problems.add(Fail(f"{setup} Its columns leave the span of the initial A0 (the part outside has norm "
                              f"{np.linalg.norm(residual, 2):.3g}). {extra}", ["B-not-zero"] if B0.any() else [],
                              hints=[ctx.case.tell]))
    problems.raise_if_any()


# --------------------------------------------------------------------------- visible cases


@grader.case("init: shapes, B = 0, A of rank r", points=3,
             feeds="W0 (6, 5), r = 2, a generator rng", expects="A (6, 2) from rng with rank 2, B (2, 5) all zeros; "
             "W0 unchanged")
def init_basic(ctx: CaseContext) -> None:
    _, W0, _ = frozen_layer(ctx.rng, 1, 5, 6)
    problems = C.Problems()
    check_init(ctx, W0, 2, problems)
    problems.raise_if_any()


@grader.case("init: reproducible for equal seeds, different for different seeds", points=2,
             feeds="W0 (5, 4), r = 3; generators from seeds s, s again, and t != s",
             expects="equal (A, B) for the two generators seeded s; different (A, B) for seed t")
def init_reproducible(ctx: CaseContext) -> None:
    _, W0, _ = frozen_layer(ctx.rng, 1, 4, 5)
    s, t = ctx.seed(), ctx.seed()
    while t == s:
        t = ctx.seed()
    problems = C.Problems()
    first, again, other = (call_init(ctx, W0, 3, seed, problems) for seed in (s, s, t))
    if first is None or again is None or other is None:
        problems.raise_if_any()
    if not any(a.any() for a in first + other):
        problems.add(diagnose_init(*first, 3))  # nothing was drawn at all: adapter-dead
    elif not all(np.array_equal(a, b) for a, b in zip(first, again)):
        problems.add(Fail("Two calls of lora_init with generators built from the same seed returned different "
                          "factors: your code draws from the global np.random (or a fresh, unseeded generator) "
                          "instead of the rng argument.", ["global-random"], hints=[RNG_HINT]))
    elif all(np.array_equal(a, b) for a, b in zip(first, other)):
        problems.add(Fail("Generators with different seeds gave identical factors: your code ignores the rng "
                          "argument and uses a fixed seed instead (np.random.seed(...), or a generator it seeds "
                          "itself such as np.random.default_rng(0)).", ["global-random"], hints=[RNG_HINT]))
    problems.raise_if_any()


@grader.case("forward: a trained adapter", points=2,
             feeds="X (4, 5), W0 (3, 5), A (3, 2), B (2, 5): standard normal",
             expects="Y = X @ (W0 + A @ B).T, shape (4, 3); inputs unchanged",
             tell=f"Work through the worked example by hand ({FORWARD}).")
def forward_trained(ctx: CaseContext) -> None:
    X, W0, _ = frozen_layer(ctx.rng, 4, 5, 3)
    check_forward(ctx, X, W0, *adapter(ctx.rng, 3, 5, 2))


@grader.case("forward at initialization equals the frozen layer", points=2,
             feeds="W0 (4, 6), r = 2; your lora_init's (A, B); X (5, 6)",
             expects="lora_forward(X, W0, A, B) == X @ W0.T exactly (up to the rounding of one matrix product)",
             tell=f"With B = 0 the adapter adds nothing ({FORWARD}).")
def forward_at_init(ctx: CaseContext) -> None:
    X, W0, _ = frozen_layer(ctx.rng, 5, 6, 4)
    r = 2
    frozen = C.as_array(ctx.expected("lora_forward", X, W0, np.zeros((4, r)), np.zeros((r, 6))), "X @ W0.T")
    problems = C.Problems()
    factors = call_init(ctx, W0, r, ctx.seed(), problems)
    if factors is None:
        problems.raise_if_any()
    A, B = factors
    result = ctx.call("lora_forward", X, W0, A, B)
    with problems.check():
        C.expect_unchanged(result.mutated, ["X", "W0", "A", "B"], "lora_forward")
    Y = C.conform(unpack("Y", result.value, "lora_forward")["Y"], frozen.shape, None, "Y", SHAPES["Y"], problems)
    if Y is None:
        problems.raise_if_any()
    with problems.check() as values:
        C.expect_finite(Y, "Y")
        C.expect_close(Y, frozen, "Y at initialization vs X @ W0.T", hidden=ctx.hidden, rtol=EXACT, atol=EXACT)
    if values.failed and B.any():
        problems.add(Fail("Your lora_init returned a non-zero B, so the adapter changes the output from the first "
                          "step.", ["B-not-zero"],
                          hints=[B_ZERO_HINT]))
    problems.raise_if_any(hints=[ctx.case.tell] if values.failed and not B.any() else [])


@grader.case("backward: gradients of both factors", points=3,
             feeds="X (4, 6), W0 (5, 6), A (5, 2), B (2, 6), dY (4, 5): standard normal",
             expects="exactly (dA (5, 2), dB (2, 6)) by the formulas of the statement, no gradient for W0; "
                     "inputs unchanged", tell=f"Work through the worked example by hand ({BACKWARD}).")
def backward_values(ctx: CaseContext) -> None:
    X, W0, dY = frozen_layer(ctx.rng, 4, 6, 5)
    check_backward(ctx, X, W0, *adapter(ctx.rng, 5, 6, 2), dY)


@grader.case("one SGD step from initialization stays in span(A0)", points=3,
             feeds="W0 (6, 5), r = 2, X (8, 5), dY (8, 6); your lora_init and lora_backward; lr = 0.1",
             expects="W0 + A1 @ B1 - W0 is non-zero, has rank <= r, and its columns lie in the span of A0",
             tell="At initialization B = 0, so only B moves (statement, 'Why the update stays in span(A)').")
def sgd_step(ctx: CaseContext) -> None:
    one_step(ctx, 8, 5, 6, 2)


@grader.case("edge ranks: r = 1 and r = min(m, n)", points=1,
             feeds="W0 (4, 3) with r = 1 and r = 3; backward with A (4, 3), B (3, 3)",
             expects="init properties for both ranks; dA, dB at full rank")
def edge_ranks(ctx: CaseContext) -> None:
    X, W0, dY = frozen_layer(ctx.rng, 5, 3, 4)
    problems = C.Problems()
    check_init(ctx, W0, 1, problems)
    check_init(ctx, W0, 3, problems)
    with problems.check():
        check_backward(ctx, X, W0, *adapter(ctx.rng, 4, 3, 3), dY)
    problems.raise_if_any()


# --------------------------------------------------------------------------- hidden cases


@grader.case("init: random shapes", points=1, visibility="hidden",
             feeds="W0 (m, n) with m, n in 2..9, r in 1..min(m, n) - 1", expects="init properties")
def init_random(ctx: CaseContext) -> None:
    _, n, m, r = random_dims(ctx)
    problems = C.Problems()
    check_init(ctx, ctx.rng.standard_normal((m, n)), r, problems)
    problems.raise_if_any()


@grader.case("forward and backward: random shapes", points=2, visibility="hidden",
             feeds="N, n, m in 2..9, r in 1..min(m, n) - 1, random adapter",
             expects="Y, dA and dB by the formulas", tell="Work through the worked example by hand (statement, 'Forward' and 'Backward').")
def forward_backward_random(ctx: CaseContext) -> None:
    N, n, m, r = random_dims(ctx)
    X, W0, dY = frozen_layer(ctx.rng, N, n, m)
    A, B = adapter(ctx.rng, m, n, r)
    problems = C.Problems()
    with problems.check():
        check_forward(ctx, X, W0, A, B)
    with problems.check():
        check_backward(ctx, X, W0, A, B, dY)
    problems.raise_if_any()


@grader.case("one SGD step: random shapes", points=1, visibility="hidden",
             feeds="N, n, m in 2..9, r in 1..min(m, n) - 1; your lora_init and lora_backward",
             expects="the update is non-zero, of rank <= r, in the span of A0",
             tell="At initialization B = 0, so only B moves (statement, 'Why the update stays in span(A)').")
def sgd_step_random(ctx: CaseContext) -> None:
    one_step(ctx, *random_dims(ctx))
