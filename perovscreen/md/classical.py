"""Classical rigid-ion potentials and the run loop shared by the LAMMPS and OpenMM engines.

A potential is a dict: `charges` (e), `pairs` {(a, b): (A eV, rho A, C eV A^6)} for
E(r) = A exp(-r/rho) - C/r^6, truncated (not shifted) at `cutoff` (A), plus Ewald/PME Coulomb.
An engine is a backend object (see `run_classical`); both engines share checkpoints, sampling and output.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms

from perovscreen.core.errors import InputError, ModelError
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.trajectory import (MobileTrajectory, _atomic_savez, finished_run, framework_drift, run_key,
                                       unwrap)

# Rigid-ion partial-charge potential of Teter (unpublished; used and tabulated by J. Du and co-workers).
# Checked against L. Deng, J. Du, J. Am. Ceram. Soc. 102, 2482 (2019) as transcribed in
# github.com/glasagent/amorphouspy, amorphouspy/src/amorphouspy/potentials/du_teter_potential.py:
# Li +0.6, O -1.2; Li-O A = 41051.938 eV, rho = 0.151160 A, C = 0; O-O A = 2029.2204 eV, C = 192.58 eV A^6,
# rho = 0.343645 A (as in A. Xiang, J. Du, Chem. Mater. 2011 scripts; amorphouspy has 0.343640). The
# O-O A = 1844.7458 of our first entry appears only as an "old" value in one public script; we use 2029.2204.
# Static antifluorite Li2O minimum with 10 A cutoff: a = 4.508 A vs 4.61 A measured (-2.2%).
POTENTIALS = {
    "buckingham-li2o": {
        "citation": "Teter rigid-ion potential as tabulated by L. Deng, J. Du, J. Am. Ceram. Soc. 102, 2482 (2019)",
        "charges": {"Li": 0.6, "O": -1.2},
        "pairs": {("Li", "O"): (41051.938, 0.151160, 0.0), ("O", "O"): (2029.2204, 0.343645, 192.58),
                  ("Li", "Li"): (0.0, 1.0, 0.0)},
        "cutoff": 10.0,
    },
}


def importable(importer) -> bool:
    """Whether an engine's importer succeeds (importers raise ModelError when their package is unusable)."""
    try:
        importer()
        return True
    except ModelError:
        return False


def load_potential(path) -> dict:
    """A classical potential from a JSON file: {"charges": {"Li": 0.6, ...}, "pairs": {"Li-O": [A, rho, C], ...},
    "cutoff": 10.0, "citation": "..."} (A in eV, rho in A, C in eV A^6, cutoff in A)."""
    try:
        d = json.loads(Path(path).read_text())
        pairs = {tuple(k.split("-")): tuple(float(x) for x in v) for k, v in d["pairs"].items()}
        if any(len(k) != 2 or len(v) != 3 for k, v in pairs.items()):
            raise ValueError("pairs must map 'A-B' to [A, rho, C]")
        return {"citation": d.get("citation", str(path)), "charges": {k: float(v) for k, v in d["charges"].items()},
                "pairs": pairs, "cutoff": float(d["cutoff"])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"cannot read classical potential {path}: {exc}") from None


# Rigid-ion Li3OCl potential force-matched to CHGNet 0.3.0 by perovscreen.md.forcefit (docs/md.md): it gives
# the demo an MD that diffuses on 2 cores (Ea ~0.27 eV, 600-900 K, 127 atoms, ~25 s per temperature).
POTENTIALS["li3ocl-chgnet"] = load_potential(Path(__file__).parent / "data" / "li3ocl_chgnet.json")


def resolve_potential(potential: str | dict, atoms: Atoms) -> tuple[dict, list[str]]:
    """Potential dict and the sorted species of atoms; InputError if unknown or incomplete."""
    if isinstance(potential, (str, Path)) and str(potential).endswith(".json") and potential not in POTENTIALS:
        potential = load_potential(potential)
    pot = POTENTIALS.get(potential) if isinstance(potential, str) else potential
    if pot is None:
        raise InputError(f"unknown classical potential {potential!r}; choose from {', '.join(POTENTIALS)}")
    species = sorted(set(atoms.get_chemical_symbols()))
    missing = [x for x in species if x not in pot["charges"]]
    if missing:
        name = repr(potential) if isinstance(potential, str) else "the classical potential"
        raise InputError(f"{name} has no parameters for {', '.join(missing)}")
    for i, si in enumerate(species):
        for sj in species[i:]:
            pair_params(pot, si, sj)
    return pot, species


