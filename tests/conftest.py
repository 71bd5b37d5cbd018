"""Shared helpers: run the real CLI in a subprocess, as TAs and CI do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions_example"

# The checks submissions_example/sheet2/partly_wrong.py fails, and no others.
SHEET2_PARTLY_WRONG_FAILS = frozenset(
    {
        "2.1.predict_class.grid",
        "2.1.predict_class.boundary",
        "2.1.predict_class.far",
        "2.2.logcosh.large",
        "2.2.logcosh.random",
        "2.2.dataset_grad.example",
        "2.2.dataset_grad.random",
        "2.4.grad_v.example",
        "2.4.grad_v.extreme_v",
        "2.4.grad_v.random",
    }
)


def run_grade(
    *args: str | Path, timeout: float = 300, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess:
    """The CLI as a TA runs it; ``env`` sets variables on top of ours (None removes one).

    Its output is read as UTF-8, which is what ``grade`` writes to a pipe everywhere (see
    ``grader.streams``), also where the locale's code page is another (Windows).
    """
    environ = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        cwd=ROOT,
        env={k: v for k, v in environ.items() if v is not None},
    )


def hostile_sheet2(evil: str, name: str, near_miss: int, markup: str = "") -> tuple[str, dict]:
    """A sheet-2 module and notebook that put ``evil`` in every text a report shows.

    The module: an exception's type, message and function name, a near-miss
    function name (``logcosh`` + the first ``near_miss`` characters), and a wrong
    ``predict_class`` so the report draws its figure. The notebook: a cell magic,
    a line magic and a failing cell. ``name`` is ``evil`` fit for a file name.
    """
    correct = (EXAMPLES / "sheet2" / "correct.py").read_text()
    module = (
        correct
        + f"""

EVIL = {evil!r}


class Boom(Exception):
    pass


Boom.__name__ = "Boom" + {name!r}


def logcosh_grad(y, t):
    raise Boom(EVIL * 3)


def _grad(X, w, t):
    raise ValueError({markup!r} + EVIL)


_grad.__code__ = _grad.__code__.replace(co_name="grad" + {name!r})
dataset_grad = _grad


def predict_class(X):
    return np.ones(len(X), dtype=int)


globals()["logcosh" + EVIL[:{near_miss}]] = logcosh
del logcosh
"""
    )
    notebook = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": f"%%{evil}\nprint(1)\n"},
            {"cell_type": "code", "metadata": {}, "source": correct},
            {"cell_type": "code", "metadata": {}, "source": f"raise RuntimeError({evil!r})\n"},
            {"cell_type": "code", "metadata": {}, "source": f"%{evil} magic\n"},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return module, notebook


def grade_json(path: str | Path, sheet: str, *extra: str) -> dict:
    proc = run_grade(path, "--sheet", sheet, "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def grade_json_parallel(runs: dict, timeout: float = 120) -> dict:
    """Grade several submissions through the CLI at the same time (each run is mostly start-up).

    ``runs`` maps any key to CLI arguments, e.g. ``{"a": (path, "--sheet", "7")}``; the JSON
    reports come back under the same keys.
    """
    procs = {
        key: subprocess.Popen(
            [sys.executable, "-m", "grader", *map(str, args), "--format", "json"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key, args in runs.items()
    }
    reports = {}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
        reports[key] = json.loads(out)
    return reports


@pytest.fixture
def submission(tmp_path):
    """Write a submission from dedented source and return its path."""

    def write(source: str, name: str = "submission.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write


def by_function(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for check in report["checks"]:
        out.setdefault(check["function"], []).append(check)
    return out


def answer_from(impl, case) -> dict:
    """What the worker would send back for ``impl`` on ``case``, made in-process.

    The value goes through the real wire format, so tests see exactly the plain
    data the grader sees; an exception becomes the worker's error record.
    """
    import warnings

    import numpy as np

    from grader import wire

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = impl(*case.args, **case.kwargs)
    except Exception as exc:
        builtin = next(c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins")
        error = {
            "kind": "exception",
            "type": type(exc).__name__,
            "builtin": builtin,
            "message": str(exc),
            "where": None,
        }
        return {"ok": False, "error": error}
    frame = wire.encode(value)
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
    return {"ok": True, "value": wire.decode(header, frame[wire.HEADER.size + hlen :])}


def judge_first_case(sheet, check, impl, notes: list[str] | None = None):
    """``impl``'s answer to the check's first public case, judged as the runner judges it."""
    from grader.rounding import rounding_noise
    from grader.runner import judge_answer, truth

    case = check.make_cases(None)[0]
    expected = truth(sheet, check, case)
    return judge_answer(
        check,
        case,
        expected,
        answer_from(impl, case),
        [],
        noise=lambda: rounding_noise(sheet, check, case, expected),
        notes=notes,
    )


def grade_in_process(sheet, function: str, impl, run_seed: int = 0) -> dict:
    """Every check of ``function`` judged with ``impl`` as the student's code, no sandbox.

    Returns {check id: Verdict} using the runner's own judgement (first failing
    case decides; the first matching known mistake gives the hint).
    """
    from grader.rounding import rounding_noise
    from grader.runner import Verdict, judge_answer, truth

    verdicts = {}
    for exercise, check in sheet.iter_checks():
        if check.function != function:
            continue
        cid = sheet.check_id(exercise, check)
        verdict = Verdict("passed")
        for case in check.make_cases(check.seed(cid, run_seed)):
            expected = truth(sheet, check, case)
            answer = answer_from(impl, case)
            found = judge_answer(
                check,
                case,
                expected,
                answer,
                sheet.mistakes_for(check),
                noise=lambda: rounding_noise(sheet, check, case, expected),  # noqa: B023
            )
            if found is not None:
                verdict = found
                break
        verdicts[cid] = verdict
    return verdicts
