"""Sheet 9 — a correct submission in plain numpy."""

import re

import numpy as np

# Lecture recap


def activation(name, z):
    z = np.asarray(z, dtype=float)
    if name == "threshold":
        return np.where(z >= 0, 1.0, 0.0)
    if name == "sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), never overflows
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(name)


def activation_grad(name, z):
    z = np.asarray(z, dtype=float)
    if name == "threshold":
        return np.zeros_like(z)
    if name == "sigmoid":
        s = activation("sigmoid", z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return np.where(z > 0, 1.0, 0.0)
    raise ValueError(name)


# Exercise 1


def conv1d(x, w):
    T = x.shape[1]
    _, c_out, S = w.shape
    z = np.zeros((c_out, T - S + 1))
    for j in range(c_out):
        for t in range(T - S + 1):
            z[j, t] = np.sum(w[:, j, :] * x[:, t : t + S])
    return z


def conv1d_weight_grad(x, dy_dz):
    c_in, T = x.shape
    c_out, T_out = dy_dz.shape
    S = T - T_out + 1
    dw = np.zeros((c_in, c_out, S))
    for i in range(c_in):
        for j in range(c_out):
            for s in range(S):
                dw[i, j, s] = np.dot(dy_dz[j], x[i, s : s + T_out])
    return dw


def conv1d_input_grad(w, dE_dz):
    c_in, _, S = w.shape
    T_out = dE_dz.shape[1]
    dx = np.zeros((c_in, T_out + S - 1))
    for t in range(T_out):
        for s in range(S):
            dx[:, t + s] += w[:, :, s] @ dE_dz[:, t]
    return dx


# Exercise 2


def parse(bracketed):
    tokens = [t for t in re.findall(r"[(),]|[^\s(),]+", bracketed) if t != ","]

    def read(pos):
        if tokens[pos] != "(":
            return tokens[pos], pos + 1
        left, pos = read(pos + 1)
        right, pos = read(pos)
        return (left, right), pos + 1  # skip ")"

    return read(0)[0]


def tree_equations(bracketed):
    equations = []

    def visit(tree):
        if isinstance(tree, str):
            return tree
        left, right = visit(tree[0]), visit(tree[1])
        name = f"a{len(equations) + 1}"
        equations.append((name, left, right))
        return name

    visit(parse(bracketed))
    return equations


def forward_nodes(tree, emb, W, b):
    """Returns (vector, cache) where cache records every node for backprop."""
    if isinstance(tree, str):
        return emb[tree], ("leaf", tree)
    a_l, cache_l = forward_nodes(tree[0], emb, W, b)
    a_r, cache_r = forward_nodes(tree[1], emb, W, b)
    inp = np.concatenate([a_l, a_r])
    a = np.tanh(W @ inp + b)
    return a, ("node", inp, a, cache_l, cache_r)


def recursive_forward(bracketed, emb, W, b, u):
    a, _ = forward_nodes(parse(bracketed), emb, W, b)
    return float(u @ a)


def recursive_grad(bracketed, emb, W, b, u):
    d = len(b)
    root, cache = forward_nodes(parse(bracketed), emb, W, b)
    grads = {"W": np.zeros_like(W), "b": np.zeros(d), "u": root.copy(), "emb": {}}

    def backward(cache, g):
        if cache[0] == "leaf":
            word = cache[1]
            grads["emb"][word] = grads["emb"].get(word, np.zeros(d)) + g
            return
        _, inp, a, cache_l, cache_r = cache
        delta = g * (1 - a**2)
        grads["W"] += np.outer(delta, inp)
        grads["b"] += delta
        g_inp = W.T @ delta
        backward(cache_l, g_inp[:d])
        backward(cache_r, g_inp[d:])

    backward(cache, u)
    return grads


# Exercise 3


def gnn_layer(A, H, W):
    return np.maximum(A @ H @ W, 0)


def unrolled_tree(A, node, depth):
    if depth == 0:
        return (node, ())
    children = [unrolled_tree(A, j, depth - 1) for j in range(len(A)) if A[node, j] != 0]
    return (node, tuple(children))


def lattice_as_cnn(W):
    d = W.shape[0]
    plus = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    neighbours = np.zeros((d, d, 3, 3))
    for i in range(d):
        neighbours[i, i] = plus
    mix = W.T.reshape(d, d, 1, 1)
    return [
        ("conv", neighbours),
        ("conv", mix),
        ("relu",),
        ("conv", neighbours),
        ("conv", mix),
        ("relu",),
    ]
