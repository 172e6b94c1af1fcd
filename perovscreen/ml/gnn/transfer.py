"""A property-ensemble member that reuses the frozen, bundled CHGNet 0.3.0 (transfer learning, no training
of the network): heat of formation, regressed gap and P(metal) of a Perov-5-like cell.

heat = E_CHGNet / atom - sum_i x_i mu_i + r(z). The fitted elemental energies mu_i (least squares on the
training cells) absorb what separates CHGNet's energy scale (PBE/PBE+U, MP2020 corrections) from Perov-5's
heat_ref (GPAW RPBE against Castelli et al.'s references). The correction r is a gradient-boosted model of
the residual on z = final-layer CHGNet atom features pooled by site role (A-like cations, B-like cations,
anions), the composition, E and the linear estimate. A boosted classifier gives P(metal) and a boosted
regressor (trained on non-metals) the gap. The universal potential already knows which anion arrangement is
stable, which is the part of Perov-5 that composition alone cannot see.

A cell containing an element absent from the training cells has no mu for it: its heat is NaN (the other
ensemble members carry it; the prediction is flagged as an extrapolation anyway).
Saved as ``chgnet_transfer-<seed>.skops`` + card (the card is checked before the file is read).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from perovscreen.core.errors import ModelError

ARCH = "chgnet_transfer"
SUFFIX = ".skops"
# sklearn internals of the boosted models that skops does not trust by default (plain fitted data)
TRUSTED = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)
BOOST = {"max_iter": 1500, "learning_rate": 0.03, "max_leaf_nodes": 31, "l2_regularization": 1.0}
ANIONS = {"N", "P", "As", "O", "S", "Se", "Te", "F", "Cl", "Br", "I"}


def site_roles(structure) -> np.ndarray:
    """0 = A-like cation, 1 = B-like cation, 2 = anion. A cation's size is the mean distance to its 6 nearest
    anions (A-X = sqrt(2) x B-X in a cubic perovskite; relaxed Perov-5 cells are distorted, so coordination
    counts are not reliable): cations above the midpoint of the smallest and largest are A-like when the two
    differ by more than 5 %, else every cation is B-like (e.g. Li3OCl)."""
    roles = np.array([2 if site.specie.symbol in ANIONS else 1 for site in structure])
    size = {}
    for i, nbrs in enumerate(structure.get_all_neighbors(5.0)):
        d = np.sort([n.nn_distance for n in nbrs if n.specie.symbol in ANIONS])
        if roles[i] != 2 and len(d):
            size[i] = d[:6].mean()
    if size:
        lo, hi = min(size.values()), max(size.values())
        if hi > 1.05 * lo:
            for i, v in size.items():
                roles[i] = 0 if v > (lo + hi) / 2 else 1
    return roles


def pool(feats: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """[320]: mean features of the A-like and B-like cations, mean/min/max over the anions (zeros if none):
    a perovskite's A and B sites, and its anion arrangement, stay apart."""
    z = np.zeros(feats.shape[1])
    part = lambda r: feats[roles == r]  # noqa: E731
    a, b, x = part(0), part(1), part(2)
    return np.concatenate([a.mean(0) if len(a) else z, b.mean(0) if len(b) else z,
                           *((x.mean(0), x.min(0), x.max(0)) if len(x) else (z, z, z))])


def cell_features(structures, device: str = "cpu"):
    """(E eV/atom [n], CHGNet atom features pooled by site role [n, 320], see ``pool``)."""
    from perovscreen.ml.gnn.conductivity import chgnet_readout, torch_threads

    with torch_threads(1):  # 5-atom cells: one thread is fastest
        energies, feats = chgnet_readout(structures, device)
    return energies, np.array([pool(f, site_roles(s)) for f, s in zip(feats, structures)])


def fractions(structures, elements) -> tuple[np.ndarray, np.ndarray]:
    """(atomic fractions [n, len(elements)], whether every element of the cell is in ``elements``)."""
    index = {e: k for k, e in enumerate(elements)}
    x, known = np.zeros((len(structures), len(elements))), np.ones(len(structures), bool)
    for i, s in enumerate(structures):
        for el, frac in s.composition.fractional_composition.items():
            if el.symbol in index:
                x[i, index[el.symbol]] = frac
            else:
                known[i] = False
    return x, known


