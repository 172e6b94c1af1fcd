"""Mobile-ion trajectory: what every engine writes and the analysis reads."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from perovscreen.core.errors import InputError


@dataclass
class MobileTrajectory:
    """Unwrapped mobile-ion positions sampled at a fixed interval, plus framework diagnostics.

    positions: (n_frames, n_mobile, 3) Cartesian, Angstrom, unwrapped (continuous across boundaries).
    framework_com: (n_frames, 3) displacement of the framework centre of mass from frame 0 (Angstrom).
    framework_rmsd: (n_frames,) RMS displacement of framework atoms from frame 0, COM drift removed.
    """

    times_ps: np.ndarray
    positions: np.ndarray
    cell: np.ndarray
    temperature: float
    mobile: str = "Li"
    charge: float = 1.0
    framework_com: np.ndarray | None = None
    framework_rmsd: np.ndarray | None = None
    temperature_series: np.ndarray | None = None
    epot_series: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.times_ps = np.asarray(self.times_ps, float)
        self.positions = np.asarray(self.positions, float)
        self.cell = np.asarray(self.cell, float).reshape(3, 3)
        if self.positions.ndim != 3 or self.positions.shape[2] != 3:
            raise InputError(f"positions must be (n_frames, n_mobile, 3), got {self.positions.shape}")
        if len(self.times_ps) != len(self.positions):
            raise InputError("times and positions have different numbers of frames")
        if len(self.times_ps) > 1 and not np.allclose(np.diff(self.times_ps), self.times_ps[1] - self.times_ps[0],
                                                      rtol=1e-6, atol=1e-9):
            raise InputError("frames must be evenly spaced in time")

    @property
    def n_frames(self) -> int:
        return len(self.times_ps)

    @property
    def n_mobile(self) -> int:
        return self.positions.shape[1]

    @property
    def dt_ps(self) -> float:
        return float(self.times_ps[1] - self.times_ps[0])

    @property
    def volume(self) -> float:
        return float(abs(np.linalg.det(self.cell)))

    def drift_corrected(self) -> np.ndarray:
        """Mobile positions with the framework centre-of-mass drift removed (the lab frame of the lattice)."""
        if self.framework_com is None:
            return self.positions
        return self.positions - np.asarray(self.framework_com)[:, None, :]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        arrays = {k: v for k, v in dict(
            times_ps=self.times_ps, positions=self.positions, cell=self.cell,
            framework_com=self.framework_com, framework_rmsd=self.framework_rmsd,
            temperature_series=self.temperature_series, epot_series=self.epot_series).items() if v is not None}
        _atomic_savez(path, **arrays, temperature=self.temperature, mobile=self.mobile, charge=self.charge)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "MobileTrajectory":
        with np.load(path, allow_pickle=False) as z:
            opt = {k: z[k] for k in ("framework_com", "framework_rmsd", "temperature_series", "epot_series")
                   if k in z}
            return cls(times_ps=z["times_ps"], positions=z["positions"], cell=z["cell"],
                       temperature=float(z["temperature"]), mobile=str(z["mobile"]), charge=float(z["charge"]),
                       **opt)


def finished_run(wd: Path, key: str) -> MobileTrajectory | None:
    """The trajectory a finished run with settings ``key`` left in ``wd`` (run.json written last), else None."""
    wd = Path(wd)
    if (wd / "trajectory.npz").exists() and (wd / "run.json").exists() and \
            json.loads((wd / "run.json").read_text()).get("key") == key:
        return MobileTrajectory.load(wd / "trajectory.npz")
    return None


def cell_fingerprint(atoms) -> dict:
    """Species, positions and lattice of an MD cell (rounded to 1e-6 A), hashed."""
    from perovscreen.core.hashing import value_hash

    rnd = lambda a: (np.round(np.asarray(a, float), 6) + 0.0).tolist()  # noqa: E731  (+0.0: no -0.0)
    return {"n_atoms": len(atoms), "species": value_hash(list(atoms.get_chemical_symbols())),
            "positions": value_hash(rnd(atoms.positions)), "lattice": value_hash(rnd(atoms.cell.array))}


def run_key(settings, temperature: float, atoms, identity, engine: str) -> str:
    """What a trajectory depends on: the MD cell, the potential's identity, the engine, the temperature and
    every setting but the checkpoint interval. A checkpoint or finished run is reused only on equal keys."""
    from perovscreen.core.hashing import value_hash

    return value_hash({"cell": cell_fingerprint(atoms), "potential": identity, "engine": engine,
                       "temperature": float(temperature), "settings": settings.science()}, 32)


def framework_drift(disp: np.ndarray, masses: np.ndarray) -> tuple:
    """Centre-of-mass shift and RMS displacement (COM removed) of framework displacements (..., n, 3)."""
    com = (masses[:, None] * disp).sum(-2) / masses.sum()
    rmsd = np.sqrt(np.mean(np.sum((disp - com[..., None, :]) ** 2, axis=-1), axis=-1))
    return com, rmsd


def _atomic_savez(path: Path, **arrays) -> None:
    """Write an .npz so that a kill mid-write never leaves a truncated file behind."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def unwrap(frac: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Unwrap wrapped fractional coordinates (n_frames, n, 3) into continuous Cartesian positions.

    Assumes no atom moves more than half a cell between consecutive frames.
    """
    frac = np.asarray(frac, float)
    d = np.diff(frac, axis=0)
    d -= np.round(d)
    cont = np.concatenate([frac[:1], frac[:1] + np.cumsum(d, axis=0)])
    return cont @ np.asarray(cell, float)
