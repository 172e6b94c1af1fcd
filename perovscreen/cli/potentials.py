"""`perovscreen relax | stability | predict-props | gnn train | gnn transfer | gnn calibrate | gnn evaluate |
gnn cv-conductivity`."""
from __future__ import annotations

import json
import sys

from perovscreen.cli.common import guarded, run_stage_batch


def add_parser(sub) -> None:
    from perovscreen.jobs.runner import add_batch_arguments
    from perovscreen.jobs.stage import add_param_arguments
    from perovscreen.ml.gnn.predict import PropsParams
    from perovscreen.potentials.stage import RelaxParams, StabilityParams

    r = sub.add_parser("relax", help="relax structures with a universal potential (FIRE/BFGS + cell filter)")
    add_batch_arguments(r)
    add_param_arguments(r, RelaxParams)
    r.set_defaults(func=cmd_relax)

    s = sub.add_parser("stability", help="energy above hull vs the shipped competing phases (same potential)")
    add_batch_arguments(s)
    add_param_arguments(s, StabilityParams)
    s.set_defaults(func=cmd_stability)

    p = sub.add_parser("predict-props", help="formation heat and band gap from the graph networks (shipped or yours)")
    add_batch_arguments(p)
    add_param_arguments(p, PropsParams)
    p.set_defaults(func=cmd_predict_props)

    g = sub.add_parser("gnn", help="graph property networks on Perov-5")
    gsub = g.add_subparsers(dest="gnn_command", required=True)
    t = gsub.add_parser("train", help="train and compare MEGNet, M3GNet, ALIGNN, CGCNN (PyG) vs a magpie forest")
    t.add_argument("--archs", default="cgcnn,megnet,m3gnet,alignn", help="comma-separated architectures")
    t.add_argument("--limit", type=int, default=None, help="random subset of cells (default: all 6,058)")
    t.add_argument("--size", choices=["tiny", "default"], default="default")
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--cutoff", type=float, default=5.0, help="neighbour cutoff of the graphs (A)")
    t.add_argument("--no-baseline", action="store_true", help="skip the magpie forest comparison")
    t.add_argument("--ensemble", type=int, default=1, help="members (seeds) per architecture")
    t.add_argument("--out", default=None, help="model directory (default ~/.cache/perovscreen/models/perov5_gnn)")
    t.add_argument("--data", default=None, help="data root containing perov5/ (default ../shared/data)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--time-limit-h", type=float, default=None,
                   help="stop after this many hours with a checkpoint (exit 3); the same command continues")
    t.add_argument("--target-recall", type=float, default=0.9, help="non-metal recall the calibration aims at")
    t.add_argument("--json", action="store_true", help="print the comparison as JSON")
    t.set_defaults(func=cmd_gnn_train)
    x = gsub.add_parser("transfer", help="fit the CHGNet-transfer member (frozen CHGNet features, fitted elemental "
                        "energies, boosted trees; ~2 min) into a model directory, then calibrate that directory")
    x.add_argument("--out", default=None, help="model directory (default ~/.cache/perovscreen/models/perov5_gnn)")
    _split_options(x)
    x.add_argument("--target-recall", type=float, default=0.9, help="non-metal recall the calibration aims at")
    x.set_defaults(func=cmd_gnn_transfer)
    k = gsub.add_parser("calibrate", help="fit the ensemble's 90%% intervals and non-metal threshold on the "
                        "validation cells (gnn train does this at its end); writes calibration.json")
    k.add_argument("--model-dir", default=None, help="models (default: yours in the cache, else the shipped ones)")
    _split_options(k)
    k.add_argument("--target-recall", type=float, default=0.9)
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_gnn_calibrate)
    e = gsub.add_parser("evaluate", help="test-split metrics of the saved ensemble and its spread calibration")
    e.add_argument("--model-dir", default=None, help="models (default: yours in the cache, else the shipped ones)")
    e.add_argument("--archs", default=None, help="comma-separated architectures (default: every model there)")
    _split_options(e)
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


@guarded
def cmd_relax(args) -> int:
    from perovscreen.potentials.stage import RELAX

    return _run_checked(RELAX, args)


@guarded
def cmd_stability(args) -> int:
    from perovscreen.potentials.stage import STABILITY

    return _run_checked(STABILITY, args)


@guarded
def cmd_predict_props(args) -> int:
    from perovscreen.ml.gnn.predict import PROPS

    return _run_checked(PROPS, args)


