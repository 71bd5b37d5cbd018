"""Every wrong answer is visible: perturbed right answers fail a check of their function.

For each contract function, the reference's answer is perturbed the way a slip
would perturb it (off by 0.1 %, sign flipped, all zeros, an integer off by one)
and judged by the runner's own rules. At least one check of that function must
fail, and no check of any other function is involved (checks call one function).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conftest import grade_in_process
from grader.contract import CONTRACT
from grader.sheets import available, load


def perturb(value: Any, leaf: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: perturb(v, leaf) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        out = [perturb(v, leaf) for v in value]
        return tuple(out) if isinstance(value, tuple) else out
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, (int, float, np.ndarray, np.number)):
        return leaf(value)
    return value


def _scale(x: Any) -> Any:
    if isinstance(x, (int, np.integer)):
        return x + 1
    a = np.asarray(x, dtype=np.float64)
    return (a * 1.001 + 1e-3 * (a == 0)) if a.ndim else float(a * 1.001 + 1e-3 * (a == 0))


def _negate(x: Any) -> Any:
    if isinstance(x, (int, np.integer)):
        return -x - 1
    a = np.asarray(x, dtype=np.float64)
    return (-a - (a == 0)) if a.ndim else float(-a - (a == 0))


def _zero(x: Any) -> Any:
    if isinstance(x, (int, np.integer)):
        return x + 2
    a = np.asarray(x, dtype=np.float64)
    return (np.zeros_like(a) + (a == 0)) if a.ndim else float(a == 0)


MUTATIONS = {"off_by_0.1%": _scale, "negated": _negate, "zeroed": _zero}

# Functions whose answers hold no number to perturb (names and structure only):
# their wrong answers are covered by their known mistakes and their judges' tests.
NO_NUMBERS = {"tree_equations", "sheet_graph"}

PARAMS = [
    pytest.param(sheet_id, fn.name, name, id=f"{sheet_id}-{fn.name}-{name}")
    for sheet_id in available()
    for fn in CONTRACT[sheet_id]
    if fn.name not in NO_NUMBERS
    for name in MUTATIONS
]


@pytest.mark.parametrize(("sheet_id", "function", "mutation"), PARAMS)
def test_a_perturbed_answer_fails_a_check_of_its_function(sheet_id, function, mutation):
    sheet = load(sheet_id)
    reference = getattr(importlib.import_module(f"reference.sheet{sheet_id}"), function)
    leaf = MUTATIONS[mutation]

    def wrong(*args, **kwargs):
        return perturb(reference(*args, **kwargs), leaf)

    verdicts = grade_in_process(sheet, function, wrong)
    assert any(v.status != "passed" for v in verdicts.values()), f"{function} {mutation} passes"
