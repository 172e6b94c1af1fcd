"""Test stages for the cluster tests (test helpers, not features): imported by name in the job scripts."""
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from perovscreen.jobs.stage import Resources, Stage, param


@dataclass(frozen=True)
class P:
    seconds: float = param(0.0, "seconds of (checkpointed) work per structure")
    exit_on: str = param("", "id whose task exits with code 3")
    kill_on: str = param("", "id whose worker SIGKILLs itself")
    log: str = param("", "file recording start/end times of each structure", science=False)
    ckpt: str = param("", "checkpoint folder (work done so far survives a kill)", science=False)


def work(record, p: P) -> dict:
    if record.id == p.exit_on:
        sys.exit(3)
    if record.id == p.kill_on:
        os.kill(os.getpid(), signal.SIGKILL)
    t0 = time.time()
    done = 0.0
    ck = Path(p.ckpt) / f"{record.id}.txt" if p.ckpt else None
    if ck and ck.exists():
        done = float(ck.read_text())
    while done < p.seconds:  # one-second steps, checkpointed like MD's
        time.sleep(min(1.0, p.seconds - done))
        done += 1.0
        if ck:
            ck.parent.mkdir(parents=True, exist_ok=True)
            ck.write_text(str(done))
    if p.log:
        with open(p.log, "a") as fh:
            fh.write(f"{record.id} {t0} {time.time()}\n")
    return {"n_sites": record.n_sites, "formula": record.formula}


WORK = Stage("work", 1, P, work, resources=Resources(cores=1, memory_gb=0.2, walltime_min=1.0))
