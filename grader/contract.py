"""The student-facing contract: every function a submission implements, per sheet.

This mirrors ``exercise-contract.md`` (the fixed interface). Specs are validated
against it when a sheet loads, and ``grade template`` writes skeletons from it,
so a name or argument here can never drift from what students are told.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    name: str
    params: str
    doc: str


SHEET2 = (
    Function(
        "network_params",
        "",
        'Return {"W1": (3, 2), "b1": (3,), "w2": (3,), "b2": float} such that\n'
        "b2 + w2 @ relu(W1 @ x + b1) == 1 - relu(x1) - relu(x2) + relu(x1 + x2) for every x.",
    ),
    Function(
        "predict_class",
        "X",
        "X (N, 2) -> (N,) ints: class 1 where y(x) < 0, class 2 where y(x) > 0.",
    ),
    Function(
        "logcosh",
        "y, t",
        "Elementwise E = log cosh(y - t); finite and accurate for |y - t| up to 1e4.",
    ),
    Function("logcosh_grad", "y, t", "Elementwise dE/dy for E = log cosh(y - t)."),
    Function(
        "dataset_grad",
        "X, w, t",
        "X (N, d), w (d,), t (N,) -> dE/dw (d,) for E = (1/N) sum_k log cosh(w . x_k - t_k).",
    ),
    Function(
        "backprop",
        "x, t, w",
        'x = [x1, x2], t float, w a dict of the ten weights "w13" "w23" "w14" "w24" "w35"\n'
        '"w45" "w36" "w46" "w57" "w67" -> dict with the same keys: dE/dw_ij of the tanh network.',
    ),
    Function(
        "grads_w13_w24",
        "x1, x2, t, w13, w24",
        "-> (dE/dw13, dE/dw24) for y = 0.5 (x1 w13)^2 + 0.5 (x2 w24)^2, E = (y - t)^2.",
    ),
    Function(
        "grad_v",
        "x1, x2, t, v",
        "-> dE/dv with w13 = log(1 + e^v), w24 = -log(1 + e^-v); finite for |v| <= 500.",
    ),
)

SHEET7 = (
    Function(
        "conv_net_grad",
        "I, w, b, v, y_hat",
        "I (H, W, C), w (F, F, C, K), b (K,), v (H-F+1, W-F+1, K, O), y_hat (O,)\n"
        "-> dL/dw (F, F, C, K) for the conv layer, h = sigmoid(a), L = 0.5 sum (y_hat - y)^2.",
    ),
    Function(
        "dense_net_grad",
        "I, w, b, v, y_hat",
        "I (H, W, C), w (H, W, C, K), b (K,), v (K, O), y_hat (O,) -> dL/dw (H, W, C, K).",
    ),
    Function(
        "conv_pool_net_grad",
        "I, w, b, v, y_hat",
        "As conv_net_grad with 2x2 stride-2 max pooling after h; v (P, Q, K, O) -> dL/dw.",
    ),
    Function(
        "conv_output_shape",
        "n, c, k, f, s, p",
        "-> (width, height, depth) after convolving n x n x c with k filters f x f x c,\n"
        "stride s, padding p. Raise ValueError when the filter does not fit or an argument\n"
        "is out of range.",
    ),
    Function(
        "same_padding",
        "f",
        "-> the padding that keeps the size at stride 1; ValueError for even f or f < 1.",
    ),
    Function(
        "conv2d",
        "image, filters",
        "image (H, W), filters (K, F, F) -> (H-F+1, W-F+1, K), valid cross-correlation.",
    ),
    Function("relu", "x", "Elementwise max(0, x)."),
    Function("maxpool2d", "x, k=2", "x (H, W, K) -> (H//k, W//k, K), window k, stride k."),
    Function("shift_left", "image", "The image moved one pixel left, the freed column 0."),
    Function(
        "count_changed_after_shift",
        "image, filters",
        "-> how many units of maxpool2d(relu(conv2d(image, filters))) change when the\n"
        "image is replaced by shift_left(image).",
    ),
    Function(
        "reverse_mode",
        "graph, values, output",
        "graph: [(name, op, parents), ...] in topological order, op in input/add/mul/sin/\n"
        "square; values: {input name: float} -> {node name: d output / d node}.",
    ),
    Function(
        "sheet_graph",
        "",
        'Eq. (9) of the sheet as a graph with nodes "x1" "x2" "theta" "f1" ... "f6".',
    ),
)

SHEET9 = (
    Function(
        "activation",
        "name, z",
        'Elementwise activation, name in "threshold" "sigmoid" "tanh" "relu".',
    ),
    Function("activation_grad", "name, z", "Elementwise derivative of activation(name, z)."),
    Function(
        "conv1d",
        "x, w",
        "x (C_in, T), w (C_in, C_out, S) -> z (C_out, T - S + 1),\n"
        "z[j, t] = sum_i sum_s w[i, j, s] x[i, t + s].",
    ),
    Function(
        "conv1d_weight_grad",
        "x, dy_dz",
        "dy_dz (C_out, T_out) -> dy/dw (C_in, C_out, T - T_out + 1).",
    ),
    Function("conv1d_input_grad", "w, dE_dz", "-> dE/dx (C_in, T_out + S - 1)."),
    Function(
        "tree_equations",
        "bracketed",
        'Internal nodes in post-order: [("a1", left, right), ...].',
    ),
    Function(
        "recursive_forward",
        "bracketed, emb, W, b, u",
        "y = u . root, each node tanh(W [left; right] + b).",
    ),
    Function(
        "recursive_grad",
        "bracketed, emb, W, b, u",
        '-> {"W": (d, 2d), "b": (d,), "u": (d,), "emb": {word: (d,)}}: total derivatives.',
    ),
    Function("gnn_layer", "A, H, W", "relu(A @ H @ W): A (N, N), H (N, d), W (d, d)."),
    Function(
        "unrolled_tree",
        "A, node, depth",
        "-> (node, (subtrees...)), one subtree of depth - 1 per neighbour, in index order.",
    ),
    Function(
        "lattice_as_cnn",
        "W",
        'Two GNN layers on the lattice as CNN layers: [("conv", kernel), ("relu",), ...].',
    ),
)

SHEET10 = (
    Function("rnn_forward", "x, params", "x (T, d) -> p_T (K,)."),
    Function(
        "rnn_grads",
        "x, y, params",
        'y one-hot (K,) -> dL/d for "W_ph" "b_p" "W_hh" "W_hx" "b_h".',
    ),
    Function("lstm_step", "x, h, c, params", "-> (h_new, c_new)."),
    Function("lstm_param_count", "d, n", "-> 4(dn + n^2 + n)."),
    Function("gcn_adjacency", "edges, num_nodes", "-> A + I for an undirected edge list."),
    Function("gcn_layer", "A, H, W", "relu(D^-1/2 (A + I) D^-1/2 H W); A without self-loops."),
    Function(
        "layers_to_reach",
        "edges, num_nodes, src, dst",
        "-> fewest GCN layers after which dst depends on src; ValueError if unreachable.",
    ),
    Function(
        "layers_to_cover",
        "edges, num_nodes",
        "-> fewest layers after which every node depends on every node; ValueError if the\n"
        "graph is disconnected.",
    ),
)

CONTRACT: dict[str, tuple[Function, ...]] = {
    "2": SHEET2,
    "7": SHEET7,
    "9": SHEET9,
    "10": SHEET10,
}


def functions(sheet: str) -> dict[str, Function]:
    return {f.name: f for f in CONTRACT[sheet]}
