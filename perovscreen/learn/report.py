"""The campaign report: a Markdown table per cycle and one PNG (best found vs queries, model error vs cycle,
CPU time per fidelity), written to the campaign folder after every run."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np


# what each fidelity (stage) measures, in the campaign's report and the dashboard
FIDELITY_LABELS = {"bvse": "BVSE barrier (eV)", "ml": "ML log10 sigma", "stability": "E_hull (eV/atom)",
                   "md": "MD log10 sigma(300 K)"}


def cycle_rows(state: dict) -> list[dict]:
    """Per cycle: queries so far, the best value of each objective so far, the prediction error of the
    cycle's picks (made before the calculation: out of sample) and the cumulative CPU-hours per fidelity."""
    names = state["objectives"]
    maximize = _directions(state)
    best = {n: None for n in names}
    rows, n_q = [], 0
    for cyc in state["cycles"]:
        errs = {n: [] for n in names}
        for pick in cyc["picks"]:
            n_q += 1
            obs = pick.get("observed") or {}
            for n in names:
                if n not in obs:
                    continue
                v = obs[n]
                best[n] = v if best[n] is None else (max if maximize[n] else min)(best[n], v)
                pred = (pick.get("predicted") or {}).get(n)
                if pred and pred.get("mean") is not None:
                    errs[n].append(v - pred["mean"])
        rows.append({"cycle": cyc["cycle"], "queries": n_q, "policy": cyc["policy"], "best": dict(best),
                     "rmse": {n: float(np.sqrt(np.mean(np.square(e)))) if e else None for n, e in errs.items()},
                     "cpu_hours": {k: v / 3600 for k, v in cyc["spent"].items()}})
    return rows


def _directions(state) -> dict:
    # objectives are stage names; stability (E_hull) and bvse (barrier) are minimised
    return {n: n not in ("stability", "bvse") for n in state["objectives"]}


def _f(x, d=3) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{d}f}"


def write_report(state: dict, out: Path, labels) -> dict:
    out = Path(out)
    names = state["objectives"]
    rows = cycle_rows(state)
    lab = dict(zip(names, labels))
    lines = [f"# Active-learning campaign ({len(state['candidates'])} candidates)", "",
             f"Objectives: {', '.join(f'{lab[n]} [{n}]' for n in names)}; cheap fidelities (surrogate inputs): "
             f"{', '.join(state['cheap']) or 'none'}; policy {state['policy']}.", "",
             "## Cycles", "",
             "| cycle | queries | policy | " + " | ".join(f"best {lab[n]}" for n in names) + " | "
             + " | ".join(f"RMSE of predictions, {n}" for n in names) + " | CPU-h spent |",
             "| --- " * (3 + 2 * len(names) + 1) + "|"]
    for r in rows:
        lines.append(f"| {r['cycle']} | {r['queries']} | {r['policy']} | "
                     + " | ".join(_f(r["best"][n]) for n in names) + " | "
                     + " | ".join(_f(r["rmse"][n]) for n in names) + " | "
                     + ", ".join(f"{k} {v:.3f}" for k, v in r["cpu_hours"].items()) + " |")
    lines += ["", "## Picks (prediction made before the calculation)", "",
              "| cycle | id | formula | acquisition | " + " | ".join(f"predicted {n}" for n in names) + " | "
              + " | ".join(f"observed {n}" for n in names) + " | status |",
              "| --- " * (5 + 2 * len(names)) + "|"]
    for cyc in state["cycles"]:
        for p in cyc["picks"]:
            pred = p.get("predicted") or {}
            obs = p.get("observed") or {}
            lines.append(f"| {cyc['cycle']} | {p['id']} | {p['formula']} | {_f(p.get('acquisition'))} | "
                         + " | ".join(f"{_f(pred[n]['mean'])} ± {_f(pred[n]['std'])}" if pred.get(n) else "-"
                                      for n in names) + " | "
                         + " | ".join(_f(obs.get(n)) for n in names) + " | "
                         + (p.get("status", "") if p.get("status") == "ok" else f"failed: {p.get('error', '')[:80]}")
                         + " |")
    if state.get("failed"):
        lines += ["", f"Failed (never retried): {', '.join(sorted(state['failed']))}."]
    md = out / "report.md"
    png = out / "report.png"
    if rows:
        plot(rows, names, lab, png)
        lines += ["", f"![campaign]({png.name})"]
    md.write_text("\n".join(lines) + "\n")
    return {"markdown": str(md), "plot": str(png) if rows else None}


def plot(rows, names, lab, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    q = [r["queries"] for r in rows]
    for n in names:
        ax[0].plot(q, [np.nan if r["best"][n] is None else r["best"][n] for r in rows], "o-", label=lab[n])
        ax[1].plot([r["cycle"] for r in rows], [np.nan if r["rmse"][n] is None else r["rmse"][n] for r in rows],
                   "o-", label=lab[n])
    ax[0].set(xlabel="queries (expensive calculations)", ylabel="best found so far", title="best found vs queries")
    ax[1].set(xlabel="cycle", ylabel="RMSE of the pre-calculation predictions", title="model error vs cycle")
    fids = sorted({k for r in rows for k in r["cpu_hours"]})
    bottom = np.zeros(len(rows))
    for k in fids:
        v = np.array([r["cpu_hours"].get(k, 0.0) for r in rows])
        ax[2].bar([r["cycle"] for r in rows], v, bottom=bottom, label=k)
        bottom += v
    ax[2].set(xlabel="cycle", ylabel="cumulative CPU-hours", title="budget spent per fidelity")
    for a in ax:
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
