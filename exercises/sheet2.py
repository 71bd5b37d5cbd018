"""Sheet 2 — Backpropagation: the checks.

Points follow the sheet: 20 / 30 / 20 / 30. The drawing parts of the sheet are
graded through the functions that encode the same answer (the network's
parameters, the decision boundary).
"""

from __future__ import annotations

import numpy as np

from exercises.common import mistakes
from exercises.sheet2_mistakes import MISTAKES
from grader.comparison import (
    AllClose,
    Labels,
    shape_str,
)
from grader.judges.sheet2 import NETWORK, NETWORK_X, draw_disagreement, grid
from grader.spec import Case, Check, Exercise, Sheet
from reference import sheet2 as ref

# Exercise 1 -------------------------------------------------------------------


def _boundary_points(rng: np.random.Generator) -> list[Case]:
    """Points within 1e-3 of each boundary ray, on both sides."""
    n = 40
    along = rng.uniform(1.0005, 6.0, n)
    gap = rng.uniform(1e-6, 1e-3, n)
    side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    rays = [
        np.column_stack([-1.0 + side * gap, along]),  # x1 = −1, x2 ≥ 1
        np.column_stack([-along, 1.0 + side * gap]),  # x2 = 1, x1 ≤ −1
        np.column_stack([along, -1.0 + side * gap]),  # mirror images
        np.column_stack([1.0 + side * gap, -along]),
    ]
    return [Case(label="points within 1e-3 of the boundary", args=(np.vstack(rays),))]


def _far_points(rng: np.random.Generator) -> list[Case]:
    radius = 10.0 ** rng.uniform(1, 4, 200)
    angle = rng.uniform(0, 2 * np.pi, 200)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X = X[np.abs(ref.network_output(X)) > 1e-6]
    return [Case(label="points far from the origin", args=(X,))]


def _network_truth() -> dict:
    return {"X": NETWORK_X, "y": ref.network_output(NETWORK_X)}


ex1 = Exercise(
    id="1",
    title="Drawing and simulating a neural network",
    points=20,
    checks=[
        Check(
            name="as_function",
            function="network_params",
            points=8,
            description="the network computes y = 1 − ρ(x1) − ρ(x2) + ρ(x1 + x2) everywhere "
            "(any order of the hidden neurons)",
            cases=[Case(label="")],
            expect=_network_truth,
            compare=NETWORK,
        ),
        Check(
            name="grid",
            function="predict_class",
            points=4,
            description="classes on a 61×61 grid over [−3, 3]²",
            cases=[Case(label="61×61 grid over [−3, 3]²", args=(grid(),))],
            compare=Labels(figure=draw_disagreement),
        ),
        Check(
            name="boundary",
            function="predict_class",
            points=5,
            hidden=True,
            description="points within 1e-3 of the decision boundary, on both sides",
            generate=_boundary_points,
            compare=Labels(),
        ),
        Check(
            name="far",
            function="predict_class",
            points=3,
            hidden=True,
            description="points far from the origin (|x| up to 1e4)",
            generate=_far_points,
            compare=Labels(),
        ),
    ],
)

# Exercise 2 -------------------------------------------------------------------


def _pair(y: list[float], t: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(y, dtype=np.float64), np.array(t, dtype=np.float64)


LOGCOSH_SMALL = Case(
    label="y = [0, 0.5, −1, 2, 3.5], t = [0, 1, 1, −1, 0.25]",
    args=_pair([0, 0.5, -1, 2, 3.5], [0, 1, 1, -1, 0.25]),
)
LOGCOSH_LARGE = Case(
    label="|y − t| from 100 to 1e4",
    args=_pair([100.0, -750.0, 1000.0, 5000.0, -1e4, 0.0], [0.0, 0.0, -1.0, 0.5, 0.0, 1e4]),
)


# Where log cosh z − (|z| − log 2) = log1p(e^{−2|z|}) still exceeds the 1e-9 tolerance
# (|z| < 9.2): an implementation that switches to the asymptote too early fails here.
LOGCOSH_MEDIUM = Case(
    label="|y − t| from 5.5 to 11.5",
    args=_pair([5.5, 0.0, 3.0, -8.0, 9.0, 1.5], [0.0, 6.25, -4.0, 0.5, 0.0, -10.0]),
)


def _random_pairs(rng: np.random.Generator, scale: float = 5.0) -> list[Case]:
    cases = []
    for shape in [(7,), (3, 4), ()]:
        y = rng.normal(0, scale, shape)
        t = rng.normal(0, scale, shape)
        cases.append(
            Case(
                label=f"random arrays of shape {shape_str(shape)}",
                args=(np.asarray(y), np.asarray(t)),
            )
        )
    return cases


def _random_wide_pairs(rng: np.random.Generator) -> list[Case]:
    z = 10.0 ** rng.uniform(-8, 4, 50) * np.where(rng.random(50) < 0.5, -1, 1)
    t = rng.normal(0, 2, 50)
    return [Case(label="|y − t| from 1e-8 to 1e4", args=(t + z, t))]


def _dataset(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d in [(5, 3), (20, 1), (1, 4)]:
        X = rng.normal(0, 1.5, (n, d))
        cases.append(
            Case(label=f"N = {n}, d = {d}", args=(X, rng.normal(0, 1, d), rng.normal(0, 2, n)))
        )
    return cases


DATASET_SHEET = Case(
    label="X = [[1, 2], [0, −1], [3, 0.5]], w = [0.5, −0.25], t = [1, 0, 2]",
    args=(
        np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]),
        np.array([0.5, -0.25]),
        np.array([1.0, 0.0, 2.0]),
    ),
)