def fit_references(x: np.ndarray, energy: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """Elemental energies mu minimising sum (E - x.mu - heat)^2 (exact when E = heat + x.mu)."""
    return np.linalg.lstsq(x, energy - heat, rcond=None)[0]


def design(energy, feats, x, mu) -> tuple[np.ndarray, np.ndarray]:
    """(boosting inputs z, the fitted-reference heat E - x.mu)."""
    base = energy - x @ mu
    return np.hstack([feats, x, energy[:, None], base[:, None]]), base


class TransferMember:
    """A loaded member: same role as a PropertyNet in PropertyEnsemble (``arch``, ``outputs``)."""
    arch = ARCH

    def __init__(self, blob: dict):
        self.elements = list(blob["elements"])
        self.mu = np.asarray(blob["mu"], float)
        self.heat_model, self.metal_model, self.gap_model = blob["heat"], blob["metal"], blob["gap"]

    def predict_design(self, z: np.ndarray, base: np.ndarray) -> np.ndarray:
        """(n, 3) from the boosting inputs: heat, regressed gap (>= 0), P(metal)."""
        return np.stack([base + self.heat_model.predict(z), np.clip(self.gap_model.predict(z), 0, None),
                         self.metal_model.predict_proba(z)[:, 1]], axis=1)

    def outputs(self, structures) -> np.ndarray:
        """(n, 3): heat (NaN with unseen elements), regressed gap (>= 0), P(metal)."""
        x, known = fractions(structures, self.elements)
        out = self.predict_design(*design(*cell_features(structures), x, self.mu))
        out[~known, 0] = np.nan
        return out


def load_transfer(path):
    """(TransferMember, card) after the card, SHA-256 and type checks of ``perovscreen.ml.cards``."""
    from perovscreen.ml.cards import load_model

    blob, card = load_model(path, TRUSTED, expect={"arch": ARCH})
    if not isinstance(blob, dict) or not {"elements", "mu", "heat", "metal", "gap"} <= set(blob):
        raise ModelError(f"{path}: not a {ARCH} member")
    return TransferMember(blob), card


def train_transfer(out_dir, root=None, seed: int = 0, limit: int | None = None, command: str = "",
                   log=print) -> Path:
    """Fit the member on the training cells of the formula split ``gnn train`` uses (same seed and limit), score
    it on the test cells, write ``<out_dir>/chgnet_transfer-<seed>.skops`` and its card."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    from perovscreen.ml.cards import save_model, sha256_file
    from perovscreen.ml.gnn.train import METAL_GAP, evaluate, formula_split, load_data

    t0 = time.perf_counter()
    structures, y, formulas, source = load_data(root, limit, seed)
    split = formula_split(formulas, seed)
    tr = split.train
    elements = sorted({el.symbol for i in tr for el in structures[i].composition})
    log(f"perov5: {len(y)} cells; CHGNet features ...")
    energy, feats = cell_features(structures)
    x, _ = fractions(structures, elements)
    blob = {"elements": elements, "mu": fit_references(x[tr], energy[tr], y[tr, 0])}
    z, base = design(energy, feats, x, blob["mu"])
    log("fitting the boosted heat correction, metal classifier and gap regressor ...")
    blob["heat"] = HistGradientBoostingRegressor(**BOOST, random_state=seed).fit(z[tr], (y[:, 0] - base)[tr])
    metal = y[:, 1] <= METAL_GAP
    blob["metal"] = HistGradientBoostingClassifier(max_iter=500, learning_rate=0.05,
                                                   random_state=seed).fit(z[tr], metal[tr])
    nm = tr[~metal[tr]]
    blob["gap"] = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05,
                                                random_state=seed).fit(z[nm], y[nm, 1])
    te = split.test
    pred = TransferMember(blob).predict_design(z[te], base[te])
    called = pred[:, 2] < 0.5
    pred[:, 1] = np.where(called, pred[:, 1], 0.0)
    metrics = evaluate(pred, y[te])
    data = Path(source) if source else None
    card = {"arch": ARCH, "config": {"arch": ARCH, "features": "CHGNet 0.3.0 readout pooled by site role + composition"},
            "member": 0, "seed": seed, "limit": limit, "split": "formula", "n_train": int(len(tr)),
            "data": data.name if data else None, "data_sha256": sha256_file(data) if data and data.is_file() else None,
            "task": "perov5 heat_ref (eV/atom) + band gap (eV)", "boost": BOOST, "command": command,
            "train_seconds": time.perf_counter() - t0, "test_metrics": metrics,
            "reference_mae_linear_only": float(np.abs(base[te] - y[te, 0]).mean())}
    path = save_model(blob, Path(out_dir) / f"{ARCH}-{seed}{SUFFIX}", card)
    log(f"{path.name}: test heat MAE {metrics['heat_mae']:.3f} eV/atom (fitted references alone "
        f"{card['reference_mae_linear_only']:.3f}), non-metal AUC {metrics['nonmetal_auc']:.2f}")
    return path
