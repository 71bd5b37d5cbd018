"""Sheet 9 spec: the examples graded through the CLI, every known mistake caught and named,
and the custom judges (equations, trees, gradients, CNN layers) on answers of every style."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from conftest import grade_in_process
from exercises import sheet9 as spec
from exercises.sheet9_mistakes import MISTAKES
from grader.judges import sheet9 as judges
from grader.spec import Case
from reference import sheet9 as ref

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions_example" / "sheet9"
SHEET = spec.SHEET


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    """Grade the three examples through the CLI, side by side."""
    names = ["correct.py", "correct_torch.py", "partly_wrong.py"]
    runs = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "grader",
                str(EXAMPLES / name),
                "--sheet",
                "9",
                "--format",
                "json",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    out = {}
    for name, proc in runs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        out[name] = json.loads(stdout)
    return out


def by_id(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


# --- the examples, through the CLI -------------------------------------------------------------


@pytest.mark.parametrize("name", ["correct.py", "correct_torch.py"])
def test_correct_examples_get_full_marks(reports: dict, name: str) -> None:
    report = reports[name]
    failed = {c["id"]: c["message"] for c in report["checks"] if c["status"] != "passed"}
    assert failed == {}
    assert report["score"] == report["max_score"] == 60.0
    assert len(report["checks"]) == sum(1 for _ in SHEET.iter_checks())


PARTLY_WRONG_FAILS = {
    "9.recap.activation_grad.values": "relu'(0) = 0",
    "9.recap.activation_grad.random": "relu'(0) = 0",
    "9.1.conv1d_input_grad.example": "kernel must be flipped",
    "9.1.conv1d_input_grad.random": "kernel must be flipped",
    "9.2.tree_equations.sheet": "bottom-up",
    "9.2.tree_equations.no_spaces": "bottom-up",
    "9.2.tree_equations.shapes": "bottom-up",
    "9.2.tree_equations.random": "bottom-up",
    "9.3.lattice_as_cnn.example": "centre at 0",
    "9.3.lattice_as_cnn.random": "centre at 0",
}


def test_partly_wrong_loses_exactly_its_mistakes(reports: dict) -> None:
    report = reports["partly_wrong.py"]
    checks = by_id(report)
    failed = {cid for cid, c in checks.items() if c["status"] != "passed"}
    assert failed == set(PARTLY_WRONG_FAILS)
    for cid, hint in PARTLY_WRONG_FAILS.items():
        assert checks[cid]["status"] == "failed"
        assert hint in (checks[cid].get("hint") or ""), cid
    # 60 − (3.5 activation_grad + 3 conv1d_input_grad + 6 tree_equations + 10 lattice_as_cnn)
    assert report["score"] == 37.5
    message = checks["9.2.tree_equations.sheet"]["message"]
    assert "equation 1: expected a1 = φ(the, cat), got a1 = φ(a2, a3)" in message


# --- the spec itself ---------------------------------------------------------------------------


def test_points_follow_the_sheet() -> None:
    points = {e.id: e.points for e in SHEET.exercises}
    assert points == {"recap": 10, "1": 10, "2": 20, "3": 20}
    per_function: dict[str, float] = {}
    for _, check in SHEET.iter_checks():
        per_function[check.function] = per_function.get(check.function, 0) + check.points
    assert per_function["recursive_grad"] == 10  # exercise 2(b)
    assert per_function["lattice_as_cnn"] == 10  # exercise 3(b)
    assert per_function["tree_equations"] + per_function["recursive_forward"] == 10
    assert per_function["gnn_layer"] + per_function["unrolled_tree"] == 10


def all_cases(run_seed: int = 0):
    for exercise, check in SHEET.iter_checks():
        cid = SHEET.check_id(exercise, check)
        for case in check.make_cases(check.seed(cid, run_seed)):
            yield cid, check, case


@pytest.mark.parametrize("run_seed", [0, 1, 2])
def test_reference_passes_every_case(run_seed: int) -> None:
    for cid, check, case in all_cases(run_seed):
        truth = SHEET.expected(check, case)
        answer = getattr(ref, check.function)(*case.args, **case.kwargs)
        assert check.compare.judge(truth, answer, not check.hidden) is None, (cid, case.label)


def test_sheet_cases_expose_the_special_inputs() -> None:
    cases: dict[str, list[Case]] = {cid: [] for cid, _, _ in all_cases()}
    for cid, _, case in all_cases():
        cases[cid].append(case)
    # z = 0 and |z| ≥ 710 on the public activation checks
    assert any(0.0 in c.args[1] for c in cases["9.recap.activation.values"])
    assert all(np.abs(c.args[1]).max() >= 710 for c in cases["9.recap.activation.extreme"])
    # C_out ≥ 2 and C_in = C_out among the conv cases
    assert any(c.args[1].shape[0] == c.args[1].shape[1] > 1 for c in cases["9.1.conv1d.example"])
    assert any(c.args[1].shape[0] >= 2 for c in cases["9.1.conv1d_weight_grad.example"])
    # the lattice grids are never square
    assert all(g.shape[0] != g.shape[1] for g in judges.lattice_grids(2))


# --- every known mistake is caught and recognised ----------------------------------------------

MISTAKE_CASES = [
    pytest.param(function, slug, message, wrong, id=f"{function}-{slug}")
    for function, table in MISTAKES.items()
    for slug, message, wrong in table
]


@pytest.mark.parametrize(("function", "slug", "message", "wrong"), MISTAKE_CASES)
def test_mistake_is_caught_and_named(
    function: str, slug: str, message: str, wrong: Callable
) -> None:
    verdicts = grade_in_process(SHEET, function, wrong).values()
    assert any(v.status != "passed" for v in verdicts), f"{slug} passes every check"
    assert any(message in (v.hint or "") for v in verdicts), f"{slug} is never named"


# --- the judges on answers of every style ------------------------------------------------------

SHEET_EQUATIONS = [  # from the seed text (a4 = φ(sat, a3); the posted "cat" is a slip)
    ("a1", "the", "cat"),
    ("a2", "the", "mat"),
    ("a3", "on", "a2"),
    ("a4", "sat", "a3"),
    ("a5", "a1", "a4"),
]


def test_equations_judge() -> None:
    judge = spec.EQUATIONS.judge
    assert judge(SHEET_EQUATIONS, [list(e) for e in SHEET_EQUATIONS], True) is None
    assert judge(SHEET_EQUATIONS, tuple(SHEET_EQUATIONS), True) is None
    assert judge([], [], True) is None
    slip = [*SHEET_EQUATIONS[:3], ("a4", "cat", "a3"), SHEET_EQUATIONS[4]]
    assert judge(SHEET_EQUATIONS, slip, True) == (
        "equation 4: expected a4 = φ(sat, a3), got a4 = φ(cat, a3)"
    )
    assert judge(SHEET_EQUATIONS, slip, False) == "equation 4 of 5 is wrong"
    assert "expected 5 equations, got 4" in judge(SHEET_EQUATIONS, SHEET_EQUATIONS[:4], True)
    assert "triple of strings" in judge(SHEET_EQUATIONS, [("a1", "the", 3)], True)
    assert "where a list" in judge(SHEET_EQUATIONS, None, True)


def path_graph() -> np.ndarray:
    return np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)


def test_tree_judge_accepts_any_container_and_integer_labels() -> None:
    truth = ref.unrolled_tree(path_graph(), 0, 2)  # (0, ((1, ((0, ()), (2, ()))),))
    judge = spec.TREE.judge
    assert judge(truth, [0, [[1, [[0, []], [2, []]]]]], True) is None
    assert judge(truth, (np.int64(0), [(1.0, ((np.array(0), ()), (2, [])))]), True) is None
    assert judge((0, ()), [0, []], True) is None


def test_tree_judge_messages() -> None:
    truth = ref.unrolled_tree(path_graph(), 0, 2)
    judge = spec.TREE.judge
    swapped = (0, ((1, ((2, ()), (0, ()))),))
    assert judge(truth, swapped, True) == (
        "the subtree 0 → 1: expected subtrees for nodes [0, 2], got [2, 0]"
    )
    assert "wrong nodes or in the wrong order" in judge(truth, swapped, False)
    assert "expected 2 subtrees, got 1" in judge(truth, (0, ((1, ((0, ()),)),)), False)
    assert "expected node 0, got 1" in judge(truth, (1, ()), True)
    assert "not an integer" in judge(truth, ("0", ()), True)
    assert "not an integer" in judge(truth, (True, ()), True)
    assert "pair (node, subtrees)" in judge(truth, (0, (1, 2)), True)
    assert "pair (node, subtrees)" in judge(truth, 0, True)


def test_grads_judge_extra_words_must_be_zero() -> None:
    rng = np.random.default_rng(3)
    emb = {w: rng.standard_normal(2) for w in ["the", "cat", "sat", "on", "mat", "dog"]}
    W, b, u = rng.standard_normal((2, 4)), rng.standard_normal(2), rng.standard_normal(2)
    truth = ref.recursive_grad(ref.SHEET_SENTENCE, emb, W, b, u)
    judge = spec.GRADS.judge
    with_dog = {**truth, "emb": {**truth["emb"], "dog": [0.0, 0.0]}}
    assert judge(truth, with_dog, True) is None
    with_dog["emb"]["dog"] = [0.0, 1e-3]
    assert "emb['dog'] should be 0" in judge(truth, with_dog, True)
    with_dog["emb"]["dog"] = None  # torch's .grad of a word the sentence does not use
    assert "emb['dog'] is None; a word not in the sentence needs zeros" in judge(
        truth, with_dog, True
    )
    with_dog["emb"]["dog"] = "zero"
    assert "emb['dog']: returned a string 'zero'" in judge(truth, with_dog, True)
    no_mat = {**truth, "emb": {k: v for k, v in truth["emb"].items() if k != "mat"}}
    assert "lacks the key(s) 'mat'" in judge(truth, no_mat, True)
    assert "lacks the key(s) 'b'" in judge(
        truth, {k: v for k, v in truth.items() if k != "b"}, True
    )


def conv_layers(W: np.ndarray) -> list:
    return ref.lattice_as_cnn(W)


def test_lattice_judge_accepts_other_correct_factorisations() -> None:
    W = np.array([[1.0, -2.0], [0.5, 1.0]])
    truth = spec._lattice_truth(W)
    judge = spec.LATTICE.judge
    plus = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    # W folded into the 3x3 kernel, then an identity 1x1 conv; lists and a bare "relu" string
    folded = np.einsum("ji,kl->ijkl", W, plus)
    identity = np.eye(2)[:, :, None, None]
    layers = [["conv", folded.tolist()], ("conv", identity), "relu"] * 2
    assert judge(truth, layers, True) is None
    # mixing first is fine too: A (H W) = (A H) W
    mix = W.T[:, :, None, None]
    assert (
        judge(truth, [("conv", mix), ("conv", conv_layers(W)[0][1]), ("relu",)] * 2, True) is None
    )


def test_lattice_judge_rejects_malformed_layers() -> None:
    W = np.array([[1.0, -2.0], [0.5, 1.0]])
    truth = spec._lattice_truth(W)
    good = conv_layers(W)
    neighbour, mix = good[0][1], good[1][1]
    judge = spec.LATTICE.judge
    cases = {
        "where a list of layers": {"conv": neighbour},
        "exactly four conv and two relu layers, got 2 conv and 1 relu": good[:3],
        "kh and kw must be odd": [("conv", np.zeros((2, 2, 2, 2))), *good[1:]],
        # TensorFlow's (kh, kw, C_in, C_out): the message says how the axes were read
        "shape (3, 3, 2, 2), read as (C_out, C_in, kh, kw): a 2×2 window": [
            ("conv", neighbour.transpose(2, 3, 1, 0)),
            *good[1:],
        ],
        "it needs four axes": [("conv", mix[:, :, 0, 0]), *good[1:]],
        "C_in = 3": [("conv", np.zeros((2, 3, 3, 3))), *good[1:]],
        "NaN/inf": [("conv", np.full((2, 2, 1, 1), np.nan)), *good[1:]],
        "far larger than needed": [("conv", np.zeros((2, 2, 41, 1))), *good[1:]],
        "each layer is": [("pool", 2), *good[1:]],
        "the kernel returned a string": [("conv", "plus"), *good[1:]],
        "the last conv gives 3 channel(s)": [
            *good[:4],
            ("conv", np.zeros((3, 2, 1, 1))),
            ("relu",),
        ],
    }
    for expected_text, layers in cases.items():
        message = judge(truth, layers, True)
        assert message is not None and expected_text in message, (expected_text, message)


def test_lattice_judge_hides_values_on_hidden_checks() -> None:
    W = np.array([[1.0, -2.0], [0.5, 1.0]])
    truth = spec._lattice_truth(W)
    wrong = conv_layers(W)
    wrong[1] = ("conv", -wrong[1][1])
    public, hidden = spec.LATTICE.judge(truth, wrong, True), spec.LATTICE.judge(truth, wrong, False)
    assert "expected" in public and "values differ" in hidden
    assert not re.search(r"expected|got", hidden)


def test_seed_slip_is_named_on_the_public_sheet_check() -> None:
    (check,) = [c for _, c in SHEET.iter_checks() if c.function == "tree_equations"][:1]
    assert check.name == "sheet" and not check.hidden
    ((message, slip),) = [(m, f) for s, m, f in MISTAKES["tree_equations"] if s == "seed_slip_cat"]
    verdict = grade_in_process(SHEET, "tree_equations", slip)["9.2.tree_equations.sheet"]
    assert verdict.status == "failed" and verdict.hint == message
