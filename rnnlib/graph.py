"""Computational graphs and reverse-mode automatic differentiation.

Taught in the chapter "Computational graphs" and used again in
"Recurrence and unfolding" to draw the unfolded RNN.

A computational graph has two kinds of nodes: *variables* (arrays: inputs, parameters, constants
and intermediate values) and *operations* (simple functions of one or more variables). Building an
expression from :class:`Variable` objects records the graph as it computes the values (the
forward pass, in topological order)::

    u_i = f_i(inputs of u_i)

:meth:`Variable.backward` then runs the backward pass in reverse topological order. Each
operation's ``backward`` (written beside its ``forward``) turns the gradient of the loss with
respect to its output into gradients with respect to its inputs, and a variable used by several
operations *sums* what it receives (the multivariable chain rule)::

    dJ/du_j = sum over operations i that use u_j of  (dJ/du_i) (du_i/du_j)

The lecture's four examples::

    (a) z = x * y                      z = x * y
    (b) y_hat = sigma(x^T w + b)       y_hat = sigmoid(dot(x, w) + b)
    (c) H = max{0, X W + b}            H = relu(matmul(X, W) + b)
    (d) w used twice                   y_hat = dot(x, w);  penalty = lam * sum(square(w))

:func:`unroll_rnn` builds the unfolded graph of a vanilla RNN (lecture notation, batched rows),

    a^(t) = b + W h^(t-1) + U x^(t),  h^(t) = tanh(a^(t)),  o^(t) = c + V h^(t),
    L^(t) = (1/B) sum_b -log softmax(o^(t))[y^(t)],  J = sum_t L^(t),

with W, U, V, b and c as single shared nodes feeding every step. :func:`draw` draws any graph
as SVG, laid out by Graphviz ``dot`` (:mod:`rnnlib.diagrams.graphs`); without Graphviz it falls
back to :func:`layout`, a layered left-to-right layout, with one warning.
"""

from __future__ import annotations


import numpy as np

__all__ = [
    "Variable", "Operation", "variable", "parameter", "constant",
    "add", "sub", "mul", "neg", "matmul", "dot", "matvec", "transpose", "square", "sum", "mean",
    "exp", "log", "sigmoid", "tanh", "relu", "identity", "softmax_cross_entropy",
    "topological_order", "graph_nodes", "receives_gradient", "equations", "unroll_rnn",
    "UnrolledRNN", "layout", "draw",
]

KINDS = ("input", "parameter", "constant", "intermediate")


