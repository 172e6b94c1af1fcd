"""GPAW as an ASE calculator in the venv: each geometry is handed to `gpaw_worker.py` run by Debian's python
(/usr/bin/python3, whose numpy the Debian gpaw is built against) through request.json/result.json in the kept
working directory, so ASE optimisers and NEB drive it like any calculator."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from perovscreen.dft.calculator import DEFAULT_GPAW_ECUT, GPAW_PYTHON, DFTCalculator, mpi_prefix, require_gpaw, tail

WORKER = Path(__file__).with_name("gpaw_worker.py")


def run_worker(directory, request: dict, python: str = GPAW_PYTHON, nprocs: int = 1) -> dict:
    """Run one worker task in `directory` and return its result.json (RuntimeError with the worker's error
    or the log's tail when it failed)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    (d / "result.json").unlink(missing_ok=True)
    (d / "request.json").write_text(json.dumps(request))
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}  # no venv leaks in
    with open(d / "worker.log", "w") as log:
        rc = subprocess.run([*mpi_prefix(nprocs), python, str(WORKER), str(d.resolve())], cwd=d, stdout=log,
                            stderr=subprocess.STDOUT, env=env).returncode
    if not (d / "result.json").is_file():
        raise RuntimeError(f"GPAW worker failed (exit {rc}): {tail(d / 'worker.log', 3)}")
    out = json.loads((d / "result.json").read_text())
    if "error" in out:
        raise RuntimeError(f"GPAW: {out['error']}")
    return out


class GPAWCalculator(DFTCalculator):
    """Plane-wave GPAW (PAW setups from gpaw-data) per geometry; `gpaw` passes raw GPAW keywords."""

    engine = "gpaw"

    def __init__(self, directory, *, atoms=None, python: str = GPAW_PYTHON, gpaw: dict | None = None,
                 pseudo_dir=None, **kw):
        super().__init__(directory, **kw)
        self.python = python
        self.version = require_gpaw(python)
        self.extra = gpaw or {}
        if not self.ecut:
            self.ecut = DEFAULT_GPAW_ECUT
        if atoms is not None:
            self.prepare(atoms)

    def request(self, atoms, task: str = "scf", **extra) -> dict:
        return {"task": task, "symbols": atoms.get_chemical_symbols(), "positions": atoms.positions.tolist(),
                "cell": np.asarray(atoms.cell).tolist(), "pbc": [bool(x) for x in atoms.pbc],
                "ecut": self.ecut, "xc": self.xc, "kpts": list(self.kpts), "smearing": self.smearing,
                "conv_thr": self.conv_thr, "maxiter": self.maxiter, "gpaw": self.extra, **extra}

    def run_engine(self, atoms):
        out = run_worker(self.directory, self.request(atoms), self.python, self.nprocs)
        info = {k: out.get(k) for k in ("converged", "reason", "iterations", "band_gap", "direct_gap",
                                         "fermi_level", "gpaw_version")}
        if not out["converged"]:
            return {}, info
        results = {"energy": out["energy"], "free_energy": out["free_energy"], "forces": np.array(out["forces"]),
                   "stress": np.array(out["stress"])}
        return results, info
