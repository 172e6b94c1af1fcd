"""Model cards: skops round trip, SHA-256 check, card mismatch and untrusted types refused."""
import json

import numpy as np
import pandas as pd
import pytest

from perovscreen.core.errors import ModelError
from perovscreen.ml.cards import card_path, load_model, save_model
from perovscreen.ml.model import PropertyModel
from perovscreen.ml.train import load_property_model, save_property_model


@pytest.fixture()
def saved(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=list("abc"))
    Y = pd.DataFrame({"log10_sigma": X["a"] * 2, "Ea": X["b"]})
    m = PropertyModel(list("abc"), n_estimators=10, grid={}).fit(X, Y, np.arange(80), ["log10_sigma", "Ea"])
    card = {"model_format": "perovscreen.ml.PropertyModel/1", "features": list("abc"),
            "targets": ["log10_sigma", "Ea"], "descriptor_set": "composition", "kind": "rf"}
    path = tmp_path / "m.skops"
    save_property_model(m, card, path)
    return m, X, path


def test_round_trip(saved):
    m, X, path = saved
    m2, card = load_property_model(path)
    a, b = m.predict_arrays(X), m2.predict_arrays(X)
    for t in ("log10_sigma", "Ea"):
        np.testing.assert_array_equal(a[t][0], b[t][0])
        np.testing.assert_array_equal(a[t][2], b[t][2])
    assert card["sha256"] and card["libraries"]["scikit-learn"]


def test_tampered_file_refused(saved):
    _, _, path = saved
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_property_model(path)


def test_missing_or_mismatched_card_refused(saved):
    _, _, path = saved
    cp = card_path(path)
    card = json.loads(cp.read_text())
    card["features"] = ["a", "b", "x"]
    cp.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="do not match"):
        load_property_model(path)
    cp.unlink()
    with pytest.raises(ModelError, match="card"):
        load_property_model(path)


class Gadget:  # an arbitrary class: skops must not instantiate it without explicit trust
    def __init__(self):
        self.x = 1


def test_untrusted_type_refused(tmp_path):
    p = save_model({"g": Gadget()}, tmp_path / "g.skops", {"name": "gadget"})
    with pytest.raises(ModelError, match="untrusted"):
        load_model(p)
    obj, _ = load_model(p, trusted_types=[f"{__name__}.Gadget"])
    assert obj["g"].x == 1
