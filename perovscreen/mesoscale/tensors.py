"""Conductivity tensors: validation, rotations, and the per-voxel field sigma(x) of a polycrystal.

A voxel field is stored as its independent components, shape (ncomp, *grid): 2D (xx, yy, xy), 3D
(xx, yy, zz, yz, xz, xy). Inside a grain it is R Sigma R^T (Sigma the single-crystal tensor, R the
grain's orientation); in a grain-boundary voxel sigma_perp n n^T + sigma_par (I - n n^T).
"""
from __future__ import annotations

import math

import numpy as np

from perovscreen.core.errors import InputError

# (row, col) of each stored component
PAIRS = {2: ((0, 0), (1, 1), (0, 1)), 3: ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))}


def check_positive(x, name: str) -> float:
    """A finite, strictly positive number (one-line InputError otherwise)."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a number, got {x!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{name}: must be finite and > 0, got {v!r}")
    return v


def check_tensor(t, dim: int | None = None, name: str = "conductivity tensor") -> np.ndarray:
    """A symmetric positive-definite d x d matrix (d = 2 or 3); scalars and eigenvalue lists are expanded."""
    a = np.asarray(t, dtype=float)
    if a.ndim == 0:
        if dim is None:
            raise InputError(f"{name}: a scalar needs the dimension")
        a = np.eye(dim) * check_positive(a, name)
    elif a.ndim == 1:
        a = np.diag([check_positive(v, f"{name} eigenvalue") for v in a])
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] not in (2, 3):
        raise InputError(f"{name}: expected a 2x2 or 3x3 matrix, got shape {a.shape}")
    if dim is not None and a.shape[0] != dim:
        raise InputError(f"{name}: expected {dim}x{dim}, got {a.shape[0]}x{a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name}: contains NaN or inf")
    if not np.allclose(a, a.T, rtol=1e-10, atol=1e-14 * np.abs(a).max()):
        raise InputError(f"{name}: not symmetric")
    w = np.linalg.eigvalsh(a)
    if w[0] <= 0:
        raise InputError(f"{name}: not positive definite (eigenvalues {', '.join(f'{x:.3g}' for x in w)})")
    return a


def rotation_2d(theta):
    """Rotation matrices for angles theta (radians), shape (..., 2, 2)."""
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def random_orientations(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Uniformly random orientations: angles (n,) in 2D, rotation matrices (n, 3, 3) in 3D (Haar measure)."""
    rng = np.random.default_rng(seed)
    if dim == 2:
        return rng.uniform(0.0, 2 * math.pi, n)
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=rng).as_matrix()


def orientation_matrices(orient: np.ndarray, dim: int) -> np.ndarray:
    orient = np.asarray(orient, dtype=float)
    return rotation_2d(orient) if dim == 2 else orient.reshape(-1, 3, 3)


def rotated(crystal: np.ndarray, orient: np.ndarray) -> np.ndarray:
    """R Sigma R^T for every orientation: (n, d, d)."""
    dim = crystal.shape[0]
    r = orientation_matrices(orient, dim)
    return np.einsum("nij,jk,nlk->nil", r, crystal, r)


def to_components(full: np.ndarray) -> np.ndarray:
    """(..., d, d) -> (ncomp, ...)."""
    d = full.shape[-1]
    return np.stack([full[..., i, j] for i, j in PAIRS[d]])


def to_matrix(comp) -> np.ndarray:
    """(ncomp,) -> (d, d)."""
    comp = np.asarray(comp, dtype=float)
    d = 2 if len(comp) == 3 else 3
    m = np.zeros((d, d))
    for c, (i, j) in zip(comp, PAIRS[d]):
        m[i, j] = m[j, i] = c
    return m


def isotropic_field(values: np.ndarray) -> np.ndarray:
    """A per-voxel scalar conductivity as a tensor field."""
    v = np.asarray(values, dtype=float)
    d = v.ndim
    out = np.zeros((len(PAIRS[d]),) + v.shape)
    out[:d] = v
    return out


