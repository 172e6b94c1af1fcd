"""The Dash app: pages, callbacks, download routes. `create_app(db)` builds it; nothing writes to the store."""
from __future__ import annotations

import functools
import json
import re
import urllib.parse
from pathlib import Path

import numpy as np
from dash import Dash, Input, Output, State, dcc, html, no_update
from flask import Response, abort, send_file

from perovscreen.dashboard.data import OBJECTIVES, StoreError, estimate, load_results, read_inside
from perovscreen.dashboard.pareto import prob_non_dominated
from perovscreen.dashboard.scripts import CARTESIAN, FULL_ON_3D, FULL_PLOTLY, DashboardApp, cartesian_ok
from perovscreen.dashboard.views.campaign import campaign_page, campaign_summary
from perovscreen.dashboard.views.common import error_page, interval, section
from perovscreen.dashboard.views.funnel import funnel_view
from perovscreen.dashboard.views.pareto_view import pareto_figure, pareto_view
from perovscreen.dashboard.views.table import query_rows, table_rows, table_view

ID_RE = re.compile(r"^/candidate/(.+)$")


class AppState:
    """The loaded results plus lazily computed, cached extras (P(non-dominated), grids, SHAP, counterfactuals)."""

    def __init__(self, db, model_path=None, allow=(), draws: int = 1000, campaign=None):
        self.db, self.allow, self.draws = Path(db), tuple(allow), draws
        self.error = None
        try:
            self.res = load_results(db, campaign)
        except StoreError as exc:
            self.res, self.error = None, str(exc)
        self._model_path = model_path
        self._p: dict = {}

    # --- Pareto ------------------------------------------------------------------------------------
    def default_objectives(self) -> list:
        avail = self.res.objectives()
        pref = [k for k in ("ml:log10_sigma", "barrier", "e_above_hull", "ml:Ea") if k in avail]
        return (pref + [k for k in avail if k not in pref])[:2]

    def p_front(self, keys) -> np.ndarray:
        keys = tuple(keys)
        if keys not in self._p:
            v, lo, hi, lev = self.res.arrays(keys)
            self._p[keys] = prob_non_dominated(v, lo, hi, lev, [OBJECTIVES[k].maximize for k in keys], self.draws)
        return self._p[keys]

    def rows(self) -> list:
        if not hasattr(self, "_rows"):
            keys = self.default_objectives()
            self._rows = table_rows(self.res, self.p_front(keys) if len(keys) >= 2 else None)
        return self._rows

    # --- model, SHAP, counterfactuals ---------------------------------------------------------------
    @functools.cached_property
    def model(self):
        from perovscreen.ml.train import load_property_model

        path = self._model_path
        if not path:
            for info in self.res.run_info.values():
                path = ((info.get("ml") or {}).get("params") or {}).get("model_path")
                if path:
                    break
        if not path or not Path(path).is_file():
            return None
        try:
            return load_property_model(path)[0]
        except Exception:
            return None

    def shap(self, c):
        from perovscreen.dashboard.explain import tree_shap

        if self.model is None:
            return "no composition model available (pass --model)"
        try:
            info = tree_shap(self.model, c.formula)
        except Exception as exc:
            return f"SHAP failed: {exc}"
        return info or "SHAP is shown for tree (random forest, LightGBM) composition models only"

    @property
    def cf_keys(self):
        return self.default_objectives()

    @functools.lru_cache(maxsize=256)
    def _cf(self, cid):
        from perovscreen.dashboard.counterfactual import find_counterfactuals, model_predictor

        c = self.res.by_id[cid]
        keys = self.cf_keys
        i = self.res.candidates.index(c)
        p = self.p_front(keys)[i]
        if c.front == 0 and p >= 0.5:
            return None, f"already on the front (P(non-dominated) = {p:.2f})"
        predict = model_predictor(self.model) if self.model is not None else None
        if predict is None:
            return None, "no composition model available for counterfactuals (pass --model)"
        v, lo, hi, lev = self.res.arrays(keys)
        mask = np.arange(len(v)) != i
        pf = self.p_front(keys)
        if mask.sum() > 2000:
            mask &= pf > 0
        own = {k: tuple(float(a[i, j]) for a in (v, lo, hi, lev)) for j, k in enumerate(keys)}
        cfs, summary = find_counterfactuals(c.formula, predict, keys, [OBJECTIVES[k].maximize for k in keys], own,
                                            (v[mask], lo[mask], hi[mask], lev[mask]))
        return cfs, summary

    def counterfactuals(self, c):
        cfs, summary = self._cf(c.id)
        return (cfs if cfs else None), summary

    # --- files -------------------------------------------------------------------------------------
    @functools.lru_cache(maxsize=64)
    def structure(self, cid):
        from pymatgen.core import Structure

        text = read_inside(self.res, cid, self.allow)
        if text is None:
            return None
        try:
            return Structure.from_str(text, fmt="cif")
        except Exception:
            return None

    @functools.lru_cache(maxsize=16)
    def _grid(self, cid):
        from perovscreen.bvse.core import compute_bvse

        s = self.structure(cid)
        if s is None or len(s) > 200:
            return None, "BVSE landscape not recomputed (no structure, or over 200 atoms)"
        try:
            r = compute_bvse(s, resolution=0.5, with_paths=False)
        except Exception as exc:
            return None, f"BVSE landscape not available: {exc}"
        return r.energy, "isosurface: BVSE site energy recomputed at 0.5 A (display only); path from the store"

    def bvse_grid(self, cid, s):
        return self._grid(cid)


