"""Images: grain maps with GBs, conductivity sweeps, sigma(T) with Te and Tc (matplotlib, Agg)."""
from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def grain_map(micro, path, title: str = "") -> str:
    """The grain map (a mid-plane slice in 3D) coloured by orientation, GB voxels in black."""
    plt = _plt()
    g = micro.grains if micro.dim == 2 else micro.grains[micro.shape[0] // 2]
    o = np.asarray(micro.orientations)
    hue = (o % np.pi) / np.pi if micro.dim == 2 else (np.arccos(np.clip(o[:, 2, 2], -1, 1)) / np.pi)
    img = plt.cm.hsv(hue[g])[..., :3]
    if micro.gb is not None:
        gb = micro.gb if micro.dim == 2 else micro.gb[micro.shape[0] // 2]
        img[gb] = 0.0
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(np.transpose(img, (1, 0, 2)), origin="lower", interpolation="nearest")
    ax.set_title(title or f"{micro.n_grains} grains, GB width {micro.gb_width:g} voxels")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return str(path)


def sweep(rows, path) -> str:
    """sigma_eff / bulk against GB conductivity ratio, one line per grain count."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for n in sorted({r["grains"] for r in rows}):
        rr = sorted((r for r in rows if r["grains"] == n), key=lambda r: r["gb_ratio"])
        ax.loglog([r["gb_ratio"] for r in rr], [r["sigma_eff"] for r in rr], "o-", label=f"{n} grains")
        ax.loglog([r["gb_ratio"] for r in rr], [r["brick_layer"] for r in rr], "--", color="0.5")
    ax.set_xlabel("sigma_gb / sigma_bulk")
    ax.set_ylabel("sigma_eff / sigma_bulk")
    ax.legend(title="dashed: brick layer")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return str(path)


def arrhenius(sw, path) -> str:
    plt = _plt()
    T = np.array(sw.temperatures)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for y, lab in ((sw.D_bulk, "bulk"), (sw.D_gb, "grain boundary"), (sw.D_eff, "effective")):
        ax.semilogy(1000 / T, y, "o-" if lab == "effective" else "--", label=lab)
    for t, lab in ((sw.Te, "Te"), (sw.Tc, "Tc")):
        if t:
            ax.axvline(1000 / t, color="0.5", lw=0.8)
            ax.text(1000 / t, ax.get_ylim()[1], f" {lab} = {t:.0f} K", va="top", fontsize=8)
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("D (cm^2/s)")
    ax.legend()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return str(path)
