"""A deliberately slow stage for the kill-and-resume test (test helper, not a feature)."""
import sys
import time
from pathlib import Path


def slow_stage(record, params):
    with open(params["log"], "a") as fh:
        fh.write(record.id + "\n")
    time.sleep(params["sleep"])
    return {"n_sites": record.n_sites, "formula": record.formula}


def main(paths_dir, db, log, sleep):
    from perovscreen.pipeline.batch import run_batch
    from core_helpers import batch_args

    paths = sorted(Path(paths_dir).glob("*.cif"))
    args = batch_args(paths, db, json=False)
    return run_batch(args, "slow", slow_stage, {"log": log, "sleep": sleep})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
