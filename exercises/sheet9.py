"""Sheet 9 — Structured networks (CNN, recursive and graph networks): the checks.

Points follow the sheet where it gives them: exercise 1 (10 P), exercise 2 (10 + 10 P) and
exercise 3 (10 + 10 P); exercise 4 is the separate programming task and is not graded here.
The lecture recap (activations and their derivatives, from the lecture notes) adds 10 P,
split evenly between the values and the derivatives: it is short work, but sigmoid's overflow
and the conventions at z = 0 are worth a check each. Total 60 P.

Within an exercise the points go to the function that carries the sheet's question:
- 1 (∂y/∂w): conv1d_weight_grad 4, conv1d 3 (the forward pass it rests on), conv1d_input_grad 3
  (the lecture's backward pass).
- 2(a) the equations: tree_equations 6 and recursive_forward 4 (evaluating the same graph);
  2(b) dy/dθ: recursive_grad 10 (θ = W, b and u 4, the embeddings with the repeated word 3,
  random trees 3).
- 3(a) the trees of a depth-2 GNN: unrolled_tree 6 and gnn_layer 4 (the layer it unrolls);
  3(b) the lattice as a CNN: lattice_as_cnn 10, judged by running the returned layers.

Structured answers (equations, trees, a list of CNN layers) are judged by their structure or
by what they compute, with numpy on the returned plain data; nothing returned is executed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from exercises.common import mistakes
from exercises.sheet9_mistakes import MISTAKES
from grader.comparison import (
    shape_str,
)
from grader.judges.sheet9 import (
    EQUATIONS,
    GRADS,
    LATTICE,
    TREE,
    grid_adjacency,
    lattice_grids,
)
from grader.spec import Case, Check, Exercise, Sheet
from reference import sheet9 as ref


def _fmt(a: Any) -> str:
    """Compact text for a small array in a label: [[1, 0], [2, -1]]."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return f"{float(a):g}"
    return "[" + ", ".join(_fmt(v) for v in a) + "]"


def _arr(values: Any) -> np.ndarray:
    return np.array(values, dtype=np.float64)


# Lecture recap ----------------------------------------------------------------------------------

NAMES = ("threshold", "sigmoid", "tanh", "relu")
Z_SMALL = _arr([-3.0, -1.0, -1e-3, 0.0, 1e-3, 0.5, 2.0])  # z = 0 for threshold and relu'(0)
Z_EXTREME = _arr([-1000.0, -745.2, -710.0, -50.0, 50.0, 710.0, 745.2, 1000.0])


def _activation_cases(names: tuple[str, ...], z: np.ndarray) -> list[Case]:
    return [Case(label=f"{name!r}, z = {_fmt(z)}", args=(name, z.copy())) for name in names]


def _quiet_sigmoid(cases: list[Case]) -> list[Case]:
    """The contract wants sigmoid free of RuntimeWarnings (no overflow in exp) for |z| ≤ 1000."""
    return [c.model_copy(update={"no_warnings": c.args[0] == "sigmoid"}) for c in cases]


def _random_activation(rng: np.random.Generator) -> list[Case]:
    cases = []
    for name, shape in zip(NAMES, [(3, 4), (9,), (2, 5), (4, 3)], strict=True):
        z = 4.0 * rng.standard_normal(shape)
        z.flat[0] = 0.0
        cases.append(Case(label=f"{name!r}, random z of shape {shape_str(shape)}", args=(name, z)))
    return cases


