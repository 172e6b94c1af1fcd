"""Surrogates with uncertainty over a fixed candidate pool: (mean, std) for every candidate.

- `forest`: a random forest (scikit-learn); std is the spread over trees scaled so that its mean over the
  pool equals the out-of-bag RMSE (a cheap, conformal-flavoured calibration: the intervals have the width
  of the errors the forest actually makes). Thompson draws use single trees (bootstrap Thompson).
- `gp`: a Gaussian process on standardised, PCA-reduced descriptors, Matern-5/2 with ARD + white noise,
  per-point noise variances where the data carry them (heteroscedastic: the spread of repeated
  measurements of a grouped formula, MD sigma intervals). gpytorch/BoTorch are not installed in this
  environment, so this is scikit-learn's GaussianProcessRegressor; hyper-parameters are re-optimised
  every `refit_every` fits, warm-started from the previous optimum, and only the cheap Cholesky solve
  runs in between.
- `mfgp`: BoTorch's multi-fidelity GP with the cheap fidelities as lower-fidelity observations
  (learn/mfgp.py).

A surrogate is `prepare(X_pool)` once, then `fit(idx, y, noise)` on labelled pool indices and
`predict()` -> (mean, std) over the whole pool. `state()` is what a resumed campaign needs to warm-start.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from perovscreen.core.errors import InputError
from perovscreen.learn.inputs import clean as _clean
from perovscreen.learn.inputs import GaussianMarginals, pca_inputs

SURROGATES = ("forest", "gp", "mfgp")


def _standard(cols) -> np.ndarray:
    cols = np.asarray(cols, float).reshape(len(cols), -1)
    sd = cols.std(0)
    return (cols - cols.mean(0)) / np.where(sd > 0, sd, 1.0)


class ForestSurrogate:
    name = "forest"

    def __init__(self, n_trees: int = 64, max_features="sqrt", min_samples_leaf: int = 1, seed: int = 0):
        self.n_trees, self.max_features, self.min_samples_leaf, self.seed = n_trees, max_features, min_samples_leaf, seed
        self.est = None
        self.scale = 1.0
        self._fits = 0

    def prepare(self, X_pool: np.ndarray) -> None:
        self.X = self.base = np.ascontiguousarray(_clean(X_pool), dtype=np.float32)

    def set_extra(self, cols) -> None:
        """Append columns (cheap-fidelity values: a stacked multi-fidelity model). Each is repeated about
        sqrt(d) times: with max_features = sqrt(d) a single column would be offered to ~1 split in sqrt(d)."""
        cols = _standard(cols)
        reps = max(1, int(round(math.sqrt(self.base.shape[1]) / max(1, cols.shape[1]))))
        self.X = np.ascontiguousarray(np.hstack([self.base, np.repeat(cols, reps, axis=1)]), dtype=np.float32)

    def fit(self, idx, y, noise=None) -> None:
        from sklearn.ensemble import RandomForestRegressor

        idx = np.asarray(idx)
        y = np.asarray(y, float)
        self._fits += 1
        self.est = RandomForestRegressor(self.n_trees, max_features=self.max_features,
                                         min_samples_leaf=self.min_samples_leaf, oob_score=len(y) >= 8,
                                         random_state=(self.seed * 100_003 + self._fits) % 2**32, n_jobs=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # tiny seed sets: some rows are never out of bag
            self.est.fit(self.X[idx], y)
        self._mean, spread = self._raw()
        self.scale = 1.0
        oob = getattr(self.est, "oob_prediction_", None)
        if oob is not None:
            ok = np.isfinite(oob)
            if ok.sum() >= 3 and spread.mean() > 0:
                rmse = math.sqrt(float(np.mean((oob[ok] - y[ok]) ** 2)))
                self.scale = rmse / float(spread.mean())
        self._std = spread * self.scale

    def _raw(self):
        from perovscreen.ml.forest import forest_predict

        centre, spread = forest_predict(self.est, self.X, n_jobs=1)
        return centre[:, 0], spread[:, 0]

    def predict(self):
        return self._mean, self._std

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """[n, N] Thompson draws: predictions of randomly chosen single trees."""
        trees = rng.choice(len(self.est.estimators_), size=n, replace=n > len(self.est.estimators_))
        return np.stack([self.est.estimators_[t].predict(self.X) for t in trees])

    def state(self) -> dict:
        return {"fits": self._fits}

    def load_state(self, state: dict) -> None:
        self._fits = int(state.get("fits", 0))


class GPSurrogate(GaussianMarginals):
    name = "gp"

    def __init__(self, dims: int = 10, refit_every: int = 3, seed: int = 0, nu: float = 2.5, ard_per_dim: int = 20):
        self.dims, self.refit_every, self.seed, self.nu, self.ard_per_dim = dims, refit_every, seed, nu, ard_per_dim
        self.theta = None          # log hyper-parameters of the last optimum (warm start)
        self._fits = 0

    def prepare(self, X_pool: np.ndarray) -> None:
        self.Z = self.base = pca_inputs(X_pool, self.dims)

    def set_extra(self, cols) -> None:
        """Append standardised columns (cheap-fidelity values) to the PCA inputs: a GP on [x, f_cheap(x)]
        is the nonlinear autoregressive multi-fidelity GP (Perdikaris et al., Proc. R. Soc. A 473, 20160751
        (2017)) with the cheap fidelity known or imputed; ARD lets the fit weigh it against the descriptors."""
        self.Z = np.hstack([self.base, _standard(cols)])   # fit() drops a warm start of the wrong shape

    def _kernel(self, d: int, ard: bool):
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        # inputs are standardised: length scales beyond 20 switch a dimension off, which small training
        # sets do too eagerly; ARD only once there are `ard_per_dim` points per dimension
        return (ConstantKernel(1.0, (1e-2, 1e2)) * Matern(np.ones(d) if ard else 1.0, (5e-2, 20.0), nu=self.nu)
                + WhiteKernel(0.1, (1e-4, 1.0)))

    def fit(self, idx, y, noise=None) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor

        idx = np.asarray(idx)
        y = np.asarray(y, float)
        self.mu, self.sd = float(y.mean()), float(y.std()) or 1.0
        yn = (y - self.mu) / self.sd
        alpha = np.full(len(y), 1e-6)
        if noise is not None:
            nv = np.asarray(noise, float)
            alpha = np.where(np.isfinite(nv), nv / self.sd ** 2 + 1e-6, 1e-6)
        ard = len(y) >= self.ard_per_dim * self.Z.shape[1]
        kernel = self._kernel(self.Z.shape[1], ard)
        if self.theta is not None and len(self.theta) != len(kernel.theta):   # isotropic -> ARD
            self.theta = None
        if self.theta is not None:
            kernel = kernel.clone_with_theta(np.asarray(self.theta))
        optimise = self.theta is None or self._fits % self.refit_every == 0
        self._fits += 1
        gp = GaussianProcessRegressor(kernel, alpha=alpha, optimizer="fmin_l_bfgs_b" if optimise else None,
                                      normalize_y=False, random_state=self.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ConvergenceWarning at bounds is harmless here
            gp.fit(self.Z[idx], yn)
        self.theta = gp.kernel_.theta.tolist()
        self.gp = gp
        m, s = gp.predict(self.Z, return_std=True)
        self._mean, self._std = m * self.sd + self.mu, s * self.sd

    def state(self) -> dict:
        return {"fits": self._fits, "theta": self.theta}

    def load_state(self, state: dict) -> None:
        self._fits = int(state.get("fits", 0))
        self.theta = state.get("theta")


def make_surrogate(name: str, seed: int = 0):
    if name == "forest":
        return ForestSurrogate(seed=seed)
    if name == "gp":
        return GPSurrogate(seed=seed)
    if name == "mfgp":
        from perovscreen.learn.mfgp import MFGPSurrogate

        return MFGPSurrogate(seed=seed)
    raise InputError(f"unknown surrogate {name!r} (use {' or '.join(SURROGATES)})")
