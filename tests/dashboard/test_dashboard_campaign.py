"""The campaign view: a real `perovscreen learn run` (BVSE as the cheap fidelity, the composition model as the
objective: seconds, not CHGNet/MD hours) shown read-only in the browser; known answers for top-k found."""
import hashlib
import json
import subprocess
import sys

import pytest

from perovscreen.dashboard.app import create_app
from perovscreen.dashboard.data import campaign_picks, campaign_top, load_results
from perovscreen.dashboard.views.common import fmt

from servers import start_server, stop_server


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, tiny_ml_model):
    """`perovscreen learn run` on 8 structures (4 examples and strained copies): 3 cycles of 2 picks."""
    from perovscreen.structures.examples import get_example

    d = tmp_path_factory.mktemp("campaign")
    (d / "in").mkdir()
    for n in ("Li3OCl", "LiNbO3", "LiTaO3", "LLTO_ordered"):
        s = get_example(n)
        s.to(filename=str(d / "in" / f"{n}.cif"))
        s.scale_lattice(s.volume * 1.08)
        s.to(filename=str(d / "in" / f"{n}_strained.cif"))
    (d / "learn.toml").write_text(f'[bvse]\nresolution = 0.4\n[ml]\nmodel_path = "{tiny_ml_model}"\n')
    out = d / "out"
    r = subprocess.run([sys.executable, "-m", "perovscreen.cli.main", "learn", "run", str(d / "in"),
                        "--objective", "log10_sigma", "--sigma-from", "ml", "--cheap", "bvse", "--cycles", "3",
                        "--batch", "2", "--config", str(d / "learn.toml"), "--out", str(out), "--executor", "serial"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return out


def _digest(folder):
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir()) if f.is_file()}


def test_campaign_view_in_the_browser(page, campaign, artefacts):
    state = json.loads((campaign / "campaign.json").read_text())
    before = _digest(campaign)
    proc, url = start_server(campaign / "perovscreen.db")
    try:
        page.goto(url + "/")
        page.wait_for_selector("#campaign-summary", timeout=30000)
        assert "3 cycles, 6 picks (6 measured) of 8 candidates" in page.inner_text("#campaign-summary")
        page.click("#campaign-link")
        for g in ("found", "parity", "error", "budget"):
            page.wait_for_selector(f"#campaign-{g} .main-svg", timeout=30000)
        assert page.locator("#campaign-cycles .cycle-row").count() == 3
        picks = [p for c in state["cycles"] for p in c["picks"]]
        rows = page.locator("#campaign-picks .pick-row")
        assert rows.count() == len(picks) == 6
        for k, p in enumerate(picks):                      # acquisition, prediction before, measured: as stored
            row = rows.nth(k)
            assert row.locator(".pick-id").inner_text() == p["id"]
            assert row.locator(".pick-acq").inner_text() == fmt(p["acquisition"], 4)
            pred = (p.get("predicted") or {}).get("ml")
            want = f"{fmt(pred['mean'], 4)} +- {fmt(pred['std'], 3)}" if pred else "- (no model yet)"
            assert row.locator(".pick-pred").inner_text() == want
            assert row.locator(".pick-obs").inner_text() == fmt(p["observed"]["ml"], 4)
        assert all(not p.get("predicted") for p in state["cycles"][0]["picks"])   # cycle 1: no model yet
        assert all(p["predicted"]["ml"]["mean"] is not None for c in state["cycles"][1:] for p in c["picks"])
        # top-k found vs queries, by hand: k = 6 // 4 = 1, the highest measured log10 sigma
        obs = [p["observed"]["ml"] for p in picks]
        best = max(range(6), key=lambda i: obs[i])
        y = page.evaluate("document.querySelector('#campaign-found .js-plotly-plot').data[0].y")
        assert list(y) == [int(i >= best) for i in range(6)]
        # budget: cumulative CPU-hours per fidelity at the last cycle = the state's seconds / 3600
        bars = page.evaluate("document.querySelector('#campaign-budget .js-plotly-plot').data"
                             ".map(t => [t.name, t.y[t.y.length - 1]])")
        assert {n: pytest.approx(v * 3600, rel=1e-9) for n, v in bars} == state["cycles"][-1]["spent"]
        page.screenshot(path=str(artefacts / "campaign.png"), full_page=True)
        page.locator("#campaign-picks .pick-id a").first.click()   # a pick opens its candidate page
        page.wait_for_selector("#cand-id", timeout=30000)
        assert page.inner_text("#cand-id") == picks[0]["id"]
    finally:
        stop_server(proc)
    after = _digest(campaign)                              # read-only: store, state and report untouched
    assert {k: after[k] for k in before} == before
    assert set(after) - set(before) <= {"perovscreen.db-wal", "perovscreen.db-shm"}  # SQLite's reader files
    assert after.get("perovscreen.db-wal", hashlib.sha256(b"").hexdigest()) == hashlib.sha256(b"").hexdigest()


def test_top_k_found_known_answers():
    cyc = lambda n, picks: {"cycle": n, "picks": picks, "spent": {}}  # noqa: E731
    ok = lambda i, v: {"id": f"c{i}", "status": "ok", "observed": v}  # noqa: E731
    one = {"objectives": ["md"], "candidates": [], "cycles": [
        cyc(1, [ok(1, {"md": -5.0}), ok(2, {"md": -2.0}), {"id": "c3", "status": "failed", "error": "x"}]),
        cyc(2, [ok(4, {"md": -4.0}), ok(5, {"md": -1.0}), ok(6, {"md": -3.0}), ok(7, {"md": -6.0}),
                ok(8, {"md": -7.0}), ok(9, {"md": -8.0})])]}
    # 8 measured -> k = 2: the two highest log10 sigma (-1 at query 4, -2 at query 2); the failure is no query
    assert [p["query"] for p in campaign_picks(one)] == [1, 2, None, 3, 4, 5, 6, 7, 8]
    assert campaign_top(one)[:2] == ([0, 1, 1, 2, 2, 2, 2, 2], 2)
    two = {"objectives": ["md", "stability"], "candidates": [], "cycles": [cyc(1, [
        ok(1, {"md": -1.0, "stability": 0.4}), ok(2, {"md": -3.0, "stability": 0.1}),
        ok(3, {"md": -2.0, "stability": 0.5}), ok(4, {"md": -2.0, "stability": 0.05})])]}
    # maximise md, minimise E_hull: c1 dominates c3, c4 dominates c2 -> the front is {c1, c4}
    assert campaign_top(two)[:2] == ([1, 1, 1, 2], 2)


def test_missing_or_corrupt_campaign_is_a_message(results, tmp_path):
    res = load_results(results / "perovscreen.db")
    assert res.campaign is None and res.campaign_error is None    # no campaign: the summary says so
    bad = tmp_path / "campaign.json"
    bad.write_text("{not json")
    res = load_results(results / "perovscreen.db", bad)
    assert res.campaign is None and "not a `learn run` campaign state" in res.campaign_error
    app = create_app(results / "perovscreen.db", campaign=tmp_path)
    c = app.server.test_client()
    r = c.post("/_dash-update-component", json={
        "output": "..page.children...shown.data..",
        "outputs": [{"id": "page", "property": "children"}, {"id": "shown", "property": "data"}],
        "inputs": [{"id": "url", "property": "pathname", "value": "/campaign"}],
        "state": [{"id": "shown", "property": "data", "value": None}], "changedPropIds": ["url.pathname"]})
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "not a `learn run` campaign state" in text and "Traceback" not in text
