"""Grouped CV: duplicates never straddle folds; metrics and summaries by hand."""
import numpy as np
import pytest

from perovscreen.ml.cv import grouped_folds, metrics, summarize
from perovscreen.ml.dataset import composition_group


def test_composition_group_reduces():
    assert composition_group("Li3OCl") == composition_group("Li6O2Cl2") == composition_group("ClLi3O")
    assert composition_group("Li0.33La0.56TiO3") != composition_group("Li0.35La0.55TiO3")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_grouped_folds_never_split_a_group(seed):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 60, size=300).astype(str)
    folds = grouped_folds(groups, 5, seed)
    seen = np.concatenate([te for _, te in folds])
    assert sorted(seen) == list(range(300))  # a partition
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])
    sizes = [len(te) for _, te in folds]
    assert max(sizes) - min(sizes) <= max(np.unique(groups, return_counts=True)[1])


def test_obelix_duplicates_stay_together():
    from perovscreen.data import load_obelix

    df = load_obelix()
    groups = np.array([composition_group(f) for f in df["formula"]])
    assert len(set(groups)) < len(groups)  # there are duplicates to keep together
    for tr, te in grouped_folds(groups, 5, 0):
        assert not set(groups[tr]) & set(groups[te])


def test_grouped_folds_rejects_too_few_groups():
    with pytest.raises(ValueError):
        grouped_folds(["a", "a", "b"], 5)


def test_metrics_by_hand():
    m = metrics([0, 1, 2, 3], [0, 1, 2, 5])
    assert m["mae"] == pytest.approx(0.5)
    assert m["rmse"] == pytest.approx(1.0)
    assert m["r2"] == pytest.approx(1 - 4 / 5)
    assert m["spearman"] == pytest.approx(1.0)
    s = summarize([1.0, 2.0, 3.0])
    assert s["mean"] == 2 and s["std"] == pytest.approx(1.0)
    assert s["ci95"][1] - 2 == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)  # t(0.975, 2)
