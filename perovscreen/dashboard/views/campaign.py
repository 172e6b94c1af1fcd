"""The active-learning campaign of `perovscreen learn run`, read-only: cycles, every pick with its acquisition
value and the prediction made before the calculation against the measured value, top-k found vs queries,
CPU time spent per fidelity, and the model's error vs cycle."""
from __future__ import annotations

import urllib.parse

import plotly.graph_objects as go
from dash import dcc, html

from perovscreen.dashboard.data import campaign_picks, campaign_top
from perovscreen.dashboard.views.common import fmt, missing, section
from perovscreen.learn.report import FIDELITY_LABELS


def _label(n: str) -> str:
    return FIDELITY_LABELS.get(n, n)


def _spent(state) -> str:
    spent = state.get("spent") or {}
    return (f"{sum(spent.values()) / 3600:.4g} CPU-h (" + ", ".join(f"{k} {v / 3600:.4g}" for k, v in spent.items())
            + ")") if spent else "no CPU time recorded"


def campaign_summary(res):
    """The section on the first page: one line and a link to /campaign."""
    if res.campaign_error:
        return section("campaign", "Active-learning campaign", missing(res.campaign_error))
    st = res.campaign
    if st is None:
        return section("campaign", "Active-learning campaign",
                       missing("no active-learning campaign beside this store (perovscreen learn run --out DIR "
                               "writes DIR/campaign.json and DIR/perovscreen.db)"))
    picks = campaign_picks(st)
    n_ok = sum(p["status"] == "ok" for p in picks)
    return section("campaign", "Active-learning campaign",
                   html.P(f"{len(st['cycles'])} cycles, {len(picks)} picks ({n_ok} measured) of "
                          f"{len(st['candidates'])} candidates; objective {', '.join(map(_label, st['objectives']))};"
                          f" spent {_spent(st)}", id="campaign-summary"),
                   dcc.Link("open the campaign view", href="/campaign", id="campaign-link"))


def campaign_page(res):
    st = res.campaign
    back = dcc.Link("<- all candidates", href="/")
    if st is None:
        return html.Div([back, html.H2("Active-learning campaign"),
                         missing(res.campaign_error or "no active-learning campaign beside this store")])
    from perovscreen.learn.report import cycle_rows

    names = st["objectives"]
    picks = campaign_picks(st)
    rows = cycle_rows(st)
    head = html.P(f"objectives: {', '.join(f'{_label(n)} [{n}]' for n in names)}; cheap fidelities (surrogate "
                  f"inputs): {', '.join(st.get('cheap') or []) or 'none'}; policy {st.get('policy')}; "
                  f"{len(st['candidates'])} candidates; spent {_spent(st)}", id="campaign-head")
    pending = st.get("pending")
    items = [back, html.H2("Active-learning campaign"), head]
    if pending:
        items.append(html.P(f"cycle {pending.get('cycle')} is running or was interrupted: picks "
                            + ", ".join(str(p.get("id")) for p in pending.get("picks") or [])
                            + " (a rerun of learn run continues it)", className="warning"))
    if st.get("failed"):
        items.append(html.P("failed, never retried: " + ", ".join(sorted(st["failed"])), className="note"))
    items += [_cycles(rows, names), _figures(st, picks, rows, names), _picks(res, picks, names)]
    return html.Div(items, id="campaign-page")


def _cycles(rows, names):
    fids = sorted({k for r in rows for k in r["cpu_hours"]})
    head = html.Tr([html.Th(h) for h in ("cycle", "queries", "policy", *(f"best {_label(n)}" for n in names),
                                         *(f"RMSE {_label(n)}" for n in names), *(f"CPU-h {k}" for k in fids))])
    body = [html.Tr([html.Td(r["cycle"]), html.Td(r["queries"]), html.Td(r["policy"]),
                     *(html.Td(fmt(r["best"][n], 4)) for n in names), *(html.Td(fmt(r["rmse"][n], 3)) for n in names),
                     *(html.Td(fmt(r["cpu_hours"].get(k), 3)) for k in fids)], className="cycle-row") for r in rows]
    return section("campaign-cycles", "Cycles (best so far, error of the pre-calculation predictions, cumulative "
                   "CPU-hours)", html.Table([head, *body], id="campaign-cycles"))


def _pick_id(res, cid):
    if cid in res.by_id:  # a full page load: the candidate page's 3-D views need the full Plotly bundle
        return html.A(cid, href="/candidate/" + urllib.parse.quote(cid, safe=""))
    return cid


