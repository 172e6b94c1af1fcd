import numpy as np
import pytest
import yaml

from perovscreen.core.errors import InputError
from perovscreen.pipeline.ranking import overlaps_leader, pareto_fronts, weighted_score
from perovscreen.structures.space import enumerate_space, load_space, parse_space, shannon_radius


def test_pareto_fronts_hand_made():
    # objectives: conductivity (max), barrier (min)
    v = np.array([[5, 0.3],   # 0: front 0
                  [4, 0.2],   # 1: front 0
                  [3, 0.4],   # 2: dominated by 0 and 1 -> front 1
                  [5, 0.3],   # 3: equal to 0 -> front 0
                  [1, 0.9],   # 4: front 2 (dominated by 2)
                  [6, 0.5]])  # 5: front 0 (best conductivity)
    assert pareto_fronts(v, [True, False]).tolist() == [0, 0, 1, 0, 2, 0]


def test_pareto_nan_is_worst_and_score_and_overlap():
    v = np.array([[1.0, np.nan], [1.0, 0.5]])
    assert pareto_fronts(v, [True, False]).tolist() == [1, 0]
    s = weighted_score(np.array([[0, 1.0], [10, 0.0]]), [True, False], [1, 1])
    assert s.tolist() == [0.0, 1.0]
    lo, hi = np.array([0, 2.5, 5]), np.array([3, 4, 6])
    assert overlaps_leader(lo, hi, leader=1).tolist() == [True, True, False]


def _space(**over):
    d = {"family": "ABX3", "step": 0.5,
         "sites": {"A": [{"element": "Li", "oxidation": 1}, {"element": "La", "oxidation": 3},
                         {"element": "Sr", "oxidation": 2}],
                   "B": [{"element": "Ti", "oxidation": 4}, {"element": "Nb", "oxidation": 5}],
                   "X": [{"element": "O", "oxidation": -2}]}}
    d.update(over)
    return d


def test_space_validation_errors(tmp_path):
    with pytest.raises(InputError, match="family"):
        parse_space(_space(family="spinel"))
    with pytest.raises(InputError, match="Ti\\+7 is not a known oxidation state"):
        bad = _space()
        bad["sites"]["B"] = [{"element": "Ti", "oxidation": 7}]
        parse_space(bad)
    with pytest.raises(InputError, match="needs an oxidation state"):
        bad = _space()
        bad["sites"]["X"] = ["O"]
        parse_space(bad)
    with pytest.raises(InputError, match="must define exactly"):
        bad = _space()
        del bad["sites"]["X"]
        parse_space(bad)
    with pytest.raises(InputError, match="step"):
        parse_space(_space(step=0.3))
    with pytest.raises(InputError, match="unknown key"):
        parse_space(_space(colour="red"))
    p = tmp_path / "bad.yaml"
    p.write_text("sites: [unclosed")
    with pytest.raises(InputError, match="bad.yaml: not valid YAML"):
        load_space(p)


def test_known_perovskites_pass_and_absurd_fails_with_filter_named():
    spec = parse_space(_space(require_ion=None))
    tab = enumerate_space(spec)
    f = {tab.formula(i): i for i in range(len(tab))}
    # SrTiO3 passes neutrality and t (t = 1.00 with Shannon radii: Sr XII 1.44, Ti VI 0.605, O 1.40)
    i = f["SrTiO3"]
    assert tab.removed_by[i] == "" and tab.t[i] == pytest.approx((1.44 + 1.40) / (2 ** 0.5 * (0.605 + 1.40)), 1e-6)
    # Li0.5La0.5TiO3 passes neutrality and t; Bartel's tau (nA = 2, rA = (0.92 + 1.36) / 2) is 4.26,
    # just above 4.18: tau misclassifies this A-site-mixed perovskite (hand-computed)
    i = f["Li0.5La0.5TiO3"]
    assert tab.removed_by[i] == "tau" and tab.tau[i] == pytest.approx(4.26, abs=0.01)
    assert tab.t[i] == pytest.approx((1.14 + 1.40) / (2 ** 0.5 * (0.605 + 1.40)), 1e-6)  # 0.896
    assert tab.removed_by[f["LaTiO3"]] == "neutrality"  # La3+ Ti4+ O3: +1
    assert tab.removed_by[f["LiTiO3"]] == "neutrality"


def test_linbo3_tolerance_and_absurd_composition():
    spec = parse_space({"family": "ABX3", "step": 1.0, "require_ion": None,
                        "sites": {"A": [{"element": "Li", "oxidation": 1}, {"element": "Cs", "oxidation": 1}],
                                  "B": [{"element": "Nb", "oxidation": 5}, {"element": "Pb", "oxidation": 4},
                                        {"element": "Mg", "oxidation": 2}],
                                  "X": [{"element": "O", "oxidation": -2}, {"element": "F", "oxidation": -1}]},
                        "filters": {"tolerance": [0.7, 1.1]}})
    tab = enumerate_space(spec)
    f = {tab.formula(i): i for i in range(len(tab))}
    # LiNbO3 is neutral and has t = 0.80 (Li XII taken from VIII, 0.92 A): passes neutrality and t
    assert tab.removed_by[f["LiNbO3"]] in ("", "tau")
    assert 0.75 < tab.t[f["LiNbO3"]] < 0.85
    assert tab.removed_by[f["CsNbO3"]] == "neutrality" or tab.removed_by[f["CsNbO3"]] != ""
    assert tab.removed_by[f["LiMgO3"]] == "neutrality"  # absurd: 1 + 2 - 6
    assert tab.removed_by[f["CsMgF3"]] == "tolerance"  # t = 1.13 > 1.1
    assert shannon_radius("Li", 1, "XII") == 0.92  # nearest tabulated: VIII


def test_antiperovskite_li3ocl_tolerance():
    spec = parse_space({"family": "antiperovskite", "step": 1.0,
                        "sites": {"X": [{"element": "Li", "oxidation": 1}], "B": [{"element": "O", "oxidation": -2}],
                                  "A": [{"element": "Cl", "oxidation": -1}, {"element": "Br", "oxidation": -1}]}})
    tab = enumerate_space(spec)
    f = {tab.formula(i): i for i in range(len(tab))}
    assert set(f) == {"Li3OCl", "Li3OBr"}
    assert tab.t[f["Li3OCl"]] == pytest.approx(0.84, abs=0.01)  # Zhao & Daemen 2012 quote ~0.84
    assert tab.removed_by[f["Li3OCl"]] == ""
