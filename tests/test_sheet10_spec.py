"""Sheet 10's spec: the examples grade as intended through the CLI, every known mistake is
caught (and named) by a check of its own function, and the checks' inputs keep the
contract's promises (types, edge cases)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import grade_in_process
from exercises.sheet10 import SHEET
from exercises.sheet10_mistakes import MISTAKES
from grader.runner import Raised, truth
from grader.spec import Case, Check

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions_example" / "sheet10"
RUN_SEEDS = (0, 1, 2)

PARTLY_WRONG_FAILS = {
    "10.1.rnn_grads.example": "only uses the last time step",
    "10.1.rnn_grads.bptt": "only uses the last time step",
    "10.2.lstm_param_count.sheet": "one bias vector",
    "10.2.lstm_param_count.random": "one bias vector",
    "10.3.gcn_layer.sheet": None,
    "10.3.gcn_layer.random": None,
    "10.3.layers_to_reach.sheet": "off by one",
    "10.3.layers_to_reach.random": "off by one",
}


GRADED = [("correct.py", 0), ("correct.py", 7), ("correct_torch.py", 0), ("partly_wrong.py", 0)]


@cache
def _reports() -> dict[tuple[str, int], dict]:
    """Grade every example once, all at the same time (each run is mostly start-up)."""
    runs = {}
    for name, seed in GRADED:
        cmd = [
            sys.executable,
            "-m",
            "grader",
            str(EXAMPLES / name),
            "--sheet",
            "10",
            "--format",
            "json",
            "--seed",
            str(seed),
        ]
        runs[name, seed] = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    reports = {}
    for key, run in runs.items():
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        reports[key] = json.loads(out)
    return reports


def _grade(name: str, seed: int = 0) -> dict:
    return _reports()[name, seed]


# ---- the examples ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "seed"), [("correct.py", 0), ("correct.py", 7), ("correct_torch.py", 0)]
)
def test_correct_examples_get_full_marks(name: str, seed: int) -> None:
    report = _grade(name, seed)
    failed = [(c["id"], c["message"]) for c in report["checks"] if c["status"] != "passed"]
    assert failed == []
    assert report["score"] == 100.0 == report["max_score"]
    assert len(report["checks"]) == sum(1 for _ in SHEET.iter_checks())


def test_partly_wrong_loses_exactly_its_mistakes() -> None:
    report = _grade("partly_wrong.py")
    failing = {c["id"]: c for c in report["checks"] if c["status"] != "passed"}
    assert set(failing) == set(PARTLY_WRONG_FAILS)
    assert all(c["status"] == "failed" for c in failing.values())
    for cid, hint in PARTLY_WRONG_FAILS.items():
        if hint is None:
            assert "hint" not in failing[cid], cid
        else:
            assert hint in failing[cid]["hint"], cid
    assert report["score"] == 52.0


def test_partly_wrong_public_messages_show_the_case() -> None:
    checks = {c["id"]: c for c in _grade("partly_wrong.py")["checks"]}
    assert "b → e" in checks["10.3.layers_to_reach.sheet"]["message"]
    assert "expected 2, got 3" in checks["10.3.layers_to_reach.sheet"]["message"]
    assert "['W_hh']" in checks["10.1.rnn_grads.example"]["message"]
    assert "expected" not in checks["10.1.rnn_grads.bptt"]["message"]  # hidden: no values


# ---- known mistakes, in process -------------------------------------------------------------


def _verdicts(function: str, slug: str) -> tuple[set[str], set[str]]:
    """(checks that catch the mistake, checks that name it), over several run seeds, judged
    by the runner's own rules (conftest.grade_in_process)."""
    message, impl = next((m, f) for s, m, f in MISTAKES[function] if s == slug)
    caught, named = set(), set()
    for run_seed in RUN_SEEDS:
        for cid, verdict in grade_in_process(SHEET, function, impl, run_seed).items():
            if verdict.status != "passed":
                caught.add(cid)
                if message in (verdict.hint or ""):
                    named.add(cid)
    return caught, named


def _cases(check_id: str, check: Check) -> list[Case]:
    if check.cases is not None:
        return check.make_cases(None)
    return [c for s in RUN_SEEDS for c in check.make_cases(check.seed(check_id, s))]


