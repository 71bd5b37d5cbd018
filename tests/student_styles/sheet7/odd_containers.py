"""Sheet 7 with odd but allowed containers, own parameter names, in-place work and prints."""

import math
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np

Volume = namedtuple("Volume", "width height depth")
VERBOSE = True


def log(*msg):
    if VERBOSE:
        print("[sheet7]", *msg)


log("importing")


def _sig(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1 + ez)
    return out


def _conv(img, kern, bias):
    F = kern.shape[0]
    Ho, Wo = img.shape[0] - F + 1, img.shape[1] - F + 1
    cols = np.stack(
        [img[x : x + Ho, y : y + Wo, :] for x in range(F) for y in range(F)], axis=2
    )  # (Ho, Wo, F*F, C)
    return cols, np.einsum("ijpc,pck->ijk", cols, kern.reshape(F * F, *kern.shape[2:])) + bias


def conv_net_grad(image, weights, bias, V, target):
    cols, a = _conv(image, weights, bias)
    h = _sig(a)
    out = np.tensordot(h, V, axes=([0, 1, 2], [0, 1, 2]))
    err = out - target
    dh = np.tensordot(V, err, axes=([3], [0]))
    dh *= h * (1 - h)  # in place
    g = np.einsum("ijk,ijpc->pck", dh, cols)
    return g.reshape(weights.shape)


def dense_net_grad(*args):
    image, weights, bias, V, target = args
    a = np.einsum("xyc,xyck", image, weights)
    a += bias
    h = _sig(a)
    err = V.T @ h - target
    dh = V @ err * h * (1 - h)
    return np.einsum("xyc,k->xyck", image, dh)


def conv_pool_net_grad(image, weights, bias, V, target):
    cols, a = _conv(image, weights, bias)
    h = _sig(a)
    P, Q = V.shape[:2]
    win = h[: 2 * P, : 2 * Q].reshape(P, 2, Q, 2, -1).transpose(0, 2, 4, 1, 3).reshape(P, Q, -1, 4)
    best = win.argmax(axis=-1)
    pooled = np.take_along_axis(win, best[..., None], axis=-1)[..., 0]
    err = np.einsum("pqko,pqk->o", V, pooled) - target
    dpool = np.einsum("pqko,o->pqk", V, err)
    dh = np.zeros_like(h)
    for (p, q, k), b in np.ndenumerate(best):
        dh[2 * p + b // 2, 2 * q + b % 2, k] = dpool[p, q, k]
    dh *= h * (1 - h)
    return np.einsum("ijk,ijpc->pck", dh, cols).reshape(weights.shape)


def conv_output_shape(n, c, k, f, s, p):
    if not (n >= 1 and c >= 1 and k >= 1 and f >= 1 and s >= 1 and p >= 0):
        raise ValueError("out of range")
    if n + 2 * p < f:
        raise ValueError("does not fit")
    o = (n + 2 * p - f) // s + 1
    return Volume(width=o, height=o, depth=k)


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("no same padding for an even or non-positive f")
    return float((f - 1) // 2)


def conv2d(img, kernels):
    K, F, _ = kernels.shape
    Ho, Wo = img.shape[0] - F + 1, img.shape[1] - F + 1
    return np.stack(
        [
            sum(kernels[k, x, y] * img[x : x + Ho, y : y + Wo] for x in range(F) for y in range(F))
            for k in range(K)
        ],
        axis=-1,
    )


def relu(x):
    x[x < 0] = 0  # in place: the grader passes copies
    return x


def maxpool2d(x, k=2):
    H, W, K = x.shape
    return x[: H // k * k, : W // k * k].reshape(H // k, k, W // k, k, K).max(3).max(1)


def shift_left(image):
    image = image.copy()
    image[:, :-1] = image[:, 1:]
    image[:, -1] = 0
    return image


def count_changed_after_shift(image, filters):
    before = maxpool2d(relu(conv2d(image, filters)))
    after = maxpool2d(relu(conv2d(shift_left(image), filters)))
    return len(np.argwhere(before != after))


def reverse_mode(graph, values, output):
    ops = {
        "add": (lambda a, b: a + b, lambda a, b: (1, 1)),
        "mul": (lambda a, b: a * b, lambda a, b: (b, a)),
        "sin": (lambda a: math.sin(a), lambda a: (math.cos(a),)),
        "square": (lambda a: a * a, lambda a: (2 * a,)),
    }
    value = OrderedDict()
    for name, op, parents in graph:
        value[name] = values[name] if op == "input" else ops[op][0](*[value[p] for p in parents])
    grad = defaultdict(float)
    grad[output] = 1
    for name, op, parents in reversed(list(graph)):
        if op == "input" or grad[name] == 0:
            continue
        for p, d in zip(parents, ops[op][1](*[value[q] for q in parents])):
            grad[p] += d * grad[name]
    for name in value:
        grad[name]  # noqa: B018 - every node gets an entry
    return grad


def sheet_graph():
    edges = {
        "f1": ("mul", ["x1", "theta"]),
        "f2": ("add", ["f1", "x2"]),
        "f3": ("sin", ["f2"]),
        "f4": ("square", ["x2"]),
        "f5": ("mul", ["theta", "f4"]),
        "f6": ("add", ["f3", "f5"]),
    }
    return [(n, "input", []) for n in ("x1", "x2", "theta")] + [
        (n, op, ps) for n, (op, ps) in edges.items()
    ]


log("ready")
