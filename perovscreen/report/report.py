"""The screening report: ranked candidate table with uncertainties, plots, stage log, provenance.

Writes `academic_screening_report.md` and `academic_screening_report.html` (same content) and PNG plots.
"""
from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np

from perovscreen.core.results import Estimate
from perovscreen.pipeline.funnel import ScreenResult


def _fmt(x, nd=2):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, str):
        return x
    return "inf" if math.isinf(x) else f"{x:.{nd}f}"


def _interval(e: Estimate | None, nd=2) -> str:
    if not e:
        return "-"
    return f"{_fmt(e.value, nd)} [{_fmt(e.lower, nd)}, {_fmt(e.upper, nd)}]"


def _md_sigma(c) -> str:
    """MD sigma(300 K) as log10 with its credible interval, or why there is none."""
    if not c.md:
        return "-"
    a = c.md.arrhenius
    if not a or a.sigma_target is None:
        return f"n/a ({c.md.arrhenius_error or 'no fit'})"
    s = a.sigma_target
    return f"{math.log10(s.value):.2f} [{math.log10(s.lower):.2f}, {math.log10(s.upper):.2f}]"


def _log_interval(e: Estimate) -> str:
    lg = (lambda x: math.log10(x) if x and x > 0 else None)
    return _interval(Estimate(lg(e.value), lg(e.lower), lg(e.upper)) if e.value > 0 else None)


def candidate_table(cands) -> list[dict]:
    rows = []
    for rank, c in enumerate(cands, 1):
        b = c.bvse.barriers if c.bvse else {}
        st = c.stability
        rows.append({
            "rank": rank, "id": c.id, "formula": c.formula, "front": c.front, "score": _fmt(c.score),
            "E1D/E2D/E3D (eV)": "/".join(_fmt(float(b[k])) for k in ("E1D", "E2D", "E3D")) if b else "-",
            "BVSE Ea cal. (eV)": _interval(c.bvse.Ea_calibrated if c.bvse else None),
            "ML log10 sigma [90%]": _interval(c.pred("log10_sigma")),
            "ML Ea eV [90%]": _interval(c.pred("Ea")),
            "E_hull (signed) eV/atom": (f"{_fmt(st.e_above_hull, 3)} ({_fmt(st.hull_distance, 3)})"
                                        if st else "-"),
            "MD log10 sigma(300K)": _md_sigma(c),
            **({"pellet log10 sigma (GB)": _log_interval(c.mesoscale.sigma_eff)} if c.mesoscale else {}),
            "measured log10 sigma": _fmt((c.measured or {}).get("log10_sigma")),
            "overlaps leader": "yes" if c.overlaps_leader else "",
            "provenance": f"{c.key or '-'}",
        })
    return rows


def _md_table(rows: list[dict]) -> str:
    if not rows:
        return "_none_\n"
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_cell(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out) + "\n"


def _cell(v) -> str:
    """A table cell: ids and file names may hold '|' (a column break) or newlines."""
    return str(v).replace("|", "\u00a6").replace("\n", " ")


def _interval_point(ax, x, p: Estimate, label: str, **kw) -> None:
    """One prediction with its interval as an asymmetric error bar, labelled."""
    ax.errorbar(x, p.value, yerr=[[p.value - p.lower], [p.upper - p.value]], fmt="o", capsize=2, **kw)
    ax.annotate(label, (x, p.value), fontsize=6, xytext=(3, 3), textcoords="offset points")


def _save(fig, out: Path, name: str, made: dict) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=120)
    plt.close(fig)
    made[name] = f"plots/{name}.png"


