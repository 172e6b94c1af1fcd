"""Parity plots and feature importances as PNG (matplotlib Agg backend)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def parity_plot(y, yhat, path, title: str = "", unit: str = "") -> Path:
    plt = _plt()
    y, yhat = np.asarray(y), np.asarray(yhat)
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=120)
    ax.scatter(y, yhat, s=10, alpha=0.6)
    lo, hi = float(min(y.min(), yhat.min())), float(max(y.max(), yhat.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    mae = float(np.abs(y - yhat).mean())
    ax.set_xlabel(f"measured {unit}")
    ax.set_ylabel(f"predicted (grouped CV) {unit}")
    ax.set_title(f"{title}  MAE={mae:.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def importance_plot(names, importances, path, title: str = "", top: int = 20) -> Path:
    plt = _plt()
    imp = np.asarray(importances, float)
    order = np.argsort(imp)[::-1][:top][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(order) + 1), dpi=120)
    ax.barh([names[i] for i in order], imp[order])
    ax.set_xlabel("impurity importance")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
