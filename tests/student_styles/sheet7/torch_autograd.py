"""Sheet 7 with torch: conv2d/max_pool2d layers and autograd; answers are tensors."""

import torch
import torch.nn.functional as F


def _t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def _conv(I, w, b):
    # I (H, W, C) -> (1, C, H, W); w (F, F, C, K) -> (K, C, F, F)
    a = F.conv2d(I.permute(2, 0, 1)[None], w.permute(3, 2, 0, 1), b)
    return a[0].permute(1, 2, 0)  # (H', W', K)


def conv_net_grad(I, w, b, v, y_hat):
    w = _t(w, grad=True)
    h = torch.sigmoid(_conv(_t(I), w, _t(b)))
    y = torch.einsum("ijko,ijk->o", _t(v), h)
    L = 0.5 * ((_t(y_hat) - y) ** 2).sum()
    L.backward()
    return w.grad


def dense_net_grad(I, w, b, v, y_hat):
    w = _t(w, grad=True)
    a = _t(b) + torch.einsum("xyc,xyck->k", _t(I), w)
    y = torch.sigmoid(a) @ _t(v)
    L = 0.5 * torch.sum((_t(y_hat) - y) ** 2)
    (g,) = torch.autograd.grad(L, w)
    return g


def conv_pool_net_grad(I, w, b, v, y_hat):
    w = _t(w, grad=True)
    h = torch.sigmoid(_conv(_t(I), w, _t(b)))
    pooled = F.max_pool2d(h.permute(2, 0, 1), 2).permute(1, 2, 0)  # floor mode drops odd edges
    y = torch.einsum("pqko,pqk->o", _t(v), pooled)
    L = 0.5 * ((_t(y_hat) - y) ** 2).sum()
    L.backward()
    return w.grad.detach()


def conv_output_shape(n, c, k, f, s, p):
    if n < 1 or c < 1 or k < 1 or f < 1 or s < 1 or p < 0 or f > n + 2 * p:
        raise ValueError(f"bad volume: {(n, c, k, f, s, p)}")
    out = torch.div(torch.tensor(n + 2 * p - f), s, rounding_mode="floor") + 1
    return out, out, torch.tensor(k)  # 0-d integer tensors


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("same padding needs an odd f >= 1")
    return torch.tensor((f - 1) // 2)


def conv2d(image, filters):
    x = torch.as_tensor(image)[None, None]
    out = F.conv2d(x, torch.as_tensor(filters)[:, None])
    return out[0].permute(1, 2, 0)


def relu(x):
    return torch.relu(torch.as_tensor(x))


def maxpool2d(x, k=2):
    x = torch.as_tensor(x).permute(2, 0, 1)
    return F.max_pool2d(x, kernel_size=k, stride=k).permute(1, 2, 0)


def shift_left(image):
    img = torch.as_tensor(image)
    out = torch.zeros_like(img)
    out[:, :-1] = img[:, 1:]
    return out


def count_changed_after_shift(image, filters):
    before = maxpool2d(relu(conv2d(image, filters)))
    after = maxpool2d(relu(conv2d(shift_left(image), filters)))
    return (before != after).sum()


def reverse_mode(graph, values, output):
    """Build the graph in torch and let autograd give every node's total derivative."""
    node = {}
    for name, op, parents in graph:
        p = [node[q] for q in parents]
        if op == "input":
            node[name] = torch.tensor(float(values[name]), dtype=torch.float64, requires_grad=True)
        elif op == "add":
            node[name] = p[0] + p[1]
        elif op == "mul":
            node[name] = p[0] * p[1]
        elif op == "sin":
            node[name] = torch.sin(p[0])
        else:
            node[name] = p[0] ** 2
        node[name].retain_grad()
    node[output].backward()
    return {name: (n.grad if n.grad is not None else torch.tensor(0.0)) for name, n in node.items()}


def sheet_graph():
    return [
        ["x1", "input", []],
        ["x2", "input", []],
        ["theta", "input", []],
        ["f1", "mul", ["theta", "x1"]],
        ["f2", "add", ["x2", "f1"]],
        ["f3", "sin", ["f2"]],
        ["f4", "square", ["x2"]],
        ["f5", "mul", ["f4", "theta"]],
        ["f6", "add", ["f5", "f3"]],
    ]
