"""Sheet 7 — Convolutional networks and reverse-mode AD: the checks.

The sheet prints no points, so they follow the work each derivation takes (100 in all):

- Exercise 1, backprop in a convnet (40): the sheet's main derivations. ``conv_net_grad`` 15
  (1a: the shared filter sums over every position of its own channel) and
  ``conv_pool_net_grad`` 15 (1c: the same sum restricted to the winners of the pooling, the
  hardest to get right in code) weigh most; ``dense_net_grad`` 10 (1b) is the same chain rule
  without weight sharing. Each has a public example (inputs given by formulas, so they can be
  rebuilt) and a hidden random check with H ≠ W, C, K, O > 1 (odd conv outputs for the pooled
  net, random floats so that pooling never ties).
- Exercise 2, volume sizes (10): one formula and its special case. ``conv_output_shape`` 7
  (the sheet's sizes, strides and padding, the out-of-range errors), ``same_padding`` 3.
- Exercise 3, translation equivariance (25): the sheet's long hand computation, split over
  its steps: ``conv2d`` 7 (the two 4×4 outputs), ``maxpool2d`` 5 (the 2×2×2 volume; k passed
  by keyword), ``relu`` 2, ``shift_left`` 3 and ``count_changed_after_shift`` 8 (the sheet's
  question, exact on integer-valued images).
- Exercise 4, reverse-mode AD (25): ``reverse_mode`` 18 (Eq. (10) on any graph: a node used
  twice by one mul, nodes the output does not depend on, an input as the output) and
  ``sheet_graph`` 7 (Eq. (9), judged by evaluating it here: f6 and t_θ 4, every f_i 3).

The sheet's two filters are point-symmetric, so a flipped kernel (true convolution) gives the
sheet's numbers; only the hidden random filters catch it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from exercises.common import mistakes
from exercises.sheet7_mistakes import MISTAKES
from grader.comparison import Exact
from grader.judges.sheet7 import GRAPH_NODES, GRAPH_OUTPUT, GRAPH_POINTS
from grader.spec import Case, Check, Exercise, Sheet
from reference import sheet7 as ref


def _arr(values: Any) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def _fmt(a: Any) -> str:
    """Compact text for a small array in a label: [[1, 0], [2, -1]]."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return f"{float(a):g}"
    return "[" + ", ".join(_fmt(v) for v in a) + "]"


# Exercise 1 -------------------------------------------------------------------------------------


def _formula(shape: tuple[int, ...], fn: Callable[..., np.ndarray]) -> np.ndarray:
    return np.fromfunction(fn, shape, dtype=np.float64)


def _example_net(sizes: str, H: int, W: int, C: int, w_hw: tuple[int, int], v_shape: tuple) -> Case:
    """Inputs given by formulas, so a student can rebuild them from the label."""
    K, O = v_shape[-2:]
    image = _formula((H, W, C), lambda i, j, c: np.sin(1 + i + 2 * j + 3 * c))
    w = _formula((*w_hw, C, K), lambda x, y, c, k: np.cos(x + 2 * y + 3 * c + 5 * k) / 2)
    b = _arr([0.1, -0.2, 0.3][:K])
    if len(v_shape) == 4:
        v = _formula(v_shape, lambda i, j, k, o: np.sin(i - 2 * j + 3 * k + o))
        v_text = "v[i, j, k, o] = sin(i - 2j + 3k + o)"
    else:
        v = _formula(v_shape, lambda k, o: np.sin(3 * k + o))
        v_text = "v[k, o] = sin(3k + o)"
    y_hat = _arr([1.0, -1.0, 0.5][:O])
    label = (
        f"{sizes}: I[i, j, c] = sin(1 + i + 2j + 3c), w[x, y, c, k] = cos(x + 2y + 3c + 5k)/2, "
        f"b = {_fmt(b)}, {v_text}, ŷ = {_fmt(y_hat)}"
    )
    return Case(label=label, args=(image, w, b, v, y_hat))


CONV_EXAMPLE = _example_net(
    "H = 4, W = 5, C = 2, F = 2, K = 2, O = 3", 4, 5, 2, (2, 2), (3, 4, 2, 3)
)
DENSE_EXAMPLE = _example_net("H = 3, W = 2, C = 2, K = 3, O = 2", 3, 2, 2, (3, 2), (3, 2))
# conv output 4×5: its last column is dropped by the pooling
POOL_EXAMPLE = _example_net(
    "H = 5, W = 6, C = 2, F = 2, K = 2, O = 2", 5, 6, 2, (2, 2), (2, 2, 2, 2)
)

