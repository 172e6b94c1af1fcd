"""`perovscreen md CIF --temps 600 800 1000 1200 --time 50ps --potential chgnet --engine ase`.

Flags come from `perovscreen.md.stage.MDParams` (defaults written once there); --time/--equil take units."""
from __future__ import annotations

import json
import re
from pathlib import Path

from perovscreen.cli.common import guarded
from perovscreen.core.errors import InputError

_UNITS_PS = {"fs": 1e-3, "ps": 1.0, "ns": 1e3}


def parse_time_ps(text: str) -> float:
    """'50ps', '500 fs', '1ns' or a bare number (ps) -> ps."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?\d+)?)\s*(fs|ps|ns)?\s*", str(text))
    if not m:
        raise InputError(f"cannot read time {text!r}: use e.g. 50ps, 500fs, 1ns")
    return float(m.group(1)) * _UNITS_PS[m.group(2) or "ps"]


def add_parser(sub) -> None:
    from perovscreen.jobs.stage import add_param_arguments
    from perovscreen.md.settings import DEFAULTS, MDParams

    p = sub.add_parser("md", help="molecular dynamics -> MSD -> D -> Nernst-Einstein conductivity, Arrhenius")
    p.add_argument("structure", help="structure file (CIF, POSCAR, ...) or a built-in example name")
    add_param_arguments(p, MDParams, skip=("time_ps", "equilibration_ps", "fit_window_ps", "jobs"))
    p.add_argument("--time", dest="time_text", default=None, metavar="TIME",
                   help=f"production time per temperature, e.g. 50ps, 500fs, 1ns (default {DEFAULTS.time_ps:g}ps)")
    p.add_argument("--equil", dest="equil_text", default=None, metavar="TIME",
                   help=f"equilibration time per temperature (default {DEFAULTS.equilibration_ps:g}ps)")
    p.add_argument("--fit-window", dest="fit_window_ps", type=float, nargs=2, default=None, metavar=("T0", "T1"),
                   help="MSD fit window in ps (default 10%%-50%% of the run)")
    p.add_argument("--jobs", "-j", dest="jobs", type=int, default=None,
                   help=f"temperatures run in parallel (default {DEFAULTS.jobs})")
    p.add_argument("--ion", default="Li", help="mobile ion (default Li)")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--address", default=None, help="Ray cluster address")
    p.add_argument("--json", action="store_true", help="print the full result as one JSON line")
    p.set_defaults(func=_handler)


def params_from_cli(args):
    """MDParams from the parsed flags (unset flags keep the defaults of MDParams)."""
    from perovscreen.jobs.stage import params_from_args
    from perovscreen.md.settings import MDParams

    extra = {}
    if args.time_text is not None:
        extra["time_ps"] = parse_time_ps(args.time_text)
    if args.equil_text is not None:
        extra["equilibration_ps"] = parse_time_ps(args.equil_text)
    return params_from_args(MDParams, args, "md", **extra)


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


@guarded
def _handler(args) -> int:
    from perovscreen.md.stage import run_md_params

    params = params_from_cli(args)
    structure, files = _load(args.structure)
    res = run_md_params(structure, params, params.workdir, mobile=args.ion, executor=args.executor,
                        address=args.address, files=files)
    if args.json:
        print(json.dumps(res.to_dict()))
        return 0 if not res.failed else 1
    print(f"{res.formula}  engine={res.engine} potential={res.potential}  cell={res.cell.formula_md}")
    for r in res.temperatures:
        if r.D is not None:
            print(f"  {r.temperature:7.1f} K  D = {r.D.value:.3e} [{r.D.lower:.2e}, {r.D.upper:.2e}] cm2/s  "
                  f"sigma = {r.sigma.value:.3e} S/cm")
        else:
            up = f"D < {r.D_upper:.2e} cm2/s" if r.D_upper else ""
            print(f"  {r.temperature:7.1f} K  {r.status.replace('_', ' ')} {up}")
    for t, err in res.failed.items():
        print(f"  {t:7.1f} K  failed: {err}")
    f = res.arrhenius
    if f:
        line = f"  Ea = {f.Ea.value:.3f} eV [{f.Ea.lower:.3f}, {f.Ea.upper:.3f}]"
        if f.sigma_target is not None:
            st = f.sigma_target
            line += f"; sigma({f.target_T:g} K) = {st.value:.2e} S/cm [{st.lower:.1e}, {st.upper:.1e}]"
        print(line)
        for n in f.notes:
            print(f"  note: {n}")
    else:
        print(f"  no Arrhenius fit: {res.arrhenius_error}")
    print(f"  results in {Path(params.workdir) / 'md_result.json'}")
    return 0 if not res.failed else 1
