"""Random-forest / gradient-boosting property models with conformal 90% intervals.

A PropertyModel has one or more heads; a head predicts one target (single-output) or several at once
(multi-output forest, trained on rows where all its targets are known). Each head's hyper-parameters are
chosen by grouped inner CV on the rows it is given, and its conformal calibration uses the out-of-fold
predictions of the chosen setting. Missing descriptors (NaN) are handled natively by the estimators.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from perovscreen.core.errors import InputError, ModelError
from perovscreen.core.results import Estimate, Result
from perovscreen.ml import conformal
from perovscreen.features.formula import encode_formulas
from perovscreen.ml.cv import NEAR_DUPLICATE_L1 as TOL, grouped_folds
from perovscreen.ml.domain import fraction_matrix, near_duplicates
from perovscreen.ml.forest import forest_predict

FORMAT = "perovscreen.ml.PropertyModel/1"
POSITIVE = {"Ea", "n_li_sites"}  # physical support [0, inf): predictions and intervals never go below 0
# strictly positive targets whose errors scale with the value: fitted and calibrated on log(y), predicted as
# exp(.), so the value and both interval ends are > 0 and the log-space coverage carries over (exp is monotonic)
LOG_TARGETS = {"Ea"}
DEFAULT_TREES = {"rf": 100, "gbm": 400}  # rf: 100 trees keep 10^6 predictions with intervals < 60 s
INNER_TREES = 100  # forest size during inner-CV tuning and calibration
# `aggregate` (rf only) is not an estimator parameter: the forest's output is the mean or the median over
# its trees (the median minimises absolute error; log-conductivity errors are heavy-tailed)
# Out of the training chemistry the trees extrapolate badly and the training median is the best constant
# under absolute error (log-conductivity is heavy-tailed). Predictions for compositions that are not
# near-duplicates of a training row are therefore w * trees + (1 - w) * median with equal weights: weights
# estimated by inner CV were too noisy to help (a few clusters hold a quarter of OBELiX), the usual
# "forecast combination puzzle" (Smith & Wallis, Oxf. Bull. Econ. Stat. 71, 331 (2009)). Leave-cluster-out
# CV on OBELiX: docs/ml.md.
SHRINK = 0.5
SHRUNK = {"log10_sigma"}  # validated there only; Ea and Li-site counts keep the trees alone
GRIDS = {
    "rf": {"max_features": [0.33, 1.0], "min_samples_leaf": [1, 3], "aggregate": ["mean", "median"]},
    "gbm": {"learning_rate": [0.03, 0.1], "num_leaves": [7, 15], "min_child_samples": [5, 20]},
}


def make_estimator(kind: str, params: dict | None = None, seed: int = 0, n_estimators: int | None = None,
                   n_jobs: int = 2):
    params = {k: v for k, v in (params or {}).items() if k != "aggregate"}
    if kind == "rf":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(n_estimators=n_estimators or DEFAULT_TREES["rf"], random_state=seed,
                                     n_jobs=n_jobs, **params)
    if kind == "gbm":
        from lightgbm import LGBMRegressor

        # training sets are small (< 10^4 rows): one thread fits faster than two (measured 0.57 vs 0.99 s)
        base = dict(n_estimators=n_estimators or DEFAULT_TREES["gbm"], min_child_samples=5, subsample=0.8,
                    subsample_freq=1, colsample_bytree=0.5, reg_lambda=1.0, random_state=seed, n_jobs=1, verbose=-1)
        base.update(params)
        return LGBMRegressor(**base)
    raise InputError(f"unknown model kind {kind!r} (use rf or gbm)")


def _predict_raw(kind: str, est, X, aggregate: str = "mean") -> tuple[np.ndarray, np.ndarray | None]:
    if kind == "rf":
        return forest_predict(est, X, aggregate)
    boosters = est.estimators_ if hasattr(est, "estimators_") else [est]  # MultiOutputRegressor or one booster
    threads = 2 if len(X) > 10_000 else 1
    return np.column_stack([e.predict(X, num_threads=threads) for e in boosters]), None


def _blend(m, shrink, in_family) -> np.ndarray:
    """w * trees + (1 - w) * training median, with w = 1 for near-duplicates of training compositions."""
    w = np.where(np.reshape(in_family, (-1, 1)), 1.0, np.array([c["weight"] for c in shrink])[None, :])
    return w * m + (1 - w) * np.array([c["median"] for c in shrink])[None, :]


@dataclass
class Prediction(Result):
    """ML predictions for one composition or structure: an `Estimate` (conformal interval) per target."""
    TYPE = "MLPrediction"

    id: str
    formula: str | None = None
    file: str | None = None
    status: str = "ok"
    error: str | None = None
    predictions: dict[str, Estimate] = field(default_factory=dict)


class PropertyModel:
    """Heads of fitted estimators + conformal calibrations over a fixed feature list."""

    def __init__(self, features, kind: str = "rf", alpha: float = 0.1, inner_splits: int = 5, seed: int = 0,
                 n_estimators: int | None = None, grid: dict | None = None, n_jobs: int = 2,
                 shrink: float | None = None):
        self.features = list(features)
        self.shrink = shrink  # None: trees alone; else the trees' weight out of the training domain
        self._domain: dict = {}  # id(head) -> (head, its training fraction matrix), built on first use
        self.kind, self.alpha, self.inner_splits, self.seed = kind, alpha, inner_splits, seed
        self.n_estimators, self.n_jobs = n_estimators, n_jobs
        self.grid = GRIDS[kind] if grid is None else grid
        self.heads: list[dict] = []

    # --- training -------------------------------------------------------------------------------
    def _matrix(self, X) -> np.ndarray:
        if hasattr(X, "columns"):
            missing = [f for f in self.features if f not in X.columns]
            if missing:
                raise InputError(f"descriptor columns missing: {missing[:5]}")
            X = X[self.features].to_numpy()
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise InputError(f"expected {len(self.features)} descriptor columns, got shape {X.shape}")
        return X

    def _fit_est(self, params, X, Y, n_estimators=None):
        est = make_estimator(self.kind, params, self.seed, n_estimators or self.n_estimators, self.n_jobs)
        if Y.shape[1] > 1 and self.kind != "rf":
            from sklearn.multioutput import MultiOutputRegressor

            est = MultiOutputRegressor(est)
        return est.fit(X, Y if Y.shape[1] > 1 else Y[:, 0])

    def fit_head(self, X, Y, groups, targets, compositions=None) -> dict:
        """Tune (grouped inner CV), calibrate (out-of-fold residuals) and fit one head. `compositions`
        (encoded z, a of the rows) defines the applicability domain of the median shrinkage."""
        X, Y, groups = self._matrix(X), np.asarray(Y, float).reshape(len(X), -1).copy(), np.asarray(groups)
        logged = [t for t in targets if t in LOG_TARGETS]
        for j, t in enumerate(targets):
            if t in LOG_TARGETS:
                with np.errstate(divide="ignore", invalid="ignore"):
                    Y[:, j] = np.where(Y[:, j] > 0, np.log(Y[:, j]), np.nan)
        ok = np.isfinite(Y).all(1)
        X, Y, groups = X[ok], Y[ok], groups[ok]
        shrunk = self.shrink is not None and set(targets) <= SHRUNK
        if shrunk and compositions is None:
            raise InputError("median shrinkage needs the training compositions (encoded z, a)")
        comps = (compositions[0][ok], compositions[1][ok]) if compositions is not None else None
        n_splits = min(self.inner_splits, len(np.unique(groups)))
        if n_splits < 2:
            raise InputError(f"{targets}: too few labelled compositions ({len(np.unique(groups))}) to train")
        folds = grouped_folds(groups, n_splits, self.seed)
        best = None
        fit_keys = sorted(k for k in self.grid if k != "aggregate")
        aggregates = self.grid.get("aggregate", ["mean"]) if self.kind == "rf" else [None]
        inner_trees = min(self.n_estimators or DEFAULT_TREES[self.kind], INNER_TREES) if self.kind == "rf" else None
        for combo in itertools.product(*(self.grid[k] for k in fit_keys)):
            fit_params = dict(zip(fit_keys, combo))
            oof = {a: np.empty_like(Y) for a in aggregates}
            spread = np.empty_like(Y)
            for tr, te in folds:
                est = self._fit_est(fit_params, X[tr], Y[tr], inner_trees)
                for a in aggregates:
                    m, s = _predict_raw(self.kind, est, X[te], a or "mean")
                    oof[a][te] = m
                    spread[te] = s if s is not None else 1.0
            for a in aggregates:
                mae = float(np.abs(oof[a] - Y).mean())
                if best is None or mae < best[0]:
                    best = (mae, {**fit_params, **({"aggregate": a} if a else {})}, oof[a], spread.copy())
        _, params, oof, spread = best
        shrink = domain = None
        if shrunk:
            oof = oof.copy()
            for tr, te in folds:
                near = near_duplicates(comps[0][te], comps[1][te], fraction_matrix(*(c[tr] for c in comps)), TOL)
                part = [{"weight": self.shrink, "median": float(np.median(Y[tr, j]))} for j in range(Y.shape[1])]
                oof[te] = _blend(oof[te], part, near)
            shrink = [{"weight": self.shrink, "median": float(np.median(Y[:, j]))} for j in range(Y.shape[1])]
            domain = {"l1": TOL, "z": comps[0].astype(np.int16), "a": comps[1].astype(np.float64)}
        cals = [conformal.calibrate(Y[:, j], oof[:, j], spread[:, j] if self.kind == "rf" else None, self.alpha)
                for j in range(Y.shape[1])]
        head = {"targets": list(targets), "params": params, "calibration": cals, "n_train": int(len(Y)),
                "log_targets": logged, "shrink": shrink, "domain": domain,
                "inner_cv_mae": [float(np.abs(oof[:, j] - Y[:, j]).mean()) for j in range(Y.shape[1])],
                "estimator": self._fit_est(params, X, Y)}
        self.heads.append(head)
        return head

    def fit(self, X, Ytable, groups, targets, multi_output: bool = False, compositions=None) -> "PropertyModel":
        """Fit heads for `targets` (columns of Ytable): one multi-output head or one head per target."""
        self.heads = []
        targets = list(targets)
        if multi_output and len(targets) > 1:
            self.fit_head(X, Ytable[targets].to_numpy(), groups, targets, compositions)
        else:
            for t in targets:
                self.fit_head(X, Ytable[[t]].to_numpy(), groups, [t], compositions)
        return self

    # --- prediction -----------------------------------------------------------------------------
    @property
    def targets(self) -> list[str]:
        return [t for h in self.heads for t in h["targets"]]

    def method(self, target: str) -> str:
        """Provenance of a target's interval, as written into each Estimate."""
        logged = any(target in h.get("log_targets", ()) for h in self.heads)
        return "split-conformal, log space" if logged else "split-conformal"

    def in_domain(self, head: dict, compositions=None) -> np.ndarray | bool:
        """Rows that are near-duplicates of the head's training compositions (False without compositions:
        an unknown composition is treated as out of the domain, the cautious side)."""
        d = head.get("domain")
        if d is None or compositions is None:
            return False
        cached = self._domain.get(id(head))
        if cached is None or cached[0] is not head:
            cached = self._domain[id(head)] = (head, fraction_matrix(d["z"], d["a"]))
        return near_duplicates(compositions[0], compositions[1], cached[1], d["l1"])

    def predict_arrays(self, X, compositions=None) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """{target: (value, lower, upper)} arrays; `compositions` (encoded z, a per row) lets near-duplicates
        of training compositions skip the median shrinkage."""
        if not self.heads:
            raise ModelError("model has no fitted heads")
        X = self._matrix(X)
        out = {}
        for h in self.heads:
            m, s = _predict_raw(self.kind, h["estimator"], X, h["params"].get("aggregate", "mean"))
            if h.get("shrink"):  # models saved before shrinkage have none: trees alone
                near = self.in_domain(h, compositions)
                m = _blend(m, h["shrink"], near)
            for j, (t, cal) in enumerate(zip(h["targets"], h["calibration"])):
                lo, hi = conformal.interval(m[:, j], s[:, j] if s is not None else 0.0, cal)
                if t in h.get("log_targets", ()):
                    m = m.copy()
                    m[:, j], lo, hi = np.exp(m[:, j]), np.exp(lo), np.exp(hi)
                elif t in POSITIVE:  # the true value lies in [0, inf): truncating there keeps the coverage
                    m, lo, hi = m.copy(), np.maximum(lo, 0.0), np.maximum(hi, 0.0)
                    m[:, j] = np.maximum(m[:, j], 0.0)
                out[t] = (m[:, j], lo, hi)
        return out

    def predict(self, X, ids=None, formulas=None, files=None, units=None) -> list[Prediction]:
        arrs = self.predict_arrays(X, encode_formulas(formulas) if formulas else None)
        n = len(next(iter(arrs.values()))[0])
        ids = ids or [str(i) for i in range(n)]
        units = units or {}
        res = []
        for i in range(n):
            preds = {t: Estimate(float(v[i]), float(lo[i]), float(hi[i]), round(1 - self.alpha, 6),
                                 units.get(t, ""), self.method(t))
                     for t, (v, lo, hi) in arrs.items()}
            res.append(Prediction(ids[i], formulas[i] if formulas else None, files[i] if files else None,
                                  predictions=preds))
        return res

    # --- serialisation (plain dict of sklearn/lightgbm objects, numbers, strings) ---------------
    def to_state(self) -> dict:
        return {"format": FORMAT, "features": self.features, "kind": self.kind, "alpha": self.alpha,
                "seed": self.seed, "heads": self.heads}

    @classmethod
    def from_state(cls, state: dict) -> "PropertyModel":
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ModelError(f"not a {FORMAT} state")
        m = cls(state["features"], state["kind"], state["alpha"], seed=state["seed"], grid={})
        m.heads = state["heads"]
        for h in m.heads:
            if h["calibration"] and not math.isfinite(h["calibration"][0]["q"]):
                raise ModelError("model calibration is not finite (too few training rows)")
        return m