# (H, W, C, F, K, O): H ≠ W, C, K, O > 1; F = 1 and F = H included
CONV_SHAPES = [(5, 7, 2, 3, 2, 3), (6, 4, 3, 2, 3, 2), (4, 6, 2, 1, 2, 2), (3, 5, 2, 3, 2, 2)]
DENSE_SHAPES = [(3, 4, 2, 3, 2), (5, 2, 3, 2, 4), (2, 3, 2, 4, 3)]  # (H, W, C, K, O)
# conv outputs 5×6, 5×8, 5×7, 4×7, 6×4: odd rows, odd columns, both, neither
POOL_SHAPES = [
    (7, 8, 2, 3, 2, 3),
    (6, 9, 3, 2, 2, 2),
    (6, 8, 2, 2, 2, 3),
    (5, 8, 2, 2, 3, 2),
    (8, 6, 2, 3, 2, 2),
]


def _net_case(rng: np.random.Generator, label: str, shapes: list[tuple[int, ...]]) -> Case:
    """Random I, w, b, v, ŷ of the given shapes (w scaled down so σ does not saturate)."""
    scales = (1.0, 0.6, 1.0, 1.0, 1.0)
    args = tuple(rng.normal(scale=s, size=shape) for s, shape in zip(scales, shapes, strict=True))
    return Case(label=label, args=args)


def _conv_label(H: int, W: int, C: int, F: int, K: int, O: int) -> str:
    return f"H = {H}, W = {W}, C = {C}, F = {F}, K = {K}, O = {O}"


def _random_conv(rng: np.random.Generator) -> list[Case]:
    cases = []
    for H, W, C, F, K, O in CONV_SHAPES:
        shapes = [(H, W, C), (F, F, C, K), (K,), (H - F + 1, W - F + 1, K, O), (O,)]
        cases.append(_net_case(rng, _conv_label(H, W, C, F, K, O), shapes))
    return cases


def _random_dense(rng: np.random.Generator) -> list[Case]:
    cases = []
    for H, W, C, K, O in DENSE_SHAPES:
        shapes = [(H, W, C), (H, W, C, K), (K,), (K, O), (O,)]
        cases.append(_net_case(rng, f"H = {H}, W = {W}, C = {C}, K = {K}, O = {O}", shapes))
    return cases


def _random_pool(rng: np.random.Generator) -> list[Case]:
    cases = []
    for H, W, C, F, K, O in POOL_SHAPES:
        P, Q = (H - F + 1) // 2, (W - F + 1) // 2
        shapes = [(H, W, C), (F, F, C, K), (K,), (P, Q, K, O), (O,)]
        cases.append(_net_case(rng, _conv_label(H, W, C, F, K, O), shapes))
    return cases


ex1 = Exercise(
    id="1",
    title="Backprop in a convnet",
    points=40,
    checks=[
        Check(
            name="example",
            function="conv_net_grad",
            points=6,
            description="∂L/∂w of conv → σ → linear on a small example (H ≠ W, C, K, O > 1)",
            cases=[CONV_EXAMPLE],
        ),
        Check(
            name="random",
            function="conv_net_grad",
            points=9,
            hidden=True,
            description="∂L/∂w for random inputs, F = 1 and F = H included",
            generate=_random_conv,
        ),
        Check(
            name="example",
            function="dense_net_grad",
            points=4,
            description="∂L/∂w of dense → σ → linear on a small example",
            cases=[DENSE_EXAMPLE],
        ),
        Check(
            name="random",
            function="dense_net_grad",
            points=6,
            hidden=True,
            description="∂L/∂w for random inputs, H ≠ W, C, K, O > 1",
            generate=_random_dense,
        ),
        Check(
            name="example",
            function="conv_pool_net_grad",
            points=6,
            description="∂L/∂w with 2×2 max pooling on a small example (conv output 4×5: the "
            "last column is dropped)",
            cases=[POOL_EXAMPLE],
        ),
        Check(
            name="random",
            function="conv_pool_net_grad",
            points=9,
            hidden=True,
            description="∂L/∂w with max pooling for random inputs, odd and even conv outputs",
            generate=_random_pool,
        ),
    ],
)

# Exercise 2 -------------------------------------------------------------------------------------


