"""The Pareto view: any two or three objectives, error bars from each Estimate, colour = P(non-dominated)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import dcc, html

from perovscreen.dashboard.data import OBJECTIVES
from perovscreen.dashboard.views.common import section


def pareto_controls(res, default):
    opts = [{"label": OBJECTIVES[k].label + (" (max)" if OBJECTIVES[k].maximize else " (min)"), "value": k}
            for k in res.objectives()]
    return html.Div([
        html.Label("x"), dcc.Dropdown(opts, default[0], id="obj-x", clearable=False),
        html.Label("y"), dcc.Dropdown(opts, default[1] if len(default) > 1 else None, id="obj-y", clearable=False),
        html.Label("z (optional)"), dcc.Dropdown(opts, None, id="obj-z"),
    ], style={"display": "grid", "gridTemplateColumns": "auto 1fr auto 1fr auto 1fr", "gap": "6px"})


BIG = 5000


def err(value, lower, upper, j):
    return dict(type="data", symmetric=False, array=np.nan_to_num(upper[:, j] - value[:, j]),
                arrayminus=np.nan_to_num(value[:, j] - lower[:, j]), thickness=1, color="#999")


def marker(p):
    return dict(color=p, colorscale="Viridis", cmin=0, cmax=1, size=8, colorbar=dict(title="P(non-dominated)"))


def density(xy, bins: int = 60) -> go.Heatmap:
    """Every candidate as a grey density layer, binned here: 60 x 60 counts travel instead of 10^4 points, and
    the browser draws one image instead of binning (empty bins transparent)."""
    counts, ex, ey = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins)
    z = np.where(counts > 0, counts, np.nan).T
    return go.Heatmap(x=(ex[:-1] + ex[1:]) / 2, y=(ey[:-1] + ey[1:]) / 2, z=z, showscale=False, hoverinfo="skip",
                      colorscale=[[0, "rgba(200,200,200,0.35)"], [1, "rgba(80,80,80,0.6)"]], name="all candidates")


def pareto_figure(res, keys, p) -> go.Figure:
    value, lower, upper, _ = res.arrays(keys)
    ids = [c.id for c in res.candidates]
    labels = [OBJECTIVES[k].label for k in keys]
    big = len(ids) > BIG
    ok = np.isfinite(value).all(1)
    if big:
        # 10^4 markers with bars take seconds to draw in software WebGL: every candidate goes into a density
        # layer, and those with P(non-dominated) > 0 (all others are dominated in every draw) are drawn as
        # points with error bars and colour
        background, keep = value[ok], np.flatnonzero(ok & (p > 0))
    else:
        background, keep = None, np.flatnonzero(ok)
    value, lower, upper, p = value[keep], lower[keep], upper[keep], np.asarray(p)[keep]
    ids = [ids[i] for i in keep]
    if len(keys) == 3:
        tr = go.Scatter3d(x=value[:, 0], y=value[:, 1], z=value[:, 2], mode="markers", customdata=ids,
                          text=ids, marker={**marker(p), "size": 4}, error_x=err(value, lower, upper, 0),
                          error_y=err(value, lower, upper, 1), error_z=err(value, lower, upper, 2))
        fig = go.Figure(tr)
        fig.update_layout(scene=dict(xaxis_title=labels[0], yaxis_title=labels[1], zaxis_title=labels[2]))
    else:
        fig = go.Figure()
        if background is not None:
            fig.add_trace(density(background))
        fig.add_trace(go.Scatter(x=value[:, 0], y=value[:, 1], mode="markers", customdata=ids, text=ids,
                                 marker=marker(p), error_x=err(value, lower, upper, 0),
                                 error_y=err(value, lower, upper, 1),
                                 hovertemplate="%{text}<br>x %{x:.4g}<br>y %{y:.4g}<br>P %{marker.color:.2f}"
                                               "<extra></extra>"))
        fig.update_layout(xaxis_title=labels[0], yaxis_title=labels[1])
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=30, b=10), clickmode="event")
    return fig


def pareto_view(res, default, figure=None):
    """The section; `figure` (the default objectives' figure) is embedded so that the first page needs no
    callback round trip before Plotly can draw."""
    return section("pareto", "Pareto front with credible intervals", pareto_controls(res, default),
                   html.P("Colour: probability that the candidate is non-dominated, by Monte Carlo over every "
                          "objective's interval. Click a point for its details.", className="note"),
                   dcc.Loading(dcc.Graph(id="pareto-graph", figure=figure or {})), dcc.Store(id="plotly-bundle"),
                   html.Div(html.P("click a point"), id="pareto-detail"))
