"""Sheet 7 in plain Python: nested lists, loops and math, no numpy."""

import math


def sigmoid(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def zeros(*shape):
    if len(shape) == 1:
        return [0.0] * shape[0]
    return [zeros(*shape[1:]) for _ in range(shape[0])]


def _conv_forward(I, w, b):
    H, W, C = len(I), len(I[0]), len(I[0][0])
    F, K = len(w), len(w[0][0][0])
    a = zeros(H - F + 1, W - F + 1, K)
    for i in range(H - F + 1):
        for j in range(W - F + 1):
            for k in range(K):
                s = b[k]
                for x in range(F):
                    for y in range(F):
                        for c in range(C):
                            s += I[i + x][j + y][c] * w[x][y][c][k]
                a[i][j][k] = s
    return a


def _conv_backward(I, F, K, dA):
    """dL/dw from dL/da for a valid convolution."""
    C = len(I[0][0])
    gw = zeros(F, F, C, K)
    for i in range(len(dA)):
        for j in range(len(dA[0])):
            for k in range(K):
                g = dA[i][j][k]
                if g == 0.0:
                    continue
                for x in range(F):
                    for y in range(F):
                        for c in range(C):
                            gw[x][y][c][k] += g * I[i + x][j + y][c]
    return gw


def conv_net_grad(I, w, b, v, y_hat):
    I, w, b, v, y_hat = I.tolist(), w.tolist(), b.tolist(), v.tolist(), y_hat.tolist()
    a = _conv_forward(I, w, b)
    P, Q, K, O = len(v), len(v[0]), len(v[0][0]), len(y_hat)
    h = [[[sigmoid(a[i][j][k]) for k in range(K)] for j in range(Q)] for i in range(P)]
    y = [sum(v[i][j][k][o] * h[i][j][k] for i in range(P) for j in range(Q) for k in range(K))
         for o in range(O)]
    dy = [y[o] - y_hat[o] for o in range(O)]
    dA = zeros(P, Q, K)
    for i in range(P):
        for j in range(Q):
            for k in range(K):
                dh = sum(v[i][j][k][o] * dy[o] for o in range(O))
                dA[i][j][k] = dh * h[i][j][k] * (1 - h[i][j][k])
    return _conv_backward(I, len(w), K, dA)


def dense_net_grad(I, w, b, v, y_hat):
    H, W, C, K = w.shape
    O = len(y_hat)
    a = [b[k] + sum(I[x][y][c] * w[x][y][c][k] for x in range(H) for y in range(W) for c in range(C))
         for k in range(K)]
    h = [sigmoid(float(ak)) for ak in a]
    out = [sum(v[k][o] * h[k] for k in range(K)) for o in range(O)]
    da = [sum(v[k][o] * (out[o] - y_hat[o]) for o in range(O)) * h[k] * (1 - h[k]) for k in range(K)]
    return [[[[float(I[x][y][c] * da[k]) for k in range(K)] for c in range(C)] for y in range(W)]
            for x in range(H)]


def conv_pool_net_grad(I, w, b, v, y_hat):
    I, w, b, v, y_hat = I.tolist(), w.tolist(), b.tolist(), v.tolist(), y_hat.tolist()
    a = _conv_forward(I, w, b)
    K = len(b)
    P, Q, O = len(v), len(v[0]), len(y_hat)
    h = [[[sigmoid(val) for val in row] for row in plane] for plane in a]
    pooled = zeros(P, Q, K)
    winner = {}
    for p in range(P):
        for q in range(Q):
            for k in range(K):
                best = None
                for i in (2 * p, 2 * p + 1):
                    for j in (2 * q, 2 * q + 1):
                        if best is None or h[i][j][k] > best[0]:
                            best = (h[i][j][k], i, j)
                pooled[p][q][k] = best[0]
                winner[p, q, k] = best[1:]
    y = [sum(v[p][q][k][o] * pooled[p][q][k] for p in range(P) for q in range(Q) for k in range(K))
         for o in range(O)]
    dA = zeros(len(a), len(a[0]), K)
    for (p, q, k), (i, j) in winner.items():
        dpool = sum(v[p][q][k][o] * (y[o] - y_hat[o]) for o in range(O))
        dA[i][j][k] = dpool * h[i][j][k] * (1 - h[i][j][k])
    return _conv_backward(I, len(w), K, dA)


def conv_output_shape(n, c, k, f, s, p):
    if min(n, c, k, f, s) < 1 or p < 0:
        raise ValueError("argument out of range")
    if f > n + 2 * p:
        raise ValueError("filter does not fit")
    side = (n + 2 * p - f) // s + 1
    return [side, side, k]


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("need an odd filter size")
    return (f - 1) // 2


def conv2d(image, filters):
    image, filters = image.tolist(), filters.tolist()
    H, W = len(image), len(image[0])
    K, F = len(filters), len(filters[0])
    out = zeros(H - F + 1, W - F + 1, K)
    for i in range(H - F + 1):
        for j in range(W - F + 1):
            for k in range(K):
                out[i][j][k] = sum(image[i + x][j + y] * filters[k][x][y]
                                   for x in range(F) for y in range(F))
    return out


def relu(x):
    if isinstance(x, list):
        return [relu(v) for v in x]
    if hasattr(x, "tolist") and not isinstance(x, float):
        return relu(x.tolist())
    return max(x, 0.0)


def maxpool2d(x, k=2):
    if hasattr(x, "tolist"):
        x = x.tolist()
    H, W, K = len(x), len(x[0]), len(x[0][0])
    return [[[max(x[i * k + a][j * k + b][c] for a in range(k) for b in range(k))
              for c in range(K)] for j in range(W // k)] for i in range(H // k)]


def shift_left(image):
    return [list(row[1:]) + [0.0] for row in image.tolist()]


def count_changed_after_shift(image, filters):
    import numpy  # only to hand the shifted image back in the grader's format

    before = maxpool2d(relu(conv2d(image, filters)))
    after = maxpool2d(relu(conv2d(numpy.array(shift_left(image)), filters)))
    changed = 0
    for r1, r2 in zip(before, after):
        for c1, c2 in zip(r1, r2):
            changed += sum(1 for u, v in zip(c1, c2) if u != v)
    return changed


def _forward(graph, values):
    val = {}
    for name, op, parents in graph:
        p = [val[q] for q in parents]
        if op == "input":
            val[name] = values[name]
        elif op == "add":
            val[name] = p[0] + p[1]
        elif op == "mul":
            val[name] = p[0] * p[1]
        elif op == "sin":
            val[name] = math.sin(p[0])
        elif op == "square":
            val[name] = p[0] ** 2
    return val


def reverse_mode(graph, values, output):
    val = _forward(graph, values)
    t = {name: 0.0 for name, _, _ in graph}
    t[output] = 1.0
    for name, op, parents in reversed(graph):
        p = [val[q] for q in parents]
        if op == "add":
            t[parents[0]] += t[name]
            t[parents[1]] += t[name]
        elif op == "mul":
            t[parents[0]] += t[name] * p[1]
            t[parents[1]] += t[name] * p[0]
        elif op == "sin":
            t[parents[0]] += t[name] * math.cos(p[0])
        elif op == "square":
            t[parents[0]] += t[name] * 2 * p[0]
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
