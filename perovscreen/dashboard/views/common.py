"""Small shared helpers for the views."""
from __future__ import annotations

import math

from dash import html


def fmt(x, digits: int = 6) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a" if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def interval(e) -> str:
    """'value [lower, upper] (90%)' of an Estimate (or a (value, lower, upper, level) tuple)."""
    if e is None:
        return "n/a"
    v, lo, hi, lev = (e.value, e.lower, e.upper, e.level) if hasattr(e, "value") else e
    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)):
        return fmt(v)
    pct = "" if lev is None or (isinstance(lev, float) and math.isnan(lev)) else f" ({lev * 100:g}%)"
    return f"{fmt(v)} [{fmt(lo)}, {fmt(hi)}]{pct}"


def section(sid: str, title: str, *children):
    return html.Section([html.H3(title), *children], id=f"sec-{sid}", className="section")


def missing(text: str):
    return html.P(text, className="missing")


def error_page(message: str):
    return html.Div([html.H2("Cannot show these results"), html.P(message, id="store-error"),
                     html.P("Point the dashboard at a results store: perovscreen dashboard --db "
                            "results/perovscreen.db")], id="error-page")
