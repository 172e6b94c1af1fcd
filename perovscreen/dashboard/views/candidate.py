"""One candidate: structure, BVSE landscape and path, ML with intervals and SHAP, counterfactuals,
stability, MD (MSD, Arrhenius with credible band), NEB, provenance, downloads."""
from __future__ import annotations

import json
import urllib.parse

import numpy as np
import plotly.graph_objects as go
from dash import dcc, html

from perovscreen.dashboard.views.common import fmt, interval, missing, section

COLORS = {"Li": "#7b2cbf", "O": "#e63946", "Cl": "#2a9d8f", "La": "#457b9d", "Ti": "#adb5bd", "Nb": "#6a994e"}


def _fig(fig, h=360):
    fig.update_layout(height=h, margin=dict(l=10, r=10, t=20, b=10))
    return dcc.Graph(figure=fig)


def structure_figure(structure, bvse=None, energy=None) -> go.Figure:
    fig = go.Figure()
    for el in sorted({s.specie.symbol for s in structure}):
        xyz = np.array([s.coords for s in structure if s.specie.symbol == el])
        fig.add_trace(go.Scatter3d(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2], mode="markers", name=el,
                                   marker=dict(size=6, color=COLORS.get(el))))
    m = structure.lattice.matrix
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)])
    for a in range(8):
        for b in range(a + 1, 8):
            if np.abs(corners[a] - corners[b]).sum() == 1:
                p = corners[[a, b]] @ m
                fig.add_trace(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="lines", showlegend=False,
                                           line=dict(color="#555", width=2), hoverinfo="skip"))
    if energy is not None:
        n = energy.shape
        g = np.stack(np.meshgrid(*[np.arange(k) / k for k in n], indexing="ij"), -1).reshape(-1, 3) @ m
        rel = (energy - np.nanmin(energy)).ravel()
        top = float(min(np.nanpercentile(rel, 30), 2.0))
        fig.add_trace(go.Isosurface(x=g[:, 0], y=g[:, 1], z=g[:, 2], value=rel, isomin=0, isomax=top,
                                    surface_count=2, opacity=0.25, colorscale="Blues", showscale=False,
                                    name="BVSE isosurface"))
    if bvse is not None:
        for path in bvse.paths[:3]:
            f = np.asarray(path.get("frac") or [], float)
            if len(f):
                p = f @ m
                fig.add_trace(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="lines",
                                           name=f"path {path.get('dim', '')}", line=dict(color="orange", width=6)))
    fig.update_layout(scene=dict(aspectmode="data"))
    return fig


def candidate_page(app_state, cid: str):
    res = app_state.res
    c = res.by_id.get(cid)
    if c is None:
        return html.Div([html.H2("No such candidate"),
                         html.P(f"No candidate with id {cid[:80]!r} in this store.", id="not-found"),
                         dcc.Link("back to all candidates", href="/")])
    status = res.status.get(cid, "")
    head = html.Div([dcc.Link("<- all candidates", href="/"), html.H2(f"{c.id}", id="cand-id"),
                     html.P(f"{c.formula} - {status}", id="cand-status")])
    return html.Div([head, _structure(app_state, c), _ml(c), _shap(app_state, c), _counterfactual(app_state, c),
                     _stability(c), _md(c), _neb(app_state, c), _provenance(res, c), _downloads(c)])


def _structure(st, c):
    s = st.structure(c.id)
    if s is None:
        return section("structure", "Crystal structure, BVSE landscape and migration path",
                       missing("structure file not readable: it must lie inside the results folder (or a folder "
                               "passed with --allow) and match the hash recorded at intake"))
    energy, note = st.bvse_grid(c.id, s)
    items = [_fig(structure_figure(s, c.bvse, energy), 480)]
    if c.bvse:
        b = c.bvse.barriers
        items.append(html.P("BVSE barriers (eV): " + ", ".join(f"{k} {fmt(v, 4)}" for k, v in b.items())
                            + (f"; calibrated Ea {interval(c.bvse.Ea_calibrated)}"
                               if getattr(c.bvse, "Ea_calibrated", None) else "")))
    if note:
        items.append(html.P(note, className="note"))
    return section("structure", "Crystal structure, BVSE landscape and migration path", *items)


def _ml(c):
    if not c.ml:
        return section("ml", "ML predictions", missing("no ML prediction in the store"))
    preds = c.ml.predictions
    fig = go.Figure(go.Scatter(x=[e.value for e in preds.values()], y=list(preds), mode="markers",
                               error_x=dict(type="data", symmetric=False,
                                            array=[(e.upper or e.value) - e.value for e in preds.values()],
                                            arrayminus=[e.value - (e.lower or e.value) for e in preds.values()])))
    rows = [html.Tr([html.Td(t), html.Td(interval(e), className="ml-interval", **{"data-target": t}),
                     html.Td(e.unit), html.Td(e.method)]) for t, e in preds.items()]
    return section("ml", "ML predictions with intervals", html.Table(rows, id="ml-table"), _fig(fig, 220))


