"""Attacks that lie to the grader: patched NumPy and builtins, objects that claim to be equal,
payloads for unpickling, ndarray subclasses, exotic dtypes, huge or deep results, forged frames
on the RPC socket, frozen clocks.

Comparisons, timing and type checks happen on the trusted side on plain data decoded from
bytes, so a submission can lie only about its own outputs.
"""

from __future__ import annotations

import pathlib

import pytest

from sandbox_kit import exfil
from sandbox_kit import attack, host, sandbox  # noqa: F401  (fixtures)

pytestmark = pytest.mark.attack
#: Cases of ``dense`` that never call ``dense_forward``.
BACKWARD_ONLY = {"backward: small batch", "backward: square weights (n_in = n_out)",
                 "batch gradient = sum of per-sample gradients", "backward: random shapes"}
#: Cases of ``dense`` that compare the values of ``dense_forward`` with the expected ones.
FORWARD_CHECKED = {"forward: small batch", "forward: bias on every row (B = n_out)",
                   "edge shapes: B = 1, n_in = 1, n_out = 1", "float32 in, float32 out",
                   "large batch within the time budget", "forward: random shapes", "backward: scaled inputs, float32"}


def no_marks_on_the_host(attack) -> None:
    """The student's methods never ran on the host (they would have left these files)."""
    for what in ("eq", "array", "len", "getattr", "reduce"):
        assert not pathlib.Path(f"/tmp/nngrade-attack-{attack.host.token}-{what}").exists(), what


@pytest.mark.parametrize("name", ["patch_numpy", "patch_builtins_quietly"])
def test_monkeypatching_the_sandbox_does_not_change_the_verdict(attack, name):
    report = attack(name)  # dense_forward returns zeros; every comparison in the sandbox says "equal"
    for t in report.tests:
        assert (t.outcome == "pass") == (t.name not in FORWARD_CHECKED), t
    assert report.score == sum(t.max_score for t in report.tests if t.name not in FORWARD_CHECKED)
    attack.host_untouched(report)


def test_patching_isinstance_and_len_crashes_only_the_sandboxs_own_python(attack):
    report = attack("patch_builtins")
    assert report.score == 0
    assert all(t.diagnoses == ["crashed"] for t in report.tests)
    assert all("replaced Python builtins" in t.message for t in report.tests), report.tests[0].message
    attack.host_untouched(report)


def test_patching_the_framework_inside_the_sandbox_gets_nothing_across(attack):
    report = attack("patch_framework")
    attack.first_case_only(report, "bad-return-type")  # the runner's encoder refused the object
    assert "cannot encode a submission.Anything" in report.tests[0].message
    no_marks_on_the_host(attack)
    attack.host_untouched(report)


@pytest.mark.parametrize("name, words", [
    ("malicious_eq", "is a submission.Liar"),
    ("malicious_reduce", "is a submission.Payload"),
    ("ndarray_subclass", "a subclass of numpy.ndarray"),
    ("masked_array", "a subclass of numpy.ndarray"),
])
def test_objects_that_lie_are_a_bad_return_type(attack, name, words):
    report = attack(name)
    attack.first_case_only(report, "bad-return-type")
    assert words in report.tests[0].message
    no_marks_on_the_host(attack)
    attack.host_untouched(report)


@pytest.mark.parametrize("dtype", ["object", "complex128", "longdouble", "structured", "datetime"])
def test_right_numbers_in_a_non_plain_dtype_are_a_bad_return_type(attack, dtype):
    report = attack("exotic_dtype", replace={"__DTYPE__": repr(dtype)})
    attack.first_case_only(report, "bad-return-type")
    assert "only" in report.tests[0].message and "accepted" in report.tests[0].message
    attack.host_untouched(report)


def test_an_80_gb_result_is_a_memory_limit(attack):
    report = attack("huge_return")
    attack.first_case_only(report, "memory-limit")
    attack.host_untouched(report)


def test_a_million_floats_in_lists_and_a_deep_nest_are_bad_return_types(attack):
    report = attack("long_list_return")
    for t in report.tests:
        if t.name in BACKWARD_ONLY or t.name == "forward: small batch":
            assert (t.outcome, t.diagnoses) == ("error", ["bad-return-type"]), t
    assert "more than 4096 items" in report.tests[0].message
    assert any("nested more than" in t.message for t in report.tests)
    attack.host_untouched(report)


def test_nan_and_inf_are_not_finite(attack):
    report = attack("nan_inf")
    attack.first_case_only(report, "not-finite", outcome="fail")
    attack.host_untouched(report)


@pytest.mark.parametrize("kind, words", [("huge", "broke the grading protocol"), ("garbage", "garbled answer")])
def test_frames_forged_on_the_rpc_socket_end_the_sandbox(attack, kind, words):
    report = attack("forged_frame", replace={"__KIND__": repr(kind)})
    attack.first_case_only(report, "crashed")
    assert words in report.tests[0].message
    attack.host_untouched(report)


def test_frozen_clocks_inside_do_not_hide_a_slow_loop(attack):
    report = attack("frozen_clock", max_wall_seconds=20)
    slow = next(t for t in report.tests if t.name == "large batch within the time budget")
    assert (slow.outcome, slow.diagnoses) == ("fail", ["too-slow"]), slow
    assert all(t.outcome == "pass" for t in report.tests if t is not slow)
    attack.host_untouched(report)


def test_hiding_a_mutation_of_the_inputs_does_not_earn_the_points(attack):
    # The submission patches the sandbox's own checker; the write itself is refused by NumPy.
    report = attack("hide_mutation")
    attack.host_untouched(report)
    assert "input-mutated" in report.diagnoses
    first = report.tests[0]
    assert (first.name, first.outcome, first.score) == ("forward: small batch", "fail", 0.0)
    assert "tried to change its input `X` in place" in first.message


def test_an_in_place_update_of_the_weights_is_refused_and_named(attack):
    report = attack("write_inputs", replace={"__HOW__": repr("in_call")})
    backward = [t for t in report.tests if t.name in BACKWARD_ONLY]
    assert backward and all((t.outcome, t.diagnoses, t.score) == ("fail", ["input-mutated"], 0.0) for t in backward)
    assert all("tried to change its input `W` in place" in t.message and "np.subtract(W" in t.message
               for t in backward), backward[0].message
    assert all(t.outcome == "pass" for t in report.tests if t.name.startswith("forward"))
    attack.host_untouched(report)


def test_the_self_check_in_process_gives_the_same_verdicts_as_the_sandbox(attack):
    from graders.framework.proxy import InProcessRunner

    source = attack.source("write_inputs", replace={"__HOW__": repr("in_call")})
    sandboxed = attack("write_inputs", source=source)
    in_process = attack("write_inputs", source=source, runner=InProcessRunner())
    verdicts = [[(t.name, t.outcome, t.score, t.diagnoses, t.message) for t in r.tests] for r in (sandboxed, in_process)]
    assert verdicts[0] == verdicts[1]
    assert "input-mutated" in in_process.diagnoses
    attack.host_untouched(sandboxed)


def test_writes_into_the_inputs_after_returning_never_land(attack):
    report = attack("write_inputs", replace={"__HOW__": repr("after_return")})
    found = exfil(report, "backward: small batch")
    assert found["attempts"], found
    assert "landed" not in found["attempts"].values(), found["attempts"]
    assert all("read-only" in why or "WRITEABLE" in why for why in found["attempts"].values()), found["attempts"]
    assert any(v != 0.0 for v in found["values"])  # the kept inputs still hold the grader's values
    attack.host_untouched(report)
