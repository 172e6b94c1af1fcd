"""Top-k found vs queries, one panel per top fraction: median over seeds and the 95% band."""
from __future__ import annotations

import numpy as np


def plot_found(report, path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labs = list(report.top_k)
    fig, axes = plt.subplots(1, len(labs), figsize=(5 * len(labs), 4), squeeze=False)
    for ax, lab in zip(axes[0], labs):
        n = np.arange(1, report.params["budget"] + 1)
        ax.plot(n, n / report.items, "k:", lw=1, label="random (exact)")
        for p in report.policies:
            c = p.curves[lab]
            line, = ax.plot(n, c["mean"], lw=1.5, label=p.policy)
            ax.fill_between(n, c["lower"], c["upper"], color=line.get_color(), alpha=0.12, lw=0)
        ax.set_xlabel("queries n (seed set included)")
        ax.set_ylabel(f"fraction of the {lab} found (K = {report.top_k[lab]})")
        ax.set_title(f"{report.target}: {lab}, {report.params['seeds']} seeds")
        ax.set_ylim(0, 1.02)
    axes[0][-1].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)
