"""The screening report: ranked candidate table with uncertainties, plots, stage log, provenance.

Writes `academic_screening_report.md` and `academic_screening_report.html` (same content) and PNG plots.
"""
from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path

import numpy as np

from perovscreen.core.results import Estimate
from perovscreen.pipeline.funnel import ScreenResult
from perovscreen.potentials.elastic import PUGH_DUCTILE


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


def md_section(cands) -> list[str]:
    """Per MD candidate: the MD cell, D and sigma per temperature (95%), the Arrhenius fit or why there is none."""
    out = []
    for c in cands:
        r = c.md
        if not r:
            continue
        cell = r.cell
        vac = cell.vacancies or {}
        why = (f"; {', '.join(f'{n} {el}' for el, n in vac['removed'].items())} removed ({vac['compensation']})"
               if vac else "")
        out += [f"### MD: {c.id}", "",
                f"{r.engine}/{r.potential}, cell {cell.formula_md} ({cell.n_atoms} atoms, {'x'.join(map(str, cell.supercell))}"
                f" supercell of {cell.formula_input}{why}); {r.settings.time_ps:g} ps production after "
                f"{r.settings.equil_ps:g} ps equilibration per temperature, {r.settings.thermostat} thermostat.", "",
                _md_table([{"T (K)": f"{t.temperature:g}", "status": t.status.replace("_", " "),
                            "D cm2/s [95%]": _sci(t.D) if t.D else f"< {t.D_upper:.1e}" if t.D_upper else "-",
                            "sigma S/cm [95%]": _sci(t.sigma) if t.sigma else "-",
                            "hop-equivalents": f"{t.hop_equivalents:.0f}",
                            "framework RMSD (A)": _fmt(t.framework_rmsd)} for t in r.temperatures])]
        a = r.arrhenius
        if a:
            out.append(f"Arrhenius fit over {', '.join(f'{t:g}' for t in a.temperatures)} K: Ea = {_interval(a.Ea, 3)} "
                       f"eV, D0 = {_sci(a.D0)} cm2/s, sigma({a.target_T:g} K) = "
                       f"{_sci(a.sigma_target) if a.sigma_target else '-'} S/cm (95% credible; chi2/dof "
                       f"{_fmt(a.chi2_dof)})." + "".join(f" Note: {n}." for n in a.notes))
        else:
            out.append(f"No Arrhenius fit: {r.arrhenius_error}.")
        out += [f"- {t:g} K failed: {e}" for t, e in r.failed.items()] + [""]
    return out


def props_section(cands) -> list[str]:
    """Formation heat and band gap of each ordered candidate from the shipped Perov-5 graph-network ensemble
    (no training: the weights and their cards ship with the package; docs/potentials.md)."""
    import importlib.util

    head = ["## Graph-network properties (Perov-5 ensemble)", ""]
    if importlib.util.find_spec("torch_geometric") is None:
        return head + ["not computed: the graph networks need `pip install perovscreen[gnn]`", ""]
    from perovscreen.ml.gnn.predict import PropertyEnsemble
    from perovscreen.structures.intake import load_file

    structs, ids, skipped = [], [], []
    for c in cands:  # read as the intake reads it (pymatgen's CIF notes are kept in the record, not printed)
        s = load_file(c.file, ion="none")[0].structure if c.file and Path(c.file).is_file() else None
        if s is None or not s.is_ordered:
            skipped.append(f"`{c.id}` ({'partial occupancies' if s is not None else 'no structure file'})")
            continue
        structs.append(s)
        ids.append(c.id)
    if not structs:
        return head + ["no ordered candidate", ""]
    preds = PropertyEnsemble().predict(structs)
    rows = [{"id": i, "formula": p.formula, "heat of formation eV/atom [90%]": _interval(p.heat_of_formation),
             "band gap eV [90%]": _interval(p.band_gap), "P(metal)": _fmt(p.p_metal),
             "possible non-metal": "yes" if p.nonmetal else "no",
             "elements outside training": ", ".join(p.unseen_elements) or "-"} for i, p in zip(ids, preds)]
    note = (f"{preds[0].n_models} members ({', '.join(preds[0].archs)}); heat in the Perov-5 convention; "
            f"'possible non-metal' is called at P(metal) <= {_fmt(preds[0].nonmetal_threshold, 3)}, chosen on "
            "validation cells for ~90% non-metal recall (precision is low: a screen, not a proof). Cells far from "
            "Perov-5's 5-atom ABX3 cells are extrapolations.")
    return head + [note, "", _md_table(rows)] + ([f"Not predicted: {', '.join(skipped)}.", ""] if skipped else [""])


