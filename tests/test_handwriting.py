"""A visitor's own handwriting set: bounded, its file round-trips and refuses anything else with a
sentence, and a fine-tune on it is tested on digits it never trained on and leaves the model alone."""
import io
import zipfile

import numpy as np
import pytest

import mlp
from mlp.datasets import load_digits_split
from ui import handwriting_core as hc


@pytest.fixture(scope="module")
def split():
    return load_digits_split()   # X_train, X_test, y_train, y_test


def a_set(n, seed=0):
    rng = np.random.default_rng(seed)
    hw = hc.Handwriting()
    for i in range(n):
        assert hw.add(rng.uniform(0, 16, (8, 8)), i % 10)
    return hw


def test_the_set_is_bounded_and_prunable():
    hw = a_set(5)
    hw.remove([0, 3, 99])
    assert len(hw) == 3 and hw.y.tolist() == [1, 2, 4]
    with pytest.raises(ValueError):
        hw.add(np.zeros(64), 10)
    big = hc.Handwriting(np.zeros((hc.MAX_DIGITS - 1, 64), np.float32), np.zeros(hc.MAX_DIGITS - 1, np.int64))
    assert big.add(np.zeros(64), 1) and big.full and not big.add(np.zeros(64), 1)
    assert len(big) == hc.MAX_DIGITS
    assert big.extend(a_set(3)) == 0


def test_the_file_round_trips_without_pickle():
    hw = a_set(12)
    data = hc.to_bytes(hw)
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:   # plain arrays only
        assert set(npz.files) == {"meta", "X", "y"}
    back = hc.from_bytes(data)
    np.testing.assert_array_equal(back.X, hw.X)
    np.testing.assert_array_equal(back.y, hw.y)


def _npz(**arrays):
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _png():
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (8, 8)).save(out, format="PNG")
    return out.getvalue()


GOOD_META = np.array('{"format": "mlp-lab-handwriting", "version": 1, "n": 1}')


@pytest.mark.parametrize("data, words", [
    (b"hello, I am a text file", "not a handwriting file saved by MLP Lab"),
    (_png(), "not a handwriting file saved by MLP Lab"),
    (b"x" * (hc.MAX_FILE_BYTES + 1), "KB"),
    (_npz(meta=GOOD_META, X=np.zeros((1, 64)), y=np.zeros(1, int), extra=np.zeros(1)), "not a handwriting file"),
    (_npz(meta=np.array('{"format": "mlp-lab-model"}'), X=np.zeros((1, 64)), y=np.zeros(1, int)), "not a handwriting"),
    (_npz(meta=GOOD_META, X=np.zeros((1, 63)), y=np.zeros(1, int)), "not 8×8"),
    (_npz(meta=GOOD_META, X=np.full((1, 64), 99.0), y=np.zeros(1, int)), "between 0 and 16"),
    (_npz(meta=GOOD_META, X=np.zeros((1, 64)), y=np.array([12])), "digits 0 to 9"),
    (_npz(meta=GOOD_META, X=np.zeros((2, 64)), y=np.zeros(1, int)), "one whole-number label per digit"),
    (_npz(meta=GOOD_META, X=np.zeros((hc.MAX_DIGITS + 1, 64)), y=np.zeros(hc.MAX_DIGITS + 1, int)),
     f"more than {hc.MAX_DIGITS} digits"),
    (_npz(meta=GOOD_META, X=np.array([object()] * 64, dtype=object).reshape(1, 64), y=np.zeros(1, int)),
     "Python objects"),
])
def test_anything_else_is_refused_with_a_sentence(data, words):
    with pytest.raises(hc.HandwritingFileError, match=words):
        hc.from_bytes(data)


def test_a_zip_bomb_is_refused_before_unpacking():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("meta.npy", "y.npy"):
            z.writestr(name, b"")
        z.writestr("X.npy", b"\0" * 50_000_000)                 # 50 MB unpacked, ~50 KB packed
    assert len(out.getvalue()) < hc.MAX_FILE_BYTES
    with pytest.raises(hc.HandwritingFileError, match="more than"):
        hc.from_bytes(out.getvalue())


