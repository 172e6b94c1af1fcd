"""CHGNet-embedding conductivity head: embeddings (shape, determinism, supercell invariance, cache),
deep ensemble + conformal coverage on synthetic data, and the grouped CV on an OBELiX subset (slow)."""
import json

import numpy as np
import pytest

from perovscreen.core.errors import InputError
from perovscreen.ml.gnn.conductivity import (DIM, EmbeddingSettings, EnsembleRegressor, chgnet_embedding,
                                                     embed_file, embedding_names)
from perovscreen.structures.examples import get_example


@pytest.fixture(scope="module")
def li3ocl_embedding():
    return chgnet_embedding(get_example("Li3OCl"))


def test_embedding_shape_determinism_and_distinct(li3ocl_embedding):
    a = li3ocl_embedding
    assert a.shape == (2 * DIM,) == (len(embedding_names()),)
    assert np.isfinite(a).all() and np.abs(a).max() > 0.1
    np.testing.assert_array_equal(a, chgnet_embedding(get_example("Li3OCl")))
    b = chgnet_embedding(get_example("LiNbO3"))
    assert b.shape == a.shape and np.isfinite(b).all()
    assert np.abs(a - b).max() > 0.05  # different chemistry -> different embedding
    # Li3OCl: all three Li are equivalent, the all-atom mean differs from the Li mean
    assert np.abs(a[:DIM] - a[DIM:]).max() > 0.05


def test_embedding_supercell_invariant(li3ocl_embedding):
    sc = chgnet_embedding(get_example("Li3OCl") * (2, 2, 2))
    np.testing.assert_allclose(sc, li3ocl_embedding, atol=1e-4)


def test_embedding_refuses_disordered_and_li_free():
    with pytest.raises(InputError, match="ordered"):
        chgnet_embedding(get_example("LLTO_disordered"))
    with pytest.raises(InputError, match="no Li"):
        chgnet_embedding(get_example("SrTiO3"))


def test_embed_file_orders_and_caches(tmp_path, li3ocl_embedding):
    cif = tmp_path / "li3ocl.cif"
    get_example("Li3OCl").to(filename=str(cif))
    cache = tmp_path / "cache"
    r = embed_file(cif, cache=cache)
    assert r["reason"] is None and r["n_atoms"] == 5
    np.testing.assert_allclose(r["embedding"], li3ocl_embedding, atol=1e-5)
    f = cache / EmbeddingSettings().tag() / f"{r['sha256']}.json"
    rec = json.loads(f.read_text())
    rec["embedding"][0] = 123.0  # served from the cache, not recomputed
    f.write_text(json.dumps(rec))
    assert embed_file(cif, cache=cache)["embedding"][0] == 123.0
    # a Li-free file is skipped with its reason recorded; a too-large cell too
    bad = tmp_path / "srtio3.cif"
    get_example("SrTiO3").to(filename=str(bad))
    assert "no Li" in embed_file(bad, cache=cache)["reason"] and embed_file(bad, cache=cache)["embedding"] is None
    big = embed_file(cif, EmbeddingSettings(max_atoms=4), cache=cache)
    assert big["embedding"] is None and "max_atoms" in big["reason"]


def test_ensemble_conformal_coverage_synthetic():
    """y = f(x) + N(0, 0.5^2): MAE near the noise floor (0.4) and ~90% held-out coverage."""
    rng = np.random.default_rng(1)
    n_train, n_test, sigma = 300, 2000, 0.5
    X = rng.normal(size=(n_train + n_test, 4))
    y = 1.5 * X[:, 0] - X[:, 1] + np.sin(2 * X[:, 2]) + sigma * rng.normal(size=len(X))
    groups = np.arange(n_train) // 2  # pairs of rows share a group
    m = EnsembleRegressor(n_members=5, seed=0).fit(X[:n_train], y[:n_train], groups)
    p = m.predict(X[n_train:])
    yt = y[n_train:]
    mae = np.abs(p["value"] - yt).mean()
    assert 0.38 < mae < 0.65  # noise floor sigma*sqrt(2/pi) = 0.40
    assert (p["spread"] > 0).all()
    cov = ((yt >= p["lower"]) & (yt <= p["upper"])).mean()
    assert 0.84 <= cov <= 0.96
    # members differ only by initialisation: they disagree more far outside the training data
    far = m.predict(X[n_train:n_train + 50] * 6)["spread"].mean()
    assert far > 2 * p["spread"].mean()


def test_ensemble_rejects_too_few_groups():
    with pytest.raises(InputError, match="too few"):
        EnsembleRegressor().fit(np.zeros((4, 2)), np.arange(4.0), np.zeros(4))


def test_cli_registers_cv_conductivity():
    import argparse

    from perovscreen.cli.potentials import add_parser

    ap = argparse.ArgumentParser()
    add_parser(ap.add_subparsers())
    a = ap.parse_args(["gnn", "cv-conductivity", "--limit", "30", "--seeds", "1"])
    assert a.limit == 30 and a.seeds == 1 and a.members == 5 and callable(a.func)


@pytest.mark.slow
def test_cross_validate_conductivity_subset(tmp_path):
    from perovscreen.ml.gnn.conductivity import METHODS, cross_validate_conductivity, format_cv

    res = cross_validate_conductivity("../shared/data", seeds=(0,), limit=40, cache=tmp_path, n_members=3,
                                      epochs=100, n_estimators=50)
    s = res["summary"]
    assert list(s) == list(METHODS)
    n = {m: s[m]["log10_sigma"]["n_rows"] for m in METHODS}
    assert len(set(n.values())) == 1 and n["mean"] == res["n_rows"] - res["n_censored"]  # same rows everywhere
    for m in ("composition_rf", "chgnet_rf", "composition_chgnet_rf", "chgnet_mlp_ens"):
        assert 0.5 <= s[m]["log10_sigma"]["coverage"]["mean"] <= 1.0
        assert np.isfinite(s[m]["log10_sigma"]["mae"]["mean"])
    assert sum(r["method"] == "chgnet_mlp_ens" for r in res["folds"]) == 5
    assert "chgnet_mlp_ens" in format_cv(res)
