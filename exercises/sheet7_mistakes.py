"""Common wrong answers to sheet 7, so the grader can name the mistake instead of just "wrong".

MISTAKES maps a contract function name to (slug, student-facing message, wrong implementation);
each wrong implementation has the contract function's signature and makes exactly one mistake.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference import sheet7 as ref

# --- conv_net_grad ---------------------------------------------------------------------------


def _conv_hidden(I: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    patches = ref._patches(I, w.shape[0])
    return patches, ref._sigmoid(b + np.einsum("ijxyc,xyck->ijk", patches, w))


def _conv_missing_sigma_prime(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    patches, h = _conv_hidden(I, w, b)
    dL_dy = np.einsum("ijko,ijk->o", v, h) - y_hat
    dL_dh = np.einsum("ijko,o->ijk", v, dL_dy)
    return np.einsum("ijxyc,ijk->xyck", patches, dL_dh)


def _conv_flipped_sign(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    patches, h = _conv_hidden(I, w, b)
    dL_dy = y_hat - np.einsum("ijko,ijk->o", v, h)
    dL_da = np.einsum("ijko,o->ijk", v, dL_dy) * h * (1 - h)
    return np.einsum("ijxyc,ijk->xyck", patches, dL_da)


def _conv_sums_over_filters(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    patches, h = _conv_hidden(I, w, b)
    dL_dy = np.einsum("ijko,ijk->o", v, h) - y_hat
    dL_da = np.einsum("ijko,o->ijk", v, dL_dy) * h * (1 - h)
    per_pixel = np.einsum("ijxyc,ijk->xyc", patches, dL_da)
    return np.repeat(per_pixel[..., None], w.shape[3], axis=3)


# --- dense_net_grad --------------------------------------------------------------------------


def _dense_hidden(I: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ref._sigmoid(b + np.einsum("xyc,xyck->k", I, w))


def _dense_missing_sigma_prime(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    h = _dense_hidden(I, w, b)
    return np.einsum("xyc,k->xyck", I, v @ (h @ v - y_hat))


def _dense_flipped_sign(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    h = _dense_hidden(I, w, b)
    return np.einsum("xyc,k->xyck", I, (v @ (y_hat - h @ v)) * h * (1 - h))


def _dense_sums_over_hidden(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    h = _dense_hidden(I, w, b)
    dL_da = (v @ (h @ v - y_hat)) * h * (1 - h)
    return np.einsum("xyc,k->xyck", I, np.full_like(dL_da, dL_da.sum()))


# --- conv_pool_net_grad ----------------------------------------------------------------------


Route = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _pool_backward(
    I: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    v: np.ndarray,
    y_hat: np.ndarray,
    *,
    route: Route,
    sigma_prime: bool = True,
) -> np.ndarray:
    """Shared pooled-net backward; `route` maps (h, spread window gradients) to ∂L/∂h."""
    patches, h = _conv_hidden(I, w, b)
    pooled = ref.maxpool2d(h)
    dL_dpooled = np.einsum("pqko,o->pqk", v, np.einsum("pqko,pqk->o", v, pooled) - y_hat)
    P, Q, _ = pooled.shape
    spread = np.repeat(np.repeat(dL_dpooled, 2, axis=0), 2, axis=1)
    spread = np.pad(spread, ((0, h.shape[0] - 2 * P), (0, h.shape[1] - 2 * Q), (0, 0)))
    dL_dh = route(h, spread)
    dL_da = dL_dh * h * (1 - h) if sigma_prime else dL_dh
    return np.einsum("ijxyc,ijk->xyck", patches, dL_da)


def _pool_route_to_all(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    return _pool_backward(I, w, b, v, y_hat, route=lambda h, spread: spread)


def _pool_average(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    return _pool_backward(I, w, b, v, y_hat, route=lambda h, spread: spread / 4)


def _pool_missing_sigma_prime(
    I: np.ndarray, w: np.ndarray, b: np.ndarray, v: np.ndarray, y_hat: np.ndarray
) -> np.ndarray:
    def winners_only(h: np.ndarray, spread: np.ndarray) -> np.ndarray:
        return np.where(ref._winner_mask(h), spread, 0.0)

    return _pool_backward(I, w, b, v, y_hat, route=winners_only, sigma_prime=False)


# --- conv_output_shape -----------------------------------------------------------------------


def _validated(n: int, c: int, k: int, f: int, s: int, p: int) -> None:
    """The reference's checks, so each size mistake below makes only its own mistake."""
    ref.conv_output_shape(n, c, k, f, s, p)


