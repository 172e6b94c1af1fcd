"""SLURM and PBS Pro: array-job directives, submission, queue state, cancellation, array-size limits.

Only the text a scheduler reads and prints is handled here; what a task did is read from its markers
(spool.py). Queue states are normalised to: queued, running, done, failed, timeout, out-of-memory,
cancelled, node-failure (with the scheduler's pending reason where it gives one).
"""
from __future__ import annotations

import re
import shutil
import subprocess

from perovscreen.core.errors import InputError
from perovscreen.jobs.hpc.request import Request

SLURM_STATES = {"PENDING": "queued", "CONFIGURING": "queued", "REQUEUED": "queued", "RUNNING": "running",
                "COMPLETING": "running", "SUSPENDED": "queued", "COMPLETED": "done", "FAILED": "failed",
                "TIMEOUT": "timeout", "OUT_OF_MEMORY": "out-of-memory", "CANCELLED": "cancelled",
                "NODE_FAIL": "node-failure", "PREEMPTED": "node-failure", "BOOT_FAIL": "node-failure",
                "DEADLINE": "timeout"}
PBS_STATES = {"Q": "queued", "H": "queued", "W": "queued", "T": "queued", "S": "queued", "B": "running",
              "R": "running", "E": "running", "X": "done", "F": "done"}


def compress(indices) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8' (the array spec both schedulers read)."""
    out, idx = [], sorted(set(int(i) for i in indices))
    start = prev = None
    for i in idx + [None]:
        if start is not None and (i is None or i != prev + 1):
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = None
        if i is not None and start is None:
            start = i
        prev = i
    return ",".join(out)


def _run(cmd: list[str], what: str) -> str:
    if shutil.which(cmd[0]) is None:
        raise InputError(f"{cmd[0]} not found on PATH: is {what} installed and loaded here?")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise InputError(f"{' '.join(cmd[:2])} failed: {(p.stderr or p.stdout).strip().splitlines()[-1:] or p.returncode}")
    return p.stdout


class Scheduler:
    name = ""
    submit_cmd = ""
    index_var = ""

    def directives(self, req: Request, name: str, array: str, throttle: int | None, log: str) -> list[str]:
        raise NotImplementedError

    def parse_job_id(self, out: str) -> str:
        raise NotImplementedError

    def submit(self, script_path: str) -> str:
        return self.parse_job_id(_run([self.submit_cmd, script_path], self.name))

    def check(self) -> None:
        """Fail before anything is written when the scheduler's submit command is missing."""
        if shutil.which(self.submit_cmd) is None:
            raise InputError(f"{self.submit_cmd} not found on PATH: is {self.name} installed and loaded here?")

    def queue(self, job_ids) -> dict:
        """{(job id, task index): (state, reason)} for tasks the scheduler still lists."""
        raise NotImplementedError

    def cancel(self, job_ids) -> None:
        raise NotImplementedError

    def max_array_size(self) -> int:
        return 1001


class Slurm(Scheduler):
    name, submit_cmd, index_var = "slurm", "sbatch", "SLURM_ARRAY_TASK_ID"

    def directives(self, req, name, array, throttle, log):
        d = [f"--job-name={name}", f"--array={array}{f'%{throttle}' if throttle else ''}",
             f"--output={log}/%A_%a.out", f"--error={log}/%A_%a.err", f"--time={req.walltime}",
             f"--cpus-per-task={req.cores}", f"--mem={req.mem_mb}M", "--ntasks=1"]
        d += [f"--{k}={getattr(req, k)}" for k in ("partition", "account", "qos") if getattr(req, k)]
        if req.gpus:
            d.append(f"--gres=gpu:{req.gpus}")
        return [f"#SBATCH {x}" for x in d]

    def parse_job_id(self, out):
        m = re.search(r"(\d+)", out.strip().split(";")[0])  # --parsable prints "123" or "123;cluster"
        if not m:
            raise InputError(f"sbatch printed no job id: {out.strip()!r}")
        return m.group(1)

    def submit(self, script_path):
        return self.parse_job_id(_run([self.submit_cmd, "--parsable", script_path], self.name))

    def queue(self, job_ids):
        if not job_ids:
            return {}
        # --me, not -j: squeue refuses ids that have left the queue, which is the normal end of a job
        out = _run(["squeue", "-h", "-r", "--me", "-o", "%i|%T|%r"], self.name)
        ids = set(job_ids)
        return {k: v for k, v in parse_squeue(out).items() if k[0] in ids}

    def cancel(self, job_ids):
        if job_ids:
            _run(["scancel", *job_ids], self.name)

    def max_array_size(self) -> int:
        out = _run(["scontrol", "show", "config"], self.name)
        m = re.search(r"MaxArraySize\s*=\s*(\d+)", out)
        return int(m.group(1)) if m else 1001


