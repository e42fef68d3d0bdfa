"""Hostile and careless model files (issue 17): each one gets one ModelFileError with a sentence,
checked before anything large is allocated, through the API and through the page's uploader."""
import io
import json
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mlp import ModelFileError, TrainConfig, TrainedModel, load_model, model_to_bytes, train
from mlp.datasets import load_digits_split
from mlp.persistence import MAX_PARAMS
from st_helpers import show_tab

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MB = 1 << 20


@pytest.fixture(scope="module")
def model():
    X_train, _, y_train, _ = load_digits_split()
    config = TrainConfig(hidden_layer_sizes=(16,), epochs=2, seed=1)
    return TrainedModel.from_run(train(config, X_train, y_train).run())


def members(data: bytes) -> dict:
    """name -> raw member bytes of an .npz."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def zipped(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, payload in files.items():
            z.writestr(name, payload)
    return buf.getvalue()


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def header_only(shape, descr="<f8") -> bytes:
    """A .npy header declaring `shape`, followed by no data at all."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def with_meta_text(good: bytes, text: str) -> bytes:
    files = members(good)
    files["meta.npy"] = npy(np.array(text))
    return zipped(files)


def meta_of(good: bytes) -> dict:
    return json.loads(str(np.load(io.BytesIO(members(good)["meta.npy"]))))


def zeros_model(sizes) -> bytes:
    """A consistent file for a model of `sizes` whose weights are all zero (compresses to almost nothing)."""
    meta = {"format": "mlp-lab-model", "version": 1, "sizes": list(sizes),
            "activations": ["relu"] * (len(sizes) - 2) + ["softmax"], "input_scale": 0.0625, "dtype": "float64",
            "classes": list(range(sizes[-1])), "config": None, "history": []}
    files = {f"layer_{i}.npy": npy(np.zeros((a + 1, b))) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))}
    files["meta.npy"] = npy(np.array(json.dumps(meta)))
    return zipped(files)


def zip_bomb(good: bytes, gigabytes: float = 0.125) -> bytes:
    """layer_0.npy replaced by a consistent header and `gigabytes` of deflated zeros (~1000x smaller)."""
    n = int(gigabytes * 1024 ** 3) // 8
    files = members(good)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, payload in files.items():
            if name != "layer_0.npy":
                z.writestr(name, payload)
        with z.open("layer_0.npy", "w", force_zip64=True) as fh:
            fh.write(header_only((n // 10, 10)))
            block = bytes(16 * MB)
            for _ in range(n * 8 // len(block)):
                fh.write(block)
    return buf.getvalue()


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, format="PNG")
    return buf.getvalue()


def case_bytes(case: str, good: bytes) -> bytes:
    if case == "text_renamed":
        return b"These are my notes, not a model.\n" * 20
    if case == "png_renamed":
        return png_bytes()
    layers = members(good)
    meta = meta_of(good)
    if case == "infinity_in_settings":
        return with_meta_text(good, json.dumps({**meta, "config": {**meta["config"], "epochs": float("inf")}}))
    if case == "huge_float_in_settings":
        return with_meta_text(good, json.dumps(meta).replace('"input_scale": 0.0625', '"input_scale": 1e999'))
    if case == "deep_json":
        deep = "[" * 5000 + "]" * 5000
        return with_meta_text(good, json.dumps({**meta, "history": []})[:-1] + ', "x": ' + deep + "}")
    if case == "member_not_npy":
        del layers["layer_0.npy"]
        return zipped({**layers, "layer_0": b"just some bytes"})
    if case == "layer_not_npy":
        return zipped({**layers, "layer_0.npy": b"just some bytes, no header"})
    if case == "object_array":
        return zipped({**layers, "layer_0.npy": np.lib.format.magic(1, 0) + header_only((3,), "|O")[6:]})
    if case == "terabyte_header":
        return zipped({**layers, "layer_0.npy": header_only((10 ** 6, 10 ** 6))})
    if case == "header_bigger_than_data":
        return zipped({**layers, "layer_0.npy": header_only((65, 16)) + bytes(100)})
    if case == "zip_bomb":
        return zip_bomb(good)
    if case == "too_many_parameters":
        return zeros_model((64, 16_000, 64))   # 2.06 M parameters
    if case == "wide_but_few_layers":
        return zeros_model((64, 20_000, 10))
    if case == "many_layers":
        return zeros_model((64, *[2] * 40, 10))
    raise KeyError(case)


CASES = ["infinity_in_settings", "huge_float_in_settings", "deep_json", "member_not_npy", "layer_not_npy",
         "object_array", "terabyte_header", "header_bigger_than_data", "zip_bomb", "too_many_parameters",
         "wide_but_few_layers", "many_layers", "text_renamed", "png_renamed"]


@pytest.mark.parametrize("case", CASES)
def test_every_hostile_file_gets_one_sentence_and_costs_little_memory(model, case):
    bad = case_bytes(case, model_to_bytes(model))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as e:
            load_model(bad, n_features=64)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(e.value)
    assert message[0].isupper() and message.endswith((".", ")")) and "Traceback" not in message
    assert peak < len(bad) + 50 * MB, f"{case}: peak {peak / MB:.0f} MB"


def test_a_renamed_text_or_image_is_named_for_what_it_is(model):
    for case in ("text_renamed", "png_renamed"):
        with pytest.raises(ModelFileError, match="not a model file saved by MLP Lab") as e:
            load_model(case_bytes(case, b""))
        assert "pickle" not in str(e.value)


def test_the_largest_network_the_sidebar_makes_still_loads():
    from ui.sidebar import MAX_LAYERS, MAX_UNITS

    sizes = (64, *[MAX_UNITS] * MAX_LAYERS, 10)
    assert sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])) < MAX_PARAMS
    assert load_model(zeros_model(sizes), n_features=64).network.sizes == sizes


def test_weights_that_overflow_on_the_digits_are_refused_with_a_probe(model):
    huge = TrainedModel(model.network.copy(), model.classes, model.config, model.history)
    huge.network.params[...] = 1e308
    data = model_to_bytes(huge)
    _, X_test, _, _ = load_digits_split()
    assert load_model(data, n_features=64).network.params[0] == 1e308   # finite: the file itself is sound
    with pytest.raises(ModelFileError, match="overflow"):
        load_model(data, n_features=64, probe=X_test)


@pytest.fixture
def at():
    return AppTest.from_file(APP, default_timeout=120).run()


@pytest.mark.parametrize("case", ["infinity_in_settings", "deep_json", "member_not_npy", "terabyte_header",
                                  "too_many_parameters", "png_renamed", "overflowing_weights"])
def test_an_uploaded_hostile_file_shows_a_sentence_and_changes_nothing(at, model, case):
    if case == "overflowing_weights":
        huge = TrainedModel(model.network.copy(), model.classes, model.config, model.history)
        huge.network.params[...] = 1e308
        data = model_to_bytes(huge)
    else:
        data = case_bytes(case, model_to_bytes(model))
    show_tab(at, "Inspect")
    at.file_uploader(key="model_file").set_value(("bad.npz", data, "application/octet-stream")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any(e.startswith("Could not load bad.npz: ") for e in errors), errors
    assert at.session_state["lab"].model is None
