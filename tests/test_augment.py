"""Tests for mlp.augment: re-rendered load_digits digits stay digits, deterministically.
Its speed is measured by benchmarks/bench_augment.py, not here."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier

from mlp.augment import CHUNK, augment, augment_shared, render, upsample


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return data.data[:600], data.target[:600]


def test_shapes_ranges_and_labels(digits):
    X, y = digits
    X_aug, y_aug = augment(X[:50], y[:50], 3, np.random.default_rng(0))
    assert X_aug.shape == (150, 64) and y_aug.shape == (150,)
    assert X_aug.dtype == np.float64 and X_aug.min() >= 0 and X_aug.max() <= 16
    np.testing.assert_array_equal(y_aug, np.tile(y[:50], 3))
    assert np.all(X_aug.reshape(-1, 8, 8)[:, [0, 7]].any(axis=2)), "ink spans all 8 rows"


def test_deterministic_given_the_generator(digits):
    X, y = digits
    a, _ = augment(X[:40], y[:40], 2, np.random.default_rng(7))
    b, _ = augment(X[:40], y[:40], 2, np.random.default_rng(7))
    c, _ = augment(X[:40], y[:40], 2, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_a_remembered_augmentation_is_the_very_same_and_leaves_the_generator_where_a_new_one_would(digits):
    X, y = digits
    X, y = X[:300], y[:300]                               # three chunks
    fresh = np.random.default_rng(11)
    expected, _ = augment(X, y, 2, fresh)
    for _ in range(2):                                     # built, then remembered
        calls = []
        rng = np.random.default_rng(11)
        got, labels = augment_shared(X, y, 2, rng, calls.append)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(labels, np.tile(y, 2))
        assert rng.bit_generator.state == fresh.bit_generator.state   # the run's next draws are the same
        got[:] = -1                                        # the caller's copy: the kept one is untouched
    assert calls == [1.0]                                  # the second time nothing was re-rendered
    other, _ = augment_shared(X, y, 2, np.random.default_rng(12))
    assert not np.array_equal(other, expected)             # another generator state is another build


def test_a_cancelled_augmentation_is_not_remembered(digits):
    X, y = digits

    def cancel(fraction):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        augment_shared(X[:200], y[:200], 1, np.random.default_rng(21), cancel)
    calls = []
    augment_shared(X[:200], y[:200], 1, np.random.default_rng(21), calls.append)
    assert len(calls) == -(-200 // CHUNK)                   # built in full, chunk by chunk


def test_zero_copies_and_bad_arguments(digits):
    X, y = digits
    X_aug, y_aug = augment(X, y, 0, np.random.default_rng(0))
    assert X_aug.shape == (0, 64) and y_aug.shape == (0,)
    with pytest.raises(ValueError):
        augment(X, y, -1, np.random.default_rng(0))
    with pytest.raises(ValueError):
        augment(X, y[:-1], 1, np.random.default_rng(0))


def test_upsample_keeps_the_ink_share_of_each_block(digits):
    X, _ = digits
    ink = upsample(X[:20])
    inner = ink[:, 8:40, 8:40]  # the 32x32 middle of the 48x48 canvas
    blocks = inner.reshape(20, 8, 4, 8, 4).mean(axis=(2, 4)) * 16
    assert np.corrcoef(blocks.ravel(), X[:20].ravel())[0, 1] > 0.95


def test_rerendering_without_distortion_stays_close(digits):
    X, _ = digits
    assert np.abs(render(X) - X).mean() < 2.5  # out of 0..16; the pipeline is near-idempotent


def test_augmented_digits_still_carry_their_label(digits):
    # Oracle: a 3-NN fitted on distorted copies alone must still read clean digits. Measured
    # 0.74 (0.85 when fitted on the clean digits): the distortions are strong on purpose.
    X, y = digits
    X_aug, y_aug = augment(X[:400], y[:400], 2, np.random.default_rng(1))
    assert KNeighborsClassifier(3).fit(X_aug, y_aug).score(X[400:], y[400:]) > 0.65
    assert not np.allclose(X_aug[:400], X[:400]), "copies must differ from the originals"
