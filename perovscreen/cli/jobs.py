"""`perovscreen submit STAGE PATHS... --scheduler slurm|pbs`, `perovscreen worker`, `perovscreen jobs
status|collect|resubmit|cancel` (docs/cluster.md)."""
from __future__ import annotations

import json
import os
import sys

from perovscreen.cli.common import guarded


def add_parser(sub) -> None:
    from perovscreen.jobs.runner import add_batch_arguments

    p = sub.add_parser("submit", help="run a stage on a SLURM or PBS cluster as array jobs")
    p.add_argument("stage", help="stage name: bvse, ml, relax, stability, md, single_point, predict-props")
    add_batch_arguments(p)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a stage parameter (repeatable; see docs/defaults.md), e.g. --set resolution=0.3")
    p.add_argument("--scheduler", choices=["slurm", "pbs"], default="slurm")
    for flag, hint in (("--partition", "partition (PBS: queue)"), ("--account", "account to charge"),
                       ("--qos", "quality of service (Slurm)")):
        p.add_argument(flag, default=None, help=hint)
    p.add_argument("--time", default=None, help="wall time per task: minutes, HH:MM:SS, D-HH:MM, 90m, 2h "
                   "(default: the stage's declared walltime x chunk)")
    p.add_argument("--cores", type=int, default=None, help="cores per task (default: the stage's)")
    p.add_argument("--mem", default=None, help="memory per task, e.g. 4G (default: the stage's)")
    p.add_argument("--gpus", type=int, default=None, help="GPUs per task")
    p.add_argument("--chunk", type=int, default=1, help="structure files per array task (default 1)")
    p.add_argument("--throttle", type=int, default=None, help="at most this many tasks running at once (%%P)")
    p.add_argument("--max-queued", type=int, default=None, help="at most this many tasks queued; `jobs resubmit` "
                   "sends the rest as room frees")
    p.add_argument("--setup", default="", help="shell lines run before the worker, e.g. 'module load python; "
                   "source ~/venv/bin/activate'")
    p.add_argument("--python", default=None, help="Python on the compute nodes (default: this one)")
    p.add_argument("--out", default="results", help="job folders go to OUT/jobs/<name>/")
    p.add_argument("--name", default=None, help="job name (default <stage>-<resume key>)")
    p.add_argument("--dry-run", action="store_true", help="print the script, submit nothing")
    p.set_defaults(func=cmd_submit)

    w = sub.add_parser("worker", help="(run by job scripts) one array task of a job folder")
    w.add_argument("jobdir")
    w.add_argument("--task", type=int, default=None, help="task index (default: $SLURM_ARRAY_TASK_ID / "
                   "$PBS_ARRAY_INDEX mapped by the script)")
    w.set_defaults(func=cmd_worker)

    j = sub.add_parser("jobs", help="cluster jobs: status, collect, resubmit, cancel")
    jsub = j.add_subparsers(dest="jobs_command", required=True)
    for name, hint in (("status", "state of every task (markers + queue + logs)"),
                       ("collect", "fold finished results into the store"),
                       ("resubmit", "resubmit by failure class, and tasks not yet submitted"),
                       ("cancel", "cancel the job's arrays")):
        c = jsub.add_parser(name, help=hint)
        c.add_argument("jobdir", help="the job folder, OUT/jobs/<name>")
        c.add_argument("--json", action="store_true", help="JSON lines on stdout")
        if name == "resubmit":
            c.add_argument("--max-retries", type=int, default=3)
        c.set_defaults(func=cmd_jobs)


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def _stage(name: str):
    from perovscreen.core.errors import InputError
    from perovscreen.pipeline.stages import BY_NAME

    if name not in BY_NAME:
        raise InputError(f"unknown stage {name!r} (known: {', '.join(BY_NAME)})")
    return BY_NAME[name]


def load_stage(ref: str):
    """'module:NAME' -> the Stage object (the platform's registry, or a user's module)."""
    import importlib

    mod, _, attr = ref.partition(":")
    if mod == "perovscreen.pipeline.stages":
        return _stage(attr)
    return getattr(importlib.import_module(mod), attr)


