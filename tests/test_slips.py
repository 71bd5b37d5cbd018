"""Realistic slips that once scored full marks lose points on every run seed.

Each slip is a small wrong implementation, written the way students write it (a cache, a
set, gradient clipping copied from popular RNN code, a heuristic for the diameter), and
judged by the runner's own rules (conftest.grade_in_process) on run seeds 0 to 20. A slip
caught on some seeds only would grade two students with the same bug differently, so every
seed must catch it: the specs carry fixed cases or generators built to expose each one.

The numbers typed here come from brute force or hand reasoning, never from the reference.
"""

from __future__ import annotations

import importlib.util
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conftest import EXAMPLES, grade_in_process, grade_json
from grader import worker
from grader.runner import truth
from grader.sheets import load
from reference import sheet9 as ref9
from reference import sheet10 as ref10

RUN_SEEDS = range(21)


# ---- sheet 2 --------------------------------------------------------------------------------


def logcosh_asymptote_from_5(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log cosh z ≈ |z| − log 2 for |z| ≥ 5, where it is still off by e^{−2|z|} ≈ 4.5e-5."""
    z = np.abs(np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))
    return np.where(z >= 5.0, z - np.log(2.0), np.log(np.cosh(np.minimum(z, 5.0))))


# ---- sheet 9 --------------------------------------------------------------------------------


def tree_equations_memoised(bracketed: str) -> list[tuple[str, str, str]]:
    """Names an identical subtree once: ((the, cat), (the, cat)) gives two equations."""
    names: dict[Any, str] = {}
    equations: list[tuple[str, str, str]] = []

    def visit(tree: Any) -> str:
        if isinstance(tree, str):
            return tree
        if tree not in names:
            left, right = visit(tree[0]), visit(tree[1])
            names[tree] = f"a{len(equations) + 1}"
            equations.append((names[tree], left, right))
        return names[tree]

    visit(ref9.parse_tree(bracketed))
    return equations


def gnn_layer_transposed_a(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.maximum(A.T @ H @ W, 0.0)


def unrolled_tree_set(A: np.ndarray, node: int, depth: int) -> tuple:
    """Neighbours collected in a set: its order is not the index order once ids reach 8."""
    if depth == 0:
        return (node, ())
    neighbours = {j for j in range(len(A)) if A[node, j] != 0}
    return (node, tuple(unrolled_tree_set(A, j, depth - 1) for j in neighbours))


def unrolled_tree_columns(A: np.ndarray, node: int, depth: int) -> tuple:
    """Neighbours read from the column A[:, node] instead of the row A[node]."""
    if depth == 0:
        return (node, ())
    neighbours = np.flatnonzero(A[:, node])
    return (node, tuple(unrolled_tree_columns(A, int(j), depth - 1) for j in neighbours))


# ---- sheet 10 -------------------------------------------------------------------------------


def gcn_layer_cached_by_size() -> Callable[..., np.ndarray]:
    """A fresh submission that caches D̃^−½ Ã D̃^−½ by N, as if Ã depended on the size only.

    The worker keeps one process for a check's cases (and for the checks after it), so the
    cache lives as long as it would in a real grading run; each run seed gets a new one."""
    cache: dict[int, np.ndarray] = {}

    def gcn_layer(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
        N = A.shape[0]
        if N not in cache:
            A_tilde = A + np.eye(N)
            d = 1.0 / np.sqrt(A_tilde.sum(axis=1))
            cache[N] = d[:, None] * A_tilde * d[None, :]
        return np.maximum(cache[N] @ H @ W, 0.0)

    return gcn_layer


def rnn_grads_clipped(x: np.ndarray, y: np.ndarray, params: dict) -> dict:
    """min-char-rnn's np.clip(dparam, -5, 5, out=dparam) left inside the gradient."""
    return {k: np.clip(g, -5.0, 5.0) for k, g in ref10.rnn_grads(x, y, params).items()}


def rnn_grads_truncated_5(x: np.ndarray, y: np.ndarray, params: dict) -> dict:
    """BPTT through the last 5 steps only (a tutorial's bptt_truncate = 4)."""
    W_hh, W_ph = params["W_hh"], params["W_ph"]
    hs = [params["h0"]]
    for x_t in x:
        hs.append(np.tanh(params["W_hx"] @ x_t + W_hh @ hs[-1] + params["b_h"]))
    p = W_ph @ hs[-1] + params["b_p"]
    dp = np.exp(p - p.max()) / np.exp(p - p.max()).sum() - y
    grads = {"W_ph": np.outer(dp, hs[-1]), "b_p": dp}
    grads |= {k: np.zeros_like(params[k]) for k in ("W_hh", "W_hx", "b_h")}
    dh = W_ph.T @ dp
    T = len(x)
    for t in range(T, max(T - 5, 0), -1):
        da = dh * (1.0 - hs[t] ** 2)
        grads["W_hh"] += np.outer(da, hs[t - 1])
        grads["W_hx"] += np.outer(da, x[t - 1])
        grads["b_h"] += da
        dh = W_hh.T @ da
    return grads


def _adjacency_lists(edges: list[tuple[int, int]], num_nodes: int) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(num_nodes)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    return adj


def _bfs(adj: list[list[int]], src: int) -> tuple[list[float], list[int]]:
    """Distances (inf when unreachable) and the order nodes leave the queue."""
    dist, order, queue = [float("inf")] * len(adj), [], deque([src])
    dist[src] = 0
    while queue:
        u = queue.popleft()
        order.append(u)
        for v in adj[u]:
            if dist[v] == float("inf"):
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist, order


def cover_double_sweep(pick_last_popped: bool) -> Callable[..., int]:
    """The diameter guessed by two BFS sweeps (exact on trees, a lower bound in general):
    from node 0 to a farthest node u, then u's eccentricity. Students pick u as the first
    node with the largest distance, or as the last node out of the queue."""

    def layers_to_cover(edges: list[tuple[int, int]], num_nodes: int) -> int:
        adj = _adjacency_lists(edges, num_nodes)
        dist, order = _bfs(adj, 0)
        if float("inf") in dist:
            raise ValueError("the graph is disconnected")
        u = order[-1] if pick_last_popped else int(np.argmax(dist))
        return int(max(_bfs(adj, u)[0]))

    return layers_to_cover


# slip → (sheet, function, a fresh implementation, the known mistake that names it or None).
# The cache and the logcosh switch get no hint: a cache's answer depends on the cases before
# it, and sheet 2's mistakes are not this module's to extend.
SLIPS: dict[str, tuple[str, str, Callable[[], Callable], str | None]] = {
    "logcosh_asymptote_from_5": ("2", "logcosh", lambda: logcosh_asymptote_from_5, None),
    "tree_equations_memoised": (
        "9",
        "tree_equations",
        lambda: tree_equations_memoised,
        "memoised_subtrees",
    ),
    "gnn_layer_transposed_a": ("9", "gnn_layer", lambda: gnn_layer_transposed_a, "A_transposed"),
    "unrolled_tree_set": ("9", "unrolled_tree", lambda: unrolled_tree_set, "set_order"),
    "unrolled_tree_columns": ("9", "unrolled_tree", lambda: unrolled_tree_columns, "columns"),
    "gcn_layer_cached_by_size": ("10", "gcn_layer", gcn_layer_cached_by_size, None),
    "rnn_grads_clipped": ("10", "rnn_grads", lambda: rnn_grads_clipped, "clipped"),
    "rnn_grads_truncated_5": ("10", "rnn_grads", lambda: rnn_grads_truncated_5, "truncated_bptt"),
    "cover_double_sweep_argmax": (
        "10",
        "layers_to_cover",
        lambda: cover_double_sweep(False),
        "double_sweep",
    ),
    "cover_double_sweep_last": (
        "10",
        "layers_to_cover",
        lambda: cover_double_sweep(True),
        None,
    ),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_slip_fails_a_check_of_its_function_on_every_seed(slip: str) -> None:
    sheet_id, function, make, slug = SLIPS[slip]
    sheet = load(sheet_id)
    message = next((m.message for m in sheet.mistakes.get(function, []) if m.name == slug), None)
    assert (message is None) == (slug is None), f"no known mistake {slug!r} for {function}"
    passes, unnamed = [], []
    for seed in RUN_SEEDS:
        verdicts = grade_in_process(sheet, function, make(), seed).values()
        if all(v.status == "passed" for v in verdicts):
            passes.append(seed)
        elif message and not any(message in (v.hint or "") for v in verdicts):
            unnamed.append(seed)
    assert passes == [], f"{slip} gets full marks on run seeds {passes}"
    assert unnamed == [], f"{slip} is caught but not named on run seeds {unnamed}"


# ---- the cases the slips need, proven without the reference ---------------------------------


def _layers_until_all_depend_on_all(edges: list[tuple[int, int]], num_nodes: int) -> int:
    """The contract's definition, by brute force: after L layers node i depends on node j
    iff (A + I)^L has a nonzero (i, j) entry; the fewest L where every entry is nonzero."""
    reach = np.eye(num_nodes, dtype=bool)
    step = reach.copy()
    for u, v in edges:
        step[u, v] = step[v, u] = True
    for layers in range(num_nodes):
        if reach.all():
            return layers
        reach = (reach.astype(int) @ step.astype(int)) > 0
    raise ValueError("disconnected")


def test_double_sweep_traps_are_in_every_run_and_right() -> None:
    sheet = load("10")
    ((exercise, check),) = [
        (e, c) for e, c in sheet.iter_checks() if c.function == "layers_to_cover" and c.hidden
    ]
    # K4 without the edge 2–3: nodes 2 and 3 share neighbours but no edge, so 2 layers
    k4_minus = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
    assert _layers_until_all_depend_on_all(k4_minus, 4) == 2
    for seed in RUN_SEEDS:
        cases = check.make_cases(check.seed(sheet.check_id(exercise, check), seed))
        assert any(c.args == (k4_minus, 4) for c in cases)
        for case in cases[-2:]:
            assert truth(sheet, check, case) == _layers_until_all_depend_on_all(*case.args)


def test_set_order_differs_from_index_order_on_the_public_ring() -> None:
    """The public 10-node case must expose a set's order in this very interpreter."""
    sheet = load("9")
    ((_, check),) = [(e, c) for e, c in sheet.iter_checks() if c.name == "small_graphs"]
    orders = []
    for case in check.cases:
        A, node = case.args[0], case.args[1]
        row = [j for j in range(len(A)) if A[node, j] != 0]
        orders.append(list({j for j in row}) != row)
    assert any(orders)


# ---- the correct examples pass the new cases on every seed ---------------------------------

TOUCHED = {
    "2": ["logcosh"],
    "9": ["tree_equations", "gnn_layer", "unrolled_tree"],
    "10": ["rnn_grads", "gcn_layer", "layers_to_cover"],
}
EXAMPLE_FILES = ("correct.py", "correct_torch.py", "correct_float32.py")


def _example(sheet_id: str, name: str) -> Any:
    path = EXAMPLES / f"sheet{sheet_id}" / name
    spec = importlib.util.spec_from_file_location(f"example_{sheet_id}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", EXAMPLE_FILES)
@pytest.mark.parametrize("sheet_id", TOUCHED)
def test_correct_examples_pass_the_touched_checks_on_every_seed(sheet_id: str, name: str) -> None:
    sheet, module = load(sheet_id), _example(sheet_id, name)
    failed = []
    for function in TOUCHED[sheet_id]:
        student = getattr(module, function)
        impl = lambda *a, _f=student, **k: worker.to_plain_deep(_f(*a, **k))  # noqa: E731
        for seed in RUN_SEEDS:
            for cid, verdict in grade_in_process(sheet, function, impl, seed).items():
                if verdict.status != "passed":
                    failed.append((seed, cid, verdict.message))
    assert failed == []


# ---- the cache, through the real worker -----------------------------------------------------

CACHED_GCN = '''

_A_HAT = {}


def gcn_layer(A, H, W):
    """Ã's normalisation computed once per graph size."""
    n = len(A)
    if n not in _A_HAT:
        A_tilde = A + np.eye(n)
        d = A_tilde.sum(axis=1) ** -0.5
        _A_HAT[n] = d[:, None] * A_tilde * d[None, :]
    return np.maximum(_A_HAT[n] @ H @ W, 0)
'''


def test_a_cache_keyed_by_graph_size_fails_in_the_sandbox(submission) -> None:
    """The worker keeps its process across a check's cases, so the cache lives as it would
    for a student; only the hidden check, with two 8-node graphs, can see it."""
    source = (EXAMPLES / "sheet10" / "correct.py").read_text(encoding="utf-8") + CACHED_GCN
    report = grade_json(submission(source), "10")
    failed = {c["id"] for c in report["checks"] if c["status"] != "passed"}
    assert failed == {"10.3.gcn_layer.random"}