def _shape_case(n: int, c: int, k: int, f: int, s: int, p: int, note: str = "") -> Case:
    text = f"n = {n}, c = {c}, k = {k}, f = {f}, s = {s}, p = {p}"
    return Case(label=f"{text} ({note})" if note else text, args=(n, c, k, f, s, p))


SHAPE_SHEET = [
    _shape_case(6, 1, 2, 3, 1, 0, "the sheet's 6×6 image and two 3×3 filters → 4×4×2"),
    _shape_case(4, 2, 2, 2, 2, 0, "the sheet's 4×4×2 volume in 2×2 windows, stride 2 → 2×2×2"),
    _shape_case(4, 1, 1, 3, 1, 1, "Exercise 2b: n = 4, f = 3, padding 1 keeps 4×4"),
]
# Stride 1 and p > 0 first: no padding, one side padded and the right answer all differ there,
# so the first failing case names the right known mistake.
SHAPE_STRIDES = [
    _shape_case(32, 3, 16, 5, 1, 2),
    _shape_case(7, 3, 5, 3, 2, 1),
    _shape_case(5, 1, 2, 2, 2, 0, "(5 − 2)/2 = 1.5 rounds down"),
    _shape_case(11, 2, 3, 5, 3, 1, "(11 + 2 − 5)/3 = 8/3 rounds down"),
    _shape_case(3, 4, 1, 3, 1, 0, "the filter covers the whole input"),
]
SHAPE_ERRORS = [
    _shape_case(2, 1, 1, 5, 1, 1, "a 5×5 filter does not fit a 2×2 input padded by 1"),
    _shape_case(0, 1, 1, 1, 1, 0, "n < 1"),
    _shape_case(3, 0, 1, 1, 1, 0, "c < 1"),
    _shape_case(3, 1, 0, 1, 1, 0, "k < 1"),
    _shape_case(3, 1, 1, 0, 1, 0, "f < 1"),
    _shape_case(3, 1, 1, 1, 0, 0, "s < 1"),
    _shape_case(3, 1, 1, 1, 1, -1, "p < 0"),
]


def _random_shapes(rng: np.random.Generator) -> list[Case]:
    """The first case has stride 1, padding and k ≠ c (see SHAPE_STRIDES), then any sizes."""
    cases = []
    for first in (True, False, False, False, False, False):
        f, s, p = int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        if first:
            s, p = 1, int(rng.integers(1, 4))
        n = int(rng.integers(max(1, f - 2 * p), 40))
        c, k = int(rng.integers(1, 5)), int(rng.integers(5, 65))
        cases.append(_shape_case(n, c, k, f, s, p))
    return cases


ex2 = Exercise(
    id="2",
    title="Computing volume sizes",
    points=10,
    checks=[
        Check(
            name="sheet",
            function="conv_output_shape",
            points=2,
            description="the sheet's volumes: 6×6×1 → 4×4×2, 4×4×2 → 2×2×2, n = 4, f = 3, p = 1",
            cases=SHAPE_SHEET,
            compare=Exact(),
        ),
        Check(
            name="stride_padding",
            function="conv_output_shape",
            points=2,
            description="strides that do not divide evenly, padding, a filter as big as the input",
            cases=SHAPE_STRIDES,
            compare=Exact(),
        ),
        Check(
            name="errors",
            function="conv_output_shape",
            points=2,
            description="raises ValueError when the filter does not fit or an argument is out "
            "of range",
            cases=SHAPE_ERRORS,
            compare=Exact(),
        ),
        Check(
            name="random",
            function="conv_output_shape",
            points=1,
            hidden=True,
            description="random sizes, strides and paddings",
            generate=_random_shapes,
            compare=Exact(),
        ),
        Check(
            name="odd",
            function="same_padding",
            points=1.5,
            description="f = 1, 5, 3 (the sheet's n = 4, f = 3 → 1) and 7",
            # in this order, the first failing case tells the known mistakes apart
            cases=[Case(label=f"f = {f}", args=(f,)) for f in (1, 5, 3, 7)],
            compare=Exact(),
        ),
        Check(
            name="even",
            function="same_padding",
            points=1.5,
            description="raises ValueError for an even f or f < 1",
            cases=[Case(label=f"f = {f}", args=(f,)) for f in (2, 4, 0, -1)],
            compare=Exact(),
        ),
    ],
)

