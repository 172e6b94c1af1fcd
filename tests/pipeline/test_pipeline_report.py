"""The report's plots: a readable parity plot (in-sample marked, no overprinted labels) and no warnings."""
import warnings

import numpy as np
import pytest

from perovscreen.core.results import Estimate
from perovscreen.ml.model import Prediction
from perovscreen.pipeline.funnel import Candidate
from perovscreen.report.report import _place_labels, parity_plot, training_ids


def _cand(cid, measured, predicted, obelix_id="x"):
    c = Candidate(cid, f"{cid}.cif", formula="LiLaTi2O6")
    c.ml = Prediction(cid, predictions={"log10_sigma": Estimate(predicted, predicted - 0.8, predicted + 0.8, 0.9)})
    c.measured = {"log10_sigma": measured, "obelix_id": obelix_id, "upper_bound": False}
    return c


def test_parity_plot_marks_in_sample_and_labels_do_not_overprint(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # the demo's case: two candidates 0.01 decades apart on both axes, one in the training set
    cands = [_cand("LLTO_ordered", -3.034, -3.034), _cand("LLTO_disordered", -3.019, -3.019),
             _cand("other", -5.0, -4.2)]
    made = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "no artists with labels" and friends fail the test
        parity_plot(cands, {"LLTO_ordered", "LLTO_disordered"}, tmp_path, made)
    assert made == {"parity": "plots/parity.png"} and (tmp_path / "parity.png").stat().st_size > 5000

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.set_xlim(-6, -2)
    ax.set_ylim(-6, -2)
    xy = np.array([[-3.034, -3.034], [-3.019, -3.019], [-3.02, -3.03], [-5, -4.2]])
    _place_labels(ax, xy, ["1", "2", "3", "4"])
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts]
    assert len(boxes) == 4
    for i in range(4):
        for j in range(i):
            assert not boxes[i].overlaps(boxes[j]), (ax.texts[i].get_text(), ax.texts[j].get_text())
    plt.close(fig)


def test_in_sample_needs_the_model_trained_on_that_obelix_file(tmp_path, tiny_ml_model):
    from perovscreen.data.obelix import load_obelix

    df = load_obelix()
    row = df.iloc[0]
    seen = _cand("seen", float(row["log10_sigma"]), -3.0, obelix_id=row["id"])
    unseen = _cand("unseen", -3.0, -3.0, obelix_id="not-an-obelix-id")
    cfg = {"ml": {"model_path": str(tiny_ml_model), "descriptors": "composition"}}
    assert training_ids([seen, unseen], cfg) == {"seen"}
    # no model card: nothing can be called in-sample
    assert training_ids([seen], {"ml": {"model_path": str(tmp_path / "none.skops")}}) == set()


@pytest.mark.parametrize("n", [1, 12])
def test_parity_plot_handles_one_or_many_points(tmp_path, n):
    cands = [_cand(f"c{k}", -3 - 0.01 * k, -3.0) for k in range(n)]
    made = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parity_plot(cands, set(), tmp_path, made)
    assert (tmp_path / "parity.png").exists()


def test_md_runs_on_the_top_candidates_and_the_named_ones(tmp_path):
    from perovscreen.pipeline.config import validate_config
    from perovscreen.pipeline.funnel import Funnel, StageLog

    cands = [_cand("a", -3, -3.0), _cand("b", -3, -2.0), _cand("c", -3, -5.0)]
    runs = []

    def funnel(md):
        f = Funnel(validate_config({"run": {"out": str(tmp_path)}, "md": md}))
        f._stage = lambda stage, cs, params, **kw: runs.append([c.id for c in cs]) or f.stages.append(
            StageLog(stage.name, len(cs), len(cs), 0.0))
        return f

    funnel({"top": 1, "ids": "c"}).md(cands)
    assert runs[-1] == ["b", "c"]  # the best by ML, then the named one
    f = funnel({"top": 0, "ids": "c, gone"})
    f.md(cands)
    assert runs[-1] == ["c"] and f.stages[-1].removed == {"gone": "chosen by [md] ids but removed by an earlier stage"}
    f = funnel({"top": 0, "ids": "gone"})
    f.md(cands)  # nothing to run: no MD batch, the removal still reported
    assert len(runs) == 2 and f.stages[-1].name == "md" and "gone" in f.stages[-1].removed


def test_report_has_shipped_graph_network_predictions(tmp_path):
    """No training: the shipped ensemble predicts SrTiO3-like cells; disordered cells are listed, not guessed."""
    from perovscreen.report.report import props_section
    from perovscreen.structures.examples import write_examples

    paths = {p.stem: p for p in write_examples(tmp_path, ["SrTiO3", "LLTO_disordered", "LiNbO3"])}
    cands = [Candidate(id=k, file=str(p)) for k, p in paths.items()]
    text = "\n".join(props_section(cands))
    row = next(line for line in text.splitlines() if line.startswith("| SrTiO3"))
    heat = float(row.split("|")[3].split()[0])
    assert -1.0 < heat < 0.2  # Perov-5 convention; the shipped ensemble gives -0.17 [-0.37, 0.03]
    assert "| LiNbO3" in text and "`LLTO_disordered` (partial occupancies)" in text