def gb_tensors(normals: np.ndarray, perp: float, par: float) -> np.ndarray:
    """sigma_perp n n^T + sigma_par (I - n n^T) for unit normals (m, d) -> components (ncomp, m)."""
    d = normals.shape[-1]
    nn = normals[:, :, None] * normals[:, None, :]
    full = par * np.eye(d) + (perp - par) * nn
    return to_components(full)


def voxel_field(grains: np.ndarray, orientations: np.ndarray, crystal, gb: np.ndarray | None = None,
                normals: np.ndarray | None = None, gb_perp: float = 1.0, gb_par: float = 1.0,
                dtype=np.float64) -> np.ndarray:
    """sigma(x) of a polycrystal: grain g gets R_g Sigma R_g^T; voxels with gb True get the GB tensor.

    grains: integer map (grid); orientations: per grain (angles in 2D, 3x3 matrices in 3D);
    normals: (d, *grid) unit GB normals (needed where gb)."""
    dim = grains.ndim
    crystal = check_tensor(crystal, dim, "bulk tensor")
    comp = to_components(rotated(crystal, orientations)).astype(dtype)  # (ncomp, ngrains)
    field = comp[:, grains]
    if gb is not None and gb.any():
        perp, par = check_positive(gb_perp, "GB sigma_perp"), check_positive(gb_par, "GB sigma_par")
        n = np.stack([normals[i][gb] for i in range(dim)], -1).astype(float)
        norm = np.linalg.norm(n, axis=1, keepdims=True)
        n = np.where(norm > 0, n / np.where(norm > 0, norm, 1), np.eye(dim)[0])
        field[:, gb] = gb_tensors(n, perp, par).astype(dtype)
    return field


def check_field(field: np.ndarray) -> np.ndarray:
    """A voxel tensor field that every solver accepts: finite, and positive definite in every voxel."""
    field = np.asarray(field)
    if field.ndim not in (3, 4) or field.shape[0] != len(PAIRS[field.ndim - 1]):
        raise InputError(f"conductivity field: expected (3, nx, ny) or (6, nx, ny, nz), got {field.shape}")
    dim = field.ndim - 1
    if min(field.shape[1:]) < 2:
        raise InputError(f"grid {'x'.join(map(str, field.shape[1:]))}: every side needs at least 2 voxels")
    if not np.all(np.isfinite(field)):
        raise InputError("conductivity field: contains NaN or inf")
    diag = field[:dim]
    if (diag <= 0).any():
        raise InputError(f"conductivity field: zero or negative conductivity (min diagonal {diag.min():.3g})")
    if dim == 2:
        det = field[0] * field[1] - field[2] ** 2
        bad = det <= 0
    else:
        xx, yy, zz, yz, xz, xy = field
        m2 = xx * yy - xy ** 2
        det = xx * (yy * zz - yz ** 2) - xy * (xy * zz - yz * xz) + xz * (xy * yz - yy * xz)
        bad = (m2 <= 0) | (det <= 0)
    if bad.any():
        raise InputError(f"conductivity field: tensor not positive definite in {int(bad.sum())} voxel(s)")
    return field


def contrast(field: np.ndarray) -> float:
    """max/min eigenvalue over all voxels (bounds the iteration counts of both solvers)."""
    dim = field.ndim - 1
    if dim == 2:
        tr, det = field[0] + field[1], field[0] * field[1] - field[2] ** 2
        disc = np.sqrt(np.maximum(tr ** 2 / 4 - det, 0))
        return float((tr / 2 + disc).max() / (tr / 2 - disc).min())
    lo = field[:3].min() - np.abs(field[3:]).sum(0).max()  # Gershgorin, cheap in 3D
    hi = field[:3].max() + np.abs(field[3:]).sum(0).max()
    return float(hi / max(lo, field[:3].min() * 1e-3))
