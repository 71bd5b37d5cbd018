"""Sheet 7, correct, as a student who works in torch float32: float32 tensors throughout,
autograd for every gradient (the three networks and reverse mode), float32 tensors or
`.tolist()` lists as answers."""

import torch

F32 = torch.float32


def f32(x):
    return torch.tensor(x, dtype=F32)


# Exercise 1


def _conv(I, w, b):
    """a[i, j, k] = b[k] + sum_{x, y, c} I[i + x, j + y, c] w[x, y, c, k], written as loops."""
    H, W, _ = I.shape
    F = w.shape[0]
    rows = []
    for i in range(H - F + 1):
        cols = []
        for j in range(W - F + 1):
            patch = I[i : i + F, j : j + F, :]
            cols.append(b + torch.einsum("xyc,xyck->k", patch, w))
        rows.append(torch.stack(cols))
    return torch.stack(rows)


def _maxpool(h, k=2):
    """h (H, W, K) -> (H // k, W // k, K); a trailing odd row or column is dropped."""
    P, Q = h.shape[0] // k, h.shape[1] // k
    h = h[: P * k, : Q * k].reshape(P, k, Q, k, -1)
    return h.amax(dim=(1, 3))


def _weight_grad(forward, I, w, b, v, y_hat):
    I, b, v, y_hat = f32(I), f32(b), f32(v), f32(y_hat)
    w = f32(w).requires_grad_()
    L = 0.5 * ((y_hat - forward(I, w, b, v)) ** 2).sum()
    L.backward()
    return w.grad


def conv_net_grad(I, w, b, v, y_hat):
    def forward(I, w, b, v):
        h = torch.sigmoid(_conv(I, w, b))
        return torch.einsum("ijk,ijko->o", h, v)

    return _weight_grad(forward, I, w, b, v, y_hat)


def dense_net_grad(I, w, b, v, y_hat):
    def forward(I, w, b, v):
        h = torch.sigmoid(b + torch.einsum("xyc,xyck->k", I, w))
        return h @ v

    return _weight_grad(forward, I, w, b, v, y_hat).tolist()


def conv_pool_net_grad(I, w, b, v, y_hat):
    def forward(I, w, b, v):
        h = _maxpool(torch.sigmoid(_conv(I, w, b)))
        return torch.einsum("pqk,pqko->o", h, v)

    return _weight_grad(forward, I, w, b, v, y_hat)


# Exercise 2


def conv_output_shape(n, c, k, f, s, p):
    if min(n, c, k, f, s) < 1 or p < 0:
        raise ValueError("n, c, k, f, s must be at least 1 and p at least 0")
    if f > n + 2 * p:
        raise ValueError("the filter does not fit into the padded input")
    side = (n + 2 * p - f) // s + 1
    return (side, side, k)


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("same padding needs an odd filter size")
    return (f - 1) // 2


# Exercise 3


def conv2d(image, filters):
    image, filters = f32(image), f32(filters)
    K, F, _ = filters.shape
    H, W = image.shape
    out = torch.zeros(H - F + 1, W - F + 1, K, dtype=F32)
    for i in range(H - F + 1):
        for j in range(W - F + 1):
            out[i, j] = (filters * image[i : i + F, j : j + F]).sum(dim=(1, 2))
    return out


def relu(x):
    return torch.relu(f32(x)).tolist()


def maxpool2d(x, k=2):
    return _maxpool(f32(x), k)


def shift_left(image):
    image = f32(image)
    shifted = torch.zeros_like(image)
    shifted[:, :-1] = image[:, 1:]
    return shifted


def count_changed_after_shift(image, filters):
    before = maxpool2d(relu(conv2d(image, filters)))
    after = maxpool2d(relu(conv2d(shift_left(image).tolist(), filters)))
    return int((before != after).sum())


# Exercise 4

OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sin": torch.sin,
    "square": lambda a: a**2,
}


def reverse_mode(graph, values, output):
    nodes = {}
    for name, op, parents in graph:
        if op == "input":
            nodes[name] = f32(values[name]).requires_grad_()
        else:
            nodes[name] = OPS[op](*(nodes[p] for p in parents))
            nodes[name].retain_grad()
    nodes[output].backward()
    return {name: 0.0 if x.grad is None else x.grad.item() for name, x in nodes.items()}


def sheet_graph():
    # f(x1, x2, theta) = f6(f3(f2(f1(x1, theta), x2)), f5(theta, f4(x2)))
    return [
        ("x1", "input", ()),
        ("x2", "input", ()),
        ("theta", "input", ()),
        ("f1", "mul", ("x1", "theta")),
        ("f2", "add", ("f1", "x2")),
        ("f3", "sin", ("f2",)),
        ("f4", "square", ("x2",)),
        ("f5", "mul", ("theta", "f4")),
        ("f6", "add", ("f3", "f5")),
    ]
