"""The `two_layer` grader: correct variants get full marks, every named mistake is detected."""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
from solution_checks import assert_cli_report, assert_codes_registered, contract_codes

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "graders" / "solutions" / "two_layer"

#: Differently written correct solutions: matrix products with momentum (24 hidden units), einsum with the loss
#: from the logits and Adam (32), and the seed's column convention with plain SGD and a decaying rate (64).
CORRECT = ["correct_matmul.py", "correct_einsum_adam.py", "correct_columns.py"]

#: file -> the diagnosis codes its report must contain
WRONG = {
    "grad_summed.py": ["grad-not-averaged"],
    "grad_averaged_twice.py": ["grad-averaged-twice"],
    "forward_returns_logits.py": ["forward-returns-logits"],
    "init_bias_shape_fixed_seed.py": ["wrong-shape", "init-not-xavier", "global-random"],
    "relu_mask_no_bias.py": ["relu-grad-wrong-point"],
    "relu_mask_upstream.py": ["relu-grad-wrong-point"],
    "naive_sigmoid.py": ["sigmoid-overflow", "not-finite"],
    "where_sigmoid.py": ["sigmoid-overflow"],
    "exp_ratio_silenced.py": ["sigmoid-overflow", "not-finite"],
    "no_hidden_relu.py": ["no-hidden-nonlinearity", "accuracy-below-threshold"],
    "tanh_hidden.py": ["wrong-hidden-activation", "accuracy-below-threshold"],
    "loss_summed.py": ["loss-value-wrong"],
    "init_small.py": ["init-not-xavier"],
    "init_he.py": ["init-not-xavier"],
    "init_uniform.py": ["init-not-xavier"],
    "init_bias_nonzero.py": ["init-not-xavier"],
    "init_global_random.py": ["global-random"],
    "init_fixed_seed.py": ["global-random"],
    "gradient_ascent.py": ["loss-not-decreasing"],
    "standardized_params.py": ["accuracy-below-threshold"],
    "shuffle_global.py": ["nondeterministic"],
    "p_column.py": ["wrong-shape"],
}

CONTRACT_CODES = contract_codes("two_layer")


def failures(report) -> list[tuple[str, str]]:
    return [(t.name, t.message) for t in report.tests if t.outcome != "pass"]


def case(report, name: str):
    return next(t for t in report.tests if t.name == name)


@pytest.mark.parametrize("name", ["reference", *CORRECT])
@pytest.mark.parametrize("seed", [5, 987654321])
def test_correct_solutions_get_full_marks(grade_file, name, seed):
    path = ROOT / "reference" / "two_layer.py" if name == "reference" else FOLDER / name
    report = grade_file("two_layer", path, seed=seed)
    assert report.hidden_included
    assert report.score == report.max_score, failures(report)
    assert report.diagnoses == []


@pytest.mark.parametrize("name, codes", sorted(WRONG.items()))
def test_wrong_solution_is_diagnosed(grade_file, name, codes):
    report = grade_file("two_layer", FOLDER / name, seed=11)
    for code in codes:
        assert code in report.diagnoses, (code, failures(report))
    assert report.score < report.max_score
    assert_codes_registered(report)


def test_every_contract_code_is_covered_by_a_wrong_solution():
    assert CONTRACT_CODES <= {c for cs in WRONG.values() for c in cs}
    assert set(WRONG) | set(CORRECT) == {p.name for p in FOLDER.glob("*.py")}


def test_a_mistake_in_one_function_costs_only_its_cases(grade_file):
    report = grade_file("two_layer", FOLDER / "loss_summed.py", seed=11)
    failed = {t.name for t in report.tests if t.outcome != "pass"}
    assert failed == {"loss_and_grads: small batch", "edge shapes: one sample, one hidden unit",
                      "loss_and_grads: random shapes"}
    small = case(report, "loss_and_grads: small batch")
    assert small.diagnoses == ["loss-value-wrong"]
    assert 0 < small.score < small.max_score  # the four gradients were right
    assert "sum over the batch" in small.message


