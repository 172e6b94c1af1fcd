"""What every command shares: the error wrapper and the batch-stage handler."""
from __future__ import annotations

import functools
import sys


def guarded(fn):
    """A handler that turns perovscreen's own errors into one line on stderr (exit 2) and Ctrl-C into
    'interrupted' (exit 130); anything else is a bug and keeps its traceback."""
    from perovscreen.core import interrupt
    from perovscreen.core.errors import PerovscreenError

    @functools.wraps(fn)
    def run(args) -> int:
        interrupt.install()
        try:
            return int(fn(args) or 0)
        except PerovscreenError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted: finished results are in the store; rerun to continue", file=sys.stderr)
            interrupt.exit_now(130)
    return run


def run_stage_batch(stage, args, params=None, done=None) -> int:
    """Run `stage` over args.paths with the batch flags in `args` (see jobs.runner), then `done(rows)`."""
    from perovscreen.jobs.runner import RunOptions, run_batch

    return run_batch(stage, args.paths, params if params is not None else stage.from_args(args),
                     RunOptions.from_args(args), done)
