"""Sheet 7's spec: the examples grade as intended through the CLI, every known mistake is caught
(and named) by a check of its own function, the public truths are the seed's numbers, the
checks' inputs keep the contract's promises, and the sheet_graph judge evaluates any graph
without ever crashing."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np
import pytest

from conftest import EXAMPLES, grade_in_process, grade_json_parallel
from exercises import sheet7 as spec
from exercises.sheet7_mistakes import MISTAKES
from grader.runner import Raised, truth
from grader.spec import Case, Check
from grader.wire import Unconvertible
from reference import sheet7 as ref

SHEET = spec.SHEET
HERE = EXAMPLES / "sheet7"
GRADED = {
    ("correct.py", 0): 100.0,
    ("correct.py", 7): 100.0,
    ("correct_torch.py", 0): 100.0,
    ("partly_wrong.py", 0): 65.0,  # 100 − (15 pooled grads + 2 k = 3 + 11 random graphs + 7)
}


@cache
def reports() -> dict:
    runs = {
        (name, seed): (HERE / name, "--sheet", "7", "--seed", str(seed)) for name, seed in GRADED
    }
    return grade_json_parallel(runs)


# ---- the examples, through the CLI ------------------------------------------------------------


@pytest.mark.parametrize(("name", "seed"), list(GRADED), ids=lambda v: str(v))
def test_examples_score_as_intended(name: str, seed: int) -> None:
    report = reports()[name, seed]
    assert report["score"] == GRADED[name, seed]
    assert report["max_score"] == 100.0
    assert len(report["checks"]) == sum(1 for _ in SHEET.iter_checks())
    if name.startswith("correct"):
        failed = [(c["id"], c["message"]) for c in report["checks"] if c["status"] != "passed"]
        assert failed == []


PARTLY_WRONG_FAILS = {
    "7.1.conv_pool_net_grad.example": "every unit of each pooling window",
    "7.1.conv_pool_net_grad.random": "every unit of each pooling window",
    "7.3.maxpool2d.k3": "You ignore k",
    "7.4.reverse_mode.random": "For mul(x, x) both factors are x",
    "7.4.sheet_graph.output": "f5 multiplies θ by f4",
    "7.4.sheet_graph.nodes": "f5 multiplies θ by f4",
}


def test_partly_wrong_loses_exactly_its_mistakes_with_hints() -> None:
    checks = {c["id"]: c for c in reports()["partly_wrong.py", 0]["checks"]}
    failing = {cid for cid, c in checks.items() if c["status"] != "passed"}
    assert failing == set(PARTLY_WRONG_FAILS)
    for cid, hint in PARTLY_WRONG_FAILS.items():
        assert checks[cid]["status"] == "failed"
        assert hint in checks[cid]["hint"], cid


def test_partly_wrong_messages_show_values_only_when_public() -> None:
    checks = {c["id"]: c for c in reports()["partly_wrong.py", 0]["checks"]}
    nodes = checks["7.4.sheet_graph.nodes"]["message"]
    assert nodes.startswith("sheet_graph(): f5 = -0.84 at (x1, x2, θ) = (0.3, -1.2, 0.7)")
    assert "θ·f4 = θx2² = 1.008" in nodes  # 0.7 · (−1.2)²
    assert "sin(θx1 + x2) + θx2²" in checks["7.4.sheet_graph.output"]["message"]
    assert (
        "at index (0, 1, 0, 1): expected -0.12352"
        in checks["7.1.conv_pool_net_grad.example"]["message"]
    )
    for cid in ("7.1.conv_pool_net_grad.random", "7.4.reverse_mode.random", "7.3.maxpool2d.k3"):
        assert "expected" not in checks[cid]["message"].replace("expected (", ""), cid
        assert checks[cid]["message"].startswith(cid.split(".")[2] + ":")  # no case label


# ---- the spec ---------------------------------------------------------------------------------


def test_points_weigh_the_derivations() -> None:
    assert {e.id: e.points for e in SHEET.exercises} == {"1": 40, "2": 10, "3": 25, "4": 25}
    per_function: dict[str, float] = {}
    for _, check in SHEET.iter_checks():
        per_function[check.function] = per_function.get(check.function, 0) + check.points
    assert per_function == {
        "conv_net_grad": 15,
        "dense_net_grad": 10,
        "conv_pool_net_grad": 15,
        "conv_output_shape": 7,
        "same_padding": 3,
        "conv2d": 7,
        "relu": 2,
        "maxpool2d": 5,
        "shift_left": 3,
        "count_changed_after_shift": 8,
        "reverse_mode": 18,
        "sheet_graph": 7,
    }


def all_cases(run_seeds: tuple[int, ...] = (0,)) -> list[tuple[str, Check, Case]]:
    """Every (check id, check, case); a hidden check's cases for each run seed."""
    out = []
    for exercise, check in SHEET.iter_checks():
        cid = SHEET.check_id(exercise, check)
        seeds = run_seeds if check.generate else (0,)
        out += [(cid, check, c) for s in seeds for c in check.make_cases(check.seed(cid, s))]
    return out


