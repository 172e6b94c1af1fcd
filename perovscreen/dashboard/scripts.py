"""Which scripts the first page loads, and when: the page head preloads the scripts Dash would otherwise
fetch only after the layout arrives, and on "/" puts plotly.js's cartesian bundle in place of the full one."""
from __future__ import annotations

from pathlib import Path

import flask
from dash import Dash

# Scripts that Dash loads only once the layout is in, fetched from the start instead (Plotly is 4.7 MB; on a
# loaded 2-core machine its download and parse were most of the first page's time)
PRELOAD = ("dash/dcc/async-graph.js", "dash/dcc/async-dropdown.js", "dash/dash_table/async-table.js",
           "dash/dash_table/async-highlight.js")
FULL_PLOTLY = "plotly/package_data/plotly.min.js"
# The first page draws only 2-D cartesian traces: plotly.js's cartesian bundle (npm plotly.js-cartesian-dist-min,
# MIT, the same version as the full one) parses in a third of the time. It becomes window.Plotly, so dcc.Graph
# does not load the full bundle; a 3-D Pareto view first loads the full one (FULL_ON_3D), and candidate pages
# (3-D structure) are opened by a full page load, which gets the full bundle. After a plotly upgrade, refresh it
# with `npm pack plotly.js-cartesian-dist-min@<plotly.offline.get_plotlyjs_version()>`; until then the version
# check below falls back to the full bundle.
CARTESIAN = Path(__file__).parent / "static" / "plotly-cartesian.min.js"

# clientside callback on the z objective: load the full bundle (3-D traces) before the 3-D figure is drawn
FULL_ON_3D = """async function(z) {
    if (!z || window.perovscreenPlotly !== "cartesian") { return window.dash_clientside.no_update; }
    await new Promise((ok, bad) => {
        const s = document.createElement("script");
        s.src = "%s"; s.onload = ok; s.onerror = bad; document.head.appendChild(s);
    });
    window.perovscreenPlotly = "full";
    return "full";
}"""


def cartesian_ok() -> bool:
    from plotly.offline import get_plotlyjs_version

    if not CARTESIAN.is_file():
        return False
    with open(CARTESIAN, encoding="utf-8", errors="replace") as f:
        return f"v{get_plotlyjs_version()}" in f.read(200)


class DashboardApp(Dash):
    """Dash with the first page's scripts in the page head: the cartesian Plotly on "/", else preloads."""

    cartesian = False

    def interpolate_index(self, **kw):
        prefix = self.config.requests_pathname_prefix
        suites = prefix + "_dash-component-suites/"
        home = flask.has_request_context() and flask.request.path == prefix
        head = "".join(f'<link rel="preload" as="script" href="{suites}{p}">' for p in PRELOAD)
        if home and self.cartesian:
            head += (f'<script src="{prefix}_perovscreen/plotly-cartesian.min.js"></script>'
                     '<script>window.perovscreenPlotly = "cartesian";</script>')
        else:
            head += f'<link rel="preload" as="script" href="{suites}{FULL_PLOTLY}">'
        return super().interpolate_index(**kw).replace("</head>", head + "</head>", 1)
