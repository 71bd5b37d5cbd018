"""Reference solutions for sheet 9 (structured networks: CNN, recursive and graph networks).

Plain numpy, written to read like the maths on the sheet; the grader compares submissions to it.
"""

from __future__ import annotations

import re

import numpy as np

SHEET_SENTENCE = "((the, cat), (sat, (on, (the, mat))))"

# --- Lecture recap: activation functions -------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) via e = exp(−|z|) ∈ (0, 1]: no overflow for any z, and no branch on the sign."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def activation(name: str, z: np.ndarray) -> np.ndarray:
    """g(z) elementwise for the four activations of the lecture."""
    z = np.asarray(z, dtype=float)
    if name == "threshold":
        return (z >= 0).astype(float)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"unknown activation {name!r}")


def activation_grad(name: str, z: np.ndarray) -> np.ndarray:
    """g'(z) elementwise; the threshold is flat almost everywhere, and relu'(0) is taken as 0."""
    z = np.asarray(z, dtype=float)
    if name == "threshold":
        return np.zeros_like(z)
    if name == "sigmoid":
        s = _sigmoid(z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    raise ValueError(f"unknown activation {name!r}")


# --- Exercise 1: 1-D convolution on finite ("valid") signals -----------------------------------


def conv1d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """z[j, t] = Σ_i Σ_s w[i, j, s] · x[i, t + s]: a sum of shifted copies of x, one per tap s."""
    S = w.shape[2]
    T_out = x.shape[1] - S + 1
    z = np.zeros((w.shape[1], T_out))
    for s in range(S):
        z += w[:, :, s].T @ x[:, s : s + T_out]
    return z


def conv1d_weight_grad(x: np.ndarray, dy_dz: np.ndarray) -> np.ndarray:
    """∂y/∂w[i, j, s] = Σ_t ∂y/∂z[j, t] · x[i, t + s]: the input correlated with the output grad."""
    T_out = dy_dz.shape[1]
    S = x.shape[1] - T_out + 1
    return np.stack([x[:, s : s + T_out] @ dy_dz.T for s in range(S)], axis=2)


def conv1d_input_grad(w: np.ndarray, dE_dz: np.ndarray) -> np.ndarray:
    """∂E/∂x[i, n] = Σ_j Σ_t ∂E/∂z[j, t] · w[i, j, n − t]: each tap s sends dE/dz back to t + s."""
    S = w.shape[2]
    T_out = dE_dz.shape[1]
    dx = np.zeros((w.shape[0], T_out + S - 1))
    for s in range(S):
        dx[:, s : s + T_out] += w[:, :, s] @ dE_dz
    return dx


# --- Exercise 2: recursive network on a binary parse -------------------------------------------

Tree = str | tuple  # a word, or a pair (left, right) of trees
Child = str | int  # a word, or the index of an earlier internal node

_TOKEN = re.compile(r"[(),]|[^\s(),]+")


def parse_tree(bracketed: str) -> Tree:
    """Nested pairs from the bracketed string; commas and spaces only separate words."""
    tokens = [t for t in _TOKEN.findall(bracketed) if t != ","]
    pos = 0

    def node() -> Tree:
        nonlocal pos
        token = tokens[pos]
        pos += 1
        if token != "(":
            if token == ")":
                raise ValueError(f"unexpected ')' in {bracketed!r}")
            return token
        children = []
        while tokens[pos] != ")":
            children.append(node())
        pos += 1
        if len(children) != 2:
            raise ValueError(f"a node needs exactly two children in {bracketed!r}")
        return tuple(children)

    tree = node()
    if pos != len(tokens):
        raise ValueError(f"trailing text in {bracketed!r}")
    return tree


def post_order(tree: Tree) -> list[tuple[Child, Child]]:
    """Internal nodes as (left, right), children before parents; the root comes last."""
    nodes: list[tuple[Child, Child]] = []

    def visit(t: Tree) -> Child:
        if isinstance(t, str):
            return t
        left, right = visit(t[0]), visit(t[1])
        nodes.append((left, right))
        return len(nodes) - 1

    visit(tree)
    return nodes


def tree_equations(bracketed: str) -> list[tuple[str, str, str]]:
    """a_k = φ(left, right) in the order they can be computed, named a1, a2, …"""

    def name(child: Child) -> str:
        return child if isinstance(child, str) else f"a{child + 1}"

    nodes = post_order(parse_tree(bracketed))
    return [(f"a{k + 1}", name(left), name(right)) for k, (left, right) in enumerate(nodes)]


def _forward(
    tree: Tree, emb: dict, W: np.ndarray, b: np.ndarray
) -> tuple[list[tuple[Child, Child]], list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Node list, each node's input [a_left; a_right], each node's output, and the root vector."""
    nodes = post_order(tree)
    inputs: list[np.ndarray] = []
    outputs: list[np.ndarray] = []

    def value(child: Child) -> np.ndarray:
        return np.asarray(emb[child], dtype=float) if isinstance(child, str) else outputs[child]

    for left, right in nodes:
        inputs.append(np.concatenate([value(left), value(right)]))
        outputs.append(np.tanh(W @ inputs[-1] + b))
    root = outputs[-1] if nodes else value(tree)
    return nodes, inputs, outputs, root


def recursive_forward(
    bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray
) -> float:
    """y = u · a_root with a_k = tanh(W [a_left; a_right] + b) applied from the leaves up."""
    *_, root = _forward(parse_tree(bracketed), emb, W, b)
    return float(u @ root)


def recursive_grad(bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray) -> dict:
    """Total derivatives of y: backprop through the nodes in reverse, summing over every use.

    θ = (W, b) enters every node and a repeated word enters every leaf it labels, so their
    gradients are sums of the local contributions — the chain rule of the sheet's hint.
    """
    tree = parse_tree(bracketed)
    nodes, inputs, outputs, root = _forward(tree, emb, W, b)
    d = len(b)
    grads = {"W": np.zeros_like(W, dtype=float), "b": np.zeros(d), "u": root.copy(), "emb": {}}
    words = [tree] if isinstance(tree, str) else [c for pair in nodes for c in pair]
    for word in words:
        if isinstance(word, str):
            grads["emb"][word] = np.zeros(d)

    node_grad = [np.zeros(d) for _ in nodes]

    def send(child: Child, g: np.ndarray) -> None:
        if isinstance(child, str):
            grads["emb"][child] += g
        else:
            node_grad[child] += g

    if nodes:
        node_grad[-1] = np.asarray(u, dtype=float).copy()
    else:
        grads["emb"][tree] += u
    for k in reversed(range(len(nodes))):
        delta = node_grad[k] * (1.0 - outputs[k] ** 2)
        grads["W"] += np.outer(delta, inputs[k])
        grads["b"] += delta
        g_in = W.T @ delta
        send(nodes[k][0], g_in[:d])
        send(nodes[k][1], g_in[d:])
    return grads


# --- Exercise 3: graph networks, H_{t+1} = ρ(A H_t W) -----------------------------------------


def gnn_layer(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Sum the neighbours' states (A H), mix the features (· W), then ReLU."""
    return np.maximum(A @ H @ W, 0.0)


def unrolled_tree(A: np.ndarray, node: int, depth: int) -> tuple:
    """The recursive network a depth-`depth` GNN computes at `node`: one branch per neighbour."""
    if depth == 0:
        return (int(node), ())
    neighbours = np.flatnonzero(A[node])
    return (int(node), tuple(unrolled_tree(A, int(j), depth - 1) for j in neighbours))


def lattice_as_cnn(W: np.ndarray) -> list:
    """Two GNN layers on the 4-neighbour lattice as conv(3x3) → conv(1x1) → ReLU, twice.

    A H sums the four neighbours of each pixel, channel by channel: a 3x3 "plus" kernel on the
    identity channel map. H W mixes channels per pixel: out channel j = Σ_i H[:, i] W[i, j],
    i.e. a 1x1 kernel K[j, i] = W[i, j]. Zero padding gives border pixels fewer neighbours,
    exactly as in the finite grid graph.
    """
    d = W.shape[0]
    plus = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    neighbour_sum = np.einsum("ij,kl->ijkl", np.eye(d), plus)
    mix = np.asarray(W, dtype=float).T[:, :, None, None]
    layer = [("conv", neighbour_sum), ("conv", mix), ("relu",)]
    return [*layer, ("conv", neighbour_sum.copy()), ("conv", mix.copy()), ("relu",)]
