"""A misbehaving function costs its own checks and nothing else."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import EXAMPLES, by_function, grade_json

CORRECT = (EXAMPLES / "sheet2" / "correct.py").read_text()

LOGCOSH_GRAD_POINTS = 10.0


def with_logcosh_grad(body: str) -> str:
    """The correct submission with logcosh_grad replaced by ``body``."""
    head, tail = CORRECT.split("def logcosh_grad(y, t):\n    return np.tanh(y - t)\n")
    return head + "def logcosh_grad(y, t):\n" + body + "\n" + tail


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ("    while True:\n        pass", "timeout", "did not finish"),
        ("    import os\n    os._exit(3)", "error", "crashed"),
        ("    import sys\n    sys.exit(1)", "error", "exit"),
        ("    raise KeyboardInterrupt", "error", "KeyboardInterrupt"),
        ("    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)", "error", "crashed"),
        ("    return None", "failed", "None"),
        ("    return 'tanh(y - t)'", "failed", "string"),
        ("    return np.tanh(y - t)[..., None]", "failed", "shape"),
        ("    return np.full(np.shape(y), np.nan)", "failed", "NaN"),
        ("    return object()", "failed", "object"),
        ("    raise ValueError('nope')", "error", "ValueError: nope"),
    ],
)
def test_bad_function_costs_only_its_checks(submission, body, status, fragment):
    report = grade_json(submission(with_logcosh_grad(body)), "2", "--timeout", "2")
    funcs = by_function(report)
    first = funcs["logcosh_grad"][0]
    assert first["status"] == status, first
    assert fragment in first["message"]
    assert all(c["score"] == 0 for c in funcs["logcosh_grad"])
    assert report["score"] == 100.0 - LOGCOSH_GRAD_POINTS


def test_timed_out_function_is_not_run_again(submission):
    report = grade_json(
        submission(with_logcosh_grad("    while True:\n        pass")), "2", "--timeout", "1"
    )
    second = by_function(report)["logcosh_grad"][1]
    assert second["status"] == "timeout" and "not run" in second["message"]


def test_printing_a_fake_report_changes_nothing(submission):
    fake = (
        '    print(\'{"score": 100, "max_score": 100, "checks": []}\')\n'
        "    import sys\n    sys.stderr.write('passed\\n' * 100)\n"
        "    return -np.tanh(y - t)"
    )
    report = grade_json(submission(with_logcosh_grad(fake)), "2")
    assert report["score"] == 100.0 - LOGCOSH_GRAD_POINTS


def test_hang_at_import_is_a_timeout_for_every_check(submission):
    source = "import time\nwhile True:\n    time.sleep(1)\n"
    report = grade_json(submission(source), "2", "--load-timeout", "2")
    assert report["score"] == 0.0
    assert all(c["status"] == "timeout" for c in report["checks"])


def test_exit_at_import_is_an_error_for_every_check(submission):
    report = grade_json(submission("import sys\nsys.exit(0)\n"), "2")
    assert all(c["status"] == "error" for c in report["checks"])
    assert "exit" in report["load_error"]


def test_notebook_failing_cell_is_reported_and_later_cells_run(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\n" + CORRECT),
        nbformat.v4.new_code_cell("1 / 0"),
        nbformat.v4.new_code_cell(
            "!pip install nothing\ndef logcosh_grad(y, t):\n    return -np.tanh(y - t)"
        ),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    report = grade_json(path, "2")
    assert any("cell 2" in n and "ZeroDivisionError" in n for n in report["notes"])
    assert report["score"] == 100.0 - LOGCOSH_GRAD_POINTS


def test_generators_and_maps_are_read_as_lists(submission):
    source = CORRECT.replace(
        "def logcosh_grad(y, t):\n    return np.tanh(y - t)\n",
        "def logcosh_grad(y, t):\n    return np.array(list(map(float, np.tanh(y - t).ravel())))"
        ".reshape(np.shape(y))\n",
    ).replace(
        "    return 2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24\n",
        "    return (g for g in (2 * (y - t) * x1**2 * w13, 2 * (y - t) * x2**2 * w24))\n",
    )
    assert "(g for g in" in source
    report = grade_json(submission(source), "2")
    assert report["score"] == 100.0, [c for c in report["checks"] if c["status"] != "passed"]


def test_python_m_grader_in_a_students_folder_ignores_their_numpy(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    marker = tmp_path / "imported"
    (tmp_path / "numpy.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit\n")
    (tmp_path / "sub.py").write_text(CORRECT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "sub.py", "--sheet", "2", "--format", "json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    assert '"score": 100.0' in proc.stdout


def test_a_checks_cases_go_in_one_round_trip(submission):
    """The batch path works (a broken one would silently fall back to one call per case)."""
    from grader.session import Options, open_session
    from grader.spec import Case

    session = open_session(submission(CORRECT), Options())
    try:
        assert session.wait_loaded().status == "ok"
        cases = [Case(label=str(v), args=(np.array([v]), np.array([0.0]))) for v in (0.5, 1.5)]
        replies = session.call_many("logcosh_grad", cases, timeout=10)
        assert replies is not None and [r.status for r in replies] == ["ok", "ok"]
        answers = [r.value for r in replies]
        assert [a["ok"] for a in answers] == [True, True]
        assert np.allclose([a["value"][0] for a in answers], np.tanh([0.5, 1.5]))
        missing = session.call_many("nothing_here", cases, timeout=10)
        assert [r.value["error"]["kind"] for r in missing] == ["missing", "missing"]
    finally:
        session.close()


def test_a_batch_that_crashes_names_its_case(submission):
    body = (
        "    import os\n    if float(np.ravel(y)[0]) > 1:\n        os._exit(3)\n"
        "    return np.tanh(y - t)"
    )
    report = grade_json(submission(with_logcosh_grad(body)), "2", "--timeout", "5")
    first = by_function(report)["logcosh_grad"][0]
    assert first["status"] == "error" and "crashed" in first["message"]


def _grad_v_misbehaving(third: str, first: str = "") -> str:
    """The correct sheet-2 submission whose grad_v runs ``third`` on its third call
    (the third case of its first check) and ``first`` on its first."""
    return (
        CORRECT
        + "\n\n_real_grad_v = grad_v\n_calls = [0]\n\n\n"
        + "def grad_v(*args, **kwargs):\n    _calls[0] += 1\n"
        + f"    if _calls[0] == 1:\n        {first or 'pass'}\n"
        + f"    if _calls[0] == 3:\n        {third}\n"
        + "    return _real_grad_v(*args, **kwargs)\n"
    )


def test_stream_a_hang_on_the_third_case_times_out_its_check_once(submission):
    """The hanging case is named after one limit; the function's later checks are not run."""
    started = time.monotonic()
    report = grade_json(submission(_grad_v_misbehaving("while True: pass")), "2", "--timeout", "3")
    elapsed = time.monotonic() - started
    checks = by_function(report)["grad_v"]
    assert checks[0]["status"] == "timeout" and "did not finish within 3 s" in checks[0]["message"]
    assert all(c["message"] == "not run: grad_v timed out in an earlier check" for c in checks[1:])
    others = [c for c in report["checks"] if c["function"] != "grad_v"]
    assert all(c["status"] == "passed" for c in others)
    # One limit and a restart, with room for a loaded machine; two limits were at least 6 s.
    assert elapsed < 5.5, elapsed


