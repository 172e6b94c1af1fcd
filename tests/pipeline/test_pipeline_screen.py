"""End-to-end screens: a small funnel with real BVSE, ML, CHGNet stability and a tiny CHGNet MD."""
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymatgen.io.cif import CifWriter

from perovscreen.pipeline.config import validate_config
from perovscreen.pipeline.funnel import run_screen
from perovscreen.report.report import write_report
from perovscreen.structures.examples import get_example

SPACE = """
name: tiny
family: A_deficient
step: 0.25
sites:
  A: [{element: Li, oxidation: 1}, {element: La, oxidation: 3}, {element: Sr, oxidation: 2}]
  B: [{element: Ti, oxidation: 4}, {element: Nb, oxidation: 5}]
  X: [{element: O, oxidation: -2}]
"""


def _inputs(tmp_path, names=("Li3OCl", "LLTO_ordered", "SrTiO3")):
    d = tmp_path / "in"
    d.mkdir()
    for n in names:
        CifWriter(get_example(n)).write_file(d / f"{n}.cif")
    return d


def _cfg(out, model, **over):
    data = {"run": {"out": str(out), "jobs": 1, "executor": "serial"},
            "space": {"keep": 1, "min_length": 7.5},
            "bvse": {"resolution": 0.4},
            "ml": {"model_path": str(model)},
            "stability": {"steps": 15, "fmax": 0.5, "max_e_above_hull": 5.0, "min_length": 4.0},
            "md": {"top": 1, "temperatures": [1500.0, 2000.0], "time_ps": 0.1, "equilibration_ps": 0.02,
                   "sample_fs": 5.0, "timestep_fs": 2.0, "min_length": 7.0}}
    for k, v in over.items():
        data.setdefault(k, {}).update(v)
    return validate_config(data)


def test_small_end_to_end_screen_writes_every_section(tmp_path, tiny_ml_model):
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    out = tmp_path / "out"
    res = run_screen([_inputs(tmp_path)], space,
                     _cfg(out, tiny_ml_model, space={"relax": True}, relax={"steps": 5, "fmax": 0.5}))
    ranked = res.ranked
    ids = [c.id for c in ranked]
    assert "Li3OCl" in ids and "LLTO_ordered" in ids and "SrTiO3" not in ids
    assert any(i.startswith("tiny-") for i in ids)  # the space candidate made it through, relaxed
    assert [c.file for c in ranked if c.id.startswith("tiny-")] == [str(out / "candidates_relaxed" / "tiny-000.cif")]
    for c in ranked:
        p = c.pred("log10_sigma")
        assert p.lower <= p.value <= p.upper and p.level == 0.9
        assert c.bvse.barriers["E3D"] is not None
        assert c.stability.e_above_hull >= 0
    assert ranked[0].front == 0 and ranked[0].overlaps_leader
    md_runs = [c for c in ranked if c.md]
    assert len(md_runs) == 1 and len(md_runs[0].md.temperatures) + len(md_runs[0].md.failed) == 2
    text = Path(write_report(res)).read_text()
    for section in ("## Candidates", "## Chemical space", "## Stages", "## Plots", "## Provenance",
                    "## Configuration"):
        assert section in text
    assert "SrTiO3` removed: " in text and "no Li sites" in text
    assert (out / "academic_screening_report.html").read_text().count("<table") >= 3
    assert (out / "plots" / "pareto.png").stat().st_size > 1000
    stages = {s.name: s for s in res.stages}
    assert set(stages) >= {"space", "relax", "ingest", "bvse", "ml", "stability", "md"}
    assert stages["relax"].n_out == 1
    assert all(s.seconds >= 0 for s in stages.values())


def _screen_cmd(inputs, cfg_path):
    return [sys.executable, "-m", "perovscreen", "screen", str(inputs), "--config", str(cfg_path)]


def _write_cfg(path, out, model):
    path.write_text(f'[run]\nout = "{out}"\njobs = 1\nexecutor = "serial"\n[bvse]\nresolution = 0.3\n'
                    f'[ml]\nmodel_path = "{model}"\n[stability]\nenabled = false\n[md]\nenabled = false\n')


