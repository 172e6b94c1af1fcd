"""Plan a stage's subjects into array tasks, write the job folder and scripts, submit (split above the
site's array limit, throttled, at most M tasks queued); resubmit by failure class."""
from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from pathlib import Path

from perovscreen.core.errors import InputError
from perovscreen.core.hashing import file_sha256
from perovscreen.jobs.hpc.request import Request
from perovscreen.jobs.hpc.schedulers import Scheduler, get_scheduler
from perovscreen.jobs.hpc.spool import JobDir
from perovscreen.jobs.runner import RunOptions, finished_runs, structures_by_hash
from perovscreen.jobs.stage import Stage
from perovscreen.store import open_store
from perovscreen.structures.intake import expand_paths

RETRY = {"timeout": ("minutes", 2.0), "out-of-memory": ("mem_mb", 2.0), "node-failure": (None, 1.0),
         "killed": (None, 1.0), "lost": (None, 1.0)}  # failure class -> (resource scaled, factor); others are reported, not retried


def unfinished(stage: Stage, files, params, opts: RunOptions) -> list[str]:
    """Files with a structure not yet final in the store under this stage's resume key."""
    rkey = stage.resume_key(params, opts.intake)
    with open_store(opts.db) as store:
        by_hash = structures_by_hash(store)
        out = []
        for f in files:
            known = by_hash.get(file_sha256(f), [])
            if not known or len(finished_runs(store, known, stage.name, rkey)) < len(known):
                out.append(str(Path(f).resolve()))
    return out


def script(spec: dict, sched: Scheduler, tasks: list[int], attempt: int, req: Request) -> str:
    """The array script: run `perovscreen worker` for task TASKS[array index] and leave its markers."""
    jd = JobDir(spec["dir"])
    lines = ["#!/bin/bash", *sched.directives(req, spec["name"], f"0-{len(tasks) - 1}", spec.get("throttle"),
                                              str(jd.logs)),
             f"# perovscreen job {spec['name']}: stage {spec['stage']} v{spec['version']}, submission {attempt}",
             "set -u", f"TASKS=({' '.join(map(str, tasks))})", f"T=${{TASKS[${sched.index_var}]}}",
             f"S={shlex.quote(str(jd.root))}/spool/$T", 'mkdir -p "$S"', 'rm -f "$S/done" "$S/failed"',
             'printf \'{"host": "%s", "time": "%s", "submission": %d}\\n\' "$(hostname)" "$(date -u +%FT%TZ)" '
             f'{attempt} > "$S/.started" && mv "$S/.started" "$S/started"',
             f"cd {shlex.quote(spec['cwd'])}"]
    if spec.get("setup"):
        lines.append(spec["setup"])
    lines += [f"{shlex.quote(spec['python'])} -m perovscreen worker {shlex.quote(str(jd.root))} --task \"$T\"",
              "rc=$?", 'if [ $rc -eq 0 ]; then m=done; else m=failed; fi',
              'printf \'{"exit_code": %d}\\n\' $rc > "$S/.$m" && mv "$S/.$m" "$S/$m"', "exit $rc", ""]
    return "\n".join(lines)


def submit(stage: Stage, paths, params, opts: RunOptions, scheduler: str = "slurm", out: str | Path = "results",
           name: str | None = None, chunk: int = 1, throttle: int | None = None, max_queued: int | None = None,
           setup: str = "", python: str | None = None, dry_run: bool = False, stage_ref: str = "",
           **request) -> dict:
    """Write the job folder and submit its array job(s); returns the job spec (with submissions).
    stage_ref: 'module:NAME' of the Stage object, for stages outside the platform's registry."""
    if chunk < 1 or (throttle is not None and throttle < 1) or (max_queued is not None and max_queued < 1):
        raise InputError("--chunk, --throttle and --max-queued must be >= 1")
    sched = get_scheduler(scheduler)
    if not dry_run:
        sched.check()
    req = Request.from_stage(stage.resources, chunk, **request)  # invalid resources fail here, before anything
    files = expand_paths(paths)
    if not files:
        raise InputError(f"no input files match {' '.join(map(str, paths))}")
    rkey = stage.resume_key(params, opts.intake)
    name = name or f"{stage.name}-{rkey[:8]}"
    jd = JobDir(Path(out) / "jobs" / name)
    if jd.spec_file.exists() and not dry_run:
        from perovscreen.jobs.hpc.status import collect

        collect(jd.root)  # results of an earlier submission count as finished
    todo = unfinished(stage, files, params, opts)
    spec = {"name": name, "dir": str(jd.root), "stage": stage.name, "version": stage.version,
            "stage_ref": stage_ref or f"perovscreen.pipeline.stages:{stage.name}",
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(params).items()},
            "key_parts": stage.key_parts(params, opts.intake), "resume_key": rkey, "ion": opts.ion,
            "max_atoms": opts.max_atoms, "db": str(Path(opts.db).resolve()), "scheduler": sched.name,
            "request": req.to_dict(), "chunks": [todo[i:i + chunk] for i in range(0, len(todo), chunk)],
            "setup": setup, "python": python or sys.executable, "cwd": str(Path.cwd()), "throttle": throttle,
            "max_queued": max_queued, "submissions": [], "retries": {}, "skipped": len(files) - len(todo)}
    tasks = list(range(len(spec["chunks"])))
    if dry_run:
        spec["dry_run_scripts"] = [script(spec, sched, tasks[:1000], 0, req)] if tasks else []
        return spec
    jd.logs.mkdir(parents=True, exist_ok=True)
    jd.save(spec)
    return send(sched, jd, tasks, req)


