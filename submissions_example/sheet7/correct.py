"""Sheet 7, a correct submission in plain numpy: the backward passes written out as the sheet
derives them (δ = ∂L/∂a, then ∂L/∂w as a sum over positions), explicit loops where they read
more clearly."""

import math

import numpy as np


def sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def conv_forward(I, w, b):
    """a[i, j, k] = b[k] + Σ_{x, y, c} I[i + x, j + y, c] w[x, y, c, k]."""
    F = w.shape[0]
    H, W = I.shape[0] - F + 1, I.shape[1] - F + 1
    a = np.zeros((H, W, w.shape[3])) + b
    for x in range(F):
        for y in range(F):
            a += np.tensordot(I[x : x + H, y : y + W, :], w[x, y], axes=([2], [0]))
    return a


def conv_weight_grad(I, delta, F):
    """∂L/∂w[x, y, c, k] = Σ_{i, j} δ[i, j, k] I[i + x, j + y, c]  (Eq. 4 for every weight)."""
    H, W, _ = delta.shape
    grad = np.zeros((F, F, I.shape[2], delta.shape[2]))
    for x in range(F):
        for y in range(F):
            grad[x, y] = np.tensordot(I[x : x + H, y : y + W, :], delta, axes=([0, 1], [0, 1]))
    return grad


def conv_net_grad(I, w, b, v, y_hat):
    h = sigmoid(conv_forward(I, w, b))
    y = np.tensordot(h, v, axes=3)
    dh = np.tensordot(v, y - y_hat, axes=([3], [0]))
    return conv_weight_grad(I, dh * h * (1 - h), w.shape[0])


def dense_net_grad(I, w, b, v, y_hat):
    h = sigmoid(np.tensordot(I, w, axes=3) + b)
    y = h @ v
    delta = (v @ (y - y_hat)) * h * (1 - h)
    return I[..., None] * delta


def conv_pool_net_grad(I, w, b, v, y_hat):
    h = sigmoid(conv_forward(I, w, b))
    P, Q, K = h.shape[0] // 2, h.shape[1] // 2, h.shape[2]
    pooled = np.zeros((P, Q, K))
    winner = {}
    for p in range(P):
        for q in range(Q):
            for k in range(K):
                window = h[2 * p : 2 * p + 2, 2 * q : 2 * q + 2, k]
                r, c = np.unravel_index(np.argmax(window), (2, 2))
                winner[p, q, k] = (2 * p + r, 2 * q + c)
                pooled[p, q, k] = window[r, c]
    y = np.tensordot(pooled, v, axes=3)
    dpooled = np.tensordot(v, y - y_hat, axes=([3], [0]))
    dh = np.zeros_like(h)
    for (p, q, k), (i, j) in winner.items():
        dh[i, j, k] = dpooled[p, q, k]
    return conv_weight_grad(I, dh * h * (1 - h), w.shape[0])


def conv_output_shape(n, c, k, f, s, p):
    if n < 1 or c < 1 or k < 1 or f < 1 or s < 1 or p < 0:
        raise ValueError("n, c, k, f, s must be at least 1 and p at least 0")
    if f > n + 2 * p:
        raise ValueError("the filter does not fit the padded input")
    side = (n + 2 * p - f) // s + 1
    return (side, side, k)


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("only an odd filter size has a padding that keeps the size")
    return (f - 1) // 2


def conv2d(image, filters):
    K, F, _ = filters.shape
    H, W = image.shape[0] - F + 1, image.shape[1] - F + 1
    out = np.zeros((H, W, K))
    for i in range(H):
        for j in range(W):
            patch = image[i : i + F, j : j + F]
            out[i, j] = [np.sum(patch * filters[k]) for k in range(K)]
    return out


def relu(x):
    return np.maximum(x, 0)


def maxpool2d(x, k=2):
    P, Q = x.shape[0] // k, x.shape[1] // k
    out = np.zeros((P, Q, x.shape[2]))
    for p in range(P):
        for q in range(Q):
            out[p, q] = x[k * p : k * p + k, k * q : k * q + k].max(axis=(0, 1))
    return out


def shift_left(image):
    out = np.zeros_like(image)
    out[:, :-1] = image[:, 1:]
    return out


def count_changed_after_shift(image, filters):
    before = maxpool2d(relu(conv2d(image, filters)))
    after = maxpool2d(relu(conv2d(shift_left(image), filters)))
    return int(np.sum(before != after))


def reverse_mode(graph, values, output):
    value = {}
    for name, op, parents in graph:
        args = [value[p] for p in parents]
        if op == "input":
            value[name] = values[name]
        elif op == "add":
            value[name] = args[0] + args[1]
        elif op == "mul":
            value[name] = args[0] * args[1]
        elif op == "sin":
            value[name] = math.sin(args[0])
        elif op == "square":
            value[name] = args[0] ** 2
    t = {name: 0.0 for name, _, _ in graph}
    t[output] = 1.0
    for name, op, parents in reversed(graph):  # every child comes before its parents
        args = [value[p] for p in parents]
        if op == "add":
            local = [1.0, 1.0]
        elif op == "mul":
            local = [args[1], args[0]]
        elif op == "sin":
            local = [math.cos(args[0])]
        elif op == "square":
            local = [2 * args[0]]
        else:
            local = []
        for parent, d in zip(parents, local, strict=True):
            t[parent] += d * t[name]
    return t


def sheet_graph():
    return [
        ("x1", "input", ()),
        ("x2", "input", ()),
        ("theta", "input", ()),
        ("f1", "mul", ("x1", "theta")),
        ("f2", "add", ("f1", "x2")),
        ("f3", "sin", ("f2",)),
        ("f4", "square", ("x2",)),
        ("f5", "mul", ("theta", "f4")),
        ("f6", "add", ("f3", "f5")),
    ]
