"""Formation heat and band gap from an ensemble of trained property networks, with calibrated intervals.

Where the models come from (``resolve_model_dir``): ``--model-dir`` if given, else the cache
(``$PEROVSCREEN_MODELS/perov5_gnn`` or ``~/.cache/perovscreen/models/perov5_gnn``, where ``gnn train``
writes) when it holds models with cards, else the ensemble shipped in the package (``ml/gnn/weights``).
Every file is checked against its card's SHA-256 before it is read. A directory's ``calibration.json``
(written by ``gnn calibrate`` / ``gnn train``, for exactly these members) scales the member spread to a
validation-calibrated 90% interval and sets the non-metal threshold; without it the interval is mean +-
1.645 member sd and the threshold P(metal) 0.5.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perovscreen.core.paths import models_root
from perovscreen.core.results import Estimate, Result
from perovscreen.jobs.stage import Resources, Stage, param
from perovscreen.ml.gnn.store import find_models, load_net, member_files

SHIPPED_DIR = Path(__file__).with_name("weights")
CALIBRATION = "calibration.json"
Z90 = 1.6448536269514722


def default_model_dir() -> Path:
    """$PEROVSCREEN_MODELS/perov5_gnn, else ~/.cache/perovscreen/models/perov5_gnn (where training writes)."""
    return models_root() / "perov5_gnn"


def resolve_model_dir(model_dir=None) -> Path:
    """``model_dir`` if given; else the cache when it holds models with cards (yours); else the shipped ones."""
    if model_dir:
        return Path(model_dir)
    cache = default_model_dir()
    if member_files(cache):
        return cache
    return SHIPPED_DIR


def load_member(path):
    """(member, card) of a network (``.pt``) or a CHGNet-transfer member (``.skops``), card-checked."""
    if Path(path).suffix == ".skops":
        from perovscreen.ml.gnn.transfer import load_transfer

        return load_transfer(path)
    return load_net(path)


def read_calibration(model_dir, members) -> dict | None:
    """The directory's calibration if it was fitted for exactly these members (by SHA-256), else None."""
    path = Path(model_dir) / CALIBRATION
    if not path.is_file():
        return None
    try:
        cal = json.loads(path.read_text())
    except ValueError:
        return None
    return cal if sorted(cal.get("members", [])) == sorted(c["sha256"] for _, c in members) else None


@dataclass
class PropertyPrediction(Result):
    """Ensemble mean with a 90% interval (calibrated member spread, see the module doc). Heat in the Perov-5
    heat_ref convention (eV/atom); gap: the accuracy-optimal estimate (0 unless P(metal) < 0.5). ``nonmetal``:
    possibly a non-metal, called at the ensemble's threshold on P(metal) chosen on validation cells for ~90%
    non-metal recall (many such calls are metals: see the precision in calibration.json); the gap interval of
    such a cell reaches up to its regressed gap."""
    TYPE = "PropertyPrediction"
    VERSION = 2

    formula: str
    heat_of_formation: Estimate
    band_gap: Estimate
    p_metal: float  # mean member probability of a metal
    n_models: int
    archs: list
    nonmetal: bool = False
    nonmetal_threshold: float = 0.5  # called a non-metal when p_metal <= this
    unseen_elements: list = field(default_factory=list)  # not in the training cells: an extrapolation

    @property
    def heat_std(self) -> float:
        return (self.heat_of_formation.upper - self.heat_of_formation.value) / Z90