# Exercise 3 -------------------------------------------------------------------------------------

IMAGE, FILTERS = ref.SHEET_IMAGE, ref.SHEET_FILTERS
SHIFTED = ref.shift_left(IMAGE)
IMAGE_TEXT = "the sheet's 6×6 image"
FILTERS_TEXT = "its two 3×3 filters"
SMALL_IMAGE = _arr(np.arange(12).reshape(3, 4))
RELU_X = (np.arange(24.0) - 12) / 2


def _conv_sheet_cases() -> list[Case]:
    return [
        Case(label=f"{IMAGE_TEXT} and {FILTERS_TEXT}", args=(IMAGE.copy(), FILTERS.copy())),
        Case(
            label=f"{IMAGE_TEXT} moved one pixel left, and {FILTERS_TEXT}",
            args=(SHIFTED.copy(), FILTERS.copy()),
        ),
    ]


def _pooled_input(image: np.ndarray) -> np.ndarray:
    return ref.relu(ref.conv2d(image, FILTERS))


POOL_ODD = _formula((5, 7, 3), lambda i, j, k: np.sin(1 + 2 * i + j + 4 * k))


def _random_conv2d(rng: np.random.Generator) -> list[Case]:
    return [
        Case(
            label=f"image {H}×{W}, {K} filters {F}×{F}",
            args=(rng.normal(size=(H, W)), rng.normal(size=(K, F, F))),
        )
        for H, W, K, F in [(6, 9, 3, 3), (7, 5, 2, 2), (5, 8, 1, 4), (4, 6, 2, 1)]
    ]


def _random_pool_k3(rng: np.random.Generator) -> list[Case]:
    return [
        Case(label=f"x of shape {shape}, k = 3", args=(rng.normal(size=shape),), kwargs={"k": 3})
        for shape in [(7, 8, 2), (4, 11, 1), (5, 5, 3), (10, 7, 2)]
    ]


def _random_shift(rng: np.random.Generator) -> list[Case]:
    return [
        Case(label=f"random {H}×{W} image", args=(rng.normal(size=(H, W)),))
        for H, W in [(4, 7), (6, 3), (1, 5), (5, 2)]
    ]


def _counts_tell_mistakes_apart(image: np.ndarray, filters: np.ndarray) -> bool:
    """The truth and every known mistake give pairwise different counts on this input."""
    table = MISTAKES["count_changed_after_shift"]
    counts = [ref.count_changed_after_shift(image, filters)]
    counts += [wrong(image, filters) for _, _, wrong in table]
    return len(set(counts)) == len(counts)


def _random_count(rng: np.random.Generator) -> list[Case]:
    """Integer images and filters. The runner hints on the first failing case, and counts of
    different mistakes easily coincide, so the first two cases are chosen to tell them apart:
    a non-negative image with filters ≤ 0 (ReLU zeroes every unit: none changes, while the
    pre-ReLU maxima do), then mixed signs where all known mistakes give different counts."""
    image = rng.integers(0, 5, (8, 9)).astype(np.float64)
    filters = -rng.integers(0, 3, (2, 3, 3)).astype(np.float64)
    filters[:, 1, 1] = -1.0 - rng.integers(0, 2, 2)
    cases = [Case(label="integer image 8×9 ≥ 0, two 3×3 filters ≤ 0", args=(image, filters))]
    for _ in range(1000):
        image = rng.integers(-2, 4, (9, 10)).astype(np.float64)
        filters = rng.integers(-2, 2, (2, 3, 3)).astype(np.float64)
        if _counts_tell_mistakes_apart(image, filters):
            break
    cases.append(Case(label="integer image 9×10, 2 filters 3×3", args=(image, filters)))
    for H, W, K, F in [(6, 8, 2, 3), (7, 5, 3, 2), (8, 9, 1, 3), (5, 7, 2, 2), (9, 6, 2, 3)]:
        image = rng.integers(-2, 4, (H, W)).astype(np.float64)
        filters = rng.integers(-2, 2, (K, F, F)).astype(np.float64)
        label = f"integer image {H}×{W}, {K} filter(s) {F}×{F}"
        cases.append(Case(label=label, args=(image, filters)))
    return cases


