"""Composition descriptors: parser, magpie parity with matminer, hand-computed extras."""
import numpy as np
import pytest
from pymatgen.core import Composition

from perovscreen.core.errors import InputError
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


def test_encode_formulas_matches_parser_and_falls_back():
    from perovscreen.features.formula import SYMBOLS, encode_formulas

    fs = FORMULAS + ["Li.5O", "Li5.O", "LiO0Na", "Ti0.5Ti0.5O2", "Li0.333333333333333333O", "Li2 O"]
    z, a = encode_formulas(fs)
    for i, f in enumerate(fs):
        got = {}
        for zz, aa in zip(z[i], a[i]):
            if aa > 0:
                got[int(zz)] = got.get(int(zz), 0.0) + aa
        ref = {}
        for e, x in parse_formula(f):
            ref[SYMBOLS[e]] = ref.get(SYMBOLS[e], 0.0) + x
        assert got == ref, f  # exact: amounts parse as float(text)
    with pytest.raises(InputError, match="Xx"):
        encode_formulas(["LiO", "Li2Xx"])


def test_featurize_encoded_equals_strings_and_merges_repeats():
    from perovscreen.features import featurize_encoded

    ref = featurize_compositions(["Li0.33La0.56TiO3", "Li3OCl"])
    # site-occupancy style input: La/Li on A, Ti on B, O on X, with O split over two columns
    z = np.array([[3, 57, 22, 8, 8], [3, 8, 17, 0, 0]])
    a = np.array([[0.33, 0.56, 1.0, 2.0, 1.0], [3.0, 1.0, 1.0, 0.0, 0.0]])
    got = featurize_encoded(z, a)
    assert got.dtype == np.float32 and got.shape == (2, len(NAMES))
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(featurize_encoded(z, 10 * a), ref)  # scale-free
    with pytest.raises(InputError):
        featurize_encoded(z, a[:, :3])
    with pytest.raises(InputError):
        featurize_encoded(np.array([[3, 0]]), np.array([[1.0, 1.0]]))  # Z = 0 with a positive amount


def test_chemistry_descriptors_hand_computed():
    d = compute_descriptors("Li7La3Zr2O12")
    assert d["anion_radius_mean"] == pytest.approx(1.40)
    assert d["frac_el_La"] == pytest.approx(3 / 24) and d["frac_el_Zr"] == pytest.approx(2 / 24)
    assert d["cation_mix_entropy"] == pytest.approx(-(0.6 * np.log(0.6) + 0.4 * np.log(0.4)), rel=1e-6)
    assert d["li_per_cation"] == pytest.approx(7 / 12)
    d = compute_descriptors("Li6PS5Cl")  # argyrodite: mixed anion, thiophosphate former
    assert d["n_anion_species"] == 2
    assert d["anion_mix_entropy"] == pytest.approx(-(5 / 6 * np.log(5 / 6) + np.log(1 / 6) / 6), rel=1e-6)
    assert d["anion_radius_mean"] == pytest.approx((5 * 1.84 + 1.81) / 6, rel=1e-6)
    assert d["former_per_anion"] == pytest.approx(1 / 6, rel=1e-6)
    assert compute_descriptors("Li2SO4")["former_per_anion"] == pytest.approx(0.25)  # sulfate S is a former
