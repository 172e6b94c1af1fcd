"""ASE engine: equilibration (Langevin) then production NVT (Nose-Hoover chain by default) with any ASE
calculator, sampling mobile-ion positions at a fixed interval and checkpointing every N steps.

A killed run restarts from its last checkpoint (positions, momenta, thermostat variables, RNG state and
the frames so far) and reaches the same number of steps; with a deterministic calculator the result is
the same as an uninterrupted run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import NoseHooverChainNVT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet

from perovscreen.core.errors import InputError
from perovscreen.core.results import Result
from perovscreen.md.settings import DEFAULTS, THERMOSTATS
from perovscreen.md.trajectory import MobileTrajectory, _atomic_savez, finished_run, framework_drift, run_key

ENGINE = "ase/2"  # in every run key: runs of an older engine (v1: no momentum removal before production) are not reused

__all__ = ["MDSettings", "RunStopped", "THERMOSTATS", "run_ase"]


class RunStopped(Exception):
    """Raised when stop_after_steps ends a run early (the checkpoint is on disk)."""


@dataclass
class MDSettings(Result):
    """Run parameters shared by all engines (times in ps/fs, temperatures in K); the defaults shared with
    the md stage come from `perovscreen.md.stage.MDParams`."""

    TYPE = "MDSettings"

    time_ps: float = DEFAULTS.time_ps  # production
    equil_ps: float = DEFAULTS.equilibration_ps
    timestep_fs: float = DEFAULTS.timestep_fs
    sample_fs: float = DEFAULTS.sample_fs  # mobile-ion position interval
    checkpoint_steps: int = DEFAULTS.checkpoint_steps  # execution only: not part of the run key
    thermostat: str = DEFAULTS.thermostat  # production: Nose-Hoover chain, Langevin, or NVE (velocity Verlet)
    tdamp_fs: float = 100.0  # NHC time constant (ASE's suggestion: 100 timesteps at 1 fs)
    friction_per_ps: float = 1.0  # Langevin in production (weak: leaves diffusion ~unchanged)
    equil_friction_per_ps: float = 10.0  # Langevin in equilibration (fast thermalisation)
    seed: int = DEFAULTS.seed
    mobile: str = "Li"
    charge: float = 1.0
    write_all: bool = False  # also keep framework positions in the trajectory file

    def __post_init__(self):
        if self.thermostat not in THERMOSTATS:
            raise InputError(f"thermostat must be one of {THERMOSTATS}, got {self.thermostat!r}")
        if self.time_ps <= 0 or self.equil_ps < 0 or self.timestep_fs <= 0 or self.sample_fs <= 0:
            raise InputError("time_ps, timestep_fs and sample_fs must be > 0 and equil_ps >= 0")
        if self.checkpoint_steps < 1:
            raise InputError(f"checkpoint_steps must be >= 1, got {self.checkpoint_steps}")

    @property
    def steps(self) -> tuple:
        """(equilibration steps, production steps, steps per sample)."""
        every = max(1, int(round(self.sample_fs / self.timestep_fs)))
        n_prod = max(every, int(round(self.time_ps * 1000 / self.timestep_fs / every)) * every)
        return int(round(self.equil_ps * 1000 / self.timestep_fs)), n_prod, every

    def sample_due(self, step: int, n_frames: int) -> bool:
        """Whether the production frame of ``step`` is still to be taken (n_frames taken so far)."""
        n_eq, _, every = self.steps
        return step >= n_eq and (step - n_eq) % every == 0 and n_frames == (step - n_eq) // every

    def next_stop(self, step: int) -> int:
        """The next step at which an engine must stop: phase end, checkpoint or production sample."""
        n_eq, n_prod, every = self.steps
        production = step >= n_eq
        nxt = min(n_eq + n_prod if production else n_eq,
                  step + self.checkpoint_steps - step % self.checkpoint_steps)
        return min(nxt, step + every - (step - n_eq) % every) if production else nxt

    def science(self) -> dict:
        """Every setting the trajectory depends on (all but the checkpoint interval)."""
        d = self.to_dict()
        for k in ("@type", "@version", "checkpoint_steps"):
            d.pop(k)
        return d


class _State:
    """Everything needed to continue a run: written to checkpoint.npz."""

    def __init__(self, atoms: Atoms, mobile_idx: np.ndarray):
        self.step = 0
        self.mobile_idx = mobile_idx
        fw = np.setdiff1d(np.arange(len(atoms)), mobile_idx)
        self.fw_idx = fw
        self.fw_mass = atoms.get_masses()[fw]
        self.ref = None  # framework positions at production start
        self.frames, self.com, self.rmsd, self.temp, self.epot, self.fw_pos = [], [], [], [], [], []

    def sample(self, atoms: Atoms, keep_framework: bool) -> None:
        pos = atoms.positions
        fw = pos[self.fw_idx]
        if self.ref is None:
            self.ref = fw.copy()
        com, rmsd = framework_drift(fw - self.ref, self.fw_mass) if len(fw) else (np.zeros(3), 0.0)
        self.frames.append(pos[self.mobile_idx].copy())
        self.com.append(com)
        self.rmsd.append(rmsd)
        self.temp.append(atoms.get_temperature())
        self.epot.append(atoms.get_potential_energy())
        if keep_framework:
            self.fw_pos.append(fw.copy())

    def save(self, path: Path, atoms: Atoms, key: str, rng, dyn) -> None:
        eta = getattr(getattr(dyn, "_thermostat", None), "_eta", np.zeros(0))
        p_eta = getattr(getattr(dyn, "_thermostat", None), "_p_eta", np.zeros(0))
        _atomic_savez(path, key=key, step=self.step, positions=atoms.positions, momenta=atoms.get_momenta(),
                      rng=json.dumps(rng.bit_generator.state), eta=eta, p_eta=p_eta,
                      ref=self.ref if self.ref is not None else np.zeros((0, 3)),
                      frames=np.array(self.frames).reshape(-1, len(self.mobile_idx), 3),
                      com=np.array(self.com).reshape(-1, 3), rmsd=np.array(self.rmsd), temp=np.array(self.temp),
                      epot=np.array(self.epot), fw_pos=np.array(self.fw_pos).reshape(-1, len(self.fw_idx), 3))

    def load(self, path: Path, atoms: Atoms, key: str, rng) -> dict:
        with np.load(path) as z:
            if str(z["key"]) != key:
                raise InputError(f"{path} belongs to a run with other settings (cell, potential, temperature or MD "
                                 "settings); remove it or use another work folder")
            self.step = int(z["step"])
            atoms.positions = z["positions"]
            atoms.set_momenta(z["momenta"])
            rng.bit_generator.state = json.loads(str(z["rng"]))
            self.ref = z["ref"] if len(z["ref"]) else None
            self.frames, self.com = list(z["frames"]), list(z["com"])
            self.rmsd, self.temp, self.epot = list(z["rmsd"]), list(z["temp"]), list(z["epot"])
            self.fw_pos = list(z["fw_pos"])
            return {"eta": z["eta"].copy(), "p_eta": z["p_eta"].copy()}


def _dynamics(atoms, settings: MDSettings, temperature: float, production: bool, rng):
    dt = settings.timestep_fs * units.fs
    if not production:
        return Langevin(atoms, dt, temperature_K=temperature, friction=settings.equil_friction_per_ps / (1000 * units.fs),
                        fixcm=False, rng=rng)
    if settings.thermostat == "nhc":
        return NoseHooverChainNVT(atoms, dt, temperature_K=temperature, tdamp=settings.tdamp_fs * units.fs)
    if settings.thermostat == "langevin":
        return Langevin(atoms, dt, temperature_K=temperature, friction=settings.friction_per_ps / (1000 * units.fs),
                        fixcm=False, rng=rng)
    return VelocityVerlet(atoms, dt)


def run_ase(atoms: Atoms, calculator, temperature: float, settings: MDSettings | None = None,
            workdir: str | Path | None = None, stop_after_steps: int | None = None,
            identity: dict | None = None) -> MobileTrajectory:
    """Run equilibration + production; return the production mobile-ion trajectory.

    workdir holds checkpoint.npz (every settings.checkpoint_steps) and trajectory.npz (on completion);
    calling again with the same workdir resumes. stop_after_steps stops early (as a kill would)
    after that many steps of this call, leaving the checkpoint; used to test restarts.
    identity: what the calculator is (`perovscreen.md.stage.md_identity`; default: its class and
    parameters). Checkpoints and finished runs are reused only when the cell (species, positions,
    lattice), the identity, the temperature and every setting are the same.
    """
    s = settings or MDSettings()
    atoms = atoms.copy()
    atoms.calc = calculator
    mobile_idx = np.array([i for i, a in enumerate(atoms.get_chemical_symbols()) if a == s.mobile])
    if len(mobile_idx) == 0:
        raise InputError(f"no {s.mobile} atoms in the MD cell")
    n_eq, n_prod, every = s.steps
    total = n_eq + n_prod
    if identity is None:
        from perovscreen.md.settings import calculator_identity

        identity = calculator_identity(calculator)
    key = run_key(s, temperature, atoms, identity, ENGINE)
    wd = Path(workdir) if workdir else None
    ckpt = wd / "checkpoint.npz" if wd else None
    if wd:
        wd.mkdir(parents=True, exist_ok=True)
        if done := finished_run(wd, key):
            return done
    rng = np.random.default_rng(s.seed)
    st = _State(atoms, mobile_idx)
    thermo = None
    if ckpt and ckpt.exists():
        thermo = st.load(ckpt, atoms, key, rng)
    else:
        MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
        Stationary(atoms)
    done_here = 0
    dyn, dyn_is_prod = None, None
    while st.step < total:
        production = st.step >= n_eq
        if dyn is None or production != dyn_is_prod:
            if production and st.step == n_eq:
                # the Langevin equilibration leaves a centre-of-mass momentum that NVT/NVE would carry through
                # production as a drift (8 A in 3.5 ps seen); idempotent, so a resume at n_eq does the same
                Stationary(atoms)
            dyn, dyn_is_prod = _dynamics(atoms, s, temperature, production, rng), production
            if thermo is not None and production and s.thermostat == "nhc" and len(thermo["eta"]):
                dyn._thermostat._eta[:], dyn._thermostat._p_eta[:] = thermo["eta"], thermo["p_eta"]
            thermo = None
        if s.sample_due(st.step, len(st.frames)):
            st.sample(atoms, s.write_all)
        nxt = s.next_stop(st.step)
        if stop_after_steps is not None:
            nxt = min(nxt, st.step + stop_after_steps - done_here)
        dyn.run(nxt - st.step)
        done_here += nxt - st.step
        st.step = nxt
        if ckpt and (st.step % s.checkpoint_steps == 0 or st.step == total):
            st.save(ckpt, atoms, key, rng, dyn)
        if stop_after_steps is not None and done_here >= stop_after_steps and st.step < total:
            raise RunStopped(f"stopped after {done_here} steps at step {st.step}")
    if s.sample_due(st.step, len(st.frames)):
        st.sample(atoms, s.write_all)
    traj = MobileTrajectory(
        times_ps=np.arange(len(st.frames)) * every * s.timestep_fs / 1000, positions=np.array(st.frames),
        cell=atoms.cell.array, temperature=temperature, mobile=s.mobile, charge=s.charge,
        framework_com=np.array(st.com), framework_rmsd=np.array(st.rmsd),
        temperature_series=np.array(st.temp), epot_series=np.array(st.epot),
        meta={"engine": "ase", "n_atoms": len(atoms), "steps": total, "key": key})
    if wd:
        traj.save(wd / "trajectory.npz")
        if s.write_all:
            _atomic_savez(wd / "framework.npz", positions=np.array(st.fw_pos), symbols=np.array(
                [atoms.get_chemical_symbols()[i] for i in st.fw_idx]))
        (wd / "run.json").write_text(json.dumps({"key": key, "steps": total, "engine": "ase",
                                                 "temperature": temperature, "settings": s.to_dict()}))
    return traj
