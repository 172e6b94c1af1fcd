"""`perovscreen dashboard`: serve the read-only results dashboard (Dash) on 127.0.0.1 by default."""
from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("dashboard", help="browse screening results (Pareto probabilities, intervals, "
                                         "counterfactuals) in a browser, read-only")
    p.add_argument("--db", default="results/perovscreen.db", help="results store (ranking.json beside it is read)")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--model", default="", help="composition model for SHAP and counterfactuals "
                                               "(default: the one the store's ML runs used)")
    p.add_argument("--allow", action="append", default=[], metavar="DIR",
                   help="also show structure files under DIR (default: only inside the results folder)")
    p.add_argument("--draws", type=int, default=1000, help="Monte Carlo draws for P(non-dominated)")
    p.add_argument("--campaign", default=None, metavar="DIR",
                   help="`learn run` folder to show at /campaign (default: campaign.json beside the store)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from perovscreen.dashboard.app import create_app

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: binding to {args.host}: the results become readable by anyone who can reach this "
              f"address (no authentication)", file=sys.stderr)
    app = create_app(args.db, args.model or None, args.allow, args.draws, args.campaign)
    if app.state.error:
        print(f"warning: {app.state.error} (the dashboard shows this message)", file=sys.stderr)
    print(f"perovscreen dashboard on http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    app.run(host=args.host, port=args.port, debug=False)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="perovscreen")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["dashboard", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
