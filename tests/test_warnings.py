"""sigmoid must not raise a RuntimeWarning under numpy's default error state (sheet 9's contract).

The worker calls every function under numpy's default error state and notes the
warnings it raises; a case marked ``no_warnings`` fails on a RuntimeWarning even
when its value is right. What the submission did to numpy's error state or to
the warnings filters at import does not matter; other cases ignore warnings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from conftest import grade_json_parallel
from exercises import sheet9
from grader import wire, worker
from grader.runner import judge_answer, truth
from grader.sandbox import malformed_answer
from grader.spec import Case

# The worker's side: what a call raised travels with its answer.


def _naive_sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _loud_loop():
    for _ in range(10_000):
        np.exp(np.array([1000.0]))
        warnings.warn("mine", UserWarning, stacklevel=1)
    return 1.0


def _call(fn, *args) -> dict:
    return worker.call({"f": fn}, "f", list(args), {})


def test_a_call_that_overflows_reports_its_runtime_warning():
    answer = _call(_naive_sigmoid, np.array([-1000.0, 0.0]))
    assert answer["ok"] and answer["value"].tolist() == [0.0, 0.5]
    assert answer["warnings"] == [
        {"category": "RuntimeWarning", "message": "overflow encountered in exp"}
    ]
    assert "warnings" not in _call(_naive_sigmoid, np.array([0.0]))
    assert malformed_answer("call", answer) is None


def test_warnings_are_noted_whatever_the_submission_set_at_import():
    before = np.geterr()
    try:
        with warnings.catch_warnings():
            np.seterr(all="ignore")
            warnings.filterwarnings("ignore")
            answer = _call(_naive_sigmoid, np.array([-1000.0]))
            assert np.geterr()["over"] == "ignore"  # the submission's own state is back
        assert answer["warnings"][0]["category"] == "RuntimeWarning"
    finally:
        np.seterr(**before)


def test_a_warning_in_a_loop_is_noted_once_and_the_list_is_bounded():
    answer = _call(_loud_loop)
    assert answer["warnings"] == [
        {"category": "RuntimeWarning", "message": "overflow encountered in exp"},
        {"category": "UserWarning", "message": "mine"},
    ]

    def many():
        for i in range(100):
            warnings.warn(f"warning {i}" + "x" * 1000, RuntimeWarning, stacklevel=1)

    noted = _call(many)["warnings"]
    assert len(noted) == wire.MAX_WARNINGS
    assert all(len(w["message"]) == wire.MAX_WARNING_TEXT for w in noted)
    assert malformed_answer("call", {"ok": True, "value": None, "warnings": noted}) is None


def test_an_exception_from_a_warning_filter_set_at_import_is_not_raised():
    """A submission's "error" filter would otherwise turn a grader-checked warning into a crash."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        answer = _call(_naive_sigmoid, np.array([-1000.0]))
    assert answer["ok"] and answer["warnings"][0]["category"] == "RuntimeWarning"


def test_a_call_that_raises_after_a_warning_is_still_its_error():
    def overflow_then_fail(z):
        np.exp(z)
        raise ValueError("no")

    answer = _call(overflow_then_fail, np.array([1000.0]))
    assert not answer["ok"] and answer["error"]["type"] == "ValueError"


NOTE = {"category": "RuntimeWarning", "message": "overflow encountered in exp"}


@pytest.mark.parametrize(
    "noted",
    [
        {"category": "RuntimeWarning"},
        [{"category": "RuntimeWarning"}],
        [{**NOTE, "extra": "x"}],
        [{**NOTE, "message": 3}],
        [{**NOTE, "message": "x" * (wire.MAX_WARNING_TEXT + 1)}],
        [NOTE] * (wire.MAX_WARNINGS + 1),
        [[NOTE["category"], NOTE["message"]]],
        None,
    ],
)
def test_malformed_warnings_are_refused(noted):
    assert malformed_answer("call", {"ok": True, "value": 1.0, "warnings": noted})
    case = {"ok": True, "case": 0, "answer": {"ok": True, "value": 1.0, "warnings": noted}}
    assert malformed_answer("calls", case)


# The runner's side: only cases marked no_warnings care, and only about RuntimeWarnings.


def _extreme(name: str) -> tuple:
    check = next(
        c
        for e, c in sheet9.SHEET.iter_checks()
        if c.function == "activation" and c.name == "extreme"
    )
    case = next(c for c in check.make_cases(None) if c.args[0] == name)
    return check, case, truth(sheet9.SHEET, check, case)


def test_a_right_sigmoid_that_overflowed_fails_naming_the_warning():
    check, case, expected = _extreme("sigmoid")
    assert case.no_warnings
    answer = _call(_naive_sigmoid, *case.args[1:])
    verdict = judge_answer(check, case, expected, answer, [])
    assert verdict.status == "failed"
    assert "RuntimeWarning: overflow encountered in exp" in verdict.message
    assert judge_answer(check, case, expected, {"ok": True, "value": expected}, []) is None


