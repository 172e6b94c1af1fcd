"""`perovscreen mesoscale generate|conductivity|sweep|temperature`: polycrystals and their conductivity.

Geometry and GB flags come from `mesoscale.stage.MesoParams` (one set of defaults); the bulk crystal is
given by its eigenvalues (`--bulk-eigenvalues 1,10`: a rotated copy per grain).
"""
from __future__ import annotations

import json
import sys

from perovscreen.cli.common import guarded


def _floats(text: str) -> list:
    from perovscreen.core.errors import InputError

    try:
        return [float(x) for x in str(text).replace(":", ",").split(",") if x.strip()]
    except ValueError:
        raise InputError(f"expected comma-separated numbers, got {text!r}") from None


def add_parser(sub) -> None:
    from perovscreen.jobs.stage import add_param_arguments
    from perovscreen.mesoscale.stage import MesoParams

    p = sub.add_parser("mesoscale", help="phase-field polycrystals and effective conductivity with grain boundaries")
    s = p.add_subparsers(dest="meso_cmd", required=True)

    g = s.add_parser("generate", help="a periodic polycrystal (Voronoi, optionally grown by phase field)")
    add_param_arguments(g, MesoParams, skip=("gb_ratio", "gb_par_ratio", "bulk_sigma", "solver", "tol"))
    g.add_argument("--grow", type=float, default=0.0, help="phase-field grain growth for this time (0: none)")
    g.add_argument("--order-parameters", type=int, default=8, help="order parameters carrying the grains")
    g.add_argument("--out", default=None, help="save the microstructure (.npz)")
    g.add_argument("--image", default=None, help="write the grain map (.png)")
    g.add_argument("--json", action="store_true", help="print grain statistics as JSON")
    g.set_defaults(func=_generate)

    c = s.add_parser("conductivity", help="effective conductivity tensor of a polycrystal")
    _common(c, MesoParams)
    c.add_argument("--micro", default=None, help="a saved microstructure (.npz) instead of a new Voronoi one")
    c.add_argument("--image", default=None, help="write the grain map (.png)")
    c.set_defaults(func=_conductivity)

    w = s.add_parser("sweep", help="sigma_eff over grain counts and GB conductivity ratios, with the brick layer")
    _common(w, MesoParams, skip=("grains", "gb_ratio"))
    w.add_argument("--grains-list", default="10,40", help="grain counts (comma-separated)")
    w.add_argument("--gb-ratios", default="1e-3,1e-2,1e-1,1", help="sigma_gb / sigma_bulk values")
    w.add_argument("--plot", default=None, help="write the sweep plot (.png)")
    w.set_defaults(func=_sweep)

    t = s.add_parser("temperature", help="sigma_eff(T) from bulk and GB Arrhenius laws; Te and Tc")
    _common(t, MesoParams, skip=("gb_ratio", "gb_par_ratio"))
    t.add_argument("--bulk-arrhenius", default="3.72e-4,0.28", help="bulk D0 (cm^2/s), Ea (eV)")
    t.add_argument("--gb-arrhenius", default="10,0.52", help="GB D0 (cm^2/s), Ea (eV)")
    t.add_argument("--temperatures", default="200,250,300,350,400,500,600", help="temperatures (K)")
    t.add_argument("--plot", default=None, help="write sigma(T) (.png)")
    t.set_defaults(func=_temperature)


def _common(p, params, skip=()):
    from perovscreen.jobs.stage import add_param_arguments

    add_param_arguments(p, params, skip=tuple(skip) + ("bulk_sigma",))
    p.add_argument("--bulk-eigenvalues", default="1", help="single-crystal conductivity eigenvalues (one: isotropic)")
    p.add_argument("--gb-sigma", type=float, default=None,
                   help="GB conductivity across the boundary (default gb_ratio x the bulk's geometric mean)")
    p.add_argument("--gb-sigma-par", type=float, default=None, help="GB conductivity along the boundary")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _params(args):
    from perovscreen.mesoscale.stage import MESOSCALE

    return MESOSCALE.from_args(args)


def _micro(args, prm, grains=None):
    from perovscreen.mesoscale.microstructure import Microstructure, periodic_voronoi

    if getattr(args, "micro", None):
        m = Microstructure.load(args.micro)
        return m.with_gb(prm.gb_width) if m.gb is None and prm.gb_width else m
    return periodic_voronoi((prm.size,) * prm.dim, grains or prm.grains, prm.seed).with_gb(prm.gb_width)


def _bulk(args, dim):
    import numpy as np

    from perovscreen.core.errors import InputError

    e = _floats(args.bulk_eigenvalues)
    if len(e) == 1:
        e = e * dim
    if len(e) != dim:
        raise InputError(f"--bulk-eigenvalues: expected 1 or {dim} values, got {len(e)}")
    return e, float(np.exp(np.mean(np.log(np.abs(e) + 1e-300))))


def _gb(args, prm, gmean, ratio=None):
    perp = args.gb_sigma if args.gb_sigma is not None else (ratio if ratio is not None else prm.gb_ratio) * gmean
    par = args.gb_sigma_par if args.gb_sigma_par is not None else (
        prm.gb_par_ratio * gmean if prm.gb_par_ratio and args.gb_sigma is None else perp)
    return perp, par


def _emit(args, obj, text: str) -> None:
    from perovscreen.core.results import encode

    print(json.dumps(encode(obj)) if args.json else text)


