"""`perovscreen relax | stability | predict-props | gnn train | gnn evaluate | gnn cv-conductivity`."""
from __future__ import annotations

import json
import sys

from perovscreen.errors import PerovscreenError


def _potential_args(p) -> None:
    p.add_argument("--potential", default="chgnet", choices=["chgnet", "sevenn", "matgl"],
                   help="universal potential (default chgnet)")
    p.add_argument("--model", default=None, help="SevenNet bundled model: 7net-0 (default) or 7net-l3i5")
    p.add_argument("--model-path", default=None, help="checkpoint file (chgnet/sevenn) or matgl model directory")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--fmax", type=float, default=0.05, help="force threshold, eV/A (default 0.05)")
    p.add_argument("--steps", type=int, default=300, help="maximum optimizer steps (default 300)")


def _calc_params(args) -> dict:
    d = {"calculator": args.potential, "device": args.device, "fmax": args.fmax, "steps": args.steps}
    if args.model:
        d["model"] = args.model
    if args.model_path:
        d["model_path"] = args.model_path
    return d


def add_parser(sub) -> None:
    from perovscreen.pipeline.batch import add_batch_arguments

    r = sub.add_parser("relax", help="relax structures with a universal potential (FIRE/BFGS + cell filter)")
    add_batch_arguments(r)
    _potential_args(r)
    r.add_argument("--optimizer", default="FIRE", choices=["FIRE", "BFGS"])
    r.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    r.set_defaults(func=cmd_relax)

    s = sub.add_parser("stability", help="energy above hull vs the shipped competing phases (same potential)")
    add_batch_arguments(s)
    _potential_args(s)
    s.add_argument("--entries", default=None, help="extra competing phases: JSON list of pymatgen ComputedEntry")
    s.add_argument("--no-references", action="store_true", help="use only --entries")
    s.add_argument("--no-relax", action="store_true", help="single point of the candidate as given")
    s.add_argument("--cache", default=None, help="reference cache dir (default ~/.cache/perovscreen/references)")
    s.set_defaults(func=cmd_stability)

    p = sub.add_parser("predict-props", help="formation heat and band gap from the trained graph networks")
    add_batch_arguments(p)
    p.add_argument("--model-dir", default=None, help="trained models (default ~/.cache/perovscreen/models/perov5_gnn)")
    p.add_argument("--archs", default=None, help="comma-separated architectures to use (default: every model there)")
    p.set_defaults(func=cmd_predict_props)

    g = sub.add_parser("gnn", help="graph property networks on Perov-5")
    gsub = g.add_subparsers(dest="gnn_command", required=True)
    t = gsub.add_parser("train", help="train and compare MEGNet, M3GNet, ALIGNN, CGCNN (PyG) vs a magpie forest")
    t.add_argument("--archs", default="cgcnn,megnet,m3gnet,alignn", help="comma-separated architectures")
    t.add_argument("--limit", type=int, default=None, help="random subset of cells (default: all 6,058)")
    t.add_argument("--size", choices=["tiny", "default"], default="default")
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--ensemble", type=int, default=1, help="members (seeds) per architecture")
    t.add_argument("--out", default=None, help="model directory (default ~/.cache/perovscreen/models/perov5_gnn)")
    t.add_argument("--data", default=None, help="data root containing perov5/ (default ../shared/data)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--time-limit-h", type=float, default=None,
                   help="stop after this many hours with a checkpoint (exit 3); the same command continues")
    t.add_argument("--json", action="store_true", help="print the comparison as JSON")
    t.set_defaults(func=cmd_gnn_train)
    e = gsub.add_parser("evaluate", help="test-split metrics of the saved ensemble and its spread calibration")
    e.add_argument("--model-dir", default=None, help="trained models (default ~/.cache/perovscreen/models/perov5_gnn)")
    e.add_argument("--archs", default=None, help="comma-separated architectures (default: every model there)")
    e.add_argument("--data", default=None, help="data root containing perov5/ (default ../shared/data)")
    e.add_argument("--seed", type=int, default=0, help="the --seed used for training (fixes the split)")
    e.add_argument("--limit", type=int, default=None, help="the --limit used for training")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_gnn_evaluate)
    c = gsub.add_parser("cv-conductivity", help="OBELiX conductivity: CHGNet embeddings + deep-ensemble MLP vs #4's "
                        "forests, composition-grouped CV")
    c.add_argument("--data", default=None, help="data root containing obelix/ (default ../shared/data)")
    c.add_argument("--seeds", type=int, default=3, help="repeats with different fold assignments")
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--limit", type=int, default=None, help="random subset of CIF rows")
    c.add_argument("--members", type=int, default=5, help="deep-ensemble size")
    c.add_argument("--epochs", type=int, default=300)
    c.add_argument("--n-estimators", type=int, default=None, help="forest trees (default 300)")
    c.add_argument("--cache", default=None, help="embedding cache (default ~/.cache/perovscreen/embeddings)")
    c.add_argument("--out", default=None, help="write the full result (folds, skipped rows) as JSON here")
    c.add_argument("--json", action="store_true", help="print the summary as JSON")
    c.set_defaults(func=cmd_gnn_cv_conductivity)


