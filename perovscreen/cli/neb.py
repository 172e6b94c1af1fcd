"""`perovscreen neb CIFs... --potential chgnet|sevenn|gpaw|espresso` and `perovscreen neb compare`.

Flags come from `perovscreen.neb.settings.NebParams`; `compare` takes the same flags (every column uses
them, with its own potential) plus --potentials and --examples."""
from __future__ import annotations

import json
import sys

from perovscreen.cli.common import guarded, run_stage_batch


def add_parser(sub) -> None:
    from perovscreen.jobs.runner import add_batch_arguments
    from perovscreen.jobs.stage import add_param_arguments
    from perovscreen.neb.compare import EXAMPLES
    from perovscreen.neb.settings import NebParams

    p = sub.add_parser("neb", help="climbing-image NEB of Li hops (uMLIP or DFT); 'neb compare': the "
                                   "BVSE / uMLIP / DFT / published barrier table")
    add_batch_arguments(p)
    p.epilog = "paths: structure files, or the word 'compare' (then optional extra structure files)"
    add_param_arguments(p, NebParams)
    p.add_argument("--potentials", default="chgnet,sevenn",
                   help="compare: comma-separated columns (chgnet, sevenn, gpaw, espresso)")
    p.add_argument("--examples", default=",".join(EXAMPLES), help="compare: built-in examples to include")
    p.add_argument("--published", default=None, metavar="CSV",
                   help="compare: reference barriers of the extra structure files, a CSV with 'id' (the file's "
                        "stem) and 'activation_energy_eV' columns, e.g. ../shared/data/obelix/obelix_train.csv")
    p.set_defaults(func=_handler)


@guarded
def _handler(args) -> int:
    from perovscreen.neb.stage import NEB_STAGE

    params = NEB_STAGE.from_args(args)
    if args.paths[0] == "compare":
        return _compare(args, params)
    NEB_STAGE.identities(params)  # a missing weight file or pseudopotential fails before the batch
    return run_stage_batch(NEB_STAGE, args, params)


def _compare(args, params) -> int:
    from perovscreen.core.errors import InputError
    from perovscreen.jobs.runner import RunOptions
    from perovscreen.neb.compare import compare, format_table, load_published
    from perovscreen.neb.settings import POTENTIALS
    from perovscreen.structures.examples import list_examples

    pots = [x.strip() for x in args.potentials.split(",") if x.strip()]
    bad = [x for x in pots if x not in POTENTIALS]
    if bad:
        raise InputError(f"--potentials: unknown {', '.join(bad)} (known: {', '.join(POTENTIALS)})")
    examples = [x.strip() for x in args.examples.split(",") if x.strip()]
    unknown = [x for x in examples if x not in list_examples()]
    if unknown:
        raise InputError(f"--examples: unknown {', '.join(unknown)} (known: {', '.join(list_examples())})")
    opts = RunOptions.from_args(args)
    opts.quiet = opts.quiet or opts.json
    opts.json = False  # the table (or its JSON lines) is the output, not one line per run
    published = load_published(args.published) if args.published else None
    res = compare(pots, examples, args.paths[1:], params, opts, published)
    if args.json:
        for row in res["rows"]:
            print(json.dumps(row), flush=True)
        print(json.dumps({"metrics": res["metrics"], "best_published_umlip_mae_vs_dft":
                          res["best_published_umlip_mae_vs_dft"]}))
    else:
        print(format_table(res, pots))
    ok = any(r.get(p) is not None for r in res["rows"] for p in pots)
    if not ok:
        print("error: no NEB succeeded", file=sys.stderr)
    return 0 if ok else 1
