"""A student who works in torch float32 (autograd for the gradients) gets full marks.

The examples `submissions_example/sheetN/correct_float32.py` compute in float32 throughout,
except `logcosh` and `logcosh_grad`, where the contract demands float64 accuracy. They are
graded through the real CLI, on the course's inputs (seed 0) and on other hidden inputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import EXAMPLES, grade_json_parallel

SHEETS = ("2", "7", "9", "10")
SEEDS = ("0", "1")


def example(sheet: str) -> Path:
    return EXAMPLES / f"sheet{sheet}" / "correct_float32.py"


@pytest.fixture(scope="module")
def reports() -> dict:
    runs = {
        (sheet, seed): (example(sheet), "--sheet", sheet, "--seed", seed)
        for sheet in SHEETS
        for seed in SEEDS
    }
    return grade_json_parallel(runs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sheet", SHEETS)
def test_float32_submission_gets_full_marks(reports: dict, sheet: str, seed: str) -> None:
    report = reports[sheet, seed]
    failed = [f"{c['id']}: {c['message']}" for c in report["checks"] if c["status"] != "passed"]
    assert not failed, failed
    assert report["score"] == report["max_score"]
