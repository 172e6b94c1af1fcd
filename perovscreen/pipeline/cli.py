"""`perovscreen screen`: the funnel from CIFs or a chemical space to a ranked report."""
from __future__ import annotations

import sys


def add_parser(sub) -> None:
    p = sub.add_parser("screen", help="run the screening funnel on CIFs and/or a chemical space")
    p.add_argument("paths", nargs="*", help="structure files, directories or globs")
    p.add_argument("--space", default=None, help="chemical space definition (YAML or TOML)")
    p.add_argument("--config", default=None, help="screening configuration (TOML)")
    p.add_argument("--out", default=None, help="output directory (overrides [run] out)")
    p.add_argument("--jobs", "-j", type=int, default=None, help="parallel workers (overrides [run] jobs)")
    p.add_argument("--json", action="store_true", help="print one JSON object per ranked candidate")
    p.set_defaults(func=_screen)


def _screen(args) -> int:
    from perovscreen.errors import InputError
    from perovscreen.pipeline.batch import emit_json
    from perovscreen.pipeline.config import load_config
    from perovscreen.pipeline.funnel import run_screen

    if not args.paths and not args.space:
        print("error: give structure files and/or --space", file=sys.stderr)
        return 2
    try:
        cfg = load_config(args.config)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        cfg["run"]["out"] = args.out
    if args.jobs:
        cfg["run"]["jobs"] = args.jobs
    try:
        res = run_screen(args.paths, args.space, cfg)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for c in res["ranked"]:
            emit_json(c.to_dict())
    return 0