def cases_of(check_id: str, run_seeds: tuple[int, ...] = (0, 1, 2)) -> list[Case]:
    return [case for cid, _, case in all_cases(run_seeds) if cid == check_id]


@pytest.mark.parametrize("run_seed", [0, 1, 2])
def test_reference_passes_every_case(run_seed: int) -> None:
    for cid, check, case in all_cases((run_seed,)):
        expected = truth(SHEET, check, case)
        if isinstance(expected, Raised):
            with pytest.raises(ValueError):
                getattr(ref, check.function)(*case.args, **case.kwargs)
            continue
        answer = getattr(ref, check.function)(*case.args, **case.kwargs)
        assert check.compare.judge(expected, answer, not check.hidden) is None, (cid, case.label)


# ---- every known mistake is caught and named --------------------------------------------------

ALL_MISTAKES = [(fn, slug) for fn, table in MISTAKES.items() for slug, _, _ in table]
MISTAKE_IDS = [f"{f}-{s}" for f, s in ALL_MISTAKES]


def verdicts(function: str, slug: str, run_seed: int = 0) -> tuple[set[str], set[str]]:
    """(checks of ``function`` that the mistake fails, those whose hint names it), judged by
    the runner's own rules (conftest.grade_in_process)."""
    message, impl = next((m, f) for s, m, f in MISTAKES[function] if s == slug)
    found = grade_in_process(SHEET, function, impl, run_seed)
    failed = {cid for cid, v in found.items() if v.status != "passed"}
    return failed, {cid for cid, v in found.items() if message in (v.hint or "")}


@pytest.mark.parametrize(("function", "slug"), ALL_MISTAKES, ids=MISTAKE_IDS)
@pytest.mark.parametrize("run_seed", [0, 1, 2])
def test_every_known_mistake_is_caught_and_named(function: str, slug: str, run_seed: int) -> None:
    failed, named = verdicts(function, slug, run_seed)
    assert failed, "no check of its function catches it"
    assert named, "no check names it"
    assert failed == named, "a check fails it without naming it"


def test_shifted_right_on_the_sheet_names_both_mistakes_that_give_5() -> None:
    """On the sheet's image, shifting right changes 5 of the 8 pooled units: as many as stay
    the same when shifting left. The hint names both; the hidden check tells them apart."""
    table = dict((s, (m, f)) for s, m, f in MISTAKES["count_changed_after_shift"])
    found = grade_in_process(SHEET, "count_changed_after_shift", table["shifted_right"][1])
    sheet = found["7.3.count_changed_after_shift.sheet"]
    assert "expected 3, got 5" in sheet.message
    assert table["shifted_right"][0] in sheet.hint
    assert table["counts_unchanged"][0] in sheet.hint


@pytest.mark.parametrize("run_seed", range(5))
def test_routing_to_the_whole_window_fails_and_is_named_on_both_pooled_checks(
    run_seed: int,
) -> None:
    both = {"7.1.conv_pool_net_grad.example", "7.1.conv_pool_net_grad.random"}
    assert verdicts("conv_pool_net_grad", "route_to_all", run_seed) == (both, both)


def test_flipped_kernel_matches_the_sheet_and_only_random_filters_catch_it() -> None:
    """The sheet's filters are point-symmetric: convolution and cross-correlation agree there."""
    only_random = {"7.3.conv2d.random"}
    assert verdicts("conv2d", "flipped_kernel") == (only_random, only_random)


