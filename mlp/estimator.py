"""``MLPClassifier`` (and the base ``MLPRegressor`` shares): scikit-learn estimators on the engine,
drop-ins for scikit-learn's own.

Parameters mean what the parameters of the same name of ``sklearn.neural_network``'s
``MLPClassifier`` / ``MLPRegressor`` mean, and training follows its rules: the same weight
initialisation (Glorot uniform, biases too), the same L2 scaling, SGD / momentum / Nesterov / Adam
updates and L-BFGS (SciPy's, as scikit-learn uses it), the learning-rate schedules, ``batch_size=
"auto"`` = min(200, n), the same stopping rule on the training loss (or, with ``early_stopping``,
on the validation score, restoring the best weights), ``sample_weight``, sparse input (made dense
a batch at a time), multilabel targets, one-class ``y``, ``warm_start`` and ``partial_fit``
continuing from ``coefs_``/``intercepts_`` as they stand, the same fitted attributes. With the
same starting weights one SGD step gives scikit-learn's weights (tests/test_estimator.py), and
scikit-learn's own test file for its MLP passes on these classes (tests/test_sklearn_suite.py).
Training itself is ``mlp.training.Training`` (L-BFGS: ``mlp.lbfgs``); the estimators only map
their parameters to a ``TrainConfig`` (whose ``validate`` checks them) and keep the books.

Random numbers come from scikit-learn's stream in its order (a ``RandomState`` from
``random_state``: initial weights, validation split, epoch orders), so a float64 fit with a given
``random_state`` ends with scikit-learn's weights up to rounding. What differs: the regressor's
squared error sums over outputs (scikit-learn averages them in ``loss_``, not in the gradient);
sparse connectivity draws its masks from a NumPy Generator seeded from that stream.

Our own parameters: ``activation`` may be a tuple with one name per hidden layer; the
classifier's ``loss`` ("log_loss" — also called "cross_entropy" —, "mse", "mse_as_published");
``learning_rate="cosine"``, a cosine decay from ``learning_rate_init`` to 0 over ``max_iter``
epochs; ``dtype`` ("float32"/"float64"; None, the default, follows the input); ``dropout``
(inverted dropout on the hidden layers while training: one rate, or one per hidden layer;
stochastic solvers only); sparse connectivity (see ``mlp.sparse``): ``connectivity`` ("dense",
"static", "set"), ``set_epsilon`` or ``density`` for each sparse layer's density, ``zeta`` (the
share SET rewires after each epoch of a ``fit``; ``partial_fit`` trains the topology it has),
``sparse_output``. A sparse fit starts from scikit-learn's weights on a random mask, scaled by
1/√density; ``coef_masks_`` holds the masks (None when dense) and ``coefs_`` is zero outside them.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from . import lbfgs
from .activations import ALIASES
from .network import Network
from .sparse import layer_densities, sparsify
from .training import SCHEDULES, Stopping, TrainConfig, Training, check_labels, network_outputs

# scikit-learn's estimator checks that cannot apply to an estimator, check name → reason;
# tests/test_estimator.py passes it as ``expected_failed_checks``. Keep it empty.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}

SOLVERS = ("lbfgs", "sgd", "adam")
NON_FINITE = ("Solver produced non-finite parameter weights. The input data may contain large values and need "
              "to be preprocessed.")


class BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, fitting (through ``Training`` or
    ``mlp.lbfgs``), the fitted attributes. Subclasses say how targets are encoded and decoded."""

    _loss_names: dict = {}          # the estimator's loss name -> the engine's
    _validation_score = ""         # what early stopping watches, for the docs

    # ---- scikit-learn's API ------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features), dense or sparse, and targets y; returns self.

        Starts from new random weights unless ``warm_start`` and the estimator is fitted, in
        which case it continues from whatever ``coefs_`` and ``intercepts_`` hold.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. {self.solver} "
                                 "is not stochastic.")
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ---- training ----------------------------------------------------------------------------

    def _fit(self, X, y, sample_weight, incremental):
        self._check_own_params()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y, kind = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        dtype = np.dtype(self.dtype if self.dtype is not None else X.dtype).name
        # Every parameter TrainConfig knows is checked there, once (the batch size is resolved later).
        self._config(16, self.max_iter, dtype, Y.shape[1]).validate()
        net = self._start_network(X.shape[1], Y.shape[1], dtype, first_pass)
        if self.solver == "lbfgs":
            if np.any(np.asarray(self.dropout) > 0):
                raise ValueError("dropout needs a stochastic solver ('sgd' or 'adam'): L-BFGS needs the same "
                                 "loss every time it evaluates the same weights")
            self._fit_lbfgs(net, X, Y, sample_weight, dtype)
        else:
            self._fit_stochastic(net, X, Y, kind, sample_weight, dtype, incremental)
        self._set_weights(net)
        if not all(np.all(np.isfinite(w)) for w in (*self.coefs_, *self.intercepts_)):
            raise ValueError(NON_FINITE)
        return self

    def _fit_lbfgs(self, net, X, Y, sample_weight, dtype):
        config = self._config(16, self.max_iter, dtype, Y.shape[1])

        def report(iteration, loss):
            if self.verbose:
                print(f"Iteration {iteration}, loss = {loss:.8f}")

        result = lbfgs.minimize(net, X, Y, config.loss, self.alpha, sample_weight=sample_weight,
                                max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol, callback=report)
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = float(result.fun)

    def _fit_stochastic(self, net, X, Y, kind, sample_weight, dtype, incremental):
        validation = None
        if self.early_stopping:
            # scikit-learn's: stratified on the encoded y when it is one column (two classes, or one)
            stratify = Y.astype(bool) if kind == "onehot" and Y.shape[1] == 1 else None
            parts = train_test_split(X, Y, *([] if sample_weight is None else [sample_weight]),
                                     random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            if parts[1].shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                                 "or the size of your dataset.")
            X, Y = parts[0], parts[2]
            validation = (parts[1], parts[3], None if sample_weight is None else parts[5])
            sample_weight = None if sample_weight is None else parts[4]
        n = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                              stacklevel=3)
            batch_size = min(int(self.batch_size), n)
        config = self._config(batch_size, 1 if incremental else self.max_iter, dtype, Y.shape[1])
        # partial_fit keeps the optimiser's state (Adam's moments, momentum, an adapted learning
        # rate) from call to call; fit starts a fresh one, even with warm_start, as scikit-learn does.
        optimizer = getattr(self, "_optimizer", None) if incremental else None
        stopping = Stopping(self._no_improvement_count, self.best_loss_ if self.best_loss_ is not None else math.inf,
                            self.best_validation_score_ if self.best_validation_score_ is not None else -math.inf,
                            getattr(self, "_best", None))
        rng = self._generator() if self._needs_generator() else _SklearnShuffle(self._random_state)
        run = Training(config, X, Y, validation=validation, model=net, optimizer=optimizer, rng=rng,
                       measure="batch_loss", sample_weight=sample_weight, target_kind=kind, stopping=stopping,
                       samples_seen=self.t_)
        self._optimizer = run.optimizer
        self.n_iter_ = 0
        for record in run:
            self.n_iter_ += 1
            self.t_ += n
            self.loss_ = record.train_loss
            self.loss_curve_.append(record.train_loss)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if self.early_stopping:
                self.validation_scores_.append(record.val_score)
                if self.verbose:
                    print(f"Validation score: {record.val_score:f}")
        if run.status == "diverged" and self.early_stopping:
            self.validation_scores_.append(float(run.diverged_record.val_score))
        self._no_improvement_count, self._best = stopping.count, stopping.best
        if self.early_stopping:
            self.best_validation_score_ = stopping.best_score
        else:
            self.best_loss_ = stopping.best_loss
        if self.verbose and run.status == "early_stopped":
            print(run.message)
        if run.status == "diverged" and not self.early_stopping:
            raise ValueError(f"{NON_FINITE} ({run.message})")
        if run.status == "completed" and not incremental:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                          "optimization hasn't converged yet.", ConvergenceWarning, stacklevel=3)

    def _config(self, batch_size, epochs, dtype, n_outputs) -> TrainConfig:
        """These parameters as the engine's ``TrainConfig`` (whose ``validate`` checks them)."""
        solver = {"sgd": "momentum" if self.momentum > 0 else "sgd", "lbfgs": "sgd"}.get(self.solver, self.solver)
        # scikit-learn's schedules act on SGD only; with Adam the rate stays constant.
        schedule = self.learning_rate if self.solver == "sgd" or self.learning_rate == "cosine" else "constant"
        return TrainConfig(
            hidden_layer_sizes=self._hidden_sizes(), activation=self._hidden_activations(),
            output_activation=self._output_activation(n_outputs), loss=self._loss_names.get(self.loss, self.loss),
            optimizer=solver, learning_rate=self.learning_rate_init, momentum=self.momentum,
            nesterov=bool(self.nesterovs_momentum), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
            alpha=self.alpha, epochs=epochs, batch_size=batch_size, shuffle=bool(self.shuffle),
            validation_fraction=self.validation_fraction, early_stopping=bool(self.early_stopping),
            n_iter_no_change=self.n_iter_no_change, tol=self.tol, seed=0, dtype=dtype, input_scale=1.0,
            connectivity=self.connectivity, set_epsilon=self.set_epsilon, density=self.density, zeta=self.zeta,
            sparse_output=bool(self.sparse_output), schedule=schedule, power_t=self.power_t,
            stop_on_plateau=not self.early_stopping, dropout=self.dropout)

    def _check_own_params(self):
        """The parameters ``TrainConfig`` does not have, in scikit-learn's words."""
        name = type(self).__name__

        def need(ok, parameter, allowed):
            if not ok:
                raise ValueError(f"The '{parameter}' parameter of {name} must be {allowed}. "
                                 f"Got {getattr(self, parameter)!r} instead.")

        need(self.solver in SOLVERS, "solver", f"a str among {set(SOLVERS)}")
        need(self.learning_rate in SCHEDULES, "learning_rate", f"a str among {set(SCHEDULES)}")
        need(self.batch_size == "auto" or (isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1),
             "batch_size", "'auto' or an int in the range [1, inf)")
        need(isinstance(self.max_fun, numbers.Integral) and self.max_fun >= 1, "max_fun",
             "an int in the range [1, inf)")
        need(self.loss in self._loss_names, "loss", f"a str among {set(self._loss_names)}")
        need(self.dtype in (None, "float32", "float64", np.float32, np.float64), "dtype",
             "None, 'float32' or 'float64'")
        sizes = self.hidden_layer_sizes
        need(isinstance(sizes, numbers.Integral) or (hasattr(sizes, "__len__") and not isinstance(sizes, str)),
             "hidden_layer_sizes", "an int or an array-like of ints")

    def _start_network(self, n_features, n_outputs, dtype, first_pass) -> Network:
        """The Network to train: scikit-learn's initial weights, or ``coefs_``/``intercepts_`` as they stand.

        A sparse topology is a mask on the Network (see ``mlp.sparse``), drawn here after the weights.
        """
        # scikit-learn's stream: a RandomState from random_state at every fit, drawn from in its
        # order (initial weights, validation split, epoch orders), so float64 runs give its weights.
        self._random_state = check_random_state(self.random_state)
        if not first_pass:
            for name, value in (("t_", 0), ("loss_curve_", []), ("_no_improvement_count", 0)):
                if not hasattr(self, name):
                    setattr(self, name, value)
            self._start_records(keep=True)
            return self._network(dtype)
        for name in ("_optimizer", "_best", "coef_masks_", "_rng"):
            self.__dict__.pop(name, None)
        net = self._new_network(n_features, n_outputs, dtype)
        self._initialize(net)
        if self.connectivity != "dense":
            dens = layer_densities(net.sizes, self.set_epsilon, self.density, self.sparse_output)
            sparsify(net, dens, self._generator(), keep_init=True)
        self.t_, self.loss_curve_, self._no_improvement_count = 0, [], 0
        self._start_records(keep=False)
        return net

    def _needs_generator(self) -> bool:
        """Draws scikit-learn has no stream for (SET's rewiring, dropout masks) need a NumPy Generator."""
        return self.connectivity == "set" or bool(np.any(np.asarray(self.dropout) > 0))

    def _generator(self):
        """Our NumPy Generator (sparse masks, SET, dropout), seeded from scikit-learn's stream when first
        needed, after the initial weights: a dense fit without dropout draws exactly scikit-learn's numbers."""
        if getattr(self, "_rng", None) is None:
            self._rng = np.random.default_rng(self._random_state.randint(2**31 - 1))
        return self._rng

    def _start_records(self, keep):
        """scikit-learn's stopping records: new ones for new weights; kept by a warm start (and
        started if early stopping was newly switched on)."""
        if self.early_stopping:
            if not keep or getattr(self, "validation_scores_", None) is None:
                self.validation_scores_, self.best_validation_score_ = [], -math.inf
            self.best_loss_ = None
        else:
            if not keep or getattr(self, "best_loss_", None) is None:
                self.best_loss_ = math.inf
            self.validation_scores_ = self.best_validation_score_ = None

    def _new_network(self, n_features, n_outputs, dtype) -> Network:
        sizes = (n_features, *self._hidden_sizes(), n_outputs)
        acts = (*self._hidden_activations(), self._output_activation(n_outputs))
        # seed=0 only fills the weights the caller overwrites; it leaves NumPy's global state alone.
        return Network(sizes, acts, seed=0, dtype=dtype)

    def _initialize(self, net):
        """scikit-learn's initialisation: weights and biases uniform in ±sqrt(factor / (fan_in + fan_out)),
        factor 2 for the logistic activation, else 6. scikit-learn has one activation for every
        layer; with one per hidden layer, layer i takes hidden layer i's, the output layer the last's."""
        hidden = self._hidden_activations()
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            act = hidden[min(i, len(hidden) - 1)] if hidden else self._single_activation()
            factor = 2.0 if ALIASES.get(act, act) == "sigmoid" else 6.0
            bound = math.sqrt(factor / sum(w.shape))
            w[...] = self._random_state.uniform(-bound, bound, w.shape)
            b[...] = self._random_state.uniform(-bound, bound, b.shape)

    def _network(self, dtype=None) -> Network:
        """A Network holding ``coefs_`` and ``intercepts_`` (copied), to predict with or train on."""
        n_outputs = np.shape(self.coefs_[-1])[-1] if len(self.coefs_) else 0
        expected = (self.n_features_in_, *self._hidden_sizes(), n_outputs)
        shapes = [tuple(np.shape(c)) for c in self.coefs_]
        if shapes != list(zip(expected[:-1], expected[1:])) or len(self.intercepts_) != len(shapes):
            raise ValueError(f"coefs_ has layer shapes {shapes}, but this estimator's layers are "
                             f"{list(zip(expected[:-1], expected[1:]))}")
        dtype = dtype or np.asarray(self.coefs_[0]).dtype
        net = self._new_network(self.n_features_in_, n_outputs, dtype)
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
        self.out_activation_ = {"sigmoid": "logistic"}.get(net.activations[-1].name, net.activations[-1].name)

    def _outputs(self, X):
        """The output layer's activations for X, validated as scikit-learn validates it."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False, dtype=(np.float64, np.float32))
        return network_outputs(self._network(), X)

    def _loss_grad_lbfgs(self, packed, X, y, sample_weight, *buffers):
        """scikit-learn's private (loss, gradient) of a parameter vector packed its way (all weights,
        then all biases), which its test of the gradient calls; the work is ``mlp.lbfgs``'s."""
        net = self._network(np.asarray(packed).dtype)
        order = _sklearn_order(net)
        params = np.asarray(packed)[order]
        Y = np.asarray(y, dtype=net.dtype).reshape(len(y), -1)
        objective = lbfgs.Objective(net, X, Y, self._config(16, 1, net.dtype.name, Y.shape[1]).loss, self.alpha,
                                    sample_weight)
        value, grad = objective(params)
        packed_grad = np.empty_like(grad)
        packed_grad[order] = grad
        return value, packed_grad

    # ---- parameters --------------------------------------------------------------------------

    def _hidden_sizes(self) -> tuple:
        sizes = self.hidden_layer_sizes
        return (int(sizes),) if isinstance(sizes, numbers.Integral) else tuple(sizes)

    def _single_activation(self) -> str:
        act = self.activation
        return act if isinstance(act, str) else (act[-1] if len(act) else "relu")

    def _hidden_activations(self) -> tuple:
        n = len(self._hidden_sizes())
        return (self.activation,) * n if isinstance(self.activation, str) else tuple(self.activation)


