"""`perovscreen ml train|cv|predict`."""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from perovscreen.cli.common import guarded, run_stage_batch
from perovscreen.core.errors import InputError

TARGET_CHOICES = ("log10_sigma", "Ea", "n_li_sites")


def _targets(text: str) -> list[str]:
    ts = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in ts if t not in TARGET_CHOICES]
    if bad or not ts:
        raise InputError(f"--target: unknown {bad or text!r}; choose from {','.join(TARGET_CHOICES)}")
    return ts


def _data_args(p) -> None:
    p.add_argument("--target", default=",".join(TARGET_CHOICES), help="comma-separated targets")
    p.add_argument("--model", choices=["rf", "gbm"], default="gbm",
                   help="LightGBM (default: beats magpie + RF on the cluster split) or random forest")
    p.add_argument("--structures", action="store_true", help="composition + structure descriptors (CIF rows)")
    p.add_argument("--multi-output", action="store_true", help="one multi-output model for all targets")
    p.add_argument("--with-liverpool", action="store_true", help="add Liverpool near-RT rows (composition only)")
    p.add_argument("--data", default=None, help="data root (default $PEROVSCREEN_DATA or ../shared/data)")
    p.add_argument("--no-bvse", action="store_true", help="skip BVSE barrier descriptors")
    p.add_argument("--n-estimators", type=int, default=None, help="trees (default rf 100, gbm 400)")
    p.add_argument("--cache", default=None, help="descriptor cache: a directory or a results store (.db); default "
                   "~/.cache/perovscreen/descriptors")


def add_parser(sub) -> None:
    p = sub.add_parser("ml", help="ML property models: train, cross-validate, predict with 90%% intervals")
    msub = p.add_subparsers(dest="ml_command", required=True)
    t = msub.add_parser("train", help="train on OBELiX and save the model with its model card")
    _data_args(t)
    t.add_argument("--out", default=None, help="model file (.skops; default ~/.cache/perovscreen/models)")
    t.add_argument("--plots", default=None, help="directory for the feature-importance PNG")
    t.set_defaults(func=cmd_train)
    c = msub.add_parser("cv", help="composition-grouped nested CV vs mean and magpie+RF baselines")
    _data_args(c)
    c.add_argument("--seeds", type=int, default=3, help="repeats with different fold assignments")
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--split", choices=["composition", "cluster"], default="composition",
                   help="groups kept whole in a fold: reduced composition (easy) or leave-cluster-out by paper "
                        "and near-duplicate composition (hard, as OBELiX's official split)")
    c.add_argument("--out-dir", default=None, help="write cv.json and parity PNGs here")
    c.add_argument("--json", action="store_true", help="print the summary as JSON")
    c.set_defaults(func=cmd_cv)
    from perovscreen.jobs.runner import add_batch_arguments

    pr = msub.add_parser("predict", help="predict from compositions.json files or structure files")
    add_batch_arguments(pr)
    pr.add_argument("--model-path", default=None, help="trained model (.skops with its .card.json)")
    pr.add_argument("--cache", default=None, help="descriptor cache: a directory, or a results store (.db); "
                    "default: the --db store")
    pr.set_defaults(func=cmd_predict)


def _table(args):
    from perovscreen.features.descriptors import DiskCache, open_cache
    from perovscreen.ml.dataset import obelix_table

    cache = (open_cache(args.cache) or DiskCache()) if args.structures else None
    return obelix_table(args.data, structures=args.structures, bvse=not args.no_bvse, cache=cache,
                        with_liverpool=args.with_liverpool)


@guarded
def cmd_train(args) -> int:
    from perovscreen.ml.plots import importance_plot
    from perovscreen.ml.train import default_model_path, save_property_model, train_model

    table = _table(args)
    model, card = train_model(table, _targets(args.target), args.model, args.structures, args.multi_output,
                              args.n_estimators)
    out = Path(args.out) if args.out else default_model_path(card["descriptor_set"])
    save_property_model(model, card, out)
    print(f"saved {out} ({card['descriptor_set']} descriptors, {len(model.features)} features, targets "
          f"{','.join(model.targets)})", file=sys.stderr)
    if args.plots:
        Path(args.plots).mkdir(parents=True, exist_ok=True)
        for h in model.heads:
            with warnings.catch_warnings():  # sklearn's forest importances warn about joblib config
                warnings.simplefilter("ignore")
                imp = getattr(h["estimator"], "feature_importances_", None)
            if imp is not None:
                name = "_".join(h["targets"])
                importance_plot(model.features, imp, Path(args.plots) / f"importance_{name}.png",
                                f"{card['name']}: {name}")
    return 0


