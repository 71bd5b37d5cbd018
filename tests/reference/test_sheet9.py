"""Sheet 9 reference against independent truths: torch (autograd), brute force and the seed text."""

from __future__ import annotations

import ast
import inspect
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from exercises.sheet9_mistakes import MISTAKES
from reference import sheet9 as ref

RTOL, ATOL = 1e-10, 1e-12


def tt(a, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=requires_grad)


def close(a, b) -> bool:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL)


@contextmanager
def strict_numpy() -> Iterator[None]:
    """numpy's default error state, with every warning turned into an error."""
    with (
        warnings.catch_warnings(),
        np.errstate(divide="warn", over="warn", under="ignore", invalid="warn"),
    ):
        warnings.simplefilter("error")
        yield


Z_SPECIAL = np.array(
    [-1000.0, -700.0, -50.0, -3.0, -1e-3, 0.0, 1e-3, 0.5, 3.0, 50.0, 710.0, 1000.0]
)


def z_values(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([Z_SPECIAL, 4 * rng.standard_normal(20)])


# --- activations -------------------------------------------------------------------------------

TORCH_ACT = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


@pytest.mark.parametrize("name", sorted(TORCH_ACT))
def test_activation_matches_torch(name: str) -> None:
    z = z_values(np.random.default_rng(0))
    with strict_numpy():
        got = ref.activation(name, z)
    assert close(got, TORCH_ACT[name](tt(z)).numpy())


@pytest.mark.parametrize("name", sorted(TORCH_ACT))
def test_activation_grad_matches_autograd(name: str) -> None:
    z = z_values(np.random.default_rng(1))
    zt = tt(z, requires_grad=True)
    TORCH_ACT[name](zt).sum().backward()
    with strict_numpy():
        got = ref.activation_grad(name, z)
    assert close(got, zt.grad.numpy())


def test_activation_on_2d_arrays() -> None:
    z = np.random.default_rng(2).standard_normal((3, 4))
    for name in ["threshold", *TORCH_ACT]:
        assert ref.activation(name, z).shape == (3, 4)
        assert ref.activation_grad(name, z).shape == (3, 4)


def test_threshold_as_in_lecture() -> None:
    # Lecture notes: g(z) = 1(z >= 0); the contract: its derivative is 0.
    z = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.0])
    assert np.array_equal(ref.activation("threshold", z), [0.0, 0.0, 1.0, 1.0, 1.0])
    assert np.array_equal(ref.activation_grad("threshold", z), np.zeros(5))


def test_relu_grad_at_zero_is_zero() -> None:
    assert np.array_equal(ref.activation_grad("relu", np.array([-1.0, 0.0, 1.0])), [0.0, 0.0, 1.0])


def test_sigmoid_lecture_form() -> None:
    # Lecture notes: g(z) = e^z / (1 + e^z), fine to evaluate directly for moderate z.
    z = np.linspace(-20, 20, 41)
    assert close(ref.activation("sigmoid", z), np.exp(z) / (1 + np.exp(z)))


def test_sigmoid_extremes_finite_without_warnings() -> None:
    z = np.array([-1000.0, -745.2, 745.2, 1000.0])
    with strict_numpy():
        s = ref.activation("sigmoid", z)
        g = ref.activation_grad("sigmoid", z)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(g))
    assert s[0] == 0.0 and s[-1] == 1.0
    assert np.all(g >= 0) and g[0] == 0.0 and g[-1] == 0.0


def test_unknown_activation_raises() -> None:
    with pytest.raises(ValueError):
        ref.activation("softplus", np.zeros(2))
    with pytest.raises(ValueError):
        ref.activation_grad("softplus", np.zeros(2))


# --- Exercise 1: conv1d ------------------------------------------------------------------------

CONV_SHAPES = [(1, 1, 5, 1), (2, 3, 7, 3), (3, 2, 6, 6), (1, 4, 9, 4), (4, 1, 8, 2)]


