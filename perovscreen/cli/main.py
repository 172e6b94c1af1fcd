"""The `perovscreen` command line: a thin layer over the Python API.

Each stage's commands live beside this module (`cli/<stage>.py: add_parser(sub)`).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from perovscreen import __version__
from perovscreen.cli.common import guarded, run_stage_batch

STAGE_CLIS = ("bvse", "ml", "potentials", "md", "mesoscale", "dft", "neb", "advanced", "screen", "jobs", "learn",
              "dashboard")


@guarded
def _ingest(args) -> int:
    from perovscreen.jobs.runner import INGEST

    return run_stage_batch(INGEST, args)


@guarded
def _export(args) -> int:
    from perovscreen.core.errors import InputError
    from perovscreen.store import export_runs, open_store

    if not Path(args.db).is_file():
        raise InputError(f"no results store at {args.db}")
    if args.output and Path(args.output).is_dir():
        raise InputError(f"{args.output}: is a directory (give a file name for --output)")
    with open_store(args.db) as store:
        text = export_runs(store.runs(args.stage), args.format)
    if args.output:
        try:
            Path(args.output).parent.mkdir(parents=True, exist_ok=True)
            Path(args.output).write_text(text)
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


@guarded
def _examples(args) -> int:
    from perovscreen.structures.examples import EXAMPLES, write_examples

    if args.write:
        for p in write_examples(args.write):
            print(p)
        return 0
    for ex in EXAMPLES.values():
        print(f"{ex.name:16s} {ex.description}\n{'':16s} {ex.citation}")
    return 0


@guarded
def _order(args) -> int:
    import json

    from perovscreen.structures.intake import load_file
    from perovscreen.structures.ordering import ordered_supercell

    rec = load_file(args.file, ion=args.ion)[0]
    if rec.error:
        print(f"error: {rec.error}", file=sys.stderr)
        return 1
    out, report = ordered_supercell(rec.structure, args.min_length, args.seed)
    out.to(filename=args.output)
    print(json.dumps(report.to_dict(), indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from perovscreen.jobs.runner import add_batch_arguments
    from perovscreen.store import DEFAULT_DB

    parser = argparse.ArgumentParser(prog="perovscreen", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"perovscreen {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="read, validate and register structures (CIF, POSCAR, ...)")
    add_batch_arguments(p)
    p.set_defaults(func=_ingest)

    p = sub.add_parser("results", help="inspect the results store")
    rsub = p.add_subparsers(dest="results_command", metavar="ACTION", required=True)
    e = rsub.add_parser("export", help="export stored runs as CSV or JSON")
    e.add_argument("--format", choices=["csv", "json"], default="csv")
    e.add_argument("--stage", default=None, help="only runs of this stage")
    e.add_argument("--db", default=DEFAULT_DB)
    e.add_argument("--output", "-o", default=None, help="file to write (default stdout)")
    e.set_defaults(func=_export)

    p = sub.add_parser("examples", help="list the built-in example structures or write them as CIFs")
    p.add_argument("--write", metavar="DIR", default=None, help="write every example as DIR/<name>.cif")
    p.set_defaults(func=_examples)

    p = sub.add_parser("order", help="seeded ordered supercell of a disordered structure")
    p.add_argument("file")
    p.add_argument("--min-length", type=float, default=10.0, help="minimum perpendicular cell width (A)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ion", default="Li")
    p.add_argument("--output", "-o", default="ordered.cif")
    p.set_defaults(func=_order)

    for name in STAGE_CLIS:
        importlib.import_module(f"perovscreen.cli.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