def test_a_right_value_that_overflowed_gets_no_known_mistakes_hint():
    """The naive sigmoid's value is right, and so is the answer of every known mistake
    that changes another activation: none of them explains the failure."""
    check, case, expected = _extreme("sigmoid")
    answer = _call(_naive_sigmoid, *case.args[1:])
    verdict = judge_answer(check, case, expected, answer, sheet9.SHEET.mistakes_for(check))
    assert verdict.status == "failed" and "RuntimeWarning" in verdict.message
    assert verdict.hint is None


def test_a_wrong_value_is_reported_before_its_warnings():
    check, case, expected = _extreme("sigmoid")
    answer = {"ok": True, "value": expected * 0 + 0.5, "warnings": [NOTE]}
    verdict = judge_answer(check, case, expected, answer, [])
    assert "RuntimeWarning" not in verdict.message and "differ" in verdict.message


@pytest.mark.parametrize("category", ["UserWarning", "DeprecationWarning"])
def test_other_warnings_do_not_count(category):
    check, case, expected = _extreme("sigmoid")
    answer = {"ok": True, "value": expected, "warnings": [{**NOTE, "category": category}]}
    assert judge_answer(check, case, expected, answer, []) is None


def test_cases_not_marked_ignore_warnings():
    check, case, expected = _extreme("tanh")
    assert not case.no_warnings
    answer = {"ok": True, "value": expected, "warnings": [NOTE]}
    assert judge_answer(check, case, expected, answer, []) is None
    assert not Case(label="x").no_warnings


def test_only_sigmoid_cases_of_activation_are_marked():
    marked = {
        (c.function, case.args[0])
        for e, c in sheet9.SHEET.iter_checks()
        for case in c.make_cases(c.seed(sheet9.SHEET.check_id(e, c), 0))
        if case.no_warnings
    }
    assert marked == {("activation", "sigmoid")}


# End to end, through the sandbox.

SUBMISSION = """
import numpy as np
{prelude}

def sigmoid(z):
    {sigmoid}

def tanh(z):
    {tanh}

def activation(name, z):
    z = np.asarray(z, dtype=float)
    if name == "threshold":
        return (z >= 0).astype(float)
    if name == "relu":
        return np.maximum(z, 0.0)
    return sigmoid(z) if name == "sigmoid" else tanh(z)

def activation_grad(name, z):
    z = np.asarray(z, dtype=float)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))  # overflows: the contract asks this of activation only
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    return np.zeros_like(z) if name == "threshold" else (z > 0).astype(float)
"""
NAIVE = "return 1.0 / (1.0 + np.exp(-z))"
STABLE = "e = np.exp(-np.abs(z)); return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"
TANH = "return np.tanh(z)"
# Both branches of np.where are computed: right values, overflow warnings, and not sigmoid.
LOUD_TANH = "return np.where(z > 0, 1 - 2 / (np.exp(2 * z) + 1), 2 / (np.exp(-2 * z) + 1) - 1)"

VARIANTS = {
    "naive": ("", NAIVE, TANH),
    "stable": ("", STABLE, TANH),
    "naive_seterr_ignore": ('np.seterr(all="ignore")', NAIVE, TANH),
    "naive_filters_ignore": ('import warnings\nwarnings.filterwarnings("ignore")', NAIVE, TANH),
    "stable_loud_tanh": ("", STABLE, LOUD_TANH),
}
EXTREME = "9.recap.activation.extreme"


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("warnings")
    runs = {}
    for name, (prelude, sigmoid, tanh) in VARIANTS.items():
        path = folder / f"{name}.py"
        path.write_text(SUBMISSION.format(prelude=prelude, sigmoid=sigmoid, tanh=tanh))
        runs[name] = (path, "--sheet", "9")
    return {
        name: {c["id"]: c for c in r["checks"]} for name, r in grade_json_parallel(runs).items()
    }


def _activation_checks(report: dict) -> dict:
    return {cid: c["status"] for cid, c in report.items() if ".activation" in cid}


def test_a_stable_sigmoid_passes_every_activation_check(reports):
    statuses = _activation_checks(reports["stable"])
    assert len(statuses) == 6 and set(statuses.values()) == {"passed"}, statuses


@pytest.mark.parametrize("name", ["naive", "naive_seterr_ignore", "naive_filters_ignore"])
def test_an_overflowing_sigmoid_loses_the_sigmoid_check_only(reports, name):
    report = reports[name]
    assert report[EXTREME]["status"] == "failed"
    assert "'sigmoid'" in report[EXTREME]["message"]
    assert "RuntimeWarning: overflow encountered in exp" in report[EXTREME]["message"]
    others = {cid: c["status"] for cid, c in report.items() if cid != EXTREME}
    assert others == {cid: c["status"] for cid, c in reports["stable"].items() if cid != EXTREME}


def test_warnings_of_other_activations_do_not_count(reports):
    assert _activation_checks(reports["stable_loud_tanh"]) == _activation_checks(reports["stable"])
