"""`perovscreen screen` (the funnel from CIFs or a chemical space to a ranked report) and `perovscreen demo`."""
from __future__ import annotations

import sys

from perovscreen.cli.common import guarded


def add_parser(sub) -> None:
    p = sub.add_parser("screen", help="run the screening funnel on CIFs and/or a chemical space")
    p.add_argument("paths", nargs="*", help="structure files, directories or globs")
    p.add_argument("--space", default=None, help="chemical space definition (YAML or TOML)")
    p.add_argument("--config", default=None, help="screening configuration (TOML; keys in docs/defaults.md)")
    p.add_argument("--out", default=None, help="output directory (overrides [run] out)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers (overrides [run] jobs)")
    p.add_argument("--json", action="store_true", help="print one JSON object per ranked candidate")
    p.set_defaults(func=_screen)

    d = sub.add_parser("demo", help="run the main job on the built-in examples and write a report")
    d.add_argument("--out", default="results", help="output directory (default results/)")
    d.add_argument("--jobs", "-j", type=int, default=2)
    d.add_argument("--config", default=None, help="funnel configuration (TOML; default: the demo's own)")
    d.set_defaults(func=_demo)


@guarded
def _screen(args) -> int:
    from perovscreen.jobs.runner import emit_json
    from perovscreen.pipeline.config import load_config
    from perovscreen.pipeline.funnel import run_screen
    from perovscreen.report.report import write_report

    if not args.paths and not args.space:
        print("error: give structure files and/or --space", file=sys.stderr)
        return 2
    cfg = load_config(args.config)
    if args.out:
        cfg["run"]["out"] = args.out
    if args.jobs:
        cfg["run"]["jobs"] = args.jobs
    res = run_screen(args.paths, args.space, cfg)
    report = write_report(res)
    print(f"[screen] report: {report} ({res.seconds:.1f} s)", file=sys.stderr)
    if args.json:
        for c in res.ranked:
            emit_json(c.to_dict())
    return 0


@guarded
def _demo(args) -> int:
    from perovscreen.report.demo import run_demo

    return run_demo(args.out, jobs=args.jobs, config=args.config)
