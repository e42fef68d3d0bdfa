"""The network: weights and biases of a fully connected feed-forward net, forward and backprop.

Layout. Layer i (0-based) maps ``sizes[i]`` inputs to ``sizes[i + 1]`` outputs. Its weights
``weights[i]`` (shape (n_in, n_out)) and biases ``biases[i]`` (shape (n_out,)) are views into
one augmented matrix ``layers[i]`` of shape (n_in + 1, n_out) whose last row is the bias, and all
``layers`` are views into one flat vector ``params``. So

- a batch with a column of ones appended multiplies ``layers[i]`` in one matrix product, and
  the gradient of weights and bias together is one product too;
- an optimiser updates every layer with a few calls on ``params``.

Gradients are those of the *mean* loss over the batch, for weights and biases alike (the
original post summed the weight gradient over the batch but averaged the bias gradient;
``Network.fit``, the post's API, keeps that convention so its learning rates mean what they did).
"""
from __future__ import annotations

import numpy as np

from .activations import Softmax, get_activation
from .losses import CrossEntropy, check_pair, get_loss, loss_value

# Activations with f(1) = 1: applied to a hidden layer's whole buffer, ones column included, they
# leave the ones in place, and a contiguous buffer is about twice as fast to work on as the view
# without its last column.
_KEEP_ONES = ("relu", "leaky_relu", "identity")


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        # Draw from NumPy's legacy global state, so the post's ``np.random.seed(1)`` still
        # makes its script repeatable.
        seed = int(np.random.randint(0, 2**31 - 1))
    return np.random.default_rng(seed)