ALL_MISTAKES = [(fn, slug) for fn, table in MISTAKES.items() for slug, _, _ in table]


@pytest.mark.parametrize(
    ("function", "slug"), ALL_MISTAKES, ids=[f"{f}-{s}" for f, s in ALL_MISTAKES]
)
def test_every_known_mistake_is_caught_and_named(function: str, slug: str) -> None:
    caught, named = _verdicts(function, slug)
    assert caught, "no check of its function catches it"
    assert named, "no check names it"


@pytest.mark.parametrize("run_seed", range(5))
def test_last_step_only_fails_bptt_with_its_hint(run_seed: int) -> None:
    message, impl = next((m, f) for s, m, f in MISTAKES["rnn_grads"] if s == "last_step_only")
    verdicts = grade_in_process(SHEET, "rnn_grads", impl, run_seed)
    status = {cid.rsplit(".", 1)[1]: v for cid, v in verdicts.items()}
    assert status["example"].status == status["bptt"].status == "failed"
    assert status["example"].hint == status["bptt"].hint == message
    assert status["output_layer"].status == status["single_step"].status == "passed"


# ---- the inputs keep the contract's promises ------------------------------------------------


def _all_cases(function: str) -> list[tuple[Check, Case]]:
    out = []
    for exercise, check in SHEET.iter_checks():
        if check.function == function:
            cid = SHEET.check_id(exercise, check)
            out += [(check, case) for case in _cases(cid, check)]
    return out


def _plain_edges(edges: Any) -> bool:
    return isinstance(edges, list) and all(
        type(e) is tuple and len(e) == 2 and all(type(v) is int for v in e) for e in edges
    )


def _float_arrays(*arrays: Any) -> bool:
    return all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays)


def test_rnn_inputs_cover_t1_long_sequences_and_distinct_sizes() -> None:
    for function in ("rnn_forward", "rnn_grads"):
        lengths = set()
        for check, case in _all_cases(function):
            x, params = case.args[0], case.args[-1]
            assert _float_arrays(x, *params.values())
            T, d = x.shape
            n, K = params["W_hh"].shape[0], params["W_ph"].shape[0]
            assert params["W_hx"].shape == (n, d) and params["h0"].shape == (n,)
            if check.hidden:
                assert len({d, n, K}) == 3
                assert np.abs(params["W_hh"]).max() > 0.1
            if function == "rnn_grads":
                y = case.args[1]
                assert _float_arrays(y) and y.shape == (K,) and sorted(y) == [0] * (K - 1) + [1]
            lengths.add(T)
        assert 1 in lengths and max(lengths) >= 5


def test_graph_inputs_are_int_tuples_with_isolated_and_disconnected_graphs() -> None:
    for function in ("gcn_adjacency", "layers_to_reach", "layers_to_cover"):
        for _, case in _all_cases(function):
            assert _plain_edges(case.args[0]) and type(case.args[1]) is int
            assert all(type(v) is int for v in case.args[2:])
    isolated = [
        case
        for check, case in _all_cases("gcn_layer")
        if check.hidden and (case.args[0].sum(axis=1) == 0).any()
    ]
    assert isolated
    for function in ("layers_to_reach", "layers_to_cover"):
        hidden = [truth(SHEET, c, k) for c, k in _all_cases(function) if c.hidden]
        assert any(isinstance(t, Raised) for t in hidden)
        assert any(isinstance(t, int) and t >= 3 for t in hidden)
        assert any(t == 0 for t in hidden)


