"""Sheet 9 in numpy, float32 throughout (inputs cast on entry, float32 arrays returned)."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

f32 = np.float32


def _sigmoid(z):
    e = np.exp(-np.abs(z))  # never overflows; underflow to 0 is fine
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(f32)


def activation(name, z):
    z = np.asarray(z, dtype=f32)
    return {
        "threshold": lambda: (z >= 0).astype(f32),
        "sigmoid": lambda: _sigmoid(z),
        "tanh": lambda: np.tanh(z),
        "relu": lambda: np.maximum(z, f32(0)),
    }[name]()


def activation_grad(name, z):
    z = np.asarray(z, dtype=f32)
    if name == "threshold":
        return np.zeros_like(z)
    if name == "sigmoid":
        s = _sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(f32)
    raise KeyError(name)


def conv1d(x, w):
    x, w = x.astype(f32), w.astype(f32)
    windows = sliding_window_view(x, w.shape[2], axis=1)  # (C_in, T_out, S)
    return np.einsum("its,ijs->jt", windows, w)


def conv1d_weight_grad(x, dy_dz):
    x, g = x.astype(f32), dy_dz.astype(f32)
    S = x.shape[1] - g.shape[1] + 1
    windows = sliding_window_view(x, S, axis=1)  # (C_in, T_out, S)
    return np.einsum("its,jt->ijs", windows, g)


def conv1d_input_grad(w, dE_dz):
    w, g = w.astype(f32), dE_dz.astype(f32)
    c_in, c_out, S = w.shape
    padded = np.pad(g, ((0, 0), (S - 1, S - 1)))
    windows = sliding_window_view(padded, S, axis=1)  # (C_out, T_out + S - 1, S)
    return np.einsum("jts,ijs->it", windows, w[:, :, ::-1])


def _parse(text):
    tokens = text.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()

    def read(k):
        if tokens[k] != "(":
            return tokens[k], k + 1
        left, k = read(k + 1)
        right, k = read(k + 1)  # skip ","
        return (left, right), k + 1  # skip ")"

    return read(0)[0]


def tree_equations(bracketed):
    eqs = []

    def post(t):
        if isinstance(t, str):
            return t
        names = [post(c) for c in t]
        eqs.append(("a%d" % (len(eqs) + 1), *names))
        return eqs[-1][0]

    post(_parse(bracketed))
    return eqs


def _run(t, emb, W, b, acts):
    if isinstance(t, str):
        return emb[t].astype(f32)
    v = np.concatenate([_run(c, emb, W, b, acts) for c in t])
    a = np.tanh(W @ v + b)
    acts.append((t, v, a))
    return a


def recursive_forward(bracketed, emb, W, b, u):
    a = _run(_parse(bracketed), emb, W.astype(f32), b.astype(f32), [])
    return u.astype(f32) @ a  # a numpy float32 scalar


def recursive_grad(bracketed, emb, W, b, u):
    W, b, u = W.astype(f32), b.astype(f32), u.astype(f32)
    d = len(b)
    tree = _parse(bracketed)
    acts = []
    root = _run(tree, emb, W, b, acts)
    grads = {"W": np.zeros_like(W), "b": np.zeros_like(b), "u": root, "emb": {}}
    up = {id(tree): u}  # dy/da per node, by identity (repeated subtrees are distinct tuples?)

    # walk the recorded nodes from the root down (reverse post-order)
    def leaf(word, g):
        grads["emb"][word] = grads["emb"].get(word, np.zeros(d, f32)) + g

    def back(t, g):
        if isinstance(t, str):
            leaf(t, g)
            return
        v = np.concatenate([_run(c, emb, W, b, []) for c in t])
        a = np.tanh(W @ v + b)
        dz = g * (1 - a * a)
        grads["W"] += np.outer(dz, v)
        grads["b"] += dz
        gv = W.T @ dz
        back(t[0], gv[:d])
        back(t[1], gv[d:])

    back(tree, up[id(tree)])
    return grads


def gnn_layer(A, H, W):
    return np.maximum(A.astype(f32) @ H.astype(f32) @ W.astype(f32), 0)


def unrolled_tree(A, node, depth):
    if depth == 0:
        return (node, ())
    return (node, tuple(unrolled_tree(A, j, depth - 1) for j in np.flatnonzero(A[node])))


def lattice_as_cnn(W):
    d = len(W)
    cross = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=f32)
    K1 = np.einsum("oi,hw->oihw", np.eye(d, dtype=f32), cross)
    K2 = W.T.astype(f32)[:, :, None, None]
    return [("conv", K1), ("conv", K2), ("relu",)] * 2