def _split_options(p) -> None:
    """--data/--seed/--limit of the commands that re-derive the formula split the networks were trained on."""
    p.add_argument("--data", default=None, help="data root containing perov5/ (default ../shared/data)")
    p.add_argument("--seed", type=int, default=0, help="the --seed used for training (fixes the split)")
    p.add_argument("--limit", type=int, default=None, help="the --limit used for training")


def _run_checked(stage, args) -> int:
    """Resolve the stage's models and weights first (a missing or bad file fails before the batch)."""
    params = stage.from_args(args)
    stage.identities(params)
    return run_stage_batch(stage, args, params)


@guarded
def cmd_gnn_train(a) -> int:
    from perovscreen.ml.gnn.predict import default_model_dir
    from perovscreen.ml.gnn.train import TrainingPaused, compare, table

    archs = [x.strip() for x in a.archs.split(",") if x.strip()]
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731 (stdout keeps the table/JSON)
    limit = None if a.time_limit_h is None else a.time_limit_h * 3600
    try:
        res = compare(archs, a.limit, a.size, a.epochs, a.ensemble, a.out or default_model_dir(), a.data,
                      a.seed, a.batch_size, log=log, time_limit=limit, command=_train_command(a),
                      cutoff=a.cutoff, baseline=not a.no_baseline)
    except TrainingPaused as exc:
        print(f"paused: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(res, indent=2) if a.json else table(res))
    if set(res["results"]) - {"trivial", "forest_magpie"}:  # networks were trained: calibrate the ensemble
        from perovscreen.ml.gnn.calibrate import calibrate, summary

        log(summary(calibrate(a.out or default_model_dir(), a.data, a.seed, a.limit, a.target_recall, log=log)))
    return 0


@guarded
def cmd_gnn_transfer(a) -> int:
    from perovscreen.ml.gnn.calibrate import calibrate, summary
    from perovscreen.ml.gnn.predict import default_model_dir
    from perovscreen.ml.gnn.transfer import train_transfer

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    out = a.out or default_model_dir()
    command = f"perovscreen gnn transfer --seed {a.seed}" + (f" --limit {a.limit}" if a.limit else "")
    train_transfer(out, a.data, a.seed, a.limit, command, log)
    print(summary(calibrate(out, a.data, a.seed, a.limit, a.target_recall, log=log)))
    return 0


@guarded
def cmd_gnn_calibrate(a) -> int:
    from perovscreen.ml.gnn.calibrate import calibrate, summary

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    cal = calibrate(a.model_dir, a.data, a.seed, a.limit, a.target_recall, log=log)
    print(json.dumps(cal, indent=1, default=float) if a.json else summary(cal))
    return 0


def _train_command(a) -> str:
    """The command that reproduces these models (stored in each card; paths and the time limit left out)."""
    return (f"perovscreen gnn train --archs {a.archs} --size {a.size} --epochs {a.epochs} --batch-size "
            f"{a.batch_size} --cutoff {a.cutoff:g} --ensemble {a.ensemble} --seed {a.seed}"
            + (f" --limit {a.limit}" if a.limit else ""))


@guarded
def cmd_gnn_evaluate(a) -> int:
    from perovscreen.ml.gnn.predict import evaluate_ensemble

    archs = [x.strip() for x in a.archs.split(",") if x.strip()] if a.archs else None
    res = evaluate_ensemble(a.model_dir, archs, a.data, a.seed, a.limit)
    if a.json:
        print(json.dumps(res, indent=1))
        return 0
    print(f"models: {res['model_dir']} ({'calibrated' if res['calibrated'] else 'no calibration for these members'})")
    for name, m in {**res["members"], "ensemble": res["ensemble"]}.items():
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items()))
    return 0


@guarded
def cmd_gnn_cv_conductivity(a) -> int:
    from pathlib import Path

    from perovscreen.ml.gnn.conductivity import cross_validate_conductivity, format_cv

    log = (lambda *_: None) if a.json else (lambda m: print(m, file=sys.stderr, flush=True))
    res = cross_validate_conductivity(a.data, tuple(range(a.seeds)), a.folds, a.limit, a.cache,
                                      n_members=a.members, epochs=a.epochs, n_estimators=a.n_estimators,
                                      progress=log)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1, default=float))
    print(json.dumps(res["summary"], indent=1) if a.json else format_cv(res))
    return 0