def test_stream_cases_before_a_hang_are_judged(submission):
    path = submission(_grad_v_misbehaving("while True: pass", "return 0.0"))
    report = grade_json(path, "2", "--timeout", "2")
    first = by_function(report)["grad_v"][0]
    assert first["status"] == "failed", first


def test_a_longdouble_answer_is_graded_as_float64(submission):
    """np.longdouble (float128 on x86) is a float: a correct logcosh in it gets full marks."""
    body = (
        "def logcosh(y, t):\n"
        "    z = np.abs(np.asarray(y, np.longdouble) - np.asarray(t, np.longdouble))\n"
        "    return z + np.log1p(np.exp(-2 * z)) - np.log(np.longdouble(2))\n"
    )
    head, tail = CORRECT.split("def logcosh(y, t):\n")
    _, rest = tail.split("\n\n\n", 1)
    report = grade_json(submission(head + body + "\n\n" + rest), "2")
    checks = by_function(report)["logcosh"]
    assert all(c["status"] == "passed" for c in checks), checks
    assert report["score"] == 100.0


def _all_crashing(sheet_id: str, prelude: str = "") -> str:
    """A submission whose every contract function kills its own process."""
    from grader.contract import CONTRACT

    functions = "".join(
        f"def {f.name}(*args, **kwargs):\n    os._exit(1)\n\n\n" for f in CONTRACT[sheet_id]
    )
    return f"import os\nimport time\n{prelude}\n\n{functions}"


