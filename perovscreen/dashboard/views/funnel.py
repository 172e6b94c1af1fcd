"""The stage funnel: candidates in and out of each stage, and why they were removed."""
from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from perovscreen.dashboard.data import stage_funnel
from perovscreen.dashboard.views.common import missing, section


def funnel_view(res):
    rows = stage_funnel(res)
    if not rows:
        return section("funnel", "Stage funnel", missing("no stage ran in this store"))
    fig = go.Figure(go.Funnel(y=[r["name"] for r in rows], x=[r["n_out"] for r in rows],
                              text=[f"{r['n_in']} in, {r['n_out']} kept" for r in rows], textinfo="text"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10))
    reasons = [html.Li(f"{r['name']}: {why} ({n})") for r in rows for why, n in sorted(r["reasons"].items())]
    return section("funnel", "Stage funnel", dcc.Graph(figure=fig, id="funnel-graph"),
                   html.H4("Removal reasons"), html.Ul(reasons or [html.Li("none removed")], id="funnel-reasons"))