recap = Exercise(
    id="recap",
    title="Activation functions (lecture recap)",
    points=10,
    checks=[
        Check(
            name="values",
            function="activation",
            points=2,
            description="the four activations on small z, z = 0 included (threshold(0) = 1)",
            cases=_quiet_sigmoid(_activation_cases(NAMES, Z_SMALL)),
        ),
        Check(
            name="extreme",
            function="activation",
            points=1.5,
            description="sigmoid and tanh stay finite and accurate for |z| up to 1000, "
            "sigmoid without a RuntimeWarning",
            cases=_quiet_sigmoid(_activation_cases(("sigmoid", "tanh"), Z_EXTREME)),
        ),
        Check(
            name="random",
            function="activation",
            points=1.5,
            hidden=True,
            description="the four activations on random 1-D and 2-D arrays",
            generate=lambda rng: _quiet_sigmoid(_random_activation(rng)),
        ),
        Check(
            name="values",
            function="activation_grad",
            points=2,
            description="the four derivatives on small z (relu'(0) = 0, threshold' = 0)",
            cases=_activation_cases(NAMES, Z_SMALL),
        ),
        Check(
            name="extreme",
            function="activation_grad",
            points=1.5,
            description="sigmoid' and tanh' stay finite and accurate for |z| up to 1000",
            cases=_activation_cases(("sigmoid", "tanh"), Z_EXTREME),
        ),
        Check(
            name="random",
            function="activation_grad",
            points=1.5,
            hidden=True,
            description="the four derivatives on random 1-D and 2-D arrays",
            generate=_random_activation,
        ),
    ],
)

# Exercise 1 -------------------------------------------------------------------------------------

X_ONE = _arr([[1, 2, 4, 8]])
W_ONE = _arr([[[1, 10]]])
X_TWO = _arr([[1, 0, 2, -1, 3], [0, 1, -1, 2, 1]])
W_TWO = _arr([[[1, 0, -1], [2, 1, 0]], [[0, 1, 1], [-1, 0, 2]]])  # C_in = C_out = 2, S = 3
G_ONE = _arr([[1, 0, -1]])
G_TWO = _arr([[1, -1, 2], [0, 2, 1]])
G_TALL = _arr([[2], [-1], [-2]])  # C_out = 3, T_out = 1


def _fixed_random(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-3, 4, shape).astype(np.float64)


X_WIDE = _fixed_random((2, 6), 1)
W_WIDE = _fixed_random((2, 3, 2), 2)  # C_out = 3 > C_in = 2

CONV_CASES = [
    Case(label=f"x = {_fmt(X_ONE)}, w = {_fmt(W_ONE)}", args=(X_ONE, W_ONE)),
    Case(label=f"x = {_fmt(X_TWO)}, w = {_fmt(W_TWO)}", args=(X_TWO, W_TWO)),
    Case(label=f"x = {_fmt(X_WIDE)}, w = {_fmt(W_WIDE)}", args=(X_WIDE, W_WIDE)),
]
WEIGHT_GRAD_CASES = [
    Case(label=f"x = {_fmt(X_ONE)}, dy_dz = {_fmt(G_ONE)}", args=(X_ONE, G_ONE)),
    Case(label=f"x = {_fmt(X_TWO)}, dy_dz = {_fmt(G_TWO)}", args=(X_TWO, G_TWO)),
    Case(label=f"x = {_fmt(X_WIDE)}, dy_dz = {_fmt(G_TALL)} (S = T)", args=(X_WIDE, G_TALL)),
]
INPUT_GRAD_CASES = [
    Case(label=f"w = {_fmt(W_ONE)}, dE_dz = {_fmt(G_ONE)}", args=(W_ONE, G_ONE)),
    Case(label=f"w = {_fmt(W_TWO)}, dE_dz = {_fmt(G_TWO)}", args=(W_TWO, G_TWO)),
    Case(label=f"w = {_fmt(W_WIDE)}, dE_dz = {_fmt(G_TALL)} (T_out = 1)", args=(W_WIDE, G_TALL)),
]
# (C_in, C_out, T, S): one channel, C_in = C_out, S = 1, S = T, wide and narrow
CONV_SHAPES = [(1, 1, 5, 1), (2, 2, 7, 3), (3, 2, 6, 6), (2, 4, 9, 4), (4, 1, 8, 2)]


def _random_conv(rng: np.random.Generator, kind: str) -> list[Case]:
    cases = []
    for c_in, c_out, T, S in CONV_SHAPES:
        x, w = rng.standard_normal((c_in, T)), rng.standard_normal((c_in, c_out, S))
        g = rng.standard_normal((c_out, T - S + 1))
        args = {"conv1d": (x, w), "weight": (x, g), "input": (w, g)}[kind]
        label = f"C_in = {c_in}, C_out = {c_out}, T = {T}, S = {S}"
        cases.append(Case(label=label, args=args))
    return cases