class Network:
    """A multi-layer perceptron: ``sizes`` units per layer, ``activations`` between them.

    ``Network((64, 15, 10), (Relu, Sigmoid))`` is the original post's digits network: 64 inputs,
    15 ReLU units, 10 sigmoid outputs. Activations are classes or names ("relu", "tanh", ...).
    ``input_scale`` multiplies every input before the first layer (1/16 maps digits to 0..1).
    """

    def __init__(self, dimensions, activations, seed=None, dtype=np.float64, input_scale=1.0):
        sizes = tuple(int(d) for d in dimensions)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"need at least an input and an output size, all >= 1; got {dimensions}")
        if isinstance(activations, (str, type)):
            activations = [activations] * (len(sizes) - 1)
        acts = [get_activation(a) for a in activations]
        if len(acts) != len(sizes) - 1:
            raise ValueError(f"{len(sizes) - 1} layers need {len(sizes) - 1} activations, got {len(acts)}")
        self.sizes = sizes
        self.activations = acts
        self.dtype = np.dtype(dtype)
        self.input_scale = float(input_scale)
        self.rng = _generator(seed)
        self.mask = None  # a 0/1 vector like ``params`` for sparse nets; None: dense
        self.params = np.zeros(sum((i + 1) * o for i, o in zip(sizes[:-1], sizes[1:])), self.dtype)
        self._make_views()
        self.initialize()

    def _make_views(self):
        self.layers, start = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            size = (n_in + 1) * n_out
            self.layers.append(self.params[start:start + size].reshape(n_in + 1, n_out))
            start += size
        self.weights = [layer[:-1] for layer in self.layers]
        self.biases = [layer[-1] for layer in self.layers]
        # 1 where ``params`` holds a weight, 0 where it holds a bias (L2 applies to weights only).
        self.weight_mask = np.ones_like(self.params)
        for b in self.biases_in(self.weight_mask):
            b[...] = 0

    def summed_weight_scale(self, batch_size: int) -> np.ndarray:
        """A vector like ``params``: ``batch_size`` on weights, 1 on biases.

        Multiplying a mean gradient by it gives the original post's step: the weight gradient
        summed over the batch, the bias gradient averaged.
        """
        return np.where(self.weight_mask > 0, float(batch_size), 1.0).astype(self.dtype)

    def biases_in(self, flat):
        """The bias rows of a vector laid out like ``params``, as views."""
        out, start = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            start += (n_in + 1) * n_out
            out.append(flat[start - n_out:start])
        return out

    def layer_views(self, flat):
        """A vector laid out like ``params`` cut into (n_in + 1, n_out) views, one per layer."""
        out, start = [], 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            size = (n_in + 1) * n_out
            out.append(flat[start:start + size].reshape(n_in + 1, n_out))
            start += size
        return out

    def initialize(self):
        """He-normal weights before ReLU-family units, Glorot-uniform otherwise; zero biases."""
        for w, b, act in zip(self.weights, self.biases, self.activations):
            n_in, n_out = w.shape
            if act.init == "he":
                w[...] = self.rng.normal(0.0, np.sqrt(2.0 / n_in), w.shape)
            else:
                bound = np.sqrt(6.0 / (n_in + n_out))
                w[...] = self.rng.uniform(-bound, bound, w.shape)
            b[...] = 0
        if self.mask is not None:
            self.params *= self.mask

    # ---- inference ---------------------------------------------------------------------------

    def forward(self, x, scaled=False):
        """All layers' activations for inputs ``x`` (n, sizes[0]): a list of L + 1 arrays.

        a[0] is x times ``input_scale`` (x as given if ``scaled``), a[-1] the output.
        """
        x = np.asarray(x, dtype=self.dtype)
        a = [x if scaled else x * self.input_scale]
        with np.errstate(over="ignore", invalid="ignore"):
            for w, b, act in zip(self.weights, self.biases, self.activations):
                a.append(act.forward_(a[-1] @ w + b))
        return a

    def output(self, x):
        """The output layer's activations for ``x`` (n, sizes[0]) → (n, sizes[-1])."""
        single = np.ndim(x) == 1
        out = self.forward(np.atleast_2d(x))[-1]
        return out[0] if single else out

    def predict(self, x):
        """The output layer's activations, as in the original post (use ``classify`` for labels)."""
        return self.output(x)

    def classify(self, x):
        """The index of the largest output for each row of ``x``: (n,) ints."""
        return np.argmax(self.output(np.atleast_2d(x)), axis=1)

    @property
    def n_params(self) -> int:
        """Number of trainable parameters (non-zero entries of the mask for a sparse net)."""
        return int(self.params.size if self.mask is None else np.count_nonzero(self.mask))

    def copy(self) -> "Network":
        """An independent copy with the same weights (and a copy of the generator's state)."""
        new = object.__new__(Network)
        new.__dict__.update(self.__dict__)
        new.params = self.params.copy()
        new.mask = None if self.mask is None else self.mask.copy()
        new.rng = np.random.default_rng()
        new.rng.bit_generator.state = self.rng.bit_generator.state
        new._make_views()
        return new

    def __repr__(self):
        acts = ", ".join(a.name for a in self.activations)
        return f"Network({self.sizes}, ({acts}), params={self.n_params})"

    # ---- the original post's API -------------------------------------------------------------

    def fit(self, x, y_true, loss, epochs, batch_size, learning_rate=1e-3):
        """Train with the original post's API and update rule; returns the loss after each epoch.

        As in the post: plain SGD, reshuffled each epoch, the last incomplete batch dropped, the
        weight step summing the batch's gradients and the bias step averaging them. ``loss`` is
        ``MSE`` (correct delta), ``MSEAsPublished`` (the post's delta) or ``CrossEntropy``.
        Unlike the post it prints nothing: the returned list holds the losses.
        """
        x = np.asarray(x, dtype=self.dtype)
        y_true = np.asarray(y_true, dtype=self.dtype)
        if x.shape[0] != y_true.shape[0]:
            raise ValueError("Length of x and y arrays don't match")
        loss = get_loss(loss)
        check_pair(loss, self.activations[-1])
        ws = Backprop(self, batch_size)
        grads = ws.grads
        # Summed weight gradient = n × mean; averaged bias gradient = 1 × mean.
        step_scale = self.summed_weight_scale(batch_size) * -learning_rate
        xa = ws.with_ones(x)
        history = []
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            xs, ys = xa[order], y_true[order]
            for k in range(0, len(x) - batch_size + 1, batch_size):
                ws.gradient(xs[k:k + batch_size], ys[k:k + batch_size], loss)
                grads *= step_scale
                self.params += grads
            history.append(loss_value(loss, y_true, self.output(x), self.activations[-1]))
        return history