def _picks(res, picks, names):
    head = html.Tr([html.Th(h) for h in ("cycle", "query", "id", "formula", "policy", "acquisition",
                                         *(f"predicted {_label(n)} (mean +- sd)" for n in names),
                                         *(f"measured {_label(n)}" for n in names), "status")])
    body = []
    for p in picks:
        pred = [p["predicted"].get(n) for n in names]
        body.append(html.Tr([
            html.Td(p["cycle"]), html.Td(p["query"] or "-"), html.Td(_pick_id(res, p["id"]), className="pick-id"),
            html.Td(p["formula"]), html.Td(p["policy"]), html.Td(fmt(p["acquisition"], 4), className="pick-acq"),
            *(html.Td(f"{fmt(m, 4)} +- {fmt(sd, 3)}" if m is not None else "- (no model yet)",
                      className="pick-pred", **{"data-fid": n}) for n, (m, sd) in
              zip(names, [x or (None, None) for x in pred])),
            *(html.Td(fmt(p["observed"].get(n), 4), className="pick-obs", **{"data-fid": n}) for n in names),
            html.Td("ok" if p["status"] == "ok" else f"{p['status']}: {(p['error'] or '')[:120]}")],
            className="pick-row"))
    return section("campaign-picks", "Picks: acquisition value, the prediction made before the calculation, "
                   "the measured value", html.Table([head, *body], id="campaign-picks"))


def _graph(fig, gid, title, h=300):
    fig.update_layout(height=h, margin=dict(l=10, r=10, t=40, b=10), title=title)
    return html.Div(dcc.Graph(figure=fig, id=gid), style={"flex": "1 1 45%", "minWidth": "420px"})


def _figures(st, picks, rows, names):
    found, k, what = campaign_top(st, picks)
    f1 = go.Figure(go.Scatter(x=list(range(1, len(found) + 1)), y=found, mode="lines+markers", name="found"))
    f1.update_layout(xaxis_title="queries (measured calculations)", yaxis_title=f"top-k found (k = {k})",
                     xaxis_dtick=1, yaxis_range=[0, max(k, 1) + 0.2])
    f2 = go.Figure()
    for n in names:
        pts = [p for p in picks if p["predicted"].get(n) and p["predicted"][n][0] is not None
               and n in p["observed"]]
        obs = [p["observed"][n] for p in pts]
        f2.add_trace(go.Scatter(x=obs, y=[p["predicted"][n][0] for p in pts], mode="markers", name=_label(n),
                                text=[p["id"] for p in pts],
                                error_y=dict(type="data", array=[p["predicted"][n][1] or 0 for p in pts])))
        if obs:
            lo, hi = min(obs + [p["predicted"][n][0] for p in pts]), max(obs + [p["predicted"][n][0] for p in pts])
            f2.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", line=dict(dash="dot", color="#888"),
                                    showlegend=False, hoverinfo="skip"))
    f2.update_layout(xaxis_title="measured", yaxis_title="predicted before the calculation (+- 1 sd)")
    f3 = go.Figure([go.Scatter(x=[r["cycle"] for r in rows], y=[r["rmse"][n] for r in rows], mode="lines+markers",
                               name=_label(n), connectgaps=False) for n in names])
    f3.update_layout(xaxis_title="cycle", yaxis_title="RMSE of the cycle's predictions", xaxis_dtick=1)
    fids = sorted({f for r in rows for f in r["cpu_hours"]})
    f4 = go.Figure([go.Bar(x=[r["cycle"] for r in rows], y=[r["cpu_hours"].get(f, 0.0) for r in rows], name=f)
                    for f in fids])
    f4.update_layout(barmode="stack", xaxis_title="cycle", yaxis_title="cumulative CPU-hours", xaxis_dtick=1)
    cells = [_graph(f1, "campaign-found", f"Top-k found vs queries ({what})"),
             _graph(f2, "campaign-parity", "Prediction before the calculation vs measured"),
             _graph(f3, "campaign-error", "Model error vs cycle"),
             _graph(f4, "campaign-budget", "Budget spent per fidelity")]
    note = html.P("Picks made before a model could be fitted (the first cycle) carry no prediction. RMSE: of the "
                  "predictions made before each cycle's calculations (out of sample).", className="note")
    return section("campaign-plots", "Progress", html.Div(cells, style={"display": "flex", "flexWrap": "wrap"}),
                   note)