ex1 = Exercise(
    id="1",
    title="Convolutional neural networks: a 1-D convolution layer",
    points=10,
    checks=[
        Check(
            name="example",
            function="conv1d",
            points=1.5,
            description="z = Σ_i w^(ij) ⋆ x^(i) on small integer signals",
            cases=CONV_CASES,
        ),
        Check(
            name="random",
            function="conv1d",
            points=1.5,
            hidden=True,
            description="random signals, S = 1 and S = T included",
            generate=lambda rng: _random_conv(rng, "conv1d"),
        ),
        Check(
            name="example",
            function="conv1d_weight_grad",
            points=2,
            description="∂y/∂w from x and ∂y/∂z on small integer signals",
            cases=WEIGHT_GRAD_CASES,
        ),
        Check(
            name="random",
            function="conv1d_weight_grad",
            points=2,
            hidden=True,
            description="∂y/∂w on random signals, S = 1 and S = T included",
            generate=lambda rng: _random_conv(rng, "weight"),
        ),
        Check(
            name="example",
            function="conv1d_input_grad",
            points=1.5,
            description="∂E/∂x from w and ∂E/∂z on small integer signals",
            cases=INPUT_GRAD_CASES,
        ),
        Check(
            name="random",
            function="conv1d_input_grad",
            points=1.5,
            hidden=True,
            description="∂E/∂x on random signals, S = 1 and S = T included",
            generate=lambda rng: _random_conv(rng, "input"),
        ),
    ],
)

# Exercise 2 -------------------------------------------------------------------------------------

SENTENCE = ref.SHEET_SENTENCE
SHEET_NO_SPACES = "((the,cat),(sat,(on,(the,mat))))"
SHEET_ODD_SPACES = "  ( ( the , cat ) ,\n( sat,(on ,\t(the,   mat) ) ) )  "
VOCAB = ("the", "cat", "sat", "on", "mat", "a", "dog", "ran")


def _random_tree(rng: np.random.Generator, leaves: int) -> ref.Tree:
    if leaves == 1:
        return str(rng.choice(VOCAB))
    left = int(rng.integers(1, leaves))
    return (_random_tree(rng, left), _random_tree(rng, leaves - left))


def _bracket(tree: ref.Tree, rng: np.random.Generator, style: str) -> str:
    """Write a tree out: ", " between children, "," only, or random whitespace."""
    if isinstance(tree, str):
        return tree
    left, right = (_bracket(t, rng, style) for t in tree)
    if style == "spaces":
        return f"({left}, {right})"
    if style == "compact":
        return f"({left},{right})"
    gaps = [str(rng.choice(["", " ", "  ", "\t", "\n"])) for _ in range(4)]
    return f"({gaps[0]}{left}{gaps[1]},{gaps[2]}{right}{gaps[3]})"


def _random_sentences(rng: np.random.Generator) -> list[str]:
    sentences = [str(rng.choice(VOCAB))]
    for leaves, style in [(2, "compact"), (4, "spaces"), (6, "messy"), (8, "compact")]:
        sentences.append(_bracket(_random_tree(rng, leaves), rng, style))
    return sentences


def _random_equation_cases(rng: np.random.Generator) -> list[Case]:
    return [Case(label=repr(s), args=(s,)) for s in _random_sentences(rng)]


SHEET_WORDS = ("the", "cat", "sat", "on", "mat")
EMB_1D = {w: _arr([v]) for w, v in zip(SHEET_WORDS, [0.5, -1.0, 2.0, -0.5, 1.5], strict=True)}
W_1D, B_1D, U_1D = _arr([[0.8, -0.6]]), _arr([0.1]), _arr([2.0])


def _params(rng: np.random.Generator, d: int, words: tuple[str, ...]) -> tuple:
    emb = {w: rng.standard_normal(d) for w in words}
    W = 0.8 * rng.standard_normal((d, 2 * d))
    return emb, W, rng.standard_normal(d), rng.standard_normal(d)


