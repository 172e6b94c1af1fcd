"""What the surrogates share: inputs from raw descriptors (NaN and constant columns handled, PCA on the whole
pool) and the Gaussian marginals of the GP surrogates."""
from __future__ import annotations

import numpy as np


def clean(X: np.ndarray) -> np.ndarray:
    """NaN -> column median; constant columns dropped."""
    X = np.array(X, dtype=np.float64)
    if np.isnan(X).any():
        med = np.nanmedian(np.where(np.isnan(X).all(0), 0.0, X), axis=0) if X.size else 0.0
        X = np.where(np.isnan(X), med, X)
    keep = X.std(0) > 1e-12
    return X[:, keep] if keep.any() else X[:, :1]


def pca_inputs(X_pool: np.ndarray, dims: int) -> np.ndarray:
    """Standardised descriptors -> the first `dims` principal components, each of unit spread. The pool is
    known in advance: an unsupervised PCA on it is fair game."""
    X = clean(X_pool)
    X = (X - X.mean(0)) / X.std(0)
    U, S, _ = np.linalg.svd(X - X.mean(0), full_matrices=False)
    k = min(dims, X.shape[1], X.shape[0])
    Z = U[:, :k] * S[:k]
    return Z / Z.std(0).clip(1e-12)


class GaussianMarginals:
    """predict() and Thompson draws of a surrogate that keeps per-candidate posterior means and sds
    (`_mean`, `_std`, at the target fidelity)."""

    def predict(self):
        return self._mean, self._std

    def draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """[n, N] Thompson draws from the marginal posteriors (independent per candidate)."""
        return self._mean + self._std * rng.standard_normal((n, len(self._mean)))
