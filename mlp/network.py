"""The network: weights and biases of a fully connected feed-forward net, forward and backprop.

Reading order. ``Network.forward`` and ``Network.backprop`` are the math, each one loop a learner
can read in one screen: backprop keeps every layer's activations on the way forward, takes the
output delta from the loss, then walks down the layers (gradients = a[i]ᵀ · delta / n,
delta = (delta · Wᵀ) ⊙ f'(a), each derivative read off the layer's output as scikit-learn does).
``Backprop``, after it, is the training hot path: the same gradient from preallocated buffers
and pre-bound steps (tests/test_gradients.py checks that the two agree).

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

Dropout (inverted): while training, each unit of a hidden layer with rate p is kept with
probability 1 - p and scaled by 1 / (1 - p), so at predict time (``forward``) nothing changes.
"""
from __future__ import annotations

import copy

import numpy as np

from .activations import Softmax, get_activation
from .losses import check_pair, get_loss, loss_value, sample_losses


def layer_offsets(sizes):
    """(start, n_in, n_out) per layer: where its (n_in + 1, n_out) block starts in ``params``."""
    start = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        yield start, n_in, n_out
        start += (n_in + 1) * n_out


def parameter_count(sizes) -> int:
    """Weights plus biases of a dense network with ``sizes`` units per layer."""
    return int(sum((n_in + 1) * n_out for _, n_in, n_out in layer_offsets(sizes)))


def draw_weights(w, activation, rng, density=1.0):
    """Fill ``w`` (n_in, n_out) in place: He-normal before ReLU-family units, Glorot-uniform otherwise.

    ``density`` p < 1 (a sparse layer) uses the effective fan-in p · n_in and fan-out p · n_out,
    so a unit's summed input has the spread a dense layer's would have.
    """
    n_in, n_out = w.shape
    if activation.init == "he":
        w[...] = rng.normal(0.0, np.sqrt(2.0 / (density * n_in)), w.shape)
    else:
        bound = np.sqrt(6.0 / (density * (n_in + n_out)))
        w[...] = rng.uniform(-bound, bound, w.shape)


def dropout_rates(dropout, n_hidden: int) -> tuple:
    """One dropout rate per hidden layer from one rate for all or a sequence; ValueError if out of range."""
    rates = (dropout,) * n_hidden if np.ndim(dropout) == 0 else tuple(dropout)
    if len(rates) != n_hidden:
        raise ValueError(f"dropout needs one rate per hidden layer ({n_hidden}), got {len(rates)}")
    try:
        rates = tuple(float(p) for p in rates)
    except (TypeError, ValueError):
        raise ValueError(f"dropout rates must be numbers, got {dropout!r}") from None
    if not all(0 <= p < 1 for p in rates):
        raise ValueError(f"dropout rates must be in [0, 1), got {dropout!r}")
    return rates


