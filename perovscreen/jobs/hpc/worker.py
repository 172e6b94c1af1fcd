"""What an array task runs: the stage on each structure of its chunk, one atomic result file per structure.
A structure whose result file exists is skipped, so a resubmitted task continues where it stopped."""
from __future__ import annotations

import json

from perovscreen.core.errors import InputError
from perovscreen.jobs.hpc.spool import JobDir, write_atomic
from perovscreen.jobs.runner import run_record
from perovscreen.jobs.stage import Stage
from perovscreen.structures.intake import load_file


def run_task(stage: Stage, root, task: int) -> int:
    """Run task `task` of the job folder `root`; returns the number of structures computed now."""
    jd = JobDir(root)
    spec = jd.spec()
    if spec["stage"] != stage.name or spec["version"] != stage.version:
        raise InputError(f"{jd.root}: made for stage {spec['stage']} v{spec['version']}, this is {stage.name} "
                         f"v{stage.version}: resubmit from a matching installation")
    if not 0 <= task < len(spec["chunks"]):
        raise InputError(f"{jd.root}: no task {task} (0..{len(spec['chunks']) - 1})")
    params = stage.make({k: tuple(v) if isinstance(v, list) else v for k, v in spec["params"].items()})
    n = 0
    for fi, path in enumerate(spec["chunks"][task]):
        for rec in load_file(path, ion=spec["ion"], max_atoms=spec["max_atoms"]):
            out = jd.result_path(task, fi, rec.block)
            if not out.is_file():  # finished before a kill or timeout: not recomputed
                write_atomic(out, json.dumps(run_record(rec, stage, params, path), default=str))
                n += 1
    return n
