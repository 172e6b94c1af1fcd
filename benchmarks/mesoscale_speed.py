"""Mesoscale benchmark: FV-PCG (float32, FFT preconditioner) on an N^3 Voronoi polycrystal with GB contrast
1e-2, residual 1e-6, beside TauFactor (CPU) and FiPy on the same voxels (isotropic bulk 1, GB 1e-2), and the
scaling with voxel count.

    .venv/bin/python benchmarks/mesoscale_speed.py --sizes 64 128 256 --peers-size 64
"""
from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def ours(n, grains, contrast, tol, axes):
    from perovscreen.mesoscale.fv_solver import solve_fv
    from perovscreen.mesoscale.microstructure import periodic_voronoi
    from perovscreen.mesoscale.tensors import voxel_field

    t = time.perf_counter()
    m = periodic_voronoi((n,) * 3, grains, 0).with_gb(2)
    gen = time.perf_counter() - t
    f = voxel_field(m.grains, m.orientations, 1.0, m.gb, m.normals, contrast, contrast, dtype=np.float32)
    r = solve_fv(f, axes=axes, tol=tol, dtype=np.float32)
    return m, {"N": n, "voxels": n ** 3, "generate_s": round(gen, 2), "solve_s": round(r.seconds, 2),
               "iterations": r.iterations, "true_residual": r.residuals,
               "sigma_diag": [float(r.sigma[a, a]) for a in axes], "peak_rss_GB": round(peak_gb(), 2)}


def taufactor(gb, contrast):
    try:
        import taufactor as tau
    except ImportError:
        return "not installed"
    img = np.where(gb, 2, 1).astype(np.int64)
    t = time.perf_counter()
    s = tau.MultiPhaseSolver(img, {1: 1.0, 2: contrast}, device="cpu")
    s.solve(verbose=False, conv_crit=1e-3)
    return {"sigma_xx": float(np.asarray(s.D_eff).ravel()[0]), "seconds": round(time.perf_counter() - t, 2),
            "note": "Dirichlet electrodes in x (not periodic), SOR"}


def fipy(gb, contrast):
    try:
        import fipy as fp
    except ImportError:
        return "not installed"
    n = gb.shape[0]
    t = time.perf_counter()
    mesh = fp.Grid3D(nx=n, ny=n, nz=n)
    phi = fp.CellVariable(mesh=mesh, value=0.0)
    s = fp.CellVariable(mesh=mesh, value=np.where(gb, contrast, 1.0).ravel(order="F"))
    phi.constrain(1.0, mesh.facesLeft)
    phi.constrain(0.0, mesh.facesRight)
    fp.DiffusionTerm(coeff=s.harmonicFaceValue).solve(var=phi, solver=fp.LinearPCGSolver(tolerance=1e-6, iterations=5000))
    flux = -(s.harmonicFaceValue * phi.faceGrad)[0]
    left = np.asarray(flux)[np.asarray(mesh.facesLeft)]
    return {"sigma_xx": float(left.sum() / n ** 2 * n), "seconds": round(time.perf_counter() - t, 2),
            "note": "Dirichlet electrodes in x (not periodic), PCG"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--grains-per-voxel", type=float, default=64 / 128 ** 3)
    ap.add_argument("--contrast", type=float, default=1e-2)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--axes", type=int, nargs="+", default=[0])
    ap.add_argument("--peers-size", type=int, default=64, help="grid side for TauFactor/FiPy (0: skip)")
    a = ap.parse_args()
    out = {"ours": [], "peers": {}}
    for n in a.sizes:
        m, row = ours(n, max(2, int(a.grains_per_voxel * n ** 3)), a.contrast, a.tol, a.axes)
        out["ours"].append(row)
        print(json.dumps(row), flush=True)
        if n == a.peers_size:
            out["peers"] = {"N": n, "taufactor": taufactor(m.gb, a.contrast), "fipy": fipy(m.gb, a.contrast)}
            print(json.dumps(out["peers"]), flush=True)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