def _advanced_cand(tmp_path):
    """A candidate with hand-written AdvancedResult and NebPathway numbers (LiNbO3's CHGNet interface values
    from docs/advanced.md; elastic and NEB numbers invented for the formatting check)."""
    from perovscreen.neb.results import NebResult, pathway
    from perovscreen.potentials.advanced_stage import AdvancedResult
    from perovscreen.potentials.elastic import ElasticResult
    from perovscreen.potentials.interface import InterfaceResult

    li = {"against": "Li", "hull_energy_used": False, "reaction_energy": -0.371, "mixing_ratio": 0.5,
          "reaction": "LiNbO3 + 5 Li -> Nb + 3 Li2O", "products": ["Li2O", "Nb"]}
    lco = {"against": "LiCoO2", "hull_energy_used": False, "reaction_energy": 0.0, "mixing_ratio": None,
           "reaction": "none", "products": []}
    iface = InterfaceResult("LiNbO3", -2.980, 0.0, [li, lco], [0.74, 5.87], "phase", "chgnet", 12)
    c6 = [[0.0] * 6 for _ in range(6)]
    el = ElasticResult("LiNbO3", c6, c6, k_voigt=60.0, k_reuss=58.8, k_vrh=Estimate(59.4, 58.9, 60.1, unit="GPa"),
                       g_voigt=31.0, g_reuss=29.4, g_vrh=Estimate(30.2, 29.8, 30.9, unit="GPa"), youngs_modulus=77.4,
                       poisson_ratio=0.28, pugh_ratio=59.4 / 30.2, ductile=True,
                       eigenvalues=[25.0, 40.0, 61.5, 88.0, 120.0, 200.0], born_stable=True, asymmetry=0.3,
                       strains=[0.005, 0.01], relaxed_ions=True, backend="chgnet", n_atoms=10, seconds=12.0)
    png = tmp_path / "neb" / "LiNbO3-hop1.png"
    png.parent.mkdir()
    png.write_bytes(b"png")

    def hop(k, fw, rev, length):
        return NebResult("Li11Nb12O36", [-100.0, -100.0 + fw, -100.0 + fw - rev], [0.0, 1.5, 3.0], fw, rev, 1,
                         {"used": False}, True, 42, 0.03, {}, [], hop={"index": k, "length": length,
                                                                        "bvse_line_barrier": 0.812})

    neb = pathway("LiNbO3", "vacancy", [hop(0, 0.412, 0.398, 3.01), hop(1, 0.655, 0.655, 3.42)], [2, 2, 1], True,
                  bvse={"E1D": 0.55, "E2D": 0.61, "E3D": None}, plots=[str(png)])
    c = Candidate("LiNbO3_mp", "LiNbO3.cif", formula="LiNbO3")
    c.advanced, c.neb = AdvancedResult(iface, el), neb
    return c


def test_advanced_section_shows_the_advanced_numbers(tmp_path):
    """Unit test of formatting: hand-written AdvancedResult/NebPathway objects (no potential is run); the rows
    carry exactly those numbers and units, the NEB profile is linked relative to the report folder, the
    section is absent without advanced results, and ranking.json's candidate dict round-trips them."""
    from perovscreen.core.results import decode
    from perovscreen.report.report import _html, advanced_section

    c = _advanced_cand(tmp_path)
    lines = advanced_section([Candidate("plain", "plain.cif"), c], base=tmp_path)
    text = "\n".join(lines)
    row = {ln.split("|")[1].strip(): ln.split("|")[2].strip() for ln in text.splitlines()
           if ln.startswith("| ") and ln.count("|") == 3}
    assert lines[0] == "## Advanced screening" and "### Advanced: LiNbO3_mp" in text and "plain" not in text
    assert row["formation energy (eV/atom)"] == "-2.980"
    assert row["E_above_hull (eV/atom)"] == "0.000"
    assert row["reaction vs Li (eV/atom)"] == "-0.371 at x = 0.50: LiNbO3 + 5 Li -> Nb + 3 Li2O (products Li2O, Nb)"
    assert row["reaction vs LiCoO2 (eV/atom)"] == "0 (stable in contact)"
    assert row["window (V vs Li/Li+)"] == "0.74 - 5.87 (of the phase)"
    assert row["K_VRH (GPa) [strain range]"] == "59.4 [58.9, 60.1]"
    assert row["G_VRH (GPa) [strain range]"] == "30.2 [29.8, 30.9]"
    assert row["Pugh ratio K/G"] == "1.97 (ductile; > 1.75: ductile)"
    assert row["Born stable"] == "yes (lowest eigenvalue 25.0 GPa)"
    neb = [ln.split("|")[1:-1] for ln in text.splitlines() if ln.startswith("| 0 ") or ln.startswith("| 1 ")]
    assert [[x.strip() for x in r] for r in neb] == [
        ["0", "3.01", "0.412", "0.398", "0.812", "yes", "-"],
        ["1", "3.42", "0.655", "0.655", "0.812", "yes", "neb/LiNbO3-hop1.png"]]
    assert "barriers 0.412 - 0.655 eV (every distinct hop" in text and "E1D/E2D/E3D 0.55/0.61/- eV" in text
    assert "![NEB hop 1](neb/LiNbO3-hop1.png)" in lines
    assert '<img src="neb/LiNbO3-hop1.png"' in _html(text)
    assert advanced_section([Candidate("plain", "plain.cif")]) == []

    # ranking.json writes Candidate.to_dict(): the advanced numbers are there and decode to the same objects
    d = decode(c.to_dict())
    assert d["advanced"].interface.reactions[0]["reaction_energy"] == -0.371
    assert d["advanced"].elastic.k_vrh == Estimate(59.4, 58.9, 60.1, unit="GPa")
    assert [h.forward_barrier for h in d["neb"].hops] == [0.412, 0.655]