def weighted(x: np.ndarray, w=None) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell weighted mean and standard deviation over members of ``x`` (members, n); a NaN output (a
    member that cannot predict that cell) gets no weight. Equal weights by default."""
    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    w = np.where(np.isnan(x), 0.0, w[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        w = w / w.sum(0)
    v = np.nan_to_num(x)
    mean = (w * v).sum(0)
    return mean, np.sqrt((w * (v - mean) ** 2).sum(0))


def combine(d: np.ndarray, cal: dict | None = None) -> dict:
    """Member outputs (members, n, 3) [heat, regressed gap, P(metal)] -> ensemble arrays: heat, heat_lo/hi,
    gap, gap_lo/hi, p_metal, nonmetal. Members are averaged with the calibration's ``weights`` (fitted on
    validation cells; equal without). The gap value is the accuracy-optimal estimate (the regressed gap where
    P(metal) < 0.5, else 0); ``nonmetal`` is the recall-oriented call (P(metal) <= the calibrated threshold),
    and for such a cell the interval reaches up to the regressed gap + its width."""
    cal = cal or {}
    w = cal.get("weights")
    heat, hsd = weighted(d[:, :, 0], w)
    reg, gsd = weighted(d[:, :, 1], w)
    p = weighted(d[:, :, 2], w)[0]
    nonmetal = p <= cal.get("nonmetal_threshold", 0.5)
    likely = p < 0.5
    hw = cal.get("heat_scale", Z90) * np.maximum(hsd, cal.get("heat_floor", 0.0))
    gw = cal.get("gap_scale", Z90) * np.maximum(gsd, cal.get("gap_floor", 0.0))
    metal_upper = cal.get("metal_gap_upper", 0.0)  # 90% of validation cells called metal have a gap below this
    return {"heat": heat, "heat_lo": heat - hw, "heat_hi": heat + hw, "p_metal": p, "nonmetal": nonmetal,
            "gap": np.where(likely, reg, 0.0), "gap_lo": np.where(likely, np.clip(reg - gw, 0, None), 0.0),
            "gap_hi": np.where(likely | nonmetal, reg + gw, metal_upper)}


class PropertyEnsemble:
    """All card-checked models in a directory (or those of ``archs``); members may mix architectures."""

    def __init__(self, model_dir=None, archs=None, calibrated: bool = True):
        self.model_dir = resolve_model_dir(model_dir)
        self.members = [load_member(p) for p in find_models(self.model_dir, archs)]
        self.calibration = read_calibration(self.model_dir, self.members) if calibrated else None

    def outputs(self, structures) -> np.ndarray:
        """Member predictions (members, n, 3): heat, regressed gap (>= 0, every cell), P(metal)."""
        from perovscreen.ml.gnn.train import predict_batches

        graphs, out = {}, []
        for net, _ in self.members:
            if not hasattr(net, "featurize"):  # CHGNet-transfer member
                out.append(net.outputs(structures))
                continue
            key = (net.arch == "alignn", net.cutoff)  # the PyG architectures share one graph format
            if key not in graphs:
                graphs[key] = [net.featurize(s) for s in structures]
            out.append(predict_batches(net, graphs[key], raw=True))
        return np.stack(out)

    def predict(self, structures) -> list[PropertyPrediction]:
        cal = self.calibration
        c = combine(self.outputs(structures), cal)
        how = {k: f"ensemble spread x {cal[k]:.2f} (validation-calibrated)" if cal else "ensemble spread"
               for k in ("heat_scale", "gap_scale")}
        t = cal["nonmetal_threshold"] if cal else 0.5
        archs = sorted({n.arch for n, _ in self.members})
        known = set(cal.get("train_elements", ())) if cal else set()
        return [PropertyPrediction(s.composition.reduced_formula,
                                   Estimate(float(c["heat"][i]), float(c["heat_lo"][i]), float(c["heat_hi"][i]), 0.9,
                                            unit="eV/atom", method=how["heat_scale"]),
                                   Estimate(float(c["gap"][i]), float(c["gap_lo"][i]), float(c["gap_hi"][i]), 0.9,
                                            unit="eV", method=how["gap_scale"]),
                                   float(c["p_metal"][i]), len(self.members), archs, bool(c["nonmetal"][i]), float(t),
                                   sorted({e.symbol for e in s.composition} - known) if known else [])
                for i, s in enumerate(structures)]


_CACHE: dict = {}


def _ensemble(model_dir, archs=None):
    key = (str(resolve_model_dir(model_dir)), tuple(archs or ()))
    if key not in _CACHE:
        _CACHE[key] = PropertyEnsemble(model_dir, archs)
    return _CACHE[key]


def split_outputs(ens: PropertyEnsemble, parts=("test",), root=None, seed: int = 0, limit: int | None = None):
    """{part: (member outputs, targets)} on the formula split the members were trained on, and under
    "elements" the elements of the training cells."""
    from perovscreen.core.errors import InputError
    from perovscreen.ml.gnn.train import formula_split, load_data

    structures, y, formulas, _ = load_data(root, limit, seed)
    split = formula_split(formulas, seed)
    n_train = {c.get("n_train") for _, c in ens.members}
    if n_train != {len(split.train)}:
        raise InputError(f"models were trained on {sorted(n_train)} cells, this split has {len(split.train)}; "
                         "pass the --seed and --limit used for training")
    out = {k: (ens.outputs([structures[i] for i in getattr(split, k)]), y[getattr(split, k)]) for k in parts}
    out["elements"] = sorted({el.symbol for i in split.train for el in structures[i].composition})
    return out


def ensemble_metrics(d: np.ndarray, y: np.ndarray, cal: dict | None) -> dict:
    """Heat/gap metrics of the combined ensemble, non-metal calls at its threshold, interval coverage and
    how the heat spread tracks the error (Spearman) on cells with targets ``y``."""
    from scipy.stats import spearmanr

    from perovscreen.ml.gnn.train import evaluate

    c = combine(d, cal)
    pred = np.stack([c["heat"], c["gap"], c["p_metal"]], axis=1)
    spread = weighted(d[:, :, 0], (cal or {}).get("weights"))[1]
    err = np.abs(c["heat"] - y[:, 0])
    return {**evaluate(pred, y, called=c["nonmetal"]), "n": len(y),
            "heat_coverage_90": float(((y[:, 0] >= c["heat_lo"]) & (y[:, 0] <= c["heat_hi"])).mean()),
            "gap_coverage_90": float(((y[:, 1] >= c["gap_lo"] - 1e-9) & (y[:, 1] <= c["gap_hi"] + 1e-9)).mean()),
            "heat_interval_mean_width": float((c["heat_hi"] - c["heat_lo"]).mean()),
            "heat_spread_mean": float(spread.mean()),
            "heat_spread_error_spearman": float(spearmanr(spread, err).statistic) if spread.std() > 0 else np.nan,
            "heat_within_1.645_spread": float((err <= Z90 * spread).mean())}


def evaluate_ensemble(model_dir=None, archs=None, root=None, seed: int = 0, limit: int | None = None) -> dict:
    """Test-split metrics (the formula split ``gnn train`` used with this seed and limit) of each member (its
    own P(metal) 0.5 call) and of the ensemble (with the directory's calibration when it fits the members)."""
    from perovscreen.ml.gnn.train import evaluate

    ens = PropertyEnsemble(model_dir, archs)
    d, yt = split_outputs(ens, ("test",), root, seed, limit)["test"]
    per = {}
    for k, (n, c) in enumerate(ens.members):
        m = d[k].copy()
        m[:, 1] = np.where(m[:, 2] > 0.5, 0.0, m[:, 1])
        per[f"{n.arch}-{c.get('member', 0)}"] = evaluate(m, yt)
    return {"n_test": len(yt), "model_dir": str(ens.model_dir), "calibrated": ens.calibration is not None,
            "members": per, "ensemble": ensemble_metrics(d, yt, ens.calibration)}


@dataclass(frozen=True)
class PropsParams:
    model_dir: str = param("", "property networks (default: yours in <models>/perov5_gnn, else the shipped ones)",
                           science=False, kind="path")
    archs: str = param("", "comma-separated architectures to use (default: every model there)")

    def arch_list(self):
        return sorted(x.strip() for x in self.archs.split(",") if x.strip()) or None


def run_props(record, params: PropsParams):
    return _ensemble(params.model_dir, params.arch_list()).predict([record.structure])[0]


def _props_identities(params: PropsParams) -> dict:
    """The SHA-256 of every member's weights (checked against its card when loaded) and of the calibration."""
    from perovscreen.ml.cards import read_card, sha256_file

    d = resolve_model_dir(params.model_dir)
    out = {"models": sorted(read_card(p)["sha256"] for p in find_models(d, params.arch_list()))}
    if (d / CALIBRATION).is_file():
        out["calibration"] = sha256_file(d / CALIBRATION)
    return out


PROPS = Stage("predict-props", 2, PropsParams, run_props, help="formation heat and band gap from graph networks",
              resources=Resources(cores=1, memory_gb=4.0, walltime_min=10.0), identities=_props_identities)