def _reaction(r: dict | None) -> str:
    """Most negative reaction energy with its mixing ratio, balanced reaction and products; 0: stable in contact."""
    if not r:
        return "-"
    if r["reaction"] == "none":
        return "0 (stable in contact)"
    return (f"{_fmt(r['reaction_energy'], 3)} at x = {_fmt(r['mixing_ratio'])}: {r['reaction']} "
            f"(products {', '.join(r['products'])})")


def _advanced_rows(a) -> list[dict]:
    """Quantity/value rows of one AdvancedResult (interface part, then elastic part)."""
    i, el, rows = a.interface, a.elastic, []
    if i:
        by = {r["against"]: r for r in i.reactions}
        li = by.pop("Li", None)
        rows += [("formation energy (eV/atom)", _fmt(i.formation_energy_per_atom, 3)),
                 *([("E_above_hull (eV/atom)", _fmt(i.e_above_hull, 3))] if i.e_above_hull is not None else []),
                 ("reaction vs Li (eV/atom)", _reaction(li)),
                 *[(f"reaction vs {k} (eV/atom)", _reaction(r)) for k, r in by.items()],
                 ("window (V vs Li/Li+)", f"{_fmt(i.window[0])} - {_fmt(i.window[1])} (of the {i.window_of})"
                  if i.window else "none")]
    if el:
        rows += [("K_VRH (GPa) [strain range]", _interval(el.k_vrh, 1)),
                 ("G_VRH (GPa) [strain range]", _interval(el.g_vrh, 1)),
                 ("Pugh ratio K/G", f"{_fmt(el.pugh_ratio)} ({'ductile' if el.ductile else 'brittle'}; "
                                    f"> {PUGH_DUCTILE}: ductile)"),
                 ("Born stable", f"{'yes' if el.born_stable else 'no'} (lowest eigenvalue "
                                 f"{_fmt(min(el.eigenvalues), 1)} GPa)")]
    return [{"quantity": q, "value": v} for q, v in rows]


def _neb_rows(p, base: Path | None) -> tuple[list[dict], list[str]]:
    """One row per NEB hop, and the image lines of the hops' profile PNGs (linked relative to `base`)."""
    rows, imgs = [], []
    for k, h in enumerate(p.hops):
        idx = h.hop.get("index", k)
        png = next((f for f in p.plots if Path(f).name.endswith(f"-hop{idx}.png")), None)
        if png and base is not None:
            png = os.path.relpath(Path(png).resolve(), base.resolve())
        rows.append({"hop": idx, "length (A)": _fmt(h.hop.get("length")),
                     "forward barrier (eV)": _fmt(h.forward_barrier, 3),
                     "reverse barrier (eV)": _fmt(h.reverse_barrier, 3),
                     "BVSE line barrier (eV)": _fmt(h.hop.get("bvse_line_barrier"), 3),
                     "converged": "yes" if h.converged else f"no ({h.steps} steps)", "profile": png or "-"})
        if png:
            imgs.append(f"![NEB hop {idx}]({png})")
    return rows, imgs