@guarded
def cmd_cv(args) -> int:
    from perovscreen.ml.evaluate import cross_validate, format_table
    from perovscreen.ml.plots import parity_plot
    from perovscreen.ml.train import usable_features

    table = _table(args)
    targets = _targets(args.target)
    res = cross_validate(table, targets, usable_features(table, args.structures), args.model,
                         seeds=tuple(range(args.seeds)), n_splits=args.folds, multi_output=args.multi_output,
                         n_estimators=args.n_estimators, split=args.split,
                         progress=lambda m: print(m, file=sys.stderr, flush=True))
    title = (f"{args.split}-grouped {args.folds}-fold CV x {args.seeds} seeds, {args.model}, "
             f"{'structure+composition' if args.structures else 'composition'} descriptors")
    if args.json:
        print(json.dumps(res["summary"], indent=1))
    else:
        print(format_table(res["summary"], title))
    if args.out_dir:
        out = Path(args.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "cv.json").write_text(json.dumps({"title": title, "summary": res["summary"],
                                                 "folds": res["folds"]}, indent=1))
        for method, per_t in res["oof"].items():
            for t, (y, yhat) in per_t.items():
                if len(y):
                    parity_plot(y, yhat, out / f"parity_{method}_{t}.png", f"{method} {t}")
    return 0


def _is_compositions_file(path: str) -> bool:
    """A .json input is a compositions file unless it is a serialised pymatgen structure."""
    if not path.endswith(".json") or not Path(path).is_file():
        return False
    try:
        data = json.loads(Path(path).read_text())
    except ValueError:
        return True  # malformed: read_compositions reports it
    return not (isinstance(data, dict) and ("lattice" in data or "@module" in data))


@guarded
def cmd_predict(args) -> int:
    from perovscreen.ml.stage import ML, ML_COMPOSITIONS, model_file

    comp_files = [p for p in args.paths if _is_compositions_file(p)]
    structs = [p for p in args.paths if p not in comp_files]
    rc = 0
    if comp_files:
        rc = _predict_compositions(args, comp_files, ML_COMPOSITIONS.make(model_path=args.model_path or ""))
    if structs:
        params = ML.make(model_path=args.model_path or "", descriptors="structure", cache=args.cache or args.db)
        if not args.model_path and not model_file(params).is_file():
            params = ML.make(cache=args.cache or args.db)
        ML.identities(params)  # fail early (missing model), before the batch
        rc = max(rc, run_stage_batch(ML, argparse.Namespace(**{**vars(args), "paths": structs}), params))
    return rc


def _predict_compositions(args, files, params) -> int:
    from perovscreen.core.hashing import file_sha256
    from perovscreen.jobs.runner import RunOptions, run_compositions
    from perovscreen.ml.predict import read_compositions
    from perovscreen.ml.stage import ML_COMPOSITIONS

    def text(rows):  # human-readable lines (use --json for big batches)
        for line, err in zip(rows.lines, rows.errors):
            if err:
                print(f"error: {err}", file=sys.stderr)
                continue
            d = json.loads(line)
            txt = "  ".join(f"{t}={v['value']:.3g} [{v['lower']:.3g}, {v['upper']:.3g}]"
                            for t, v in d["predictions"].items())
            print(f"{d['id']}\t{d['formula']}\t{txt}")

    n_err = 0
    for f in files:
        counts = run_compositions(ML_COMPOSITIONS, read_compositions(f), params, RunOptions.from_args(args),
                                  file=f, file_hash=file_sha256(f), emit=None if args.json else text)
        n_err += counts["error"]
    if n_err and not args.quiet:
        print(f"ml predict: {n_err} compositions failed", file=sys.stderr)
    return 0