def test_public_graph_cases_follow_the_seed() -> None:
    """Truths typed from the seed (Ã of Question 3) and the contract (b → e is two edges)."""
    seed_a_tilde = np.array(
        [
            [1, 1, 0, 0, 1, 1],
            [1, 1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0, 0],
            [0, 1, 1, 1, 0, 1],
            [1, 0, 0, 0, 1, 1],
            [1, 0, 0, 1, 1, 1],
        ]
    )
    ((check, case),) = _all_cases("gcn_adjacency")[:1]
    assert not check.hidden
    np.testing.assert_array_equal(truth(SHEET, check, case), seed_a_tilde)
    reach = {
        k.label.rsplit(", ", 1)[-1]: (k.args[2:], truth(SHEET, c, k))
        for c, k in _all_cases("layers_to_reach")
        if c.name == "sheet"
    }
    assert reach["b → e"] == ((1, 4), 2)
    assert reach["c → e"] == ((2, 4), 3)
    assert reach["a → a"] == ((0, 0), 0)
    cover = [truth(SHEET, c, k) for c, k in _all_cases("layers_to_cover") if c.name == "sheet"]
    assert cover == [3]
    for c, k in _all_cases("layers_to_reach") + _all_cases("layers_to_cover"):
        if c.name in ("unreachable", "disconnected"):
            assert truth(SHEET, c, k) == Raised("ValueError")


def test_param_count_cases_match_the_seeds_formula() -> None:
    for check, case in _all_cases("lstm_param_count"):
        d, n = case.args
        assert truth(SHEET, check, case) == 4 * (d * n) + 4 * (n * n) + 4 * n  # seed, §1.2


# ---- the (h_new, c_new) judge ---------------------------------------------------------------


def test_lstm_judge_accepts_any_pair_and_names_the_wrong_half() -> None:
    ((check, case),) = [(c, k) for c, k in _all_cases("lstm_step") if not c.hidden]
    h, c = truth(SHEET, check, case)
    judge = check.compare.judge
    for got in [
        (h, c),
        [h, c],
        np.stack([h, c]),
        [h.tolist(), c.tolist()],
        (h.astype(np.float32), c.astype(np.float32)),
    ]:
        assert judge((h, c), got, True) is None
    assert judge((h, c), (h, c + 0.01), True).startswith("c_new:")
    assert judge((h, c), (h + 0.01, c), False).startswith("h_new:")
    assert "two vectors of shape (3,)" in judge((h, c), h, True)
    assert (
        "should return (h_new, c_new), two vectors of shape (3,), as a tuple or list; "
        "returned a dict" in judge((h, c), {"h": h, "c": c}, True)
    )
    assert judge((h, c), (c, h), True) is not None


def test_a_row_shaped_p_T_is_told_to_return_a_vector() -> None:
    """h as a (1, n) row (x_t @ W_hx.T + ...) gives p_T of shape (1, K); at T = 1 that is
    also what "p_t for every t" gives, so the hint must cover both readings."""
    from reference.sheet10 import rnn_forward

    verdicts = grade_in_process(SHEET, "rnn_forward", lambda x, p: rnn_forward(x, p)[None, :])
    assert {v.status for v in verdicts.values()} == {"failed"}
    assert "(1, K) row" in verdicts["10.1.rnn_forward.random"].hint


def test_a_sparse_torch_adjacency_is_read_as_its_dense_matrix() -> None:
    """torch.sparse_coo_tensor is how GCN code often holds Ã; the worker densifies it."""
    import torch

    from grader import worker
    from reference.sheet10 import gcn_adjacency

    def sparse(edges: list, num_nodes: int) -> Any:
        dense = torch.tensor(gcn_adjacency(edges, num_nodes))
        return worker.to_plain_deep(dense.to_sparse())

    verdicts = grade_in_process(SHEET, "gcn_adjacency", sparse)
    assert {v.status for v in verdicts.values()} == {"passed"}, verdicts


def test_the_public_lstm_example_shows_a_missing_or_transposed_recurrent_term() -> None:
    """h·W_·h (row-vector habit) or no W_·h h at all must fail the public check, not only
    the hidden one: a constant W_·h with the example's h (summing to 0) hid both."""
    from reference.sheet10 import lstm_step

    def transposed(x, h, c, params):
        flipped = {
            k: v.T if k.startswith("W_") and k.endswith("h") else v for k, v in params.items()
        }
        return lstm_step(x, h, c, flipped)

    def no_recurrence(x, h, c, params):
        return lstm_step(x, np.zeros_like(h), c, params)

    for wrong in (transposed, no_recurrence):
        verdicts = grade_in_process(SHEET, "lstm_step", wrong)
        assert verdicts["10.2.lstm_step.example"].status == "failed", wrong.__name__