def advanced_section(cands, base: Path | None = None) -> list[str]:
    """The [advanced] stage's numbers per candidate: formation energy, interface reactions, window, elastic
    moduli (docs/advanced.md) and the NEB hops; absent when no candidate has them. base: the report's folder
    (NEB profile PNGs are linked relative to it)."""
    out = []
    for c in cands:
        a, p = c.advanced, c.neb
        if a:
            pot = a.elastic.backend if a.elastic else a.interface.backend
            out += [f"### Advanced: {c.id}", "", f"One potential ({pot}); K/G intervals: range over the strain "
                    "magnitudes, not a probability; reactions at the most negative mixing ratio x (fraction of "
                    "the candidate's atoms).", "", _md_table(_advanced_rows(a))]
        if p:
            rows, imgs = _neb_rows(p, base)
            out += [f"### NEB: {c.id}", "",
                    f"{p.mode} hops in a {'x'.join(map(str, p.supercell))} supercell; barriers {_fmt(p.min_barrier, 3)}"
                    f" - {_fmt(p.max_barrier, 3)} eV ({'every' if p.complete else 'not every'} distinct hop up to "
                    f"the percolation length computed); BVSE E1D/E2D/E3D "
                    f"{'/'.join(_fmt(p.bvse.get(k)) for k in ('E1D', 'E2D', 'E3D'))} eV.", "", _md_table(rows)]
            out += imgs + ([""] if imgs else [])
    return (["## Advanced screening", ""] + out) if out else []


def _sci(e: Estimate) -> str:
    return f"{e.value:.2e} [{e.lower:.2e}, {e.upper:.2e}]"


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


def plots(cands, all_bvse: list[float], out: Path, in_sample: set | None = None) -> dict:
    """The report's PNGs in `out`; in_sample: ids whose measured composition the ML model was trained on."""
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
    par = [c for c in cands if (c.measured or {}).get("log10_sigma") is not None and c.pred("log10_sigma")]
    if par:
        parity_plot(par, in_sample or set(), out, made)
    # MSD and Arrhenius plots written by the MD stage, linked relative to the report
    for c in cands:
        p = c.md.arrhenius_plot if c.md else None
        if p and Path(p).exists():
            for kind, f in (("msd", Path(p).with_name("msd.png")), ("arrhenius", Path(p))):
                if f.exists():
                    made[f"{kind}_{c.id}"] = os.path.relpath(f.resolve(), out.resolve().parent)
    return made


# label offsets (points) tried in turn: nearest ring first, eight directions per ring
_OFFSETS = [(r * dx, r * dy) for r in (5, 12, 20, 30)
            for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))]


