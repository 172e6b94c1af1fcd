"""The property networks shipped in the package: integrity against their cards, refusal of tampered files,
and predictions on a fresh install (empty model cache) with no training step."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from perovscreen.core.errors import ModelError
from perovscreen.core.results import decode
from perovscreen.ml.cards import card_path, read_card, sha256_file
from perovscreen.ml.gnn.models import SIZES
from perovscreen.ml.gnn.predict import CALIBRATION, SHIPPED_DIR, PropertyEnsemble, resolve_model_dir
from perovscreen.ml.gnn.predict import load_member
from perovscreen.ml.gnn.store import load_net
from perovscreen.ml.gnn.transfer import ARCH

PEROV5 = Path("../shared/data/perov5/perov5.csv")
NETS = sorted(SHIPPED_DIR.glob("*.pt"))
SHIPPED = sorted([*NETS, *SHIPPED_DIR.glob("*.skops")])


def test_shipped_files_match_their_cards_and_settings():
    assert len(NETS) >= 2, "the package ships an ensemble of at least two property networks"
    cal = json.loads((SHIPPED_DIR / CALIBRATION).read_text())
    transfer = [p for p in SHIPPED if p.suffix == ".skops"]
    assert len(transfer) == 1
    card = read_card(transfer[0])
    assert card["command"] == "perovscreen gnn transfer --seed 0" and card["arch"] == ARCH
    assert card["n_train"] == 4846 and card["split"] == "formula" and card["data"] == "perov5.csv"
    if PEROV5.is_file():
        assert card["data_sha256"] == sha256_file(PEROV5)
    assert load_member(transfer[0])[0].arch == ARCH  # through the type-checked skops loader
    for path in NETS:
        card = read_card(path)
        assert card["model_file"] == path.name and sha256_file(path) == card["sha256"]
        cfg = card["config"]
        assert {k: cfg[k] for k in SIZES[cfg["arch"]][cfg["size"]]} == SIZES[cfg["arch"]][cfg["size"]]
        # the documented command reproduces the file: its settings are the card's
        cmd = card["command"]
        assert cmd.startswith("perovscreen gnn train ") and f"--epochs {card['max_epochs']}" in cmd
        assert f"--archs {card['arch']}" in cmd and f"--size {cfg['size']}" in cmd and "--limit" not in cmd
        assert card["n_train"] == 4846 and card["split"] == "formula" and card["data"] == "perov5.csv"
        if PEROV5.is_file():
            assert card["data_sha256"] == sha256_file(PEROV5)
        net, _ = load_net(path)  # loads through the safe loader
        assert net.arch == card["arch"]
    # the calibration belongs to exactly these members and was measured on held-out cells
    assert cal["members"] == sorted(read_card(p)["sha256"] for p in SHIPPED)
    assert cal["member_files"] == [p.name for p in SHIPPED] and abs(sum(cal["weights"]) - 1) < 1e-9
    assert cal["heat_scale"] > 0 and 0 < cal["nonmetal_threshold"] < 1
    assert 0.85 <= cal["test"]["heat_coverage_90"] <= 0.97
    assert cal["test"]["heat_mae"] < 0.075  # the networks alone: 0.098
    assert cal["test"]["nonmetal_recall"] >= 0.7 and cal["test"]["n"] == 606


def test_tampered_or_replaced_shipped_file_is_refused(tmp_path):
    d = tmp_path / "weights"
    shutil.copytree(SHIPPED_DIR, d)
    victim = d / NETS[0].name
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside the weights
    victim.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256") as err:
        PropertyEnsemble(d)
    assert "\n" not in str(err.value) and victim.name in str(err.value)
    # a file that would run code on unpickling, with a card re-written to match it, is refused unread
    blob = torch.load(NETS[0], map_location="cpu", weights_only=True)
    blob["hook"] = os.system
    torch.save(blob, victim)
    card = read_card(NETS[0])
    card["sha256"] = sha256_file(victim)
    card_path(victim).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="refused") as err:
        load_net(victim)
    assert "system" in str(err.value) and "\n" not in str(err.value)


def test_tampered_transfer_member_is_refused(tmp_path):
    """The CHGNet-transfer member (skops): a changed byte fails its card; a file naming a type outside the
    allow-list (with a card re-written to match) is refused before it is loaded."""
    import skops.io as sio

    src = next(SHIPPED_DIR.glob("*.skops"))
    victim = tmp_path / src.name
    shutil.copy(src, victim)
    shutil.copy(card_path(src), card_path(victim))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_member(victim)
    sio.dump({"elements": ["O"], "mu": np.zeros(1), "heat": None, "metal": None, "gap": None,
              "hook": subprocess.Popen}, victim)
    card = read_card(src)
    card["sha256"] = sha256_file(victim)
    card_path(victim).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="untrusted types") as err:
        load_member(victim)
    assert "Popen" in str(err.value) and "\n" not in str(err.value)


def test_lookup_order(tmp_path, monkeypatch):
    monkeypatch.setenv("PEROVSCREEN_MODELS", str(tmp_path / "empty"))
    assert resolve_model_dir() == SHIPPED_DIR  # fresh install: nothing trained, the shipped ensemble
    mine = tmp_path / "empty" / "perov5_gnn"
    mine.mkdir(parents=True)
    shutil.copy(NETS[0], mine)
    assert resolve_model_dir() == SHIPPED_DIR  # a weight file without its card is not a model
    shutil.copy(card_path(NETS[0]), mine)
    assert resolve_model_dir() == mine  # models you trained come before the shipped ones
    assert resolve_model_dir(tmp_path / "x") == tmp_path / "x"  # --model-dir first
    # a calibration applies only to the members it was fitted for
    assert PropertyEnsemble(mine).calibration is None
    assert PropertyEnsemble().members[0][1]["sha256"] == read_card(NETS[0])["sha256"]


def test_shipped_ensemble_on_held_out_perov5_cells():
    """40 test-split cells (formulas never seen in training): heat within the shipped MAE, calibrated intervals."""
    pd = pytest.importorskip("pandas")
    if not PEROV5.is_file():
        pytest.skip("../shared/data/perov5 not present")
    from pymatgen.core import Structure

    from perovscreen.ml.gnn.train import formula_split

    df = pd.read_csv(PEROV5)
    test = formula_split(list(df["formula"]), seed=0).test[:40]
    structures = [Structure.from_str(df["cif"][i], fmt="cif") for i in test]
    preds = PropertyEnsemble(SHIPPED_DIR).predict(structures)
    heat = np.array([p.heat_of_formation.value for p in preds])
    truth = df["heat_ref"].to_numpy()[test]
    assert np.abs(heat - truth).mean() < 0.10  # the shipped ensemble's whole-test MAE is in its calibration.json
    inside = np.mean([p.heat_of_formation.contains(t) for p, t in zip(preds, truth)])
    assert inside >= 0.75 and all("calibrated" in p.heat_of_formation.method for p in preds)


def test_predict_props_cli_fresh_install(tmp_path):
    """Empty model cache: `perovscreen predict-props` on the built-in examples answers from the shipped models."""
    from perovscreen.structures.examples import write_examples

    cifs = write_examples(tmp_path / "cifs", ["Li3OCl", "LiNbO3"])
    env = {**os.environ, "PEROVSCREEN_MODELS": str(tmp_path / "no-models")}
    out = subprocess.run([sys.executable, "-m", "perovscreen.cli.main", "predict-props", *map(str, cifs), "--json",
                          "-q", "--db", str(tmp_path / "r.db")], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.strip().splitlines() if line.startswith("{")]
    assert len(rows) == 2
    for row in rows:
        heat, gap = decode(row["heat_of_formation"]), decode(row["band_gap"])
        assert -1.0 < heat.value < 4.5 and heat.lower < heat.value < heat.upper  # Perov-5 heat_ref range
        assert gap.lower <= gap.value <= gap.upper and gap.lower >= 0
        assert row["n_models"] == len(SHIPPED) and isinstance(row["nonmetal"], bool)


def test_cubic_srtio3_is_stable_and_a_possible_insulator():
    """SrTiO3 (not in Perov-5, a stable 3.2 eV insulator): heat of formation among the lowest of the Perov-5
    family (heat_ref mean 1.39, 0.5% of cells below 0 eV/atom), and called a possible non-metal."""
    from perovscreen.structures.examples import get_example

    (p,) = PropertyEnsemble(SHIPPED_DIR).predict([get_example("SrTiO3")])
    assert p.heat_of_formation.value < 0.3 and p.heat_of_formation.lower < 0 < p.heat_of_formation.upper + 0.3
    assert p.nonmetal and p.band_gap.upper > 2.0 and p.unseen_elements == []
