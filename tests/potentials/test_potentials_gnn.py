"""Property networks: tiny versions train on Perov-5, save with a card, reload and predict identically."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from perovscreen.core.results import decode

from perovscreen.core.errors import InputError, ModelError
from perovscreen.ml.cards import card_path
from perovscreen.ml.gnn.models import PropertyNet
from perovscreen.ml.gnn.predict import PropertyEnsemble
from perovscreen.ml.gnn.store import load_net, save_net
from perovscreen.ml.gnn.train import (TrainingPaused, compare, fit_net, formula_split, load_data,
                                               predict_batches)
from perovscreen.structures.examples import get_example


@pytest.fixture(scope="module")
def tiny_data():
    structures, y, formulas, _ = load_data(limit=150, seed=1)
    return structures, y, formulas, formula_split(formulas, seed=1)


def test_formula_split_is_disjoint(tiny_data):
    _, y, formulas, split = tiny_data
    parts = [set(np.asarray(formulas)[i]) for i in (split.train, split.val, split.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(split.train) + len(split.val) + len(split.test) == len(y) == 150
    assert np.all(y[:, 1] >= 0) and np.isfinite(y).all()


@pytest.mark.parametrize("arch", ["cgcnn", "megnet", pytest.param("m3gnet", marks=pytest.mark.slow),
                                  pytest.param("alignn", marks=pytest.mark.slow)])
def test_tiny_model_trains_saves_reloads_identically(arch, tiny_data, tmp_path):
    structures, y, _, split = tiny_data
    net0 = PropertyNet(arch, "tiny")
    graphs = [net0.featurize(s) for s in structures]
    net, secs, ep = fit_net(arch, graphs, y, split, size="tiny", epochs=2, batch_size=32, log=None)
    assert ep == 2 and secs > 0
    # standardisation learned from the training rows
    assert float(net.mean[0]) == pytest.approx(y[split.train, 0].mean(), rel=1e-5)
    # the metal logit is trained class-weighted (w = n_nonmetal / n_metal); predictions undo it by -log(w)
    nm = int((y[split.train, 1] > 1e-3).sum())
    w = nm / (len(split.train) - nm)
    assert net.metal_shift == pytest.approx(-np.log(w))
    batch = net.collate(graphs[:4])
    with torch.no_grad():
        assert torch.allclose(net(batch)[:, 2] - net.raw(batch)[:, 2], torch.tensor(-np.log(w), dtype=torch.float32))
    test_graphs = [graphs[i] for i in split.test]
    before = predict_batches(net, test_graphs)
    path = save_net(net, tmp_path / f"{arch}-0.pt", {"arch": arch})
    card = json.loads(card_path(path).read_text())
    assert card["config"]["arch"] == arch and len(card["sha256"]) == 64
    net2, _ = load_net(path)
    assert net2.metal_shift == net.metal_shift
    after = predict_batches(net2, test_graphs)
    assert np.array_equal(before, after)
    assert np.all(after[:, 1] >= 0) and np.all((after[:, 2] >= 0) & (after[:, 2] <= 1))
    # heat predictions are in the data's range, not garbage
    assert np.all(np.abs(after[:, 0] - y[:, 0].mean()) < 5 * y[:, 0].std())


def test_tampered_or_missing_model_is_refused(tmp_path):
    net = PropertyNet("cgcnn", "tiny")
    path = save_net(net, tmp_path / "cgcnn-0.pt", {})
    with pytest.raises(ModelError, match="not found"):
        load_net(tmp_path / "missing.pt")
    with open(path, "ab") as f:
        f.write(b"x")
    with pytest.raises(ModelError, match="SHA-256"):
        load_net(path)
    with pytest.raises(ModelError, match="no property models"):
        PropertyEnsemble(tmp_path / "empty")
    with pytest.raises(InputError, match="unknown architecture"):
        PropertyNet("dimenet")


def test_ensemble_prediction_and_cli(tmp_path):
    for k in range(2):
        torch.manual_seed(k)
        save_net(PropertyNet("cgcnn", "tiny"), tmp_path / "models" / f"cgcnn-{k}.pt", {"member": k, "arch": "cgcnn"})
    save_net(PropertyNet("megnet", "tiny"), tmp_path / "models" / "megnet-0.pt", {"member": 0, "arch": "megnet"})
    assert PropertyEnsemble(tmp_path / "models").predict([get_example("Li3OCl")])[0].n_models == 3
    ens = PropertyEnsemble(tmp_path / "models", archs=["cgcnn"])
    (p,) = ens.predict([get_example("Li3OCl")])
    assert p.n_models == 2 and p.heat_std > 0 and p.archs == ["cgcnn"] and 0 <= p.p_metal <= 1
    with pytest.raises(ModelError, match="alignn"):
        PropertyEnsemble(tmp_path / "models", archs=["alignn"])
    from perovscreen.structures.examples import write_examples

    cif = write_examples(tmp_path / "cifs", ["Li3OCl"])[0]
    out = subprocess.run([sys.executable, "-m", "perovscreen.cli.main", "predict-props", str(cif), "--json", "-q",
                          "--model-dir", str(tmp_path / "models"), "--archs", "cgcnn", "--db", str(tmp_path / "r.db")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout.strip().splitlines()[-1])
    got = decode(row["heat_of_formation"])
    assert got.method == "ensemble spread" and got.level == 0.9
    assert (got.value, got.lower, got.upper) == pytest.approx((p.heat_of_formation.value, p.heat_of_formation.lower,
                                                               p.heat_of_formation.upper), abs=1e-5)


def test_paused_training_continues_to_the_same_network(tiny_data, tmp_path):
    """Two time-limited calls stop after one epoch each (checkpointed); the third finishes, and the result
    equals an uninterrupted run: same weights, same predictions."""
    structures, y, _, split = tiny_data
    graphs = [PropertyNet("cgcnn", "tiny").featurize(s) for s in structures]
    kw = dict(size="tiny", epochs=4, batch_size=32, log=None)
    ref, _, ep_ref = fit_net("cgcnn", graphs, y, split, **kw)
    ck = tmp_path / "cgcnn-0.ckpt"
    for done in (1, 2):
        with pytest.raises(TrainingPaused, match=f"after epoch {done}/4"):
            fit_net("cgcnn", graphs, y, split, checkpoint=ck, time_limit=0.0, **kw)
    net, secs, ep = fit_net("cgcnn", graphs, y, split, checkpoint=ck, **kw)
    assert ep == ep_ref == 4 and secs > 0
    test_graphs = [graphs[i] for i in split.test]
    np.testing.assert_allclose(predict_batches(net, test_graphs), predict_batches(ref, test_graphs), atol=1e-6)
    # a checkpoint of other settings is not resumed: training starts again and still completes
    other, _, ep2 = fit_net("cgcnn", graphs, y, split, checkpoint=ck, **{**kw, "epochs": 3})
    assert ep2 == 3


def test_compare_reuses_finished_members(tmp_path):
    out = tmp_path / "m"
    first = compare(["cgcnn"], limit=120, size="tiny", epochs=2, ensemble=1, out=out, log=lambda *_: None)
    stamp = (out / "cgcnn-0.pt").stat().st_mtime_ns
    again = compare(["cgcnn"], limit=120, size="tiny", epochs=2, ensemble=1, out=out, log=lambda *_: None)
    assert (out / "cgcnn-0.pt").stat().st_mtime_ns == stamp  # reused, not retrained
    assert again["results"]["cgcnn"]["heat_mae"] == pytest.approx(first["results"]["cgcnn"]["heat_mae"])
    assert not list(out.glob("*.ckpt"))
    saved = json.loads((out / "comparison_cgcnn_x1.json").read_text())
    assert saved["results"]["cgcnn"]["heat_mae"] == pytest.approx(again["results"]["cgcnn"]["heat_mae"])
    # the saved models re-evaluated on the same split give the comparison's figures
    from perovscreen.ml.gnn.predict import evaluate_ensemble

    ev = evaluate_ensemble(out, limit=120)
    assert ev["members"]["cgcnn-0"]["heat_mae"] == pytest.approx(first["results"]["cgcnn"]["heat_mae"], abs=1e-5)
    assert ev["ensemble"]["heat_mae"] == pytest.approx(first["results"]["cgcnn"]["heat_mae"], abs=1e-5)
    with pytest.raises(InputError, match="--limit"):
        evaluate_ensemble(out, limit=200)


def test_evaluate_by_hand():
    from perovscreen.ml.gnn.train import evaluate

    y = np.array([[1.0, 0.0], [2.0, 1.5], [3.0, 0.0], [0.0, 2.0]])  # rows 1 and 3 are non-metals
    pred = np.array([[1.5, 0.0, 0.9], [2.0, 1.0, 0.2], [2.0, 0.5, 0.4], [0.0, 0.0, 0.6]])
    m = evaluate(pred, y)
    assert m["heat_mae"] == pytest.approx((0.5 + 0 + 1 + 0) / 4)
    assert m["gap_mae"] == pytest.approx((0 + 0.5 + 0.5 + 2) / 4)
    assert m["gap_mae_nonmetal"] == pytest.approx((0.5 + 2) / 2)
    assert m["metal_accuracy"] == pytest.approx(2 / 4)  # row 2 called non-metal, row 3 called metal
    assert m["nonmetal_recall"] == pytest.approx(1 / 2) and m["nonmetal_precision"] == pytest.approx(1 / 2)
    # ranking by 1 - P(metal): 0.8 (nm), 0.6 (metal), 0.4 (nm), 0.1 (metal): 3 of 4 pairs ordered right
    assert m["nonmetal_auc"] == pytest.approx(0.75)
