"""`mfgp`: BoTorch's multi-fidelity GP over [descriptors, fidelity], the cheap fidelities as data.

`SingleTaskMultiFidelityGP` (Wu et al., UAI 2019; the kernel of BoTorch's MF-KG tutorial): a Matern-5/2
kernel on the descriptors times a linear-truncated kernel on the fidelity s in [0, 1]; the target is
s = 1, the cheap fidelities sit at s = 0, 1/F, ... in the order given (the last cheap one closest to the
target). Unlike the stacked models (`set_extra`: the cheap value as an *input*, imputed where unknown),
here every cheap value is an *observation* of the same function at a lower fidelity: a candidate with a
cheap value and no target value is informative, and nothing is imputed.

A cheap fidelity that measures the target's quantity (ML log10 sigma for MD log10 sigma; the augmented
Branin) enters as it is (`same_scale`). One that measures another quantity (a BVSE barrier) is first
mapped onto the target's scale: least squares a + b * cheap on the candidates that have both (>= 3), else
matched to the mean and spread of the labelled targets. (The regression slope is shrunk by the imperfect
correlation, so a same-quantity fidelity is better left alone: on the augmented Branin the RMSE doubles.)
Inputs are PCA-reduced, scaled to the unit cube over the pool; outputs standardised (BoTorch's default).
Per-point noise where the data carry it (a fixed-noise likelihood: `train_Yvar`; unknown entries get the
median known variance), else a fitted homoscedastic noise. Hyper-parameters are re-optimised every
`refit_every` fits, warm-started from the last optimum; in between the model is only re-conditioned.
"""
from __future__ import annotations

import numpy as np

from perovscreen.learn.inputs import GaussianMarginals, pca_inputs

MAXITER = 100     # L-BFGS iterations per hyper-parameter fit