def _shap(st, c):
    info = st.shap(c)
    if isinstance(info, str):
        return section("shap", "Why this prediction (tree SHAP)", missing(info))
    fig = go.Figure(go.Bar(x=[s for _, _, s in info["contributions"]][::-1],
                           y=[f"{f} = {fmt(v, 3)}" for f, v, _ in info["contributions"]][::-1], orientation="h"))
    how = ("sum (LightGBM)" if info["aggregate"] == "boosted"
           else f"mean; the forest aggregates its trees by {info['aggregate']}")
    return section("shap", "Why this prediction (tree SHAP)",
                   html.P(f"{info['target']}: base {fmt(info['base'], 4)} + contributions = "
                          f"{fmt(info['prediction'], 4)} (exact tree SHAP of the trees' {how})"), _fig(fig, 320))


def _counterfactual(st, c):
    cfs, summary = st.counterfactuals(c)
    if cfs is None:
        return section("counterfactual", "Counterfactuals", missing(summary))
    rows = [html.Tr([html.Th(h) for h in ("formula", "substitutions", "P(on front)", *st.cf_keys)])]
    rows += [html.Tr([html.Td(cf.formula), html.Td("; ".join(cf.substitutions)), html.Td(f"{cf.p_front:.2f}"),
                      *[html.Td(interval(cf.estimates[k])) for k in st.cf_keys]], className="cf-row")
             for cf in cfs]
    return section("counterfactual", "Counterfactuals: fewest valid substitutions onto the front",
                   html.P(summary), html.Table(rows, id="cf-table"),
                   html.P("Every row is charge-neutral, SMACT-valid and inside the tolerance-factor bounds; "
                          "objectives the model does not predict keep this candidate's values.",
                          className="note"))


def _stability(c):
    s = c.stability
    if not s:
        return section("stability", "Stability and decomposition", missing("stability was not computed"))
    dec = ", ".join(f"{k} {v:.2f}" for k, v in s.decomposition.items()) or "stable"
    return section("stability", "Stability and decomposition",
                   html.P(f"E above hull {fmt(s.e_above_hull, 4)} eV/atom; formation energy "
                          f"{fmt(s.formation_energy_per_atom, 4)} eV/atom ({s.backend}, {s.n_references} references)"),
                   html.P(f"decomposition: {dec}"))


def _md(c):
    md = c.md
    if not md:
        return section("md", "MD: MSD and Arrhenius", missing("MD was not run for this candidate"))
    msd = go.Figure()
    for d in md.temperatures:
        if d.curve:
            msd.add_trace(go.Scatter(x=d.curve["lags_ps"], y=d.curve["msd_A2"], name=f"{d.temperature:g} K"))
    msd.update_layout(xaxis_title="lag (ps)", yaxis_title="MSD (A^2)")
    items = [_fig(msd, 280)]
    a = md.arrhenius
    if a and a.band:
        fig = go.Figure()
        T = np.asarray(a.band["T"], float)
        fig.add_trace(go.Scatter(x=1000 / T, y=a.band["D_hi"], line=dict(width=0), showlegend=False))
        fig.add_trace(go.Scatter(x=1000 / T, y=a.band["D_lo"], fill="tonexty", line=dict(width=0),
                                 name="95% credible band"))
        pts = [d for d in md.temperatures if d.D]
        fig.add_trace(go.Scatter(x=[1000 / d.temperature for d in pts], y=[d.D.value for d in pts], mode="markers",
                                 name="D(T)", error_y=dict(type="data", symmetric=False,
                                                           array=[d.D.upper - d.D.value for d in pts],
                                                           arrayminus=[d.D.value - d.D.lower for d in pts])))
        fig.update_layout(xaxis_title="1000/T (1/K)", yaxis_title="D (cm^2/s)", yaxis_type="log")
        items += [_fig(fig, 300), html.P(f"Ea {interval(a.Ea)} eV; sigma({a.target_T:g} K) "
                                         f"{interval(a.sigma_target)} S/cm")]
    else:
        items.append(missing(md.arrhenius_error or "no Arrhenius fit"))
    return section("md", "MD: MSD and Arrhenius", *items)


def _neb(st, c):
    neb = getattr(c, "neb", None) or st.res.run_info.get(c.id, {}).get("neb")
    if not neb:
        return section("neb", "NEB profile", missing("no NEB result for this candidate"))
    return section("neb", "NEB profile", html.Pre(json.dumps(neb, default=str, indent=1)[:4000]))


def _provenance(res, c):
    info = res.run_info.get(c.id, {})
    blocks = [html.Details([html.Summary(stage), html.Pre(json.dumps(v, default=str, indent=1)[:6000])])
              for stage, v in info.items()]
    if res.provenance:
        blocks.append(html.Details([html.Summary("screen (ranking.json)"),
                                    html.Pre(json.dumps(res.provenance, default=str, indent=1)[:6000])]))
    return section("provenance", "Provenance: inputs, code and library versions",
                   *(blocks or [missing("no provenance recorded")]))


def _downloads(c):
    q = urllib.parse.quote(c.id, safe="")
    return section("downloads", "Downloads", html.A("JSON", href=f"/download/{q}.json", id="dl-json"), " ",
                   html.A("CIF", href=f"/download/{q}.cif", id="dl-cif"))
