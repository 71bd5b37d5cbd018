"""Sheet 10 in plain Python: lists, floats, math and collections only."""

import math
from collections import deque


def _l(a):
    return a.tolist() if hasattr(a, "tolist") else a


def _mv(M, v):
    return [sum(m * x for m, x in zip(row, v)) for row in M]


def _add(*vs):
    return [sum(t) for t in zip(*vs)]


def _hidden_states(x, p):
    h = list(_l(p["h0"]))
    states = [h]
    for xt in _l(x):
        z = _add(_mv(_l(p["W_hx"]), xt), _mv(_l(p["W_hh"]), h), _l(p["b_h"]))
        h = [math.tanh(v) for v in z]
        states.append(h)
    return states


def rnn_forward(x, params):
    h = _hidden_states(x, params)[-1]
    return _add(_mv(_l(params["W_ph"]), h), _l(params["b_p"]))


def rnn_grads(x, y, params):
    xs, y = _l(x), _l(y)
    W_hh, W_ph = _l(params["W_hh"]), _l(params["W_ph"])
    hs = _hidden_states(x, params)
    p = rnn_forward(x, params)
    m = max(p)
    e = [math.exp(v - m) for v in p]
    soft = [v / sum(e) for v in e]
    dp = [s * sum(y) - t for s, t in zip(soft, y)]  # softmax - y for a one-hot y
    n, d = len(hs[0]), len(xs[0])
    g = {
        "W_ph": [[dp[k] * hs[-1][j] for j in range(n)] for k in range(len(dp))],
        "b_p": dp,
        "W_hh": [[0.0] * n for _ in range(n)],
        "W_hx": [[0.0] * d for _ in range(n)],
        "b_h": [0.0] * n,
    }
    dh = [sum(W_ph[k][j] * dp[k] for k in range(len(dp))) for j in range(n)]
    for t in range(len(xs), 0, -1):
        da = [dh[j] * (1 - hs[t][j] ** 2) for j in range(n)]
        for r in range(n):
            g["b_h"][r] += da[r]
            for c in range(n):
                g["W_hh"][r][c] += da[r] * hs[t - 1][c]
            for c in range(d):
                g["W_hx"][r][c] += da[r] * xs[t - 1][c]
        dh = [sum(W_hh[r][c] * da[r] for r in range(n)) for c in range(n)]
    return g


def _sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def lstm_step(x, h, c, params):
    P = {k: _l(v) for k, v in params.items()}
    x, h, c = _l(x), _l(h), _l(c)

    def pre(gate):
        return _add(_mv(P[f"W_{gate}x"], x), _mv(P[f"W_{gate}h"], h), P[f"b_{gate}"])

    g = [math.tanh(v) for v in pre("g")]
    i = [_sigmoid(v) for v in pre("i")]
    f = [_sigmoid(v) for v in pre("f")]
    o = [_sigmoid(v) for v in pre("o")]
    c_new = [gk * ik + ck * fk for gk, ik, ck, fk in zip(g, i, c, f)]
    h_new = [math.tanh(ck) * ok for ck, ok in zip(c_new, o)]
    return h_new, c_new


def lstm_param_count(d, n):
    return 4 * (d * n + n * n + n)


def gcn_adjacency(edges, num_nodes):
    A = [[0] * num_nodes for _ in range(num_nodes)]
    for u, v in edges:
        A[u][v] = A[v][u] = 1
    for k in range(num_nodes):
        A[k][k] = 1
    return A  # ints


def gcn_layer(A, H, W):
    A, H, W = _l(A), _l(H), _l(W)
    N = len(A)
    At = [[A[r][c] + (1 if r == c else 0) for c in range(N)] for r in range(N)]
    deg = [sum(row) for row in At]
    norm = [[At[r][c] / math.sqrt(deg[r] * deg[c]) for c in range(N)] for r in range(N)]
    NH = [[sum(norm[r][m] * H[m][k] for m in range(N)) for k in range(len(H[0]))] for r in range(N)]
    out = [[sum(NH[r][k] * W[k][o] for k in range(len(W))) for o in range(len(W[0]))] for r in range(N)]
    return [[v if v > 0 else 0.0 for v in row] for row in out]


def _distances(edges, num_nodes, src):
    nbrs = [[] for _ in range(num_nodes)]
    for u, v in edges:
        nbrs[u].append(v)
        nbrs[v].append(u)
    dist = {src: 0}
    q = deque([src])
    while q:
        u = q.popleft()
        for v in nbrs[u]:
            if v not in dist:
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


def layers_to_reach(edges, num_nodes, src, dst):
    dist = _distances(edges, num_nodes, src)
    if dst not in dist:
        raise ValueError(f"node {dst} cannot be reached from {src}")
    return dist[dst]


def layers_to_cover(edges, num_nodes):
    worst = 0
    for s in range(num_nodes):
        dist = _distances(edges, num_nodes, s)
        if len(dist) < num_nodes:
            raise ValueError("the graph is disconnected")
        worst = max(worst, max(dist.values()))
    return worst
