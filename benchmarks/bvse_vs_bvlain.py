"""perovscreen BVSE vs bvlain on the same structures, same run: barriers, time, peak memory, ratios.

    python benchmarks/bvse_vs_bvlain.py [--resolution 0.2] [--quick]

Conventions matched: softBV covalent radii (bvlain use_softbv_covalent_radii=True), D0/2, f = 0.74,
cutoff 10 A. Grids differ by construction: bvlain uses linspace(0, 1, a // h) per axis (duplicated
boundary plane, spacing a/(n-1) >= h) and bisects the threshold to 0.01 eV (reporting the upper
bracket); perovscreen uses ceil(a/h) points (spacing <= h) and the exact grid threshold.
Each measurement runs in a fresh process; peak memory = peak RSS minus RSS before the calculation
(imports and JIT warm-up excluded for both tools). bvlain is a benchmark-only dependency (pip install bvlain).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import time


def _rss_mib():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _structure(name):
    from perovscreen.structures import get_example
    base, _, mult = name.partition("*")
    s = get_example(base)
    if mult:
        s = s * tuple(int(x) for x in mult.split("x"))
    return s


def _run(tool, name, resolution, queue):
    import warnings
    warnings.simplefilter("ignore")
    s = _structure(name)
    if tool == "perovscreen":
        from perovscreen.bvse import compute_bvse
        compute_bvse(_structure("Li3OCl"), resolution=0.5)  # JIT warm-up (cached to disk after the first run)
        base = _rss_mib()
        t = time.perf_counter()
        res = compute_bvse(s, resolution=resolution)
        dt = time.perf_counter() - t
        bar = [res.barriers[k] for k in ("E1D", "E2D", "E3D")]
        npts = res.energy.size
        # bvlain's own grid: linspace(0, 1, a // h) per axis = our i/(n-1) grid plus the duplicated plane
        same = compute_bvse(s, grid=[int(x // resolution) - 1 for x in s.lattice.abc]).barriers
        extra = {"same_grid": [same[k] for k in ("E1D", "E2D", "E3D")]}
    else:
        from bvlain import Lain
        calc = Lain(verbose=False)
        calc.read_structure(s, oxi_check=False)
        base = _rss_mib()
        t = time.perf_counter()
        calc.bvse_distribution(mobile_ion="Li1+", r_cut=10.0, resolution=resolution, k=100,
                               use_softbv_covalent_radii=True)
        e = calc.percolation_barriers(encut=10.0)
        dt = time.perf_counter() - t
        bar = [float(e[k]) for k in ("E_1D", "E_2D", "E_3D")]
        npts = int(calc.data.size)
        extra = {}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - base
    queue.put({"tool": tool, "name": name, "atoms": len(s), "points": npts, "seconds": dt,
               "peak_mib": max(peak, 0.0), "barriers": bar, **extra})


def measure(tool, name, resolution):
    q = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=_run, args=(tool, name, resolution, q))
    p.start()
    out = q.get()
    p.join()
    return out


def fmt(x):
    return "inf" if x == float("inf") else f"{x:.3f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=float, default=0.2)
    ap.add_argument("--quick", action="store_true", help="skip the garnet-size cell and scaling tables")
    args = ap.parse_args(argv)
    names = ["LiFePO4", "Li3OCl", "LiNbO3", "LiTaO3", "LLTO_ordered"]
    if not args.quick:
        names.append("LiFePO4*2x2x2")  # 224 atoms, 2330 A^3: garnet-size cell (Li7La3Zr2O12: 192, 2180 A^3)
    rows = []
    print(f"resolution {args.resolution} A; barriers E1D/E2D/E3D in eV")
    print(f"{'structure':15s} {'atoms':>5s} {'pts ps/bvl':>15s} {'perovscreen':>20s} {'bvlain':>20s} "
          f"{'max|dE|':>7s} {'same-grid':>9s} {'t_ps s':>7s} {'t_bvl s':>7s} {'speedup':>7s} {'mem_ps':>7s} {'mem_bvl':>8s} {'mem ratio':>9s}")
    for n in names:
        a = measure("perovscreen", n, args.resolution)
        b = measure("bvlain", n, args.resolution)
        dmax = max(abs(x - y) for x, y in zip(a["barriers"], b["barriers"]) if x != float("inf"))
        dsame = max(abs(x - y) for x, y in zip(a["same_grid"], b["barriers"]) if x != float("inf"))
        r = {"name": n, "ps": a, "bvl": b, "dmax": dmax, "dsame": dsame, "speedup": b["seconds"] / a["seconds"],
             "mem_ratio": a["peak_mib"] / max(b["peak_mib"], 1e-9)}
        rows.append(r)
        print(f"{n:15s} {a['atoms']:5d} {a['points']:>7d}/{b['points']:<7d} "
              f"{'/'.join(fmt(x) for x in a['barriers']):>20s} {'/'.join(fmt(x) for x in b['barriers']):>20s} "
              f"{dmax:7.3f} {dsame:9.3f} {a['seconds']:7.2f} {b['seconds']:7.2f} {r['speedup']:6.1f}x "
              f"{a['peak_mib']:6.0f}M {b['peak_mib']:7.0f}M {r['mem_ratio']:9.3f}", flush=True)
    print(f"median speedup {statistics.median(r['speedup'] for r in rows):.1f}x; "
          f"max |dE| own grids {max(r['dmax'] for r in rows):.3f} eV, on bvlain's grid "
          f"{max(r['dsame'] for r in rows):.3f} eV (bvlain bisects to 0.01 eV, reports the upper bracket)")
    if args.quick:
        return rows
    print("\nscaling with grid points (perovscreen, LiFePO4)")
    print(f"{'h A':>5s} {'points':>8s} {'seconds':>8s} {'us/point':>9s} {'E1D':>7s}")
    for h in (0.3, 0.2, 0.15, 0.1):
        m = measure("perovscreen", "LiFePO4", h)
        print(f"{h:5.2f} {m['points']:8d} {m['seconds']:8.2f} {1e6 * m['seconds'] / m['points']:9.2f} "
              f"{m['barriers'][0]:7.3f}", flush=True)
    print("\nscaling with atoms (perovscreen, LiFePO4 supercells, h = 0.2 A)")
    print(f"{'cell':>6s} {'atoms':>6s} {'points':>8s} {'seconds':>8s} {'peak MiB':>9s}")
    for mult in ("1x1x1", "2x1x1", "2x2x1", "2x2x2", "3x2x2"):
        m = measure("perovscreen", f"LiFePO4*{mult}", 0.2)
        print(f"{mult:>6s} {m['atoms']:6d} {m['points']:8d} {m['seconds']:8.2f} {m['peak_mib']:9.1f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
