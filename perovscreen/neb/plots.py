"""The NEB energy profile (PNG): image energies along the path, the spline when it is used."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_profile(results, path) -> Path:
    """One curve per band (e.g. a DFT band and the uMLIP band that seeded it), energies relative to the
    initial image, against the path in A."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for r in results:
        e = np.asarray(r.relative_energies())
        (line,) = ax.plot(r.path, e, "o-", ms=4, lw=1.2,
                          label=f"{r.calculator}: {r.forward_barrier:.3f} / {r.reverse_barrier:.3f} eV")
        ax.plot(r.path[r.climbing_image], e[r.climbing_image], "*", ms=11, color=line.get_color())
        if r.spline.get("used"):
            ax.plot(r.spline["s"] * r.path[-1], r.spline["barrier"], "x", color=line.get_color())
    ax.set_xlabel("path (Å)")
    ax.set_ylabel("E − E$_0$ (eV)")
    ax.set_title("forward / reverse barrier", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return Path(path)
