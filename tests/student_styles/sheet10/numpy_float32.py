"""Sheet 10 in numpy float32 throughout; counts as numpy integers and 0-d arrays."""

import numpy as np

F = np.float32


def _params(params):
    return {k: np.asarray(v, dtype=F) for k, v in params.items()}


def _states(x, P):
    hs = [P["h0"]]
    for x_t in x.astype(F):
        hs.append(np.tanh(P["W_hx"] @ x_t + P["W_hh"] @ hs[-1] + P["b_h"]))
    return hs


def rnn_forward(x, params):
    P = _params(params)
    return P["W_ph"] @ _states(x, P)[-1] + P["b_p"]


def rnn_grads(x, y, params):
    P = _params(params)
    x, y = x.astype(F), y.astype(F)
    hs = _states(x, P)
    p = P["W_ph"] @ hs[-1] + P["b_p"]
    q = np.exp(p - p.max())
    q /= q.sum()
    dp = q - y
    grads = {
        "W_ph": np.outer(dp, hs[-1]),
        "b_p": dp,
        "W_hh": np.zeros_like(P["W_hh"]),
        "W_hx": np.zeros_like(P["W_hx"]),
        "b_h": np.zeros_like(P["b_h"]),
    }
    dh = P["W_ph"].T @ dp
    for t in reversed(range(len(x))):
        da = dh * (1 - hs[t + 1] ** 2)
        grads["W_hh"] += np.outer(da, hs[t])
        grads["W_hx"] += np.outer(da, x[t])
        grads["b_h"] += da
        dh = P["W_hh"].T @ da
    return grads


def _sigmoid(z):
    return np.exp(-np.logaddexp(F(0), -z)).astype(F)


def lstm_step(x, h, c, params):
    P = _params(params)
    x, h, c = x.astype(F), h.astype(F), c.astype(F)
    Wx = np.concatenate([P[f"W_{k}x"] for k in "gifo"])  # stacked like nn.LSTM, (4n, d)
    Wh = np.concatenate([P[f"W_{k}h"] for k in "gifo"])
    b = np.concatenate([P[f"b_{k}"] for k in "gifo"])
    z = Wx @ x + Wh @ h + b
    zg, zi, zf, zo = np.split(z, 4)
    c_new = np.tanh(zg) * _sigmoid(zi) + c * _sigmoid(zf)
    h_new = np.tanh(c_new) * _sigmoid(zo)
    return np.stack([h_new, c_new])  # one (2, n) array


def lstm_param_count(d, n):
    return np.int64(4) * (d * n + n**2 + n)


def gcn_adjacency(edges, num_nodes):
    A = np.eye(num_nodes, dtype=F)
    for u, v in edges:
        A[u, v] = A[v, u] = 1
    return A


def gcn_layer(A, H, W):
    A_tilde = A.astype(F) + np.eye(len(A), dtype=F)
    D_inv_sqrt = np.diag(1 / np.sqrt(A_tilde.sum(axis=1)))
    return np.maximum(D_inv_sqrt @ A_tilde @ D_inv_sqrt @ H.astype(F) @ W.astype(F), 0)


def _hops(edges, num_nodes):
    """All-pairs hop counts (inf: unreachable), Floyd–Warshall on floats."""
    D = np.full((num_nodes, num_nodes), np.inf)
    np.fill_diagonal(D, 0)
    for u, v in edges:
        D[u, v] = D[v, u] = 1
    for k in range(num_nodes):
        D = np.minimum(D, D[:, [k]] + D[[k], :])
    return D


def layers_to_reach(edges, num_nodes, src, dst):
    hops = _hops(edges, num_nodes)[src, dst]
    if np.isinf(hops):
        raise ValueError("unreachable")
    return np.array(hops)  # a 0-d float array, e.g. array(2.)


def layers_to_cover(edges, num_nodes):
    D = _hops(edges, num_nodes)
    if np.isinf(D).any():
        raise ValueError("graph is not connected")
    return D.max().astype(np.int32)