@guarded
def cmd_submit(args) -> int:
    from perovscreen.core.errors import InputError
    from perovscreen.jobs.hpc.request import megabytes, minutes
    from perovscreen.jobs.hpc.submit import submit
    from perovscreen.jobs.runner import RunOptions

    stage = _stage(args.stage)
    values = {}
    for item in args.set:
        k, eq, v = item.partition("=")
        if not eq:
            raise InputError(f"--set {item!r}: use KEY=VALUE")
        values[k.strip()] = _value(v)
    params = stage.make(values)
    if stage.identities:
        stage.identities(params)  # a missing model or weight file fails before anything is submitted
    spec = submit(stage, args.paths, params, RunOptions.from_args(args), args.scheduler, args.out, args.name,
                  args.chunk, args.throttle, args.max_queued, args.setup, args.python, args.dry_run,
                  partition=args.partition, account=args.account, qos=args.qos, gpus=args.gpus, cores=args.cores,
                  minutes=minutes(args.time) if args.time else None,
                  mem_mb=megabytes(args.mem) if args.mem else None)
    if args.dry_run:
        for s in spec["dry_run_scripts"]:
            print(s)
        print(f"dry run: {len(spec['chunks'])} tasks, {spec['skipped']} files already finished; nothing submitted",
              file=sys.stderr)
        return 0
    jobs = [s["job_id"] for s in spec["submissions"]]
    print(f"{spec['name']}: {len(spec['chunks'])} tasks ({spec['skipped']} files already finished) submitted as "
          f"{spec['scheduler']} job(s) {', '.join(jobs) or '-'}; folder {spec['dir']}", file=sys.stderr)
    if args.json:
        print(json.dumps({"name": spec["name"], "dir": spec["dir"], "jobs": jobs, "tasks": len(spec["chunks"]),
                          "unsubmitted": spec.get("unsubmitted", [])}))
    return 0


@guarded
def cmd_worker(args) -> int:
    from perovscreen.core.errors import InputError
    from perovscreen.jobs.hpc.spool import JobDir
    from perovscreen.jobs.hpc.worker import run_task

    task = args.task
    if task is None:
        env = os.environ.get("SLURM_ARRAY_TASK_ID") or os.environ.get("PBS_ARRAY_INDEX")
        if env is None:
            raise InputError("give --task N (no array index in the environment)")
        task = int(env)
    stage = load_stage(JobDir(args.jobdir).spec()["stage_ref"])
    n = run_task(stage, args.jobdir, task)
    print(f"task {task}: {n} structures computed", file=sys.stderr)
    return 0


@guarded
def cmd_jobs(args) -> int:
    from perovscreen.jobs.hpc.spool import JobDir
    from perovscreen.jobs.hpc.status import cancel, collect, task_states
    from perovscreen.jobs.hpc.submit import resubmit
    from perovscreen.jobs.hpc.schedulers import get_scheduler

    jd = JobDir(args.jobdir)
    spec = jd.spec()
    if args.jobs_command == "collect":
        c = collect(jd.root)
        for bad in c["bad_files"]:
            print(f"error: {bad}", file=sys.stderr)
        print(json.dumps({k: v for k, v in c.items() if k != "bad_files"} | {"bad_files": len(c["bad_files"])})
              if args.json else f"collected {c['results']} results ({c['ok']} ok, {c['error']} errors) into "
              f"{spec['db']}")
        return 0
    sched = get_scheduler(spec["scheduler"])
    if args.jobs_command == "cancel":
        print(f"cancelled {', '.join(cancel(jd, sched)) or 'nothing'}", file=sys.stderr)
        return 0
    if args.jobs_command == "resubmit":
        actions = resubmit(jd, sched, args.max_retries)
        for t, a in sorted(actions.items()):
            print(json.dumps({"task": t, "action": a}) if args.json else f"task {t}: {a}")
        return 0
    states = task_states(jd, sched)
    for t, s in states.items():
        row = {"task": t, "files": spec["chunks"][t], **s}
        print(json.dumps(row) if args.json else
              f"{t:5d} {s['state']:<14} {s['job_id'] or '-':<14} {s['detail']:<30} {s['log'] or ''}")
    if not args.json:
        from collections import Counter

        print("  ".join(f"{k}: {v}" for k, v in sorted(Counter(s["state"] for s in states.values()).items())),
              file=sys.stderr)
    return 0
