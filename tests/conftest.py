"""Fixtures shared across test folders."""
import pytest


@pytest.fixture(scope="session")
def tiny_ml_model(tmp_path_factory):
    """A small composition model trained on the OBELiX training split (30 trees: fast, still real)."""
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.train import save_property_model, train_model

    path = tmp_path_factory.mktemp("model") / "tiny.skops"
    model, card = train_model(obelix_table(None, structures=False), n_estimators=30)
    save_property_model(model, card, path)
    return path
