"""GPAW worker, run by Debian's /usr/bin/python3 (its gpaw and numpy do not import in the venv):
`python3 gpaw_worker.py DIR` reads DIR/request.json, runs a plane-wave SCF (task "scf") or a ground state plus
G0W0 (task "gw"), and writes DIR/result.json. Imports only the standard library, numpy, ase and gpaw."""
import json
import sys
import time
import traceback
from pathlib import Path

# this folder holds perovscreen's gpaw.py: drop it from the path so `import gpaw` finds the real GPAW
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.dft.bandgap import bandgap  # noqa: E402


def _atoms(req):
    return Atoms(req["symbols"], positions=req["positions"], cell=req["cell"], pbc=req["pbc"])


def _calc(req, txt, **extra):
    from gpaw import GPAW, PW, FermiDirac

    kw = dict(mode=PW(req["ecut"]), xc=req["xc"], kpts={"size": req["kpts"], "gamma": True},
              occupations=FermiDirac(max(req["smearing"], 1e-4)), maxiter=req["maxiter"],
              convergence={"energy": req["conv_thr"]}, txt=txt)
    kw.update(req.get("gpaw", {}))
    kw.update(extra)
    return GPAW(**kw)


def _gaps(calc):
    gap = bandgap(calc, output=None)[0]
    direct = bandgap(calc, direct=True, output=None)[0]
    return float(gap), float(direct)


def scf(req):
    from gpaw import KohnShamConvergenceError

    atoms = _atoms(req)
    atoms.calc = calc = _calc(req, "gpaw.txt")
    try:
        energy = atoms.get_potential_energy()
    except KohnShamConvergenceError:
        n = req["maxiter"]
        return {"converged": False, "iterations": n,
                "reason": f"SCF not converged after {n} iterations (maxiter={n}): raise maxiter, lower the "
                          "mixing or increase the smearing"}
    forces = atoms.get_forces()
    stress = atoms.get_stress(voigt=True) if all(atoms.pbc) else np.full(6, np.nan)
    gap, direct = _gaps(calc)
    return {"converged": True, "reason": "", "iterations": int(getattr(calc.scf, "niter", 0) or 0),
            "energy": float(energy), "free_energy": float(atoms.get_potential_energy(force_consistent=True)),
            "forces": forces.tolist(), "stress": [float(x) for x in stress],
            "fermi_level": float(calc.get_fermi_level()), "band_gap": gap, "direct_gap": direct}


def gw(req):
    """PBE ground state, all bands by exact diagonalisation, then G0W0 of the top valence and bottom
    conduction bands (plasmon-pole model when req['ppa'])."""
    from gpaw.response.g0w0 import G0W0

    atoms = _atoms(req)
    atoms.calc = calc = _calc(req, "gs.txt", occupations={"name": "fermi-dirac", "width": 0.001})
    atoms.get_potential_energy()
    pbe_gap, pbe_direct = _gaps(calc)
    calc.diagonalize_full_hamiltonian()
    calc.write("gs.gpw", mode="all")
    nocc = int(round(calc.get_number_of_electrons())) // 2
    g = G0W0("gs.gpw", filename="gw", bands=(nocc - 1, nocc + 1), ecut=req["ecut_gw"], ppa=req["ppa"],
             nbands=req.get("nbands"))
    res = g.calculate()
    qp = np.asarray(res["qp"])  # (spin, k, band): band 0 = top valence, 1 = bottom conduction
    eps = np.asarray(res["eps"])
    return {"converged": True, "reason": "", "pbe_gap": pbe_gap, "pbe_direct_gap": pbe_direct,
            "pbe_gap_kset": float(eps[..., 1].min() - eps[..., 0].max()),
            "gw_gap": float(qp[..., 1].min() - qp[..., 0].max()),
            "gw_direct_gap": float((qp[..., 1] - qp[..., 0]).min()),
            "n_valence_electrons": 2 * nocc, "ibz_kpoints": int(qp.shape[1])}


def main(directory):
    import gpaw

    d = Path(directory)
    req = json.loads((d / "request.json").read_text())
    t0 = time.perf_counter()
    try:
        out = {"scf": scf, "gw": gw}[req.get("task", "scf")](req)
    except Exception as exc:  # reported to the caller, who raises it as a runtime failure
        out = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
    out.update(gpaw_version=gpaw.__version__, wall_s=round(time.perf_counter() - t0, 3))
    from ase.parallel import world

    if world.rank == 0:
        (d / "result.json").write_text(json.dumps(out))


if __name__ == "__main__":
    import os

    os.chdir(sys.argv[1])
    main(".")
