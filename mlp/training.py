"""Training as a stream: ``train(config, X, y)`` yields one ``EpochRecord`` per epoch.

    run = train(TrainConfig(hidden_layer_sizes=(128,), epochs=30), X, y)
    for record in run:            # stop iterating whenever you like
        print(record.epoch, record.train_loss, record.val_accuracy)
    run.model                     # the Network after the last finished epoch
    run.status                    # "completed", "early_stopped", "diverged" or "stopped"

``train`` takes class labels; ``Training`` also takes targets already encoded (one-hot,
multilabel indicators, regression values: see ``target_kind``), sample weights and sparse inputs,
which is how ``mlp.MLPClassifier`` and ``mlp.MLPRegressor`` train. ``prepare_data`` is the
data preparation (split, augmentation, scaling, encoding) as a function of its inputs.

Between two records the model always holds the weights of the last finished epoch, so a caller
(the app's training thread) may stop at any point. A non-finite loss ends the run with
``status == "diverged"`` and the weights of the last finite epoch. Nothing here prints.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import time
from dataclasses import dataclass

import numpy as np

from .activations import ACTIVATIONS, ALIASES, HIDDEN_ACTIVATIONS
from .losses import LOSSES, check_pair, get_loss, label_loss_value, loss_value, sample_losses
from .network import Backprop, Network, dropout_rates
from .optimizers import OPTIMIZERS, make_optimizer
from .sparse import CONNECTIVITY, evolve, layer_densities, sparsify

SCHEDULES = ("constant", "invscaling", "adaptive", "cosine")


def _number(value, low, high, low_open=False, high_open=False) -> bool:
    """A real number (not a bool) in the interval from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        return False
    return (low < value if low_open else low <= value) and (value < high if high_open else value <= high)


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


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

    The learning rate follows ``schedule`` from one epoch to the next (scikit-learn's rules):
    "constant"; "invscaling", ``learning_rate / (samples seen + 1) ** power_t``; "adaptive",
    divided by 5 each time the stopping rule would stop (stopping once it is <= 1e-6); "cosine"
    (ours), ``learning_rate · (1 + cos(π · epoch / epochs)) / 2``, from the full rate to zero.

    Stopping (scikit-learn's rule, the only one): with ``early_stopping`` the run watches the
    validation score (accuracy; R² for regression targets) and stops when it has not risen by
    ``tol`` for more than ``n_iter_no_change`` epochs in a row, keeping the best epoch's weights;
    without it, ``stop_on_plateau`` applies the same rule to the training loss falling by ``tol``.
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
    schedule: str = "constant"
    power_t: float = 0.5
    stop_on_plateau: bool = False

    def hidden_activations(self) -> tuple:
        """One activation name per hidden layer."""
        if isinstance(self.activation, str):
            return (self.activation,) * len(self.hidden_layer_sizes)
        return tuple(self.activation)

    def validate(self) -> TrainConfig:
        """Raise ValueError with a plain sentence for any setting out of range; return self."""
        def need(ok, message):
            if not ok:
                raise ValueError(message)

        sizes = tuple(self.hidden_layer_sizes)
        need(all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes),
             f"hidden layer sizes (hidden_layer_sizes) must be whole numbers >= 1, got {sizes}")
        acts = self.hidden_activations()
        need(len(acts) == len(sizes), f"{len(sizes)} hidden layers need {len(sizes)} activations, got {len(acts)}")
        for a in acts:
            need(isinstance(a, str) and ALIASES.get(a, a) in HIDDEN_ACTIVATIONS,
                 f"activation must be one of {['logistic', *HIDDEN_ACTIVATIONS]} (or a tuple of them), got {a!r}")
        need(self.output_activation in ACTIVATIONS, f"unknown output activation {self.output_activation!r}")
        need(self.loss in LOSSES, f"unknown loss {self.loss!r}; choose one of {list(LOSSES)}")
        check_pair(self.loss, self.output_activation)
        need(self.optimizer in OPTIMIZERS, f"unknown optimizer {self.optimizer!r}; choose one of {list(OPTIMIZERS)}")
        need(_number(self.learning_rate, 0, math.inf, low_open=True, high_open=True),
             f"the learning rate (learning_rate_init) must be > 0, got {self.learning_rate!r}")
        need(_number(self.momentum, 0, 1), f"momentum must be in [0, 1], got {self.momentum!r}")
        need(_number(self.beta_1, 0, 1, high_open=True) and _number(self.beta_2, 0, 1, high_open=True),
             f"beta_1 and beta_2 must be in [0, 1), got {self.beta_1!r} and {self.beta_2!r}")
        need(_number(self.epsilon, 0, math.inf, low_open=True, high_open=True),
             f"epsilon must be > 0, got {self.epsilon!r}")
        need(_number(self.alpha, 0, math.inf), f"alpha (L2) must be >= 0, got {self.alpha!r}")
        need(_whole(self.epochs), f"epochs (max_iter) must be a whole number >= 1, got {self.epochs!r}")
        need(_whole(self.batch_size), f"batch_size must be a whole number >= 1, got {self.batch_size!r}")
        need(_number(self.validation_fraction, 0, 1, high_open=True),
             f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}")
        need(not self.early_stopping or self.validation_fraction > 0,
             "early stopping needs a validation split (validation_fraction > 0)")
        need(_whole(self.n_iter_no_change) or self.n_iter_no_change == math.inf,
             f"n_iter_no_change must be a whole number >= 1 or inf, got {self.n_iter_no_change!r}")
        need(_number(self.tol, 0, math.inf), f"tol must be >= 0, got {self.tol!r}")
        need(self.dtype in ("float32", "float64"), f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        need(self.input_scale > 0, "input_scale must be > 0")
        need(int(self.augment) >= 0, "augment must be >= 0")
        need(self.weight_gradient in ("mean", "sum"), "weight_gradient must be 'mean' or 'sum'")
        need(self.connectivity in CONNECTIVITY,
             f"connectivity must be one of {list(CONNECTIVITY)}, got {self.connectivity!r}")
        need(_number(self.set_epsilon, 0, math.inf, low_open=True, high_open=True),
             f"set_epsilon (SET's epsilon) must be > 0, got {self.set_epsilon!r}")
        need(self.density is None or _number(self.density, 0, 1, low_open=True),
             f"density must be None or a number in (0, 1], got {self.density!r}")
        need(_number(self.zeta, 0, 1, high_open=True),
             f"zeta (the fraction rewired per epoch) must be in [0, 1), got {self.zeta!r}")
        need(self.connectivity == "dense" or len(sizes) > 0 or self.sparse_output,
             "sparse connectivity needs a hidden layer or a sparse output layer")
        need(self.schedule in SCHEDULES,
             f"the learning rate schedule (learning_rate) must be one of {list(SCHEDULES)}, got {self.schedule!r}")
        need(_number(self.power_t, 0, math.inf), f"power_t must be >= 0, got {self.power_t!r}")
        dropout_rates(self.dropout, len(sizes))   # raises ValueError with a sentence
        return self

    def replace(self, **changes) -> TrainConfig:
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
    def from_dict(cls, d: dict) -> TrainConfig:
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
    run was asked not to measure it (``measure="batch_loss"``) or has no classes (regression);
    ``val_score`` is what the stopping rule watches: the validation accuracy (multilabel: whole
    rows right), R² for regression; ``elapsed`` is seconds since start."""

    epoch: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    elapsed: float
    val_score: float | None = None


_MEASURES = ("full", "batches", "batch_loss")
TARGET_KINDS = ("onehot", "multilabel", "regression")
# Sparse inputs are made dense this many rows at a time to be evaluated (never the whole matrix).
_CHUNK = 1024


@dataclass
class Stopping:
    """What scikit-learn's stopping rule remembers: epochs in a row without improvement, the best
    training loss and validation score so far, and the best validation epoch's (params, mask).
    A warm-started estimator hands it from one run to the next."""

    count: int = 0
    best_loss: float = math.inf
    best_score: float = -math.inf
    best: tuple | None = None


@dataclass
class TrainingData:
    """Data ready to train on (see ``prepare_data``). ``x``: (n, features + 1) scaled inputs with a
    column of ones (the bias input), or a sparse (n, features) matrix of scaled inputs; ``y``:
    (n, outputs) targets; ``labels``: (n,) class indices (None without classes); ``weights``:
    (n,) sample weights or None; ``validation``: (scaled inputs, targets, labels, weights) or None."""

    x: object
    y: np.ndarray
    labels: np.ndarray | None
    weights: np.ndarray | None
    validation: tuple | None
    kind: str

    @property
    def sparse(self) -> bool:
        return not isinstance(self.x, np.ndarray)


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


def check_training_data(X, y, *, need_two_classes=True):
    """X (n, features) and class labels y (n,) checked with scikit-learn's rules and sentences
    (the ones ``MLPClassifier`` applies): a ValueError that says what is wrong. Returns X as a
    float array (or CSR/CSC matrix) and y as an array. ``need_two_classes``: refuse one class."""
    from sklearn.utils.validation import check_X_y

    X, y = check_X_y(X, y, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32))
    check_labels(y)
    if need_two_classes:
        classes = np.unique(y)
        if len(y) < 2:
            raise ValueError(f"Training needs at least 2 samples, got {len(y)}.")
        if len(classes) < 2:
            raise ValueError(f"y has only one class ({classes[0]!r}): a classifier needs at least 2 classes.")
    return X, y


def check_labels(y):
    """Class labels as scikit-learn's classifiers take them: discrete values, no NaN."""
    from sklearn.utils.multiclass import check_classification_targets

    check_classification_targets(y)


def _scaled(X, scale, dtype, ones):
    """X times ``scale`` in ``dtype``; dense with a column of ones appended if ``ones``; sparse stays sparse."""
    if not isinstance(X, np.ndarray):
        return (X.tocsr() * scale).astype(dtype)
    if not ones:
        return np.multiply(X, scale, dtype=dtype)
    xa = np.ones((len(X), X.shape[1] + 1), dtype)
    np.multiply(X, scale, out=xa[:, :-1])
    return xa


def _encode(y, classes, n_outputs, dtype):
    """Labels → (indices, one-hot targets); one output unit for two classes: target 1 for classes[1]."""
    idx = np.searchsorted(classes, y)
    if n_outputs == 1:
        return idx, idx.astype(dtype)[:, None]
    out = np.zeros((len(idx), len(classes)), dtype)
    out[np.arange(len(idx)), idx] = 1
    return idx, out


def _labels_of(y, kind):
    """Class indices of encoded targets (None where there are no classes)."""
    if kind != "onehot":
        return None
    return (y[:, 0] > 0.5).astype(int) if y.shape[1] == 1 else np.argmax(y, axis=1)


def prepare_data(config: TrainConfig, X, y, *, rng, n_outputs, dtype, input_scale, classes=None,
                 target_kind=None, validation=None, sample_weight=None, on_prepare=None) -> TrainingData:
    """The data a run trains on, from its inputs alone (and ``rng`` for the split and augmentation).

    ``target_kind`` None: y holds class labels (sorted ``classes``); ``config.validation_fraction``
    of them (stratified) is held out unless ``validation`` = (X_val, y_val[, weights]) is given; the
    training digits get ``config.augment`` re-rendered and ``config.shifts`` shifted copies; labels
    become one-hot targets over ``n_outputs`` units. Otherwise y is already the (n, n_outputs)
    target matrix of that kind (see ``TARGET_KINDS``) and ``validation`` the only held-out data.
    Inputs are scaled by ``input_scale`` and cast to ``dtype``. ``on_prepare(fraction)`` follows
    the building of the augmented copies and may raise to cancel it.
    """
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    if target_kind is None and validation is None and config.validation_fraction > 0:
        train_idx, held = stratified_split(y, config.validation_fraction, rng)
        if len(train_idx) == 0 or len(held) == 0:
            raise ValueError(f"The validation split (validation_fraction={config.validation_fraction:g}) of "
                             f"{len(y)} samples leaves {len(train_idx)} for training and {len(held)} for "
                             "validation: both need at least one. Change the fraction or give more data.")
        validation = (X[held], y[held]) if weights is None else (X[held], y[held], weights[held])
        X, y = X[train_idx], y[train_idx]
        weights = None if weights is None else weights[train_idx]
    if config.augment or config.shifts:
        if not isinstance(X, np.ndarray) or weights is not None:
            raise ValueError("augment and shifts need dense digit images without sample weights")
        from . import augment  # the image path's module; only loaded when asked for

        parts = [(X, y)]
        if config.augment:
            parts.append(augment.augment_shared(X, y, int(config.augment), rng, on_prepare))
        if config.shifts:
            parts.append(augment.shifted_copies(X, y))
        X, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    kind = target_kind or "onehot"
    if target_kind is None:
        labels, targets = _encode(y, classes, n_outputs, dtype)
    else:
        targets = np.asarray(y, dtype=dtype)
        labels = _labels_of(targets, kind)
    held = None
    if validation is not None:
        xv, yv = validation[0], validation[1]
        wv = None if len(validation) < 3 or validation[2] is None else np.asarray(validation[2], dtype=float)
        if target_kind is None:
            xv, yv = check_training_data(xv, yv, need_two_classes=False)
            lv, tv = _encode(yv, classes, n_outputs, dtype)
        else:
            tv = np.asarray(yv, dtype=dtype)
            lv = _labels_of(tv, kind)
        held = (_scaled(xv, input_scale, dtype, ones=False), tv, lv, wv)
    return TrainingData(_scaled(X, input_scale, dtype, ones=True), targets, labels, weights, held, kind)


def build_network(config: TrainConfig, n_features: int, n_classes: int, rng) -> Network:
    """A freshly initialised Network for ``config`` with weights drawn from ``rng``."""
    sizes = (n_features, *config.hidden_layer_sizes, n_classes)
    acts = (*config.hidden_activations(), config.output_activation)
    net = Network(sizes, acts, seed=rng, dtype=config.dtype, input_scale=config.input_scale)
    if config.connectivity != "dense":
        sparsify(net, layer_densities(sizes, config.set_epsilon, config.density, config.sparse_output), rng)
    return net


def network_outputs(net: Network, X, scaled=False) -> np.ndarray:
    """The output layer's activations for X (n, features), dense or sparse (made dense a few rows
    at a time): (n, outputs). ``scaled``: X already carries the net's input scale."""
    if isinstance(X, np.ndarray):
        return net.forward(X, scaled=scaled)[-1]
    X = X.tocsr()
    parts = [net.forward(X[k:k + _CHUNK].toarray(), scaled=scaled)[-1] for k in range(0, X.shape[0], _CHUNK)]
    return np.concatenate(parts) if parts else np.empty((0, net.sizes[-1]), net.dtype)


def score(outputs, targets, labels, weights, kind) -> float:
    """The validation score the stopping rule watches, from output activations: accuracy for one
    label per sample, whole rows right for multilabel, R² for regression (NaN when outputs are not
    finite, as scikit-learn scores them)."""
    if not np.all(np.isfinite(outputs)):
        return math.nan
    if kind == "regression":
        from sklearn.metrics import r2_score

        return float(r2_score(targets, outputs, sample_weight=weights))
    if kind == "multilabel":
        right = np.all((outputs > 0.5) == (targets > 0.5), axis=1)
    else:
        right = _predicted(outputs) == labels
    return float(np.average(right, weights=weights))


def _predicted(a):
    """Class indices (n,) from output activations (n, k); one sigmoid unit: index 1 above 0.5."""
    return (a[:, 0] > 0.5).astype(int) if a.shape[1] == 1 else np.argmax(a, axis=1)


class Training:
    """One training run; iterate it for ``EpochRecord``s (see the module docstring).

    X: (n, n_features) raw inputs (a scipy.sparse matrix too: it is made dense a batch at a time);
    y: (n,) labels of any kind (the classes are ``np.unique(y)`` unless ``classes`` are given), or
    with ``target_kind`` ("onehot", "multilabel", "regression") the (n, outputs) targets as they are.
    ``validation``: an optional (X_val, y_val[, weights]) held-out set; otherwise (labels only)
    ``config.validation_fraction`` of the data (stratified) is held out. ``sample_weight``: (n,)
    weights, scikit-learn's: each batch's loss is their weighted mean. ``model``: continue training
    this Network instead of building a new one. ``optimizer``, ``rng``, ``stopping``,
    ``samples_seen``: continue with these (an optimiser's moments, a generator's stream, the
    stopping rule's memory, the sample count "invscaling" decays with) instead of fresh ones.
    ``measure``: how each epoch's train loss and accuracy are measured: "full" — on the whole
    training set after the epoch; "batches" — from the outputs each batch had while it was
    trained, with the L2 penalty of the weights it saw, that is scikit-learn's ``loss_curve_``
    (its mean batch loss), at no extra forward pass; "batch_loss" — that loss alone
    (``train_accuracy`` None), what the estimators need.
    ``on_prepare``: called with the fraction (0..1) of the augmented copies built so far; it may
    raise to cancel building them. ``stop()`` acts between batches: a run stopped mid-epoch
    goes back to the last finished epoch's weights.
    """

    def __init__(self, config: TrainConfig, X, y, validation=None, model: Network | None = None, classes=None,
                 *, optimizer=None, rng=None, measure="full", sample_weight=None, target_kind=None,
                 stopping: Stopping | None = None, samples_seen: int = 0, on_prepare=None):
        self.config = config.validate()
        if measure not in _MEASURES:
            raise ValueError(f"measure must be one of {', '.join(map(repr, _MEASURES))}, got {measure!r}")
        if target_kind is not None and target_kind not in TARGET_KINDS:
            raise ValueError(f"target_kind must be None or one of {list(TARGET_KINDS)}, got {target_kind!r}")
        self.measure = measure
        self.rng = np.random.default_rng(config.seed) if rng is None else rng
        if target_kind is None:
            X, y = check_training_data(X, y, need_two_classes=classes is None)
            self.classes = np.unique(y) if classes is None else np.asarray(classes)
            n_targets = len(self.classes)
        else:
            self.classes = None if classes is None else np.asarray(classes)
            n_targets = y.shape[1]
        if not np.all(np.isfinite(X.data if not isinstance(X, np.ndarray) else X)):
            raise ValueError("X contains NaN or infinity")
        dtype = model.dtype if model is not None else np.dtype(config.dtype)
        scale = model.input_scale if model is not None else config.input_scale
        n_outputs = model.sizes[-1] if model is not None else n_targets
        self.data = data = prepare_data(config, X, y, rng=self.rng, n_outputs=n_outputs, dtype=dtype,
                                        input_scale=scale, classes=self.classes, target_kind=target_kind,
                                        validation=validation, sample_weight=sample_weight, on_prepare=on_prepare)
        n_features = X.shape[1]
        self.model = model or build_network(config, n_features, n_targets, self.rng)
        # Two classes may share one sigmoid unit (its output is the probability of classes[1]),
        # as in scikit-learn's MLPClassifier.
        n_out = 1 if self.model.sizes[-1] == 1 and n_targets == 2 else n_targets
        if self.model.sizes[0] != n_features or self.model.sizes[-1] != n_out:
            raise ValueError(f"the model's shape {self.model.sizes} does not fit {n_features} features "
                             f"and {n_targets} outputs")
        self.loss = get_loss(config.loss)
        net = self.model
        n = data.x.shape[0]
        self._backprop = Backprop(net, min(int(config.batch_size), n), config.dropout, self.rng)
        self._x, self._y, self._labels = data.x, data.y, data.labels
        self._val = data.validation
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
        self.samples_seen = int(samples_seen)
        self.stopping = Stopping() if stopping is None else stopping
        self.diverged_record = None
        self._last_good = self._snapshot()
        self._stop_requested = False
        self._start = None
        # The fast path shuffles dense data into these copies; sparse or weighted data goes a
        # batch at a time (``_run_epoch_per_batch``).
        self._per_batch = data.sparse or data.weights is not None
        if self._per_batch:
            self._xs = np.ones((self._backprop.batch_size, n_features + 1), dtype) if data.sparse else None
        else:
            self._xs = np.empty_like(self._x)
        self._ys = np.empty_like(self._y)
        self._order = None
        # measure "batches" / "batch_loss": every sample's output as its batch saw it, and the batches' Σw².
        self._outputs = None if measure == "full" else np.empty_like(self._y)
        self._weight_sq = 0.0
        self._batch_views = {}

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
            finished = self._run_epoch_per_batch() if self._per_batch else self._run_epoch()
            if not finished:
                self._restore(self._last_good)   # stopped mid-epoch: back to the last finished one
                self._finish("stopped", self._stopped_message())
                raise StopIteration
            self.samples_seen += self._x.shape[0]
            record = self._measure()
        if not (math.isfinite(record.train_loss) and np.all(np.isfinite(self.model.params))):
            self.diverged_record = record
            watched = self._watches_validation() and self.stopping.best is not None
            self._restore(self.stopping.best if watched else self._last_good)
            kept = "of its best validation epoch" if watched else f"of epoch {self.epoch - 1}"
            self._finish("diverged", f"Training diverged at epoch {self.epoch}: the loss became infinite or NaN. "
                                     f"Try a lower learning rate (now {self.config.learning_rate:g}). "
                                     f"The model keeps the weights {kept}.")
            raise StopIteration
        self._keep_last_good()
        self.history.append(record)
        self._next_learning_rate()
        self._apply_stopping_rule(record)
        if self.status == "running" and self.epoch >= self.config.epochs:
            self._finish("completed", f"Trained {self.epoch} epochs.")
            if self._watches_validation() and self.stopping.best is not None:
                self._restore(self.stopping.best)
        return record

    def stop(self):
        """Ask the run to end before its next batch (safe to call from another thread)."""
        self._stop_requested = True

    def _stopped_message(self) -> str:
        if self.epoch == 0:
            return "Stopped before the first epoch finished: no epoch ran, so there is no trained model."
        return "Stopped: the model keeps the weights of the last finished epoch."

    def run(self) -> Training:
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

    # ---- one epoch ---------------------------------------------------------------------------

    def _run_epoch(self) -> bool:
        """One pass over the batches; False if ``stop()`` cut it short (checked before each batch)."""
        cfg, backprop = self.config, self._backprop
        if cfg.shuffle:
            order = self._order = self.rng.permutation(len(self._x))
            # mode="clip": the indices are a permutation, so none is out of range; the default
            # mode ("raise") with out= gathers into a temporary first, twice the time.
            np.take(self._x, order, axis=0, out=self._xs, mode="clip")
            np.take(self._y, order, axis=0, out=self._ys, mode="clip")
        gradient, step, params, grads = backprop.gradient, self.optimizer.step, self.model.params, backprop.grads
        loss, alpha, weight_sq = self.loss, cfg.alpha, 0.0
        multiply = np.multiply
        if self.optimizer.folds_into_backprop and not self._sum_weights:
            # Plain SGD: the step folded into the backward pass (same update, fewer passes).
            sgd_step, lr = backprop.sgd_step, self.optimizer.learning_rate
            for x, y, outputs, _ in self._batches(cfg.shuffle):
                if self._stop_requested:
                    return False
                sgd_step(x, y, loss, alpha, lr, outputs)
                if alpha:
                    weight_sq += backprop.weight_sq
        else:
            for x, y, outputs, scale in self._batches(cfg.shuffle):
                if self._stop_requested:
                    return False
                gradient(x, y, loss, alpha, False, outputs)
                if alpha:
                    weight_sq += backprop.weight_sq
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
            n, size, outs, batches = len(xs), self._backprop.batch_size, self._outputs, []
            for k in range(0, n, size):
                batches.append((xs[k:k + size], ys[k:k + size], None if outs is None else outs[k:k + size],
                                self._gradient_scale(min(size, n - k))))
            self._batch_views[shuffled] = batches
        return batches

    def _gradient_scale(self, length):
        """None, or with ``weight_gradient="sum"`` the vector that turns a mean gradient into the post's."""
        if not self._sum_weights:
            return None
        scale = self._weight_scales.get(length)
        if scale is None:
            scale = self._weight_scales[length] = self.model.summed_weight_scale(length)
        return scale

    def _run_epoch_per_batch(self) -> bool:
        """One epoch over sparse or weighted data, each batch gathered (and made dense) on its own;
        False if ``stop()`` cut it short."""
        cfg, backprop, data = self.config, self._backprop, self.data
        n, size = self._x.shape[0], backprop.batch_size
        order = self._order = self.rng.permutation(n) if cfg.shuffle else np.arange(n)
        np.take(self._y, order, axis=0, out=self._ys)
        weights = None if data.weights is None else data.weights[order]
        params, grads, weight_sq = self.model.params, backprop.grads, 0.0
        for k in range(0, n, size):
            if self._stop_requested:
                return False
            rows = order[k:k + size]
            m = len(rows)
            if data.sparse:
                x = self._xs[:m]
                x[:, :-1] = self._x[rows].toarray()
            else:
                x = self._x[rows]
            w = None if weights is None else weights[k:k + m, None]
            outputs = None if self._outputs is None else self._outputs[k:k + m]
            backprop.gradient(x, self._ys[k:k + m], self.loss, cfg.alpha, False, outputs, weights=w)
            if cfg.alpha:
                # Each batch's penalty is divided by its weight sum: kept as Σw² · m / sum.
                weight_sq += backprop.weight_sq * (1.0 if w is None else m / float(np.sum(w)))
            scale = self._gradient_scale(m)
            if scale is not None:
                np.multiply(grads, scale, out=grads)
            self.optimizer.step(params, grads)
        self._weight_sq = weight_sq
        self.epoch += 1
        return True

    # ---- what an epoch measured ----------------------------------------------------------------

    def _evaluate(self, x_scaled, targets, labels, weights):
        """Mean loss (with the L2 penalty, as trained), accuracy (None without classes) and score
        on inputs already scaled."""
        net, kind = self.model, self.data.kind
        a = network_outputs(net, x_scaled, scaled=True)
        output = net.activations[-1]
        if weights is None:
            loss, total = loss_value(self.loss, targets, a, output), len(targets)
        else:
            loss, total = float(np.average(sample_losses(self.loss, targets, a, output), weights=weights)), \
                float(np.sum(weights))
        if self.config.alpha:
            w = net.params * net.weight_mask
            loss += 0.5 * self.config.alpha * float(np.dot(w, w)) / total
        value = score(a, targets, labels, weights, kind)
        return loss, None if kind == "regression" else value, value

    def _batch_scores(self):
        """Mean loss and accuracy of the last epoch's batches, from the outputs they were trained on.

        The loss is scikit-learn's ``loss_`` for the epoch: the batch losses, each with the L2
        penalty 0.5 · alpha · Σw² / (batch size or weight sum) of the weights it saw, weighted by
        batch size.
        """
        data, order = self.data, self._order
        ordered = order is not None
        targets = self._ys if ordered else self._y
        labels = None if data.labels is None else (data.labels[order] if ordered else data.labels)
        output = self.model.activations[-1]
        n = len(targets)
        if data.weights is None:
            if labels is not None:
                loss = label_loss_value(self.loss, labels, targets, self._outputs, output)
            else:
                loss = loss_value(self.loss, targets, self._outputs, output)
            weights = None
        else:
            weights = data.weights[order]
            starts = np.arange(0, n, self._backprop.batch_size)
            lengths = np.diff(np.append(starts, n))
            per_sample = sample_losses(self.loss, targets, self._outputs, output)
            batch_means = np.add.reduceat(per_sample * weights, starts) / np.add.reduceat(weights, starts)
            loss = float(np.dot(batch_means, lengths)) / n
        if self.config.alpha:
            loss += 0.5 * self.config.alpha * self._weight_sq / n
        if self.measure == "batch_loss" or data.kind == "regression":
            return loss, None
        return loss, score(self._outputs, targets, labels, weights, data.kind)

    def _measure(self) -> EpochRecord:
        if self.measure != "full":
            train_loss, train_accuracy = self._batch_scores()
        else:
            x = self._x if self.data.sparse else self._x[:, :-1]
            train_loss, train_accuracy, _ = self._evaluate(x, self._y, self._labels, self.data.weights)
        val_loss = val_accuracy = val_score = None
        if self._val is not None:
            val_loss, val_accuracy, val_score = self._evaluate(*self._val)
        return EpochRecord(self.epoch, train_loss, train_accuracy, val_loss, val_accuracy,
                           time.perf_counter() - self._start, val_score)

    # ---- schedule and stopping -----------------------------------------------------------------

    def _next_learning_rate(self):
        """The learning rate for the next epoch, as ``config.schedule`` says ("adaptive": see stopping)."""
        cfg = self.config
        if cfg.schedule == "invscaling":
            self.optimizer.learning_rate = float(cfg.learning_rate) / (self.samples_seen + 1) ** cfg.power_t
        elif cfg.schedule == "cosine":
            self.optimizer.learning_rate = cfg.learning_rate * 0.5 * (1 + math.cos(math.pi * self.epoch / cfg.epochs))

    def _watches_validation(self) -> bool:
        return self.config.early_stopping and self._val is not None

    def _apply_stopping_rule(self, record):
        """scikit-learn's rule (see ``TrainConfig``): count the epochs without improvement; past
        ``n_iter_no_change`` stop, or with the "adaptive" schedule divide the learning rate by 5."""
        cfg, memory = self.config, self.stopping
        if self._watches_validation():
            value = record.val_score
            memory.count = memory.count + 1 if value < memory.best_score + cfg.tol else 0
            if value > memory.best_score:
                memory.best_score = value
                memory.best = self._snapshot()
            what = "validation score"
        elif cfg.stop_on_plateau:
            value = record.train_loss
            memory.count = memory.count + 1 if value > memory.best_loss - cfg.tol else 0
            memory.best_loss = min(memory.best_loss, value)
            what = "training loss"
        else:
            return
        if memory.count <= cfg.n_iter_no_change:
            return
        if cfg.schedule == "adaptive" and self.optimizer.learning_rate > 1e-6:
            self.optimizer.learning_rate /= 5.0
            memory.count = 0
            return
        if self._watches_validation():
            self._restore(memory.best)
        self._finish("early_stopped", f"Stopped early at epoch {self.epoch}: the {what} had not improved by "
                                      f"tol={cfg.tol:g} for {memory.count} epochs in a row."
                                      + (" Restored the best weights." if self._watches_validation() else ""))


def train(config: TrainConfig, X, y, validation=None, model: Network | None = None, on_prepare=None) -> Training:
    """Start a training run of ``config`` on ``X`` (n, features), labels ``y`` (n,); iterate it for records.

    The data is checked as ``MLPClassifier`` checks it: a ValueError says what is wrong.
    ``on_prepare``: see ``Training``.
    """
    return Training(config, X, y, validation=validation, model=model, on_prepare=on_prepare)