def _sheet_recursive_cases(extra_word: bool) -> list[Case]:
    words = (*SHEET_WORDS, "dog") if extra_word else SHEET_WORDS
    emb_1d = dict(EMB_1D, dog=_arr([3.0])) if extra_word else dict(EMB_1D)
    emb, W, b, u = _params(np.random.default_rng(9), 3, words)
    emb_text = " ".join(f"{w}={v[0]:g}" for w, v in emb_1d.items())
    return [
        Case(
            label=f"the sheet's sentence, d = 1, emb {emb_text}, W = {_fmt(W_1D)}, "
            f"b = {_fmt(B_1D)}, u = {_fmt(U_1D)}",
            args=(SENTENCE, emb_1d, W_1D, B_1D, U_1D),
        ),
        Case(
            label="the sheet's sentence, d = 3, random emb"
            + (" (with 'dog', not in the sentence)" if extra_word else "")
            + ", W, b, u",
            args=(SENTENCE, emb, W, b, u),
        ),
    ]


def _random_recursive(rng: np.random.Generator) -> list[Case]:
    cases = []
    for sentence, d in zip(_random_sentences(rng), [2, 1, 3, 4, 2], strict=True):
        emb, W, b, u = _params(rng, d, VOCAB)
        cases.append(Case(label=f"{sentence!r}, d = {d}", args=(sentence, emb, W, b, u)))
    return cases


def _theta_grads(bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray) -> dict:
    grads = ref.recursive_grad(bracketed, emb, W, b, u)
    return {k: grads[k] for k in ("W", "b", "u")}


def _emb_grads(bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray) -> dict:
    return {"emb": ref.recursive_grad(bracketed, emb, W, b, u)["emb"]}


ex2 = Exercise(
    id="2",
    title="Recursive neural networks",
    points=20,
    checks=[
        Check(
            name="sheet",
            function="tree_equations",
            points=2.5,
            description="a1 … a5 for the sheet's sentence, in post-order",
            cases=[Case(label=repr(SENTENCE), args=(SENTENCE,))],
            compare=EQUATIONS,
        ),
        Check(
            name="no_spaces",
            function="tree_equations",
            points=1.5,
            description="spaces are optional: the sheet's sentence without / with odd spacing",
            cases=[Case(label=repr(s), args=(s,)) for s in (SHEET_NO_SPACES, SHEET_ODD_SPACES)],
            compare=EQUATIONS,
        ),
        Check(
            name="shapes",
            function="tree_equations",
            points=1,
            description="a one-word sentence (no equations), chains, a balanced tree, "
            "words with punctuation, a subtree repeated (each copy is a node of its own)",
            cases=[
                Case(label=repr(s), args=(s,))
                for s in (
                    "cat",
                    "(a, (b, (c, d)))",
                    "(((x,y),z),w)",
                    "((p, q), (r, s))",
                    "(don't, stop-now.)",
                    "((the, cat), (the, cat))",
                )
            ],
            compare=EQUATIONS,
        ),
        Check(
            name="random",
            function="tree_equations",
            points=1,
            hidden=True,
            description="random trees of 1 to 8 words with repeats, any spacing",
            generate=_random_equation_cases,
            compare=EQUATIONS,
        ),
        Check(
            name="sheet",
            function="recursive_forward",
            points=2,
            description="y = u · a5 for the sheet's sentence",
            cases=_sheet_recursive_cases(extra_word=False),
        ),
        Check(
            name="random",
            function="recursive_forward",
            points=2,
            hidden=True,
            description="random trees (one word included), d from 1 to 4",
            generate=_random_recursive,
        ),
        Check(
            name="theta",
            function="recursive_grad",
            points=4,
            description="dy/dW, dy/db (summed over all five nodes) and dy/du, sheet's sentence",
            cases=_sheet_recursive_cases(extra_word=False),
            expect=_theta_grads,
            compare=GRADS,
        ),
        Check(
            name="emb",
            function="recursive_grad",
            points=3,
            description="dy/d emb for every word of the sheet's sentence ('the' is used "
            "twice); an unused word's entry, if given, must be 0",
            cases=_sheet_recursive_cases(extra_word=True),
            expect=_emb_grads,
            compare=GRADS,
        ),
        Check(
            name="random",
            function="recursive_grad",
            points=3,
            hidden=True,
            description="all gradients on random trees (one word included), d from 1 to 4",
            generate=_random_recursive,
            compare=GRADS,
        ),
    ],
)

