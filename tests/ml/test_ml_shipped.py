"""The default composition model ships in the package: its file matches its card (hash, settings, training
data), a fresh install loads it without training, a tampered copy is refused, and the documented training
command reproduces it."""
import json
import shutil

import numpy as np
import pytest

from perovscreen.core.errors import ModelError
from perovscreen.core.hashing import file_sha256
from perovscreen.features.descriptors import COMPOSITION_NAMES, DESCRIPTOR_VERSION
from perovscreen.ml.cards import card_path
from perovscreen.ml.train import load_property_model, resolve_model_path, shipped_model_path

SHIPPED = shipped_model_path("composition")


def test_shipped_file_matches_its_card():
    card = json.loads(card_path(SHIPPED).read_text())
    assert card["sha256"] == file_sha256(SHIPPED) and card["model_file"] == SHIPPED.name
    assert card["descriptor_set"] == "composition" and card["descriptor_version"] == DESCRIPTOR_VERSION
    assert card["features"] == [f for f in COMPOSITION_NAMES if f in card["features"]]
    assert set(card["targets"]) == {"log10_sigma", "Ea", "n_li_sites"}
    assert card["training_command"].startswith("perovscreen ml train") and "--out" in card["training_command"]
    from perovscreen.ml.dataset import obelix_table

    # the training data it records is the shared OBELiX split as this checkout reads it
    assert card["training_data"]["sha256"] == obelix_table(None).data_hash()
    assert SHIPPED.stat().st_size < 15e6  # keep the package reasonable


def test_fresh_install_uses_the_shipped_model(tmp_path, monkeypatch):
    monkeypatch.setenv("PEROVSCREEN_MODELS", str(tmp_path / "empty"))
    assert resolve_model_path("composition") == SHIPPED  # no training needed
    from perovscreen.features.composition import featurize_compositions

    model, card = load_property_model()
    X = featurize_compositions(["Li0.33La0.56TiO3", "Li7La3Zr2O12"])
    out = model.predict_arrays(X[:, [COMPOSITION_NAMES.index(f) for f in model.features]])
    v, lo, hi = out["log10_sigma"]
    assert np.isfinite(v).all() and (lo < v).all() and (v < hi).all()
    v, lo, hi = out["Ea"]
    assert (lo > 0).all() and (lo <= v).all() and (v <= hi).all()  # Ea in log space: > 0
    trained = tmp_path / "empty" / "ml_composition.skops"  # a user-trained model takes precedence
    trained.parent.mkdir()
    trained.write_bytes(b"x")
    assert resolve_model_path("composition") == trained


def test_tampered_shipped_copy_is_refused(tmp_path):
    copy = tmp_path / SHIPPED.name
    shutil.copy(SHIPPED, copy)
    shutil.copy(card_path(SHIPPED), card_path(copy))
    load_property_model(copy)  # an exact copy loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_property_model(copy)


@pytest.mark.slow
def test_training_command_reproduces_the_shipped_model(tmp_path):
    """Rerun the card's command (into tmp): the same settings and the same predictions to float precision."""
    import argparse
    import shlex

    from perovscreen.cli.ml import add_parser
    from perovscreen.features.composition import featurize_compositions

    card = json.loads(card_path(SHIPPED).read_text())
    argv = shlex.split(card["training_command"])[1:]
    argv[argv.index("--out") + 1] = str(tmp_path / "m.skops")
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    new, new_card = load_property_model(tmp_path / "m.skops")
    old, _ = load_property_model(SHIPPED)
    assert [h["params"] for h in new_card["heads"]] == [h["params"] for h in card["heads"]]
    X = featurize_compositions(["Li0.33La0.56TiO3", "Li7La3Zr2O12", "Li3OCl", "Li6PS5Cl"])
    cols = [COMPOSITION_NAMES.index(f) for f in old.features]
    a, b = old.predict_arrays(X[:, cols]), new.predict_arrays(X[:, cols])
    for t in a:
        for x, y in zip(a[t], b[t]):
            np.testing.assert_allclose(x, y, rtol=1e-6)


def test_shipped_ea_model_matches_its_card():
    from perovscreen.bvse.calibrate import DEFAULT_PARAMS
    from perovscreen.ml.ea import SHIPPED_EA, feature_set, load_ea_model

    card = json.loads(card_path(SHIPPED_EA).read_text())
    assert card["sha256"] == file_sha256(SHIPPED_EA) and card["features"] == feature_set("combined")
    assert card["bvse_params"] == DEFAULT_PARAMS  # features computed at the BVSE calibration's settings
    assert card["training_command"].startswith("python -m perovscreen.ml.ea") and "--train" in card["training_command"]
    assert card["training_data"]["rows"] == 154 and SHIPPED_EA.stat().st_size < 5e6
    model, _ = load_ea_model()
    assert model.targets == ["log_Ea"]