@guarded
def _generate(args) -> int:
    from perovscreen.mesoscale.stage import MESOSCALE

    prm = MESOSCALE.from_args(args)
    if args.grow > 0:
        from perovscreen.mesoscale.phasefield import voronoi_growth

        pf = voronoi_growth((prm.size,) * prm.dim, prm.grains, prm.seed, args.order_parameters)
        pf.run(args.grow)
        m = pf.microstructure(prm.gb_width)
    else:
        m = _micro(args, prm)
    st = m.stats()
    if args.out:
        m.save(args.out)
    if args.image:
        from perovscreen.mesoscale.plots import grain_map

        grain_map(m, args.image)
    _emit(args, st, f"{st.n_grains} grains, mean diameter {st.mean_diameter:.2f} +- {st.std_diameter:.2f} voxels, "
                    f"GB fraction {st.gb_fraction:.3f}" + (f"; saved {args.out}" if args.out else ""))
    return 0


@guarded
def _conductivity(args) -> int:
    from perovscreen.mesoscale.homogenize import effective_conductivity

    prm = _params(args)
    m = _micro(args, prm)
    eig, gmean = _bulk(args, m.dim)
    perp, par = _gb(args, prm, gmean)
    r = effective_conductivity(m, eig, perp, par, solver=prm.solver, tol=prm.tol)
    if args.image:
        from perovscreen.mesoscale.plots import grain_map

        grain_map(m, args.image)
    rows = "\n".join("  [" + ", ".join(f"{x:.6g}" for x in row) + "]" for row in r.sigma_eff)
    _emit(args, r, f"sigma_eff ({r.solver}, {r.n_grains} grains, {r.seconds:.2f} s):\n{rows}\n"
                   f"eigenvalues {', '.join(f'{x:.6g}' for x in r.eigenvalues)}; GB share of resistance "
                   f"{r.gb_resistance_share:.3f}; brick layer {r.brick_layer:.6g}")
    return 0


@guarded
def _sweep(args) -> int:
    from perovscreen.mesoscale.homogenize import effective_conductivity

    prm = _params(args)
    rows = []
    for n in [int(x) for x in _floats(args.grains_list)]:
        m = _micro(args, prm, grains=n)
        eig, gmean = _bulk(args, m.dim)
        for ratio in _floats(args.gb_ratios):
            perp, par = _gb(args, prm, gmean, ratio)
            r = effective_conductivity(m, eig, perp, par, solver=prm.solver, tol=prm.tol)
            rows.append({"grains": n, "grain_diameter": r.grain_diameter, "gb_ratio": ratio,
                         "sigma_eff": r.sigma_mean / gmean, "brick_layer": r.brick_layer / gmean,
                         "gb_resistance_share": r.gb_resistance_share, "gb_fraction": r.gb_fraction,
                         "solver": r.solver, "seconds": r.seconds})
    if args.plot:
        from perovscreen.mesoscale.plots import sweep

        sweep(rows, args.plot)
    text = "\n".join(f"{r['grains']:5d} grains  D={r['grain_diameter']:6.2f}  gb/bulk={r['gb_ratio']:8.2g}  "
                     f"sigma/bulk={r['sigma_eff']:.4g}  brick={r['brick_layer']:.4g}  "
                     f"GB share={r['gb_resistance_share']:.3f}" for r in rows)
    _emit(args, rows, text)
    return 0


@guarded
def _temperature(args) -> int:
    from perovscreen.core.errors import InputError
    from perovscreen.mesoscale.arrhenius import temperature_sweep
    from perovscreen.mesoscale.homogenize import effective_conductivity

    prm = _params(args)
    if prm.gb_width <= 0:
        raise InputError("temperature: needs GBs (--gb-width > 0)")
    m = _micro(args, prm)
    eig, gmean = _bulk(args, m.dim)

    def solve(db, dg):
        r = effective_conductivity(m, [db * e / gmean for e in eig], dg, dg, solver=prm.solver, tol=prm.tol)
        return r.sigma_mean, r.gb_resistance_share, r.gb_current_share
    sw = temperature_sweep(solve, _floats(args.temperatures), _floats(args.bulk_arrhenius), _floats(args.gb_arrhenius))
    if args.plot:
        from perovscreen.mesoscale.plots import arrhenius

        arrhenius(sw, args.plot)
    def fmt(t, r):
        return f"{t:.1f} K (D_gb/D_bulk = {r:.3g})" if t else "none"
    lines = [f"Te (D_gb = D_bulk) = {sw.Te:.1f} K; Tc (GBs carry half the current) = {fmt(sw.Tc, sw.ratio_at_Tc)}; "
             f"GB-limited below {fmt(sw.T_gb_limited, sw.ratio_at_gb_limited)}"]
    lines += [f"  T={t:6.1f} K  D_eff={d:.4g}  GB resistance share={s:.3f}  GB current share={c:.3f}" for t, d, s, c in
              zip(sw.temperatures, sw.D_eff, sw.gb_share, sw.gb_current)]
    _emit(args, sw, "\n".join(lines + sw.notes))
    return 0


if __name__ == "__main__":  # pragma: no cover - try the group without the main CLI
    import argparse

    ap = argparse.ArgumentParser(prog="perovscreen")
    add_parser(ap.add_subparsers(dest="cmd", required=True))
    a = ap.parse_args()
    sys.exit(a.func(a))