# Exercise 3 -------------------------------------------------------------------------------------


def _adjacency(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    A = np.zeros((n, n))
    for i, j in edges:
        A[i, j] = A[j, i] = 1.0
    return A


def _edges_text(edges: list[tuple[int, int]]) -> str:
    return ", ".join(f"{i}–{j}" for i, j in edges)


def _random_graph(rng: np.random.Generator, n: int, p: float = 0.5) -> np.ndarray:
    upper = np.triu(rng.random((n, n)) < p, k=1)
    return (upper | upper.T).astype(np.float64)


def _random_directed(rng: np.random.Generator, n: int, p: float = 0.4) -> np.ndarray:
    """Arcs i → j (A[i, j] = 1) drawn independently, no self-loops, with at least one arc
    whose reverse is absent, so that A ≠ Aᵀ."""
    A = (rng.random((n, n)) < p).astype(np.float64)
    np.fill_diagonal(A, 0.0)
    i, j = (int(v) for v in rng.choice(n, 2, replace=False))
    A[i, j], A[j, i] = 1.0, 0.0
    return A


# A directed graph: row i of A marks the nodes that node i reads from (A ≠ Aᵀ).
DIRECTED = _arr([[0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0]])
H_DIRECTED = _arr([[1, 0], [0, 2], [-1, 1], [3, -1]])


PATH4 = [(0, 1), (1, 2), (2, 3)]
TRIANGLE = [(0, 1), (1, 2), (0, 2)]
H_TRI = _arr([[1, 0, -1], [2, 1, 0], [0, -1, 1]])
W_TRI = _arr([[1, 0, 2], [-1, 1, 0], [0, 2, -1]])
W_PATH = _arr([[1, -2], [0.5, 1]])
GNN_CASES = [  # N = d first: H W A has the right shapes only there
    Case(
        label=f"edges {_edges_text(TRIANGLE)}, H = {_fmt(H_TRI)}, W = {_fmt(W_TRI)}",
        args=(_adjacency(3, TRIANGLE), H_TRI, W_TRI),
    ),
    Case(
        label=f"edges {_edges_text(PATH4)}, H = ones (4, 2), W = {_fmt(W_PATH)}",
        args=(_adjacency(4, PATH4), np.ones((4, 2)), W_PATH),
    ),
    Case(
        label=f"directed A = {_fmt(DIRECTED)}, H = {_fmt(H_DIRECTED)}, W = {_fmt(W_PATH)}",
        args=(DIRECTED, H_DIRECTED, W_PATH),
    ),
]


def _random_gnn(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d in [(1, 1), (5, 5), (6, 3), (4, 2)]:
        A, H, W = _random_graph(rng, n), rng.standard_normal((n, d)), rng.standard_normal((d, d))
        cases.append(Case(label=f"N = {n}, d = {d}", args=(A, H, W)))
    A, H, W = _random_directed(rng, 6), rng.standard_normal((6, 3)), rng.standard_normal((3, 3))
    cases.append(Case(label="directed graph, N = 6, d = 3", args=(A, H, W)))
    return cases


PATH3 = [(0, 1), (1, 2)]
KITE = [(0, 1), (0, 2), (0, 3), (1, 2)]
CYCLE5 = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)]
# ids from 8 on: node 3's neighbours 2, 4, 8 are in index order, unlike a set's {8, 2, 4}
RING10_CHORD = [(k, (k + 1) % 10) for k in range(10)] + [(3, 8)]
TREE_CASES = [
    Case(
        label=f"edges {_edges_text(PATH3)}, node {node}, depth {depth}",
        args=(_adjacency(3, PATH3), node, depth),
    )
    for node, depth in [(0, 0), (0, 1), (0, 2), (1, 2)]
] + [
    Case(label=f"edges {_edges_text(KITE)}, node 0, depth 2", args=(_adjacency(4, KITE), 0, 2)),
    Case(label=f"edges {_edges_text(KITE)}, node 3, depth 3", args=(_adjacency(4, KITE), 3, 3)),
    Case(label=f"edges {_edges_text(CYCLE5)}, node 2, depth 3", args=(_adjacency(5, CYCLE5), 2, 3)),
    Case(
        label=f"edges {_edges_text(RING10_CHORD)}, node 3, depth 2",
        args=(_adjacency(10, RING10_CHORD), 3, 2),
    ),
    Case(label=f"directed A = {_fmt(DIRECTED)}, node 0, depth 2", args=(DIRECTED, 0, 2)),
]


