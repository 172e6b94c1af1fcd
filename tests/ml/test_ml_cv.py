"""Grouped CV: duplicates never straddle folds; metrics and summaries by hand."""
import numpy as np
import pytest

from perovscreen.ml.cv import grouped_folds, metrics, summarize
from perovscreen.ml.dataset import composition_group, obelix_table


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


def test_cluster_labels_by_hand():
    from perovscreen.ml.cv import cluster_labels

    formulas = ["Li7La3Zr2O12", "Li6.75La3Zr1.75Ta0.25O12",  # Ta doping: L1 distance 0.034 -> linked
                "Li3OCl", "Li3OBr",                          # other halide: L1 distance 0.4 -> apart
                "LiTi2(PO4)3", "Li1.1Al0.1Ti1.9(PO4)3"]      # Al doping: L1 distance 0.021 -> linked
    lab = cluster_labels(formulas)
    assert lab[0] == lab[1] and lab[4] == lab[5] and lab[2] != lab[3] and len(set(lab)) == 4
    assert list(lab) == [0, 0, 1, 2, 3, 3]  # numbered by first appearance: deterministic
    lab = cluster_labels(formulas, papers=[None, None, "10.1/a", "10.1/b|10.1/A", None, None])
    assert lab[2] == lab[3] and len(set(lab)) == 3  # a shared paper (DOI, any case) links entries


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_obelix_hard_split_keeps_clusters_and_near_duplicates_apart(seed):
    """Leave-cluster-out on OBELiX: no cluster in both train and test; every near-duplicate pair
    (L1 distance of atomic fractions <= 0.05) and every same-paper pair in one fold."""
    from perovscreen.ml.cv import NEAR_DUPLICATE_L1, fraction_vectors

    table = obelix_table(None)
    cl = table.split_groups("cluster")
    assert 50 < len(set(cl)) < len(set(table.groups))  # coarser than composition groups
    folds = grouped_folds(cl, 5, seed)
    fold = np.empty(len(cl), int)
    for k, (tr, te) in enumerate(folds):
        assert not set(cl[tr]) & set(cl[te])
        fold[te] = k
    V = fraction_vectors(table.formulas)
    for i in range(len(V)):
        near = np.abs(V - V[i]).sum(1) <= NEAR_DUPLICATE_L1
        assert (fold[near] == fold[i]).all()
    from perovscreen.data import load_obelix

    doi = load_obelix()["doi"].to_numpy()
    for d in set(doi):
        assert len(set(fold[doi == d])) == 1
