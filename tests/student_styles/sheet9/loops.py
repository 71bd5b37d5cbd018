# Sheet 9 with explicit loops over numpy arrays. Answers as tuples and lists, ints where the
# values are integral, np.int64 node labels, and a lattice CNN whose hidden channels are
# permuted and whose kernels are 5x5 and 1x1 (the contract only fixes input and output).
import numpy as np


def activation(name, z):
    z = np.array(z)
    out = np.zeros(z.shape, dtype=float)
    for idx in np.ndindex(z.shape):
        v = z[idx]
        if name == "threshold":
            out[idx] = 1 if v >= 0 else 0
        elif name == "sigmoid":
            if v >= 0:
                out[idx] = 1 / (1 + np.exp(-v))
            else:
                out[idx] = np.exp(v) / (1 + np.exp(v))
        elif name == "tanh":
            out[idx] = np.tanh(v)
        elif name == "relu":
            out[idx] = max(v, 0)
    if name == "threshold":
        return out.astype(int)  # 0/1 as integers
    return out


def activation_grad(name, z):
    if name == "threshold":
        return np.zeros(np.shape(z), dtype=int)
    if name == "relu":
        return (np.asarray(z) > 0).astype(np.int64)
    a = activation(name, z)
    if name == "sigmoid":
        return a * (1 - a)
    return 1 - a**2


def conv1d(x, w):
    C_in, T = x.shape
    _, C_out, S = w.shape
    rows = []
    for j in range(C_out):
        row = []
        for t in range(T - S + 1):
            acc = 0
            for i in range(C_in):
                for s in range(S):
                    acc = acc + w[i, j, s] * x[i, t + s]
            row.append(acc)
        rows.append(tuple(row))
    return tuple(rows)  # a tuple of tuples


def conv1d_weight_grad(x, dy_dz):
    C_in, T = x.shape
    C_out, T_out = dy_dz.shape
    S = T - T_out + 1
    grad = np.zeros((C_in, C_out, S))
    for i in range(C_in):
        for j in range(C_out):
            for s in range(S):
                for t in range(T_out):
                    grad[i, j, s] += dy_dz[j, t] * x[i, t + s]
    return grad


def conv1d_input_grad(w, dE_dz):
    C_in, C_out, S = w.shape
    T_out = dE_dz.shape[1]
    T = T_out + S - 1
    grad = np.zeros((C_in, T))
    for i in range(C_in):
        for tau in range(T):
            for j in range(C_out):
                for s in range(S):
                    t = tau - s
                    if 0 <= t < T_out:
                        grad[i, tau] += w[i, j, s] * dE_dz[j, t]
    return grad.tolist()


def tree_equations(bracketed):
    # shift-reduce over characters
    stack = []
    equations = []
    word = ""
    for ch in bracketed + " ":
        if ch not in "()," and not ch.isspace():
            word += ch
            continue
        if word:
            stack.append(word)
            word = ""
        if ch == ")":
            right = stack.pop()
            left = stack.pop()
            name = "a" + str(len(equations) + 1)
            equations.append([name, left, right])  # lists, not tuples
            stack.append(name)
    return equations


def recursive_forward(bracketed, emb, W, b, u):
    values = dict(emb)
    eqs = tree_equations(bracketed)
    for name, left, right in eqs:
        values[name] = np.tanh(W.dot(np.hstack((values[left], values[right]))) + b)
    root = eqs[-1][0] if eqs else bracketed.strip()
    return float(np.dot(u, values[root]))


def recursive_grad(bracketed, emb, W, b, u):
    d = b.shape[0]
    eqs = tree_equations(bracketed)
    values = dict(emb)
    for name, left, right in eqs:
        values[name] = np.tanh(W.dot(np.hstack((values[left], values[right]))) + b)
    root = eqs[-1][0] if eqs else bracketed.strip()
    delta = {root: u.copy()}
    dW = np.zeros(W.shape)
    db = np.zeros(d)
    for name, left, right in reversed(eqs):  # reverse topological order
        dz = delta[name] * (1 - values[name] ** 2)
        dW = dW + np.outer(dz, np.hstack((values[left], values[right])))
        db = db + dz
        back = W.T.dot(dz)
        for child, part in ((left, back[:d]), (right, back[d:])):
            delta[child] = delta.get(child, 0) + part
    words = [w for w in delta if w in emb and not (w.startswith("a") and w[1:].isdigit())]
    return {"W": dW, "b": db, "u": values[root], "emb": {w: delta[w] for w in words}}


def gnn_layer(A, H, W):
    N, d = H.shape
    out = np.zeros((N, W.shape[1]))
    for n in range(N):
        for o in range(W.shape[1]):
            total = 0.0
            for m in range(N):
                for k in range(d):
                    total += A[n, m] * H[m, k] * W[k, o]
            out[n, o] = total if total > 0 else 0.0
    return out


def unrolled_tree(A, node, depth):
    node = np.int64(node)
    if depth == 0:
        return [node, []]
    children = []
    for j in range(A.shape[1]):
        if A[node, j] != 0:
            children.append(unrolled_tree(A, np.int64(j), depth - 1))
    return [node, children]


def lattice_as_cnn(W):
    d = W.shape[0]
    perm = list(range(d))[::-1]  # hidden channels in reverse order
    mix = np.zeros((d, d, 1, 1))
    for o in range(d):
        for i in range(d):
            mix[perm[o], i, 0, 0] = W[i, o]  # H W, output channel o stored at perm[o]
    agg_in = np.zeros((d, d, 5, 5))
    for c in range(d):
        agg_in[perm[c], perm[c], 1, 2] = agg_in[perm[c], perm[c], 3, 2] = 1
        agg_in[perm[c], perm[c], 2, 1] = agg_in[perm[c], perm[c], 2, 3] = 1
    # second layer reads permuted channels and must give them back in order
    mix2 = np.zeros((d, d, 1, 1))
    for o in range(d):
        for i in range(d):
            mix2[perm[o], perm[i], 0, 0] = W[i, o]
    agg_out = np.zeros((d, d, 3, 3))
    for c in range(d):
        agg_out[c, perm[c], 0, 1] = agg_out[c, perm[c], 2, 1] = 1
        agg_out[c, perm[c], 1, 0] = agg_out[c, perm[c], 1, 2] = 1
    # (H W) first, then the neighbour sum: A (H W) = (A H) W
    return [("conv", mix), ("conv", agg_in), ("relu",), ("conv", mix2), ("conv", agg_out), ("relu",)]