def _random_trees(rng: np.random.Generator) -> list[Case]:
    cases = []
    graphs = [
        (_random_graph(rng, n), depths) for n, depths in [(2, [0, 2]), (5, [1, 2, 3]), (6, [2, 3])]
    ]
    graphs += [(_random_graph(rng, 12, 0.25), [2]), (_random_directed(rng, 7), [2, 3])]
    for A, depths in graphs:
        n = len(A)
        kind = "N" if (A == A.T).all() else "directed, N"
        for depth in depths:
            node = int(rng.integers(n))
            label = f"{kind} = {n}, node {node}, depth {depth}"
            cases.append(Case(label=label, args=(A, node, depth)))
    return cases


# The lattice: the truth is two GNN layers; grader.judges.sheet9 runs the returned CNN.


def _two_gnn_layers(grid: np.ndarray, W: np.ndarray) -> np.ndarray:
    rows, cols, d = grid.shape
    A, H = grid_adjacency(rows, cols), grid.reshape(rows * cols, d)
    return ref.gnn_layer(A, ref.gnn_layer(A, H, W), W).reshape(rows, cols, d)


def _lattice_truth(W: np.ndarray) -> dict:
    grids = lattice_grids(len(W))
    return {"grids": grids, "outputs": [_two_gnn_layers(g, W) for g in grids]}


def _random_lattice(rng: np.random.Generator) -> list[Case]:
    return [
        Case(label=f"random W, d = {d}", args=(rng.standard_normal((d, d)),)) for d in (1, 2, 4)
    ]


W_LATTICE_2 = _arr([[1, -2], [0.5, 1]])
W_LATTICE_3 = _arr([[0.5, -1, 0], [1, 0.25, -0.5], [0, 1, 1]])

ex3 = Exercise(
    id="3",
    title="Graph neural networks",
    points=20,
    checks=[
        Check(
            name="example",
            function="gnn_layer",
            points=2,
            description="H_{t+1} = ρ(A H_t W) on a triangle, a path (H_0 = ones) and a "
            "directed graph (A ≠ Aᵀ)",
            cases=GNN_CASES,
        ),
        Check(
            name="random",
            function="gnn_layer",
            points=2,
            hidden=True,
            description="random graphs, N = d included, one directed",
            generate=_random_gnn,
        ),
        Check(
            name="small_graphs",
            function="unrolled_tree",
            points=3,
            description="computation trees on a path, a kite, a 5-cycle, a 10-node ring with a "
            "chord and a directed graph, depth 0 to 3",
            cases=TREE_CASES,
            compare=TREE,
        ),
        Check(
            name="random",
            function="unrolled_tree",
            points=3,
            hidden=True,
            description="computation trees on random graphs (12 nodes, directed), depth 0 to 3",
            generate=_random_trees,
            compare=TREE,
        ),
        Check(
            name="example",
            function="lattice_as_cnn",
            points=6,
            description="your layers, run on 3×4, 4×2 and 1×5 grids, equal two GNN layers "
            "on the 4-neighbour grid graph",
            cases=[Case(label=f"W = {_fmt(W)}", args=(W,)) for W in (W_LATTICE_2, W_LATTICE_3)],
            expect=_lattice_truth,
            compare=LATTICE,
        ),
        Check(
            name="random",
            function="lattice_as_cnn",
            points=4,
            hidden=True,
            description="the same for random W, d = 1, 2 and 4",
            generate=_random_lattice,
            expect=_lattice_truth,
            compare=LATTICE,
        ),
    ],
)

SHEET = Sheet(
    id="9",
    title="Structured networks",
    source="000_a442b9c7dd813b4c.txt (lecture notes 004_9426992d0d391907.txt)",
    exercises=[recap, ex1, ex2, ex3],
    reference=ref,
    mistakes=mistakes(MISTAKES),
)
