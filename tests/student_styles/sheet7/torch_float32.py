"""Sheet 7 in torch float32: unfold for convolutions, hand-written backward passes."""

import math

import torch

torch.set_default_dtype(torch.float32)


def T(a):
    return torch.as_tensor(a, dtype=torch.float32)


def unfold(I, F):
    """(H', W', F, F, C) patches of I (H, W, C)."""
    return I.unfold(0, F, 1).unfold(1, F, 1).permute(0, 1, 3, 4, 2)


def conv_net_grad(I, w, b, v, y_hat):
    I, w, b, v, y_hat = map(T, (I, w, b, v, y_hat))
    P = unfold(I, w.shape[0])
    h = torch.sigmoid(torch.einsum("ijxyc,xyck->ijk", P, w) + b)
    r = torch.einsum("ijko,ijk->o", v, h) - y_hat
    delta = torch.einsum("ijko,o->ijk", v, r) * h * (1 - h)
    return torch.einsum("ijk,ijxyc->xyck", delta, P).requires_grad_()


def dense_net_grad(I, w, b, v, y_hat):
    I, w, b, v, y_hat = map(T, (I, w, b, v, y_hat))
    h = torch.sigmoid((I[..., None] * w).sum(dim=(0, 1, 2)) + b)
    r = h @ v - y_hat
    delta = (v @ r) * h * (1 - h)
    return I[..., None] * delta


def conv_pool_net_grad(I, w, b, v, y_hat):
    I, w, b, v, y_hat = map(T, (I, w, b, v, y_hat))
    P = unfold(I, w.shape[0])
    h = torch.sigmoid(torch.einsum("ijxyc,xyck->ijk", P, w) + b)
    Pp, Q, K, O = v.shape
    pooled, idx = torch.nn.functional.max_pool2d(
        h.permute(2, 0, 1)[None], 2, return_indices=True
    )
    y = torch.einsum("pqko,kpq->o", v, pooled[0])
    g = torch.einsum("pqko,o->kpq", v, y - y_hat)
    dh = torch.zeros(K, h.shape[0] * h.shape[1])
    dh.scatter_add_(1, idx[0].reshape(K, -1), g.reshape(K, -1))
    dh = dh.reshape(K, h.shape[0], h.shape[1]).permute(1, 2, 0)
    delta = dh * h * (1 - h)
    return torch.einsum("ijk,ijxyc->xyck", delta, P)


def conv_output_shape(n, c, k, f, s, p):
    if min(n, c, k, f, s) < 1 or p < 0 or f > n + 2 * p:
        raise ValueError("invalid sizes")
    side = math.floor((n + 2 * p - f) / s) + 1
    return torch.tensor([side, side, k])


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("f must be odd and positive")
    return (f - 1) // 2


def conv2d(image, filters):
    image, filters = T(image), T(filters)
    F = filters.shape[-1]
    return torch.einsum("ijxy,kxy->ijk", image.unfold(0, F, 1).unfold(1, F, 1), filters)


def relu(x):
    return torch.clamp(T(x), min=0)


def maxpool2d(x, k=2):
    x = T(x)
    return torch.nn.functional.max_pool2d(x.permute(2, 0, 1), kernel_size=k).permute(1, 2, 0)


def shift_left(image):
    image = T(image)
    return torch.cat([image[:, 1:], torch.zeros(image.shape[0], 1)], dim=1)


def count_changed_after_shift(image, filters):
    a = maxpool2d(relu(conv2d(image, filters)))
    b = maxpool2d(relu(conv2d(shift_left(image), filters)))
    return torch.count_nonzero(a - b)


def reverse_mode(graph, values, output):
    val = {}
    for name, op, parents in graph:
        a = [val[p] for p in parents]
        val[name] = {
            "input": lambda: T(values[name]),
            "add": lambda: a[0] + a[1],
            "mul": lambda: a[0] * a[1],
            "sin": lambda: torch.sin(a[0]),
            "square": lambda: a[0] ** 2,
        }[op]()
    adj = {name: torch.tensor(0.0) for name in val}
    adj[output] = torch.tensor(1.0)
    for name, op, parents in reversed(graph):
        a = [val[p] for p in parents]
        if op == "add":
            adj[parents[0]] = adj[parents[0]] + adj[name]
            adj[parents[1]] = adj[parents[1]] + adj[name]
        elif op == "mul":
            adj[parents[0]] = adj[parents[0]] + adj[name] * a[1]
            adj[parents[1]] = adj[parents[1]] + adj[name] * a[0]
        elif op == "sin":
            adj[parents[0]] = adj[parents[0]] + adj[name] * torch.cos(a[0])
        elif op == "square":
            adj[parents[0]] = adj[parents[0]] + adj[name] * 2 * a[0]
    return adj


def sheet_graph():
    names = ["x1", "x2", "theta"]
    graph = [(n, "input", ()) for n in names]
    graph.append(("f1", "mul", ("x1", "theta")))
    graph.append(("f2", "add", ("f1", "x2")))
    graph.append(("f3", "sin", ("f2",)))
    graph.append(("f4", "mul", ("x2", "x2")) if False else ("f4", "square", ("x2",)))
    graph.append(("f5", "mul", ("theta", "f4")))
    graph.append(("f6", "add", ("f3", "f5")))
    return tuple(graph)