def plots(cands, all_bvse: list[float], out: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    made = {}
    # Pareto front: ML conductivity vs BVSE barrier
    pts = [(c.barrier, c.pred("log10_sigma"), c.front, c.id) for c in cands]
    pts = [(b, p, f, i) for b, p, f, i in pts if p and np.isfinite(b)]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for b, p, f, i in pts:
        _interval_point(ax, b, p, i, color="C3" if f == 0 else "C0", alpha=0.8)
    ax.set_xlabel("BVSE percolation barrier (eV)")
    ax.set_ylabel("ML log10 sigma (S/cm), 90% interval")
    ax.set_title("Candidates (red: Pareto front 0)")
    _save(fig, out, "pareto", made)
    # barrier histogram
    finite = [b for b in all_bvse if np.isfinite(b)]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(finite, bins=max(5, min(30, len(finite))), color="C0")
    ax.set_xlabel("lowest BVSE percolation barrier (eV)")
    ax.set_ylabel("structures")
    ax.set_title(f"{len(finite)} percolating, {len(all_bvse) - len(finite)} not percolating")
    _save(fig, out, "barriers", made)
    # parity ML vs measured
    par = [((c.measured or {}).get("log10_sigma"), c.pred("log10_sigma"), c.id) for c in cands]
    par = [(m, p, i) for m, p, i in par if m is not None and p]
    if par:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        for m, p, i in par:
            _interval_point(ax, m, p, i)
        lims = [min(min(m for m, _, _ in par), min(p.lower for _, p, _ in par)) - 0.5,
                max(max(m for m, _, _ in par), max(p.upper for _, p, _ in par)) + 0.5]
        ax.plot(lims, lims, "k--", lw=0.8)
        ax.set_xlabel("measured log10 sigma (OBELiX)")
        ax.set_ylabel("ML log10 sigma")
        ax.set_title("ML vs measured (compositions in OBELiX)")
        _save(fig, out, "parity", made)
    # Arrhenius plots written by the MD stage
    for c in cands:
        p = c.md.arrhenius_plot if c.md else None
        if p and Path(p).exists():
            made[f"arrhenius_{c.id}"] = str(Path(p).resolve())
    return made


def write_report(res: ScreenResult) -> Path:
    """Write the Markdown and HTML report of a funnel run into its output folder; returns the .md path."""
    ranked, cfg, prov, space, total_s, out = res.ranked, res.config, res.provenance, res.space, res.seconds, res.out
    figs = plots(ranked, res.all_bvse, out / "plots")
    rows = candidate_table(ranked)
    md = ["# perovscreen screening report", "",
          f"{len(ranked)} candidates ranked; total run time {total_s:.1f} s. Ranking: Pareto fronts over "
          "(ML log10 sigma, max), (lowest BVSE percolation barrier, min), (energy above hull, min); ties within "
          "a front by the weighted score. 'overlaps leader' marks candidates whose 90% ML conductivity interval "
          "overlaps the leader's, i.e. not distinguishable from it.", "",
          "## Candidates", "", _md_table(rows)]
    if space:
        md += ["## Chemical space", "",
               f"`{space['name']}` ({space['family']}): {space['n_enumerated']} compositions enumerated, "
               f"filter counts {json.dumps(space['counts'])}; enumerate+filter {space['seconds_enumerate_filter']} s, "
               f"scoring {space['n_scored']} survivors {space['seconds_score']} s. Best {len(space['selected'])} "
               "by ML conductivity were built as ordered supercells:", "",
               _md_table([{"id": s["id"], "formula": s["formula"], "t": _fmt(s["t"]), "tau": _fmt(s["tau"]),
                           "ML log10 sigma [90%]": f"{_fmt(s['log10_sigma'][0])} [{_fmt(s['log10_sigma'][1])}, "
                                                   f"{_fmt(s['log10_sigma'][2])}]",
                           "composition deviation": _fmt(s["ordering"]["max_rel_deviation"], 3)}
                          for s in space["selected"]])]
    md += ["## Stages: what each removed and why", "",
           _md_table([{"stage": s.name, "in": s.n_in, "out": s.n_out, "wall time (s)": f"{s.seconds:.1f}"}
                      for s in res.stages]), ""]
    for s in res.stages:
        for cid, why in s.removed.items():
            md.append(f"- {s.name}: `{cid}` removed: {why}")
    md += ["", "## Plots", ""]
    md += [f"![{k}]({v})" for k, v in figs.items()]
    md += ["", "## Provenance", "",
           f"Every number above is stored with its inputs' SHA-256, parameters, code and library versions in "
           f"`{res.db}` (table `runs`, keyed by the provenance column's structure key); export it with "
           f"`perovscreen results export --db {res.db}`.", "",
           "```json", json.dumps(prov, indent=1, default=str), "```", "",
           "## Configuration", "", "```json", json.dumps(cfg, indent=1), "```", ""]
    text = "\n".join(md)
    p = out / "academic_screening_report.md"
    p.write_text(text)
    (out / "academic_screening_report.html").write_text(_html(text))
    return p


def _html(markdown: str) -> str:
    """Minimal Markdown to HTML for this report's own constructs (headings, tables, lists, images, code)."""
    out, in_table, in_code = [], False, False
    for line in markdown.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(html.escape(line))
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= {"-"}:
                continue
            tag = "th" if not in_table else "td"
            if not in_table:
                out.append("<table border=1 cellspacing=0 cellpadding=3>")
                in_table = True
            out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("#"):
            n = len(line) - len(line.lstrip("#"))
            out.append(f"<h{n}>{html.escape(line[n:].strip())}</h{n}>")
        elif line.startswith("!["):
            alt, _, src = line[2:].rpartition("](")  # ids in the alt text may hold "]("
            out.append(f'<p><img src="{html.escape(src[:-1])}" alt="{html.escape(alt)}" width=600></p>')
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    return "<!doctype html><html><head><meta charset='utf-8'><title>perovscreen report</title></head><body>" + \
        "\n".join(out) + "</body></html>"