def parse_squeue(out: str) -> dict:
    """`squeue -h -r -o '%i|%T|%r'` lines ('123_4|PENDING|Resources') -> {(job, task): (state, reason)}."""
    res = {}
    for line in out.splitlines():
        parts = line.strip().split("|")
        if len(parts) < 3 or "_" not in parts[0]:
            continue
        job, task = parts[0].split("_", 1)
        if not task.isdigit():
            continue
        state = SLURM_STATES.get(parts[1].split()[0].rstrip("+"), parts[1].lower())
        res[(job, int(task))] = (state, "" if parts[2] in ("None", "(null)") else parts[2])
    return res


class PBS(Scheduler):
    """PBS Pro (qsub -J arrays, $PBS_ARRAY_INDEX, select/ncpus/mem, job ids like 12345[].server)."""
    name, submit_cmd, index_var = "pbs", "qsub", "PBS_ARRAY_INDEX"

    def directives(self, req, name, array, throttle, log):
        if "," in array:
            raise InputError("PBS arrays take one range (start-end); resubmit the tasks as separate ranges")
        a, _, b = array.partition("-")
        sel = f"select=1:ncpus={req.cores}:mem={req.mem_mb}mb" + (f":ngpus={req.gpus}" if req.gpus else "")
        d = [f"-N {name[:15]}", f"-J {a}-{b or a}" + (f"%{throttle}" if throttle else ""), f"-l {sel}",
             f"-l walltime={req.walltime}", f"-o {log}/", f"-e {log}/"]
        if req.partition:
            d.append(f"-q {req.partition}")
        if req.account:
            d.append(f"-A {req.account}")
        return [f"#PBS {x}" for x in d]

    def parse_job_id(self, out):
        m = re.match(r"\s*(\d+)(\[\])?(\.\S+)?", out)
        if not m:
            raise InputError(f"qsub printed no job id: {out.strip()!r}")
        return m.group(1)

    def queue(self, job_ids):
        if not job_ids:
            return {}
        return parse_qstat(_run(["qstat", "-t", "-x", "-F", "json", *[f"{j}[]" for j in job_ids]], self.name))

    def cancel(self, job_ids):
        if job_ids:
            _run(["qdel", *[f"{j}[]" for j in job_ids]], self.name)


def parse_qstat(out: str) -> dict:
    """`qstat -t -x -F json` -> {(job, task): (state, reason)}; subjobs are named '12345[7].server'."""
    import json

    res = {}
    for name, info in (json.loads(out or "{}").get("Jobs") or {}).items():
        m = re.match(r"(\d+)\[(\d+)\]", name)
        if not m:
            continue
        state = PBS_STATES.get(info.get("job_state", ""), "queued")
        code = info.get("Exit_status")
        if state == "done" and code not in (None, 0):
            state = "timeout" if code == -29 else "out-of-memory" if code == -27 else "failed"
        res[(m.group(1), int(m.group(2)))] = (state, info.get("comment", ""))
    return res


def get_scheduler(name: str) -> Scheduler:
    try:
        return {"slurm": Slurm, "pbs": PBS}[name]()
    except KeyError:
        raise InputError(f"unknown scheduler {name!r} (slurm or pbs)") from None
