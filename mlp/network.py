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

from .activations import get_activation
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
    touches is allocated once, here, and so are the views of them each batch size needs, so a
    batch costs the NumPy calls of the math and little else.
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
        self._views = {}
        # Σw² (biases excluded) of the weights the last ``gradient`` call saw, when alpha > 0:
        # what scikit-learn's per-batch loss adds as its L2 term.
        self.weight_sq = 0.0

    def _views_for(self, n):
        """Views cut to the first ``n`` rows, cached: (layer inputs with ones, layer outputs,
        what each layer's activation is applied to in place, deltas)."""
        views = self._views.get(n)
        if views is None:
            inputs = [a[:n] for a in self.acts[1:-1]]
            outputs = [a[:n, :-1] for a in self.acts[1:-1]] + [self.acts[-1][:n]]
            targets = [full if act.name in _KEEP_ONES else out
                       for full, out, act in zip(inputs, outputs, self.net.activations)] + [outputs[-1]]
            views = self._views[n] = (inputs, outputs, targets, [d[:n] for d in self.deltas])
        return views

    def with_ones(self, x):
        """``x`` (n, d) scaled by the net's input scale, with a column of ones appended: (n, d + 1)."""
        xa = np.ones((len(x), x.shape[1] + 1), self.net.dtype)
        np.multiply(x, self.net.input_scale, out=xa[:, :-1])
        return xa

    def gradient(self, xa, y, loss, alpha=0.0, want_loss=False, outputs=None):
        """Gradient of the batch's mean loss w.r.t. ``net.params``, in ``self.grads``.

        xa: (n, sizes[0] + 1) inputs already scaled, with the ones column (see ``with_ones``).
        y: (n, sizes[-1]) targets. alpha: L2 strength, scaled as scikit-learn scales it
        (penalty 0.5 · alpha · Σw² / n, biases excluded). outputs: an optional (n, sizes[-1])
        array (a slice of an epoch-long buffer, say) that receives the output layer's
        activations, so a caller can score many batches at once later. Returns the batch's loss
        if ``want_loss``, else None; the gradient is left in ``self.grads`` (laid out like params).
        """
        net, n, grads = self.net, len(xa), self.grads
        inputs, outs, targets, deltas = self._views_for(n)
        if outputs is not None:
            outs, targets = outs[:-1] + [outputs], targets[:-1] + [outputs]
        layers, acts = net.layers, net.activations
        last = len(layers) - 1
        a = xa
        for i in range(last + 1):
            np.matmul(a, layers[i], out=outs[i])
            acts[i].forward_(targets[i])
            if i < last:
                a = inputs[i]
        a_out, out_act = outs[-1], acts[-1]
        delta = deltas[-1]
        loss.delta(y, a_out, out_act, out=delta)
        delta *= 1.0 / n
        gviews = self._grad_views
        for i in range(last, -1, -1):
            np.matmul((inputs[i - 1] if i else xa).T, delta, out=gviews[i])
            if i:
                below = deltas[i - 1]
                np.matmul(delta, net.weights[i].T, out=below)
                acts[i - 1].backprop_(outs[i - 1], below)
                delta = below
        value = None
        if want_loss:
            value = loss_value(loss, y, a_out, out_act)
        if alpha:
            tmp = self._tmp
            np.multiply(net.params, net.weight_mask, out=tmp)
            self.weight_sq = float(np.dot(tmp, tmp))
            tmp *= alpha / n
            grads += tmp
            if want_loss:
                value += 0.5 * alpha * self.weight_sq / n
        if net.mask is not None:
            grads *= net.mask
        return value
