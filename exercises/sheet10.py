"""Sheet 10 — Recurrent and graph networks: the checks.

The sheet prints no points, so they follow the derivation work each function takes
(100 in all):

- Exercise 1, vanilla RNN (40): ``rnn_grads`` 30 is the sheet's main derivation
  (softmax cross-entropy, then backpropagation through time, where W_hh, W_hx and b_h
  collect a term from every step); ``rnn_forward`` 10 is the recurrence alone.
  ``rnn_grads`` is split so that the output layer (∂L/∂W_ph, ∂L/∂b_p, the seed's first
  derivation) earns credit on its own, and a "last step only" BPTT loses the rest.
- Exercise 2, LSTM (20): ``lstm_step`` 14 (four gates and the cell update, formulas
  given); ``lstm_param_count`` 6 (a one-line count the seed derives in prose).
- Exercise 3, graph convolution (40): ``gcn_layer`` 12 (the symmetric normalisation
  with self-loops) and ``layers_to_reach`` 12 (why one layer moves information one
  edge, Question 4) weigh most; ``gcn_adjacency`` 8 (the matrix the seed writes out)
  and ``layers_to_cover`` 8 (the diameter, Question 2) follow from them.

The sheet's graph is a…f = 0…5. By the contract's definition b → e takes 2 layers
(b–a–e has two edges); the seed's "three updates" is a slip, and the check follows
the contract. Exercise ids number the graded parts in order (the sheet's 1.1, 1.2
and 3.1; its section 2 has nothing to grade).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from exercises.common import mistakes
from exercises.sheet10_mistakes import MISTAKES
from grader.comparison import Exact
from grader.judges.sheet10 import HIDDEN_AND_CELL
from grader.spec import Case, Check, Exercise, Sheet
from reference import sheet10 as ref

Edges = list[tuple[int, int]]


def _arr(values: Any) -> np.ndarray:
    return np.array(values, dtype=np.float64)


# Exercise 1 -------------------------------------------------------------------

RNN_EXAMPLE = {
    "W_hx": _arr([[0.5], [-1.0]]),
    "W_hh": _arr([[0.0, 1.0], [-0.5, 0.25]]),
    "b_h": _arr([0.1, -0.2]),
    "W_ph": _arr([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]]),
    "b_p": _arr([0.0, 0.1, -0.1]),
    "h0": _arr([0.5, -0.5]),
}
RNN_EXAMPLE_TEXT = (
    "W_hx = [[0.5], [−1]], W_hh = [[0, 1], [−0.5, 0.25]], b_h = [0.1, −0.2], "
    "W_ph = [[1, −1], [0.5, 2], [−1, 0]], b_p = [0, 0.1, −0.1], h0 = [0.5, −0.5]"
)
RNN_Y = _arr([0.0, 1.0, 0.0])


def _rnn_example_cases(with_y: bool) -> list[Case]:
    y_text = ", y = [0, 1, 0]" if with_y else ""
    cases = []
    for x, x_text in [([[1.0], [-1.0]], "[[1], [−1]]"), ([[2.0]], "[[2]]")]:
        args = (_arr(x), RNN_Y, RNN_EXAMPLE) if with_y else (_arr(x), RNN_EXAMPLE)
        T = len(x)
        cases.append(Case(label=f"T = {T}: x = {x_text}{y_text}, {RNN_EXAMPLE_TEXT}", args=args))
    return cases


def _rnn_params(rng: np.random.Generator, d: int, n: int, K: int) -> dict[str, np.ndarray]:
    shapes = {"W_hx": (n, d), "W_hh": (n, n), "b_h": (n,), "W_ph": (K, n), "b_p": (K,), "h0": (n,)}
    return {key: rng.normal(0.0, 0.8, shape) for key, shape in shapes.items()}


def _rnn_cases(
    rng: np.random.Generator, shapes: list[tuple[int, int, int, int]], with_y: bool
) -> list[Case]:
    cases = []
    for T, d, n, K in shapes:
        params = _rnn_params(rng, d, n, K)
        x = rng.normal(0.0, 1.0, (T, d))
        label = f"T = {T}, d = {d}, n = {n}, K = {K}"
        if with_y:
            y = np.eye(K)[int(rng.integers(K))]
            cases.append(Case(label=label, args=(x, y, params)))
        else:
            cases.append(Case(label=label, args=(x, params)))
    return cases


def _random_forward(rng: np.random.Generator) -> list[Case]:
    return _rnn_cases(rng, [(1, 3, 4, 2), (4, 2, 3, 5), (7, 3, 5, 4)], with_y=False)


def _random_single_step(rng: np.random.Generator) -> list[Case]:
    return _rnn_cases(rng, [(1, 3, 4, 2), (1, 2, 5, 3)], with_y=True)


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(0.0, 1.0, (n, n)))
    return q * np.sign(np.diag(r))


def _long_memory_case(rng: np.random.Generator) -> Case:
    """T = 8 with an orthogonal W_hh and small inputs, bias and h0, so tanh′ ≈ 1 and the
    gradient reaches every step undiminished: a BPTT cut after 5 steps misses percents of it."""
    T, d, n, K = 8, 2, 4, 3
    params = _rnn_params(rng, d, n, K)
    params |= {
        "W_hx": rng.normal(0.0, 0.2, (n, d)),
        "W_hh": _orthogonal(rng, n),
        "b_h": rng.normal(0.0, 0.1, n),
        "h0": rng.normal(0.0, 0.2, n),
    }
    x, y = rng.normal(0.0, 1.0, (T, d)), np.eye(K)[int(rng.integers(K))]
    label = f"T = {T}, d = {d}, n = {n}, K = {K}, orthogonal W_hh"
    return Case(label=label, args=(x, y, params))


def _large_gradient_case(rng: np.random.Generator) -> Case:
    """Inputs on a raw scale (entries around 10) with a small W_hx, large output weights, and
    y the class the network finds least likely: ∂L/∂W_hx has entries of 8 and more, which
    gradient clipping to ±5 (common in RNN training code) would cut. Where it has not,
    x is scaled by c and W_hx by 1/c: every state stays, and ∂L/∂W_hx grows by c."""
    T, d, n, K = 3, 3, 2, 4
    params = {
        "W_hx": rng.normal(0.0, 0.1, (n, d)),
        "W_hh": rng.normal(0.0, 0.5, (n, n)),
        "b_h": rng.normal(0.0, 0.1, n),
        "W_ph": rng.normal(0.0, 3.0, (K, n)),
        "b_p": rng.normal(0.0, 0.8, K),
        "h0": rng.normal(0.0, 0.3, n),
    }
    x = rng.normal(0.0, 4.0, (T, d))
    y = np.eye(K)[int(np.argmin(ref.rnn_forward(x, params)))]
    c = max(1.0, 8.0 / np.abs(ref.rnn_grads(x, y, params)["W_hx"]).max())
    params["W_hx"] = params["W_hx"] / c
    label = f"T = {T}, d = {d}, n = {n}, K = {K}, gradients beyond ±5"
    return Case(label=label, args=(x * c, y, params))


def _random_bptt(rng: np.random.Generator) -> list[Case]:
    cases = _rnn_cases(rng, [(2, 3, 4, 2), (5, 2, 3, 4), (8, 4, 3, 5)], with_y=True)
    return [*cases, _long_memory_case(rng), _large_gradient_case(rng)]


def _output_layer_grads(x: np.ndarray, y: np.ndarray, params: dict) -> dict:
    grads = ref.rnn_grads(x, y, params)
    return {"W_ph": grads["W_ph"], "b_p": grads["b_p"]}


ex1 = Exercise(
    id="1",
    title="Vanilla RNN (sheet §1.1)",
    points=40,
    checks=[
        Check(
            name="example",
            function="rnn_forward",
            points=4,
            description="p_T on a small example (T = 2 and T = 1; d = 1, n = 2, K = 3)",
            cases=_rnn_example_cases(with_y=False),
        ),
        Check(
            name="random",
            function="rnn_forward",
            points=6,
            hidden=True,
            description="p_T for random parameters, T from 1 to 7, d ≠ n ≠ K",
            generate=_random_forward,
        ),
        Check(
            name="output_layer",
            function="rnn_grads",
            points=6,
            description="∂L/∂W_ph and ∂L/∂b_p on the example (the other keys are not "
            "looked at here)",
            cases=_rnn_example_cases(with_y=True),
            expect=_output_layer_grads,
        ),
        Check(
            name="example",
            function="rnn_grads",
            points=8,
            description="all five gradients on the example (T = 2 needs BPTT, T = 1 not)",
            cases=_rnn_example_cases(with_y=True),
        ),
        Check(
            name="single_step",
            function="rnn_grads",
            points=4,
            hidden=True,
            description="all five gradients for T = 1, random parameters, d ≠ n ≠ K",
            generate=_random_single_step,
        ),
        Check(
            name="bptt",
            function="rnn_grads",
            points=12,
            hidden=True,
            description="all five gradients through time, T from 2 to 8, random "
            "parameters, d ≠ n ≠ K; a long memory (orthogonal W_hh) and gradients beyond ±5",
            generate=_random_bptt,
        ),
    ],
)

# Exercise 2 -------------------------------------------------------------------

GATES = ("g", "i", "f", "o")


# Not symmetric, and M h ≠ 0 for the example's h (whose entries sum to 0, so a constant W_·h
# would hide the recurrent term): a missing or transposed W_·h h shows on the public check.
LSTM_RECURRENT = _arr([[1, 2, 0], [0, 1, 3], [1, 0, 1]])


def _lstm_example() -> Case:
    d, n = 2, 3
    params = {}
    for k, gate in enumerate(GATES, start=1):
        params[f"W_{gate}x"] = np.full((n, d), 0.1 * k)
        params[f"W_{gate}h"] = -0.1 * k * LSTM_RECURRENT
    for gate, bias in zip(GATES, (0.0, 0.5, 1.0, -0.5), strict=True):
        params[f"b_{gate}"] = np.full(n, bias)
    label = (
        "d = 2, n = 3, x = [1, 0.5], h = [0.5, 0, −0.5], c = [1, −2, 0.5]; W_gx, W_ix, W_fx, "
        "W_ox filled with 0.1, 0.2, 0.3, 0.4; W_gh, W_ih, W_fh, W_oh are −0.1, −0.2, −0.3, "
        "−0.4 times [[1, 2, 0], [0, 1, 3], [1, 0, 1]]; b_g, b_i, b_f, b_o filled with 0, 0.5, "
        "1, −0.5"
    )
    return Case(
        label=label, args=(_arr([1.0, 0.5]), _arr([0.5, 0.0, -0.5]), _arr([1.0, -2.0, 0.5]), params)
    )


def _random_lstm(rng: np.random.Generator) -> list[Case]:
    cases = []
    for d, n in [(3, 4), (4, 4), (1, 5), (5, 1)]:
        params = {}
        for gate in GATES:
            params[f"W_{gate}x"] = rng.normal(0.0, 1.0, (n, d))
            params[f"W_{gate}h"] = rng.normal(0.0, 1.0, (n, n))
            params[f"b_{gate}"] = rng.normal(0.0, 1.0, n)
        state = (rng.normal(0.0, 1.0, d), rng.normal(0.0, 1.0, n), rng.normal(0.0, 1.5, n))
        cases.append(Case(label=f"d = {d}, n = {n}", args=(*state, params)))
    return cases


COUNT_CASES = [
    Case(label=f"d = {d}, n = {n}", args=(d, n)) for d, n in [(1, 1), (2, 3), (10, 20), (128, 64)]
]


def _random_counts(rng: np.random.Generator) -> list[Case]:
    return [
        Case(label="random d, n", args=(int(d), int(n))) for d, n in rng.integers(1, 300, (3, 2))
    ]


ex2 = Exercise(
    id="2",
    title="LSTM (sheet §1.2)",
    points=20,
    checks=[
        Check(
            name="example",
            function="lstm_step",
            points=5,
            description="(h_new, c_new) for one step on a small example",
            cases=[_lstm_example()],
            compare=HIDDEN_AND_CELL,
        ),
        Check(
            name="random",
            function="lstm_step",
            points=9,
            hidden=True,
            description="(h_new, c_new) for random parameters and states (d < n, d = n, "
            "d > n, n = 1)",
            generate=_random_lstm,
            compare=HIDDEN_AND_CELL,
        ),
        Check(
            name="sheet",
            function="lstm_param_count",
            points=4,
            description="trainable parameters for a few (d, n)",
            cases=COUNT_CASES,
            compare=Exact(),
        ),
        Check(
            name="random",
            function="lstm_param_count",
            points=2,
            hidden=True,
            description="trainable parameters for random (d, n)",
            generate=_random_counts,
            compare=Exact(),
        ),
    ],
)

# Exercise 3 -------------------------------------------------------------------

SHEET_EDGES: Edges = list(ref.SHEET_EDGES)
NAMES = "abcdefg"
SHEET_TEXT = "the sheet's graph (a…f = 0…5: a–b, a–e, a–f, b–c, b–d, c–d, d–f, e–f)"
SHEET_PLUS_G = "the sheet's graph plus an isolated node g = 6"
TWO_PARTS: Edges = [(0, 1), (2, 3)]
TWO_PARTS_TEXT = "edges 0–1 and 2–3, 4 nodes"


def _adjacency(edges: Edges, num_nodes: int) -> np.ndarray:
    A = np.zeros((num_nodes, num_nodes))
    for u, v in edges:
        A[u, v] = A[v, u] = 1.0
    return A


def _shuffled(rng: np.random.Generator, edges: list[tuple[int, int]]) -> Edges:
    """Plain Python int pairs, each in a random orientation, in random order."""
    out = [(int(u), int(v)) if rng.random() < 0.5 else (int(v), int(u)) for u, v in edges]
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _connected_edges(rng: np.random.Generator, nodes: list[int], p: float) -> list:
    """A random spanning tree on ``nodes`` plus each other pair with probability p."""
    nodes = [nodes[i] for i in rng.permutation(len(nodes))]
    edges = {tuple(sorted((v, nodes[int(rng.integers(k))]))) for k, v in enumerate(nodes) if k}
    for a in range(len(nodes)):
        for b in range(a + 1, len(nodes)):
            if rng.random() < p:
                edges.add(tuple(sorted((nodes[a], nodes[b]))))
    return sorted(edges)


def _graph(rng: np.random.Generator, num_nodes: int, parts: list[int], p: float) -> Edges:
    """Connected components of the given sizes (size 1: an isolated node), labels shuffled."""
    labels = [int(v) for v in rng.permutation(num_nodes)]
    assert sum(parts) == num_nodes
    edges, start = [], 0
    for size in parts:
        edges += _connected_edges(rng, labels[start : start + size], p)
        start += size
    return _shuffled(rng, edges)


def _path(rng: np.random.Generator, num_nodes: int) -> Edges:
    labels = [int(v) for v in rng.permutation(num_nodes)]
    return _shuffled(rng, list(itertools.pairwise(labels)))


def _random_adjacency(rng: np.random.Generator) -> list[Case]:
    graphs = [
        (_graph(rng, 5, [4, 1], 0.4), 5),
        (_graph(rng, 9, [5, 3, 1], 0.3), 9),
        (_graph(rng, 7, [7], 0.5), 7),
    ]
    return [Case(label=f"random graph, {n} nodes", args=(edges, n)) for edges, n in graphs]


GCN_H = _arr([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [2.0, -1.0]])
GCN_W = _arr([[1.0, -1.0, 0.5], [0.5, 1.0, -1.0]])
GCN_SHEET = Case(
    label=f"A = Ã − I of {SHEET_TEXT}, H = [[1, 0], [0, 1], [1, 1], [−1, 0], [0, −1], "
    "[2, −1]], W = [[1, −1, 0.5], [0.5, 1, −1]]",
    args=(_adjacency(SHEET_EDGES, 6), GCN_H, GCN_W),
)


def _random_gcn(rng: np.random.Generator) -> list[Case]:
    """Random graphs, and last a second graph of 8 nodes: Ã depends on the graph, not on N,
    so an Ã cached by size shows. Its W = [W₀, −W₀]: one of ρ(z), ρ(−z) is |z|, so the
    ReLU cannot zero the whole answer (which random W does on about 1 run in 3000)."""
    setups = [
        (5, [4, 1], 3, 2),
        (8, [8], 4, 5),
        (7, [3, 2, 1, 1], 1, 3),
        (1, [1], 2, 2),
        (8, [5, 2, 1], 3, 4),
    ]
    cases = []
    for k, (num_nodes, parts, f_in, f_out) in enumerate(setups):
        A = _adjacency(_graph(rng, num_nodes, parts, 0.4), num_nodes)
        H = rng.normal(0.0, 1.0, (num_nodes, f_in))
        W = rng.normal(0.0, 1.0, (f_in, f_out))
        if k == len(setups) - 1:
            W[:, f_out // 2 :] = -W[:, : f_out // 2]
        isolated = sum(size == 1 for size in parts)
        cases.append(
            Case(
                label=f"random graph, {num_nodes} nodes ({isolated} isolated), "
                f"H {num_nodes}×{f_in}, W {f_in}×{f_out}",
                args=(A, H, W),
            )
        )
    return cases


def _reach_sheet_cases() -> list[Case]:
    pairs = [(1, 4), (4, 1), (2, 4), (0, 0), (0, 5), (2, 5)]
    return [
        Case(label=f"{SHEET_TEXT}, {NAMES[s]} → {NAMES[t]}", args=(SHEET_EDGES, 6, s, t))
        for s, t in pairs
    ]


REACH_UNREACHABLE = [
    Case(label=f"{TWO_PARTS_TEXT}, 0 → 3 (unreachable)", args=(TWO_PARTS, 4, 0, 3)),
    Case(label=f"{SHEET_PLUS_G}, b → g (unreachable)", args=(SHEET_EDGES, 7, 1, 6)),
]


def _random_reach(rng: np.random.Generator) -> list[Case]:
    cases = []
    for num_nodes, p in [(7, 0.0), (9, 0.05), (10, 0.15)]:
        edges = _graph(rng, num_nodes, [num_nodes], p)
        pairs = [tuple(int(v) for v in rng.choice(num_nodes, 2, replace=False)) for _ in range(3)]
        pairs.append((int(rng.integers(num_nodes)),) * 2)
        cases += [
            Case(label=f"random connected graph, {num_nodes} nodes", args=(edges, num_nodes, s, t))
            for s, t in pairs
        ]
    labels = [int(v) for v in rng.permutation(8)]
    edges = _shuffled(
        rng, _connected_edges(rng, labels[:5], 0.2) + _connected_edges(rng, labels[5:], 0.5)
    )
    for s, t in [(labels[0], labels[4]), (labels[1], labels[6]), (labels[7], labels[2])]:
        cases.append(Case(label="random graph with two components, 8 nodes", args=(edges, 8, s, t)))
    return cases


COVER_DISCONNECTED = [
    Case(label=f"{TWO_PARTS_TEXT} (disconnected)", args=(TWO_PARTS, 4)),
    Case(label=f"{SHEET_PLUS_G} (disconnected)", args=(SHEET_EDGES, 7)),
]


# Graphs where two BFS sweeps (node 0 → a farthest node u → u's eccentricity) fall short of
# the diameter: a 4-cycle 0–2–5–4 with a leaf on 2, 4 and 5 (diameter 4, the sweeps give 3,
# the radius is 2), and K4 without the edge 2–3 (diameter 2; from node 0 every node is at
# distance 1, and u = 1 has eccentricity 1).
COVER_SWEEP_TRAPS = [
    ([(0, 2), (0, 4), (1, 2), (2, 5), (3, 4), (4, 5), (5, 6)], 7, "a 4-cycle with three leaves"),
    ([(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)], 4, "K4 without the edge 2–3"),
]


def _random_cover(rng: np.random.Generator) -> list[Case]:
    n_path = int(rng.integers(5, 9))
    graphs = [
        (_path(rng, n_path), n_path, "random path"),
        (_graph(rng, 8, [8], 0.0), 8, "random tree"),
        (_graph(rng, 9, [9], 0.15), 9, "random connected graph"),
        (_graph(rng, 7, [7], 0.4), 7, "random connected graph"),
        ([], 1, "a single node"),
        (_graph(rng, 6, [5, 1], 0.3), 6, "random graph with an isolated node"),
        (_graph(rng, 8, [4, 4], 0.3), 8, "random graph with two components"),
    ]
    graphs += COVER_SWEEP_TRAPS
    return [Case(label=f"{text}, {n} nodes", args=(list(edges), n)) for edges, n, text in graphs]


ex3 = Exercise(
    id="3",
    title="Graph convolutional networks (sheet §3.1)",
    points=40,
    checks=[
        Check(
            name="sheet",
            function="gcn_adjacency",
            points=4,
            description="Ã of the assignment's graph (the matrix of Question 3)",
            cases=[Case(label=SHEET_TEXT, args=(SHEET_EDGES, 6))],
            compare=Exact(),
        ),
        Check(
            name="random",
            function="gcn_adjacency",
            points=4,
            hidden=True,
            description="Ã of random graphs (isolated nodes, edges in either orientation)",
            generate=_random_adjacency,
            compare=Exact(),
        ),
        Check(
            name="sheet",
            function="gcn_layer",
            points=5,
            description="one GCN layer on the assignment's graph",
            cases=[GCN_SHEET],
        ),
        Check(
            name="random",
            function="gcn_layer",
            points=7,
            hidden=True,
            description="one GCN layer on random graphs (isolated nodes: degree 0 + self-loop = 1; "
            "two different graphs of the same size)",
            generate=_random_gcn,
        ),
        Check(
            name="sheet",
            function="layers_to_reach",
            points=4,
            description="layers from one node to another on the assignment's graph "
            "(b → e is Question 4)",
            cases=_reach_sheet_cases(),
            compare=Exact(),
        ),
        Check(
            name="unreachable",
            function="layers_to_reach",
            points=2,
            description="raises ValueError when dst cannot be reached",
            cases=REACH_UNREACHABLE,
            compare=Exact(),
        ),
        Check(
            name="random",
            function="layers_to_reach",
            points=6,
            hidden=True,
            description="random connected and disconnected graphs (src = dst included)",
            generate=_random_reach,
            compare=Exact(),
        ),
        Check(
            name="sheet",
            function="layers_to_cover",
            points=3,
            description="layers until every node depends on every node, assignment's graph",
            cases=[Case(label=SHEET_TEXT, args=(SHEET_EDGES, 6))],
            compare=Exact(),
        ),
        Check(
            name="disconnected",
            function="layers_to_cover",
            points=2,
            description="raises ValueError for a disconnected graph",
            cases=COVER_DISCONNECTED,
            compare=Exact(),
        ),
        Check(
            name="random",
            function="layers_to_cover",
            points=3,
            hidden=True,
            description="random paths, trees, connected and disconnected graphs; two fixed "
            "graphs where two BFS sweeps underestimate the diameter",
            generate=_random_cover,
            compare=Exact(),
        ),
    ],
)

SHEET = Sheet(
    id="10",
    title="Recurrent and graph networks",
    source="002_5efd29751ded5bc6.txt",
    exercises=[ex1, ex2, ex3],
    reference=ref,
    mistakes=mistakes(MISTAKES),
)
