"""Sheet 9 in plain Python: lists, floats and the math module only (no numpy calls)."""

import math


def _plain(a):
    """Arrays arrive as numpy arrays; work on nested lists of floats."""
    return a.tolist() if hasattr(a, "tolist") else a


def _elementwise(f, z):
    if isinstance(z, list):
        return [_elementwise(f, v) for v in z]
    return f(z)


def _sigmoid(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


def activation(name, z):
    z = _plain(z)
    if name == "threshold":
        return _elementwise(lambda v: 1 if v >= 0 else 0, z)
    if name == "sigmoid":
        return _elementwise(_sigmoid, z)
    if name == "tanh":
        return _elementwise(math.tanh, z)
    if name == "relu":
        return _elementwise(lambda v: v if v > 0 else 0.0, z)
    raise ValueError(name)


def activation_grad(name, z):
    z = _plain(z)
    if name == "threshold":
        return _elementwise(lambda v: 0, z)
    if name == "sigmoid":
        return _elementwise(lambda v: _sigmoid(v) * (1 - _sigmoid(v)), z)
    if name == "tanh":
        return _elementwise(lambda v: 1 - math.tanh(v) ** 2, z)
    if name == "relu":
        return _elementwise(lambda v: 1 if v > 0 else 0, z)
    raise ValueError(name)


def conv1d(x, w):
    x, w = _plain(x), _plain(w)
    c_in, T, c_out, S = len(x), len(x[0]), len(w[0]), len(w[0][0])
    z = [[0.0] * (T - S + 1) for _ in range(c_out)]
    for j in range(c_out):
        for t in range(T - S + 1):
            total = 0.0
            for i in range(c_in):
                for s in range(S):
                    total += w[i][j][s] * x[i][t + s]
            z[j][t] = total
    return z


def conv1d_weight_grad(x, dy_dz):
    x, g = _plain(x), _plain(dy_dz)
    c_in, T, c_out, T_out = len(x), len(x[0]), len(g), len(g[0])
    S = T - T_out + 1
    return [
        [[sum(g[j][t] * x[i][t + s] for t in range(T_out)) for s in range(S)] for j in range(c_out)]
        for i in range(c_in)
    ]


def conv1d_input_grad(w, dE_dz):
    w, g = _plain(w), _plain(dE_dz)
    c_in, c_out, S, T_out = len(w), len(w[0]), len(w[0][0]), len(g[0])
    dx = [[0.0] * (T_out + S - 1) for _ in range(c_in)]
    for i in range(c_in):
        for j in range(c_out):
            for t in range(T_out):
                for s in range(S):
                    dx[i][t + s] += w[i][j][s] * g[j][t]
    return dx


# ---- Exercise 2 -------------------------------------------------------------------


def _tokens(text):
    out, word = [], ""
    for ch in text:
        if ch in "()," or ch.isspace():
            if word:
                out.append(word)
                word = ""
            if ch in "(),":
                out.append(ch)
        else:
            word += ch
    if word:
        out.append(word)
    return out


def _parse(text):
    """A word is a str, an internal node a 2-list [left, right]."""
    tokens = _tokens(text)
    pos = 0

    def node():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok != "(":
            return tok
        left = node()
        pos += 1  # ","
        right = node()
        pos += 1  # ")"
        return [left, right]

    return node()


def tree_equations(bracketed):
    eqs = []

    def visit(t):
        if isinstance(t, str):
            return t
        left = visit(t[0])
        right = visit(t[1])
        name = "a" + str(len(eqs) + 1)
        eqs.append((name, left, right))
        return name

    visit(_parse(bracketed))
    return eqs


def _matvec(M, v):
    return [sum(m * x for m, x in zip(row, v)) for row in M]


def _forward(tree, emb, W, b):
    """Returns (activation, cache) where cache keeps what backprop needs."""
    if isinstance(tree, str):
        return list(emb[tree]), ("leaf", tree)
    left, lc = _forward(tree[0], emb, W, b)
    right, rc = _forward(tree[1], emb, W, b)
    cat = left + right
    a = [math.tanh(z + bb) for z, bb in zip(_matvec(W, cat), b)]
    return a, ("node", cat, a, lc, rc)


def recursive_forward(bracketed, emb, W, b, u):
    emb = {k: _plain(v) for k, v in emb.items()}
    a, _ = _forward(_parse(bracketed), emb, _plain(W), _plain(b))
    return sum(p * q for p, q in zip(_plain(u), a))


def recursive_grad(bracketed, emb, W, b, u):
    emb = {k: _plain(v) for k, v in emb.items()}
    W, b, u = _plain(W), _plain(b), _plain(u)
    d = len(b)
    tree = _parse(bracketed)
    a, cache = _forward(tree, emb, W, b)
    gW = [[0.0] * (2 * d) for _ in range(d)]
    gb = [0.0] * d
    gemb = {}

    def words(t):
        return [t] if isinstance(t, str) else words(t[0]) + words(t[1])

    for word in words(tree):
        gemb[word] = [0.0] * d

    def back(cache, g):
        if cache[0] == "leaf":
            gemb[cache[1]] = [p + q for p, q in zip(gemb[cache[1]], g)]
            return
        _, cat, act, lc, rc = cache
        dz = [gi * (1 - ai * ai) for gi, ai in zip(g, act)]
        for r in range(d):
            gb[r] += dz[r]
            for c in range(2 * d):
                gW[r][c] += dz[r] * cat[c]
        gcat = [sum(W[r][c] * dz[r] for r in range(d)) for c in range(2 * d)]
        back(lc, gcat[:d])
        back(rc, gcat[d:])

    back(cache, list(u))
    return {"W": gW, "b": gb, "u": a, "emb": gemb}


# ---- Exercise 3 -------------------------------------------------------------------


def gnn_layer(A, H, W):
    A, H, W = _plain(A), _plain(H), _plain(W)
    AH = [[sum(A[n][m] * H[m][k] for m in range(len(H))) for k in range(len(H[0]))] for n in range(len(A))]
    out = [[sum(AH[n][k] * W[k][o] for k in range(len(W))) for o in range(len(W[0]))] for n in range(len(A))]
    return [[max(0.0, v) for v in row] for row in out]


def unrolled_tree(A, node, depth):
    A = _plain(A)
    if depth == 0:
        return (node, ())
    kids = tuple(unrolled_tree(A, j, depth - 1) for j in range(len(A)) if A[node][j] != 0)
    return (node, kids)


def lattice_as_cnn(W):
    W = _plain(W)
    d = len(W)
    cross = [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    zero = [[0] * 3 for _ in range(3)]
    aggregate = [[cross if o == i else zero for i in range(d)] for o in range(d)]
    mix = [[[[W[i][o]]] for i in range(d)] for o in range(d)]
    return [("conv", aggregate), ("conv", mix), ("relu",), ("conv", aggregate), ("conv", mix), ("relu",)]