def torch_conv1d(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The contract's w is (C_in, C_out, S); torch wants (C_out, C_in, S). Both correlate."""
    return F.conv1d(x[None], w.permute(1, 0, 2))[0]


@pytest.mark.parametrize(("c_in", "c_out", "T", "S"), CONV_SHAPES)
def test_conv1d_matches_torch(c_in: int, c_out: int, T: int, S: int) -> None:
    rng = np.random.default_rng(T * 10 + S)
    x, w = rng.standard_normal((c_in, T)), rng.standard_normal((c_in, c_out, S))
    got = ref.conv1d(x, w)
    assert got.shape == (c_out, T - S + 1)
    assert close(got, torch_conv1d(tt(x), tt(w)).numpy())


def test_conv1d_by_hand() -> None:
    # One channel: z_t = w_0 x_t + w_1 x_{t+1} (no flip).
    x = np.array([[1.0, 2.0, 4.0, 8.0]])
    w = np.array([[[1.0, 10.0]]])
    assert np.array_equal(ref.conv1d(x, w), [[21.0, 42.0, 84.0]])


@pytest.mark.parametrize(("c_in", "c_out", "T", "S"), CONV_SHAPES)
def test_conv1d_grads_match_autograd(c_in: int, c_out: int, T: int, S: int) -> None:
    rng = np.random.default_rng(T * 100 + S)
    x, w = rng.standard_normal((c_in, T)), rng.standard_normal((c_in, c_out, S))
    dy_dz = rng.standard_normal((c_out, T - S + 1))
    xt, wt = tt(x, requires_grad=True), tt(w, requires_grad=True)
    (tt(dy_dz) * torch_conv1d(xt, wt)).sum().backward()
    dw = ref.conv1d_weight_grad(x, dy_dz)
    dx = ref.conv1d_input_grad(w, dy_dz)
    assert dw.shape == (c_in, c_out, S) and dx.shape == (c_in, T)
    assert close(dw, wt.grad.numpy())
    assert close(dx, xt.grad.numpy())


# --- Exercise 2: recursive network -------------------------------------------------------------

# Seed, Exercise 2: ((the, cat), (sat, (on, (the, mat)))) and a1, a2, a3 as printed; a4 and a5
# follow the same rule (the posted solution's "a4 = φ(cat, a3)" is a slip: it is sat).
SHEET_EQUATIONS = [
    ("a1", "the", "cat"),
    ("a2", "the", "mat"),
    ("a3", "on", "a2"),
    ("a4", "sat", "a3"),
    ("a5", "a1", "a4"),
]


def test_sheet_sentence() -> None:
    assert ref.SHEET_SENTENCE == "((the, cat), (sat, (on, (the, mat))))"


@pytest.mark.parametrize(
    "text",
    [
        "((the, cat), (sat, (on, (the, mat))))",
        "((the,cat),(sat,(on,(the,mat))))",
        "  ( ( the , cat ) ,\n( sat,(on ,\t(the,   mat) ) ) )  ",
    ],
)
def test_tree_equations_sheet(text: str) -> None:
    assert [tuple(e) for e in ref.tree_equations(text)] == SHEET_EQUATIONS


def test_tree_equations_other_shapes() -> None:
    assert ref.tree_equations("(a, (b, (c, d)))") == [
        ("a1", "c", "d"),
        ("a2", "b", "a1"),
        ("a3", "a", "a2"),
    ]
    assert ref.tree_equations("(((x,y),z),w)") == [
        ("a1", "x", "y"),
        ("a2", "a1", "z"),
        ("a3", "a2", "w"),
    ]
    assert ref.tree_equations("((p, q), (r, s))") == [
        ("a1", "p", "q"),
        ("a2", "r", "s"),
        ("a3", "a1", "a2"),
    ]
    # Anything but whitespace, brackets and commas belongs to a word.
    assert ref.tree_equations("(don't,stop-now.)") == [("a1", "don't", "stop-now.")]


@pytest.mark.parametrize("text", ["cat", "  cat ", "cat\n"])
def test_tree_equations_one_word(text: str) -> None:
    assert ref.tree_equations(text) == []


def parse_independently(text: str):
    """Quote every word and let Python's literal parser build the nested tuples."""
    return ast.literal_eval(re.sub(r"[^\s(),]+", lambda m: repr(m.group()), text))


def torch_tree(tree, leaf: Callable[[str], torch.Tensor], W, b) -> torch.Tensor:
    if isinstance(tree, str):
        return leaf(tree)
    left, right = torch_tree(tree[0], leaf, W, b), torch_tree(tree[1], leaf, W, b)
    return torch.tanh(W @ torch.cat([left, right]) + b)


def words_of(tree) -> list[str]:
    return [tree] if isinstance(tree, str) else words_of(tree[0]) + words_of(tree[1])


def random_params(rng: np.random.Generator, words: list[str], d: int):
    emb = {w: rng.standard_normal(d) for w in words}
    return emb, rng.standard_normal((d, 2 * d)), rng.standard_normal(d), rng.standard_normal(d)


SENTENCES = [
    ref.SHEET_SENTENCE,
    "((the,cat),(sat,(on,(the,mat))))",
    "(a, (b, (c, d)))",
    "((x, x), (x, (y, x)))",
    "(dog, dog)",
]


@pytest.mark.parametrize("d", [1, 3, 4])
@pytest.mark.parametrize("text", SENTENCES)
def test_recursive_network_matches_autograd(text: str, d: int) -> None:
    rng = np.random.default_rng(d + len(text))
    tree = parse_independently(text)
    words = sorted(set(words_of(tree)))
    emb, W, b, u = random_params(rng, [*words, "unused"], d)
    emb_t = {w: tt(v, requires_grad=True) for w, v in emb.items()}
    W_t, b_t, u_t = (tt(p, requires_grad=True) for p in (W, b, u))
    y = u_t @ torch_tree(tree, emb_t.__getitem__, W_t, b_t)
    y.backward()

    assert ref.recursive_forward(text, emb, W, b, u) == pytest.approx(y.item(), rel=1e-12)
    grads = ref.recursive_grad(text, emb, W, b, u)
    assert close(grads["W"], W_t.grad.numpy())
    assert close(grads["b"], b_t.grad.numpy())
    assert close(grads["u"], u_t.grad.numpy())
    assert set(words) <= set(grads["emb"])
    for word, g in grads["emb"].items():
        expected = emb_t[word].grad
        assert close(g, np.zeros(d) if expected is None else expected.numpy())


def test_repeated_word_sums_both_uses() -> None:
    rng = np.random.default_rng(7)
    tree = parse_independently(ref.SHEET_SENTENCE)
    emb, W, b, u = random_params(rng, ["the", "cat", "sat", "on", "mat"], 3)
    # A separate leaf per occurrence of "the": left-to-right, the first and the second use.
    uses = [tt(emb["the"], requires_grad=True) for _ in range(2)]
    others = {w: tt(v) for w, v in emb.items() if w != "the"}
    count = iter(range(2))

    def leaf(word: str) -> torch.Tensor:
        return uses[next(count)] if word == "the" else others[word]

    (tt(u) @ torch_tree(tree, leaf, tt(W), tt(b))).backward()
    first, second = uses[0].grad.numpy(), uses[1].grad.numpy()
    got = ref.recursive_grad(ref.SHEET_SENTENCE, emb, W, b, u)["emb"]["the"]
    assert close(got, first + second)
    assert not close(got, first) and not close(got, second)


def test_one_word_sentence() -> None:
    rng = np.random.default_rng(8)
    emb, W, b, u = random_params(rng, ["cat", "dog"], 3)
    assert ref.recursive_forward("cat", emb, W, b, u) == pytest.approx(float(u @ emb["cat"]))
    grads = ref.recursive_grad(" cat ", emb, W, b, u)
    assert close(grads["W"], np.zeros((3, 6))) and close(grads["b"], np.zeros(3))
    assert close(grads["u"], emb["cat"]) and close(grads["emb"]["cat"], u)
    assert close(grads["emb"].get("dog", np.zeros(3)), np.zeros(3))


def test_recursive_grad_finite_differences_on_W() -> None:
    rng = np.random.default_rng(9)
    emb, W, b, u = random_params(rng, ["the", "cat", "sat", "on", "mat"], 2)
    h, numeric = 1e-6, np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[idx] = h
        plus = ref.recursive_forward(ref.SHEET_SENTENCE, emb, W + step, b, u)
        minus = ref.recursive_forward(ref.SHEET_SENTENCE, emb, W - step, b, u)
        numeric[idx] = (plus - minus) / (2 * h)
    got = ref.recursive_grad(ref.SHEET_SENTENCE, emb, W, b, u)["W"]
    assert np.allclose(got, numeric, rtol=1e-6, atol=1e-8)


# --- Exercise 3: graph networks ----------------------------------------------------------------


def random_graph(rng: np.random.Generator, n: int, p: float = 0.4) -> np.ndarray:
    upper = np.triu(rng.random((n, n)) < p, k=1)
    return (upper | upper.T).astype(float)


@pytest.mark.parametrize(("n", "d"), [(1, 1), (4, 2), (6, 3), (5, 5)])
def test_gnn_layer_matches_torch(n: int, d: int) -> None:
    rng = np.random.default_rng(n * d)
    A, H, W = random_graph(rng, n), rng.standard_normal((n, d)), rng.standard_normal((d, d))
    expected = torch.relu(tt(A) @ tt(H) @ tt(W)).numpy()
    assert close(ref.gnn_layer(A, H, W), expected)


def brute_tree(A: np.ndarray, node: int, depth: int) -> list:
    if depth == 0:
        return [node, []]
    return [node, [brute_tree(A, j, depth - 1) for j in range(len(A)) if A[node][j] != 0]]


def as_lists(tree) -> list:
    node, children = tree
    assert isinstance(node, int)
    return [node, [as_lists(c) for c in children]]


def level_sizes(tree, depth: int) -> list[int]:
    level, sizes = [tree], []
    for _ in range(depth + 1):
        sizes.append(len(level))
        level = [c for _, children in level for c in children]
    return sizes


def test_unrolled_tree_by_hand() -> None:
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    assert ref.unrolled_tree(path, 0, 0) == (0, ())
    assert as_lists(ref.unrolled_tree(path, 0, 2)) == [0, [[1, [[0, []], [2, []]]]]]


@pytest.mark.parametrize("seed", range(6))
def test_unrolled_tree_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(1, 7))
    A = random_graph(rng, n)
    for node in range(n):
        for depth in range(4):
            tree = ref.unrolled_tree(A, node, depth)
            assert as_lists(tree) == brute_tree(A, node, depth)
            # Level k has as many nodes as there are walks of length k from `node`.
            walks = [int(np.linalg.matrix_power(A, k)[node].sum()) for k in range(depth + 1)]
            assert level_sizes(tree, depth) == walks


