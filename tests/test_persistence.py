"""Saved models: a faithful round trip, and one clear error for anything that is not a model file."""
import io
import json
import pickle
import zipfile

import numpy as np
import pytest

from mlp import ModelFileError, TrainConfig, TrainedModel, load_model, model_to_bytes, save_model, train
from mlp.datasets import load_digits_split


@pytest.fixture(scope="module")
def model():
    X_train, _, y_train, _ = load_digits_split()
    config = TrainConfig(hidden_layer_sizes=(16, 8), activation=("tanh", "relu"), epochs=3, seed=4)
    return TrainedModel.from_run(train(config, X_train, y_train).run())


def arrays_of(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def rewrite(data: bytes, **changes) -> bytes:
    arrays = {**arrays_of(data), **changes}
    buf = io.BytesIO()
    np.savez(buf, **{k: v for k, v in arrays.items() if v is not None})
    return buf.getvalue()


def test_round_trip_keeps_everything(model, tmp_path):
    path = tmp_path / "m.npz"
    save_model(model, path)
    back = load_model(path, n_features=64)
    _, X_test, _, _ = load_digits_split()
    np.testing.assert_array_equal(back.network.params, model.network.params)
    np.testing.assert_array_equal(back.predict_proba(X_test), model.predict_proba(X_test))
    assert back.config == model.config and back.history == model.history
    assert [a.name for a in back.network.activations] == ["tanh", "relu", "softmax"]
    assert back.classes.tolist() == model.classes.tolist()


def test_string_labels_survive(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 4))
    y = np.array(["cat", "dog", "emu"] * 10)
    m = TrainedModel.from_run(train(TrainConfig(hidden_layer_sizes=(5,), epochs=2, input_scale=1.0), X, y).run())
    assert load_model(model_to_bytes(m)).predict(X).tolist() == m.predict(X).tolist()


def meta_with(data, **changes):
    meta = json.loads(str(arrays_of(data)["meta"]))
    meta.update(changes)
    return np.array(json.dumps(meta))


@pytest.mark.parametrize("case", [
    "empty", "text", "pickle", "truncated", "zip_without_meta", "meta_not_json", "wrong_format",
    "unknown_activation", "sizes_do_not_chain", "nan_weight", "wrong_dtype", "extra_array",
    "too_few_classes", "bad_config", "mask_not_binary", "unknown_storage", "half_without_storage",
])
def test_anything_else_raises_one_clear_error(model, case):
    good = model_to_bytes(model)
    layer0 = arrays_of(good)["layer_0"]
    bad = {
        "empty": b"",
        "text": b"hello, I am not a model",
        "pickle": pickle.dumps(model),
        "truncated": good[: len(good) // 2],
        "zip_without_meta": rewrite(good, meta=None),
        "meta_not_json": rewrite(good, meta=np.array("{not json")),
        "wrong_format": rewrite(good, meta=meta_with(good, format="something-else")),
        "unknown_activation": rewrite(good, meta=meta_with(good, activations=["tanh", "os.system", "softmax"])),
        "sizes_do_not_chain": rewrite(good, layer_0=np.zeros((30, 16))),
        "nan_weight": rewrite(good, layer_0=np.where(np.arange(layer0.size).reshape(layer0.shape) == 3, np.nan,
                                                     layer0)),
        "wrong_dtype": rewrite(good, layer_0=layer0.astype(np.float32)),
        "extra_array": rewrite(good, payload=np.zeros(3)),
        "too_few_classes": rewrite(good, meta=meta_with(good, classes=[0, 1])),
        "bad_config": rewrite(good, meta=meta_with(good, config={"epochs": -1})),
        "mask_not_binary": rewrite(good, mask=np.full(model.network.params.shape, 0.5)),
        "unknown_storage": rewrite(good, meta=meta_with(good, storage="int8")),
        "half_without_storage": rewrite(good, layer_0=layer0.astype(np.float16)),
    }[case]
    with pytest.raises(ModelFileError) as e:
        load_model(bad, n_features=64)
    message = str(e.value)
    assert message[0].isupper() and message.endswith((".", ")")) and "Traceback" not in message


def test_half_precision_storage_halves_the_file_and_loads_in_the_models_dtype(model, tmp_path):
    full, half = tmp_path / "full.npz", tmp_path / "half.npz"
    save_model(model, full)
    save_model(model, half, storage="float16")
    back = load_model(half, n_features=64)
    assert back.network.dtype == model.network.dtype
    np.testing.assert_array_equal(back.network.params, model.network.params.astype(np.float16))
    assert half.stat().st_size < 0.6 * full.stat().st_size + 4096
    _, X_test, _, _ = load_digits_split()
    assert np.mean(back.predict(X_test) == model.predict(X_test)) > 0.99
    assert back.config == model.config and back.history == model.history


def test_half_precision_storage_refuses_weights_out_of_its_range(model):
    big = TrainedModel(model.network.copy(), model.classes, model.config, model.history)
    big.network.params[0] = 1e6
    with pytest.raises(ValueError, match="float16"):
        save_model(big, io.BytesIO(), storage="float16")
    with pytest.raises(ValueError, match="storage"):
        save_model(model, io.BytesIO(), storage="int8")


def test_a_model_for_other_inputs_is_refused_for_digits():
    X = np.zeros((6, 5))
    y = np.array([0, 1, 2] * 2)
    m = TrainedModel.from_run(train(TrainConfig(hidden_layer_sizes=(3,), epochs=1), X, y).run())
    load_model(model_to_bytes(m))                       # fine when any input size will do
    with pytest.raises(ModelFileError, match="64"):
        load_model(model_to_bytes(m), n_features=64)


def test_the_file_is_a_plain_zip_of_arrays(model):
    with zipfile.ZipFile(io.BytesIO(model_to_bytes(model))) as z:
        assert sorted(z.namelist()) == ["layer_0.npy", "layer_1.npy", "layer_2.npy", "meta.npy"]