ex3 = Exercise(
    id="3",
    title="Translation equivariance and translation invariance",
    points=25,
    checks=[
        Check(
            name="sheet",
            function="conv2d",
            points=4,
            description="the two 4×4 outputs of the sheet, before and after the shift",
            cases=_conv_sheet_cases(),
        ),
        Check(
            name="random",
            function="conv2d",
            points=3,
            hidden=True,
            description="random images (H ≠ W) and filters (K from 1 to 3, F from 1 to 4)",
            generate=_random_conv2d,
        ),
        Check(
            name="values",
            function="relu",
            points=2,
            description="max(0, x) elementwise on a (3, 4, 2) array",
            cases=[
                Case(
                    label="x = (arange(24) - 12)/2 reshaped to (3, 4, 2)",
                    args=(RELU_X.reshape(3, 4, 2),),
                )
            ],
        ),
        Check(
            name="sheet",
            function="maxpool2d",
            points=2,
            description="the sheet's 2×2×2 volume after pooling, before and after the shift",
            cases=[
                Case(
                    label=f"relu(conv2d(…)) of {IMAGE_TEXT} (4×4×2)", args=(_pooled_input(IMAGE),)
                ),
                Case(
                    label=f"relu(conv2d(…)) of {IMAGE_TEXT} moved left (4×4×2)",
                    args=(_pooled_input(SHIFTED),),
                ),
            ],
        ),
        Check(
            name="odd",
            function="maxpool2d",
            points=1,
            description="a 5×7×3 input: the trailing row and column are dropped",
            cases=[
                Case(label="x[i, j, k] = sin(1 + 2i + j + 4k), shape (5, 7, 3)", args=(POOL_ODD,))
            ],
        ),
        Check(
            name="k3",
            function="maxpool2d",
            points=2,
            hidden=True,
            description="k = 3 passed by keyword; H and W not multiples of 3",
            generate=_random_pool_k3,
        ),
        Check(
            name="sheet",
            function="shift_left",
            points=2,
            description="the sheet's image, and a 3×4 image whose left column is not 0",
            cases=[
                Case(label=IMAGE_TEXT, args=(IMAGE.copy(),)),
                Case(label="image = arange(12) reshaped to (3, 4)", args=(SMALL_IMAGE,)),
            ],
        ),
        Check(
            name="random",
            function="shift_left",
            points=1,
            hidden=True,
            description="random images of several shapes",
            generate=_random_shift,
        ),
        Check(
            name="sheet",
            function="count_changed_after_shift",
            points=4,
            description="the sheet's question: how many of the 8 pooled units change",
            cases=[
                Case(label=f"{IMAGE_TEXT} and {FILTERS_TEXT}", args=(IMAGE.copy(), FILTERS.copy()))
            ],
            compare=Exact(),
        ),
        Check(
            name="random",
            function="count_changed_after_shift",
            points=4,
            hidden=True,
            description="random integer-valued images and filters (negative values included)",
            generate=_random_count,
            compare=Exact(),
        ),
    ],
)

# Exercise 4 -------------------------------------------------------------------------------------

SHEET_POINT = {"x1": 0.3, "x2": -1.2, "theta": 0.7}
OTHER_POINT = {"x1": 1.5, "x2": 0.4, "theta": -2.0}


def _point_text(values: dict[str, float]) -> str:
    return ", ".join(f"{'θ' if k == 'theta' else k} = {v:g}" for k, v in values.items())


def _sheet_reverse_cases() -> list[Case]:
    text = "the sheet's graph (Eq. 9)"
    return [
        Case(
            label=f"{text}, {_point_text(point)}, output f{n}",
            args=(ref.sheet_graph(), dict(point), f"f{n}"),
        )
        for point, n in [(SHEET_POINT, 6), (OTHER_POINT, 6), (SHEET_POINT, 5), (OTHER_POINT, 3)]
    ]


OPS = ("add", "mul", "sin", "square")


def _grow(rng: np.random.Generator, graph: list, n_ops: int, prefix: str) -> None:
    """Append random nodes; an add or mul takes the same parent twice one time in four."""
    for j in range(n_ops):
        names = [node[0] for node in graph]
        op = OPS[int(rng.integers(len(OPS)))]
        first = names[int(rng.integers(len(names)))]
        if op in ("add", "mul"):
            second = first if rng.random() < 0.25 else names[int(rng.integers(len(names)))]
            graph.append((f"{prefix}{j}", op, (first, second)))
        else:
            graph.append((f"{prefix}{j}", op, (first,)))


def _tame(graph: list, values: dict[str, float]) -> bool:
    return all(abs(v) < 20 for v in ref._forward(graph, values).values())