class _SklearnShuffle:
    """scikit-learn's epoch orders from its RandomState: each epoch reshuffles the previous order
    (``sklearn.utils.shuffle`` of the indices); ``Training`` asks for them through ``permutation``."""

    def __init__(self, random_state):
        self.random_state, self.order = random_state, None

    def permutation(self, n):
        step = self.random_state.permutation(n)
        self.order = step if self.order is None or len(self.order) != n else self.order[step]
        return self.order


def _sklearn_order(net: Network) -> np.ndarray:
    """Indices into scikit-learn's packed vector (all weights, then all biases) in our layout's order."""
    weights, biases, start = [], [], 0
    for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:]):
        weights.append(np.arange(start, start + n_in * n_out).reshape(n_in, n_out))
        start += n_in * n_out
    for n_out in net.sizes[1:]:
        biases.append(np.arange(start, start + n_out)[None, :])
        start += n_out
    return np.concatenate([np.vstack([w, b]).ravel() for w, b in zip(weights, biases)])


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multi-layer perceptron classifier with scikit-learn's API and parameters, trained by ``mlp``.

    See the module docstring for what matches scikit-learn's ``MLPClassifier`` and what does
    not. Two classes (or one) use one logistic output unit, several a softmax, multilabel
    targets one logistic unit per label. Fitted attributes: ``classes_``, ``n_features_in_``
    (and ``feature_names_in_`` for a DataFrame), ``coefs_`` (list of (n_in, n_out) arrays),
    ``intercepts_`` (list of (n_out,)), ``n_iter_``, ``t_``, ``loss_``, ``loss_curve_``,
    ``best_loss_`` (None with early stopping), ``validation_scores_``, ``best_validation_score_``
    (None without), ``n_layers_``, ``n_outputs_``, ``out_activation_``.
    """

    _loss_names = {"log_loss": "cross_entropy", "cross_entropy": "cross_entropy", "mse": "mse",
                   "mse_as_published": "mse_as_published"}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, loss="log_loss", dtype=None,
                 connectivity="dense", set_epsilon=20.0, density=None, zeta=0.3, sparse_output=False, dropout=0.0):
        _set_params(self, locals())

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing from ``coefs_``/``intercepts_`` and the optimiser's state.

        ``classes`` (all labels that will ever appear) is required on the first call.
        """
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is not None:
            classes = unique_labels(classes)
            if not first and not np.array_equal(classes, self.classes_):
                raise ValueError(f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                                 f"was: {self.classes_!r}")
        if first:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if type_of_target(y).startswith("multilabel") else classes)
            self.classes_ = self._label_binarizer.classes_
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``."""
        out = self._outputs(X)
        return np.hstack([1 - out, out]) if out.shape[1] == 1 else out

    def predict_log_proba(self, X):
        """The log of ``predict_proba(X)``."""
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba, out=proba)

    def predict(self, X):
        """Predicted labels (n_samples,) from ``classes_`` (multilabel: an indicator matrix)."""
        out = self._outputs(X)
        return self._label_binarizer.inverse_transform(out.ravel() if out.shape[1] == 1 else out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _output_activation(self, n_outputs):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "sigmoid"

    def _validate_input(self, X, y, incremental, reset):
        """X checked and y encoded as scikit-learn's MLPClassifier does: (X, targets, target kind)."""
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_labels(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                     f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        kind = "multilabel" if self._label_binarizer.y_type_.startswith("multilabel") else "onehot"
        return X, self._label_binarizer.transform(y).astype(X.dtype), kind


def _set_params(estimator, params):
    """Store ``__init__``'s arguments as they are (scikit-learn's convention)."""
    for name, value in params.items():
        if name != "self" and not name.startswith("__"):
            setattr(estimator, name, value)
