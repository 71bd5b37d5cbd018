"""The student-facing contract: every function a submission implements, per sheet.

This is the fixed interface. Specs are validated against it when a sheet loads,
``grade template`` writes skeletons from it, and ``grade contract`` (``grader.docs``)
writes the student reference (docs/sheets/) from it together with the specs' checks,
so a name, argument or rule here can never drift from what students are told.
A function's ``doc`` is the one-paragraph docstring of its stub; ``details`` is the
full text of the reference (arguments, shapes, return value, edge cases).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    name: str
    params: str
    doc: str
    details: str = ""

    @property
    def signature(self) -> str:
        return f"{self.name}({self.params})"


SHEET2 = (
    Function(
        "network_params",
        "",
        'Return {"W1": (3, 2), "b1": (3,), "w2": (3,), "b2": float} such that\n'
        "b2 + w2 @ relu(W1 @ x + b1) == 1 - relu(x1) - relu(x2) + relu(x1 + x2) for every x.",
        details=(
            'Returns a dict with keys `"W1"` (3, 2), `"b1"` (3,), `"w2"` (3,) and '
            '`"b2"` (a float) such that `b2 + w2 @ relu(W1 @ x + b1)` equals y(x) = 1'
            " − ρ(x1) − ρ(x2) + ρ(x1 + x2) for every x. Any order of the hidden "
            "neurons is right: the network is checked as a function, at many points."
        ),
    ),
    Function(
        "predict_class",
        "X",
        "X (N, 2) -> (N,) ints: class 1 where y(x) < 0, class 2 where y(x) > 0.",
        details=(
            "X (N, 2), one point per row → (N,) of class labels: 1 where y(x) < 0, 2 "
            "where y(x) > 0. Checked on a grid, on points within 1e-3 of the decision"
            " boundary (both sides) and on points far from the origin; no point with "
            "y = 0 is asked."
        ),
    ),
    Function(
        "logcosh",
        "y, t",
        "Elementwise E = log cosh(y - t); finite and accurate for |y - t| up to 1e4.",
        details=(
            "Elementwise E = log cosh(y − t) for arrays y and t of equal shape. Must "
            "stay finite and accurate to 1e-9·|E| + 1e-12 for |y − t| up to 1e4, "
            "where `log(cosh(.))` overflows: rewrite it in a stable form."
        ),
    ),
    Function(
        "logcosh_grad",
        "y, t",
        "Elementwise dE/dy for E = log cosh(y - t).",
        details="Elementwise ∂E/∂y for E = log cosh(y − t); same shape as y.",
    ),
    Function(
        "dataset_grad",
        "X, w, t",
        "X (N, d), w (d,), t (N,) -> dE/dw (d,) for E = (1/N) sum_k log cosh(w . x_k - t_k).",
        details=(
            "X (N, d), w (d,), t (N,) → ∂E/∂w, shape (d,), for the mean error E = "
            "(1/N) Σ_k log cosh(w·x_k − t_k). N may be 1."
        ),
    ),
    Function(
        "backprop",
        "x, t, w",
        'x = [x1, x2], t float, w a dict of the ten weights "w13" "w23" "w14" "w24" "w35"\n'
        '"w45" "w36" "w46" "w57" "w67" -> dict with the same keys: dE/dw_ij of the tanh network.',
        details=(
            'x = the array [x1, x2], t a float, w a dict of the ten floats `"w13" '
            '"w23" "w14" "w24" "w35" "w45" "w36" "w46" "w57" "w67"` of the sheet\'s '
            "tanh network (units 3–7), E = log cosh(y − t). Returns a dict with the "
            "same ten keys: ∂E/∂w_ij for each weight."
        ),
    ),
    Function(
        "grads_w13_w24",
        "x1, x2, t, w13, w24",
        "-> (dE/dw13, dE/dw24) for y = 0.5 (x1 w13)^2 + 0.5 (x2 w24)^2, E = (y - t)^2.",
        details="Returns the pair (∂E/∂w13, ∂E/∂w24) of floats.",
    ),
    Function(
        "grad_v",
        "x1, x2, t, v",
        "-> dE/dv with w13 = log(1 + e^v), w24 = -log(1 + e^-v); finite for |v| <= 500.",
        details=(
            "The same network with shared parameter v: w13 = log(1 + e^v) and w24 = "
            "−log(1 + e^−v). Returns ∂E/∂v as a float; must stay finite and accurate "
            "for |v| ≤ 500 (where e^v overflows)."
        ),
    ),
)

SHEET7 = (
    Function(
        "conv_net_grad",
        "I, w, b, v, y_hat",
        "I (H, W, C), w (F, F, C, K), b (K,), v (H-F+1, W-F+1, K, O), y_hat (O,)\n"
        "-> dL/dw (F, F, C, K) for the conv layer, h = sigmoid(a), L = 0.5 sum (y_hat - y)^2.",
        details=(
            "I (H, W, C), w (F, F, C, K), b (K,), v (H−F+1, W−F+1, K, O), y_hat (O,)."
            " The net is a[i,j,k] = b[k] + Σ_{x,y,c} I[i+x, j+y, c]·w[x,y,c,k] "
            "(valid, stride 1), h = σ(a), y[o] = Σ_{i,j,k} v[i,j,k,o]·h[i,j,k]. "
            "Returns ∂L/∂w, shape (F, F, C, K)."
        ),
    ),
    Function(
        "dense_net_grad",
        "I, w, b, v, y_hat",
        "I (H, W, C), w (H, W, C, K), b (K,), v (K, O), y_hat (O,) -> dL/dw (H, W, C, K).",
        details=(
            "The same with a dense layer: w (H, W, C, K), a[k] = b[k] + Σ_{x,y,c} "
            "I[x,y,c]·w[x,y,c,k], h = σ(a), v (K, O), y[o] = Σ_k v[k,o]·h[k]. Returns"
            " ∂L/∂w, shape (H, W, C, K)."
        ),
    ),
    Function(
        "conv_pool_net_grad",
        "I, w, b, v, y_hat",
        "As conv_net_grad with 2x2 stride-2 max pooling after h; v (P, Q, K, O) -> dL/dw.",
        details=(
            "As `conv_net_grad`, then 2×2 max pooling with stride 2 on each channel "
            "of h (a trailing odd row or column is dropped); v (P, Q, K, O) with P = "
            "(H−F+1)//2 and Q = (W−F+1)//2. Returns ∂L/∂w, shape (F, F, C, K)."
        ),
    ),
    Function(
        "conv_output_shape",
        "n, c, k, f, s, p",
        "-> (width, height, depth) after convolving n x n x c with k filters f x f x c,\n"
        "stride s, padding p. Raise ValueError when the filter does not fit or an argument\n"
        "is out of range.",
        details=(
            "The (width, height, depth) of the output, as three ints, after "
            "convolving an n×n×c volume with k filters of size f×f×c, stride s, "
            "padding p: ⌊(n + 2p − f)/s⌋ + 1 on each side, depth k. Raises "
            "`ValueError` when the filter does not fit (f > n + 2p) or an argument is"
            " out of range (n, c, k, f or s < 1, or p < 0)."
        ),
    ),
    Function(
        "same_padding",
        "f",
        "-> the padding that keeps the size at stride 1; ValueError for even f or f < 1.",
        details=(
            "The padding (an int) that keeps width and height unchanged at stride 1, "
            "e.g. n = 4, f = 3 → 1. Raises `ValueError` for an even f or f < 1."
        ),
    ),
    Function(
        "conv2d",
        "image, filters",
        "image (H, W), filters (K, F, F) -> (H-F+1, W-F+1, K), valid cross-correlation.",
        details=(
            "image (H, W), filters (K, F, F) → (H−F+1, W−F+1, K): valid "
            "cross-correlation of the image with each filter, stride 1, no bias."
        ),
    ),
    Function(
        "relu", "x", "Elementwise max(0, x).", details="Elementwise max(0, x), same shape as x."
    ),
    Function(
        "maxpool2d",
        "x, k=2",
        "x (H, W, K) -> (H//k, W//k, K), window k, stride k.",
        details=(
            "x (H, W, K) → (H//k, W//k, K): max over k×k windows with stride k on "
            "each channel (trailing rows or columns that do not fill a window are "
            "dropped). `k` may be passed by keyword."
        ),
    ),
    Function(
        "shift_left",
        "image",
        "The image moved one pixel left, the freed column 0.",
        details=(
            "The image (H, W) moved one pixel to the left: column 0 falls off and the"
            " freed right column is 0."
        ),
    ),
    Function(
        "count_changed_after_shift",
        "image, filters",
        "-> how many units of maxpool2d(relu(conv2d(image, filters))) change when the\n"
        "image is replaced by shift_left(image).",
        details=(
            "How many units (an int) of `maxpool2d(relu(conv2d(image, filters)))` "
            "change value when the image is replaced by `shift_left(image)`. For the "
            "sheet's image and filters the answer is 3. Checked on integer-valued "
            'images and filters, so "changes" is exact.'
        ),
    ),
    Function(
        "reverse_mode",
        "graph, values, output",
        "graph: [(name, op, parents), ...] in topological order, op in input/add/mul/sin/\n"
        "square; values: {input name: float} -> {node name: d output / d node}.",
        details=(
            "`graph` is a list of nodes in topological order, each a tuple `(name, "
            'op, parents)` with op one of `"input"` (no parents), `"add"` or `"mul"` '
            '(two parents, possibly the same node twice), `"sin"` or `"square"` (one '
            "parent); nodes and parents may be tuples or lists. `values` maps each "
            "input's name to a float. Returns a dict: for every node name, the total "
            "derivative ∂output/∂node (0.0 for a node the output does not depend on; "
            "`output` may be an input)."
        ),
    ),
    Function(
        "sheet_graph",
        "",
        'Eq. (9) of the sheet as a graph with nodes "x1" "x2" "theta" "f1" ... "f6".',
        details=(
            "Eq. (9) of the sheet as a graph in the format of `reverse_mode`, with "
            'node names `"x1" "x2" "theta" "f1" … "f6"` and f6 the output. Checked by'
            " evaluating your graph, not by comparing its text."
        ),
    ),
)

SHEET9 = (
    Function(
        "activation",
        "name, z",
        'Elementwise activation, name in "threshold" "sigmoid" "tanh" "relu".',
        details=(
            'Elementwise activation of the array z, name one of `"threshold" '
            '"sigmoid" "tanh" "relu"`: threshold(z) = 1 if z ≥ 0 else 0. sigmoid must'
            " stay finite, without a RuntimeWarning under numpy's default error "
            "settings (underflow is ignored there), for |z| ≤ 1000."
        ),
    ),
    Function(
        "activation_grad",
        "name, z",
        "Elementwise derivative of activation(name, z).",
        details=(
            "Elementwise derivative of `activation(name, z)`: threshold' = 0 "
            "everywhere and relu'(z) = 1 if z > 0 else 0 (so relu'(0) = 0). Finite "
            "for |z| ≤ 1000."
        ),
    ),
    Function(
        "conv1d",
        "x, w",
        "x (C_in, T), w (C_in, C_out, S) -> z (C_out, T - S + 1),\n"
        "z[j, t] = sum_i sum_s w[i, j, s] x[i, t + s].",
        details=(
            "x (C_in, T), w (C_in, C_out, S) → z (C_out, T − S + 1) with z[j, t] = "
            'Σ_i Σ_{s<S} w[i, j, s]·x[i, t + s] for t = 0 … T − S (a "valid" '
            "convolution of finite signals, no bias)."
        ),
    ),
    Function(
        "conv1d_weight_grad",
        "x, dy_dz",
        "dy_dz (C_out, T_out) -> dy/dw (C_in, C_out, T - T_out + 1).",
        details=(
            "x (C_in, T) and dy_dz = ∂y/∂z (C_out, T_out) → ∂y/∂w, shape (C_in, "
            "C_out, S) with S = T − T_out + 1."
        ),
    ),
    Function(
        "conv1d_input_grad",
        "w, dE_dz",
        "-> dE/dx (C_in, T_out + S - 1).",
        details=(
            "w (C_in, C_out, S) and dE_dz = ∂E/∂z (C_out, T_out) → ∂E/∂x, shape "
            "(C_in, T_out + S − 1)."
        ),
    ),
    Function(
        "tree_equations",
        "bracketed",
        'Internal nodes in post-order: [("a1", left, right), ...].',
        details=(
            "The internal nodes of the parse in post-order (left subtree, right "
            'subtree, node), named "a1", "a2", …: a list of `(name, left, right)` '
            "where a child is a word or an earlier node's name. For the sheet's "
            "sentence: a1 = (the, cat), a2 = (the, mat), a3 = (on, a2), a4 = (sat, "
            "a3), a5 = (a1, a4). A one-word sentence gives `[]`."
        ),
    ),
    Function(
        "recursive_forward",
        "bracketed, emb, W, b, u",
        "y = u . root, each node tanh(W [left; right] + b).",
        details=(
            "y = f(root) = u·a_root as a float. emb maps each word to an array (d,); "
            "W (d, 2d), b (d,), u (d,). A one-word sentence gives y = u·emb[word]."
        ),
    ),
    Function(
        "recursive_grad",
        "bracketed, emb, W, b, u",
        '-> {"W": (d, 2d), "b": (d,), "u": (d,), "emb": {word: (d,)}}: total derivatives.',
        details=(
            'The total derivatives of y as a dict `{"W": (d, 2d), "b": (d,), "u": '
            '(d,), "emb": {word: (d,)}}`: every use of a shared parameter or a '
            'repeated word counts. `"emb"` has an entry for every word of the '
            "sentence; entries for other words of `emb` may be given and must then be"
            " 0."
        ),
    ),
    Function(
        "gnn_layer",
        "A, H, W",
        "relu(A @ H @ W): A (N, N), H (N, d), W (d, d).",
        details="One layer H_{t+1} = ρ(A H_t W): A (N, N), H (N, d), W (d, d) → (N, d).",
    ),
    Function(
        "unrolled_tree",
        "A, node, depth",
        "-> (node, (subtrees...)), one subtree of depth - 1 per neighbour, in index order.",
        details=(
            "The computation tree of a depth-`depth` GNN at `node`: `(node, "
            "(subtrees…))` with one subtree of depth − 1 per neighbour (each j with "
            "A[node, j] ≠ 0), neighbours in increasing index order; depth 0 gives "
            "`(node, ())`. Labels are compared as integers; children may be a tuple "
            "or a list. Checked on graphs without self-loops."
        ),
    ),
    Function(
        "lattice_as_cnn",
        "W",
        'Two GNN layers on the lattice as CNN layers: [("conv", kernel), ("relu",), ...].',
        details=(
            "Two GNN layers with weights W (d, d) on the 4-neighbour grid graph, "
            'written as a CNN: a list of layers, each `("conv", kernel)` with kernel '
            "(C_out, C_in, kh, kw) (cross-correlation, kh and kw odd, zero padding "
            '(kh − 1)//2 rows and (kw − 1)//2 columns, stride 1) or `("relu",)`; '
            "exactly four conv and two relu layers. Checked by running your layers on"
            " random grids against two `gnn_layer`s."
        ),
    ),
)

SHEET10 = (
    Function(
        "rnn_forward",
        "x, params",
        "x (T, d) -> p_T (K,).",
        details=(
            "x (T, d), one input per time step → p_T, shape (K,), the output at the last step."
        ),
    ),
    Function(
        "rnn_grads",
        "x, y, params",
        'y one-hot (K,) -> dL/d for "W_ph" "b_p" "W_hh" "W_hx" "b_h".',
        details=(
            'y one-hot (K,) → a dict of ∂L/∂θ for the keys `"W_ph" "b_p" "W_hh" '
            '"W_hx" "b_h"`, each of its parameter\'s shape (backpropagation through '
            "time)."
        ),
    ),
    Function(
        "lstm_step",
        "x, h, c, params",
        "-> (h_new, c_new).",
        details=(
            "One LSTM step: x (d,), h (n,), c (n,) → the pair `(h_new, c_new)`, each "
            '(n,). params has the keys `"W_gx" "W_gh" "b_g" "W_ix" "W_ih" "b_i" '
            '"W_fx" "W_fh" "b_f" "W_ox" "W_oh" "b_o"`.'
        ),
    ),
    Function(
        "lstm_param_count",
        "d, n",
        "-> 4(dn + n^2 + n).",
        details=(
            "The number of trainable parameters (an int) of an LSTM with input size d"
            " and n units: 4(dn + n² + n)."
        ),
    ),
    Function(
        "gcn_adjacency",
        "edges, num_nodes",
        "-> A + I for an undirected edge list.",
        details=(
            "Ã = A + I, shape (num_nodes, num_nodes), for an undirected list of edges"
            " given as index pairs (either orientation). The assignment's graph (a…f "
            "= 0…5; edges a–b, a–e, a–f, b–c, b–d, c–d, d–f, e–f) gives the 6×6 Ã of "
            "the sheet."
        ),
    ),
    Function(
        "gcn_layer",
        "A, H, W",
        "relu(D^-1/2 (A + I) D^-1/2 H W); A without self-loops.",
        details=(
            "ReLU(D̃^−½ Ã D̃^−½ H W) with H (N, d_in), W (d_in, d_out) → (N, d_out). "
            "A comes without self-loops: the function forms Ã = A + I itself."
        ),
    ),
    Function(
        "layers_to_reach",
        "edges, num_nodes, src, dst",
        "-> fewest GCN layers after which dst depends on src; ValueError if unreachable.",
        details=(
            "The fewest GCN layers (an int) after which node dst's output depends on "
            "node src's input; 0 when src == dst. Raises `ValueError` when dst cannot"
            " be reached from src."
        ),
    ),
    Function(
        "layers_to_cover",
        "edges, num_nodes",
        "-> fewest layers after which every node depends on every node; ValueError if the\n"
        "graph is disconnected.",
        details=(
            "The fewest GCN layers (an int) after which every node's output depends "
            "on every node's input. Raises `ValueError` for a disconnected graph."
        ),
    ),
)

CONTRACT: dict[str, tuple[Function, ...]] = {
    "2": SHEET2,
    "7": SHEET7,
    "9": SHEET9,
    "10": SHEET10,
}


# What every sheet assumes, as the student reference states it (the tolerances are
# stated from the comparators themselves, by grader.docs).
CONVENTIONS: tuple[str, ...] = (
    (
        "Array arguments arrive as numpy float64 arrays, and they are copies: you may"
        " change them. Scalar arguments arrive as Python `float` or `int`; indices, "
        "sizes, `depth` and `k` are Python ints; `edges` is a list of `(int, int)` "
        "tuples; `emb` and `params` are dicts of float64 arrays; `w` in `backprop` is"
        " a dict of floats."
    ),
    (
        "Functions are called positionally, with the arguments in the order shown; "
        "only `maxpool2d`'s `k` may also be passed by keyword."
    ),
    (
        "Inputs are never degenerate unless a function says so: sequences have T ≥ 1,"
        " pooling inputs have H, W ≥ k, and no check asks for an empty output."
    ),
    (
        "Return numbers in any form that holds them: numpy arrays or scalars, Python "
        "numbers, (nested) lists or tuples, or torch tensors (with or without grad, "
        "any dtype, float32 included). The grader converts them to float64 before "
        "comparing. A wrong shape is a wrong answer, and the message names both "
        "shapes; so is something that cannot be converted (a string, None, an "
        "object)."
    ),
    "Indices are 0-based. σ is the logistic sigmoid 1/(1 + e^−z) and ρ is ReLU, max(0, z).",
    (
        "You may define helpers of your own and import numpy, torch, math and the "
        "standard library. Names the sheet does not list are ignored. Plotting and "
        "progress bars (matplotlib, seaborn, plotly, tqdm, IPython.display) may stay in "
        "your file: where they are not installed they do nothing, and they are never "
        "graded."
    ),
    (
        "In a notebook the code cells run in order in one namespace; IPython lines "
        "(`%…`, `!…`, cell magics) do not run; a failing cell is reported and the "
        "later cells still run; the last definition of a name counts."
    ),
)

# Per sheet and exercise id (the spec's): the notation that exercise's functions share.
SETUP: dict[str, dict[str, str]] = {
    "2": {
        "1": (
            "The network y = 1 − ρ(x1) − ρ(x2) + ρ(x1 + x2); a point is class 1 if y "
            "< 0 and class 2 if y > 0."
        ),
        "2": "The error E = log cosh(y − t) of one output y and target t.",
        "3": "The sheet's network with tanh units 3–7 and error E = log cosh(y − t).",
        "4": "z3 = x1·w13, z4 = x2·w24, a = ½z², y = a3 + a4, E = (y − t)².",
    },
    "7": {
        "1": (
            "L = ½ Σ_o (ŷ_o − y_o)² with h = σ(a); I is the input image, w the "
            "layer's weights, b its biases, v the linear output layer and y_hat the "
            "target ŷ."
        ),
        "2": "Width and height of a convolution's output volume.",
        "3": (
            "The sheet's 6×6 image and two 3×3 filters: does conv → ReLU → max-pool "
            "notice a one-pixel shift?"
        ),
        "4": "Reverse-mode automatic differentiation on a computational graph.",
    },
    "9": {
        "recap": "The activation functions of the lecture and their derivatives.",
        "1": '1-D convolution of finite signals ("valid": no padding), as in the sheet.',
        "2": (
            "A recursive network on a bracketed parse such as the sheet's `\"((the, "
            'cat), (sat, (on, (the, mat))))"`. Each internal node is a = φ(a_left, '
            "a_right) = tanh(W [a_left; a_right] + b) and the output is f(a_root) = "
            "u·a_root. A word is a maximal run of characters other than whitespace, "
            "`(`, `)` and `,`; spaces are optional; every internal node has exactly "
            "two children; a sentence of one word has no internal node."
        ),
        "3": "Graph networks with layers H_{t+1} = ρ(A H_t W).",
    },
    "10": {
        "1": (
            "The vanilla RNN h_t = tanh(W_hx x_t + W_hh h_{t−1} + b_h), p_t = W_ph "
            "h_t + b_p, with loss L = −Σ_k y_k log softmax(p_T)_k at the last step T."
            ' `params` is a dict with `"W_hx"` (n, d), `"W_hh"` (n, n), `"b_h"` (n,),'
            ' `"W_ph"` (K, n), `"b_p"` (K,) and `"h0"` (n,).'
        ),
        "2": (
            "The LSTM step g = tanh(W_gx x + W_gh h + b_g), i = σ(W_ix x + W_ih h + "
            "b_i), f = σ(W_fx x + W_fh h + b_f), o = σ(W_ox x + W_oh h + b_o), c' = "
            "g⊙i + c⊙f, h' = tanh(c')⊙o; every W_·x is (n, d), W_·h (n, n) and b_· "
            "(n,)."
        ),
        "3": (
            "Graph convolution: A is the adjacency matrix without self-loops, Ã = A +"
            " I, and D̃ the diagonal matrix of Ã's row sums (degrees). Nodes are "
            "numbered 0 … num_nodes − 1 and `edges` is a list of index pairs."
        ),
    },
}


def functions(sheet: str) -> dict[str, Function]:
    return {f.name: f for f in CONTRACT[sheet]}
