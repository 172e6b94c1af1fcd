import numpy as np
from pymatgen.core import Composition, Structure

from perovscreen.features.composition import featurize_compositions, featurize_encoded
from perovscreen.ml.train import load_property_model
from perovscreen.pipeline.space_stage import score_table, space_candidates
from perovscreen.structures.space import enumerate_space, parse_space

SPACE = {"name": "t", "family": "A_deficient", "step": 0.25,
         "sites": {"A": [{"element": "Li", "oxidation": 1}, {"element": "La", "oxidation": 3},
                         {"element": "Sr", "oxidation": 2}],
                   "B": [{"element": "Ti", "oxidation": 4}, {"element": "Nb", "oxidation": 5}],
                   "X": [{"element": "O", "oxidation": -2}]}}


def test_encoded_features_equal_formula_features():
    table = enumerate_space(parse_space(SPACE))
    rows = np.arange(len(table))
    z, a = table.encoded(rows)
    X = featurize_encoded(z, a)
    Y = featurize_compositions([table.formula(i) for i in rows])
    assert np.allclose(X, Y, equal_nan=True)


def test_space_candidates_scored_and_built(tmp_path, tiny_ml_model):
    model, _ = load_property_model(tiny_ml_model)
    spec = parse_space(SPACE)
    table = enumerate_space(spec)
    v, lo, hi = score_table(model, table, table.survivors)["log10_sigma"]
    assert len(v) == len(table.survivors) and np.all(lo <= v) and np.all(v <= hi)
    summary = space_candidates(spec, model, tmp_path, keep=2, min_length=7.0, seed=1)
    assert summary["counts"]["passed"] == len(table.survivors) >= 2
    assert len(summary["selected"]) == 2
    assert summary["selected"][0]["log10_sigma"][0] >= summary["selected"][1]["log10_sigma"][0]
    for sel in summary["selected"]:
        s = Structure.from_file(tmp_path / f"{sel['id']}.cif")
        assert s.is_ordered and min(s.lattice.abc) >= 7.0
        target = Composition(sel["formula"]).fractional_composition
        got = s.composition.fractional_composition
        assert max(abs(target[e] - got[e]) for e in target.elements) < 0.02
