# Sheet 10 with explicit index loops; floats where ints are expected (4.0), lists and
# tuples of arrays, a bool adjacency, and extra keys in the gradient dict.
import math

import numpy as np


def rnn_forward(x, params):
    W_hx, W_hh, b_h = params["W_hx"], params["W_hh"], params["b_h"]
    W_ph, b_p = params["W_ph"], params["b_p"]
    n = len(b_h)
    h = params["h0"].copy()
    for t in range(x.shape[0]):
        new = np.zeros(n)
        for j in range(n):
            s = b_h[j]
            for k in range(x.shape[1]):
                s += W_hx[j, k] * x[t, k]
            for k in range(n):
                s += W_hh[j, k] * h[k]
            new[j] = math.tanh(s)
        h = new
    p = [b_p[k] + sum(W_ph[k, j] * h[j] for j in range(n)) for k in range(len(b_p))]
    return p  # a list of numpy floats


def rnn_grads(x, y, params):
    W_hx, W_hh, b_h = params["W_hx"], params["W_hh"], params["b_h"]
    W_ph, b_p = params["W_ph"], params["b_p"]
    T = x.shape[0]
    h = [params["h0"]]
    for t in range(T):
        h.append(np.tanh(W_hx @ x[t] + W_hh @ h[t] + b_h))
    p = W_ph @ h[T] + b_p
    y_hat = np.exp(p) / np.sum(np.exp(p))
    L = -np.sum(y * np.log(y_hat))
    dL_dp = y_hat - y
    dW_ph = np.zeros_like(W_ph)
    for k in range(len(p)):
        for j in range(len(h[T])):
            dW_ph[k, j] = dL_dp[k] * h[T][j]
    dW_hh, dW_hx, db_h = np.zeros_like(W_hh), np.zeros_like(W_hx), np.zeros_like(b_h)
    delta = W_ph.T @ dL_dp  # dL/dh_T
    for t in range(T, 0, -1):
        delta = delta * (1 - h[t] ** 2)  # now dL/da_t
        for j in range(len(b_h)):
            db_h[j] += delta[j]
            for k in range(len(b_h)):
                dW_hh[j, k] += delta[j] * h[t - 1][k]
            for k in range(x.shape[1]):
                dW_hx[j, k] += delta[j] * x[t - 1][k]
        delta = W_hh.T @ delta
    return {
        "loss": L,
        "W_ph": dW_ph,
        "b_p": dL_dp,
        "W_hh": dW_hh,
        "W_hx": dW_hx,
        "b_h": db_h,
        "h0": delta,  # extra: dL/dh0
    }


def sigmoid(z):
    out = np.empty_like(z)
    for k, v in enumerate(z):
        out[k] = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    return out


def lstm_step(x, h, c, params):
    P = params
    g = np.tanh(P["W_gx"] @ x + P["W_gh"] @ h + P["b_g"])
    i = sigmoid(P["W_ix"] @ x + P["W_ih"] @ h + P["b_i"])
    f = sigmoid(P["W_fx"] @ x + P["W_fh"] @ h + P["b_f"])
    o = sigmoid(P["W_ox"] @ x + P["W_oh"] @ h + P["b_o"])
    c = g * i + c * f  # rebinding the argument name, not mutating it
    return [np.tanh(c) * o, c]


def lstm_param_count(d, n):
    per_gate = d * n + n * n + n
    return float(4 * per_gate)  # 4.0-style float


def gcn_adjacency(edges, num_nodes):
    A = np.zeros((num_nodes, num_nodes), dtype=bool)
    for k in range(num_nodes):
        A[k, k] = True
    for e in edges:
        A[e[0], e[1]] = True
        A[e[1], e[0]] = True
    return A


def gcn_layer(A, H, W):
    N = A.shape[0]
    At = A + np.identity(N)
    deg = [sum(At[r, c] for c in range(N)) for r in range(N)]
    An = np.zeros((N, N))
    for r in range(N):
        for c in range(N):
            An[r, c] = At[r, c] / (math.sqrt(deg[r]) * math.sqrt(deg[c]))
    Z = An @ H @ W
    for idx in np.ndindex(Z.shape):
        if Z[idx] < 0:
            Z[idx] = 0
    return Z


def _neighbours(edges, num_nodes):
    nb = {v: set() for v in range(num_nodes)}
    for a, b in edges:
        nb[a].add(b)
        nb[b].add(a)
    return nb


def layers_to_reach(edges, num_nodes, src, dst):
    nb = _neighbours(edges, num_nodes)
    frontier, seen, layers = {src}, {src}, 0
    while dst not in seen:
        frontier = {w for v in frontier for w in nb[v]} - seen
        if not frontier:
            raise ValueError("no path from src to dst")
        seen |= frontier
        layers += 1
    return float(layers)


def layers_to_cover(edges, num_nodes):
    return max(
        layers_to_reach(edges, num_nodes, s, t) for s in range(num_nodes) for t in range(num_nodes)
    )
