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
