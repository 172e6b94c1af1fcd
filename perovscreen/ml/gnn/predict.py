"""Formation heat and band gap from an ensemble of trained property networks, with ensemble spread."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from perovscreen.core.paths import models_root
from perovscreen.core.results import Estimate, Result
from perovscreen.jobs.stage import Resources, Stage, param
from perovscreen.ml.gnn.store import find_models, load_net


def default_model_dir() -> Path:
    """$PEROVSCREEN_MODELS/perov5_gnn, else ~/.cache/perovscreen/models/perov5_gnn (where training writes)."""
    return models_root() / "perov5_gnn"


@dataclass
class PropertyPrediction(Result):
    """Ensemble mean with a 90% interval from the member spread (mean +- 1.645 sd; with one member the
    interval is a point). Heat in the Perov-5 heat_ref convention (eV/atom); gap 0 for a predicted metal."""
    TYPE = "PropertyPrediction"

    formula: str
    heat_of_formation: Estimate
    band_gap: Estimate
    p_metal: float  # mean member probability of a metal
    n_models: int
    archs: list

    @property
    def heat_std(self) -> float:
        return (self.heat_of_formation.upper - self.heat_of_formation.value) / 1.6448536269514722


class PropertyEnsemble:
    """All card-checked models in a directory (or those of ``archs``); members may mix architectures."""

    def __init__(self, model_dir=None, archs=None):
        self.members = [load_net(p) for p in find_models(model_dir or default_model_dir(), archs)]

    def outputs(self, structures) -> np.ndarray:
        """Member predictions (members, n, 3): heat, gap (0 for a predicted metal), P(metal)."""
        from perovscreen.ml.gnn.train import predict_batches

        graphs, out = {}, []
        for net, _ in self.members:
            key = (net.arch == "alignn", net.cutoff)  # cgcnn/megnet/m3gnet share one graph format
            if key not in graphs:
                graphs[key] = [net.featurize(s) for s in structures]
            out.append(predict_batches(net, graphs[key]))
        return np.stack(out)

    def predict(self, structures) -> list[PropertyPrediction]:
        from perovscreen.ml.gnn.train import ensemble_mean

        d = self.outputs(structures)
        mean, std = ensemble_mean(d), d.std(0)
        archs = sorted({n.arch for n, _ in self.members})
        return [PropertyPrediction(s.composition.reduced_formula,
                                   Estimate.normal(mean[i, 0], std[i, 0], 0.9, unit="eV/atom", method="ensemble spread"),
                                   Estimate.normal(mean[i, 1], std[i, 1], 0.9, unit="eV", method="ensemble spread"),
                                   float(mean[i, 2]), len(d), archs)
                for i, s in enumerate(structures)]


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

    from perovscreen.core.errors import InputError
    from perovscreen.ml.gnn.train import ensemble_mean, evaluate, formula_split, load_data

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


@dataclass(frozen=True)
class PropsParams:
    model_dir: str = param("", "trained property networks (default <models>/perov5_gnn)", science=False, kind="path")
    archs: str = param("", "comma-separated architectures to use (default: every model there)")

    def arch_list(self):
        return sorted(x.strip() for x in self.archs.split(",") if x.strip()) or None


def run_props(record, params: PropsParams):
    return _ensemble(params.model_dir or default_model_dir(), params.arch_list()).predict([record.structure])[0]


def _props_identities(params: PropsParams) -> dict:
    """The SHA-256 of every member's weights (checked against its card when loaded)."""
    from perovscreen.ml.cards import read_card

    paths = find_models(params.model_dir or default_model_dir(), params.arch_list())
    return {"models": sorted(read_card(p)["sha256"] for p in paths)}


PROPS = Stage("predict-props", 1, PropsParams, run_props, help="formation heat and band gap from graph networks",
              resources=Resources(cores=1, memory_gb=4.0, walltime_min=10.0), identities=_props_identities)
