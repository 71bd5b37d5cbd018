"""Sheet 7, a correct submission in another style: torch autograd does every derivative
(the convnets and reverse mode alike), torch's own conv and pooling ops, float32 where the
values are small integers, tensors, lists and torch.Size as return values."""

import torch
import torch.nn.functional as F

F64 = torch.float64


def t(a, dtype=F64):
    return torch.as_tensor(a, dtype=dtype)


def hidden(I, w, b):
    """σ(conv) as (K, H', W'): torch wants channels first and filters (K, C, F, F)."""
    a = F.conv2d(I.permute(2, 0, 1)[None], w.permute(3, 2, 0, 1), bias=b)[0]
    return torch.sigmoid(a)


def weight_grad(output, I, w, b, v, y_hat):
    I, b, v, y_hat = t(I), t(b), t(v), t(y_hat)
    w = t(w).requires_grad_()
    loss = 0.5 * ((y_hat - output(I, w, b, v)) ** 2).sum()
    loss.backward()
    return w.grad


def conv_net_grad(I, w, b, v, y_hat):
    return weight_grad(
        lambda I, w, b, v: torch.einsum("kij,ijko->o", hidden(I, w, b), v), I, w, b, v, y_hat
    )


def dense_net_grad(I, w, b, v, y_hat):
    def output(I, w, b, v):
        h = torch.sigmoid(torch.einsum("xyc,xyck->k", I, w) + b)
        return h @ v

    return weight_grad(output, I, w, b, v, y_hat)


def conv_pool_net_grad(I, w, b, v, y_hat):
    def output(I, w, b, v):
        pooled = F.max_pool2d(hidden(I, w, b)[None], kernel_size=2)[0]  # floor mode drops
        return torch.einsum("kpq,pqko->o", pooled, v)

    return weight_grad(output, I, w, b, v, y_hat)


def conv_output_shape(n, c, k, f, s, p):
    if min(n, c, k, f, s) < 1 or p < 0 or f > n + 2 * p:
        raise ValueError(f"no valid convolution for n={n}, c={c}, k={k}, f={f}, s={s}, p={p}")
    out = F.conv2d(torch.zeros(1, c, n, n), torch.zeros(k, c, f, f), stride=s, padding=p)
    return torch.Size([out.shape[3], out.shape[2], out.shape[1]])  # (width, height, depth)


def same_padding(f):
    if f < 1 or f % 2 == 0:
        raise ValueError("even filters have no symmetric 'same' padding")
    return torch.tensor((f - 1) // 2)


def conv2d(image, filters):
    out = F.conv2d(t(image)[None, None], t(filters)[:, None])[0]
    return out.permute(1, 2, 0)


def relu(x):
    return torch.relu(t(x, torch.float32))


def maxpool2d(x, k=2):
    pooled = F.max_pool2d(t(x, torch.float32).permute(2, 0, 1), kernel_size=k)
    return pooled.permute(1, 2, 0)


def shift_left(image):
    image = t(image, torch.float32)
    return torch.cat([image[:, 1:], torch.zeros(image.shape[0], 1)], dim=1)


def count_changed_after_shift(image, filters):
    def pooled(img):
        return maxpool2d(relu(conv2d(img, filters)))

    return (pooled(image) != pooled(shift_left(image))).sum()


OPS = {"add": torch.add, "mul": torch.mul, "sin": torch.sin, "square": torch.square}


def reverse_mode(graph, values, output):
    node = {}
    for name, op, parents in graph:
        if op == "input":
            node[name] = torch.tensor(values[name], dtype=F64, requires_grad=True)
        else:
            node[name] = OPS[op](*(node[p] for p in parents))
            node[name].retain_grad()
    node[output].backward()
    return {name: 0.0 if x.grad is None else x.grad for name, x in node.items()}


def sheet_graph():
    return [
        ["theta", "input", []],
        ["x2", "input", []],
        ["f4", "mul", ["x2", "x2"]],
        ["f5", "mul", ["f4", "theta"]],
        ["x1", "input", []],
        ["f1", "mul", ["theta", "x1"]],
        ["f2", "add", ["x2", "f1"]],
        ["f3", "sin", ["f2"]],
        ["f6", "add", ["f5", "f3"]],
    ]
