"""Composition descriptors: parser, magpie parity with matminer, hand-computed extras."""
import numpy as np
import pytest
from pymatgen.core import Composition

from perovscreen.errors import InputError
from perovscreen.features import compute_descriptors, featurize_compositions, parse_formula
from perovscreen.features.composition import EXTRA_NAMES, MAGPIE_NAMES, NAMES

FORMULAS = ["Li10(Ge0.416Sn0.584)P2S12", "Li3OCl", "Li0.33La0.56TiO3", "LiFePO4", "(Li0.5Ce0.25Pr0.25)(MoO4)",
            "La0.63Li0.11(Mg0.5W0.5)O3", "Li6PS5Cl", "Li2[B12H12]", "Li1.4Al0.4Ti1.6(PO4)3"]


@pytest.mark.parametrize("f", FORMULAS)
def test_parser_matches_pymatgen(f):
    ours = dict(parse_formula(f))
    ref = Composition(f).as_dict()
    assert ours.keys() == ref.keys()
    assert all(ours[k] == pytest.approx(ref[k]) for k in ref)


@pytest.mark.parametrize("bad", ["", "Li2Xx", "(LiO", "LiO)", "2LiO", "Li-O"])
def test_parser_rejects(bad):
    with pytest.raises(InputError, match="formula"):
        parse_formula(bad)


def test_magpie_matches_matminer():
    from matminer.featurizers.composition import ElementProperty

    ep = ElementProperty.from_preset("magpie")
    ref = np.array([ep.featurize(Composition(f)) for f in FORMULAS])
    ours = featurize_compositions(FORMULAS)[:, :len(MAGPIE_NAMES)]
    assert ours.shape == ref.shape == (len(FORMULAS), 132)
    np.testing.assert_allclose(ours, ref, rtol=2e-6, atol=1e-4)


def test_extras_hand_computed():
    d = compute_descriptors("Li3OCl")
    assert set(d) == set(NAMES)
    assert d["li_frac"] == pytest.approx(0.6)
    assert d["mean_anion_ox"] == pytest.approx(-1.5)  # O2- and Cl-
    assert d["mean_cation_ox"] == pytest.approx(1.0)  # 3 Li+ balance O2- + Cl-
    assert d["li_per_anion"] == pytest.approx(1.5)
    assert d["en_anion_minus_li"] == pytest.approx((3.44 + 3.16) / 2 - 0.98, abs=1e-3)
    # nitrate N and sulfate S are cations; LLTO's non-Li cations carry the O charge left after Li: (6-0.33)/1.56
    assert compute_descriptors("LiNO3")["frac_N"] == 0 and compute_descriptors("LiNO3")["mean_noli_cation_ox"] == pytest.approx(5)
    assert compute_descriptors("Li2SO4")["mean_noli_cation_ox"] == pytest.approx(6)
    assert compute_descriptors("Li0.33La0.56TiO3")["mean_noli_cation_ox"] == pytest.approx((6 - 0.33) / 1.56, rel=1e-5)


def test_batch_equals_single_and_no_nan_for_li_compounds():
    X = featurize_compositions(FORMULAS)
    for f, row in zip(FORMULAS, X):
        d = compute_descriptors(f)
        np.testing.assert_allclose([d[n] for n in NAMES], row, rtol=1e-6)
    li_ox = X[:, len(MAGPIE_NAMES):]
    assert np.isfinite(li_ox[:, [EXTRA_NAMES.index(n) for n in ("li_frac", "li_per_anion", "mean_cation_ox")]]).all()