# --------------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------------
class Variable:
    """A variable node: an array ``value``, its gradient ``grad`` after a backward pass, and the
    operation ``creator`` that produced it (None for a leaf: input, parameter or constant).

    Arithmetic with ``+ - * @``, unary ``-``, ``.T``, ``.sum()`` and ``** 2`` builds new nodes.
    """

    _counter = 0

    def __init__(self, value, name=None, kind="input", requires_grad=None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {type(name).__name__}")
        array = np.asarray(value)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                         or array.dtype == bool):
            raise TypeError(f"value must be numeric, got an array of dtype {array.dtype}")
        if kind != "constant" and not np.issubdtype(array.dtype, np.floating):
            array = array.astype(np.float64)
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise ValueError(f"value of {name or 'variable'} contains NaN or inf")
        self.value = array                      # the array this node holds
        self.grad = None                        # dJ/d(this node) after backward(), same shape
        self.creator = None                     # the Operation that produced it, or None
        self.name = name
        self.kind = kind
        self.requires_grad = (kind != "constant") if requires_grad is None else bool(requires_grad)
        Variable._counter += 1
        self.id = Variable._counter             # creation order, used to order drawings

    # --- convenience ---------------------------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def T(self):
        return transpose(self)

    def __repr__(self):
        label = self.name or f"<{self.creator.symbol if self.creator else self.kind}>"
        return f"Variable({label}, shape={self.value.shape}, kind={self.kind})"

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return neg(self)

    def __pow__(self, power):
        if power != 2:
            raise ValueError(f"only ** 2 is supported (the 'sqr' operation), got ** {power!r}")
        return square(self)

    def sum(self, axis=None):
        return sum(self, axis=axis)

    # --- the backward pass ------------------------------------------------------------------
    def backward(self, grad=None):
        """Reverse-mode differentiation of this node with respect to every node it depends on.

        Resets ``grad`` of every node in the graph, sets dJ/dJ = 1 (or ``grad``), then visits
        the operations in reverse topological order, adding each input's share. Nodes that
        receive no gradient (constants, or unused) keep ``grad = None``.
        """
        if grad is None:
            if self.value.size != 1:
                raise ValueError("backward() without grad needs a scalar output; "
                                 f"this node has shape {self.value.shape}")
            grad = np.ones_like(self.value, dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != self.value.shape:
            raise ValueError(f"grad must have the output's shape {self.value.shape}, "
                             f"got {grad.shape}")
        order = topological_order(self)
        for node in order:
            node.grad = None
        self.grad = grad
        for node in reversed(order):
            op = node.creator
            if op is None or node.grad is None:
                continue
            input_grads = op.backward(node.grad, node.value, *[u.value for u in op.inputs])
            for u, g in zip(op.inputs, input_grads):
                if g is None or not u.requires_grad:
                    continue
                g = _unbroadcast(np.asarray(g, dtype=np.float64), u.value.shape)
                u.grad = g if u.grad is None else u.grad + g    # sum over every use of u
        return self


def variable(value, name=None):
    """An input variable (receives a gradient, like x in the lecture's examples)."""
    return Variable(value, name=name, kind="input")


def parameter(value, name=None):
    """A parameter (a weight or bias the loss is minimised over)."""
    return Variable(value, name=name, kind="parameter")


def constant(value, name=None):
    """A constant (a number or target that receives no gradient)."""
    return Variable(value, name=name, kind="constant")


def _as_variable(x):
    if isinstance(x, Variable):
        return x
    if isinstance(x, (int, float, np.integer, np.floating)):
        return Variable(float(x), name=f"{float(x):g}", kind="constant")
    if isinstance(x, np.ndarray):
        return Variable(x, name=None, kind="constant")
    raise TypeError(f"expected a Variable, a number or a NumPy array, got {type(x).__name__}")


def _unbroadcast(g, shape):
    """Sum a gradient over the axes NumPy broadcast, so it has the input's ``shape``."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.reshape(shape)


# --------------------------------------------------------------------------------------------
# Operations: each forward with its backward beside it
# --------------------------------------------------------------------------------------------
class Operation:
    """An operation node. Subclasses set ``symbol`` (drawn in the graph) and define

    - ``forward(*inputs) -> output`` on plain arrays, and
    - ``backward(d_out, out, *inputs) -> tuple of d_input`` (None for an input with no
      gradient), the chain rule for this one operation.

    Gradients for broadcast inputs are summed back to the input's shape by the engine.
    """

    symbol = "op"

    def __init__(self, **attrs):
        self.attrs = attrs
        self.inputs = ()
        self.output = None
        Variable._counter += 1
        self.id = Variable._counter

    def forward(self, *inputs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, d_out, out, *inputs):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"Operation({self.symbol})"

    def apply(self, *inputs, name=None):
        inputs = tuple(_as_variable(u) for u in inputs)
        value = self.forward(*[u.value for u in inputs])
        out = Variable(value, name=name, kind="intermediate",
                       requires_grad=any(u.requires_grad for u in inputs))
        out.creator = self
        self.inputs = inputs
        self.output = out
        return out


def _shapes(*arrays):
    return ", ".join(str(a.shape) for a in arrays)


def _broadcast_check(symbol, *values):
    try:
        np.broadcast_shapes(*[v.shape for v in values])
    except ValueError:
        raise ValueError(f"'{symbol}': input shapes {_shapes(*values)} do not broadcast "
                         "together") from None


class Add(Operation):
    """z = u_1 + u_2 + ... (any number of terms, broadcasting).  dz/du_i = 1."""
    symbol = "+"

    def forward(self, *terms):
        _broadcast_check(self.symbol, *terms)
        z = terms[0]
        for u in terms[1:]:
            z = z + u                                             # z: broadcast shape
        return z

    def backward(self, dz, z, *terms):
        return tuple(dz for _ in terms)                           # each: z's shape


class Sub(Operation):
    """z = x - y.  dz/dx = 1, dz/dy = -1."""
    symbol = "−"

    def forward(self, x, y):
        _broadcast_check(self.symbol, x, y)
        return x - y

    def backward(self, dz, z, x, y):
        return dz, -dz


class Mul(Operation):
    """z = x * y (elementwise, broadcasting).  dz/dx = y, dz/dy = x."""
    symbol = "×"

    def forward(self, x, y):
        _broadcast_check(self.symbol, x, y)
        return x * y

    def backward(self, dz, z, x, y):
        return dz * y, dz * x


class Neg(Operation):
    """z = -x.  dz/dx = -1."""
    symbol = "−"

    def forward(self, x):
        return -x

    def backward(self, dz, z, x):
        return (-dz,)


def _as_matrix(A, B):
    """View 1-D operands of a product as a row (left) or a column (right) matrix."""
    A2 = A[None, :] if A.ndim == 1 else A                          # (n, k)
    B2 = B[:, None] if B.ndim == 1 else B                          # (k, p)
    return A2, B2


class MatMul(Operation):
    """Z = A B (matrix product; 1-D operands act as a row / column).
    dJ/dA = dJ/dZ B^T,  dJ/dB = A^T dJ/dZ."""
    symbol = "matmul"

    def forward(self, A, B):
        if A.ndim not in (1, 2) or B.ndim not in (1, 2):
            raise ValueError(f"'{self.symbol}' takes 1-D or 2-D arrays, got shapes "
                             f"{_shapes(A, B)}")
        if A.shape[-1] != B.shape[0]:
            raise ValueError(f"'{self.symbol}': inner dimensions differ: A has shape {A.shape}, "
                             f"B has shape {B.shape}")
        return A @ B

    def backward(self, dZ, Z, A, B):
        A2, B2 = _as_matrix(A, B)                                  # (n, k), (k, p)
        dZ2 = dZ.reshape(A2.shape[0], B2.shape[1])                 # (n, p)
        dA = (dZ2 @ B2.T).reshape(A.shape)                         # A's shape
        dB = (A2.T @ dZ2).reshape(B.shape)                         # B's shape
        return dA, dB


class Dot(MatMul):
    """u = x^T w for vectors x, w.  du/dx = w, du/dw = x."""
    symbol = "dot"

    def forward(self, x, w):
        if x.ndim != 1 or w.ndim != 1 or x.shape != w.shape:
            raise ValueError(f"'dot' takes two vectors of the same length, got shapes "
                             f"{_shapes(x, w)}")
        return np.dot(x, w)

    def backward(self, du, u, x, w):
        return du * w, du * x


class MatVec(Operation):
    """z = W v for a vector v (m,), or for each row of a batch v (B, m): z = v W^T.
    dJ/dW = sum over the batch of dJ/dz v^T,  dJ/dv = W^T dJ/dz."""
    symbol = "matmul"

    def forward(self, W, v):
        if W.ndim != 2 or v.ndim not in (1, 2) or v.shape[-1] != W.shape[1]:
            raise ValueError(f"'matvec' needs W (n, m) and v (m,) or (B, m); got W {W.shape}, "
                             f"v {v.shape}")
        return v @ W.T                                             # (n,) or (B, n)

    def backward(self, dz, z, W, v):
        dz2, v2 = np.atleast_2d(dz), np.atleast_2d(v)              # (B, n), (B, m)
        dW = dz2.T @ v2                                            # (n, m)
        dv = dz @ W                                                # v's shape
        return dW, dv


class Transpose(Operation):
    """Z = A^T.  dJ/dA = (dJ/dZ)^T."""
    symbol = "ᵀ"

    def forward(self, A):
        return A.T

    def backward(self, dZ, Z, A):
        return (dZ.T,)


class Square(Operation):
    """z = x^2 elementwise.  dz/dx = 2x."""
    symbol = "sqr"

    def forward(self, x):
        return x * x

    def backward(self, dz, z, x):
        return (2.0 * x * dz,)


class Sum(Operation):
    """z = sum of the entries of x (over ``axis``, all by default).  dz/dx_i = 1."""
    symbol = "sum"

    def forward(self, x):
        return np.sum(x, axis=self.attrs.get("axis"))

    def backward(self, dz, z, x):
        axis = self.attrs.get("axis")
        if axis is not None:
            dz = np.expand_dims(dz, axis)
        return (np.broadcast_to(dz, x.shape).copy(),)


class Mean(Operation):
    """z = mean of the entries of x (over ``axis``).  dz/dx_i = 1/n."""
    symbol = "mean"

    def forward(self, x):
        return np.mean(x, axis=self.attrs.get("axis"))

    def backward(self, dz, z, x):
        axis = self.attrs.get("axis")
        n = x.size if axis is None else x.shape[axis]
        if axis is not None:
            dz = np.expand_dims(dz, axis)
        return (np.broadcast_to(dz / n, x.shape).copy(),)


class Exp(Operation):
    """z = exp(x).  dz/dx = exp(x) = z."""
    symbol = "exp"

    def forward(self, x):
        return np.exp(x)

    def backward(self, dz, z, x):
        return (dz * z,)


class Log(Operation):
    """z = log(x).  dz/dx = 1/x."""
    symbol = "log"

    def forward(self, x):
        if np.any(x <= 0):
            raise ValueError("'log' needs positive inputs")
        return np.log(x)

    def backward(self, dz, z, x):
        return (dz / x,)


class Sigmoid(Operation):
    """z = sigma(x) = 1 / (1 + exp(-x)).  dz/dx = z (1 - z)."""
    symbol = "σ"

    def forward(self, x):
        return 0.5 * (1.0 + np.tanh(0.5 * x))                     # stable sigma(x)

    def backward(self, dz, z, x):
        return (dz * z * (1.0 - z),)


class Tanh(Operation):
    """z = tanh(x).  dz/dx = 1 - z^2."""
    symbol = "tanh"

    def forward(self, x):
        return np.tanh(x)

    def backward(self, dz, z, x):
        return (dz * (1.0 - z * z),)


class ReLU(Operation):
    """z = max{0, x}.  dz/dx = 1 where x > 0, else 0."""
    symbol = "relu"

    def forward(self, x):
        return np.maximum(0.0, x)

    def backward(self, dz, z, x):
        return (dz * (x > 0),)


class Identity(Operation):
    """z = x.  dz/dx = 1."""
    symbol = "id"

    def forward(self, x):
        return x.copy()

    def backward(self, dz, z, x):
        return (dz,)


class SoftmaxCrossEntropy(Operation):
    """L = (1/B) sum_b -log softmax(o_b)[y_b] for logits o (B, C) or (C,) and integer targets y.
    dL/do = (softmax(o) - onehot(y)) / B;  y receives no gradient."""
    symbol = "loss"

    def forward(self, o, y):
        if o.ndim not in (1, 2):
            raise ValueError(f"'loss' needs logits o of shape (C,) or (B, C), got {o.shape}")
        o2 = np.atleast_2d(o)                                      # (B, C)
        y1 = np.atleast_1d(y)                                      # (B,)
        if y1.shape != (o2.shape[0],):
            raise ValueError(f"'loss': targets y must have shape {(o2.shape[0],)}, got {y1.shape}")
        if not np.issubdtype(y1.dtype, np.integer):
            raise TypeError(f"'loss': targets y must be integers, got dtype {y1.dtype}")
        if np.any(y1 < 0) or np.any(y1 >= o2.shape[1]):
            raise ValueError(f"'loss': targets y must lie in [0, {o2.shape[1]}), got "
                             f"[{y1.min()}, {y1.max()}]")
        shifted = o2 - o2.max(axis=1, keepdims=True)               # (B, C)
        log_y_hat = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (B, C)
        B = o2.shape[0]
        return -log_y_hat[np.arange(B), y1].sum() / B             # scalar

    def backward(self, dL, L, o, y):
        o2 = np.atleast_2d(o)                                      # (B, C)
        y1 = np.atleast_1d(y)                                      # (B,)
        B = o2.shape[0]
        y_hat = np.exp(o2 - o2.max(axis=1, keepdims=True))         # (B, C)
        y_hat /= y_hat.sum(axis=1, keepdims=True)
        y_hat[np.arange(B), y1] -= 1.0
        return (dL * y_hat / B).reshape(o.shape), None             # do: o's shape


def add(*terms, name=None):
    """u_1 + u_2 + ... (one '+' node however many terms)."""
    if len(terms) < 2:
        raise ValueError(f"add needs at least 2 terms, got {len(terms)}")
    return Add().apply(*terms, name=name)


def sub(x, y, name=None):
    return Sub().apply(x, y, name=name)


def mul(x, y, name=None):
    return Mul().apply(x, y, name=name)


def neg(x, name=None):
    return Neg().apply(x, name=name)


def matmul(A, B, name=None):
    return MatMul().apply(A, B, name=name)


def dot(x, w, name=None):
    """x^T w for two vectors."""
    return Dot().apply(x, w, name=name)


def matvec(W, v, name=None):
    """W v, applied to every row of a batch v (B, m): v W^T."""
    return MatVec().apply(W, v, name=name)


def transpose(A, name=None):
    return Transpose().apply(A, name=name)


def square(x, name=None):
    return Square().apply(x, name=name)


def _check_axis(x, axis):
    """axis: None or an int that names an axis of x (negative counts from the end)."""
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be None or an int, got {type(axis).__name__} {axis!r}")
    ndim = _as_variable(x).value.ndim
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis must be in [{-ndim}, {ndim}) for an input of shape "
                         f"{_as_variable(x).shape}, got {axis}")
    return int(axis)


def sum(x, axis=None, name=None):  # noqa: A001 - the lecture's name for the operation
    return Sum(axis=_check_axis(x, axis)).apply(x, name=name)


def mean(x, axis=None, name=None):
    return Mean(axis=_check_axis(x, axis)).apply(x, name=name)


def exp(x, name=None):
    return Exp().apply(x, name=name)


def log(x, name=None):
    return Log().apply(x, name=name)


def sigmoid(x, name=None):
    return Sigmoid().apply(x, name=name)


def tanh(x, name=None):
    return Tanh().apply(x, name=name)


def relu(x, name=None):
    """max{0, x}."""
    return ReLU().apply(x, name=name)


def identity(x, name=None):
    return Identity().apply(x, name=name)


def softmax_cross_entropy(o, y, name=None):
    """(1/B) sum_b -log softmax(o_b)[y_b]; y (integers) becomes a constant node."""
    if not isinstance(y, Variable):
        y = constant(np.asarray(y), name="y")
    return SoftmaxCrossEntropy().apply(o, y, name=name)


ACTIVATIONS = {"tanh": tanh, "relu": relu, "identity": identity, "sigmoid": sigmoid}


# --------------------------------------------------------------------------------------------
# Walking the graph
# --------------------------------------------------------------------------------------------
def _check_outputs(outputs):
    if isinstance(outputs, Variable):
        return [outputs]
    if not isinstance(outputs, (list, tuple)):
        raise TypeError("outputs must be a Variable or a non-empty list of Variables, got "
                        f"{type(outputs).__name__}")
    outputs = list(outputs)
    if not outputs or not all(isinstance(v, Variable) for v in outputs):
        raise TypeError("outputs must be a Variable or a non-empty list of Variables")
    return outputs


def topological_order(outputs):
    """Every variable the ``outputs`` depend on, each after all of its inputs (iterative DFS, so
    long unrolled graphs do not hit Python's recursion limit)."""
    order, seen = [], set()
    for root in _check_outputs(outputs):
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            if node.creator is not None:
                for u in reversed(node.creator.inputs):
                    if id(u) not in seen:
                        stack.append((u, False))
    return order


def graph_nodes(outputs):
    """(variables, operations) of the graph that computes ``outputs``, in topological order."""
    variables = topological_order(outputs)
    operations = [v.creator for v in variables if v.creator is not None]
    return variables, operations


def receives_gradient(output):
    """Names of the named variables that receive a gradient from ``output`` in backprop: the
    ancestors of ``output`` that require a gradient (the output itself excluded)."""
    variables = topological_order(output)
    return {v.name for v in variables
            if v.requires_grad and v is not output and v.name is not None}


def _label(v, names):
    if v.name is not None:
        return v.name
    if v.kind == "constant" and v.value.size == 1:
        return f"{v.value.item():g}"
    return names.setdefault(id(v), f"u^({len(names) + 1})")


def equations(outputs):
    """The forward pass as lines ``name = op(inputs)`` in topological order (unnamed
    intermediates are called u^(1), u^(2), ...)."""
    variables, _ = graph_nodes(outputs)
    names, lines = {}, []
    for v in variables:
        if v.creator is None:
            continue
        args = ", ".join(_label(u, names) for u in v.creator.inputs)
        lines.append(f"{_label(v, names)} = {v.creator.symbol}({args})")
    return lines


# --------------------------------------------------------------------------------------------
# The unfolded RNN
# --------------------------------------------------------------------------------------------
class UnrolledRNN:
    """The unfolded graph of a vanilla RNN: ``params`` (dict of shared parameter nodes W, U, b
    and, with outputs, V, c), lists ``x``, ``a``, ``h`` (``h[0]`` = h^(0)), ``o``, ``L`` of
    nodes per step, and the total loss node ``J`` (None when there are no outputs)."""

    def __init__(self, params, x, a, h, o, L, J):
        self.params, self.x, self.a, self.h, self.o, self.L, self.J = params, x, a, h, o, L, J

    def gradients(self):
        """Run backprop from J and return the gradients keyed like rnn_backward's:
        W, U, V, b, c and h0."""
        if self.J is None:
            raise ValueError("this unrolled RNN has no outputs and no loss; pass targets y")
        self.J.backward()
        grads = {key: node.grad for key, node in self.params.items()}
        grads["h0"] = self.h[0].grad
        return grads


def unroll_rnn(params, x, y=None, h0=None, activation="tanh", outputs=None):
    """Unfold a vanilla RNN over the T steps of ``x`` as one computational graph.

    params: dict with W (m, m), U (m, d), b (m,) and, for outputs, V (C, m), c (C,).
    x: (T, B, d) or (T, d); y: integer targets (T, B) or (T,) (None: no loss).
    h0: (B, m) or (m,) (zeros when None). outputs: draw o^(t) (default: when V is given).
    The loss is rnn_backward's: J = sum_t (1/B) sum_b -log y_hat^(t)[b, y^(t)_b].
    W, U, V, b, c are single parameter nodes that every step uses.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    for key in ("W", "U", "b"):
        if key not in params:
            raise KeyError(f"params is missing {key!r}")
    if activation not in ("tanh", "relu", "identity"):
        raise ValueError(f"activation must be 'tanh', 'relu' or 'identity', got {activation!r}")
    for key in ("W", "U", "b", "V", "c"):
        if key in params:
            try:
                value = np.asarray(params[key], dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"params[{key!r}] must be a numeric array, got "
                                f"{type(params[key]).__name__}") from None
            if not np.all(np.isfinite(value)):
                raise ValueError(f"params[{key!r}] contains NaN or inf")
    W_, U_, b_ = (np.asarray(params[k], dtype=np.float64) for k in ("W", "U", "b"))
    if W_.ndim != 2 or W_.shape[0] != W_.shape[1]:
        raise ValueError(f"params['W'] must be square (m, m), got shape {W_.shape}")
    m = W_.shape[0]
    if U_.ndim != 2 or U_.shape[0] != m:
        raise ValueError(f"params['U'] must have shape ({m}, d), got {U_.shape}")
    if b_.shape != (m,):
        raise ValueError(f"params['b'] must have shape ({m},), got {b_.shape}")
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"x must be a numeric array, got {type(x).__name__}") from None
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or inf")
    if x.ndim == 2:
        x = x[:, None, :]
    if x.ndim != 3 or x.shape[2] != U_.shape[1]:
        raise ValueError(f"x must have shape (T, B, {U_.shape[1]}) or (T, {U_.shape[1]}), "
                         f"got {x.shape}")
    T, B, _ = x.shape
    if T == 0:
        raise ValueError("x must have at least one time step, got T = 0")
    if outputs is None:
        outputs = "V" in params
    if y is not None and not outputs:
        raise ValueError("targets y need outputs (params V and c)")
    if outputs:
        for key in ("V", "c"):
            if key not in params:
                raise KeyError(f"params is missing {key!r} (needed for outputs)")

    W = parameter(W_, "W")
    U = parameter(U_, "U")
    b = parameter(b_, "b")
    nodes = {"W": W, "U": U, "b": b}
    if outputs:
        V = parameter(np.asarray(params["V"], dtype=np.float64), "V")
        c = parameter(np.asarray(params["c"], dtype=np.float64), "c")
        nodes.update(V=V, c=c)
        if V.shape != (V.shape[0], m) or c.shape != (V.shape[0],):
            raise ValueError(f"params['V'] must be (C, {m}) and params['c'] (C,); got "
                             f"{V.shape} and {c.shape}")
    if h0 is None:
        h0 = np.zeros((B, m))
    h0 = np.asarray(h0, dtype=np.float64)
    if not np.all(np.isfinite(h0)):
        raise ValueError("h0 contains NaN or inf")
    if h0.shape == (m,):
        h0 = np.broadcast_to(h0, (B, m)).copy()
    if h0.shape != (B, m):
        raise ValueError(f"h0 must have shape ({B}, {m}) or ({m},), got {h0.shape}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 1:
            y = y[:, None]
        if y.shape != (T, B):
            raise ValueError(f"y must have shape ({T}, {B}), got {y.shape}")
        if not np.issubdtype(y.dtype, np.integer):
            raise TypeError(f"y must hold integer class indices, got dtype {y.dtype}")
        C = np.asarray(params["V"]).shape[0]
        if y.size and (y.min() < 0 or y.max() >= C):
            raise ValueError(f"y must hold classes in [0, {C}), got values from {y.min()} "
                             f"to {y.max()}")
    f = ACTIVATIONS[activation]

    h = [variable(h0, "h^(0)")]
    xs, a, o, L = [], [], [], []
    for t in range(1, T + 1):
        x_t = variable(x[t - 1], f"x^({t})")
        xs.append(x_t)
        a_t = add(b, matvec(W, h[-1]), matvec(U, x_t), name=f"a^({t})")   # b + W h + U x
        a.append(a_t)
        h.append(f(a_t, name=f"h^({t})"))
        if outputs:
            o_t = add(c, matvec(V, h[-1]), name=f"o^({t})")               # c + V h
            o.append(o_t)
            if y is not None:
                y_t = constant(y[t - 1], f"y^({t})")
                L.append(softmax_cross_entropy(o_t, y_t, name=f"L^({t})"))
    J = None
    if L:
        J = add(*L, name="J") if len(L) > 1 else identity(L[0], name="J")
    return UnrolledRNN(nodes, xs, a, h, o, L, J)


# --------------------------------------------------------------------------------------------
# Drawing: laid out by Graphviz dot (rnnlib.diagrams.graphs); layout() is the fallback
# --------------------------------------------------------------------------------------------


def layout(outputs, parameters_on_top=False):
    """Positions {node id: (x, y)} of the graph's variables and operations in rnnlib's own
    layered left-to-right layout, with the variables and operations (see :func:`_layout`).
    It is what :func:`draw` uses when Graphviz is not installed."""
    if not isinstance(parameters_on_top, bool):
        raise TypeError(f"parameters_on_top must be True or False, got {parameters_on_top!r}")
    return _layout(outputs, parameters_on_top)


def _layout(outputs, parameters_on_top):
    """Positions {node: (x, y)} for the variables and operations of the graph (arguments are
    checked by :func:`layout`).

    Layers run left to right: an operation sits one layer right of its rightmost input, its
    output one layer further; a leaf, and the result of an operation on leaves only, sits just
    left of its first user. Within a layer, nodes
    are ordered by the mean height of their neighbours (a few sweeps). With
    ``parameters_on_top``, parameter nodes go in a row above the rest, each above the mean
    position of the operations that use it (the unfolded RNN's shared weights).
    """
    variables, operations = graph_nodes(outputs)
    users = {}
    for op in operations:
        for u in op.inputs:
            users.setdefault(id(u), []).append(op)
    on_top = {id(v) for v in variables
              if parameters_on_top and v.creator is None and v.kind == "parameter"}

    layer = {}
    for v in variables:                                            # topological order
        if v.creator is not None:
            op = v.creator
            inner = [layer[id(u)] for u in op.inputs if id(u) in layer]
            layer[id(op)] = (max(inner) + 1) if inner else 1
            layer[id(v)] = layer[id(op)] + 1
        elif id(v) not in on_top:
            layer[id(v)] = 0
    # pull leaves, and results of one operation on leaves only (like U x^(t)), right, next to
    # their first user, so they sit beside the step that needs them, not all at the far left
    pure = {id(v) for v in variables
            if v.creator is None or all(u.creator is None for u in v.creator.inputs)}
    for v in reversed(variables):
        if id(v) not in pure or id(v) in on_top or id(v) not in users:
            continue
        layer[id(v)] = min(layer[id(op)] for op in users[id(v)]) - 1
        if v.creator is not None:
            layer[id(v.creator)] = layer[id(v)] - 1
    nodes = {id(n): n for n in variables + operations if id(n) not in on_top}
    neighbours = {key: [] for key in nodes}
    for op in operations:
        for u in op.inputs:
            if id(u) in nodes:
                neighbours[id(op)].append(id(u))
                neighbours[id(u)].append(id(op))
        neighbours[id(op)].append(id(op.output))
        neighbours[id(op.output)].append(id(op))
    by_layer = {}
    for key in nodes:
        by_layer.setdefault(layer[key], []).append(key)
    for keys in by_layer.values():
        keys.sort(key=lambda k: nodes[k].id)
    position = {}
    for keys in by_layer.values():
        for i, k in enumerate(keys):
            position[k] = i - (len(keys) - 1) / 2

    def place(keys):
        """Heights near each node's neighbours' mean, at least 1 apart, order kept."""
        desired = [float(np.mean([position[n] for n in neighbours[k]])) if neighbours[k]
                   else position[k] for k in keys]
        order = sorted(range(len(keys)), key=lambda i: (desired[i], nodes[keys[i]].id))
        keys[:] = [keys[i] for i in order]
        desired = [desired[i] for i in order]
        placed = []
        for want in desired:
            placed.append(want if not placed else max(want, placed[-1] + 1.0))
        shift = float(np.mean(desired) - np.mean(placed))
        for k, y in zip(keys, placed):
            position[k] = y + shift

    layers = sorted(by_layer)
    for sweep in range(6):                                         # alternate directions
        for lay in (layers if sweep % 2 == 0 else layers[::-1]):
            place(by_layer[lay])
    coords = {}
    for key, node in nodes.items():
        coords[id(node)] = (float(layer[key]), -float(position[key]))
    if on_top:
        top = max((y for _, y in coords.values()), default=0.0) + 1.5
        placed = []
        for v in variables:
            if id(v) in on_top:
                xs = [coords[id(op)][0] for op in users.get(id(v), []) if id(op) in coords]
                placed.append((float(np.mean(xs)) if xs else 0.0, v))
        placed.sort(key=lambda p: p[0])
        last = -np.inf
        for x, v in placed:
            x = max(x, last + 1.5)
            coords[id(v)] = (x, top)
            last = x
    return {key: coords[key] for key in coords}, variables, operations


def draw(outputs, show_grads=False, parameters_on_top=False, title=None, width=None,
         height=None):
    """Draw the graph computing ``outputs`` (a Variable or a list) as an SVG diagram.

    Returns an :class:`rnnlib.diagrams.Diagram`: it shows itself in Jupyter and on the book's
    pages (``.show()`` works too), ``.svg`` is the drawing and ``.alt`` describes it in words.
    Graphviz ``dot`` lays the graph out left to right. Variables have their role's shape and
    colour (inputs blue rectangles, parameters orange, constants grey dashed, intermediate
    values white circles, hidden states green circles, outputs purple, losses vermillion
    hexagons), operations are yellow ellipses with their symbol. Hovering a node shows its
    value (with ``show_grads``, also its gradient; call ``backward()`` first). ``title`` is
    shown as the caption.

    An unrolled network (:func:`unroll_rnn`) is drawn bottom to top with its steps side by
    side; each parameter the steps share is one node in a lane at the left, with one bus (a
    wire in the parameter colour) that taps into every step, and h^(t-1) reaches step t through
    the gap between the steps.

    ``parameters_on_top``: the parameters in a row above a left-to-right graph, each over the
    operations that use it. An unrolled network keeps its parameter lane at the left, so there
    the argument is ignored, with a ``GraphLayoutWarning``. ``width``: the largest width in px
    (default 660, what the book's column shows 1:1); ``height``: the largest height in px: a
    taller unrolled network is drawn with its ranks closer together; what still does not fit
    is drawn at full size with a ``GraphLayoutWarning`` (text is never shrunk below 12 px).
    Without Graphviz the layout falls back to :func:`layout`, with one warning.
    """
    outs = _check_outputs(outputs)
    if not isinstance(show_grads, bool):
        raise TypeError(f"show_grads must be True or False, got {show_grads!r}")
    if not isinstance(parameters_on_top, bool):
        raise TypeError(f"parameters_on_top must be True or False, got {parameters_on_top!r}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if height is not None and (isinstance(height, bool) or not isinstance(height, (int, float))
                               or height <= 0):
        raise ValueError(f"height must be a positive number of px or None, got {height!r}")
    from .diagrams.graphs import draw_graph

    return draw_graph(outs, show_grads=show_grads, parameters_on_top=parameters_on_top,
                      title=title, width=width, height=height)
