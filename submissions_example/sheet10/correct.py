"""Sheet 10, a correct submission (plain numpy, written the way a student might)."""

from collections import deque

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(p):
    e = np.exp(p - np.max(p))
    return e / e.sum()


def rnn_states(x, params):
    h = params["h0"]
    states = [h]
    for t in range(x.shape[0]):
        h = np.tanh(params["W_hx"] @ x[t] + params["W_hh"] @ h + params["b_h"])
        states.append(h)
    return states


def rnn_forward(x, params):
    h_T = rnn_states(x, params)[-1]
    return params["W_ph"] @ h_T + params["b_p"]


def rnn_grads(x, y, params):
    hs = rnn_states(x, params)
    T = x.shape[0]
    p = params["W_ph"] @ hs[T] + params["b_p"]
    dL_dp = softmax(p) - y

    dW_hh = np.zeros_like(params["W_hh"])
    dW_hx = np.zeros_like(params["W_hx"])
    db_h = np.zeros_like(params["b_h"])
    dL_dh = params["W_ph"].T @ dL_dp
    for t in reversed(range(1, T + 1)):
        delta = dL_dh * (1 - hs[t] ** 2)
        dW_hh += np.outer(delta, hs[t - 1])
        dW_hx += np.outer(delta, x[t - 1])
        db_h += delta
        dL_dh = params["W_hh"].T @ delta
    return {
        "W_ph": np.outer(dL_dp, hs[T]),
        "b_p": dL_dp,
        "W_hh": dW_hh,
        "W_hx": dW_hx,
        "b_h": db_h,
    }


def lstm_step(x, h, c, params):
    def gate(name, act):
        return act(params[f"W_{name}x"] @ x + params[f"W_{name}h"] @ h + params[f"b_{name}"])

    g = gate("g", np.tanh)
    i = gate("i", sigmoid)
    f = gate("f", sigmoid)
    o = gate("o", sigmoid)
    c_new = g * i + c * f
    h_new = np.tanh(c_new) * o
    return h_new, c_new


def lstm_param_count(d, n):
    return 4 * (d * n + n * n + n)


def gcn_adjacency(edges, num_nodes):
    A = np.eye(num_nodes)
    for u, v in edges:
        A[u, v] = 1
        A[v, u] = 1
    return A


def gcn_layer(A, H, W):
    A_tilde = A + np.eye(len(A))
    D_inv_sqrt = np.diag(A_tilde.sum(axis=1) ** -0.5)
    return np.maximum(D_inv_sqrt @ A_tilde @ D_inv_sqrt @ H @ W, 0)


def distances_from(edges, num_nodes, src):
    neighbours = {v: set() for v in range(num_nodes)}
    for u, v in edges:
        neighbours[u].add(v)
        neighbours[v].add(u)
    dist = {src: 0}
    queue = deque([src])
    while queue:
        u = queue.popleft()
        for v in neighbours[u]:
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    return dist


def layers_to_reach(edges, num_nodes, src, dst):
    dist = distances_from(edges, num_nodes, src)
    if dst not in dist:
        raise ValueError(f"node {dst} is not reachable from node {src}")
    return dist[dst]


def layers_to_cover(edges, num_nodes):
    longest = 0
    for src in range(num_nodes):
        dist = distances_from(edges, num_nodes, src)
        if len(dist) < num_nodes:
            raise ValueError("graph is disconnected")
        longest = max(longest, max(dist.values()))
    return longest
