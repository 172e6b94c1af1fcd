"""`perovscreen ml train|cv|predict`."""
from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

from perovscreen.errors import InputError, PerovscreenError

TARGET_CHOICES = ("log10_sigma", "Ea", "n_li_sites")


def _targets(text: str) -> list[str]:
    ts = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in ts if t not in TARGET_CHOICES]
    if bad or not ts:
        raise InputError(f"--target: unknown {bad or text!r}; choose from {','.join(TARGET_CHOICES)}")
    return ts


def _data_args(p) -> None:
    p.add_argument("--target", default=",".join(TARGET_CHOICES), help="comma-separated targets")
    p.add_argument("--model", choices=["rf", "gbm"], default="rf", help="random forest or LightGBM")
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
    c.add_argument("--out-dir", default=None, help="write cv.json and parity PNGs here")
    c.add_argument("--json", action="store_true", help="print the summary as JSON")
    c.set_defaults(func=cmd_cv)
    from perovscreen.pipeline.batch import add_batch_arguments

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


def _run(fn, args) -> int:
    try:
        return fn(args)
    except PerovscreenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def cmd_train(args) -> int:
    return _run(_train, args)


def _train(args) -> int:
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


def cmd_cv(args) -> int:
    return _run(_cv, args)


def _cv(args) -> int:
    from perovscreen.ml.evaluate import cross_validate, format_table
    from perovscreen.ml.plots import parity_plot
    from perovscreen.ml.train import usable_features

    table = _table(args)
    targets = _targets(args.target)
    res = cross_validate(table, targets, usable_features(table, args.structures), args.model,
                         seeds=tuple(range(args.seeds)), n_splits=args.folds, multi_output=args.multi_output,
                         n_estimators=args.n_estimators,
                         progress=lambda m: print(m, file=sys.stderr, flush=True))
    title = (f"grouped {args.folds}-fold CV x {args.seeds} seeds, {args.model}, "
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


def cmd_predict(args) -> int:
    return _run(_predict, args)


def _predict(args) -> int:
    from perovscreen.ml.train import default_model_path, load_property_model

    comp_files = [p for p in args.paths if _is_compositions_file(p)]
    structs = [p for p in args.paths if p not in comp_files]
    path = args.model_path
    rc = 0
    if comp_files:
        model, card = load_property_model(path or default_model_path("composition"))
        rc = _predict_compositions(args, comp_files, model, card)
    if structs:
        from perovscreen.pipeline.batch import run_batch
        from perovscreen.ml.predict import ml_stage

        mp = str(path or default_model_path("structure"))
        if not path and not Path(mp).is_file():
            mp = str(default_model_path("composition"))
        _, card = load_property_model(mp)  # fail early, before the batch
        params = {"model_path": mp, "model_sha256": card["sha256"], "cache": args.cache or args.db}
        rc = max(rc, run_batch(args, stage="ml", func=ml_stage, params=params))
    return rc


def _predict_compositions(args, files, model, card) -> int:
    import hashlib

    from perovscreen.ml.dataset import composition_group
    from perovscreen.ml.predict import predict_formulas, read_compositions
    from perovscreen.pipeline.batch import emit_json
    from perovscreen.provenance import params_hash, provenance
    from perovscreen.store import RunRecord, open_store

    params = {"stage": "ml", "input": "composition", "model_sha256": card["sha256"]}
    phash = params_hash(params)
    n_err = 0
    with open_store(args.db) as store:
        for f in files:
            entries = read_compositions(f)
            fh = hashlib.sha256(Path(f).read_bytes()).hexdigest()
            for p in predict_formulas(model, entries, units=card.get("units"), file=f):
                d = p.to_dict()
                n_err += p.status != "ok"
                try:
                    key = "composition:" + composition_group(p.formula)
                except InputError:
                    key = f"composition-error:{fh}:{p.id}"
                store.put_structure({"key": key, "id": p.id, "file": f, "file_hash": fh, "formula": p.formula,
                                     "ion": args.ion, "error": p.error})
                store.put_run(RunRecord(key, "ml", phash, p.status, {"predictions": d["predictions"]}, p.error,
                                        "input" if p.error else None, 0.0, params,
                                        provenance(params, inputs={f: fh})))
                if args.json:
                    emit_json(d)
                elif p.status == "ok":
                    txt = "  ".join(f"{t}={v['value']:.3g} [{v['lower']:.3g}, {v['upper']:.3g}]"
                                    for t, v in d["predictions"].items())
                    print(f"{p.id}\t{p.formula}\t{txt}")
                else:
                    print(f"{p.id}\terror: {p.error}", file=sys.stderr)
    if n_err and not args.quiet:
        print(f"ml predict: {n_err} compositions failed", file=sys.stderr)
    return 0
