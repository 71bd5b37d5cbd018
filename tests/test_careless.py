"""A careless student's submissions get a message that tells them what to fix.

Each test is a slip a real student makes (a file saved the wrong way, a
function that exits or waits for the keyboard, a name in the wrong case) and
proves the report names the slip instead of misleading them.
"""

from __future__ import annotations

import numpy as np

from conftest import answer_from
from grader.rounding import rounding_noise
from grader.runner import judge_answer, truth
from grader.sheets import load


def _careless_judge(check_id: str, impl):
    sheet = load("2")
    check = next(c for e, c in sheet.iter_checks() if sheet.check_id(e, c) == check_id)
    case = check.make_cases(None)[0]
    expected = truth(sheet, check, case)
    return judge_answer(
        check,
        case,
        expected,
        answer_from(impl, case),
        [],
        noise=lambda: rounding_noise(sheet, check, case, expected),
    )


def test_careless_far_off_float64_answer_is_not_told_to_use_float64():
    """`return y` lands on float32-exact numbers but is no rounding problem."""
    verdict = _careless_judge("2.2.logcosh.large", lambda y, t: np.asarray(y, dtype=np.float64))
    assert verdict.status == "failed"
    assert "float32" not in verdict.message and "float64" not in verdict.message


def test_careless_far_off_float64_answer_is_not_said_judged_as_float32():
    verdict = _careless_judge("2.2.logcosh.values", lambda y, t: np.asarray(y) - np.asarray(t))
    assert verdict.status == "failed" and "float32" not in verdict.message