def test_kept_apart_digits_are_a_fixed_share_and_leave_some_to_train():
    for n in (2, 6, 30, 500):
        test = hc.kept_apart(n)
        assert 1 <= test.sum() < n and abs(test.sum() - 0.3 * n) <= 1
        assert np.array_equal(test, hc.kept_apart(n))


def test_finetune_learns_a_new_style_on_digits_it_never_saw(split):
    """A "style" load_digits never had (every stroke thickened, as with a marker): a small model
    reads about two thirds of them; fine-tuned on 42 of 60 it reads the 18 kept apart better,
    keeps its held-out accuracy, and the model passed in is left as it was."""
    from scipy import ndimage

    X_train, X_test, y_train, y_test = split
    model = mlp.TrainedModel.from_run(mlp.train(mlp.TrainConfig(hidden_layer_sizes=(64,), epochs=15,
                                                                learning_rate=3e-3, batch_size=64),
                                                X_train, y_train).run())
    before = model.network.params.copy()
    pick = np.concatenate([np.flatnonzero(y_test == d)[:6] for d in range(10)])
    hw = hc.Handwriting()
    for i in pick:
        hw.add(np.minimum(16, ndimage.grey_dilation(X_test[i].reshape(8, 8), size=(2, 2))), y_test[i])
    rest = np.setdiff1d(np.arange(len(y_test)), pick)
    result = hc.finetune(model, hw, X_train, y_train, X_test[rest], y_test[rest])
    np.testing.assert_array_equal(model.network.params, before)          # the original is untouched
    assert result.n_own_test == 18 and result.n_trained == 42
    assert result.own_after >= result.own_before + 0.1                     # measured: 0.67 -> 0.89
    assert result.digits_after > result.digits_before - 0.02
    test = hc.kept_apart(len(hw))
    assert result.own_after == pytest.approx(np.mean(result.model.predict(hw.X[test]) == hw.y[test]))


def test_finetune_needs_a_few_digits(split):
    X_train, X_test, y_train, y_test = split
    with pytest.raises(ValueError, match="at least"):
        hc.finetune(mlp.default_model(), a_set(hc.MIN_TO_FINETUNE - 1), X_train, y_train, X_test, y_test)


def test_a_finetune_job_trains_in_the_background_and_reports_errors_as_sentences(split):
    X_train, X_test, y_train, y_test = split
    job = hc.FinetuneJob(mlp.default_model(), a_set(2), X_train, y_train, X_test, y_test)
    assert job.join(60) and job.done and job.result is None
    assert job.error == f"Could not fine-tune: needs at least {hc.MIN_TO_FINETUNE} of your digits, has 2."


def test_a_stopped_finetune_ends_before_its_next_batch_with_no_result(split):
    """stop() (the sweeper's, when the visitor has left) acts mid-epoch, as a training run's does."""
    import time

    X_train, X_test, y_train, y_test = split
    # ~85k parameters (fine-tuned whole) on the training digits 8 times over: an epoch takes ~2 s here.
    small = mlp.train(mlp.TrainConfig(hidden_layer_sizes=(256, 256), epochs=1), X_train, y_train).run()
    job = hc.FinetuneJob(mlp.TrainedModel.from_run(small), a_set(12), np.tile(X_train, (8, 1)),
                         np.tile(y_train, 8), X_test, y_test)
    deadline = time.monotonic() + 60
    while job._run is None or not job._run.history:                   # one epoch done, four to go
        assert time.monotonic() < deadline and not job.done, "the fine-tune never finished an epoch"
        time.sleep(0.01)
    t = time.monotonic()
    job.stop()
    assert job.join(30) and time.monotonic() - t < 1.0
    assert job.result is None and job.error == "The fine-tune was stopped."
    early = hc.FinetuneJob(mlp.TrainedModel.from_run(small), a_set(12), X_train, y_train, X_test, y_test)
    early.stop()                                                      # before its run exists, too
    assert early.join(30) and early.result is None and early.error == "The fine-tune was stopped."
