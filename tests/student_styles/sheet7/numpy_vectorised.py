"""Sheet 7, vectorised numpy: sliding windows and einsum; a Node class for reverse mode."""

import math
from collections import defaultdict

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

print("sheet 7 loaded")


def sigma(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def patches(I, F):
    """(H', W', C, F, F) windows of I (H, W, C)."""
    return sliding_window_view(I, (F, F), axis=(0, 1))


def conv_net_grad(I, w, b, v, y_hat):
    F = w.shape[0]
    P = patches(I, F)
    a = np.einsum("ijcxy,xyck->ijk", P, w) + b
    h = sigma(a)
    y = np.einsum("ijko,ijk->o", v, h)
    delta = np.einsum("ijko,o->ijk", v, y - y_hat) * h * (1 - h)
    return np.einsum("ijk,ijcxy->xyck", delta, P)


def dense_net_grad(I, w, b, v, y_hat):
    h = sigma(np.tensordot(I, w, axes=3) + b)
    y = h @ v
    delta = (v @ (y - y_hat)) * h * (1 - h)
    return np.multiply.outer(I, delta)


def conv_pool_net_grad(I, w, b, v, y_hat):
    F = w.shape[0]
    P = patches(I, F)
    h = sigma(np.einsum("ijcxy,xyck->ijk", P, w) + b)
    Pp, Q, K, _ = v.shape
    hc = h[: 2 * Pp, : 2 * Q]
    blocks = hc.reshape(Pp, 2, Q, 2, K)
    pooled = blocks.max(axis=(1, 3))
    y = np.einsum("pqko,pqk->o", v, pooled)
    dpool = np.einsum("pqko,o->pqk", v, y - y_hat)
    mask = blocks == pooled[:, None, :, None, :]
    dh = np.zeros_like(h)
    dh[: 2 * Pp, : 2 * Q] = (mask * dpool[:, None, :, None, :]).reshape(2 * Pp, 2 * Q, K)
    delta = dh * h * (1 - h)
    return np.einsum("ijk,ijcxy->xyck", delta, P)


def conv_output_shape(n, c, k, f, s, p):
    if any(v < 1 for v in (n, c, k, f, s)) or p < 0:
        raise ValueError("n, c, k, f, s must be >= 1 and p >= 0")
    if f > n + 2 * p:
        raise ValueError("the filter is larger than the padded input")
    side = np.int64(np.floor((n + 2 * p - f) / s) + 1)
    return np.array([side, side, k])


def same_padding(f):
    if f < 1 or f % 2 != 1:
        raise ValueError(f"f = {f}: no same padding")
    return np.int64(f // 2)


def conv2d(image, filters):
    F = filters.shape[-1]
    return np.einsum("ijxy,kxy->ijk", sliding_window_view(image, (F, F)), filters)


def relu(x):
    return x * (x > 0)


def maxpool2d(x, k=2):
    H, W, K = x.shape
    H2, W2 = H // k, W // k
    return x[: H2 * k, : W2 * k].reshape(H2, k, W2, k, K).max(axis=(1, 3))


def shift_left(image):
    return np.roll(image, -1, axis=1) * (np.arange(image.shape[1]) < image.shape[1] - 1)


def count_changed_after_shift(image, filters):
    pipeline = lambda img: maxpool2d(relu(conv2d(img, filters)))  # noqa: E731
    return int(np.count_nonzero(pipeline(image) != pipeline(shift_left(image))))


class Node:
    OPS = {
        "add": (lambda a, b: a + b, lambda a, b: (1.0, 1.0)),
        "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
        "sin": (math.sin, lambda a: (math.cos(a),)),
        "square": (lambda a: a * a, lambda a: (2 * a,)),
    }

    def __init__(self, name, op, parents):
        self.name, self.op, self.parents = name, op, list(parents)
        self.value = None
        self.adjoint = 0.0


def reverse_mode(graph, values, output):
    nodes = {}
    for name, op, parents in graph:
        node = Node(name, op, parents)
        if op == "input":
            node.value = values[name]
        else:
            fn, _ = Node.OPS[op]
            node.value = fn(*(nodes[p].value for p in parents))
        nodes[name] = node
    nodes[output].adjoint = 1.0
    children = defaultdict(list)
    for node in nodes.values():
        for i, p in enumerate(node.parents):
            children[p].append((node, i))
    for node in reversed(list(nodes.values())):
        if node.name == output:
            continue
        total = 0.0
        for child, i in children[node.name]:
            if child.op == "input":
                continue
            _, dfn = Node.OPS[child.op]
            total += dfn(*(nodes[p].value for p in child.parents))[i] * child.adjoint
        node.adjoint = total
    return {name: node.adjoint for name, node in nodes.items()}


def sheet_graph():
    g = [(n, "input", ()) for n in ("x1", "x2", "theta")]
    g += [
        ("f1", "mul", ("x1", "theta")),
        ("f4", "square", ("x2",)),
        ("f2", "add", ("f1", "x2")),
        ("f5", "mul", ("theta", "f4")),
        ("f3", "sin", ("f2",)),
        ("f6", "add", ("f3", "f5")),
    ]
    return g


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    print(conv_net_grad(rng.normal(size=(5, 5, 3)), rng.normal(size=(3, 3, 3, 2)), np.zeros(2),
                        rng.normal(size=(3, 3, 2, 4)), np.ones(4)).shape)