def _guard(fn, args) -> int:
    try:
        return fn(args)
    except PerovscreenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_relax(args) -> int:
    def run(a):
        from perovscreen.pipeline.batch import run_batch
        from perovscreen.potentials.tasks import relax_stage

        params = {**_calc_params(a), "optimizer": a.optimizer, "relax_cell": not a.fixed_cell}
        return run_batch(a, stage="relax", func=relax_stage, params=params)
    return _guard(run, args)


def cmd_stability(args) -> int:
    def run(a):
        from perovscreen.pipeline.batch import run_batch
        from perovscreen.potentials.calculators import get_calculator
        from perovscreen.potentials.stability import stability_stage

        params = _calc_params(a)
        get_calculator(params["calculator"], device=a.device, model=a.model, model_path=a.model_path)  # fail early
        params.update({"entries": a.entries, "use_references": not a.no_references,
                       "relax_candidate": not a.no_relax, "cache": a.cache})
        return run_batch(a, stage="stability", func=stability_stage, params=params)
    return _guard(run, args)


def cmd_predict_props(args) -> int:
    def run(a):
        from perovscreen.pipeline.batch import run_batch
        from perovscreen.potentials.gnn.predict import default_model_dir, predict_stage
        from perovscreen.potentials.gnn.store import find_models
        from perovscreen.ml.cards import read_card

        d = str(a.model_dir or default_model_dir())
        archs = sorted(x.strip() for x in a.archs.split(",") if x.strip()) if a.archs else None
        shas = [read_card(p)["sha256"][:16] for p in find_models(d, archs)]  # fail early; models enter the params hash
        return run_batch(a, stage="predict-props", func=predict_stage,
                         params={"model_dir": d, "models": shas, "archs": archs})
    return _guard(run, args)


def cmd_gnn_train(args) -> int:
    def run(a):
        from perovscreen.potentials.gnn.predict import default_model_dir
        from perovscreen.potentials.gnn.train import TrainingPaused, compare, table

        archs = [x.strip() for x in a.archs.split(",") if x.strip()]
        log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731 (stdout keeps the table/JSON)
        limit = None if a.time_limit_h is None else a.time_limit_h * 3600
        try:
            res = compare(archs, a.limit, a.size, a.epochs, a.ensemble, a.out or default_model_dir(), a.data,
                          a.seed, a.batch_size, log=log, time_limit=limit)
        except TrainingPaused as exc:
            print(f"paused: {exc}", file=sys.stderr)
            return 3
        print(json.dumps(res, indent=2) if a.json else table(res))
        return 0
    return _guard(run, args)


def cmd_gnn_evaluate(args) -> int:
    def run(a):
        from perovscreen.potentials.gnn.predict import evaluate_ensemble

        archs = [x.strip() for x in a.archs.split(",") if x.strip()] if a.archs else None
        res = evaluate_ensemble(a.model_dir, archs, a.data, a.seed, a.limit)
        if a.json:
            print(json.dumps(res, indent=1))
            return 0
        for name, m in {**res["members"], "ensemble": res["ensemble"]}.items():
            print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
        return 0
    return _guard(run, args)


def cmd_gnn_cv_conductivity(args) -> int:
    def run(a):
        from pathlib import Path

        from perovscreen.potentials.gnn.conductivity import cross_validate_conductivity, format_cv

        log = (lambda *_: None) if a.json else (lambda m: print(m, file=sys.stderr, flush=True))
        res = cross_validate_conductivity(a.data, tuple(range(a.seeds)), a.folds, a.limit, a.cache,
                                          n_members=a.members, epochs=a.epochs, n_estimators=a.n_estimators,
                                          progress=log)
        if a.out:
            Path(a.out).write_text(json.dumps(res, indent=1, default=float))
        print(json.dumps(res["summary"], indent=1) if a.json else format_cv(res))
        return 0
    return _guard(run, args)
