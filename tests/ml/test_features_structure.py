"""Structure descriptors: hand-computed geometry, tolerance factors, invariance, cache."""
import math

import numpy as np
import pytest

from perovscreen.features import ALL_NAMES, DiskCache, compute_descriptors
from perovscreen.features import descriptors as desc_mod
from perovscreen.features.structure import NAMES, structure_descriptors, tolerance_factors
from perovscreen.structures import get_example, list_examples


def test_li3ocl_geometry_hand_computed():
    d = structure_descriptors(get_example("Li3OCl"), bvse=False)
    a = get_example("Li3OCl").lattice.a
    assert d["s_li_li_min"] == pytest.approx(a / math.sqrt(2), abs=1e-3)  # face centres
    assert d["s_li_anion_min"] == pytest.approx(a / 2, abs=1e-3)  # Li-O along the edge-centre line
    assert d["s_li_cn"] == pytest.approx(6.0)  # 2 O + 4 Cl octahedron
    assert d["s_vol_per_atom"] == pytest.approx(a ** 3 / 5, rel=1e-6)
    assert d["s_vol_per_anion"] == pytest.approx(a ** 3 / 2, rel=1e-6)


def test_tolerance_factors_shannon():
    # SrTiO3: (1.44 + 1.40) / (sqrt2 (0.605 + 1.40)) = 1.002 (Shannon XII Sr2+, VI Ti4+, VI O2-)
    t = structure_descriptors(get_example("SrTiO3"), bvse=False)["s_tolerance_t"]
    assert t == pytest.approx(2.84 / (math.sqrt(2) * 2.005), abs=2e-3)
    # Li3OCl antiperovskite: (r_Cl + r_Li) / (sqrt2 (r_O + r_Li)) = (1.81 + 0.76) / (sqrt2 * 2.16) = 0.841
    d = structure_descriptors(get_example("Li3OCl"), bvse=False)
    assert d["s_tolerance_t"] == pytest.approx(2.57 / (math.sqrt(2) * 2.16), abs=2e-3)
    # Bartel tau for SrTiO3 by hand: rX/rB - nA (nA - (rA/rB)/ln(rA/rB))
    ra, rb, rx = 1.44, 0.605, 1.40
    tau_ref = rx / rb - 2 * (2 - (ra / rb) / math.log(ra / rb))
    assert structure_descriptors(get_example("SrTiO3"), bvse=False)["s_bartel_tau"] == pytest.approx(tau_ref, abs=0.02)
    assert math.isnan(tolerance_factors({})[0])


def test_shapes_and_no_nan_on_examples():
    for name in list_examples():
        d = compute_descriptors(get_example(name), bvse=False)
        assert list(d) == list(ALL_NAMES)
        vals = np.array([d[k] for k in ALL_NAMES if not k.startswith("s_bvse")])
        if name == "SrTiO3":  # Li-free control: Li geometry is undefined, everything else is defined
            li = [k for k in NAMES if k.startswith("s_li")]
            assert all(math.isnan(d[k]) for k in li)
            assert all(math.isfinite(d[k]) for k in ALL_NAMES if k not in li and not k.startswith("s_bvse")
                       and k != "li_per_anion")
        else:
            assert np.isfinite(vals).all(), name


def test_bvse_features_when_available():
    pytest.importorskip("perovscreen.bvse.core")
    d = structure_descriptors(get_example("Li3OCl"), bvse=True)
    e = [d["s_bvse_E1D"], d["s_bvse_E2D"], d["s_bvse_E3D"]]
    assert all(0 < x < 5 for x in e)
    assert e[0] <= e[1] <= e[2]  # a 3D path is also a 1D path


def test_supercell_invariance():
    s = get_example("LiFePO4")
    big = s.copy()
    big.make_supercell([1, 2, 1])
    a, b = structure_descriptors(s, bvse=False), structure_descriptors(big, bvse=False)
    for k in NAMES[:10]:
        assert a[k] == pytest.approx(b[k], rel=1e-6), k


def test_disk_cache_hit(tmp_path, monkeypatch):
    s = get_example("LLTO_disordered")
    cache = DiskCache(tmp_path)
    first = compute_descriptors(s, cache=cache, bvse=False)
    assert len(list(tmp_path.glob("*.json"))) == 1
    calls = []
    monkeypatch.setattr(desc_mod.struct_mod, "structure_descriptors", lambda *a, **k: calls.append(1))
    again = compute_descriptors(s, cache=cache, bvse=False)
    assert calls == []
    np.testing.assert_allclose([again[k] for k in ALL_NAMES], [first[k] for k in ALL_NAMES])
    moved = s.copy()
    moved.translate_sites([0], [0.01, 0, 0])
    assert desc_mod.structure_key(moved) != desc_mod.structure_key(s)


def test_store_cache_uses_sqlite_store(tmp_path, monkeypatch):
    from perovscreen.features import StoreCache
    from perovscreen.store import SQLiteStore

    store = SQLiteStore(tmp_path / "r.db")
    if not hasattr(store, "get_cached"):
        pytest.skip("SQLiteStore has no get_cached/put_cached yet")
    s = get_example("Li3OCl")
    first = compute_descriptors(s, cache=StoreCache(store), bvse=False)
    key = desc_mod.structure_key(s, {"bvse": False, "res": 0.3})
    assert set(store.get_cached("descriptors", key)) == set(desc_mod.STRUCTURE_NAMES)
    assert store.get_cached("other", key) is None  # namespaces are separate
    store.close()
    reopened = SQLiteStore(tmp_path / "r.db")  # persisted: a new connection hits the cache
    monkeypatch.setattr(desc_mod.struct_mod, "structure_descriptors", lambda *a, **k: 1 / 0)
    again = compute_descriptors(s, cache=StoreCache(reopened), bvse=False)
    np.testing.assert_allclose([again[k] for k in ALL_NAMES], [first[k] for k in ALL_NAMES], equal_nan=True)
    with pytest.raises(ValueError, match="get_cached"):
        StoreCache(object())