def _place_labels(ax, xy, labels, fontsize=7) -> None:
    """Label each point at the first offset whose text box overlaps no earlier label and no point
    (display coordinates; text size estimated from the font size), with a leader line when far."""
    fig = ax.figure
    px = fig.dpi / 72
    pts = ax.transData.transform(np.asarray(xy, float))
    taken = [(x - 3 * px, y - 3 * px, x + 3 * px, y + 3 * px) for x, y in pts]
    for (x, y), text in zip(pts, labels):
        w, h = 0.62 * fontsize * len(text) * px, fontsize * px
        best, best_hits, best_box = None, None, None
        for ox, oy in _OFFSETS:
            x0 = x + ox * px - (w if ox < 0 else 0)
            y0 = y + oy * px - (h if oy < 0 else 0)
            box = (x0, y0, x0 + w, y0 + h)
            hits = sum(not (box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1]) for b in taken)
            if best_hits is None or hits < best_hits:
                best, best_hits, best_box = (ox, oy), hits, box
            if hits == 0:
                break
        taken.append(best_box)
        far = abs(best[0]) > 5 or abs(best[1]) > 5
        ax.annotate(text, xy=ax.transData.inverted().transform((x, y)), xytext=best, textcoords="offset points",
                    fontsize=fontsize, ha="right" if best[0] < 0 else "left", va="top" if best[1] < 0 else "bottom",
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"} if far else None)


def parity_plot(cands, in_sample: set, out: Path, made: dict) -> None:
    """ML vs measured log10 sigma with the 90% ML interval; points numbered (key in the legend, labels placed
    so none overprints), training-set compositions marked in-sample: a fit, not a test."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(6.8, 4.5))
    m = np.array([c.measured["log10_sigma"] for c in cands])
    p = [c.pred("log10_sigma") for c in cands]
    lo, hi = min(m.min(), min(e.lower for e in p)) - 0.5, max(m.max(), max(e.upper for e in p)) + 0.5
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    style = {True: {"fmt": "s", "color": "C1", "mfc": "none"}, False: {"fmt": "o", "color": "C0"}}
    for x, e, c in zip(m, p, cands):
        ax.errorbar(x, e.value, yerr=[[e.value - e.lower], [e.upper - e.value]], capsize=2, ms=6, alpha=0.9,
                    **style[c.id in in_sample])
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    fig.tight_layout()
    ax.apply_aspect()  # fix the axes box now: labels are placed in display coordinates
    _place_labels(ax, np.column_stack([m, [e.value for e in p]]), [str(k) for k in range(1, len(cands) + 1)])
    kinds = sorted({c.id in in_sample for c in cands}, reverse=True)
    handles = [Line2D([], [], ls="--", color="k", lw=0.8, label="y = x")]
    handles += [Line2D([], [], ls="", marker=style[k]["fmt"], color=style[k]["color"], mfc=style[k].get("mfc"),
                       label="in training set (in-sample)" if k else "not in training set") for k in kinds]
    handles += [Line2D([], [], ls="", label=f"{k}  {c.id}" + ("  (upper bound)" if c.measured.get("upper_bound")
                                                                 else "")) for k, c in enumerate(cands, 1)]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1), borderaxespad=0,
              handlelength=1.5, title="ML 90% interval", title_fontsize=7)
    ax.set_xlabel("measured log10 sigma (S/cm, OBELiX)")
    ax.set_ylabel("ML log10 sigma (S/cm)")
    ax.set_title("ML vs measured" + (": in-sample points are not a test" if any(kinds) else ""), fontsize=9)
    fig.savefig(out / "parity.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    made["parity"] = "plots/parity.png"


def training_ids(cands, cfg: dict) -> set:
    """Ids of candidates whose measured OBELiX row is in the ML model's training data: the model card names
    the OBELiX file (SHA-256) it was fitted on; a structure model uses only the rows with a Li CIF."""
    from perovscreen.core.errors import PerovscreenError
    from perovscreen.data.obelix import load_obelix
    from perovscreen.ml.cards import read_card
    from perovscreen.ml.train import resolve_model_path

    ml = cfg.get("ml") or {}
    kind = "structure" if ml.get("descriptors") == "structure" else "composition"
    try:
        card = read_card(ml.get("model_path") or resolve_model_path(kind))
        df = load_obelix()
    except (PerovscreenError, OSError):
        return set()
    if card.get("training_data", {}).get("obelix_sha256") != df.attrs["sha256"]:
        return set()
    if card.get("descriptor_set") == "structure":
        df = df[df["has_cif"] & df["cif_has_li"].astype(str).str.lower().eq("true")]
    seen = set(df["id"])
    return {c.id for c in cands if (c.measured or {}).get("obelix_id") in seen}


def write_report(res: ScreenResult) -> Path:
    """Write the Markdown and HTML report of a funnel run into its output folder; returns the .md path."""
    ranked, cfg, prov, space, total_s, out = res.ranked, res.config, res.provenance, res.space, res.seconds, res.out
    figs = plots(ranked, res.all_bvse, out / "plots", training_ids(ranked, cfg))
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
    md += md_section(ranked)
    md += props_section(ranked)
    md += advanced_section(ranked, out)
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
