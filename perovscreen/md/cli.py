"""`perovscreen md CIF --temps 600 800 1000 1200 --time 50ps --potential chgnet --engine ase`."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from perovscreen.errors import InputError

_UNITS_PS = {"fs": 1e-3, "ps": 1.0, "ns": 1e3}


def parse_time_ps(text: str) -> float:
    """'50ps', '500 fs', '1ns' or a bare number (ps) -> ps."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*(fs|ps|ns)?\s*", str(text))
    if not m:
        raise InputError(f"cannot read time {text!r}: use e.g. 50ps, 500fs, 1ns")
    return float(m.group(1)) * _UNITS_PS[m.group(2) or "ps"]


def add_parser(sub) -> None:
    p = sub.add_parser("md", help="molecular dynamics -> MSD -> D -> Nernst-Einstein conductivity, Arrhenius")
    p.add_argument("structure", help="structure file (CIF, POSCAR, ...) or a built-in example name")
    p.add_argument("--temps", type=float, nargs="+", required=True, help="temperatures in K")
    p.add_argument("--time", default="50ps", help="production time per temperature (default 50ps)")
    p.add_argument("--equil", default="5ps", help="equilibration time (default 5ps)")
    p.add_argument("--timestep", type=float, default=2.0, help="fs (default 2)")
    p.add_argument("--sample", type=float, default=50.0, help="mobile-ion sampling interval in fs (default 50)")
    p.add_argument("--thermostat", choices=["nhc", "langevin", "nve"], default="nhc",
                   help="production ensemble: Nose-Hoover chain (default), Langevin, NVE")
    p.add_argument("--potential", default="chgnet", help="universal potential (ase engine) or classical "
                   "potential name (lammps and openmm engines, e.g. buckingham-li2o)")
    p.add_argument("--engine", choices=["ase", "lammps", "openmm"], default="ase")
    p.add_argument("--device", default="cpu", help="cpu or cuda (ase: torch device; openmm: platform)")
    p.add_argument("--ion", default="Li", help="mobile ion (default Li)")
    p.add_argument("--min-length", type=float, default=10.0, help="minimum perpendicular cell width, A")
    p.add_argument("--vacancies", type=int, default=0, help="mobile-ion vacancies to create")
    p.add_argument("--compensation", choices=["schottky", "none"], default="schottky")
    p.add_argument("--haven", type=float, default=1.0, help="Haven ratio for Nernst-Einstein (default 1)")
    p.add_argument("--fit-window", type=float, nargs=2, default=None, metavar=("T0", "T1"),
                   help="MSD fit window in ps (default 10%%-50%% of the run)")
    p.add_argument("--checkpoint-steps", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="md_run", help="work directory (checkpoints, trajectories, result, plots)")
    p.add_argument("--jobs", "-j", type=int, default=1, help="temperatures run in parallel")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--address", default=None, help="Ray cluster address")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.set_defaults(func=_handler)


def _load(name: str):
    path = Path(name)
    if not path.exists():
        from perovscreen.structures.examples import EXAMPLES, get_example

        if name in EXAMPLES:
            return get_example(name), ()
        raise InputError(f"{name}: no such file or built-in example")
    from perovscreen.structures.intake import load_file

    rec = load_file(path)[0]
    if rec.error:
        raise InputError(f"{name}: {rec.error}")
    return rec.structure, (path,)


def _handler(args) -> int:
    from perovscreen.md.engine_ase import MDSettings
    from perovscreen.md.runner import AnalysisSettings, run_md

    try:
        structure, files = _load(args.structure)
        settings = MDSettings(time_ps=parse_time_ps(args.time), equil_ps=parse_time_ps(args.equil),
                              timestep_fs=args.timestep, sample_fs=args.sample, thermostat=args.thermostat,
                              checkpoint_steps=args.checkpoint_steps, seed=args.seed, mobile=args.ion)
        analysis = AnalysisSettings(fit_window_ps=tuple(args.fit_window) if args.fit_window else None,
                                    haven_ratio=args.haven)
        res = run_md(structure, args.temps, settings, args.potential, args.engine, args.out, args.jobs,
                     args.executor, args.address, args.min_length, args.vacancies, args.compensation, analysis,
                     args.device, files)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res.to_dict(), indent=1))
        return 0 if not res.failed else 1
    print(f"{res.formula}  engine={res.engine} potential={res.potential}  cell={res.cell['formula_md']}")
    for r in res.temperatures:
        if r.D is not None:
            print(f"  {r.temperature:7.1f} K  D = {r.D:.3e} [{r.D_ci95[0]:.2e}, {r.D_ci95[1]:.2e}] cm2/s  "
                  f"sigma = {r.sigma:.3e} S/cm")
        else:
            up = f"D < {r.D_upper:.2e} cm2/s" if r.D_upper else ""
            print(f"  {r.temperature:7.1f} K  {r.status.replace('_', ' ')} {up}")
    for t, err in res.failed.items():
        print(f"  {t:7.1f} K  failed: {err}")
    f = res.arrhenius
    if f:
        print(f"  Ea = {f.Ea:.3f} eV [{f.Ea_ci95[0]:.3f}, {f.Ea_ci95[1]:.3f}]; sigma({f.target_T:g} K) = "
              f"{f.sigma_target:.2e} S/cm [{f.sigma_target_ci95[0]:.1e}, {f.sigma_target_ci95[1]:.1e}]")
    else:
        print(f"  no Arrhenius fit: {res.arrhenius_error}")
    print(f"  results in {args.out}/md_result.json")
    return 0 if not res.failed else 1