def test_missing_value_errors_are_named_where_the_truth_raises() -> None:
    for function, slug, check in [
        ("conv_output_shape", "no_checks", "errors"),
        ("same_padding", "no_check", "even"),
    ]:
        failed, named = verdicts(function, slug)
        assert failed == named == {f"7.2.{function}.{check}"}


@pytest.mark.parametrize("run_seed", range(5))
def test_count_cases_tell_the_known_mistakes_apart(run_seed: int) -> None:
    """Counts of different mistakes easily coincide and the runner hints on the first failing
    case: the first hidden case (filters ≤ 0 on an image ≥ 0) has truth 0, the second gives
    every known mistake its own count."""
    first, second = cases_of("7.3.count_changed_after_shift.random", (run_seed,))[:2]
    assert ref.count_changed_after_shift(*first.args) == 0
    counts = [ref.count_changed_after_shift(*second.args)]
    counts += [impl(*second.args) for _, _, impl in MISTAKES["count_changed_after_shift"]]
    assert len(set(counts)) == len(counts)


# ---- the public truths are the seed's numbers (typed from the seed text) -----------------------

SEED_CONV = [  # output with filter 1, output with filter 2
    [[3, 3, 5, 1], [7, 4, 4, 5], [2, 7, 5, 3], [4, 3, 2, 4]],
    [[2, 5, 2, 4], [8, 9, 5, 7], [7, 3, 4, 6], [5, 2, 5, 3]],
]
SEED_CONV_SHIFTED = [
    [[3, 5, 1, 3], [4, 4, 5, 1], [7, 5, 3, 2], [3, 2, 4, 1]],
    [[5, 2, 4, 1], [9, 5, 7, 2], [3, 4, 6, 1], [2, 5, 3, 0]],
]
SEED_POOLED = [[[7, 5], [7, 5]], [[9, 7], [7, 6]]]  # the bold maxima
SEED_POOLED_SHIFTED = [[[5, 5], [7, 4]], [[9, 7], [5, 6]]]


def public_truths(check_id: str) -> list[Any]:
    ((_, check),) = [(e, c) for e, c in SHEET.iter_checks() if SHEET.check_id(e, c) == check_id]
    assert not check.hidden
    return [truth(SHEET, check, case) for case in check.make_cases(None)]


def channels_first(volume: Any) -> np.ndarray:
    return np.moveaxis(np.asarray(volume), 2, 0)


def test_exercise3_truths_are_the_seeds_tables() -> None:
    before, after = public_truths("7.3.conv2d.sheet")
    np.testing.assert_array_equal(channels_first(before), SEED_CONV)
    np.testing.assert_array_equal(channels_first(after), SEED_CONV_SHIFTED)
    before, after = public_truths("7.3.maxpool2d.sheet")
    np.testing.assert_array_equal(channels_first(before), SEED_POOLED)
    np.testing.assert_array_equal(channels_first(after), SEED_POOLED_SHIFTED)
    assert public_truths("7.3.count_changed_after_shift.sheet") == [3]


def test_exercise2_truths_are_the_seeds_sizes() -> None:
    # 4×4×2 after the convolution, 2×2×2 after pooling, and n = 4, f = 3 keeps 4 with p = 1
    assert public_truths("7.2.conv_output_shape.sheet") == [(4, 4, 2), (2, 2, 2), (4, 4, 1)]
    (sheet,) = [c for c in cases_of("7.2.same_padding.odd") if c.args == (3,)]
    assert truth(SHEET, next(ch for _, ch in SHEET.iter_checks() if ch.name == "odd"), sheet) == 1
    assert all(t == Raised("ValueError") for t in public_truths("7.2.conv_output_shape.errors"))
    assert all(t == Raised("ValueError") for t in public_truths("7.2.same_padding.even"))


def test_reverse_mode_public_truth_is_the_seeds_solution() -> None:
    case = cases_of("7.4.reverse_mode.sheet")[0]
    x1, x2, th = (case.args[1][k] for k in ("x1", "x2", "theta"))
    assert case.args[2] == "f6"
    cos = math.cos(th * x1 + x2)
    seed = {  # Exercise 4a's t_n, in the order the solution computes them
        "f6": 1.0,
        "f3": 1.0,
        "f2": cos,
        "f1": cos,
        "f5": 1.0,
        "theta": x1 * cos + x2**2,
        "x1": th * cos,
        "f4": th,
        "x2": cos + 2 * th * x2,
    }
    (got,) = public_truths("7.4.reverse_mode.sheet")[:1]
    assert got.keys() == seed.keys()
    for name, value in seed.items():
        assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