def _random_reverse_graph(rng: np.random.Generator, kind: str) -> Case:
    """One random graph; ``kind`` decides which special case it carries."""
    inputs = {
        "twice": ["x", "y", "z"],
        "middle": ["a", "b"],
        "input": ["p", "q", "r"],
        "one_input": ["x"],
        "large": ["u", "v", "w"],
    }[kind]
    for _ in range(1000):  # resample until no value grows large (nested squares)
        graph: list = [(name, "input", ()) for name in inputs]
        if kind == "one_input":
            graph.append(("xx", "mul", ("x", "x")))
        _grow(rng, graph, {"large": 14, "middle": 9}.get(kind, 5), "n")
        names = [node[0] for node in graph]
        output = names[-1]
        if kind == "twice":  # mul(p, p) on the output's path and a node nothing depends on
            last = names[-1]
            graph += [
                ("sq", "mul", (last, last)),
                ("dead", "sin", (names[int(rng.integers(len(names)))],)),
                ("out", "add", ("sq", names[int(rng.integers(len(names)))])),
            ]
            output = "out"
        elif kind == "middle":
            output = names[int(rng.integers(len(inputs), len(names) - 3))]
            graph = [[name, op, list(parents)] for name, op, parents in graph]
        elif kind == "input":
            output = inputs[int(rng.integers(len(inputs)))]
        values = {name: float(rng.uniform(-1.5, 1.5)) for name in inputs}
        if _tame(graph, values):
            break
    else:
        raise RuntimeError(f"no tame random graph of kind {kind!r}")
    label = f"random graph ({kind.replace('_', ' ')}), {len(graph)} nodes, output {output!r}"
    return Case(label=label, args=(graph, values, output))


def _random_reverse(rng: np.random.Generator) -> list[Case]:
    return [
        _random_reverse_graph(rng, kind)
        for kind in ("twice", "middle", "input", "one_input", "large")
    ]


# sheet_graph: the returned graph is judged by grader.judges.sheet7 (evaluated there).


def _eq9(x1: float, x2: float, theta: float) -> dict[str, float]:
    """The sheet's f_i written out (Eq. 9)."""
    f2 = theta * x1 + x2
    return {
        "f1": x1 * theta,
        "f2": f2,
        "f3": math.sin(f2),
        "f4": x2**2,
        "f5": theta * x2**2,
        "f6": math.sin(f2) + theta * x2**2,
    }


def _graph_truth() -> dict:
    """f_i of Eq. (9) and the sheet's t_θ = x1 cos(θx1 + x2) + x2² at every point."""
    return {
        "f": [_eq9(*p) for p in GRAPH_POINTS],
        "t_theta": [x1 * math.cos(th * x1 + x2) + x2**2 for x1, x2, th in GRAPH_POINTS],
    }


ex4 = Exercise(
    id="4",
    title="Reverse-mode automatic differentiation",
    points=25,
    checks=[
        Check(
            name="sheet",
            function="reverse_mode",
            points=7,
            description="t_n for every node of the sheet's graph (outputs f6, f5 and f3; "
            "nodes the output does not depend on get 0)",
            cases=_sheet_reverse_cases(),
        ),
        Check(
            name="random",
            function="reverse_mode",
            points=11,
            hidden=True,
            description="random graphs: mul(x, x), unused nodes, an input as the output, "
            "nodes given as lists",
            generate=_random_reverse,
        ),
        Check(
            name="output",
            function="sheet_graph",
            points=4,
            description="your graph, evaluated at four points, gives f6 = sin(θx1 + x2) + θx2², "
            "and reverse mode on it t_θ = x1 cos(θx1 + x2) + x2²",
            cases=[Case(label="")],
            expect=_graph_truth,
            compare=GRAPH_OUTPUT,
        ),
        Check(
            name="nodes",
            function="sheet_graph",
            points=3,
            description="every f1 … f6 of your graph equals the sheet's f_i (Eq. 9)",
            cases=[Case(label="")],
            expect=_graph_truth,
            compare=GRAPH_NODES,
        ),
    ],
)

SHEET = Sheet(
    id="7",
    title="Convolutional networks and reverse-mode AD",
    source="001_5c2bfb7511470545.txt",
    exercises=[ex1, ex2, ex3, ex4],
    reference=ref,
    mistakes=mistakes(MISTAKES),
)
