"""Throughput of the funnel's screening stages on many CIFs: intake + BVSE + ML + CHGNet single point.

OBELiX training CIFs are cycled (each copy strained by a distinct tiny factor so every file is a new
crystal for the store) to N structures; wall time is measured per stage for several N in one run, and
the per-structure cost is extrapolated linearly to 1000 structures.

    python benchmarks/screen_throughput.py --sizes 100 300 1000 --jobs 2
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from perovscreen.jobs.runner import RunOptions, execute_batch  # noqa: E402
from perovscreen.pipeline.funnel import ensure_ml_model  # noqa: E402


def make_inputs(n: int, dest: Path, src=Path("../shared/data/obelix/cifs")) -> list[Path]:
    from pymatgen.io.cif import CifParser, CifWriter

    cifs = sorted(src.glob("*.cif"))
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        f = cifs[i % len(cifs)]
        k = i // len(cifs)
        p = dest / f"{f.stem}_{k}.cif"
        if k == 0:
            shutil.copy(f, p)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                s = CifParser(str(f)).parse_structures(primitive=False)[0]
            s.scale_lattice(s.volume * (1 + 1e-4 * k))
            CifWriter(s).write_file(p)
        out.append(p)
    return out


def run(n: int, jobs: int, work: Path, model: Path) -> dict:
    from perovscreen.pipeline.stages import BVSE, INGEST, ML, SINGLE_POINT

    files = make_inputs(n, work / f"in{n}")
    opts = RunOptions(db=str(work / f"r{n}.db"), jobs=jobs, executor="local" if jobs > 1 else "serial", quiet=True)
    times = {}
    ok = {}
    for stage, params in [(INGEST, INGEST.make()), (BVSE, BVSE.make(resolution=0.3, cutoff=10.0)),
                          (ML, ML.make(model_path=str(model))), (SINGLE_POINT, SINGLE_POINT.make(min_length=0.0))]:
        t0 = time.perf_counter()
        rows = execute_batch(stage, files, params, opts)
        times[stage.name] = time.perf_counter() - t0
        ok[stage.name] = sum(r["status"] == "ok" for r in rows)
    return {"n": n, "times": times, "ok": ok, "total": sum(times.values())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 80])
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="perovscreen-throughput-"))
    model = ensure_ml_model("", lambda m: print(m, file=sys.stderr))
    try:
        results = [run(n, args.jobs, work, model) for n in args.sizes]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stages = list(results[0]["times"])
    print("seconds per stage (structures ok)")
    print(f"{'N':>6} " + " ".join(f"{s:>18}" for s in stages) + f" {'total s':>9} {'s/structure':>12}")
    for r in results:
        cells = [f"{r['times'][s]:.1f} ({r['ok'][s]})" for s in stages]
        print(f"{r['n']:>6} " + " ".join(f"{c:>18}" for c in cells)
              + f" {r['total']:>9.1f} {r['total'] / r['n']:>12.2f}")
    n = np.array([r["n"] for r in results], float)
    t = np.array([r["total"] for r in results])
    slope, icpt = np.polyfit(n, t, 1)
    print(f"linear fit: {slope:.2f} s/structure + {icpt:.1f} s; extrapolated 1000 structures: "
          f"{(slope * 1000 + icpt) / 60:.1f} min on {args.jobs} workers (target <= 60 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
