"""``MLPClassifier``: a scikit-learn estimator on the engine, a drop-in for scikit-learn's own.

Parameters mean what scikit-learn's ``sklearn.neural_network.MLPClassifier`` parameters of the
same name mean, and training follows its rules: the same weight initialisation (Glorot uniform,
biases too), the same L2 scaling, SGD / momentum / Nesterov / Adam updates, ``batch_size="auto"``
= min(200, n), the same stopping rule on the training loss (or, with ``early_stopping``, on the
validation accuracy, restoring the best weights), the same fitted attributes. With the same
starting weights one SGD step gives scikit-learn's weights (tests/test_estimator.py).

Two classes use one logistic output unit, as scikit-learn does (``coefs_[-1]`` has one column);
three or more use a softmax. ``loss_curve_`` is scikit-learn's: the mean over the epoch of the
batch losses, each with the L2 penalty of the weights that batch saw (measured from the outputs
the batches computed anyway, so it costs no extra pass).

What differs: only the 'sgd' and 'adam' solvers with a constant learning rate (no 'lbfgs', no
'invscaling'/'adaptive' schedules), no ``sample_weight``, no sparse input, one label per sample
(no multilabel); the random streams are NumPy Generators, so a ``random_state`` gives other
(equally distributed) initial weights and batch orders than scikit-learn's; computation in
``dtype`` (float32 by default: faster, and as accurate on these problems).

Our own parameters: ``activation`` may be a tuple with one name per hidden layer; ``loss``
("log_loss" — also called "cross_entropy" —, "mse", "mse_as_published"); ``dtype``; sparse
connectivity (see ``mlp.sparse``): ``connectivity`` ("dense", "static", "set"), ``set_epsilon``
or ``density`` for each sparse layer's density, ``zeta`` (the share SET rewires after each epoch
of a ``fit``; ``partial_fit`` trains the topology it has), ``sparse_output``. A sparse fit
starts from scikit-learn's weights on a random mask, scaled by 1/√density; ``coef_masks_`` holds
the masks (None when dense) and ``coefs_`` is zero outside them.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .activations import ALIASES, HIDDEN_ACTIVATIONS
from .losses import LOSSES
from .network import Network
from .sparse import CONNECTIVITY, layer_densities, sparsify
from .training import TrainConfig, Training, stratified_split

# scikit-learn's estimator checks that cannot apply to this estimator, check name → reason;
# tests/test_estimator.py passes it as ``expected_failed_checks``. Keep it short.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}

SOLVERS = ("sgd", "adam")
LOSS_NAMES = ("log_loss", *LOSSES)  # "log_loss": scikit-learn's name for cross-entropy


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A multi-layer perceptron classifier with scikit-learn's API and parameters, trained by ``mlp``.

    See the module docstring for what matches scikit-learn's ``MLPClassifier`` and what does
    not. Fitted attributes: ``classes_``, ``n_features_in_`` (and ``feature_names_in_`` for a
    DataFrame), ``coefs_`` (list of (n_in, n_out) arrays), ``intercepts_`` (list of (n_out,)),
    ``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``, ``best_loss_`` (None with early stopping),
    ``validation_scores_``, ``best_validation_score_`` (None without), ``n_layers_``,
    ``n_outputs_``, ``out_activation_``.
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate_init=0.001, max_iter=200, shuffle=True, random_state=None,
                 tol=1e-4, warm_start=False, momentum=0.9, nesterovs_momentum=True, early_stopping=False,
                 validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 loss="log_loss", dtype="float32", connectivity="dense", set_epsilon=20.0, density=None,
                 zeta=0.3, sparse_output=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.loss = loss
        self.dtype = dtype
        self.connectivity = connectivity
        self.set_epsilon = set_epsilon
        self.density = density
        self.zeta = zeta
        self.sparse_output = sparse_output

    # ---- scikit-learn's API ------------------------------------------------------------------

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and labels y (n_samples,); returns self.

        Starts from new random weights unless ``warm_start`` and the estimator is fitted, in
        which case it continues from whatever ``coefs_`` and ``intercepts_`` hold.
        """
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from ``coefs_``/``intercepts_`` and the optimiser's state.

        ``classes`` (all labels that will ever appear) is required on the first call.
        """
        self._validate_params()
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._forget_fit()
            self.classes_ = np.unique(np.asarray(classes))
            if len(self.classes_) < 2:
                raise ValueError(f"a classifier needs at least 2 classes; classes has {len(self.classes_)}")
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={np.unique(np.asarray(classes)).tolist()} is not the same as on the "
                             f"earlier call, {self.classes_.tolist()}")
        return self._fit(X, y, incremental=True)

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        out = self._network().output(X)
        if out.shape[1] == 1:
            out = np.hstack([1 - out, out])
        return out

    def predict_log_proba(self, X):
        """The log of ``predict_proba(X)``."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def predict(self, X):
        """Predicted labels (n_samples,), taken from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    # ---- training ----------------------------------------------------------------------------

    def _fit(self, X, y, incremental):
        self._validate_params()
        continuing = incremental or (self.warm_start and hasattr(self, "coefs_"))
        X, y = validate_data(self, X, y, reset=not (continuing and hasattr(self, "n_features_in_")),
                             dtype=(np.float64, np.float32))
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(f"y must be one label per sample, shape (n_samples,); got shape {y.shape} "
                             "(multilabel and multi-output targets are not supported)")
        check_classification_targets(y)
        y_classes = np.unique(y)
        if not continuing or not hasattr(self, "classes_"):
            if not continuing:
                self._forget_fit()
            self.classes_ = y_classes
            if len(y_classes) < 2:
                raise ValueError(f"a classifier needs at least 2 classes, but y has 1 class: {y_classes[0]!r}")
        elif not incremental and not np.array_equal(y_classes, self.classes_):
            raise ValueError(f"warm_start can only be used where y has the same classes as in the previous "
                             f"call to fit: previously {self.classes_.tolist()}, y has {y_classes.tolist()}")
        elif not np.all(np.isin(y_classes, self.classes_)):
            unknown = np.setdiff1d(y_classes, self.classes_)
            raise ValueError(f"y has classes {unknown.tolist()} not in classes_ {self.classes_.tolist()}")

        net = self._start_network(X.shape[1], continuing)
        validation = None
        if self.early_stopping:
            train, held = stratified_split(y, self.validation_fraction, self._rng)
            if len(held) < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                                 "or the size of your dataset.")
            validation = (X[held], y[held])
            X, y = X[train], y[train]
        n = len(X)
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
            batch_size = min(int(self.batch_size), n)

        config = self._config(batch_size, epochs=1 if incremental else self.max_iter)
        # partial_fit keeps the optimiser's state (Adam's moments, momentum) from call to call;
        # fit starts a fresh one, even with warm_start, as scikit-learn does.
        optimizer = getattr(self, "_optimizer", None) if incremental else None
        run = Training(config, X, y, validation=validation, model=net, classes=self.classes_,
                       optimizer=optimizer, rng=self._rng, measure="batch_loss")
        self._optimizer = run.optimizer
        self._train(run, n, incremental)
        self._set_weights(net)
        return self

    def _train(self, run, n, incremental):
        """Iterate ``run`` with scikit-learn's bookkeeping and stopping rule."""
        net = run.model
        self.n_iter_ = 0
        if self.early_stopping and self.validation_scores_ is None:  # warm start with early stopping newly on
            self.validation_scores_, self.best_validation_score_ = [], -math.inf
        if not self.early_stopping and self.best_loss_ is None:
            self.best_loss_ = math.inf
        for record in run:
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = record.train_loss
            self.loss_curve_.append(record.train_loss)
            if self.early_stopping:
                score = record.val_accuracy
                self.validation_scores_.append(score)
                if score < self.best_validation_score_ + self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    self._best_params = net.params.copy()
                    self._best_mask = None if net.mask is None else net.mask.copy()
            else:
                if record.train_loss > self.best_loss_ - self.tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                self.best_loss_ = min(self.best_loss_, record.train_loss)
            if self._no_improvement_count > self.n_iter_no_change:
                break
            if not incremental and self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                              "optimization hasn't converged yet.", ConvergenceWarning)
        if run.status == "diverged":
            raise ValueError(f"{run.message} The input data may contain large values and need to be "
                             "preprocessed (for example with StandardScaler).")
        if self.early_stopping:
            net.params[...] = self._best_params
            if net.mask is not None and getattr(self, "_best_mask", None) is not None:
                net.mask[...] = self._best_mask   # SET changes the mask between epochs

    def _config(self, batch_size, epochs) -> TrainConfig:
        solver = self.solver
        if solver == "sgd":
            solver = "momentum" if self.momentum > 0 else "sgd"
        binary = len(self.classes_) == 2
        return TrainConfig(
            hidden_layer_sizes=self._hidden_sizes(), activation=self._hidden_activations(),
            output_activation="sigmoid" if binary else "softmax", loss=self._loss_name(), optimizer=solver,
            learning_rate=float(self.learning_rate_init), momentum=float(self.momentum),
            nesterov=bool(self.nesterovs_momentum), beta_1=float(self.beta_1), beta_2=float(self.beta_2),
            epsilon=float(self.epsilon), alpha=float(self.alpha), epochs=int(epochs), batch_size=int(batch_size),
            shuffle=bool(self.shuffle), tol=float(self.tol), seed=0, dtype=self.dtype, input_scale=1.0,
            connectivity=self.connectivity, set_epsilon=float(self.set_epsilon),
            density=None if self.density is None else float(self.density), zeta=float(self.zeta),
            sparse_output=bool(self.sparse_output))

    def _start_network(self, n_features, continuing) -> Network:
        """The Network to train: scikit-learn's initial weights, or a copy of ``coefs_``/``intercepts_``.

        A sparse topology is a mask on the Network (see ``mlp.sparse``), drawn here after the weights.
        """
        if continuing and hasattr(self, "coefs_"):
            if not hasattr(self, "_rng"):  # coefs_ set by hand on an estimator never fitted
                self._rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
                self._new_bookkeeping(None)
            return self._network()
        self._rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31 - 1))
        net = self._new_network(n_features)
        self._initialize(net)
        if self.connectivity != "dense":
            dens = layer_densities(net.sizes, self.set_epsilon, self.density, self.sparse_output)
            sparsify(net, dens, self._rng, keep_init=True)
        self._new_bookkeeping(net.params.copy())
        self._best_mask = None if net.mask is None else net.mask.copy()
        return net

    def _new_bookkeeping(self, params):
        """scikit-learn's training records, reset when training starts from new weights."""
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self.best_loss_ = None if self.early_stopping else math.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -math.inf if self.early_stopping else None
        self._best_params = params

    def _new_network(self, n_features) -> Network:
        n_out = 1 if len(self.classes_) == 2 else len(self.classes_)
        sizes = (n_features, *self._hidden_sizes(), n_out)
        acts = (*self._hidden_activations(), "sigmoid" if n_out == 1 else "softmax")
        # seed=0 only fills the weights the caller overwrites; it leaves NumPy's global state alone.
        return Network(sizes, acts, seed=0, dtype=self.dtype)

    def _initialize(self, net):
        """scikit-learn's initialisation: weights and biases uniform in ±sqrt(factor / (fan_in + fan_out)),
        factor 2 for the logistic activation, else 6. scikit-learn has one activation for every
        layer; with one per hidden layer, layer i takes hidden layer i's, the output layer the last's."""
        hidden = self._hidden_activations()
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            act = hidden[min(i, len(hidden) - 1)] if hidden else self._single_activation()
            factor = 2.0 if ALIASES.get(act, act) == "sigmoid" else 6.0
            bound = math.sqrt(factor / sum(w.shape))
            w[...] = self._rng.uniform(-bound, bound, w.shape)
            b[...] = self._rng.uniform(-bound, bound, b.shape)

    def _network(self) -> Network:
        """A Network holding ``coefs_`` and ``intercepts_`` (copied), to predict with or train on."""
        expected = (self.n_features_in_, *self._hidden_sizes(), 1 if len(self.classes_) == 2 else len(self.classes_))
        shapes = [tuple(np.shape(c)) for c in self.coefs_]
        if shapes != list(zip(expected[:-1], expected[1:])) or len(self.intercepts_) != len(shapes):
            raise ValueError(f"coefs_ has layer shapes {shapes}, but this estimator's layers are "
                             f"{list(zip(expected[:-1], expected[1:]))}")
        net = self._new_network(self.n_features_in_)
        for w, b, c, i in zip(net.weights, net.biases, self.coefs_, self.intercepts_):
            w[...] = c
            b[...] = i
        masks = getattr(self, "coef_masks_", None)
        if masks is not None:
            net.mask = np.ones_like(net.params)
            for view, m in zip(net.layer_views(net.mask), masks):
                view[:-1] = m
            net.params *= net.mask
        return net

    def _set_weights(self, net):
        self.coefs_ = [w.copy() for w in net.weights]
        self.intercepts_ = [b.copy() for b in net.biases]
        self.coef_masks_ = None if net.mask is None else [m[:-1] > 0 for m in net.layer_views(net.mask)]
        self.n_layers_ = len(net.sizes)
        self.n_outputs_ = net.sizes[-1]
        self.out_activation_ = "logistic" if net.sizes[-1] == 1 else "softmax"

    def _forget_fit(self):
        for name in ("coefs_", "intercepts_", "coef_masks_", "_optimizer", "_rng"):
            self.__dict__.pop(name, None)

    # ---- parameters --------------------------------------------------------------------------

    def _hidden_sizes(self) -> tuple:
        sizes = self.hidden_layer_sizes
        return (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(int(s) for s in sizes)

    def _single_activation(self) -> str:
        act = self.activation
        return act if isinstance(act, str) else (act[-1] if len(act) else "relu")

    def _hidden_activations(self) -> tuple:
        n = len(self._hidden_sizes())
        return (self.activation,) * n if isinstance(self.activation, str) else tuple(self.activation)

    def _loss_name(self) -> str:
        return "cross_entropy" if self.loss == "log_loss" else self.loss

    def _validate_params(self):
        """Raise ValueError with a plain sentence for any parameter out of range."""
        def need(ok, message):
            if not ok:
                raise ValueError(message)

        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else sizes
        need(hasattr(sizes, "__len__") and all(isinstance(s, numbers.Integral) and s >= 1 for s in sizes),
             f"hidden_layer_sizes must be whole numbers >= 1, got {self.hidden_layer_sizes!r}")
        acts = [self.activation] if isinstance(self.activation, str) else list(self.activation)
        need(isinstance(self.activation, str) or len(acts) == len(sizes),
             f"{len(sizes)} hidden layers need {len(sizes)} activations, got {len(acts)}")
        for a in acts:
            need(isinstance(a, str) and ALIASES.get(a, a) in HIDDEN_ACTIVATIONS,
                 f"activation must be one of {['logistic', *HIDDEN_ACTIVATIONS]} (or a tuple of them), got {a!r}")
        need(self.solver in SOLVERS, f"solver must be one of {list(SOLVERS)}, got {self.solver!r}")
        need(self.loss in LOSS_NAMES, f"loss must be one of {list(LOSS_NAMES)}, got {self.loss!r}")
        need(self.dtype in ("float32", "float64"), f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        need(self.batch_size == "auto" or (isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1),
             f"batch_size must be 'auto' or a whole number >= 1, got {self.batch_size!r}")
        for name, low, high in (("alpha", 0, math.inf), ("tol", 0, math.inf), ("momentum", 0, 1),
                                ("beta_1", 0, 1), ("beta_2", 0, 1), ("validation_fraction", 0, 1)):
            value = getattr(self, name)
            need(isinstance(value, numbers.Real) and low <= value < high,
                 f"{name} must be a number in [{low}, {high}), got {value!r}")
        for name in ("learning_rate_init", "epsilon"):
            value = getattr(self, name)
            need(isinstance(value, numbers.Real) and 0 < value < math.inf, f"{name} must be > 0, got {value!r}")
        need(isinstance(self.max_iter, numbers.Integral) and self.max_iter >= 1,
             f"max_iter must be a whole number >= 1, got {self.max_iter!r}")
        need((isinstance(self.n_iter_no_change, numbers.Integral) and self.n_iter_no_change >= 1)
             or self.n_iter_no_change == math.inf,
             f"n_iter_no_change must be a whole number >= 1 or inf, got {self.n_iter_no_change!r}")
        need(not self.early_stopping or self.validation_fraction > 0,
             "early_stopping needs validation_fraction > 0")
        need(self.connectivity in CONNECTIVITY, f"connectivity must be one of {list(CONNECTIVITY)}, "
                                                f"got {self.connectivity!r}")
        need(isinstance(self.set_epsilon, numbers.Real) and 0 < self.set_epsilon < math.inf,
             f"set_epsilon must be > 0, got {self.set_epsilon!r}")
        need(self.density is None or (isinstance(self.density, numbers.Real) and 0 < self.density <= 1),
             f"density must be None or a number in (0, 1], got {self.density!r}")
        need(isinstance(self.zeta, numbers.Real) and 0 <= self.zeta < 1, f"zeta must be in [0, 1), got {self.zeta!r}")
