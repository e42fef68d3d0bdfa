"""Bad input to ``train()`` gets scikit-learn's kind of answer: a ValueError that says what is wrong
(the checks ``MLPClassifier`` applies, from the one validator both use); and the loop that sparse
or weighted input goes through stops between batches like the fast one."""
import numpy as np
import pytest

from mlp import MLPClassifier, TrainConfig, Training, train

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
CONFIG = TrainConfig(hidden_layer_sizes=(4,), epochs=2)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((30, 5)), np.arange(30) % 3


def test_two_dimensional_y_is_a_value_error(data):
    X, y = data
    with pytest.raises(ValueError, match=r"y should be a 1d array, got an array of shape \(30, 2\)"):
        train(CONFIG, X, np.stack([y, y], axis=1))


def test_a_nan_label_is_refused(data):
    X, y = data
    y = y.astype(float)
    y[4] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        train(CONFIG, X, y)


def test_one_class_is_refused_by_train_and_learned_by_the_estimator(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class.*at least 2 classes"):
        train(CONFIG, X, np.full(30, 7))
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, np.full(30, 7))
    assert (est.predict(X) == 7).all()   # scikit-learn's behaviour: it fits and predicts that class


def test_one_row_is_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="at least 2 samples"):
        train(CONFIG, X[:1], y[:1])


def test_a_validation_split_that_leaves_no_training_rows_says_so(data):
    X, y = data
    with pytest.raises(ValueError, match="leaves 0 for training"):
        train(CONFIG.replace(validation_fraction=0.99), X, y)


@pytest.mark.parametrize("X,message", [(np.ones(30), "Expected 2D array"), (np.full((30, 5), np.inf), "infinity"),
                                       (np.ones((29, 5)), "inconsistent numbers of samples")])
def test_bad_x_is_refused_like_the_estimator_refuses_it(data, X, message):
    _, y = data
    with pytest.raises(ValueError, match=message):
        train(CONFIG, X, y)
    with pytest.raises(ValueError, match=message):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2).fit(X, y)


@pytest.mark.parametrize("kind", ["weighted", "sparse"])
def test_stop_acts_between_batches_in_the_weighted_and_sparse_loop(data, kind):
    """Weighted or sparse data go a batch at a time through their own loop; stop() acts there too
    and the model goes back to the last finished epoch (here: the start)."""
    from scipy import sparse

    X, y = data
    extra = {"sample_weight": np.linspace(0.5, 2.0, len(y))} if kind == "weighted" else {}
    run = Training(CONFIG.replace(batch_size=5), sparse.csr_matrix(X) if kind == "sparse" else X, y, **extra)
    start, steps, step = run.model.params.copy(), [], run.optimizer.step

    def step_then_stop(params, grads):
        step(params, grads)
        steps.append(1)
        if len(steps) == 2:
            run.stop()
    run.optimizer.step = step_then_stop
    assert list(run) == [] and run.status == "stopped" and len(steps) == 2
    np.testing.assert_array_equal(run.model.params, start)
    assert "no epoch ran" in run.message
