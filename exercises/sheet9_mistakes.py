"""Known wrong answers for sheet 9, each with the message a TA would write next to it.

MISTAKES maps a contract function name to (slug, message, wrong implementation); each wrong
implementation has the contract signature, so the grader can be tested on them and can
recognise them in submissions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from reference import sheet9 as ref

# --- activations -------------------------------------------------------------------------------


def _with_grad(target: str, wrong: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """activation_grad that is right except for one activation."""

    def activation_grad(name: str, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return wrong(z) if name == target else ref.activation_grad(name, z)

    return activation_grad


def _with_value(target: str, wrong: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """activation that is right except for one activation."""

    def activation(name: str, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        return wrong(z) if name == target else ref.activation(name, z)

    return activation


def _sigmoid_lecture_form(z: np.ndarray) -> np.ndarray:
    """The lecture's e^z / (1 + e^z) evaluated as written: nan once e^z overflows (z > 709)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(z) / (1.0 + np.exp(z))


def _sigma(z: np.ndarray) -> np.ndarray:
    return ref.activation("sigmoid", z)


# --- Exercise 1 --------------------------------------------------------------------------------


def conv1d_flipped(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return ref.conv1d(x, w[:, :, ::-1])


def conv1d_channels_swapped(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return ref.conv1d(x, np.transpose(w, (1, 0, 2)))


def weight_grad_flipped(x: np.ndarray, dy_dz: np.ndarray) -> np.ndarray:
    return ref.conv1d_weight_grad(x, dy_dz)[:, :, ::-1]


def weight_grad_summed_over_outputs(x: np.ndarray, dy_dz: np.ndarray) -> np.ndarray:
    dw = ref.conv1d_weight_grad(x, dy_dz)
    return np.broadcast_to(dw.sum(axis=1, keepdims=True), dw.shape).copy()


def input_grad_not_flipped(w: np.ndarray, dE_dz: np.ndarray) -> np.ndarray:
    return ref.conv1d_input_grad(w[:, :, ::-1], dE_dz)


def input_grad_last_channel_only(w: np.ndarray, dE_dz: np.ndarray) -> np.ndarray:
    return ref.conv1d_input_grad(w[:, -1:, :], dE_dz[-1:, :])


# --- Exercise 2 --------------------------------------------------------------------------------


def equations_pre_order(bracketed: str) -> list[tuple[str, str, str]]:
    names: list[list] = []

    def visit(t: ref.Tree) -> str:
        if isinstance(t, str):
            return t
        entry: list = [f"a{len(names) + 1}"]
        names.append(entry)
        entry += [visit(t[0]), visit(t[1])]
        return entry[0]

    visit(ref.parse_tree(bracketed))
    return [tuple(e) for e in names]


def equations_seed_slip(bracketed: str) -> list[tuple[str, str, str]]:
    equations = ref.tree_equations(bracketed)
    return [("a4", "cat", "a3") if e == ("a4", "sat", "a3") else e for e in equations]


def equations_need_spaces(bracketed: str) -> list[tuple[str, str, str]]:
    tokens = bracketed.replace("(", " ( ").replace(")", " ) ").split()
    tokens = [t.rstrip(",") for t in tokens if t != ","]
    pos = 0

    def node() -> ref.Tree:
        nonlocal pos
        token, pos = tokens[pos], pos + 1
        if token != "(":
            return token
        children = []
        while tokens[pos] != ")":
            children.append(node())
        pos += 1
        if len(children) != 2:
            raise ValueError("expected two children")
        return tuple(children)

    nodes = ref.post_order(node())
    name = {k: f"a{k + 1}" for k in range(len(nodes))}
    return [(f"a{k + 1}", name.get(a, a), name.get(c, c)) for k, (a, c) in enumerate(nodes)]


def equations_memoised(bracketed: str) -> list[tuple[str, str, str]]:
    """An identical subtree named once: ((the, cat), (the, cat)) gives two equations."""
    names: dict[ref.Tree, str] = {}
    equations: list[tuple[str, str, str]] = []

    def visit(t: ref.Tree) -> str:
        if isinstance(t, str):
            return t
        if t not in names:
            left, right = visit(t[0]), visit(t[1])
            names[t] = f"a{len(equations) + 1}"
            equations.append((names[t], left, right))
        return names[t]

    visit(ref.parse_tree(bracketed))
    return equations


def forward_children_swapped(
    bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray
) -> float:
    W_swapped = np.concatenate([W[:, len(b) :], W[:, : len(b)]], axis=1)
    return ref.recursive_forward(bracketed, emb, W_swapped, b, u)


def _grad_variant(
    bracketed: str,
    emb: dict,
    W: np.ndarray,
    b: np.ndarray,
    u: np.ndarray,
    *,
    overwrite_words: bool = False,
    tanh_prime: bool = True,
    root_only_W: bool = False,
) -> dict:
    """recursive_grad with one step of the bookkeeping done wrong."""
    grads = ref.recursive_grad(bracketed, emb, W, b, u)
    tree = ref.parse_tree(bracketed)
    nodes, inputs, outputs, _ = ref._forward(tree, emb, W, b)
    if not nodes:
        return grads
    d = len(b)
    node_grad = [np.zeros(d) for _ in nodes]
    node_grad[-1] = np.asarray(u, dtype=float)
    grads["W"] = np.zeros_like(grads["W"])
    grads["b"] = np.zeros(d)
    grads["emb"] = {w: np.zeros(d) for w in grads["emb"]}
    for k in reversed(range(len(nodes))):
        delta = node_grad[k] * ((1.0 - outputs[k] ** 2) if tanh_prime else 1.0)
        if k == len(nodes) - 1 or not root_only_W:
            grads["W"] += np.outer(delta, inputs[k])
        grads["b"] += delta
        g_in = W.T @ delta
        for child, g in zip(nodes[k], (g_in[:d], g_in[d:]), strict=True):
            if isinstance(child, int):
                node_grad[child] += g
            elif overwrite_words:
                grads["emb"][child] = g
            else:
                grads["emb"][child] += g
    return grads


def grad_word_counted_once(
    bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray
) -> dict:
    return _grad_variant(bracketed, emb, W, b, u, overwrite_words=True)


def grad_without_tanh_prime(
    bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray
) -> dict:
    return _grad_variant(bracketed, emb, W, b, u, tanh_prime=False)


def grad_W_root_only(
    bracketed: str, emb: dict, W: np.ndarray, b: np.ndarray, u: np.ndarray
) -> dict:
    return _grad_variant(bracketed, emb, W, b, u, root_only_W=True)


# --- Exercise 3 --------------------------------------------------------------------------------


def gnn_no_relu(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    return A @ H @ W


def gnn_order_HWA(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.maximum(H @ W @ A, 0.0)


def gnn_A_transposed(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.maximum(A.T @ H @ W, 0.0)


def gnn_W_transposed(A: np.ndarray, H: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.maximum(A @ H @ W.T, 0.0)


def tree_with_self(A: np.ndarray, node: int, depth: int) -> tuple:
    return ref.unrolled_tree(A + np.eye(len(A)), node, depth)


def tree_unsorted(A: np.ndarray, node: int, depth: int) -> tuple:
    if depth == 0:
        return (int(node), ())
    neighbours = np.flatnonzero(A[node])[::-1]
    return (int(node), tuple(tree_unsorted(A, int(j), depth - 1) for j in neighbours))


def tree_from_columns(A: np.ndarray, node: int, depth: int) -> tuple:
    return ref.unrolled_tree(np.asarray(A).T, node, depth)


def tree_set_order(A: np.ndarray, node: int, depth: int) -> tuple:
    """Neighbours in a set's iteration order, which is not the index order from id 8 on."""
    if depth == 0:
        return (int(node), ())
    neighbours = {int(j) for j in np.flatnonzero(A[node])}
    return (int(node), tuple(tree_set_order(A, j, depth - 1) for j in neighbours))


def tree_one_level_short(A: np.ndarray, node: int, depth: int) -> tuple:
    return ref.unrolled_tree(A, node, max(depth - 1, 0))


def _lattice_with(kernel_3x3: np.ndarray | None = None, transpose: bool = False) -> Callable:
    def lattice_as_cnn(W: np.ndarray) -> list:
        layers = ref.lattice_as_cnn(W)
        out = []
        for layer in layers:
            if layer[0] == "conv" and layer[1].shape[2] == 3 and kernel_3x3 is not None:
                d = layer[1].shape[0]
                layer = ("conv", np.einsum("ij,kl->ijkl", np.eye(d), kernel_3x3))
            if layer[0] == "conv" and layer[1].shape[2] == 1 and transpose:
                layer = ("conv", np.transpose(layer[1], (1, 0, 2, 3)).copy())
            out.append(layer)
        return out

    return lattice_as_cnn


_PLUS_WITH_CENTRE = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
_EIGHT_NEIGHBOURS = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])

MISTAKES: dict[str, list[tuple[str, str, Callable]]] = {
    "activation": [
        (
            "threshold_strict",
            "threshold(0) should be 1: the step is 1(z ≥ 0), so z = 0 counts as 'on'.",
            _with_value("threshold", lambda z: (z > 0).astype(float)),
        ),
        (
            "sigmoid_overflow",
            "e^z/(1+e^z) gives inf/inf = nan for large z: with e = exp(−|z|) use "
            "1/(1+e) for z ≥ 0 and e/(1+e) for z < 0.",
            _with_value("sigmoid", _sigmoid_lecture_form),
        ),
    ],
    "activation_grad": [
        (
            "sigmoid_grad_is_sigmoid",
            "σ'(z) is not σ(z): differentiate 1/(1+e^−z) to get σ(z)(1 − σ(z)).",
            _with_grad("sigmoid", _sigma),
        ),
        (
            "sigmoid_grad_plus",
            "Sign slip in σ': it is σ(z)(1 − σ(z)), not σ(z)(1 + σ(z)).",
            _with_grad("sigmoid", lambda z: _sigma(z) * (1.0 + _sigma(z))),
        ),
        (
            "tanh_grad_not_squared",
            "tanh'(z) = 1 − tanh(z)², the tanh is squared.",
            _with_grad("tanh", lambda z: 1.0 - np.tanh(z)),
        ),
        (
            "relu_grad_at_zero",
            "The sheet takes relu'(0) = 0: the derivative is 1 only for z > 0.",
            _with_grad("relu", lambda z: (z >= 0).astype(float)),
        ),
    ],
    "conv1d": [
        (
            "true_convolution",
            "The layer is a cross-correlation, z_t = Σ_s w_s x_{t+s}: don't flip the kernel.",
            conv1d_flipped,
        ),
        (
            "channels_swapped",
            "w is indexed w[i, j, s] with i the input and j the output channel: "
            "z[j] sums over i of w[i, j] ⋆ x[i].",
            conv1d_channels_swapped,
        ),
    ],
    "conv1d_weight_grad": [
        (
            "weight_grad_flipped",
            "∂y/∂w[i, j, s] = Σ_t ∂y/∂z[j, t] x[i, t+s]: correlate x with ∂y/∂z, "
            "your result is reversed along s.",
            weight_grad_flipped,
        ),
        (
            "weight_grad_summed_over_outputs",
            "Each filter w[i, j] only gets the gradient of its own output z[j]: "
            "don't sum ∂y/∂z over the output channels j.",
            weight_grad_summed_over_outputs,
        ),
    ],
    "conv1d_input_grad": [
        (
            "input_grad_not_flipped",
            "∂E/∂x_n = Σ_t ∂E/∂z_t w_{n−t}: the backward pass is a true convolution, "
            "so the kernel must be flipped relative to the forward pass.",
            input_grad_not_flipped,
        ),
        (
            "input_grad_one_output_channel",
            "x[i] feeds every output channel: sum the contributions over all j "
            "(look for an '=' that should be '+=').",
            input_grad_last_channel_only,
        ),
    ],
    "tree_equations": [
        (
            "pre_order",
            "List the nodes bottom-up (left subtree, right subtree, then the node), "
            "so every a_k only uses words and earlier a's.",
            equations_pre_order,
        ),
        (
            "seed_slip_cat",
            "a4 = φ(sat, a3), not φ(cat, a3): 'cat' is already inside a1 "
            "(the slip in the posted solution).",
            equations_seed_slip,
        ),
        (
            "needs_spaces",
            "Spaces are optional: '((the,cat),mat)' must parse like '((the, cat), mat)'.",
            equations_need_spaces,
        ),
        (
            "memoised_subtrees",
            "Each occurrence of a subtree is a node of its own: ((the, cat), (the, cat)) has "
            "a1 = φ(the, cat), a2 = φ(the, cat) and a3 = φ(a1, a2).",
            equations_memoised,
        ),
    ],
    "recursive_forward": [
        (
            "children_swapped",
            "φ(a_i, a_j) = tanh(W [a_i; a_j] + b): the left child goes first in the stack.",
            forward_children_swapped,
        ),
    ],
    "recursive_grad": [
        (
            "repeated_word_once",
            "'the' appears twice: its embedding gradient is the sum over both uses.",
            grad_word_counted_once,
        ),
        (
            "missing_tanh_prime",
            "Backprop through each node needs the factor tanh' = 1 − a_k².",
            grad_without_tanh_prime,
        ),
        (
            "W_grad_root_only",
            "W is shared by all nodes: dy/dW sums the contributions of every node, "
            "not only the root.",
            grad_W_root_only,
        ),
    ],
    "gnn_layer": [
        (
            "no_relu",
            "Apply ρ = ReLU: H_{t+1} = ρ(A H W).",
            gnn_no_relu,
        ),
        (
            "order_HWA",
            "The order is A H W: A mixes nodes (rows), W mixes features (columns).",
            gnn_order_HWA,
        ),
        (
            "W_transposed",
            "Use W as given, H W (not H Wᵀ): feature j of a node is Σ_i h_i W[i, j].",
            gnn_W_transposed,
        ),
        (
            "A_transposed",
            "A[i, j] ≠ 0 means node i receives from node j: H_{t+1} = ρ(A H W), not ρ(Aᵀ H W) "
            "(the two differ when A is not symmetric).",
            gnn_A_transposed,
        ),
    ],
    "unrolled_tree": [
        (
            "self_loop",
            "A node's children are its neighbours only: there is no self-loop in A.",
            tree_with_self,
        ),
        (
            "unsorted_neighbours",
            "List the neighbours in increasing index order.",
            tree_unsorted,
        ),
        (
            "set_order",
            "A set does not keep the neighbours in index order (from id 8 on they come out "
            "shuffled): list them in increasing index order, e.g. with sorted(...).",
            tree_set_order,
        ),
        (
            "columns",
            "Node i's neighbours are the j with A[i, j] ≠ 0 (row i), not A[j, i] (column i): "
            "the two differ when A is not symmetric.",
            tree_from_columns,
        ),
        (
            "one_level_short",
            "A depth-k GNN unrolls into a tree with k levels below the root "
            "(depth 0 is the node alone).",
            tree_one_level_short,
        ),
    ],
    "lattice_as_cnn": [
        (
            "mix_kernel_transposed",
            "The 1x1 kernel is Wᵀ: output channel j = Σ_i H[:, i] W[i, j], "
            "and conv kernels are indexed (out, in).",
            _lattice_with(transpose=True),
        ),
        (
            "centre_included",
            "The 3x3 kernel must leave the centre at 0: A has no self-loops, "
            "only the 4 neighbours are summed.",
            _lattice_with(kernel_3x3=_PLUS_WITH_CENTRE),
        ),
        (
            "diagonals_included",
            "The lattice connects 4 neighbours (up, down, left, right), not the diagonals.",
            _lattice_with(kernel_3x3=_EIGHT_NEIGHBOURS),
        ),
    ],
}
