"""Training as a stream: ``train(config, X, y)`` yields one ``EpochRecord`` per epoch.

    run = train(TrainConfig(hidden_layer_sizes=(128,), epochs=30), X, y)
    for record in run:            # stop iterating whenever you like
        print(record.epoch, record.train_loss, record.val_accuracy)
    run.model                     # the Network after the last finished epoch
    run.status                    # "completed", "early_stopped", "diverged" or "stopped"

Between two records the model always holds the weights of the last finished epoch, so a caller
(the app's training thread) may stop at any point. A non-finite loss ends the run with
``status == "diverged"`` and the weights of the last finite epoch. Nothing here prints.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .activations import ACTIVATIONS, ALIASES, HIDDEN_ACTIVATIONS
from .losses import LOSSES, check_pair, get_loss, label_loss_value, loss_value
from .network import Backprop, Network, dropout_rates
from .optimizers import OPTIMIZERS, make_optimizer
from .sparse import CONNECTIVITY, evolve, layer_densities, sparsify


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run: architecture, loss, optimiser, schedule, seed.

    Parameter names follow scikit-learn's ``MLPClassifier`` where they overlap. ``activation``
    is one name for all hidden layers or a tuple with one name per hidden layer. ``alpha`` is
    the L2 strength scaled as scikit-learn scales it. ``input_scale`` multiplies the raw
    inputs (1/16 maps ``load_digits``' 0..16 to 0..1). ``augment`` adds that many re-rendered
    copies of each training digit (see ``mlp.augment``); 0 trains on the digits as they are.
    ``shifts`` adds four copies of each training digit moved half a pixel up, down, left and
    right (the largest gain in held-out accuracy we measured).
    ``weight_gradient`` is "mean" (the gradient of the mean loss over the batch, for weights and
    biases alike) or "sum", the original post's rule: the weight step adds up the batch's
    per-sample gradients while the bias step averages them.

    Sparse connectivity (see ``mlp.sparse``): ``connectivity`` is "dense", "static" (a fixed
    random sparse mask) or "set" (the mask evolves after every epoch but the last). Each hidden
    layer's density is SET's ε rule with ``set_epsilon`` unless ``density`` gives it directly;
    ``zeta`` is the fraction of weights rewired per epoch; ``sparse_output`` makes the output
    layer sparse too.

    ``dropout``: inverted dropout while training, one rate in [0, 1) for every hidden layer or a
    tuple with one per hidden layer; 0 (the default) is off and costs nothing.
    """

    hidden_layer_sizes: tuple = (128,)
    activation: str | tuple = "relu"
    output_activation: str = "softmax"
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    nesterov: bool = False
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    alpha: float = 1e-4
    epochs: int = 40
    batch_size: int = 32
    shuffle: bool = True
    validation_fraction: float = 0.0
    early_stopping: bool = False
    n_iter_no_change: int = 10
    tol: float = 1e-4
    seed: int = 0
    dtype: str = "float64"
    input_scale: float = 1.0 / 16.0
    augment: int = 0
    shifts: bool = False
    weight_gradient: str = "mean"
    connectivity: str = "dense"
    set_epsilon: float = 20.0
    density: float | None = None
    zeta: float = 0.3
    sparse_output: bool = False
    dropout: float | tuple = 0.0

    def hidden_activations(self) -> tuple:
        """One activation name per hidden layer."""
        if isinstance(self.activation, str):
            return (self.activation,) * len(self.hidden_layer_sizes)
        return tuple(self.activation)

    def validate(self) -> "TrainConfig":
        """Raise ValueError with a plain sentence for any setting out of range; return self."""
        def need(ok, message):
            if not ok:
                raise ValueError(message)

        sizes = tuple(self.hidden_layer_sizes)
        need(all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes),
             f"hidden layer sizes must be whole numbers >= 1, got {sizes}")
        acts = self.hidden_activations()
        need(len(acts) == len(sizes), f"{len(sizes)} hidden layers need {len(sizes)} activations, got {len(acts)}")
        for a in acts:
            need(ALIASES.get(a, a) in HIDDEN_ACTIVATIONS,
                 f"unknown hidden activation {a!r}; choose one of {list(HIDDEN_ACTIVATIONS)}")
        need(self.output_activation in ACTIVATIONS, f"unknown output activation {self.output_activation!r}")
        need(self.loss in LOSSES, f"unknown loss {self.loss!r}; choose one of {list(LOSSES)}")
        check_pair(self.loss, self.output_activation)
        need(self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
        need(self.learning_rate > 0 and math.isfinite(self.learning_rate), "the learning rate must be > 0")
        need(0 <= self.momentum < 1, "momentum must be in [0, 1)")
        need(0 <= self.beta_1 < 1 and 0 <= self.beta_2 < 1, "beta_1 and beta_2 must be in [0, 1)")
        need(self.epsilon > 0, "epsilon must be > 0")
        need(self.alpha >= 0, "alpha (L2) must be >= 0")
        need(int(self.epochs) >= 1, "epochs must be >= 1")
        need(int(self.batch_size) >= 1, "the batch size must be >= 1")
        need(0 <= self.validation_fraction < 1, "the validation fraction must be in [0, 1)")
        need(not self.early_stopping or self.validation_fraction > 0,
             "early stopping needs a validation split (validation_fraction > 0)")
        need(int(self.n_iter_no_change) >= 1, "n_iter_no_change must be >= 1")
        need(self.dtype in ("float32", "float64"), "dtype must be 'float32' or 'float64'")
        need(self.input_scale > 0, "input_scale must be > 0")
        need(int(self.augment) >= 0, "augment must be >= 0")
        need(self.weight_gradient in ("mean", "sum"), "weight_gradient must be 'mean' or 'sum'")
        need(self.connectivity in CONNECTIVITY,
             f"unknown connectivity {self.connectivity!r}; choose one of {list(CONNECTIVITY)}")
        need(self.set_epsilon > 0 and math.isfinite(self.set_epsilon), "the SET epsilon must be > 0")
        need(self.density is None or 0 < self.density <= 1, "the density must be in (0, 1]")
        need(0 <= self.zeta < 1, "zeta (the fraction rewired per epoch) must be in [0, 1)")
        need(self.connectivity == "dense" or len(sizes) > 0 or self.sparse_output,
             "sparse connectivity needs a hidden layer or a sparse output layer")
        dropout_rates(self.dropout, len(sizes))   # raises ValueError with a sentence
        return self

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden_layer_sizes"] = list(self.hidden_layer_sizes)
        if not isinstance(self.activation, str):
            d["activation"] = list(self.activation)
        if not np.isscalar(self.dropout):
            d["dropout"] = list(self.dropout)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown training settings: {sorted(unknown)}")
        d = dict(d)
        if "hidden_layer_sizes" in d:
            d["hidden_layer_sizes"] = tuple(int(s) for s in d["hidden_layer_sizes"])
        for name in ("activation", "dropout"):
            if isinstance(d.get(name), list):
                d[name] = tuple(d[name])
        return cls(**d)


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch measured. Losses are means per sample; accuracies are fractions in [0, 1];
    validation values are None without a validation split, the train accuracy is None when the
    run was asked not to measure it (``measure="batch_loss"``); ``elapsed`` is seconds since start."""

    epoch: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    elapsed: float


_MEASURES = ("full", "batches", "batch_loss")


def stratified_split(y, fraction, rng):
    """Indices (train, held) with about ``fraction`` of every class held out, drawn from ``rng``."""
    held = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = int(round(fraction * len(idx)))
        held.extend(rng.permutation(idx)[:k])
    held = np.sort(np.asarray(held, dtype=int))
    train = np.setdiff1d(np.arange(len(y)), held)
    return train, held


def build_network(config: TrainConfig, n_features: int, n_classes: int, rng) -> Network:
    """A freshly initialised Network for ``config`` with weights drawn from ``rng``."""
    sizes = (n_features, *config.hidden_layer_sizes, n_classes)
    acts = (*config.hidden_activations(), config.output_activation)
    net = Network(sizes, acts, seed=rng, dtype=config.dtype, input_scale=config.input_scale)
    if config.connectivity != "dense":
        sparsify(net, layer_densities(sizes, config.set_epsilon, config.density, config.sparse_output), rng)
    return net


class Training:
    """One training run; iterate it for ``EpochRecord``s (see the module docstring).

    X: (n, n_features) raw inputs; y: (n,) labels of any kind (the classes are ``np.unique(y)``).
    ``validation``: an optional (X_val, y_val) held-out set; otherwise ``config.validation_fraction``
    of the data (stratified) is held out. ``model``: continue training this Network instead of
    building a new one. ``optimizer``, ``rng``: continue with these (an optimiser's moments, a
    generator's stream) instead of fresh ones. ``measure``: how each epoch's train loss and
    accuracy are measured: "full" — on the whole training set after the epoch; "batches" — from
    the outputs each batch had while it was trained, with the L2 penalty of the weights it saw,
    that is scikit-learn's ``loss_curve_`` (its mean batch loss), at no extra forward pass;
    "batch_loss" — that loss alone (``train_accuracy`` None), what the estimator needs.
    ``on_prepare``: called with the fraction (0..1) of the augmented copies built so far; it may
    raise to cancel building them. ``stop()`` acts between batches: a run stopped mid-epoch
    goes back to the last finished epoch's weights.
    """

    def __init__(self, config: TrainConfig, X, y, validation=None, model: Network | None = None, classes=None,
                 *, optimizer=None, rng=None, measure="full", on_prepare=None):
        self.config = config.validate()
        if measure not in _MEASURES:
            raise ValueError(f"measure must be one of {', '.join(map(repr, _MEASURES))}, got {measure!r}")
        self.measure = measure
        self.rng = np.random.default_rng(config.seed) if rng is None else rng
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y) or len(X) == 0:
            raise ValueError(f"X must be (n, features) and y (n,), got {X.shape} and {y.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity")
        self.classes = np.unique(y) if classes is None else np.asarray(classes)
        if validation is None and config.validation_fraction > 0:
            tr, va = stratified_split(y, config.validation_fraction, self.rng)
            validation = (X[va], y[va])
            X, y = X[tr], y[tr]
        if config.augment or config.shifts:
            X, y = self._augmented(X, y, on_prepare)
        self.model = model or build_network(config, X.shape[1], len(self.classes), self.rng)
        # Two classes may share one sigmoid unit (its output is the probability of classes[1]),
        # as in scikit-learn's MLPClassifier.
        n_out = 1 if self.model.sizes[-1] == 1 and len(self.classes) == 2 else len(self.classes)
        if self.model.sizes[0] != X.shape[1] or self.model.sizes[-1] != n_out:
            raise ValueError(f"the model's shape {self.model.sizes} does not fit {X.shape[1]} features "
                             f"and {len(self.classes)} classes")
        self.loss = get_loss(config.loss)
        net = self.model
        self._ws = Backprop(net, min(int(config.batch_size), len(X)), config.dropout, self.rng)
        self._x = self._ws.with_ones(X)
        self._y_idx = np.searchsorted(self.classes, y)
        self._y = self._one_hot(self._y_idx)
        self._val = None
        if validation is not None:
            xv, yv = np.asarray(validation[0], dtype=float), np.asarray(validation[1])
            vi = np.searchsorted(self.classes, yv)
            self._val = (xv * net.input_scale, vi, self._one_hot(vi))
        hyper = dict(learning_rate=config.learning_rate, momentum=config.momentum, nesterov=config.nesterov,
                     beta_1=config.beta_1, beta_2=config.beta_2, epsilon=config.epsilon)
        self.optimizer = optimizer or make_optimizer(config.optimizer, net.params, **hyper)
        # The post's rule: weight gradients summed over the batch (n × the mean), biases averaged.
        self._sum_weights = config.weight_gradient == "sum"
        self._weight_scales = {}   # batch length -> net.summed_weight_scale(length), built once
        self.history: list[EpochRecord] = []
        self.status = "running"
        self.message = ""
        self.epoch = 0
        self._last_good = self._snapshot()
        self._best = (math.inf, None)
        self._no_improvement = 0
        self._stop_requested = False
        self._start = None
        self._xs = np.empty_like(self._x)
        self._ys = np.empty_like(self._y)
        self._order = None
        # measure "batches" / "batch_loss": every sample's output as its batch saw it, and the batches' Σw².
        self._outputs = None if measure == "full" else np.empty_like(self._y)
        self._weight_sq = 0.0
        self._batch_views = {}

    def _augmented(self, X, y, on_prepare=None):
        """The training digits plus the re-rendered and shifted copies the config asks for."""
        from . import augment  # the image path's module; only loaded when asked for

        parts = [(X, y)]
        if self.config.augment:
            parts.append(augment.augment(X, y, int(self.config.augment), self.rng, on_prepare))
        if self.config.shifts:
            parts.append(augment.shifted_copies(X, y))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _one_hot(self, idx):
        if self.model.sizes[-1] == 1:  # one sigmoid unit for two classes: target 1 for classes[1]
            return idx.astype(self.model.dtype)[:, None]
        out = np.zeros((len(idx), len(self.classes)), self.model.dtype)
        out[np.arange(len(idx)), idx] = 1
        return out

    # ---- the iterator ------------------------------------------------------------------------

    def __iter__(self):
        return self

    def __next__(self) -> EpochRecord:
        if self.status != "running":
            raise StopIteration
        if self._stop_requested:
            self._finish("stopped", self._stopped_message())
            raise StopIteration
        if self._start is None:
            self._start = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            if self.config.connectivity == "set" and self.history:
                # SET's step "after each epoch but the last", taken when the next epoch starts so
                # the model between records is exactly the one the last record measured.
                evolve(self.model, self.config.zeta, self.rng, self.optimizer)
            if not self._run_epoch():
                self._restore(self._last_good)   # stopped mid-epoch: back to the last finished one
                self._finish("stopped", self._stopped_message())
                raise StopIteration
            record = self._measure()
        if not (math.isfinite(record.train_loss) and np.all(np.isfinite(self.model.params))):
            self._restore(self._last_good)
            self._finish("diverged", f"Training diverged at epoch {self.epoch}: the loss became infinite or NaN. "
                                     f"Try a lower learning rate (now {self.config.learning_rate:g}). "
                                     f"The model keeps the weights of epoch {self.epoch - 1}.")
            raise StopIteration
        self._keep_last_good()
        self.history.append(record)
        self._early_stopping(record)
        if self.status == "running" and self.epoch >= self.config.epochs:
            self._finish("completed", f"Trained {self.epoch} epochs.")
            if self.config.early_stopping and self._best[1] is not None:
                self._restore(self._best[1])
        return record

    def stop(self):
        """Ask the run to end before its next batch (safe to call from another thread)."""
        self._stop_requested = True

    def _stopped_message(self) -> str:
        if self.epoch == 0:
            return "Stopped before the first epoch finished: no epoch ran, so there is no trained model."
        return "Stopped: the model keeps the weights of the last finished epoch."

    def run(self) -> "Training":
        """Train to the end; return self."""
        for _ in self:
            pass
        return self

    def _snapshot(self):
        """Copies of the weights and (for a sparse net) the mask, which SET changes between epochs."""
        net = self.model
        return net.params.copy(), None if net.mask is None else net.mask.copy()

    def _keep_last_good(self):
        """``_last_good`` = this epoch's weights (and mask), copied into the buffers it already has."""
        net, (params, mask) = self.model, self._last_good
        np.copyto(params, net.params)
        if mask is not None:
            np.copyto(mask, net.mask)

    def _restore(self, snapshot):
        params, mask = snapshot
        self.model.params[...] = params
        if mask is not None:
            self.model.mask[...] = mask

    def _finish(self, status, message):
        self.status, self.message = status, message

    def _run_epoch(self) -> bool:
        """One pass over the batches; False if ``stop()`` cut it short (checked before each batch)."""
        cfg, ws = self.config, self._ws
        if cfg.shuffle:
            order = self._order = self.rng.permutation(len(self._x))
            # mode="clip": the indices are a permutation, so none is out of range; the default
            # mode ("raise") with out= gathers into a temporary first, twice the time.
            np.take(self._x, order, axis=0, out=self._xs, mode="clip")
            np.take(self._y, order, axis=0, out=self._ys, mode="clip")
        gradient, step, params, grads = ws.gradient, self.optimizer.step, self.model.params, ws.grads
        loss, alpha, weight_sq = self.loss, cfg.alpha, 0.0
        multiply = np.multiply
        if self.optimizer.folds_into_backprop and not self._sum_weights:
            # Plain SGD: the step folded into the backward pass (same update, fewer passes).
            sgd_step, lr = ws.sgd_step, self.optimizer.learning_rate
            for x, y, outputs, _ in self._batches(cfg.shuffle):
                if self._stop_requested:
                    return False
                sgd_step(x, y, loss, alpha, lr, outputs)
                if alpha:
                    weight_sq += ws.weight_sq
        else:
            for x, y, outputs, scale in self._batches(cfg.shuffle):
                if self._stop_requested:
                    return False
                gradient(x, y, loss, alpha, False, outputs)
                if alpha:
                    weight_sq += ws.weight_sq
                if scale is not None:
                    multiply(grads, scale, out=grads)
                step(params, grads)
        self._weight_sq = weight_sq
        self.epoch += 1
        return True

    def _batches(self, shuffled):
        """(inputs, targets, outputs slice, weight-gradient scale) of each batch, as views, built once.

        The shuffled copies are refilled in place every epoch, so their views stay valid.
        """
        batches = self._batch_views.get(shuffled)
        if batches is None:
            xs, ys = (self._xs, self._ys) if shuffled else (self._x, self._y)
            n, bs, outs, batches = len(xs), self._ws.batch_size, self._outputs, []
            for k in range(0, n, bs):
                scale = None
                if self._sum_weights:
                    m = min(bs, n - k)
                    scale = self._weight_scales.get(m)
                    if scale is None:
                        scale = self._weight_scales[m] = self.model.summed_weight_scale(m)
                batches.append((xs[k:k + bs], ys[k:k + bs], None if outs is None else outs[k:k + bs], scale))
            self._batch_views[shuffled] = batches
        return batches

    def _evaluate(self, x_scaled, y_idx, y_onehot):
        """Mean loss (with the L2 penalty, as trained) and accuracy on inputs already scaled."""
        net = self.model
        a = net.forward(x_scaled, scaled=True)[-1]
        loss = loss_value(self.loss, y_onehot, a, net.activations[-1])
        if self.config.alpha:
            w = net.params * net.weight_mask
            loss += 0.5 * self.config.alpha * float(np.dot(w, w)) / len(y_idx)
        acc = float(np.mean(self._predicted(a) == y_idx))
        return loss, acc

    def _predicted(self, a):
        """Class indices (n,) from output activations (n, k); one sigmoid unit: index 1 above 0.5."""
        return (a[:, 0] > 0.5).astype(int) if a.shape[1] == 1 else np.argmax(a, axis=1)

    def _batch_scores(self):
        """Mean loss and accuracy of the last epoch's batches, from the outputs they were trained on.

        The loss is scikit-learn's ``loss_`` for the epoch: the batch losses, each with the L2
        penalty 0.5 · alpha · Σw² / batch size of the weights it saw, weighted by batch size.
        """
        shuffled = self.config.shuffle
        y, y_idx = (self._ys, self._y_idx[self._order]) if shuffled else (self._y, self._y_idx)
        loss = label_loss_value(self.loss, y_idx, y, self._outputs, self.model.activations[-1])
        if self.config.alpha:
            loss += 0.5 * self.config.alpha * self._weight_sq / len(y)
        if self.measure == "batch_loss":
            return loss, None
        return loss, float(np.mean(self._predicted(self._outputs) == y_idx))

    def _measure(self) -> EpochRecord:
        if self.measure != "full":
            tl, ta = self._batch_scores()
        else:
            tl, ta = self._evaluate(self._x[:, :-1], self._y_idx, self._y)
        vl = va = None
        if self._val is not None:
            vl, va = self._evaluate(*self._val)
        return EpochRecord(self.epoch, tl, ta, vl, va, time.perf_counter() - self._start)

    def _early_stopping(self, record):
        if self._val is None:
            return
        cfg = self.config
        if record.val_loss < self._best[0] - cfg.tol:
            self._best = (record.val_loss, self._snapshot())
            self._no_improvement = 0
        else:
            if self._best[1] is None:
                self._best = (record.val_loss, self._snapshot())
            self._no_improvement += 1
        if cfg.early_stopping and self._no_improvement >= cfg.n_iter_no_change:
            self._restore(self._best[1])
            self._finish("early_stopped", f"Stopped early at epoch {self.epoch}: the validation loss had not "
                                          f"improved for {cfg.n_iter_no_change} epochs. Restored the best weights.")


def train(config: TrainConfig, X, y, validation=None, model: Network | None = None, on_prepare=None) -> Training:
    """Start a training run of ``config`` on ``X`` (n, features), ``y`` (n,); iterate it for records.
    ``on_prepare``: see ``Training``."""
    return Training(config, X, y, validation=validation, model=model, on_prepare=on_prepare)