def test_relu_mask_mistake_names_the_point_it_was_taken_at(grade_file):
    report = grade_file("two_layer", FOLDER / "relu_mask_no_bias.py", include_hidden=False)
    small = case(report, "loss_and_grads: small batch")
    assert small.diagnoses == ["relu-grad-wrong-point"]
    assert "without the bias" in small.message
    assert "grads['W2']" not in small.message  # the output layer's gradients were right


@pytest.mark.parametrize("name, function", [("where_sigmoid.py", "forward"), ("naive_sigmoid.py", "loss_and_grads")])
def test_overflow_is_named_from_the_warnings(grade_file, name, function):
    report = grade_file("two_layer", FOLDER / name, include_hidden=False)
    stress = [t for t in report.tests if "sigmoid-overflow" in t.diagnoses]
    assert any(f"`{function}` is not numerically stable" in t.message for t in stress), failures(report)
    assert all("overflow encountered" in t.message for t in stress)
    # with moderate logits the same code is right
    assert case(report, "forward: small batch").outcome == "pass"
    assert case(report, "loss_and_grads: small batch").outcome == "pass"


def test_overflow_that_shows_in_the_values_is_named_with_every_warning_silenced(grade_file):
    """What the stress case can prove without the submission's own word: nan or inf in p."""
    report = grade_file("two_layer", FOLDER / "exp_ratio_silenced.py", include_hidden=False)
    stress = case(report, "forward: huge logits stay finite, without overflow")
    assert stress.diagnoses == ["sigmoid-overflow", "not-finite"]
    assert "NumPy warned" not in stress.message and "contain nan or inf" in stress.message
    assert "cannot be caught here" in stress.expects  # and the case says what it cannot prove


def test_a_correct_recipe_that_misses_the_accuracy_once_is_trained_again(grade_file):
    """Run seed 119 gives the Adam variant 88.2 % on its first two-moons training (21/24 before the
    second try); a second training on new data reaches the threshold, as it does for 298 of 300 seeds."""
    report = grade_file("two_layer", FOLDER / "correct_einsum_adam.py", seed=119)
    assert report.score == report.max_score, failures(report)


def test_a_gradient_mistake_in_the_saturated_case_is_not_called_overflow(grade_file):
    report = grade_file("two_layer", FOLDER / "grad_summed.py", include_hidden=False)
    saturated = case(report, "loss_and_grads: confident mistakes stay finite")
    assert saturated.outcome == "fail"
    assert saturated.diagnoses == ["grad-not-averaged"]


def test_init_feedback_names_the_initialization_used(grade_file):
    messages = {name: case(grade_file("two_layer", FOLDER / name, include_hidden=False),
                           "init_params: shapes, zero biases, Xavier-normal weights").message
                for name in ("init_small.py", "init_he.py", "init_uniform.py", "init_bias_nonzero.py")}
    assert "0.01 * randn" in messages["init_small.py"]
    assert "He initialization" in messages["init_he.py"]
    assert "uniform" in messages["init_uniform.py"]
    assert "not all zeros" in messages["init_bias_nonzero.py"]


def test_linear_network_is_named_at_the_accuracy_cases(grade_file):
    report = grade_file("two_layer", FOLDER / "no_hidden_relu.py", seed=3)
    for name in ("train: accuracy on held-out two moons", "train: accuracy on held-out concentric circles"):
        accuracy = case(report, name)
        assert accuracy.score == 0
        assert accuracy.diagnoses == ["accuracy-below-threshold", "no-hidden-nonlinearity"]
        assert "held-out" in accuracy.message and "required" in accuracy.message


