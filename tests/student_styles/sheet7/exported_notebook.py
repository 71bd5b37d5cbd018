#!/usr/bin/env python
# coding: utf-8

# A notebook saved as .py by Jupyter ("Download as Python"): magics became get_ipython() calls.

# # Week 7: CNNs
# 
# *Student:* B. Student

# In[1]:

get_ipython().run_line_magic('load_ext', 'autoreload')
get_ipython().run_line_magic('autoreload', '2')
get_ipython().run_line_magic('matplotlib', 'inline')
get_ipython().system('pip install numpy')
get_ipython().run_cell_magic('bash', '', 'echo this is not python\n')
import numpy as np
import math
np.random.seed(42)


# ## Exercise 1
# Backprop through conv, σ and a linear layer.

# In[2]:

def sigmoid(a):
    return np.exp(-np.logaddexp(0, -a))

def conv_forward(I, w, b):
    F = w.shape[0]
    H, W, C = I.shape
    out = np.zeros((H - F + 1, W - F + 1, w.shape[3]))
    for i in range(H - F + 1):
        for j in range(W - F + 1):
            out[i, j, :] = np.einsum("xyc,xyck->k", I[i:i+F, j:j+F], w) + b
    return out

def conv_weight_grad(I, delta, F):
    g = np.zeros((F, F, I.shape[2], delta.shape[2]))
    for x in range(F):
        for y in range(F):
            window = I[x:x + delta.shape[0], y:y + delta.shape[1], :]
            g[x, y] = np.einsum("ijc,ijk->ck", window, delta)
    return g

def conv_net_grad(I, w, b, v, y_hat):
    h = sigmoid(conv_forward(I, w, b))
    y = np.einsum("ijko,ijk->o", v, h)
    dL_dy = -(y_hat - y)
    dL_dh = np.einsum("ijko,o->ijk", v, dL_dy)
    return conv_weight_grad(I, dL_dh * h * (1 - h), w.shape[0])

def dense_net_grad(I, w, b, v, y_hat):
    H, W, C, K = w.shape
    a = b + I.reshape(-1) @ w.reshape(-1, K)
    h = sigmoid(a)
    y = v.T @ h
    delta = v @ (y - y_hat) * h * (1 - h)
    return np.outer(I.reshape(-1), delta).reshape(H, W, C, K)

def conv_pool_net_grad(I, w, b, v, y_hat):
    h = sigmoid(conv_forward(I, w, b))
    P, Q = v.shape[:2]
    dL_dh = np.zeros_like(h)
    pooled = np.zeros((P, Q, h.shape[2]))
    for p in range(P):
        for q in range(Q):
            win = h[2*p:2*p+2, 2*q:2*q+2]  # (2, 2, K)
            pooled[p, q] = win.max(axis=(0, 1))
    y = np.einsum("pqko,pqk->o", v, pooled)
    g = np.einsum("pqko,o->pqk", v, y - y_hat)
    for p in range(P):
        for q in range(Q):
            for k in range(h.shape[2]):
                win = h[2*p:2*p+2, 2*q:2*q+2, k]
                i, j = divmod(int(win.argmax()), 2)
                dL_dh[2*p+i, 2*q+j, k] = g[p, q, k]
    return conv_weight_grad(I, dL_dh * h * (1 - h), w.shape[0])

rng = np.random.default_rng(0)
print(conv_net_grad(rng.normal(size=(4, 4, 1)), rng.normal(size=(2, 2, 1, 1)), np.zeros(1), rng.normal(size=(3, 3, 1, 2)), np.ones(2)))


# ## Exercise 2

# In[3]:

def conv_output_shape(n, c, k, f, s, p):
    for name, val in dict(n=n, c=c, k=k, f=f, s=s).items():
        if val < 1:
            raise ValueError(f"{name} must be at least 1")
    if p < 0:
        raise ValueError("negative padding")
    if f > n + 2*p:
        raise ValueError("filter does not fit")
    o = (n + 2*p - f) // s + 1
    return np.int64(o), np.int64(o), np.int64(k)

def same_padding(f):
    if f < 1 or not f % 2:
        raise ValueError("even filter")
    return int((f - 1) / 2)

conv_output_shape(n=4, c=1, k=1, f=3, s=1, p=same_padding(3))


# ## Exercise 3

# In[4]:

image = np.array([[0,0,0,0,0,0],[0,1,2,0,3,0],[0,1,2,0,1,0],[0,4,1,1,2,0],[0,0,0,2,1,0],[0,0,0,0,0,0]], float)
f1 = np.array([[0,1,0],[1,0,1],[0,1,0]], float)
f2 = np.array([[0,1,1],[0,1,0],[1,1,0]], float)

display(image)

def conv2d(image, filters):
    K, F, _ = filters.shape
    H, W = image.shape
    return np.array([[[np.sum(image[i:i+F, j:j+F] * filters[k]) for k in range(K)]
                      for j in range(W - F + 1)] for i in range(H - F + 1)])

def relu(x):
    return np.clip(x, 0, None)

def maxpool2d(x, k=2):
    H, W, K = x.shape
    return np.array([[x[i*k:(i+1)*k, j*k:(j+1)*k].max(axis=(0, 1)) for j in range(W // k)]
                     for i in range(H // k)])

def shift_left(image):
    return np.hstack([image[:, 1:], np.zeros((image.shape[0], 1))])

def count_changed_after_shift(image, filters):
    out = lambda im: maxpool2d(relu(conv2d(im, filters)), k=2)
    return (out(image) != out(shift_left(image))).sum().item()

print(count_changed_after_shift(image, np.stack([f1, f2])))


# ## Exercise 4

# In[5]:

get_ipython().run_cell_magic('time', '', 'def reverse_mode(graph, values, output):\n    val = {}\n    for name, op, parents in graph:\n        args = [val[q] for q in parents]\n        val[name] = {"input": lambda: values[name], "add": lambda: args[0] + args[1],\n                     "mul": lambda: args[0] * args[1], "sin": lambda: math.sin(args[0]),\n                     "square": lambda: args[0] ** 2}[op]()\n    t = {name: 0.0 for name in val}\n    t[output] = 1.0\n    for name, op, parents in reversed(graph):\n        if op == "input":\n            continue\n        local = {"add": lambda a, b: [1.0, 1.0], "mul": lambda a, b: [b, a],\n                 "sin": lambda a: [math.cos(a)], "square": lambda a: [2 * a]}[op](*[val[q] for q in parents])\n        for q, d in zip(parents, local):\n            t[q] += d * t[name]\n    return t\n\ndef sheet_graph():\n    return [("x1", "input", []), ("x2", "input", []), ("theta", "input", []),\n            ("f1", "mul", ["x1", "theta"]), ("f2", "add", ["f1", "x2"]), ("f3", "sin", ["f2"]),\n            ("f4", "square", ["x2"]), ("f5", "mul", ["theta", "f4"]), ("f6", "add", ["f3", "f5"])]\n')


# In[6]:

t = reverse_mode(sheet_graph(), {"x1": 0.3, "x2": -1.2, "theta": 0.7}, "f6")
t["theta"], 0.3 * math.cos(0.7 * 0.3 - 1.2) + 1.2**2