def main_page(st: AppState):
    res = st.res
    keys = st.default_objectives()
    p = st.p_front(keys) if len(keys) >= 2 else None
    banner = [html.P(res.error, className="warning")] if res.error else []
    camp = campaign_summary(res)
    body = ([pareto_view(res, keys, pareto_figure(res, keys, p))] if len(keys) >= 2
            else [section("pareto", "Pareto front", html.P("fewer than two objectives"))])
    return html.Div(banner + body + [table_view(res, p, st.rows()), funnel_view(res), camp])


def create_app(db, model=None, allow=(), draws: int = 1000, campaign=None) -> Dash:
    """The app for store `db`; `campaign`: a `learn run` folder (or its campaign.json) when it is not the
    store's own folder (operator-given, like --allow: never taken from a URL)."""
    st = AppState(db, model, allow, draws, campaign)
    app = DashboardApp(__name__, title="perovscreen dashboard", suppress_callback_exceptions=True,
                       assets_folder=str(Path(__file__).parent / "assets"), update_title=None)
    app.state = st
    app.cartesian = cartesian_ok()
    # the first page is built now, before the server accepts: P(non-dominated), table rows, Pareto figure; it
    # is part of the initial layout, so the browser draws it without waiting for a callback
    home = error_page(st.error) if st.error else main_page(st)
    app.layout = html.Div([dcc.Location(id="url"), dcc.Store(id="shown", data="/"), html.H1("perovscreen results"),
                           html.P(str(st.db.name), className="note"), html.Div(home, id="page")],
                          style={"fontFamily": "sans-serif", "margin": "0 2em"})

    @app.callback(Output("page", "children"), Output("shown", "data"), Input("url", "pathname"), State("shown", "data"))
    def route(path, shown):
        """`shown`: the path whose page is in #page (the layout holds "/"): the first load of "/" sends nothing."""
        path = path or "/"
        if st.error:
            return error_page(st.error), path
        if path == shown:
            return no_update, no_update
        if path == "/campaign":
            return campaign_page(st.res), path
        m = ID_RE.match(path)
        if m:
            from perovscreen.dashboard.views.candidate import candidate_page

            return candidate_page(st, urllib.parse.unquote(m.group(1))), path
        return home, path

    app.clientside_callback(FULL_ON_3D % (app.config.requests_pathname_prefix + "_dash-component-suites/"
                                          + FULL_PLOTLY), Output("plotly-bundle", "data"), Input("obj-z", "value"),
                            prevent_initial_call=True)

    @app.callback(Output("pareto-graph", "figure"), Input("obj-x", "value"), Input("obj-y", "value"),
                  Input("obj-z", "value"), Input("plotly-bundle", "data"), prevent_initial_call=True)
    def pareto(x, y, z, _bundle):
        keys = [k for k in (x, y, z) if k]
        keys = list(dict.fromkeys(keys))
        if len(keys) < 2:
            keys = st.default_objectives()
        return pareto_figure(st.res, keys, st.p_front(keys))

    @app.callback(Output("pareto-detail", "children"), Input("pareto-graph", "clickData"),
                  Input("obj-x", "value"), Input("obj-y", "value"), Input("obj-z", "value"),
                  prevent_initial_call=True)
    def detail(click, x, y, z):
        if not click or not click.get("points"):
            return html.P("click a point")
        cid = click["points"][0].get("customdata")
        c = st.res.by_id.get(cid)
        if c is None:
            return html.P("unknown point")
        keys = list(dict.fromkeys(k for k in (x, y, z) if k))
        i = st.res.candidates.index(c)
        rows = [html.Tr([html.Td(OBJECTIVES[k].label), html.Td(interval(estimate(c, k)), className="obj-interval",
                                                                  **{"data-key": k})]) for k in keys]
        return html.Div([html.H4(c.id, id="detail-id"), html.P(c.formula), html.Table(rows, id="detail-table"),
                         html.P(f"P(non-dominated) {st.p_front(keys)[i]:.3f}; front {c.front}"),
                         # a full page load: the candidate page's 3-D views need the full Plotly bundle
                         html.A("open candidate page", href="/candidate/" + urllib.parse.quote(c.id, safe=""),
                                id="detail-link")], id="detail-panel")

    @app.callback(Output("cand-table", "data"), Output("cand-table", "page_count"),
                  Input("cand-table", "page_current"), Input("cand-table", "page_size"),
                  Input("cand-table", "sort_by"), Input("cand-table", "filter_query"),
                  prevent_initial_call=True)
    def table_page(page, size, sort_by, query):
        return query_rows(st.rows(), query, sort_by, page or 0, size or 20)

    @app.server.route("/_perovscreen/plotly-cartesian.min.js")
    def cartesian_plotly():
        if not app.cartesian:
            abort(404)
        return send_file(CARTESIAN, mimetype="text/javascript", max_age=86400)

    @app.server.route("/download/<path:name>")
    def download(name):
        if st.res is None or "." not in name:
            abort(404)
        cid, ext = name.rsplit(".", 1)
        c = st.res.by_id.get(cid)  # a key into memory: never a path
        if c is None or ext not in ("json", "cif"):
            abort(404)
        if ext == "json":
            return Response(json.dumps(c.to_dict(), default=str, indent=1), mimetype="application/json",
                            headers={"Content-Disposition": "attachment; filename=candidate.json"})
        text = read_inside(st.res, cid, st.allow)
        if text is None:
            abort(404)
        return Response(text, mimetype="chemical/x-cif",
                        headers={"Content-Disposition": "attachment; filename=candidate.cif"})

    return app
