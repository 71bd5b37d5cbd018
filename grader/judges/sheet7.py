"""Judging sheet 7's ``sheet_graph``: the returned graph is plain data, validated and evaluated.

Engine code, not spec: the student kit ships it, so it needs no reference. A graph is
evaluated in forward mode (value and ∂/∂θ per node), which gives Eq. (9)'s f_i and t_θ
without the reverse-mode algorithm that exercise 4 asks for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grader.comparison import Custom, describe_type, short

INPUTS = ("x1", "x2", "theta")
F_NODES = tuple(f"f{i}" for i in range(1, 7))
ARITY = {"input": 0, "add": 2, "mul": 2, "sin": 1, "square": 1}
MAX_NODES = 100
GRAPH_POINTS = ((0.3, -1.2, 0.7), (1.5, 0.4, -2.0), (-0.8, 2.2, 1.1), (2.0, -0.5, 0.25))
FORMULA = {
    "f1": "x1·θ",
    "f2": "f1 + x2 = θx1 + x2",
    "f3": "sin f2 = sin(θx1 + x2)",
    "f4": "x2²",
    "f5": "θ·f4 = θx2²",
    "f6": "f3 + f5 = sin(θx1 + x2) + θx2²",
}
Graph = list[tuple[str, str, tuple[str, ...]]]


@dataclass(frozen=True)
class GraphProblem:
    """Why a returned graph cannot be evaluated; ``kind`` lets a malformed mistake match."""

    kind: str
    message: str


def read_graph(got: Any) -> Graph | GraphProblem:
    """The returned graph as (name, op, parents) tuples, or what keeps it from evaluating."""
    if not isinstance(got, (list, tuple)):
        return GraphProblem(
            "format",
            f"returned {describe_type(got)} where a list of (name, op, parents) is expected",
        )
    if len(got) > MAX_NODES:
        return GraphProblem("format", f"returned {len(got)} nodes; Eq. (9) has nine")
    graph: Graph = []
    for k, item in enumerate(got):
        ok = (
            isinstance(item, (list, tuple))
            and len(item) == 3
            and isinstance(item[0], str)
            and isinstance(item[1], str)
            and isinstance(item[2], (list, tuple))
            and all(isinstance(p, str) for p in item[2])
        )
        if not ok:
            return GraphProblem(
                "format",
                f"node {k} is {short(item, 60)}; each node is (name, op, parents) with a string "
                "name and op and a tuple or list of parent names",
            )
        graph.append((item[0], item[1], tuple(item[2])))
    names = [name for name, _, _ in graph]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return GraphProblem("names", f"the name {repeated[0]!r} is given to several nodes")
    missing = [n for n in (*INPUTS, *F_NODES) if n not in names]
    extra = [n for n in names if n not in (*INPUTS, *F_NODES)]
    if missing or extra:
        parts = [f"missing {', '.join(map(repr, missing))}"] if missing else []
        parts += [f"unexpected {', '.join(repr(n) for n in extra[:5])}"] if extra else []
        return GraphProblem(
            "names", "the nodes are x1, x2, theta, f1 … f6 (" + "; ".join(parts) + ")"
        )
    seen: set[str] = set()
    for name, op, parents in graph:
        if op not in ARITY:
            return GraphProblem(
                "op",
                f"node {name!r} has op {short(op, 30)}; the ops are input, add, mul, sin, square",
            )
        if (op == "input") != (name in INPUTS):
            role = "an input (op 'input')" if name in INPUTS else "an operation, not an input"
            return GraphProblem("inputs", f"node {name!r} should be {role}")
        if len(parents) != ARITY[op]:
            return GraphProblem(
                "arity", f"node {name!r}: {op} takes {ARITY[op]} parent(s), got {len(parents)}"
            )
        for parent in parents:
            if parent not in names:
                return GraphProblem(
                    "unknown_parent", f"node {name!r} has the parent {parent!r}, which is no node"
                )
            if parent not in seen:
                return GraphProblem(
                    "order",
                    f"node {name!r} uses {parent!r} before it is defined: list the nodes in "
                    "topological order, every node after its parents",
                )
        seen.add(name)
    return graph


def _dual(op: str, args: list[tuple[float, float]]) -> tuple[float, float]:
    """One node as (value, ∂value/∂θ): forward-mode AD, so judging a graph needs no reference."""
    if op == "add":
        (a, da), (b, db) = args
        return a + b, da + db
    if op == "mul":
        (a, da), (b, db) = args
        return a * b, a * db + da * b
    if op == "sin":
        ((a, da),) = args
        return math.sin(a), math.cos(a) * da
    ((a, da),) = args  # square
    return a**2, 2.0 * a * da


def evaluate(graph: Graph) -> dict | GraphProblem:
    """Every f_i and t_θ = ∂f6/∂θ of a validated graph at every point."""
    out: dict[str, list] = {"f": [], "t_theta": []}
    try:
        for x1, x2, theta in GRAPH_POINTS:
            inputs = {"x1": (x1, 0.0), "x2": (x2, 0.0), "theta": (theta, 1.0)}
            node: dict[str, tuple[float, float]] = {}
            for name, op, parents in graph:
                if op == "input":
                    node[name] = inputs[name]
                else:
                    node[name] = _dual(op, [node[p] for p in parents])
            out["f"].append({n: node[n][0] for n in F_NODES})
            out["t_theta"].append(node["f6"][1])
    except (ArithmeticError, ValueError, KeyError) as exc:
        return GraphProblem("evaluate", f"the graph cannot be evaluated ({type(exc).__name__})")
    return out


def as_truth(expected: Any) -> dict:
    """A known mistake's raw graph (the runner passes it in place of the truth), evaluated.

    Already evaluated values pass unchanged, so the student kit can hold a mistake's
    values instead of its graph, which would be most of the answer.
    """
    if isinstance(expected, dict) and (
        expected.keys() == {"f", "t_theta"} or expected.keys() == {"problem"}
    ):
        return expected
    graph = read_graph(expected)
    if isinstance(graph, GraphProblem):
        return {"problem": graph.kind}
    evaluated = evaluate(graph)
    return {"problem": evaluated.kind} if isinstance(evaluated, GraphProblem) else evaluated


def _at(n: int) -> str:
    x1, x2, theta = GRAPH_POINTS[n]
    return f"(x1, x2, θ) = ({x1:g}, {x2:g}, {theta:g})"


def _differs(want: float, have: float) -> bool:
    return (
        not math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-12) if math.isfinite(have) else True
    )


def _judge_graph(expected: Any, got: Any, public: bool, *, nodes: bool) -> str | None:
    """``nodes``: every f_i must be Eq. (9)'s; otherwise only f6 and t_θ are looked at."""
    expected = as_truth(expected)
    graph = read_graph(got)
    if "problem" in expected:  # a malformed known mistake matches the same kind of problem
        if isinstance(graph, GraphProblem) and graph.kind == expected["problem"]:
            return None
        return "the graph is not malformed in the same way"
    if isinstance(graph, GraphProblem):
        return graph.message
    have = evaluate(graph)
    if isinstance(have, GraphProblem):
        return have.message
    for n in range(len(GRAPH_POINTS)):
        for name in F_NODES if nodes else ("f6",):
            want, value = expected["f"][n][name], have["f"][n][name]
            if _differs(want, value):
                if not public:
                    return f"{name} differs from Eq. (9)"
                if nodes:
                    return (
                        f"{name} = {short(value)} at {_at(n)}, but Eq. (9) gives "
                        f"{name} = {FORMULA[name]} = {short(want)}"
                    )
                return (
                    f"your graph gives f6 = {short(value)} at {_at(n)}, but "
                    f"f(x1, x2, θ) = sin(θx1 + x2) + θx2² = {short(want)}"
                )
        if not nodes:
            want, value = expected["t_theta"][n], have["t_theta"][n]
            if _differs(want, value):
                if not public:
                    return "reverse-mode AD on your graph gives the wrong t_θ"
                return (
                    f"reverse-mode AD on your graph gives t_θ = {short(value)} at {_at(n)}, but "
                    f"∂f/∂θ = x1 cos(θx1 + x2) + x2² = {short(want)}"
                )
    return None


def _judge_output(expected: Any, got: Any, public: bool) -> str | None:
    return _judge_graph(expected, got, public, nodes=False)


def _judge_nodes(expected: Any, got: Any, public: bool) -> str | None:
    return _judge_graph(expected, got, public, nodes=True)


GRAPH_OUTPUT = Custom(name="graph evaluated: f6 and t_θ", fn=_judge_output, prepare=as_truth)
GRAPH_NODES = Custom(name="graph evaluated: every f_i", fn=_judge_nodes, prepare=as_truth)
