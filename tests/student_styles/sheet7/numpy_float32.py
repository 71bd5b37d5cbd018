"""Sheet 7 in numpy float32 throughout, with explicit loops over positions."""

import numpy as np

f32 = np.float32


def sig(a):
    return (1 / (1 + np.exp(-a))).astype(np.float32)


def _forward(I, w, b):
    I, w, b = I.astype(f32), w.astype(f32), b.astype(f32)
    F, _, C, K = w.shape
    H, W, _ = I.shape
    a = np.empty((H - F + 1, W - F + 1, K), dtype=f32)
    for i in range(H - F + 1):
        for j in range(W - F + 1):
            patch = I[i : i + F, j : j + F, :]
            a[i, j] = b + np.tensordot(patch, w, axes=([0, 1, 2], [0, 1, 2]))
    return I, a


def _grad_w(I, delta, F):
    gw = np.zeros((F, F, I.shape[2], delta.shape[2]), dtype=f32)
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            gw += I[i : i + F, j : j + F, :, None] * delta[i, j][None, None, None, :]
    return gw


def conv_net_grad(I, w, b, v, y_hat):
    I, a = _forward(I, w, b)
    h = sig(a)
    v, y_hat = v.astype(f32), y_hat.astype(f32)
    y = np.tensordot(h, v, axes=3)
    delta = np.tensordot(v, y - y_hat, axes=([3], [0])) * h * (1 - h)
    return _grad_w(I, delta, w.shape[0])


def dense_net_grad(I, w, b, v, y_hat):
    I, w, b, v, y_hat = (a.astype(f32) for a in (I, w, b, v, y_hat))
    h = sig(np.einsum("xyc,xyck->k", I, w) + b)
    e = h @ v - y_hat
    delta = (v @ e) * h * (1 - h)
    return I[..., None] * delta


def conv_pool_net_grad(I, w, b, v, y_hat):
    I, a = _forward(I, w, b)
    h = sig(a)
    v, y_hat = v.astype(f32), y_hat.astype(f32)
    P, Q, K, O = v.shape
    pooled = np.zeros((P, Q, K), dtype=f32)
    arg = np.zeros((P, Q, K, 2), dtype=int)
    for p in range(P):
        for q in range(Q):
            for k in range(K):
                win = h[2 * p : 2 * p + 2, 2 * q : 2 * q + 2, k]
                r, c = np.unravel_index(np.argmax(win), (2, 2))
                pooled[p, q, k] = win[r, c]
                arg[p, q, k] = (2 * p + r, 2 * q + c)
    y = np.einsum("pqk,pqko->o", pooled, v)
    dpool = v @ (y - y_hat)
    dh = np.zeros_like(h)
    for p in range(P):
        for q in range(Q):
            for k in range(K):
                i, j = arg[p, q, k]
                dh[i, j, k] += dpool[p, q, k]
    return _grad_w(I, dh * h * (1 - h), w.shape[0])


def conv_output_shape(n, c, k, f, s, p):
    if n < 1 or c < 1 or k < 1 or f < 1 or s < 1 or p < 0:
        raise ValueError("out of range")
    if f > n + 2 * p:
        raise ValueError("filter larger than the padded input")
    out = int((n + 2 * p - f) / s) + 1  # non-negative, so int() floors
    return (out, out, k)


def same_padding(f):
    if f % 2 == 0 or f < 1:
        raise ValueError
    return f32((f - 1) / 2)


def conv2d(image, filters):
    image, filters = image.astype(f32), filters.astype(f32)
    K, F, _ = filters.shape
    H, W = image.shape
    out = np.zeros((H - F + 1, W - F + 1, K), dtype=f32)
    for k in range(K):
        for x in range(F):
            for y in range(F):
                out[:, :, k] += filters[k, x, y] * image[x : x + H - F + 1, y : y + W - F + 1]
    return out


def relu(x):
    return np.maximum(x.astype(f32), f32(0))


def maxpool2d(x, k=2):
    H, W, K = x.shape
    out = np.full((H // k, W // k, K), -np.inf, dtype=f32)
    for i in range(H // k):
        for j in range(W // k):
            out[i, j] = x[i * k : (i + 1) * k, j * k : (j + 1) * k].reshape(-1, K).max(axis=0)
    return out


def shift_left(image):
    out = np.zeros_like(image, dtype=f32)
    out[:, :-1] = image[:, 1:]
    return out


def count_changed_after_shift(image, filters):
    a = maxpool2d(relu(conv2d(image, filters)))
    b = maxpool2d(relu(conv2d(shift_left(image), filters)))
    return np.sum(a != b)  # np.int64


def reverse_mode(graph, values, output):
    val = {}
    for name, op, par in graph:
        if op == "input":
            val[name] = f32(values[name])
        elif op == "add":
            val[name] = val[par[0]] + val[par[1]]
        elif op == "mul":
            val[name] = val[par[0]] * val[par[1]]
        elif op == "sin":
            val[name] = np.sin(val[par[0]])
        elif op == "square":
            val[name] = np.square(val[par[0]])
    t = dict.fromkeys(val, f32(0))
    t[output] = f32(1)
    for name, op, par in graph[::-1]:
        if op == "add":
            for q in par:
                t[q] = t[q] + t[name]
        elif op == "mul":
            t[par[0]] = t[par[0]] + t[name] * val[par[1]]
            t[par[1]] = t[par[1]] + t[name] * val[par[0]]
        elif op == "sin":
            t[par[0]] = t[par[0]] + t[name] * np.cos(val[par[0]])
        elif op == "square":
            t[par[0]] = t[par[0]] + 2 * t[name] * val[par[0]]
    return t


def sheet_graph():
    return [
        ("x1", "input", ()), ("x2", "input", ()), ("theta", "input", ()),
        ("f1", "mul", ("x1", "theta")), ("f2", "add", ("f1", "x2")), ("f3", "sin", ("f2",)),
        ("f4", "square", ("x2",)), ("f5", "mul", ("theta", "f4")), ("f6", "add", ("f3", "f5")),
    ]