class MFGPSurrogate(GaussianMarginals):
    name = "mfgp"
    multi_fidelity = True      # Campaign passes the raw cheap columns (set_low), not imputed inputs

    def __init__(self, dims: int = 10, refit_every: int = 3, seed: int = 0):
        self.dims, self.refit_every, self.seed = dims, refit_every, seed
        self.low, self.same_scale = None, []
        self.hyper = None          # warm start: the last optimum's hyper-parameters (state dict, lists)
        self._fits = 0

    def prepare(self, X_pool: np.ndarray) -> None:
        Z = pca_inputs(X_pool, self.dims)
        lo, hi = Z.min(0), Z.max(0)
        self.Z = (Z - lo) / np.where(hi > lo, hi - lo, 1.0)

    def set_low(self, aux, same_scale=None) -> None:
        """Cheap-fidelity values [N, F] (maximised, NaN = not computed); `same_scale` [F] bools: the column
        measures the target's quantity in its units (default: no, calibrate it)."""
        self.low = None if aux is None else np.asarray(aux, float).reshape(len(self.Z), -1)
        F = 0 if self.low is None else self.low.shape[1]
        self.same_scale = [False] * F if same_scale is None else [bool(v) for v in same_scale]

    def levels(self) -> np.ndarray:
        """Fidelity of each cheap column, then the target (1)."""
        F = 0 if self.low is None else self.low.shape[1]
        return np.append(np.arange(F) / max(F, 1), 1.0)

    def _calibrated(self, idx, y) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per cheap column: (known indices, values on the target's scale)."""
        out = []
        lab = dict(zip(idx.tolist(), y))
        for j in range(0 if self.low is None else self.low.shape[1]):
            known = np.flatnonzero(np.isfinite(self.low[:, j]))
            v = self.low[known, j]
            both = [k for k, i in enumerate(known) if i in lab]
            if self.same_scale[j]:
                a, b = 0.0, 1.0
            elif len(both) >= 3 and np.ptp(v[both]) > 0:
                b, a = np.polyfit(v[both], [lab[known[k]] for k in both], 1)
            else:
                sd = v.std() if len(v) > 1 else 0.0
                b = y.std() / sd if sd > 0 else 0.0
                a = y.mean() - b * (v.mean() if len(v) else 0.0)
            out.append((known, a + b * v))
        return out

    def fit(self, idx, y, noise=None) -> None:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)     # one campaign per core: replays and benchmarks run seeds in processes
        try:
            self._fit(idx, y, noise)
        finally:
            torch.set_num_threads(threads)

    def _fit(self, idx, y, noise) -> None:
        import torch
        from botorch.models import SingleTaskMultiFidelityGP

        idx = np.asarray(idx)
        y = np.asarray(y, float)
        lev = self.levels()
        rows, vals = [np.c_[self.Z[idx], np.ones(len(idx))]], [y]
        nv = np.full(len(y), np.nan) if noise is None else np.asarray(noise, float)
        vars_ = [nv]
        for (known, v), s in zip(self._calibrated(idx, y), lev[:-1]):
            rows.append(np.c_[self.Z[known], np.full(len(known), s)])
            vals.append(v)
            vars_.append(np.full(len(known), np.nan))
        X = torch.tensor(np.vstack(rows), dtype=torch.float64)
        Y = torch.tensor(np.concatenate(vals), dtype=torch.float64)[:, None]
        var = np.concatenate(vars_)
        Yvar = None
        if np.isfinite(var).any():
            fill = float(np.median(var[np.isfinite(var)]))
            # gpytorch rounds standardised variances below 1e-6 up (with a warning): floor them here
            floor = 1.01e-6 * max(float(Y.var()), 1e-12)
            Yvar = torch.tensor(np.maximum(np.where(np.isfinite(var), var, fill), floor), dtype=torch.float64)[:, None]
        model = SingleTaskMultiFidelityGP(X, Y, train_Yvar=Yvar, data_fidelities=[X.shape[1] - 1])
        warm = self._load(model)
        optimise = not warm or self._fits % self.refit_every == 0
        self._fits += 1
        if optimise:
            self._optimise(model)
            self.hyper = {k: v.tolist() for k, v in model.state_dict().items() if self._is_hyper(k)}
        model.eval()
        self.model = model
        self._mean, self._std = self._posterior(np.c_[self.Z, np.ones(len(self.Z))])

    @staticmethod
    def _is_hyper(key: str) -> bool:
        # the outcome transform's buffers belong to the data, not the model
        return not key.startswith("outcome_transform")

    def _load(self, model) -> bool:
        import torch

        if not self.hyper:
            return False
        own = model.state_dict()
        new = {k: torch.tensor(v, dtype=own[k].dtype) for k, v in self.hyper.items() if k in own}
        if len(new) != sum(self._is_hyper(k) for k in own) or any(new[k].shape != own[k].shape for k in new):
            return False              # another model layout (noise model changed): start afresh
        model.load_state_dict(new, strict=False)
        return True

    def _optimise(self, model) -> None:
        import torch
        from botorch.exceptions.warnings import OptimizationWarning
        from botorch.fit import fit_gpytorch_mll
        from gpytorch.mlls import ExactMarginalLogLikelihood

        torch.manual_seed(self.seed + self._fits)     # a failed fit restarts from draws of the priors
        # an L-BFGS stopped at MAXITER (from a warm start) is accepted: by default BoTorch would retry from
        # fresh prior draws, 5 times the work for the same optimum
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                         optimizer_kwargs={"options": {"maxiter": MAXITER}},
                         warning_handler=lambda w: issubclass(w.category, OptimizationWarning))

    def _posterior(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import torch

        with torch.no_grad():
            post = self.model.posterior(torch.tensor(Xs, dtype=torch.float64))
            return post.mean[:, 0].numpy().copy(), post.variance[:, 0].clamp_min(0).sqrt().numpy().copy()

    def joint(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior over every (candidate, fidelity) pair, pair p = f * N + i (f over `levels()`, target
        last): mean [P], covariance [P, P] of the latent function, and the observation noise variance of
        a new measurement at each fidelity [F + 1]."""
        import torch

        N, lev = len(self.Z), self.levels()
        Xs = np.vstack([np.c_[self.Z, np.full(N, s)] for s in lev])
        with torch.no_grad():
            post = self.model.posterior(torch.tensor(Xs, dtype=torch.float64))
            mean = post.mean[:, 0].numpy().copy()
            cov = post.distribution.covariance_matrix.numpy().copy()
            noise = self.model.likelihood.noise.detach().numpy().ravel()
        scale = float(self.model.outcome_transform.stdvs.squeeze()) ** 2
        return mean, cov, np.full(len(lev), float(np.median(noise)) * scale)

    def state(self) -> dict:
        return {"fits": self._fits, "hyper": self.hyper}

    def load_state(self, state: dict) -> None:
        self._fits = int(state.get("fits", 0))
        self.hyper = state.get("hyper")