def test_accuracy_is_judged_with_the_statement_forward_pass(grade_file):
    """Parameters for standardized inputs fail on raw X, although the student's own training went well."""
    report = grade_file("two_layer", FOLDER / "standardized_params.py", seed=3)
    assert case(report, "train: the loss falls").outcome == "pass"
    assert case(report, "train: accuracy on held-out two moons").diagnoses == ["accuracy-below-threshold"]
    assert "fold the scaling into W1 and b1" in case(report, "train: accuracy on held-out two moons").message


def test_hidden_feedback_never_shows_expected_values(grade_file):
    report = grade_file("two_layer", FOLDER / "tanh_hidden.py", seed=3)
    hidden = [t for t in report.tests if t.visibility == "hidden" and t.outcome == "fail"]
    assert {t.name for t in hidden} >= {"forward: random shapes", "loss_and_grads: random shapes"}
    assert not [t.message for t in hidden if re.search(r"expected -?[\d.]", t.message)]


def test_a_regrade_with_the_reported_seed_reproduces_the_report(grade_file):
    first = grade_file("two_layer", FOLDER / "relu_mask_no_bias.py")
    again = grade_file("two_layer", FOLDER / "relu_mask_no_bias.py", seed=first.seed)
    strip = lambda r: [(t.name, t.score, t.message, t.diagnoses) for t in r.tests]  # noqa: E731
    assert strip(again) == strip(first)


def test_visible_cases_need_no_reference(grade_file):
    report = grade_file("two_layer", FOLDER / "correct_matmul.py", include_hidden=False)
    assert not report.hidden_included
    assert {t.visibility for t in report.tests} == {"visible"}
    assert report.score == report.max_score


def test_grader_data_is_balanced_and_held_out_points_are_new():
    from graders.two_layer import N_TEST, N_TRAIN, circles, two_moons

    for make in (two_moons, circles):
        rng = np.random.default_rng(0)
        X, y = make(rng, N_TRAIN)
        X_test, y_test = make(rng, N_TEST)
        assert X.shape == (N_TRAIN, 2) and X_test.shape == (N_TEST, 2)
        assert y.sum() == N_TRAIN // 2 and y_test.sum() == N_TEST // 2
        assert not np.isin(X_test[:, 0], X[:, 0]).any()


@pytest.mark.parametrize("path, full", [(ROOT / "reference" / "two_layer.py", True),
                                        (FOLDER / "relu_mask_no_bias.py", False)])
def test_cli_check_json_all(nngrade_cli, path, full):
    done = nngrade_cli("check", "two_layer", str(path), "--json", "--all")
    assert_cli_report(done, "two_layer", full=full, code="relu-grad-wrong-point")


def test_a_wrong_bias_shape_hides_neither_the_spread_nor_the_fixed_seed(grade_file):
    report = grade_file("two_layer", FOLDER / "init_bias_shape_fixed_seed.py", include_hidden=False)
    xavier = case(report, "init_params: shapes, zero biases, Xavier-normal weights")
    assert xavier.diagnoses == ["wrong-shape", "init-not-xavier"] and xavier.score == 0
    assert "params['b1'] has shape (1,)" in xavier.message and "0.01 * randn" in xavier.message
    rng = case(report, "init_params: draws only from rng")
    assert rng.diagnoses == ["wrong-shape", "global-random"] and rng.score == 0


def test_gradients_divided_twice_are_not_called_the_opposite_mistake(grade_file):
    report = grade_file("two_layer", FOLDER / "grad_averaged_twice.py", include_hidden=False)
    assert "grad-averaged-twice" in report.diagnoses and "grad-not-averaged" not in report.diagnoses
    assert "N times too small" in case(report, "loss_and_grads: small batch").message


def test_a_forward_that_returns_logits_is_named(grade_file):
    report = grade_file("two_layer", FOLDER / "forward_returns_logits.py", include_hidden=False)
    small = case(report, "forward: small batch")
    assert small.diagnoses == ["forward-returns-logits"]
    assert case(report, "loss_and_grads: small batch").outcome == "pass"