def send(sched: Scheduler, jd: JobDir, tasks: list[int], req: Request) -> dict:
    """Submit `tasks` as array jobs of at most the site's array size, within --max-queued; the rest wait
    in job.json as 'unsubmitted' for `jobs resubmit`."""
    spec = jd.spec()
    if not tasks:
        return spec
    limit = sched.max_array_size()
    room = len(tasks)
    if spec.get("max_queued"):
        from perovscreen.jobs.hpc.status import task_states

        busy = sum(s["state"] in ("queued", "running") for s in task_states(jd, sched).values())
        room = max(0, spec["max_queued"] - busy)
    now, later = tasks[:room], tasks[room:]
    for s in range(0, len(now), limit):
        part = now[s:s + limit]
        k = len(spec["submissions"])
        path = jd.root / f"submit-{k}.sh"
        path.write_text(script(spec, sched, part, k, req))
        path.chmod(0o755)
        job_id = sched.submit(str(path))
        spec["submissions"].append({"job_id": job_id, "tasks": part, "script": str(path), "request": req.to_dict()})
        jd.save(spec)
        with open_store(spec["db"]) as store:
            store.put_cluster_job({"name": spec["name"], "submission": k, "job_id": job_id, "scheduler": sched.name,
                                   "folder": str(jd.root), "script": str(path), "logs": str(jd.logs), "tasks": part,
                                   "request": req.to_dict(), "states": {"queued": len(part)}})
    spec["unsubmitted"] = sorted((set(spec.get("unsubmitted", [])) - set(now)) | set(later))
    jd.save(spec)
    return spec


def resubmit(jd: JobDir, sched: Scheduler, max_retries: int = 3) -> dict:
    """Resubmit failed tasks by failure class (timeout: twice the time; out-of-memory: twice the memory;
    node failure, preemption or a lost task: the same resources), at most `max_retries` times each;
    other failures are reported, not retried. Unsubmitted tasks go out too. Returns {task: action}."""
    from perovscreen.jobs.hpc.status import task_states

    spec = jd.spec()
    states = task_states(jd, sched)
    groups: dict[tuple, list[int]] = {}
    actions = {}
    for t, st in states.items():
        if st["state"] == "unsubmitted":
            groups.setdefault(("unsubmitted", None), []).append(t)
            actions[t] = "submitted"
            continue
        if st["state"] not in RETRY and st["state"] not in ("failed", "cancelled"):
            continue
        tries = spec["retries"].get(str(t), 0)
        if st["state"] not in RETRY:
            actions[t] = f"not retried ({st['state']}: {st.get('detail') or 'see its log'})"
        elif tries >= max_retries:
            actions[t] = f"not retried: {tries} retries used"
        else:
            key = (st["state"], json.dumps(st["request"], sort_keys=True))
            groups.setdefault(key, []).append(t)
            actions[t] = f"resubmitted ({st['state']})"
    for (state, base), tasks in groups.items():
        req = Request(**(json.loads(base) if base else spec["request"]))
        what, factor = RETRY.get(state, (None, 1.0))
        if what:
            setattr(req, what, int(getattr(req, what) * factor))
        if state != "unsubmitted":
            spec = jd.spec()
            for t in tasks:
                spec["retries"][str(t)] = spec["retries"].get(str(t), 0) + 1
            jd.save(spec)
        send(sched, jd, sorted(tasks), req)
    return actions