def _shape_forgot_padding(n: int, c: int, k: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    _validated(n, c, k, f, s, p)
    side = (n - f) // s + 1
    return side, side, k


def _shape_padding_once(n: int, c: int, k: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    _validated(n, c, k, f, s, p)
    side = (n + p - f) // s + 1
    return side, side, k


def _shape_ceil(n: int, c: int, k: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    _validated(n, c, k, f, s, p)
    side = math.ceil((n + 2 * p - f) / s) + 1
    return side, side, k


def _shape_depth_is_c(n: int, c: int, k: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    _validated(n, c, k, f, s, p)
    side = (n + 2 * p - f) // s + 1
    return side, side, c


def _shape_no_checks(n: int, c: int, k: int, f: int, s: int, p: int) -> tuple[int, int, int]:
    side = (n + 2 * p - f) // s + 1
    return side, side, k


# --- same_padding ----------------------------------------------------------------------------


def _padding_total(f: int) -> int:
    ref.same_padding(f)  # the reference's checks: this mistake is only the missing halving
    return f - 1


def _padding_half_up(f: int) -> int:
    ref.same_padding(f)
    return f // 2 + 1


def _padding_half_f(f: int) -> float:
    ref.same_padding(f)
    return f / 2


def _padding_no_check(f: int) -> int:
    return (f - 1) // 2


# --- conv2d ----------------------------------------------------------------------------------


def _conv2d_flipped_kernel(image: np.ndarray, filters: np.ndarray) -> np.ndarray:
    return ref.conv2d(image, filters[:, ::-1, ::-1])


def _conv2d_transposed_filter(image: np.ndarray, filters: np.ndarray) -> np.ndarray:
    return ref.conv2d(image, np.swapaxes(filters, 1, 2))


def _conv2d_channels_first(image: np.ndarray, filters: np.ndarray) -> np.ndarray:
    return np.moveaxis(ref.conv2d(image, filters), 2, 0)


def _conv2d_same_padding(image: np.ndarray, filters: np.ndarray) -> np.ndarray:
    pad = filters.shape[-1] // 2
    return ref.conv2d(np.pad(image, pad), filters)


# --- relu ------------------------------------------------------------------------------------


def _relu_np_max(x: np.ndarray) -> np.ndarray:
    return np.max(x, 0)


def _relu_mask(x: np.ndarray) -> np.ndarray:
    return (x > 0).astype(float)


# --- maxpool2d -------------------------------------------------------------------------------


def _pool_stride_one(x: np.ndarray, k: int = 2) -> np.ndarray:
    return sliding_window_view(x, (k, k), axis=(0, 1)).max(axis=(3, 4))


def _pool_wrong_reshape(x: np.ndarray, k: int = 2) -> np.ndarray:
    P, Q, K = x.shape[0] // k, x.shape[1] // k, x.shape[2]
    return x[: P * k, : Q * k].reshape(P, Q, k, k, K).max(axis=(2, 3))


def _pool_hardcoded_k(x: np.ndarray, k: int = 2) -> np.ndarray:
    return ref.maxpool2d(x, 2)


def _pool_keeps_partial(x: np.ndarray, k: int = 2) -> np.ndarray:
    P, Q = -(-x.shape[0] // k), -(-x.shape[1] // k)
    padded = np.pad(x, ((0, P * k - x.shape[0]), (0, Q * k - x.shape[1]), (0, 0)), "edge")
    return ref.maxpool2d(padded, k)


# --- shift_left ------------------------------------------------------------------------------


def _shift_right(image: np.ndarray) -> np.ndarray:
    shifted = np.zeros_like(image)
    shifted[:, 1:] = image[:, :-1]
    return shifted


def _shift_wraps(image: np.ndarray) -> np.ndarray:
    return np.roll(image, -1, axis=1)


def _shift_up(image: np.ndarray) -> np.ndarray:
    shifted = np.zeros_like(image)
    shifted[:-1] = image[1:]
    return shifted


# --- count_changed_after_shift ---------------------------------------------------------------


def _count_conv_units(image: np.ndarray, filters: np.ndarray) -> int:
    def layer(img: np.ndarray) -> np.ndarray:
        return ref.relu(ref.conv2d(img, filters))

    return int(np.count_nonzero(layer(image) != layer(ref.shift_left(image))))


def _count_unchanged(image: np.ndarray, filters: np.ndarray) -> int:
    def layer(img: np.ndarray) -> np.ndarray:
        return ref.maxpool2d(ref.relu(ref.conv2d(img, filters)))

    return int(np.count_nonzero(layer(image) == layer(ref.shift_left(image))))


def _count_shift_right(image: np.ndarray, filters: np.ndarray) -> int:
    def layer(img: np.ndarray) -> np.ndarray:
        return ref.maxpool2d(ref.relu(ref.conv2d(img, filters)))

    return int(np.count_nonzero(layer(image) != layer(_shift_right(image))))


def _count_without_relu(image: np.ndarray, filters: np.ndarray) -> int:
    def layer(img: np.ndarray) -> np.ndarray:
        return ref.maxpool2d(ref.conv2d(img, filters))

    return int(np.count_nonzero(layer(image) != layer(ref.shift_left(image))))


# --- reverse_mode ----------------------------------------------------------------------------


Partials = Callable[[str, list[float], Sequence[str]], Iterable[tuple[str, float]]]


def _reverse(
    graph: Sequence,
    values: Mapping[str, float],
    output: str,
    *,
    partials: Partials,
    accumulate: bool = True,
    schedule: Callable[[list], Iterable] = reversed,
) -> dict[str, float]:
    """Shared wrong reverse pass; `partials(op, args, parents)` gives {parent: ∂f/∂parent}."""
    value = ref._forward(graph, values)
    t = {name: 0.0 for name, _, _ in graph}
    t[output] = 1.0
    for name, op, parents in schedule(list(graph)):
        local = partials(op, [value[p] for p in parents], parents)
        for parent, partial in local:
            t[parent] = t[parent] + partial * t[name] if accumulate else partial * t[name]
    return t


def _slot_partials(op: str, args: list[float], parents: Sequence[str]) -> list[tuple[str, float]]:
    return list(zip(parents, ref._local_partials(op, args), strict=True))


def _reverse_mul_parent_once(
    graph: Sequence, values: Mapping[str, float], output: str
) -> dict[str, float]:
    def partials(op: str, args: list[float], parents: Sequence[str]) -> Iterable[tuple[str, float]]:
        return dict(_slot_partials(op, args, parents)).items()

    return _reverse(graph, values, output, partials=partials)


def _reverse_overwrites(
    graph: Sequence, values: Mapping[str, float], output: str
) -> dict[str, float]:
    return _reverse(graph, values, output, partials=_slot_partials, accumulate=False)


def _reverse_forward_order(
    graph: Sequence, values: Mapping[str, float], output: str
) -> dict[str, float]:
    return _reverse(graph, values, output, partials=_slot_partials, schedule=list)


def _reverse_sin_sign(
    graph: Sequence, values: Mapping[str, float], output: str
) -> dict[str, float]:
    def partials(op: str, args: list[float], parents: Sequence[str]) -> Iterable[tuple[str, float]]:
        if op == "sin":
            return [(parents[0], -math.cos(args[0]))]
        return _slot_partials(op, args, parents)

    return _reverse(graph, values, output, partials=partials)


def _reverse_square_no_two(
    graph: Sequence, values: Mapping[str, float], output: str
) -> dict[str, float]:
    def partials(op: str, args: list[float], parents: Sequence[str]) -> Iterable[tuple[str, float]]:
        if op == "square":
            return [(parents[0], args[0])]
        return _slot_partials(op, args, parents)

    return _reverse(graph, values, output, partials=partials)


def _reverse_only_ancestors(
    graph: Sequence, values: Mapping[str, float], output: str
) -> dict[str, float]:
    parents_of = {name: parents for name, _, parents in graph}
    needed, todo = {output}, [output]
    while todo:
        for parent in parents_of[todo.pop()]:
            if parent not in needed:
                needed.add(parent)
                todo.append(parent)
    t = ref.reverse_mode(graph, values, output)
    return {name: t_n for name, t_n in t.items() if name in needed}


# --- sheet_graph -----------------------------------------------------------------------------


def _edit_sheet_graph(**replace: tuple[str, tuple[str, ...]]) -> list:
    return [(name, *replace.get(name, (op, parents))) for name, op, parents in ref.sheet_graph()]


def _graph_f5_uses_x2() -> list:
    return _edit_sheet_graph(f5=("mul", ("theta", "x2")))


def _graph_f1_is_sum() -> list:
    return _edit_sheet_graph(f1=("add", ("x1", "theta")))


def _graph_not_topological() -> list:
    nodes = ref.sheet_graph()
    f4 = next(node for node in nodes if node[0] == "f4")
    return [node for node in nodes if node is not f4] + [f4]


Mistake = tuple[str, str, Callable]

MISTAKES: dict[str, list[Mistake]] = {
    "conv_net_grad": [
        (
            "missing_sigma_prime",
            "Your ∂L/∂w is missing the factor σ'(a) = h(1 − h) of the non-linearity.",
            _conv_missing_sigma_prime,
        ),
        (
            "flipped_sign",
            "The sign is flipped: with L = ½Σ(ŷ − y)², ∂L/∂y_o = y_o − ŷ_o, not ŷ_o − y_o.",
            _conv_flipped_sign,
        ),
        (
            "sums_over_filters",
            "Filter k only feeds channel k: ∂L/∂w[x, y, c, k] sums over the positions i, j of "
            "channel k only, not over every channel.",
            _conv_sums_over_filters,
        ),
    ],
    "dense_net_grad": [
        (
            "missing_sigma_prime",
            "Your ∂L/∂w is missing the factor σ'(a_k) = h_k(1 − h_k) of the non-linearity.",
            _dense_missing_sigma_prime,
        ),
        (
            "flipped_sign",
            "The sign is flipped: with L = ½Σ(ŷ − y)², ∂L/∂y_o = y_o − ŷ_o, not ŷ_o − y_o.",
            _dense_flipped_sign,
        ),
        (
            "sums_over_hidden",
            "Weight w[x, y, c, k] only feeds hidden unit k: don't sum over the hidden units.",
            _dense_sums_over_hidden,
        ),
    ],
    "conv_pool_net_grad": [
        (
            "route_to_all",
            "You route the gradient to every unit of each pooling window; only the unit that "
            "won the max receives it.",
            _pool_route_to_all,
        ),
        (
            "average_pooling",
            "You share the gradient equally over each pooling window, as for average pooling; "
            "max pooling passes all of it to the winning unit.",
            _pool_average,
        ),
        (
            "missing_sigma_prime",
            "Your ∂L/∂w is missing the factor σ'(a) = h(1 − h) of the non-linearity.",
            _pool_missing_sigma_prime,
        ),
    ],
    "conv_output_shape": [
        (
            "forgot_padding",
            "You forgot the padding: the padded input is n + 2p wide.",
            _shape_forgot_padding,
        ),
        (
            "padding_once",
            "Padding adds p on both sides: the padded input is n + 2p wide, not n + p.",
            _shape_padding_once,
        ),
        (
            "ceil",
            "Round (n + 2p − f)/s down, not up: a last step where the filter sticks out of the "
            "input does not produce an output.",
            _shape_ceil,
        ),
        (
            "depth_is_c",
            "The output depth is the number of filters k, not the input depth c.",
            _shape_depth_is_c,
        ),
        (
            "no_checks",
            "Raise ValueError when the filter does not fit (f > n + 2p) or an argument is out of "
            "range, instead of returning a size.",
            _shape_no_checks,
        ),
    ],
    "same_padding": [
        (
            "total_padding",
            "f − 1 is the padding of both sides together; each side gets (f − 1)/2.",
            _padding_total,
        ),
        (
            "one_too_many",
            "One too many: stride 1 shrinks each side by f − 1, so pad (f − 1)/2 on each side.",
            _padding_half_up,
        ),
        (
            "half_f",
            "The padding is (f − 1)/2, a whole number for odd f (1 for f = 3), not f/2.",
            _padding_half_f,
        ),
        (
            "no_check",
            "An even f (or f < 1) has no padding that keeps the size: raise ValueError.",
            _padding_no_check,
        ),
    ],
    "conv2d": [
        (
            "flipped_kernel",
            "You flipped the filter (true convolution); the layer is a cross-correlation: "
            "out[i, j, k] = Σ image[i + x, j + y] · filters[k, x, y].",
            _conv2d_flipped_kernel,
        ),
        (
            "transposed_filter",
            "You swapped the filter's row and column: filters[k, x, y] multiplies "
            "image[i + x, j + y].",
            _conv2d_transposed_filter,
        ),
        (
            "channels_first",
            "Put the filter index last: the output has shape (H − F + 1, W − F + 1, K).",
            _conv2d_channels_first,
        ),
        (
            "padded",
            "The convolution is 'valid' (no padding): the output is (H − F + 1, W − F + 1, K).",
            _conv2d_same_padding,
        ),
    ],
    "relu": [
        (
            "np_max",
            "np.max(x, 0) takes the maximum along axis 0; the elementwise ReLU is "
            "np.maximum(x, 0).",
            _relu_np_max,
        ),
        (
            "derivative",
            "That is ReLU's derivative (a 0/1 mask); ReLU itself is max(x, 0).",
            _relu_mask,
        ),
    ],
    "maxpool2d": [
        (
            "stride_one",
            "Your pooling windows overlap: the stride is k, so the output is (H//k, W//k, K).",
            _pool_stride_one,
        ),
        (
            "wrong_reshape",
            "Your windows are not k×k blocks of neighbouring pixels: reshape to "
            "(H//k, k, W//k, k, K) and take the max over axes 1 and 3.",
            _pool_wrong_reshape,
        ),
        (
            "hardcoded_k",
            "You ignore k: the window and the stride are k, not always 2.",
            _pool_hardcoded_k,
        ),
        (
            "keeps_partial_windows",
            "A trailing row or column that does not fill a k×k window is dropped: the output "
            "is (H//k, W//k, K).",
            _pool_keeps_partial,
        ),
    ],
    "shift_left": [
        (
            "shifted_right",
            "Your image moved right; moving it left puts column j + 1 into column j.",
            _shift_right,
        ),
        (
            "wraps_around",
            "np.roll wraps the left column around to the right; the freed right column must be 0.",
            _shift_wraps,
        ),
        (
            "shifted_up",
            "You moved the image up; left means along the columns (axis 1).",
            _shift_up,
        ),
    ],
    "count_changed_after_shift": [
        (
            "counts_conv_units",
            "You counted changed units of the convolution layer; the question asks about the "
            "max-pooling output.",
            _count_conv_units,
        ),
        (
            "counts_unchanged",
            "That is the number of pooled units that kept their value; count the ones that "
            "changed.",
            _count_unchanged,
        ),
        (
            "shifted_right",
            "You compared with the image moved right; move it one pixel left.",
            _count_shift_right,
        ),
        (
            "without_relu",
            "Apply the ReLU before pooling: the layer is maxpool2d(relu(conv2d(image, filters))).",
            _count_without_relu,
        ),
    ],
    "reverse_mode": [
        (
            "mul_parent_once",
            "For mul(x, x) both factors are x: d(x·x)/dx = 2x, so add one contribution per "
            "parent slot.",
            _reverse_mul_parent_once,
        ),
        (
            "overwrites",
            "A node with several children gets the sum of their contributions (Eq. 10); you "
            "overwrite instead of adding.",
            _reverse_overwrites,
        ),
        (
            "forward_order",
            "Visit the nodes children-first, in reverse topological order, so that every t_c is "
            "complete before it is used.",
            _reverse_forward_order,
        ),
        (
            "sin_sign",
            "d/dx sin(x) = cos(x), not −cos(x).",
            _reverse_sin_sign,
        ),
        (
            "square_missing_two",
            "d/dx x² = 2x: the factor 2 is missing.",
            _reverse_square_no_two,
        ),
        (
            "only_ancestors",
            "Return every node name; a node the output does not depend on gets 0.0.",
            _reverse_only_ancestors,
        ),
    ],
    "sheet_graph": [
        (
            "f5_uses_x2",
            "f5 multiplies θ by f4 = x2², not by x2.",
            _graph_f5_uses_x2,
        ),
        (
            "f1_is_sum",
            "f1(x1, θ) is the product θ·x1 (mul), not a sum.",
            _graph_f1_is_sum,
        ),
        (
            "not_topological",
            "List the nodes in topological order: every node after its parents.",
            _graph_not_topological,
        ),
    ],
}
