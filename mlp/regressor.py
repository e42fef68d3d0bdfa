"""``MLPRegressor``: scikit-learn's multi-layer perceptron regressor on the engine (see ``mlp.estimator``)."""
from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d, validate_data

from .estimator import BaseMLP, _set_params


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multi-layer perceptron regressor with scikit-learn's API and parameters, trained by ``mlp``.

    Identity output with ``loss="squared_error"``, exp output with ``loss="poisson"``; ``score``
    is R², and early stopping watches the validation R². Fitted attributes as the classifier's
    (without ``classes_``).
    """

    _loss_names = {"squared_error": "mse", "poisson": "poisson"}

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000, dtype=None, connectivity="dense",
                 set_epsilon=20.0, density=None, zeta=0.3, sparse_output=False, dropout=0.0):
        _set_params(self, locals())

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from ``coefs_``/``intercepts_`` and the optimiser's state."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted values: (n_samples,) for one target, else (n_samples, n_targets)."""
        out = self._outputs(X)
        return out.ravel() if out.shape[1] == 1 else out

    def _output_activation(self, n_outputs):
        return "exp" if self.loss == "poisson" else "identity"

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, np.asarray(y, dtype=X.dtype).reshape(len(y), -1), "regression"
