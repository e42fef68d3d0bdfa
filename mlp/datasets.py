"""The digits data the product trains on: scikit-learn's ``load_digits`` and its held-out split."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

TEST_SIZE = 0.25
SPLIT_SEED = 0


@lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def load_digits_split():
    """(X_train, X_test, y_train, y_test): a stratified 25% held-out split, random_state=0.

    X is (n, 64) with values 0..16 (8×8 images, row-major); y is (n,) labels 0..9. The arrays
    are fresh copies, so callers may modify them.
    """
    from sklearn.model_selection import train_test_split

    X, y = _digits()
    parts = train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED)
    return tuple(np.array(p, copy=True) for p in parts)
