"""The candidates table: sortable and filterable in the browser (native DataTable, paged)."""
from __future__ import annotations

import math
import re

from dash import dash_table

from perovscreen.dashboard.data import estimate
from perovscreen.dashboard.views.common import section

PAGE = 20
COLS = [("ml:log10_sigma", "log10 sigma"), ("ml:Ea", "ML Ea"), ("barrier", "barrier"),
        ("e_above_hull", "E hull"), ("md:log10_sigma", "MD log10 sigma")]


def _num(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else round(float(x), 4)


def table_rows(res, p_front) -> list[dict]:
    rows = []
    for i, c in enumerate(res.candidates):
        els = " ".join(dict.fromkeys(re.findall(r"[A-Z][a-z]?", c.formula or "")))
        r = {"id": c.id, "formula": c.formula, "elements": els, "status": res.status.get(c.id, ""),
             "front": c.front, "p_front": _num(p_front[i]) if p_front is not None else None}
        for key, _ in COLS:
            e = estimate(c, key)
            r[key] = _num(e.value) if e else None
        rows.append(r)
    return rows


def table_view(res, p_front, rows=None):
    cols = [{"name": "id", "id": "id"}, {"name": "formula", "id": "formula"},
            {"name": "elements", "id": "elements"}, {"name": "status", "id": "status"},
            {"name": "front", "id": "front", "type": "numeric"},
            {"name": "P(non-dominated)", "id": "p_front", "type": "numeric"}]
    cols += [{"name": name, "id": key, "type": "numeric"} for key, name in COLS
             if any(estimate(c, key) for c in res.candidates[:2000])]
    rows = table_rows(res, p_front) if rows is None else rows
    return section("table", f"Candidates ({len(res.candidates)})", dash_table.DataTable(
        id="cand-table", columns=cols, data=rows[:PAGE], sort_action="custom", filter_action="custom",
        page_action="custom", page_current=0, page_size=PAGE, page_count=max(1, -(-len(rows) // PAGE)),
        sort_mode="multi", filter_query="",
        style_table={"overflowX": "auto"}, style_cell={"fontFamily": "monospace", "fontSize": 12}))


OPS = {"=": "eq", "eq": "eq", "!=": "ne", "ne": "ne", ">": "gt", "gt": "gt", "<": "lt", "lt": "lt",
       ">=": "ge", "ge": "ge", "<=": "le", "le": "le", "contains": "contains", "s=": "eq", "datestartswith": "contains"}
CLAUSE = re.compile(r"^\{(?P<col>[^}]+)\}\s+(?P<op>\S+)\s+(?P<val>.*)$")


def _parse_value(v: str):
    v = v.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'`":
        return v[1:-1]
    try:
        return float(v)
    except ValueError:
        return v


def _match(x, op, v) -> bool:
    if op == "contains":
        return x is not None and str(v).lower() in str(x).lower()
    if x is None:
        return False
    if isinstance(v, float) and not isinstance(x, (int, float)):
        return False
    if isinstance(v, str) and isinstance(x, (int, float)):
        return op == "ne"
    return {"eq": x == v, "ne": x != v, "gt": x > v, "lt": x < v, "ge": x >= v, "le": x <= v}[op]


def query_rows(rows, filter_query: str = "", sort_by=None, page: int = 0, size: int = PAGE):
    """Server-side filtering (Dash filter syntax: `{col} op value` clauses joined by &&), sorting, paging:
    only one page travels to the browser, so 10^4-10^5 rows stay responsive."""
    out = rows
    for clause in filter(None, (c.strip() for c in (filter_query or "").split(" && "))):
        m = CLAUSE.match(clause)
        if not m:
            continue
        raw = m["op"].lower()
        if raw not in OPS and raw[:1] in ("s", "i") and raw[1:] in OPS:  # scontains, icontains, s>, ...
            raw = raw[1:]
        col, op, val = m["col"], OPS.get(raw), _parse_value(m["val"])
        if op is None:
            continue
        if isinstance(val, float) and op == "contains":
            val = m["val"].strip()
        out = [r for r in out if _match(r.get(col), op, val)]
    for s in reversed(sort_by or []):
        col, desc = s["column_id"], s["direction"] == "desc"
        have = [r for r in out if r.get(col) is not None]
        none = [r for r in out if r.get(col) is None]
        out = sorted(have, key=lambda r: r[col], reverse=desc) + none
    return out[page * size:(page + 1) * size], max(1, -(-len(out) // size))
