"""Sheet 10, a submission with four typical mistakes (the rest is right):

- rnn_grads backpropagates only from the last step (W_hh, W_hx, b_h lack the earlier steps);
- lstm_param_count counts PyTorch's second bias vector;
- gcn_layer takes the degrees from A instead of Ã = A + I;
- layers_to_reach counts the nodes on the shortest path instead of its edges.
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def rnn_forward(x, params):
    h = params["h0"]
    for x_t in x:
        h = np.tanh(params["W_hx"] @ x_t + params["W_hh"] @ h + params["b_h"])
    return params["W_ph"] @ h + params["b_p"]


def rnn_grads(x, y, params):
    h_prev, h = None, params["h0"]
    for x_t in x:
        h_prev, h = h, np.tanh(params["W_hx"] @ x_t + params["W_hh"] @ h + params["b_h"])
    p = params["W_ph"] @ h + params["b_p"]
    y_hat = np.exp(p - p.max())
    y_hat /= y_hat.sum()
    dp = y_hat - y
    delta = (params["W_ph"].T @ dp) * (1 - h**2)
    return {
        "W_ph": np.outer(dp, h),
        "b_p": dp,
        "W_hh": np.outer(delta, h_prev),
        "W_hx": np.outer(delta, x[-1]),
        "b_h": delta,
    }


def lstm_step(x, h, c, params):
    z = {k: params[f"W_{k}x"] @ x + params[f"W_{k}h"] @ h + params[f"b_{k}"] for k in "gifo"}
    c_new = np.tanh(z["g"]) * sigmoid(z["i"]) + c * sigmoid(z["f"])
    return np.tanh(c_new) * sigmoid(z["o"]), c_new


def lstm_param_count(d, n):
    return 4 * (d * n + n * n + n + n)


def gcn_adjacency(edges, num_nodes):
    A = np.identity(num_nodes)
    for u, v in edges:
        A[u, v] = A[v, u] = 1.0
    return A


def gcn_layer(A, H, W):
    D = np.diag(1 / np.sqrt(A.sum(axis=1)))
    A_tilde = A + np.identity(A.shape[0])
    return np.maximum(0, D @ A_tilde @ D @ H @ W)


def bfs(edges, num_nodes, src):
    nbrs = [[] for _ in range(num_nodes)]
    for u, v in edges:
        nbrs[u].append(v)
        nbrs[v].append(u)
    seen = {src: 1}
    frontier = [src]
    while frontier:
        nxt = []
        for u in frontier:
            for v in nbrs[u]:
                if v not in seen:
                    seen[v] = seen[u] + 1
                    nxt.append(v)
        frontier = nxt
    return seen


def layers_to_reach(edges, num_nodes, src, dst):
    seen = bfs(edges, num_nodes, src)
    if dst not in seen:
        raise ValueError("unreachable")
    return seen[dst]


def layers_to_cover(edges, num_nodes):
    best = 0
    for s in range(num_nodes):
        seen = bfs(edges, num_nodes, s)
        if len(seen) != num_nodes:
            raise ValueError("disconnected")
        best = max(best, max(seen.values()) - 1)
    return best