class Backprop:
    """Preallocated buffers and the backprop pass for one network and a maximum batch size.

    ``gradient`` writes the gradient of the mean loss over a batch (plus the L2 penalty) into a
    flat vector laid out like ``net.params``. This is the training hot path: every array it
    touches is allocated once, here, and so is a plan per batch length (the views of the
    buffers, the per-layer steps, the L2 vector), so a batch costs the NumPy calls of the math
    and little else. Where a ufunc has a slow path, the plan avoids it: ReLU compares against an
    array of zeros (a scalar operand is ~4× slower in ``np.maximum``), and softmax shifts by the
    batch's maximum and sums rows with a matrix product (row reductions over ten columns are
    slow), redoing the batch row by row in the rare case where that would underflow.
    """

    def __init__(self, net: Network, batch_size: int):
        self.net = net
        self.batch_size = int(batch_size)
        dt, n = net.dtype, self.batch_size
        # acts[i]: activations of layer i with a trailing column of ones (the bias input);
        # the output layer has no ones column.
        self.acts = [np.ones((n, s + 1), dt) for s in net.sizes[:-1]] + [np.empty((n, net.sizes[-1]), dt)]
        self.deltas = [np.empty((n, s), dt) for s in net.sizes[1:]]
        self.grads = np.empty_like(net.params)
        self._grad_views = net.layer_views(self.grads)
        self._tmp = np.empty_like(net.params)
        self._plans = {}
        # Σw² (biases excluded) of the weights the last ``gradient`` call saw, when alpha > 0:
        # what scikit-learn's per-batch loss adds as its L2 term.
        self.weight_sq = 0.0

    def with_ones(self, x):
        """``x`` (n, d) scaled by the net's input scale, with a column of ones appended: (n, d + 1)."""
        xa = np.ones((len(x), x.shape[1] + 1), self.net.dtype)
        np.multiply(x, self.net.input_scale, out=xa[:, :-1])
        return xa

    def _plan(self, n, alpha):
        """The views and steps for batches of ``n`` rows, built once per (n, alpha)."""
        plan = self._plans.get((n, alpha))
        if plan is None:
            plan = self._plans[n, alpha] = _Plan(self, n, alpha)
        return plan

    def _l2_term(self, plan):
        """(alpha / n) · w (0 on biases) in the scratch vector; sets ``weight_sq`` (Σw², biases excluded)."""
        params, tmp = self.net.params, self._tmp
        np.multiply(params, plan.l2, out=tmp)
        self.weight_sq = float(np.dot(tmp, params)) * plan.n_over_alpha
        return tmp

    def gradient(self, xa, y, loss, alpha=0.0, want_loss=False, outputs=None):
        """Gradient of the batch's mean loss w.r.t. ``net.params``, in ``self.grads``.

        xa: (n, sizes[0] + 1) inputs already scaled, with the ones column (see ``with_ones``).
        y: (n, sizes[-1]) targets. alpha: L2 strength, scaled as scikit-learn scales it
        (penalty 0.5 · alpha · Σw² / n, biases excluded). outputs: an optional (n, sizes[-1])
        array (a slice of an epoch-long buffer, say) that receives the output layer's
        activations, so a caller can score many batches at once later. Returns the batch's loss
        if ``want_loss``, else None; the gradient is left in ``self.grads`` (laid out like params).
        """
        net, n = self.net, len(xa)
        plan = self._plan(n, alpha)
        z = self._backprop(plan, xa, y, loss, outputs, plan.inv_n)
        value = loss_value(loss, y, z, plan.output_activation) if want_loss else None
        grads = self.grads
        if alpha:
            np.add(grads, self._l2_term(plan), out=grads)
            if want_loss:
                value += 0.5 * alpha * self.weight_sq / n
        if net.mask is not None:
            np.multiply(grads, net.mask, out=grads)
        return value

    def sgd_step(self, xa, y, loss, alpha, learning_rate, outputs=None):
        """One plain SGD step on the batch, in place on ``net.params``; the same update as
        ``gradient`` followed by ``optimizers.SGD.step``, in fewer passes.

        The step size is folded into the output delta, so the products leave −lr × the mean
        gradient in ``self.grads``, and L2 becomes weight decay: p ← p · (1 − lr · alpha / n on
        weights) − lr · ∇. ``self.weight_sq`` is set as ``gradient`` sets it.
        """
        net, n = self.net, len(xa)
        plan = self._plan(n, alpha)
        self._backprop(plan, xa, y, loss, outputs, -learning_rate * plan.inv_n)
        params, grads = net.params, self.grads
        if alpha:
            self._l2_term(plan)                                  # for weight_sq only
            np.multiply(params, plan.decay(learning_rate), out=params)
        if net.mask is not None:
            np.multiply(grads, net.mask, out=grads)
        np.add(params, grads, out=params)

    @staticmethod
    def _backprop(plan, xa, y, loss, outputs, scale):
        """Forward and backward through the net: ``scale`` × the summed gradient into the
        gradient buffer (L2 not included). Returns the output layer's activations."""
        matmul = np.matmul
        a = xa
        for layer, out, activate, nxt in plan.hidden:
            matmul(a, layer, out=out)
            activate()
            a = nxt
        z = plan.output if outputs is None else outputs
        matmul(a, plan.last_layer, out=z)
        plan.activate_output(z, a)
        delta = plan.delta
        loss.delta(y, z, plan.output_activation, out=delta)
        np.multiply(delta, scale, out=delta)
        for copy in plan.transposes:
            copy()
        for x_in, gview, weights_t, below, backprop in plan.backward:
            matmul(x_in.T, delta, out=gview)
            matmul(delta, weights_t, out=below)
            backprop()
            delta = below
        matmul(xa.T, delta, out=plan.first_grad)
        return z