def grid_adjacency(rows: int, cols: int) -> np.ndarray:
    n = rows * cols
    A = np.zeros((n, n))
    for p in range(n):
        for q in range(n):
            (r1, c1), (r2, c2) = divmod(p, cols), divmod(q, cols)
            A[p, q] = abs(r1 - r2) + abs(c1 - c2) == 1
    return A


def run_layers(layers: list, grid: np.ndarray) -> np.ndarray:
    """grid (rows, cols, C) through the CNN, channels first as torch wants them."""
    x = tt(grid).permute(2, 0, 1)[None]
    for layer in layers:
        if layer[0] == "relu":
            x = torch.relu(x)
        else:
            kernel = tt(layer[1])
            kh, kw = kernel.shape[2:]
            x = F.conv2d(x, kernel, padding=((kh - 1) // 2, (kw - 1) // 2))
    return x[0].permute(1, 2, 0).numpy()


def two_gnn_layers(grid: np.ndarray, W: np.ndarray) -> np.ndarray:
    rows, cols, d = grid.shape
    A, H, Wt = tt(grid_adjacency(rows, cols)), tt(grid.reshape(rows * cols, d)), tt(W)
    for _ in range(2):
        H = torch.relu(A @ H @ Wt)
    return H.numpy().reshape(rows, cols, d)


@pytest.mark.parametrize(
    ("rows", "cols", "d"), [(1, 1, 1), (3, 4, 2), (5, 5, 3), (2, 7, 1), (6, 3, 4)]
)
def test_lattice_as_cnn_equals_two_gnn_layers(rows: int, cols: int, d: int) -> None:
    rng = np.random.default_rng(rows * 100 + cols * 10 + d)
    W = rng.standard_normal((d, d))
    layers = ref.lattice_as_cnn(W)
    for grid in [rng.standard_normal((rows, cols, d)), np.ones((rows, cols, d))]:
        assert close(run_layers(layers, grid), two_gnn_layers(grid, W))


def test_lattice_as_cnn_layer_structure() -> None:
    W = np.arange(9.0).reshape(3, 3)
    layers = ref.lattice_as_cnn(W)
    assert [layer[0] for layer in layers].count("conv") == 4
    assert [layer[0] for layer in layers].count("relu") == 2
    for layer in layers:
        if layer[0] == "conv":
            assert layer[1].ndim == 4 and layer[1].shape[2] % 2 == 1 and layer[1].shape[3] % 2 == 1
    # Seed's answer: a 3x3 kernel I(i=j)·[[0,1,0],[1,0,1],[0,1,0]], then a 1x1 kernel from W.
    plus = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    for i in range(3):
        for j in range(3):
            assert np.array_equal(layers[0][1][i, j], plus if i == j else np.zeros((3, 3)))
    assert np.array_equal(layers[1][1][:, :, 0, 0], W.T)


# --- known mistakes ----------------------------------------------------------------------------

CONTRACT_FUNCTIONS = [
    "activation",
    "activation_grad",
    "conv1d",
    "conv1d_weight_grad",
    "conv1d_input_grad",
    "tree_equations",
    "recursive_forward",
    "recursive_grad",
    "gnn_layer",
    "unrolled_tree",
    "lattice_as_cnn",
]


def mistake_inputs(function: str) -> list[tuple]:
    """Valid inputs for each function, including the special ones some mistakes need."""
    rng = np.random.default_rng(2024)
    if function in ("activation", "activation_grad"):
        return [(name, Z_SPECIAL.copy()) for name in ["threshold", "sigmoid", "tanh", "relu"]]
    if function == "conv1d":
        return [
            (rng.standard_normal((2, 7)), rng.standard_normal((2, 2, 3))),
            (rng.standard_normal((2, 7)), rng.standard_normal((2, 3, 3))),
        ]
    if function == "conv1d_weight_grad":
        return [(rng.standard_normal((2, 7)), rng.standard_normal((3, 5)))]
    if function == "conv1d_input_grad":
        return [(rng.standard_normal((2, 3, 3)), rng.standard_normal((3, 5)))]
    if function == "tree_equations":
        return [
            (ref.SHEET_SENTENCE,),
            ("((the,cat),(sat,(on,(the,mat))))",),
            ("(a, (b, c))",),
            ("((the, cat), (the, cat))",),  # a repeated subtree is two nodes
        ]
    if function in ("recursive_forward", "recursive_grad"):
        emb, W, b, u = random_params(rng, ["the", "cat", "sat", "on", "mat"], 3)
        return [(ref.SHEET_SENTENCE, emb, W, b, u)]
    directed = np.triu(np.ones((4, 4)), k=1)  # arcs i → j for i < j only: A ≠ Aᵀ
    if function == "gnn_layer":
        A = random_graph(rng, 5, p=0.6)
        return [
            (A, rng.standard_normal((5, 5)), rng.standard_normal((5, 5))),
            (A, rng.standard_normal((5, 3)), rng.standard_normal((3, 3))),
            (directed, rng.standard_normal((4, 2)), rng.standard_normal((2, 2))),
        ]
    if function == "unrolled_tree":
        A = random_graph(rng, 5, p=0.6)
        ring = np.roll(np.eye(10), 1, axis=1) + np.roll(np.eye(10), -1, axis=1)
        ring[3, 8] = ring[8, 3] = 1.0  # node 3's neighbours 2, 4, 8: a set lists 8 first
        trees = [(A, node, depth) for node in range(5) for depth in range(3)]
        return [*trees, (directed, 0, 2), (ring, 3, 1)]
    if function == "lattice_as_cnn":
        return [(rng.standard_normal((d, d)),) for d in (1, 2, 3)]
    raise KeyError(function)


def same_answer(function: str, args: tuple, a, b) -> bool:
    if function == "lattice_as_cnn":
        d = args[0].shape[0]
        grid = np.random.default_rng(5).standard_normal((4, 5, d))
        return close(run_layers(a, grid), run_layers(b, grid))
    if function == "unrolled_tree":
        return as_lists(a) == as_lists(b)
    if function == "tree_equations":
        return [tuple(e) for e in a] == [tuple(e) for e in b]
    if function == "recursive_grad":
        return all(close(a[k], b[k]) for k in ("W", "b", "u")) and all(
            close(a["emb"][w], b["emb"][w]) for w in b["emb"]
        )
    return close(a, b)


def test_mistakes_cover_only_contract_functions() -> None:
    assert set(MISTAKES) <= set(CONTRACT_FUNCTIONS)
    for function, mistakes in MISTAKES.items():
        slugs = [slug for slug, _, _ in mistakes]
        assert len(slugs) == len(set(slugs)), function
        for slug, message, wrong in mistakes:
            assert re.fullmatch(r"[a-zA-Z0-9_]+", slug)
            assert 10 < len(message) <= 200, slug
            ref_params = list(inspect.signature(getattr(ref, function)).parameters)
            assert list(inspect.signature(wrong).parameters) == ref_params, slug


@pytest.mark.parametrize("function", CONTRACT_FUNCTIONS)
def test_reference_runs_cleanly_on_mistake_inputs(function: str) -> None:
    for args in mistake_inputs(function):
        with strict_numpy():
            getattr(ref, function)(*args)


MISTAKE_CASES = [
    pytest.param(function, slug, wrong, id=f"{function}-{slug}")
    for function, mistakes in MISTAKES.items()
    for slug, _, wrong in mistakes
]


@pytest.mark.parametrize(("function", "slug", "wrong"), MISTAKE_CASES)
def test_each_mistake_differs_from_reference(function: str, slug: str, wrong: Callable) -> None:
    for args in mistake_inputs(function):
        expected = getattr(ref, function)(*args)
        try:
            with strict_numpy():
                got = wrong(*args)
        except Exception:  # a crash or a RuntimeWarning is a visible difference
            return
        if not same_answer(function, args, got, expected):
            return
    pytest.fail(f"{slug} agrees with the reference on every input")


@pytest.mark.parametrize(("function", "slug", "wrong"), MISTAKE_CASES)
def test_mistakes_stay_quiet(function: str, slug: str, wrong: Callable) -> None:
    """The grader runs them in its own process: no warnings on its stderr."""
    for args in mistake_inputs(function):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with suppress(Exception):
                wrong(*args)
        assert not caught, f"{slug}: {caught[0].message}"


def test_seed_slip_reproduces_the_posted_solution() -> None:
    (wrong,) = [f for slug, _, f in MISTAKES["tree_equations"] if slug == "seed_slip_cat"]
    # The solution part of the seed prints a4 = φ(a_cat, a3, v).
    assert wrong(ref.SHEET_SENTENCE)[3] == ("a4", "cat", "a3")
