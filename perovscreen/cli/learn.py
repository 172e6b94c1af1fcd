"""`perovscreen learn run`: a live campaign (stages as the oracle); `perovscreen learn replay`: replay
acquisition policies against a measured table (docs/learn.md)."""
from __future__ import annotations

import json
import sys

from perovscreen.cli.common import guarded


def add_parser(sub) -> None:
    from perovscreen.jobs.stage import add_param_arguments
    from perovscreen.learn.replay import ReplayParams

    from perovscreen.learn.live import LearnParams

    p = sub.add_parser("learn", help="active learning: live campaigns and replays of policies")
    lsub = p.add_subparsers(dest="learn_command", required=True)
    run = lsub.add_parser("run", help="a live campaign: each cycle refits the surrogates, picks a batch and runs "
                          "the objective stages on it; rerun to continue (nothing finished is recomputed)")
    run.add_argument("paths", nargs="*", help="candidate structure files or folders")
    run.add_argument("--space", default=None, help="chemical space file: candidates built from its best compositions")
    run.add_argument("--db", default=None, help="results store (default <out>/perovscreen.db)")
    run.add_argument("--jobs", "-j", type=int, default=1, help="parallel workers (default 1)")
    run.add_argument("--executor", choices=["local", "ray", "serial"], default="local")
    run.add_argument("--address", default=None, help="Ray address")
    run.add_argument("--task-timeout", dest="task_timeout_s", type=float, default=None, metavar="SECONDS",
                     help="stop a calculation after this wall time; it is recorded as failed")
    add_param_arguments(run, LearnParams)
    run.set_defaults(func=cmd_run)
    r = lsub.add_parser("replay", help="a table with formulas (or CIF paths) and a target as an after-the-fact "
                        "oracle: fraction of the top 1%%/10%% found, first hit, enhancement over random")
    r.add_argument("--csv", required=True, help="table with a formula (or CIF path) column and the target")
    r.add_argument("--target", required=True, help="target column")
    r.add_argument("--minimize", action="store_true", help="lower is better (default: higher)")
    r.add_argument("--features", choices=["composition", "structure"], default="composition")
    r.add_argument("--group-by", choices=["formula", "none"], default="formula",
                   help="one item per reduced composition (median target) or one per row")
    r.add_argument("--formula-column", default=None, help="formula column (default: formula/composition)")
    add_param_arguments(r, ReplayParams)
    r.add_argument("--json", action="store_true", help="print one JSON object per policy")
    r.add_argument("--plot", default=None, help="write the found-vs-queries PNG here")
    r.add_argument("--out", default=None, help="write the whole report (JSON, with query orders) here")
    r.set_defaults(func=cmd_replay)


@guarded
def cmd_run(args) -> int:
    from pathlib import Path

    from perovscreen.jobs.runner import RunOptions
    from perovscreen.jobs.stage import params_from_args
    from perovscreen.learn.live import LearnParams, run_campaign

    params = params_from_args(LearnParams, args, "learn")
    opts = RunOptions(db=args.db or str(Path(params.out) / "perovscreen.db"), jobs=args.jobs,
                      executor=args.executor, address=args.address, quiet=True, task_timeout_s=args.task_timeout_s)
    state = run_campaign(args.paths, args.space, params, opts)
    print(f"{len(state['cycles'])} cycles, {sum(len(c['picks']) for c in state['cycles'])} calculations, "
          f"{sum(state['spent'].values()) / 3600:.3f} CPU-hours; report {state['report']['markdown']}")
    return 0


@guarded
def cmd_replay(args) -> int:
    from perovscreen.jobs.stage import params_from_args
    from perovscreen.learn.oracle import load_oracle
    from perovscreen.learn.replay import ReplayParams, format_report, run_replay

    params = params_from_args(ReplayParams, args, "replay")
    oracle = load_oracle(args.csv, args.target, args.minimize, args.features, args.group_by, args.formula_column)
    progress = None if args.json else (lambda pol, s: print(f"  {pol}: {s:.1f} s", file=sys.stderr, flush=True))
    report = run_replay(oracle, params, progress=progress)
    if args.json:
        for p in report.policies:
            d = p.to_dict()
            d.pop("orders")
            d.pop("curves")
            d.update(target=report.target, items=report.items, top_k=report.top_k)
            print(json.dumps(d))
    else:
        print(format_report(report))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report.to_dict(), fh)
    if args.plot:
        from perovscreen.learn.plots import plot_found

        plot_found(report, args.plot)
        if not args.json:
            print(f"plot: {args.plot}")
    return 0
