"""A deliberately slow stage for the kill-and-resume test (test helper, not a feature)."""
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from perovscreen.jobs.stage import Stage, param


@dataclass(frozen=True)
class SlowParams:
    log: str = param("", "file that records each started id", science=False)
    sleep: float = param(1.0, "seconds per structure")


def slow_run(record, params):
    with open(params.log, "a") as fh:
        fh.write(record.id + "\n")
    time.sleep(params.sleep)
    return {"n_sites": record.n_sites, "formula": record.formula}


SLOW = Stage("slow", 1, SlowParams, slow_run)


def main(paths_dir, db, log, sleep):
    from core_helpers import batch_args, run

    paths = sorted(Path(paths_dir).glob("*.cif"))
    return run(SLOW, batch_args(paths, db, json=False), log=log, sleep=sleep)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