def pair_params(pot: dict, si: str, sj: str) -> tuple[float, float, float]:
    par = pot["pairs"].get((si, sj)) or pot["pairs"].get((sj, si))
    if par is None:
        raise InputError(f"potential has no {si}-{sj} term")
    return tuple(float(x) for x in par)


def potential_key(pot: dict) -> str:
    blob = json.dumps({"q": pot["charges"], "p": sorted((list(k), list(v)) for k, v in pot["pairs"].items()),
                       "rc": pot["cutoff"]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_classical(backend, atoms: Atoms, pot: dict, temperature: float, s: MDSettings, workdir, engine: str
                  ) -> MobileTrajectory:
    """Equilibration + production with a backend; checkpoints and the trajectory as the ASE engine writes them.

    backend methods: open(state: bytes | None, wd: Path) (fresh start draws velocities at the temperature),
    cell() -> (3, 3) A, set_phase(production: bool), advance(n_steps, fresh_phase: bool),
    sample() -> (fractional positions (n, 3), T K, E_pot eV), state() -> bytes (everything to continue), close().
    checkpoint.npz holds the backend state, the step and the frames so far in one atomic write.
    """
    n_eq, n_prod, every = s.steps
    total = n_eq + n_prod
    key = run_key(s, temperature, atoms, {"classical": potential_key(pot)}, engine)
    own_tmp = tempfile.TemporaryDirectory() if workdir is None else None
    wd = Path(own_tmp.name if own_tmp else workdir)
    wd.mkdir(parents=True, exist_ok=True)
    if done := finished_run(wd, key):
        return done
    symbols = np.array(atoms.get_chemical_symbols())
    mobile = np.where(symbols == s.mobile)[0]
    if len(mobile) == 0:
        raise InputError(f"no {s.mobile} atoms in the MD cell")
    fw = np.setdiff1d(np.arange(len(atoms)), mobile)
    ckpt = wd / "checkpoint.npz"
    frames, temps, epots, step, state = [], [], [], 0, None
    if ckpt.exists():
        with np.load(ckpt) as z:
            if str(z["key"]) != key:
                raise InputError(f"{ckpt} belongs to a run with other settings (cell, potential, temperature or MD "
                                 "settings); remove it or use another work folder")
            step, frames, temps, epots = int(z["step"]), list(z["frac"]), list(z["temp"]), list(z["epot"])
            state = z["state"].tobytes()
    resumed_from = step
    try:
        backend.open(state, wd)
        cell = backend.cell()
        phase = None
        while True:
            production = step >= n_eq
            if s.sample_due(step, len(frames)):
                frac, t, e = backend.sample()
                frames.append(frac)
                temps.append(t)
                epots.append(e)
            if step >= total:
                break
            fresh = production != phase
            if fresh:
                backend.set_phase(production)
                phase = production
            nxt = s.next_stop(step)
            backend.advance(nxt - step, fresh)
            step = nxt
            if step % s.checkpoint_steps == 0 or step == total:
                _atomic_savez(ckpt, key=key, step=step, frac=np.array(frames).reshape(-1, len(atoms), 3),
                              temp=np.array(temps), epot=np.array(epots),
                              state=np.frombuffer(backend.state(), dtype=np.uint8))
    finally:
        backend.close()
    pos = unwrap(np.array(frames), cell)
    com, rmsd = framework_drift(pos[:, fw] - pos[0, fw], atoms.get_masses()[fw])
    meta = {"engine": engine, "potential": pot.get("citation"), "steps": total, "resumed_from": resumed_from}
    traj = MobileTrajectory(np.arange(len(frames)) * every * s.timestep_fs / 1000, pos[:, mobile], cell, temperature,
                            s.mobile, s.charge, framework_com=com, framework_rmsd=rmsd,
                            temperature_series=np.array(temps), epot_series=np.array(epots), meta=meta)
    traj.save(wd / "trajectory.npz")
    (wd / "run.json").write_text(json.dumps({"key": key, **meta, "temperature": temperature,
                                             "settings": s.to_dict()}))
    if own_tmp:
        own_tmp.cleanup()
    return traj