ex2 = Exercise(
    id="2",
    title="Backpropagation in the error function",
    points=30,
    checks=[
        Check(
            name="values",
            function="logcosh",
            points=4,
            description="log cosh(y − t) on small values",
            cases=[LOGCOSH_SMALL],
        ),
        Check(
            name="large",
            function="logcosh",
            points=3,
            description="stays finite and accurate for |y − t| up to 1e4",
            cases=[LOGCOSH_LARGE, LOGCOSH_MEDIUM],
            compare=AllClose(rtol=1e-9, atol=1e-12, scale_tol=0.0, float32=False),
        ),
        Check(
            name="random",
            function="logcosh",
            points=3,
            hidden=True,
            description="random arrays, |y − t| from 1e-8 to 1e4",
            generate=_random_wide_pairs,
            compare=AllClose(rtol=1e-9, atol=1e-12, scale_tol=0.0, float32=False),
        ),
        Check(
            name="values",
            function="logcosh_grad",
            points=5,
            description="∂E/∂y on small values",
            cases=[LOGCOSH_SMALL, LOGCOSH_LARGE],
        ),
        Check(
            name="random",
            function="logcosh_grad",
            points=5,
            hidden=True,
            description="∂E/∂y on random arrays of several shapes",
            generate=_random_pairs,
        ),
        Check(
            name="example",
            function="dataset_grad",
            points=5,
            description="∂E/∂w for a small data set",
            cases=[DATASET_SHEET],
        ),
        Check(
            name="random",
            function="dataset_grad",
            points=5,
            hidden=True,
            description="∂E/∂w for random data sets (N = 1 included)",
            generate=_dataset,
        ),
    ],
)

# Exercise 3 -------------------------------------------------------------------

WEIGHTS = ("w13", "w23", "w14", "w24", "w35", "w45", "w36", "w46", "w57", "w67")
SHEET_W = dict(zip(WEIGHTS, [0.5, -0.3, 0.8, 0.2, -0.6, 0.9, 0.4, -0.7, 1.1, -0.5], strict=True))
BACKPROP_CASE = Case(
    label="x = [1, −2], t = 0.5, w = " + ", ".join(f"{k}={v:g}" for k, v in SHEET_W.items()),
    args=(np.array([1.0, -2.0]), 0.5, dict(SHEET_W)),
)


def _random_backprop(rng: np.random.Generator) -> list[Case]:
    return [
        Case(
            label="random x, t, w",
            args=(
                rng.normal(0, 1.5, 2),
                float(rng.normal(0, 2)),
                {k: float(v) for k, v in zip(WEIGHTS, rng.normal(0, 1, 10), strict=True)},
            ),
        )
        for _ in range(5)
    ]


ex3 = Exercise(
    id="3",
    title="Backpropagation in a multilayer network",
    points=20,
    checks=[
        Check(
            name="w13",
            function="backprop",
            points=6,
            description="∂E/∂w13, the sheet's backward computation",
            cases=[BACKPROP_CASE],
            expect=lambda x, t, w: {"w13": ref.backprop(x, t, w)["w13"]},
        ),
        Check(
            name="all_weights",
            function="backprop",
            points=6,
            description="∂E/∂w for all ten weights",
            cases=[BACKPROP_CASE],
        ),
        Check(
            name="random",
            function="backprop",
            points=8,
            hidden=True,
            description="all ten gradients at random inputs and weights",
            generate=_random_backprop,
        ),
    ],
)

# Exercise 4 -------------------------------------------------------------------

GRADS_CASE = Case(
    label="x1 = 1.5, x2 = −2, t = 1, w13 = 0.5, w24 = 0.75", args=(1.5, -2.0, 1.0, 0.5, 0.75)
)


def _random_grads(rng: np.random.Generator) -> list[Case]:
    return [
        Case(label="random", args=tuple(float(v) for v in rng.normal(0, 1.5, 5))) for _ in range(5)
    ]


def _v_cases(vs: list[float]) -> list[Case]:
    return [
        Case(label=f"x1 = 0.7, x2 = −1.2, t = 0.3, v = {v:g}", args=(0.7, -1.2, 0.3, v)) for v in vs
    ]


def _random_v(rng: np.random.Generator) -> list[Case]:
    vs = np.concatenate([rng.normal(0, 3, 4), rng.uniform(-500, 500, 3)])
    return [
        Case(label="random", args=(*(float(a) for a in rng.normal(0, 1.5, 3)), float(v)))
        for v in vs
    ]


ex4 = Exercise(
    id="4",
    title="Backpropagation with shared parameters",
    points=30,
    checks=[
        Check(
            name="example",
            function="grads_w13_w24",
            points=6,
            description="(∂E/∂w13, ∂E/∂w24) at one point",
            cases=[GRADS_CASE],
        ),
        Check(
            name="random",
            function="grads_w13_w24",
            points=6,
            hidden=True,
            description="(∂E/∂w13, ∂E/∂w24) at random points",
            generate=_random_grads,
        ),
        Check(
            name="example",
            function="grad_v",
            points=6,
            description="∂E/∂v for moderate v",
            cases=_v_cases([0.0, 1.5, -2.0]),
        ),
        Check(
            name="extreme_v",
            function="grad_v",
            points=6,
            description="∂E/∂v stays finite and accurate for |v| up to 500",
            cases=_v_cases([40.0, -40.0, 300.0, -300.0, 500.0, -500.0]),
        ),
        Check(
            name="random",
            function="grad_v",
            points=6,
            hidden=True,
            description="∂E/∂v at random points, |v| ≤ 500",
            generate=_random_v,
        ),
    ],
)

SHEET = Sheet(
    id="2",
    title="Backpropagation",
    source="003_5b7a9a0b462e8249.txt",
    exercises=[ex1, ex2, ex3, ex4],
    reference=ref,
    mistakes=mistakes(MISTAKES),
)