class _Plan:
    """What ``Backprop.gradient`` needs for one batch length: views, per-layer steps, the L2 vector."""

    def __init__(self, ws: Backprop, n: int, alpha: float):
        net = ws.net
        acts, last = net.activations, len(net.layers) - 1
        dt = net.dtype
        full = [a[:n] for a in ws.acts[1:-1]]          # hidden activations with their ones column
        outs = [a[:, :-1] for a in full]                # what each hidden layer's product writes
        deltas = [d[:n] for d in ws.deltas]
        self.inv_n = 1.0 / n
        self.hidden = []
        backprops = []
        for i in range(last):
            act = acts[i]
            if act.name == "relu":
                # f(1) = 1 keeps the ones column; the contiguous whole buffer is the fastest to treat.
                zeros = np.zeros_like(full[i])
                above = np.empty(full[i].shape, bool)
                self.hidden.append((net.layers[i], outs[i], _bind(np.maximum, full[i], zeros, out=full[i]), full[i]))
                backprops.append(_relu_backprop(full[i], zeros, above, deltas[i]))
            else:
                target = full[i] if act.name in _KEEP_ONES else outs[i]
                self.hidden.append((net.layers[i], outs[i], _bind(act.forward_, target), full[i]))
                backprops.append(_bind(act.backprop_, outs[i], deltas[i]))
        self.last_layer = net.layers[last]
        self.output = ws.acts[-1][:n]
        self.output_activation = acts[last]
        if acts[last].name == "softmax" and n >= _WHOLE_BATCH_SOFTMAX:
            self.activate_output = _SoftmaxStep(n, net.sizes[-1], dt, self.last_layer)
        else:
            forward = acts[last].forward_
            self.activate_output = lambda z, a: forward(z)
        self.delta = deltas[-1]
        gviews = ws._grad_views
        # delta @ Wᵀ reads a transposed view of the weights; from a few thousand weights on, a
        # contiguous copy made each batch costs less than the slower product on the view (on
        # 256 x 10: 1.5 + 12 µs instead of 17).
        self.transposes, weights_t = [], {}
        for i in range(1, last + 1):
            view = net.weights[i].T
            if view.size >= _COPY_TRANSPOSED:
                copy = weights_t[i] = np.empty(view.shape, dt)
                self.transposes.append(_bind(np.copyto, copy, view))
            else:
                weights_t[i] = view
        self.backward = [(full[i - 1], gviews[i], weights_t[i], deltas[i - 1], backprops[i - 1])
                         for i in range(last, 0, -1)]
        self.first_grad = gviews[0]
        self.l2 = (net.weight_mask * (alpha / n)).astype(dt) if alpha else None
        self.n_over_alpha = n / alpha if alpha else 0.0
        self._decay = {}

    def decay(self, learning_rate):
        """1 − learning_rate · alpha / n on weights, 1 on biases: L2 as a multiplicative decay."""
        d = self._decay.get(learning_rate)
        if d is None:
            d = self._decay[learning_rate] = (1.0 - learning_rate * self.l2).astype(self.l2.dtype)
        return d


# From this batch length on, softmax shifts by the batch maximum (see ``_SoftmaxStep``); below
# it, reductions over rows cost no more than the whole-batch ones and the plain row-wise shift
# takes one call fewer.
_WHOLE_BATCH_SOFTMAX = 64

# Layers with at least this many weights (biases excluded) backpropagate through a contiguous
# copy of their transposed weights (see ``_Plan``).
_COPY_TRANSPOSED = 2048


def _bind(fn, *args, **kwargs):
    """``fn`` with its arguments fixed: a call with none in the hot loop."""
    return lambda: fn(*args, **kwargs)


def _relu_backprop(a, zeros, above, delta):
    """Multiply ``delta`` by ReLU's derivative, 1 where the output ``a`` is positive."""
    mask = above[:, :delta.shape[1]]
    greater, multiply = np.greater, np.multiply

    def backprop():
        greater(a, zeros, out=above)
        multiply(delta, mask, out=delta)
    return backprop


class _SoftmaxStep:
    """Softmax in place on a batch's output layer ``z`` (n, k), with buffers of its own.

    Shifting by the whole batch's maximum (one reduction) instead of each row's keeps every
    exponent ≤ 0, and a product with a column of ones sums the rows. If a row sits so far below
    the batch maximum that its sum would lose precision to underflow, the batch is recomputed
    from its input ``a`` with the per-row shift (``Softmax.forward_``).
    """

    def __init__(self, n, k, dtype, layer):
        self.sums = np.empty((n, 1), dtype)
        self.ones = np.ones((k, 1), dtype)
        self.layer = layer
        self.tiny = float(np.finfo(dtype).tiny) * 2.0**30

    def __call__(self, z, a):
        sums = self.sums
        np.subtract(z, np.maximum.reduce(z, axis=None), out=z)
        np.exp(z, out=z)
        np.matmul(z, self.ones, out=sums)
        if np.minimum.reduce(sums, axis=None) < self.tiny:
            np.matmul(a, self.layer, out=z)
            Softmax.forward_(z)
            return
        np.divide(z, sums, out=z)
