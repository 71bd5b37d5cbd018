"""Specs fail loudly when wrong, and their public cases can be frozen into data."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from conftest import EXAMPLES, grade_json, run_grade
from grader import wire
from grader.contract import CONTRACT
from grader.runner import Raised, truth
from grader.sheets import UnknownSheet, available, load
from grader.spec import Case, Check, Exercise, Sheet
from reference import sheet2 as ref2


def check(**overrides):
    fields = {
        "name": "c",
        "function": "logcosh",
        "points": 5,
        "description": "d",
        "cases": [Case(label="x", args=(1.0, 2.0))],
    }
    return Check(**{**fields, **overrides})


def sheet(*checks, points=None):
    total = points if points is not None else sum(c.points for c in checks)
    exercise = Exercise(id="1", title="t", points=total, checks=list(checks))
    return Sheet(id="2", title="t", source="s", exercises=[exercise], reference=ref2)


def test_a_valid_spec_loads():
    assert sheet(check()).points == 5


def test_function_outside_the_contract_fails():
    with pytest.raises(ValidationError, match="contract"):
        sheet(check(function="log_cosh"))


def test_points_that_do_not_add_up_fail():
    with pytest.raises(ValidationError, match="points"):
        sheet(check(), points=6)


def test_duplicate_check_ids_fail():
    with pytest.raises(ValidationError, match="duplicate"):
        sheet(check(), check())


def test_a_check_needs_exactly_one_source_of_cases():
    with pytest.raises(ValidationError, match="exactly one"):
        check(cases=None)
    with pytest.raises(ValidationError, match="exactly one"):
        check(generate=lambda rng: [])


def test_non_positive_points_fail():
    with pytest.raises(ValidationError):
        check(points=0)


def test_unknown_sheet():
    with pytest.raises(UnknownSheet):
        load("3")


@pytest.mark.parametrize("sheet_id", available())
def test_every_contract_function_is_checked(sheet_id):
    checked = {c.function for _, c in load(sheet_id).iter_checks()}
    assert checked == {f.name for f in CONTRACT[sheet_id]}


@pytest.mark.parametrize("sheet_id", available())
def test_every_function_has_known_mistakes(sheet_id):
    spec = load(sheet_id)
    for fn in CONTRACT[sheet_id]:
        assert spec.mistakes.get(fn.name), f"{fn.name} has no known mistakes"


def test_known_mistakes_for_a_function_outside_the_contract_fail():
    with pytest.raises(ValidationError, match="unknown"):
        Sheet(
            id="2",
            title="t",
            source="s",
            exercises=sheet(check()).exercises,
            reference=ref2,
            mistakes={"log_cosh": []},
        )


@pytest.mark.parametrize("sheet_id", available())
def test_every_function_has_a_public_check(sheet_id):
    spec = load(sheet_id)
    for fn in CONTRACT[sheet_id]:
        kinds = {c.hidden for _, c in spec.iter_checks() if c.function == fn.name}
        assert False in kinds, f"{fn.name} has no public check"


@pytest.mark.parametrize("sheet_id", available())
def test_public_cases_and_truths_are_plain_data(sheet_id):
    """A self-check shipped to students can hold these cases and answers, and no reference."""
    spec = load(sheet_id)
    for exercise, c in spec.iter_checks():
        if c.hidden:
            continue
        for case in c.make_cases(None):
            expected = truth(spec, c, case)
            payload = {
                "args": case.args,
                "kwargs": case.kwargs,
                "expected": expected.exception if isinstance(expected, Raised) else expected,
            }
            frame = wire.encode(payload)
            (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
            header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
            decoded = wire.decode(header, frame[wire.HEADER.size + hlen :])
            assert "$x" not in header.decode(), (spec.check_id(exercise, c), decoded)


@pytest.mark.parametrize("sheet_id", available())
def test_untouched_template_scores_zero_with_not_implemented(tmp_path, sheet_id):
    path = tmp_path / f"sheet{sheet_id}.py"
    assert run_grade("template", "--sheet", sheet_id, "-o", path).returncode == 0
    report = grade_json(path, sheet_id)
    assert report["score"] == 0.0
    for c in report["checks"]:
        assert c["status"] == "error" and "not implemented yet" in c["message"], c


def test_template_refuses_to_overwrite(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text("keep me")
    proc = run_grade("template", "--sheet", "2", "-o", path)
    assert proc.returncode == 2 and path.read_text() == "keep me"


def test_examples_exist_for_every_sheet():
    for sheet_id in available():
        folder = EXAMPLES / f"sheet{sheet_id}"
        assert (folder / "correct.py").exists() and (folder / "partly_wrong.py").exists()


def test_negative_tolerances_fail():
    from grader.comparison import AllClose

    with pytest.raises(ValueError, match="negative"):
        AllClose(rtol=-1e-6)
