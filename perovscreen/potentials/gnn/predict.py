"""Formation heat and band gap from an ensemble of trained property networks, with ensemble spread."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from perovscreen.potentials.gnn.store import find_models, load_net


def default_model_dir() -> Path:
    """$PEROVSCREEN_MODELS/perov5_gnn, else ~/.cache/perovscreen/models/perov5_gnn (where training writes)."""
    root = os.environ.get("PEROVSCREEN_MODELS") or Path.home() / ".cache" / "perovscreen" / "models"
    return Path(root) / "perov5_gnn"


@dataclass
class PropertyPrediction:
    formula: str
    heat_of_formation: float  # eV/atom, ensemble mean (Perov-5 heat_ref convention)
    heat_std: float  # eV/atom, ensemble spread (member standard deviation)
    band_gap: float  # eV, 0 when the ensemble calls it a metal
    band_gap_std: float
    p_metal: float  # mean member probability of a metal
    n_models: int
    archs: list

    def to_dict(self) -> dict:
        return asdict(self)


class PropertyEnsemble:
    """All card-checked models in a directory (or those of ``archs``); members may mix architectures."""

    def __init__(self, model_dir=None, archs=None):
        self.members = [load_net(p) for p in find_models(model_dir or default_model_dir(), archs)]

    def outputs(self, structures) -> np.ndarray:
        """Member predictions (members, n, 3): heat, gap (0 for a predicted metal), P(metal)."""
        from perovscreen.potentials.gnn.train import predict_batches

        graphs, out = {}, []
        for net, _ in self.members:
            key = (net.arch == "alignn", net.cutoff)  # cgcnn/megnet/m3gnet share one graph format
            if key not in graphs:
                graphs[key] = [net.featurize(s) for s in structures]
            out.append(predict_batches(net, graphs[key]))
        return np.stack(out)

    def predict(self, structures) -> list[PropertyPrediction]:
        from perovscreen.potentials.gnn.train import ensemble_mean

        d = self.outputs(structures)
        mean, std = ensemble_mean(d), d.std(0)
        archs = sorted({n.arch for n, _ in self.members})
        return [PropertyPrediction(s.composition.reduced_formula, float(mean[i, 0]), float(std[i, 0]),
                                   float(mean[i, 1]), float(std[i, 1]), float(mean[i, 2]), len(d), archs)
                for i, s in enumerate(structures)]


def predict_stage(record, params: dict) -> dict:
    """Batch-runner stage: formation heat and band gap of one StructureRecord."""
    ens = _ensemble(params.get("model_dir"), params.get("archs"))
    return ens.predict([record.structure])[0].to_dict()


_CACHE: dict = {}


def _ensemble(model_dir, archs=None):
    key = (str(model_dir), tuple(archs or ()))
    if key not in _CACHE:
        _CACHE[key] = PropertyEnsemble(model_dir, archs)
    return _CACHE[key]


def evaluate_ensemble(model_dir=None, archs=None, root=None, seed: int = 0, limit: int | None = None) -> dict:
    """Test-split metrics of the saved ensemble (the formula split ``gnn train`` used with this seed and limit):
    each member, the ensemble, and how well the heat spread tracks the error (Spearman(spread, |error|),
    fraction of errors within 1.645 spreads: 0.90 if the spread were a calibrated Gaussian sigma)."""
    from scipy.stats import spearmanr

    from perovscreen.errors import InputError
    from perovscreen.potentials.gnn.train import ensemble_mean, evaluate, formula_split, load_data

    ens = PropertyEnsemble(model_dir, archs)
    structures, y, formulas, _ = load_data(root, limit, seed)
    split = formula_split(formulas, seed)
    n_train = {c.get("n_train") for _, c in ens.members}
    if n_train != {len(split.train)}:
        raise InputError(f"models were trained on {sorted(n_train)} cells, this split has {len(split.train)}; "
                         "pass the --seed and --limit used for training")
    test = [structures[i] for i in split.test]
    yt = y[split.test]
    d = ens.outputs(test)
    per = {f"{n.arch}-{c.get('member', 0)}": evaluate(d[k], yt) for k, (n, c) in enumerate(ens.members)}
    pred, spread = ensemble_mean(d), d[:, :, 0].std(0)
    err = np.abs(pred[:, 0] - yt[:, 0])
    ensemble = {**evaluate(pred, yt), "heat_spread_mean": float(spread.mean()),
                "heat_spread_error_spearman": float(spearmanr(spread, err).statistic) if spread.std() > 0 else np.nan,
                "heat_within_1.645_spread": float((err <= 1.645 * spread).mean())}
    return {"n_test": len(test), "members": per, "ensemble": ensemble}