def test_restarts_are_bounded_per_submission(submission):
    """Every crash restarts the worker; after the budget's restarts the rest is not run."""
    from grader import sheets
    from grader.runner import grade_file
    from grader.session import Options

    path = submission(_all_crashing("2"))
    outcome = grade_file(path, lambda: sheets.load("2"), Options(max_restarts=3))
    messages = [c.message for c in outcome.checks]
    assert any("used up its 3 restarts, so its remaining checks are not run" in m for m in messages)
    stopped = [c for c in outcome.checks if c.message.startswith("not run: the submission used up")]
    assert stopped and all(c.status == "error" and c.score == 0 for c in stopped)
    assert len(stopped) >= len(outcome.checks) - 4  # at most one check per restart ran


def test_total_time_is_bounded_per_submission(submission):
    """A slow import and functions that all crash: each reload costs the import again."""
    path = submission(_all_crashing("2", prelude="time.sleep(1.5)"))
    started = time.monotonic()
    report = grade_json(path, "2", "--submission-timeout", "6")
    seconds = time.monotonic() - started
    assert seconds < 14, seconds  # 6 s of budget, plus start-up; unbounded it was a minute
    last = report["checks"][-1]
    assert last["status"] == "timeout", last
    assert last["message"] == "not run: the submission used up its 6 s time budget"
    assert report["score"] == 0


def test_near_miss_search_is_bounded_whatever_the_worker_lists():
    """750,000 callables (or names of a megabyte) cost the grader no more than a few thousand."""
    from grader.runner import _did_you_mean

    # Anagrams pass difflib's quick filters; distinct objects defeat its cache.
    anagrams = ["".join(("hsoc", "gol")) for _ in range(750_000)]
    started = time.process_time()
    assert _did_you_mean("logcosh", anagrams) is None
    assert _did_you_mean("logcosh", ["x" * 1_000_000] * 50) is None
    assert time.process_time() - started < 0.5  # unbounded: 3 s here, 29 s with real names
    assert "log_cosh" in _did_you_mean("logcosh", ["np", "log_cosh", "tanh"])
    assert "LogCosh_" in _did_you_mean("logcosh", ["LogCosh_"])


FORGED_AT_IMPORT = """
import json
import os
import struct

header = json.dumps({"body": {"$a": 0, "dtype": "<f8", "shape": [1] * 65}, "buffers": [8]})
for fd in range(3, 32):
    try:
        os.write(fd, struct.pack("<Q", len(header)) + header.encode() + bytes(8))
    except OSError:
        pass
"""


def test_a_forged_answer_to_the_load_is_a_load_error_not_a_grader_failure(submission):
    report = grade_json(submission(FORGED_AT_IMPORT), "2")
    assert "could not read" in report["load_error"] and "dimensions" in report["load_error"]
    assert all(c["status"] == "error" for c in report["checks"])


@pytest.mark.parametrize("got", [1e308, 0.0, -np.inf, np.nan])
def test_hostile_an_infinite_truth_is_matched_only_by_the_same_infinity(got):
    """rtol·|inf| is inf, so any finite answer (or the other infinity) used to pass."""
    from grader.comparison import AllClose, close_mask

    want = np.array([np.inf, 2.0])
    for comparator in (AllClose(), AllClose(rtol=1e-9, atol=1e-12, scale_tol=0.0)):
        assert comparator.judge(want, [got, 2.0], public=True) is not None
        assert comparator.judge(want, [np.inf, 2.0], public=True) is None
        assert comparator.judge(-np.inf, -np.inf, public=True) is None
        assert comparator.judge(np.inf, np.inf, public=True, noise=0.0) is None
    assert close_mask(np.array([got, 2.0]), want).tolist() == [False, True]
    assert close_mask(want, want).all()


def test_hostile_an_answer_whose_conversion_raises_notimplemented_is_not_called_unwritten(
    submission,
):
    """A torch meta tensor (or any value) whose conversion raises NotImplementedError was
    reported as "not implemented yet", as if the function itself were a stub."""
    body = (
        "    class Lazy:\n"
        "        def __float__(self):\n"
        "            raise NotImplementedError('later')\n"
        "    return Lazy()"
    )
    report = grade_json(submission(with_logcosh_grad(body)), "2")
    first = by_function(report)["logcosh_grad"][0]
    assert first["status"] == "error", first
    assert "could not be converted" in first["message"], first["message"]
    assert "not implemented yet" not in first["message"]