def dropout_masks(rng, n: int, sizes, rates, dtype) -> list:
    """Inverted-dropout masks for a batch of ``n``: one per layer, (n, units) arrays or None.

    A hidden layer with rate p > 0 gets 0 for a dropped unit and 1 / (1 - p) for a kept one,
    from one ``rng.random((n, units))`` draw per such layer in order (``Backprop`` draws the same
    numbers); the output layer and layers with p = 0 get None.
    """
    masks = [None] * (len(sizes) - 1)
    for i, p in enumerate(rates):
        if p:
            masks[i] = ((rng.random((n, sizes[i + 1])) >= p) / (1.0 - p)).astype(dtype)
    return masks


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
        self.params = np.zeros(parameter_count(sizes), self.dtype)
        self._make_views()
        self.initialize()

    def _make_views(self):
        """``layers``, ``weights``, ``biases`` as views into ``params``, and the ``weight_mask``."""
        self.layers = self.layer_views(self.params)
        self.weights = [layer[:-1] for layer in self.layers]
        self.biases = [layer[-1] for layer in self.layers]
        # 1 where ``params`` holds a weight, 0 where it holds a bias (L2 applies to weights only).
        self.weight_mask = np.ones_like(self.params)
        for b in self.biases_in(self.weight_mask):
            b[...] = 0

    def layer_views(self, flat):
        """A vector laid out like ``params`` cut into (n_in + 1, n_out) views, one per layer."""
        return [flat[start:start + (n_in + 1) * n_out].reshape(n_in + 1, n_out)
                for start, n_in, n_out in layer_offsets(self.sizes)]

    def biases_in(self, flat):
        """The bias rows of a vector laid out like ``params``, as views."""
        return [view[-1] for view in self.layer_views(flat)]

    def summed_weight_scale(self, batch_size: int) -> np.ndarray:
        """A vector like ``params``: ``batch_size`` on weights, 1 on biases.

        Multiplying a mean gradient by it gives the original post's step: the weight gradient
        summed over the batch, the bias gradient averaged.
        """
        return np.where(self.weight_mask > 0, float(batch_size), 1.0).astype(self.dtype)

    def initialize(self):
        """Weights drawn by ``draw_weights`` (He or Glorot) from the net's generator; zero biases."""
        for w, b, act in zip(self.weights, self.biases, self.activations):
            draw_weights(w, act, self.rng)
            b[...] = 0
        if self.mask is not None:
            self.params *= self.mask

    # ---- the math: forward and the reference backprop ---------------------------------------

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

    def backprop(self, x, y, loss, alpha=0.0, dropout=0.0, rng=None):
        """The gradient of the batch's mean loss, as (weight_grads, bias_grads): one array per layer.

        The reference backprop, written to be read; ``Backprop`` computes the same numbers fast.
        x: (n, sizes[0]) raw inputs; y: (n, sizes[-1]) targets; loss: a loss class or name.
        alpha: L2 strength (penalty 0.5 · alpha · Σw² / n, biases excluded). dropout: one rate
        per hidden layer, or one for all, with masks drawn from ``rng`` (default: the net's).
        weight_grads[i] has the shape of weights[i], bias_grads[i] of biases[i].
        """
        loss = get_loss(loss)
        x = np.asarray(x, self.dtype) * self.input_scale
        y = np.asarray(y, self.dtype)
        n, n_layers = len(x), len(self.layers)
        rates = dropout_rates(dropout, n_layers - 1)
        keep = dropout_masks(self.rng if rng is None else rng, n, self.sizes, rates, self.dtype)
        # Forward, keeping what each layer reads (a[i]) and what it outputs (h[i] = f(a[i] W + b)).
        # With dropout the next layer reads h[i] times the mask; the derivative needs h[i] itself.
        a, h = [x], []
        for i, (w, b, act) in enumerate(zip(self.weights, self.biases, self.activations)):
            h.append(act.activation(a[i] @ w + b))
            a.append(h[i] if keep[i] is None else h[i] * keep[i])
        # Backward: delta = d(mean loss)/dz for the layer's pre-activations z, from the top down.
        delta = loss.delta(y, h[-1], self.activations[-1]) / n
        weight_grads, bias_grads = [None] * n_layers, [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            weight_grads[i] = a[i].T @ delta + (alpha / n) * self.weights[i]
            bias_grads[i] = delta.sum(axis=0)
            if i > 0:
                delta = (delta @ self.weights[i].T) * self.activations[i - 1].derivative(h[i - 1])
                if keep[i - 1] is not None:
                    delta *= keep[i - 1]
        if self.mask is not None:   # a sparse net: absent weights get no gradient
            for grad, mask in zip(weight_grads, self.layer_views(self.mask)):
                grad *= mask[:-1]
        return weight_grads, bias_grads

    # ---- inference ---------------------------------------------------------------------------

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
        return parameter_count(self.sizes) if self.mask is None else int(np.count_nonzero(self.mask))

    # ---- copies ------------------------------------------------------------------------------

    def copy(self) -> Network:
        """An independent copy with the same weights (and a copy of the generator's state)."""
        return copy.deepcopy(self)

    def __getstate__(self):
        # The views are rebuilt on unpickling (and by copy.deepcopy): pickled as arrays of their
        # own, they would no longer share memory with ``params``.
        state = dict(self.__dict__)
        for name in ("layers", "weights", "biases", "weight_mask"):
            state.pop(name, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._make_views()

    def freeze(self) -> Network:
        """Make every array read-only (a model shared between threads or visitors); returns self."""
        for array in (self.params, self.mask, self.weight_mask, *self.layers, *self.weights, *self.biases):
            if array is not None:
                array.flags.writeable = False
        return self

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
        hot = Backprop(self, batch_size)
        grads = hot.grads
        # Summed weight gradient = n × mean; averaged bias gradient = 1 × mean.
        step_scale = self.summed_weight_scale(batch_size) * -learning_rate
        x_ones = hot.with_ones(x)
        history = []
        for _ in range(epochs):
            order = self.rng.permutation(len(x))
            xs, ys = x_ones[order], y_true[order]
            for k in range(0, len(x) - batch_size + 1, batch_size):
                hot.gradient(xs[k:k + batch_size], ys[k:k + batch_size], loss)
                grads *= step_scale
                self.params += grads
            history.append(loss_value(loss, y_true, self.output(x), self.activations[-1]))
        return history


# ---- the fast path ----------------------------------------------------------------------------

class Backprop:
    """The training hot path: ``Network.backprop``'s gradient from preallocated buffers.

    ``gradient`` writes the gradient of the mean loss over a batch (plus the L2 penalty) into a
    flat vector laid out like ``net.params``. Every array it touches is allocated once, here,
    and so is a plan per batch length (the views of the buffers, the per-layer steps bound to
    them by each activation's ``hidden_steps``, the L2 vector), so a batch costs the NumPy calls
    of the math and little else. Where a ufunc has a slow path, the plan avoids it: softmax
    shifts by the batch's maximum and sums rows with a matrix product (row reductions over ten
    columns are slow), redoing the batch row by row in the rare case where that would underflow.

    ``dropout``: one rate per hidden layer (or one for all); each batch draws its masks from
    ``rng`` (default: the net's), as ``dropout_masks`` does. At rate 0 nothing is added to a batch.
    """

    def __init__(self, net: Network, batch_size: int, dropout=0.0, rng=None):
        self.net = net
        self.batch_size = int(batch_size)
        self.dropout = dropout_rates(dropout, len(net.layers) - 1)
        self.rng = net.rng if rng is None else rng
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
        x_ones = np.ones((len(x), x.shape[1] + 1), self.net.dtype)
        np.multiply(x, self.net.input_scale, out=x_ones[:, :-1])
        return x_ones

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

    def gradient(self, x_ones, y, loss, alpha=0.0, want_loss=False, outputs=None, weights=None):
        """Gradient of the batch's mean loss w.r.t. ``net.params``, in ``self.grads``.

        x_ones: (n, sizes[0] + 1) inputs already scaled, with the ones column (see ``with_ones``).
        y: (n, sizes[-1]) targets. alpha: L2 strength, scaled as scikit-learn scales it
        (penalty 0.5 · alpha · Σw² / n, biases excluded). outputs: an optional (n, sizes[-1])
        array (a slice of an epoch-long buffer, say) that receives the output layer's
        activations, so a caller can score many batches at once later. Returns the batch's loss
        if ``want_loss``, else None; the gradient is left in ``self.grads`` (laid out like params).
        weights: optional (n, 1) sample weights (scikit-learn's ``sample_weight``): the loss is
        their weighted mean, and the L2 penalty is divided by their sum instead of n.
        """
        net, n = self.net, len(x_ones)
        plan = self._plan(n, alpha)
        total = n if weights is None else float(np.sum(weights))
        scale = plan.inv_n if weights is None else weights * (1.0 / total)
        z = self._backprop(plan, x_ones, y, loss, outputs, scale)
        value = None
        if want_loss:
            value = (loss_value(loss, y, z, plan.output_activation) if weights is None else
                     float(np.dot(sample_losses(loss, y, z, plan.output_activation), scale[:, 0])))
        grads = self.grads
        if alpha:
            l2 = self._l2_term(plan)
            if weights is not None:
                l2 *= n / total
            np.add(grads, l2, out=grads)
            if want_loss:
                value += 0.5 * alpha * self.weight_sq / total
        if net.mask is not None:
            np.multiply(grads, net.mask, out=grads)
        return value

    def sgd_step(self, x_ones, y, loss, alpha, learning_rate, outputs=None):
        """One plain SGD step on the batch, in place on ``net.params``; the same update as
        ``gradient`` followed by ``optimizers.SGD.step``, in fewer passes.

        The step size is folded into the output delta, so the products leave −lr × the mean
        gradient in ``self.grads``, and L2 becomes weight decay: p ← p · (1 − lr · alpha / n on
        weights) − lr · ∇. ``self.weight_sq`` is set as ``gradient`` sets it.
        """
        net, n = self.net, len(x_ones)
        plan = self._plan(n, alpha)
        self._backprop(plan, x_ones, y, loss, outputs, -learning_rate * plan.inv_n)
        params, grads = net.params, self.grads
        if alpha:
            self._l2_term(plan)                                  # for weight_sq only
            np.multiply(params, plan.decay(learning_rate), out=params)
        if net.mask is not None:
            np.multiply(grads, net.mask, out=grads)
        np.add(params, grads, out=params)

    @staticmethod
    def _backprop(plan, x_ones, y, loss, outputs, scale):
        """Forward and backward through the net: ``scale`` × the summed gradient into the
        gradient buffer (L2 not included). Returns the output layer's activations."""
        matmul = np.matmul
        a = x_ones
        for layer, out, activate, layer_output in plan.hidden:
            matmul(a, layer, out=out)
            activate()
            a = layer_output
        z = plan.output if outputs is None else outputs
        matmul(a, plan.last_layer, out=z)
        plan.activate_output(z, a)
        delta = plan.delta
        loss.delta(y, z, plan.output_activation, out=delta)
        np.multiply(delta, scale, out=delta)
        for copy_transposed in plan.transposes:
            copy_transposed()
        for x_in, grad_view, weights_t, below, backward in plan.backward:
            matmul(x_in.T, delta, out=grad_view)
            matmul(delta, weights_t, out=below)
            backward()
            delta = below
        matmul(x_ones.T, delta, out=plan.first_grad)
        return z


class _Plan:
    """What ``Backprop.gradient`` needs for one batch length: views, per-layer steps, the L2 vector.

    ``hidden``: per hidden layer (augmented weights, where the product writes, activate step,
    what the next layer reads). ``backward``: per layer from the top, (its input, its gradient
    view, Wᵀ, the delta below, the step multiplying that delta by f'(z) and the dropout mask).
    """

    def __init__(self, bp: Backprop, n: int, alpha: float):
        net = bp.net
        acts, last = net.activations, len(net.layers) - 1
        dt = net.dtype
        full = [a[:n] for a in bp.acts[1:-1]]          # hidden activations with their ones column
        deltas = [d[:n] for d in bp.deltas]
        self.inv_n = 1.0 / n
        self.hidden, backward_steps, inputs = [], [], []
        for i in range(last):
            forward, backward = acts[i].hidden_steps(full[i], deltas[i])
            read = full[i]
            if bp.dropout[i]:
                forward, backward, read = _dropout_steps(bp, full[i], deltas[i], bp.dropout[i], forward, backward)
            self.hidden.append((net.layers[i], full[i][:, :-1], forward, read))
            backward_steps.append(backward)
            inputs.append(read)
        self.last_layer = net.layers[last]
        self.output = bp.acts[-1][:n]
        self.output_activation = acts[last]
        if acts[last] is Softmax and n >= _WHOLE_BATCH_SOFTMAX:
            self.activate_output = _SoftmaxStep(n, net.sizes[-1], dt, self.last_layer)
        else:
            forward_ = acts[last].forward_
            self.activate_output = lambda z, a: forward_(z)
        self.delta = deltas[-1]
        grad_views = bp._grad_views
        # delta @ Wᵀ reads a transposed view of the weights; from a few thousand weights on, a
        # contiguous copy made each batch costs less than the slower product on the view (on
        # 256 x 10: 1.5 + 12 µs instead of 17).
        self.transposes, weights_t = [], {}
        for i in range(1, last + 1):
            view = net.weights[i].T
            if view.size >= _COPY_TRANSPOSED:
                transposed = weights_t[i] = np.empty(view.shape, dt)
                self.transposes.append(_bind(np.copyto, transposed, view))
            else:
                weights_t[i] = view
        self.backward = [(inputs[i - 1], grad_views[i], weights_t[i], deltas[i - 1], backward_steps[i - 1])
                         for i in range(last, 0, -1)]
        self.first_grad = grad_views[0]
        self.l2 = (net.weight_mask * (alpha / n)).astype(dt) if alpha else None
        self.n_over_alpha = n / alpha if alpha else 0.0
        self._decay = {}

    def decay(self, learning_rate):
        """1 − learning_rate · alpha / n on weights, 1 on biases: L2 as a multiplicative decay."""
        d = self._decay.get(learning_rate)
        if d is None:  # keep only the latest: a schedule changes the rate every epoch
            d = (1.0 - learning_rate * self.l2).astype(self.l2.dtype)
            self._decay = {learning_rate: d}
        return d


def _dropout_steps(bp, full, delta, p, forward, backward):
    """A hidden layer's steps with inverted dropout at rate ``p``: (forward, backward, what the next layer reads).

    Forward draws the batch's mask (the numbers ``dropout_masks`` draws) and writes the layer's
    output times the mask into a buffer of its own, so ``full`` keeps f(z) for the derivative;
    backward multiplies the delta by the same mask before f'(z).
    """
    n, k = delta.shape
    uniform = np.empty((n, k))                   # float64 whatever the net's dtype, as dropout_masks draws
    kept = np.empty((n, k), bool)
    mask = np.ones(full.shape, full.dtype)       # (n, k + 1): the ones column passes unchanged
    mask_units = mask[:, :-1]
    dropped = np.ones(full.shape, full.dtype)
    scale = 1.0 / (1.0 - p)
    multiply = np.multiply

    def forward_with_dropout():
        forward()
        bp.rng.random(out=uniform)
        np.greater_equal(uniform, p, out=kept)
        multiply(kept, scale, out=mask_units)
        multiply(full, mask, out=dropped)

    def backward_with_dropout():
        multiply(delta, mask_units, out=delta)
        backward()
    return forward_with_dropout, backward_with_dropout, dropped


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