# ---- the inputs keep the contract's promises --------------------------------------------------


def sigmoid_conv(image: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """h[i, j, k] = σ(b[k] + Σ I[i + x, j + y, c] w[x, y, c, k]) by loops (independent)."""
    F, K = w.shape[0], w.shape[3]
    H, W = image.shape[0] - F + 1, image.shape[1] - F + 1
    h = np.zeros((H, W, K))
    for i in range(H):
        for j in range(W):
            for k in range(K):
                a = b[k] + np.sum(image[i : i + F, j : j + F, :] * w[:, :, :, k])
                h[i, j, k] = 1 / (1 + math.exp(-a))
    return h


def test_gradient_inputs_cover_the_edge_cases() -> None:
    for function, check in (("conv_net_grad", "random"), ("dense_net_grad", "random")):
        for case in cases_of(f"7.1.{function}.{check}"):
            image, w, b, v, y_hat = case.args
            H, W, C = image.shape
            assert H != W and C > 1 and len(b) > 1 and len(y_hat) > 1
    odd_rows = odd_cols = False
    for case in cases_of("7.1.conv_pool_net_grad.random") + cases_of(
        "7.1.conv_pool_net_grad.example"
    ):
        image, w, b, v, y_hat = case.args
        h = sigmoid_conv(image, w, b)
        P, Q = h.shape[0] // 2, h.shape[1] // 2
        assert v.shape == (P, Q, len(b), len(y_hat))
        assert image.shape[0] != image.shape[1] and image.shape[2] > 1 and len(b) > 1
        odd_rows |= h.shape[0] % 2 == 1
        odd_cols |= h.shape[1] % 2 == 1
        windows = h[: 2 * P, : 2 * Q].reshape(P, 2, Q, 2, -1).transpose(0, 2, 4, 1, 3)
        top2 = np.sort(windows.reshape(P, Q, -1, 4), axis=-1)[..., -2:]
        assert (top2[..., 1] - top2[..., 0]).min() > 1e-6  # no ties in any pooling window
    assert odd_rows and odd_cols


def test_example_labels_describe_their_inputs() -> None:
    """The public examples can be rebuilt from their labels' formulas."""
    (case,) = cases_of("7.1.conv_net_grad.example")
    image, w, b, v, y_hat = case.args
    assert "I[i, j, c] = sin(1 + i + 2j + 3c)" in case.label
    for i, j, c in np.ndindex(*image.shape):
        assert image[i, j, c] == math.sin(1 + i + 2 * j + 3 * c)
    for x, y, c, k in np.ndindex(*w.shape):
        assert w[x, y, c, k] == pytest.approx(math.cos(x + 2 * y + 3 * c + 5 * k) / 2, abs=1e-15)
    for i, j, k, o in np.ndindex(*v.shape):
        assert v[i, j, k, o] == pytest.approx(math.sin(i - 2 * j + 3 * k + o), abs=1e-15)
    assert "b = [0.1, -0.2]" in case.label and list(b) == [0.1, -0.2]
    assert "ŷ = [1, -1, 0.5]" in case.label and list(y_hat) == [1, -1, 0.5]


def test_pooling_and_count_inputs() -> None:
    for case in cases_of("7.3.maxpool2d.k3"):
        (x,) = case.args
        assert case.kwargs == {"k": 3}
        assert x.shape[0] % 3 and x.shape[1] % 3 and min(x.shape[:2]) >= 3
    counts = set()
    for case in cases_of("7.3.count_changed_after_shift.random"):
        image, filters = case.args
        assert np.array_equal(image, np.round(image)) and np.array_equal(filters, np.round(filters))
        assert (filters < 0).any() and image.shape[0] != image.shape[1]
        assert (
            image.shape[0] - filters.shape[1] + 1 >= 2
            and image.shape[1] - filters.shape[2] + 1 >= 2
        )
        counts.add(ref.count_changed_after_shift(image, filters))
    assert len(counts) > 3


def ancestors(graph: list, output: str) -> set[str]:
    parents = {node[0]: node[2] for node in graph}
    seen, todo = {output}, [output]
    while todo:
        for p in parents[todo.pop()]:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


@pytest.mark.parametrize("run_seed", range(5))
def test_random_graphs_carry_the_special_cases(run_seed: int) -> None:
    found = set()
    for case in cases_of("7.4.reverse_mode.random", (run_seed,)):
        graph, values, output = case.args
        names = [node[0] for node in graph]
        assert len(set(names)) == len(names) and output in names
        assert set(values) == {n for n, op, _ in graph if op == "input"}
        assert all(type(v) is float for v in values.values())
        needed = ancestors(graph, output)
        if any(op == "mul" and p[0] == p[1] and n in needed for n, op, p in graph):
            found.add("mul(x, x) on the output's path")
        if set(names) - needed:
            found.add("nodes the output does not depend on")
        if output in values:
            found.add("an input as the output")
        if all(isinstance(node, list) and isinstance(node[2], list) for node in graph):
            found.add("lists")
        expected = truth(
            SHEET,
            next(
                c
                for _, c in SHEET.iter_checks()
                if c.name == "random" and c.function == "reverse_mode"
            ),
            case,
        )
        assert all(math.isfinite(t) for t in expected.values())
    assert found == {
        "mul(x, x) on the output's path",
        "nodes the output does not depend on",
        "an input as the output",
        "lists",
    }


# ---- the sheet_graph judge --------------------------------------------------------------------

TRUTH = spec._graph_truth()
OUTPUT, NODES = spec.GRAPH_OUTPUT.judge, spec.GRAPH_NODES.judge


def seed_graph() -> list:
    """Eq. (9) typed from the seed: f1 = x1·θ, f2 = f1 + x2, f3 = sin f2, f4 = x2², f5 = θ·f4,
    f6 = f3 + f5."""
    return [
        ("x1", "input", ()),
        ("x2", "input", ()),
        ("theta", "input", ()),
        ("f1", "mul", ("x1", "theta")),
        ("f2", "add", ("f1", "x2")),
        ("f3", "sin", ("f2",)),
        ("f4", "square", ("x2",)),
        ("f5", "mul", ("theta", "f4")),
        ("f6", "add", ("f3", "f5")),
    ]


def edit(**replace: tuple) -> list:
    return [(n, *replace.get(n, (op, ps))) for n, op, ps in seed_graph()]


def test_graph_truth_is_the_seeds_function_and_derivative() -> None:
    for (x1, x2, th), f, t_theta in zip(
        spec.GRAPH_POINTS, TRUTH["f"], TRUTH["t_theta"], strict=True
    ):
        assert f["f6"] == pytest.approx(math.sin(th * x1 + x2) + th * x2**2, rel=1e-14)
        assert f["f5"] == pytest.approx(th * x2 * x2, rel=1e-14)
        assert t_theta == pytest.approx(x1 * math.cos(th * x1 + x2) + x2 * x2, rel=1e-14)


def test_graph_judge_accepts_every_correct_form() -> None:
    reordered = [seed_graph()[i] for i in (2, 1, 6, 7, 0, 3, 4, 5, 8)]
    variants = [
        seed_graph(),
        [[*node[:2], list(node[2])] for node in seed_graph()],
        tuple(seed_graph()),
        reordered,
        edit(f1=("mul", ("theta", "x1")), f2=("add", ("x2", "f1")), f6=("add", ("f5", "f3"))),
        edit(f4=("mul", ("x2", "x2"))),
        ref.sheet_graph(),
    ]
    for graph in variants:
        assert OUTPUT(TRUTH, graph, True) is None
        assert NODES(TRUTH, graph, True) is None


def test_right_output_with_other_intermediates_passes_output_only() -> None:
    graph = edit(f4=("mul", ("theta", "x2")), f5=("mul", ("f4", "x2")))  # f5 = (θ x2) x2
    assert OUTPUT(TRUTH, graph, True) is None
    message = NODES(TRUTH, graph, True)
    assert message.startswith("f4 = -0.84 at (x1, x2, θ) = (0.3, -1.2, 0.7), but Eq. (9) gives")
    assert NODES(TRUTH, graph, False) == "f4 differs from Eq. (9)"


MALFORMED = {
    "returned None (did you forget a `return`?) where a list": None,
    "returned a string": "f6 = sin(theta x1 + x2) + theta x2^2",
    "returned a dict": {"f6": 1.0},
    "which is not a number": Unconvertible("Node"),
    "node 3 is ('f1', 'mul'); each node is (name, op, parents)": [
        *seed_graph()[:3],
        ("f1", "mul"),
        *seed_graph()[4:],
    ],
    "node 0 is": [(1, "input", ()), *seed_graph()[1:]],
    "a tuple or list of parent names": [*seed_graph()[:8], ("f6", "add", "f3f5")],
    "the name 'f2' is given to several nodes": [*seed_graph(), ("f2", "add", ("f1", "x2"))],
    "(missing 'f4'; unexpected 'g4')": [
        ("g4", *node[1:]) if node[0] == "f4" else node for node in edit(f5=("mul", ("theta", "g4")))
    ],
    "node 'f3' has op 'cos'": edit(f3=("cos", ("f2",))),
    "node 'f4' should be an operation, not an input": edit(f4=("input", ())),
    "node 'theta' should be an input": edit(theta=("mul", ("x1", "x2"))),
    "node 'f3': sin takes 1 parent(s), got 2": edit(f3=("sin", ("f2", "f1"))),
    "node 'f5' has the parent 'x3', which is no node": edit(f5=("mul", ("theta", "x3"))),
    "node 'f5' uses 'f4' before it is defined": [
        seed_graph()[i] for i in (0, 1, 2, 3, 4, 5, 7, 6, 8)
    ],
    "node 'f2' uses 'f2' before it is defined": edit(f2=("add", ("f2", "x2"))),
    "returned 108 nodes": seed_graph() * 12,
}


@pytest.mark.parametrize("text", list(MALFORMED))
def test_graph_judge_names_what_is_malformed(text: str) -> None:
    for judge in (OUTPUT, NODES):
        message = judge(TRUTH, MALFORMED[text], True)
        assert message is not None and text in message, message


def test_graph_judge_messages() -> None:
    wrong_f5 = edit(f5=("mul", ("theta", "x2")))
    assert OUTPUT(TRUTH, wrong_f5, True) == (
        "your graph gives f6 = -1.676025979 at (x1, x2, θ) = (0.3, -1.2, 0.7), but "
        "f(x1, x2, θ) = sin(θx1 + x2) + θx2² = 0.1719740214"
    )
    assert OUTPUT(TRUTH, wrong_f5, False) == "f6 differs from Eq. (9)"
    assert NODES(TRUTH, edit(f3=("square", ("f2",))), True).startswith("f3 = ")


def test_graph_judge_on_known_mistakes_passed_as_the_truth() -> None:
    """The runner hands a mistake's raw graph to the judge in place of the truth."""
    wrong_f5 = edit(f5=("mul", ("theta", "x2")))
    unordered = [seed_graph()[i] for i in (0, 1, 2, 3, 4, 5, 7, 8, 6)]
    other_unordered = [seed_graph()[i] for i in (1, 0, 3, 2, 4, 5, 6, 7, 8)]
    for judge in (OUTPUT, NODES):
        assert judge(wrong_f5, [list(n) for n in wrong_f5], False) is None
        assert judge(wrong_f5, seed_graph(), False) is not None
        assert judge(unordered, other_unordered, False) is None  # the same kind of problem
        assert judge(unordered, seed_graph(), False) is not None
        assert judge(unordered, edit(f3=("cos", ("f2",))), False) is not None
        for expected in (None, "graph", [1, 2], {"f": 1}, Unconvertible("x"), seed_graph() * 20):
            judge(expected, seed_graph(), False)  # must not raise


def test_graph_judge_never_crashes_on_odd_answers() -> None:
    rng = np.random.default_rng(0)
    atoms: list[Any] = [None, 0, 1.5, "f1", "input", (), [], np.zeros(3), Unconvertible("obj")]
    for _ in range(300):
        graph = [list(node) for node in seed_graph()]
        for _ in range(int(rng.integers(1, 4))):
            node = graph[int(rng.integers(len(graph)))]
            slot = int(rng.integers(3))
            node[slot] = atoms[int(rng.integers(len(atoms)))]
        for judge in (OUTPUT, NODES):
            assert isinstance(judge(TRUTH, graph, True), str | None)