def test_killed_and_resumed_screen_gives_the_same_ranking(tmp_path, tiny_ml_model):
    inputs = _inputs(tmp_path, ("Li3OCl", "LLTO_ordered", "LLTO_disordered", "LiNbO3", "LiTaO3", "LiFePO4"))
    ref_cfg, cfg = tmp_path / "ref.toml", tmp_path / "cfg.toml"
    _write_cfg(ref_cfg, tmp_path / "ref", tiny_ml_model)
    _write_cfg(cfg, tmp_path / "run", tiny_ml_model)
    subprocess.run(_screen_cmd(inputs, ref_cfg), check=True, capture_output=True, timeout=900)
    proc = subprocess.Popen(_screen_cmd(inputs, cfg), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "run" / "perovscreen.db"
    deadline = time.time() + 600
    n = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                con = sqlite3.connect(db, timeout=5)
                n = con.execute("SELECT COUNT(*) FROM runs WHERE stage='bvse' AND status='ok'").fetchone()[0]
                con.close()
            except sqlite3.OperationalError:
                n = 0
        if n >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run(_screen_cmd(inputs, cfg), check=True, capture_output=True, timeout=900)
    ref = json.loads((tmp_path / "ref" / "ranking.json").read_text())["ranked"]
    got = json.loads((tmp_path / "run" / "ranking.json").read_text())["ranked"]
    assert [c["id"] for c in got] == [c["id"] for c in ref]
    assert [c["score"] for c in got] == [c["score"] for c in ref]


def test_retrained_model_recomputes_ml_and_reuses_bvse(tmp_path):
    """Retrain the ML model at the same path and re-screen: ML rows recomputed, BVSE rows reused."""
    from perovscreen.ml.dataset import obelix_table
    from perovscreen.ml.train import save_property_model, train_model
    from perovscreen.store import open_store

    model = tmp_path / "model.skops"
    table = obelix_table(None, structures=False)
    save_property_model(*train_model(table, n_estimators=12, seed=0), model)
    inputs = _inputs(tmp_path, ("Li3OCl", "LiNbO3"))
    cfg = _cfg(tmp_path / "out", model, stability={"enabled": False}, md={"enabled": False})
    first = run_screen([inputs], None, cfg)
    assert [s.removed for s in first.stages] == [{}, {}, {}]
    save_property_model(*train_model(table, n_estimators=12, seed=1), model)  # same path, new weights
    second = run_screen([inputs], None, cfg)
    with open_store(tmp_path / "out" / "perovscreen.db") as store:
        counts = {s: len(store.runs(s)) for s in ("bvse", "ml")}
    assert counts == {"bvse": 2, "ml": 4}  # BVSE rows reused, ML rows recomputed under the new model hash
    before = {c.id: c.value("log10_sigma") for c in first.ranked}
    after = {c.id: c.value("log10_sigma") for c in second.ranked}
    assert set(before) == set(after) == {"Li3OCl", "LiNbO3"} and before != after


def test_mesoscale_stage_gives_pellet_conductivity_below_bulk(tmp_path, tiny_ml_model):
    """With resistive grain boundaries the pellet conducts less than the bulk, by one factor for every
    candidate (the microstructure is solved once), and the bulk interval is carried through."""
    cfg = _cfg(tmp_path / "out", tiny_ml_model, stability={"enabled": False}, md={"enabled": False},
               mesoscale={"enabled": True, "size": 32, "grains": 6, "gb_ratio": 0.01})
    res = run_screen([_inputs(tmp_path, ("Li3OCl", "LiNbO3"))], None, cfg)
    ratios = set()
    for c in res.ranked:
        m = c.mesoscale
        assert m.source == "ml" and 0 < m.ratio < 1 and m.sigma_eff.value < m.bulk.value
        assert m.sigma_eff.lower == pytest.approx(m.bulk.lower * m.ratio)
        assert m.bulk.value == pytest.approx(10 ** c.value("log10_sigma"))
        ratios.add(round(m.ratio, 12))
    assert len(ratios) == 1
    assert "pellet log10 sigma (GB)" in Path(write_report(res)).read_text()


def test_unknown_potential_fails_before_any_stage_runs(tmp_path, tiny_ml_model):
    """An unknown calculator used to remove every candidate with exit 0 after BVSE and ML had run."""
    from perovscreen.core.errors import PerovscreenError

    cfg = _cfg(tmp_path / "out", tiny_ml_model, md={"calculator": "nonsense-potential"})
    with pytest.raises(PerovscreenError, match="nonsense-potential"):
        run_screen([_inputs(tmp_path, ("Li3OCl",))], None, cfg)
    assert not (tmp_path / "out" / "perovscreen.db").exists()
