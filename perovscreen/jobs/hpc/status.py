"""Where every task stands (markers first, the scheduler's queue and logs second), folding the spool into
the store with one writer, and cancelling."""
from __future__ import annotations

import json

from perovscreen.core.provenance import provenance
from perovscreen.jobs.hpc.schedulers import Scheduler, get_scheduler
from perovscreen.jobs.hpc.spool import JobDir, failure_from_log
from perovscreen.jobs.runner import item_run
from perovscreen.store import open_store

KILLED = {137: "killed (SIGKILL: out of memory or by hand)", 139: "segmentation fault", 143: "terminated (SIGTERM)"}


def _where(spec: dict) -> dict:
    """task -> (submission index, job id, array index) of its latest submission."""
    out = {}
    for k, sub in enumerate(spec["submissions"]):
        for a, t in enumerate(sub["tasks"]):
            out[t] = (k, sub["job_id"], a)
    return out


def task_states(jd: JobDir, sched: Scheduler | None = None) -> dict:
    """{task: {state, detail, job_id, log, request}}; states: unsubmitted, queued, running, done, failed,
    killed (SIGKILL, no reason in the log), timeout, out-of-memory, cancelled, node-failure, lost (gone
    from the queue with no end marker and no reason in the log)."""
    spec = jd.spec()
    sched = sched or get_scheduler(spec["scheduler"])
    where = _where(spec)
    queue = sched.queue(sorted({j for _, j, _ in where.values()})) if where else {}
    out = {}
    for t in range(len(spec["chunks"])):
        if t not in where:
            out[t] = {"state": "unsubmitted", "detail": "", "job_id": None, "log": None, "request": spec["request"]}
            continue
        k, job, a = where[t]
        sub = spec["submissions"][k]
        info = {"job_id": f"{job}_{a}", "log": str(jd.logs / f"{job}_{a}.out"), "request": sub["request"],
                "detail": ""}
        q = queue.get((job, a))
        done, failed, started = (jd.marker(t, m) for m in ("done", "failed", "started"))
        if done is not None and not (q and q[0] in ("queued", "running")):
            info["state"] = "done"
        elif failed is not None and not (q and q[0] in ("queued", "running")):
            code = failed.get("exit_code")
            info["state"] = failure_from_log(jd.log_text(job, a)) or ("killed" if code == 137 else "failed")
            info["detail"] = f"exit code {code}" + (f", {KILLED[code]}" if code in KILLED else "")
            info["exit_code"] = code
        elif q:
            info["state"], info["detail"] = q
        elif started is not None:  # started, no end marker, not queued: the scheduler killed the whole script
            info["state"] = failure_from_log(jd.log_text(job, a)) or "lost"
        else:
            info["state"] = failure_from_log(jd.log_text(job, a)) or "lost"
        out[t] = info
    _record(spec, out)
    return out


def _record(spec: dict, states: dict) -> None:
    """Keep the store's view of each submission current (state counts of its tasks)."""
    from collections import Counter

    with open_store(spec["db"]) as store:
        for k, sub in enumerate(spec["submissions"]):
            counts = Counter(states[t]["state"] for t in sub["tasks"] if t in states)
            store.put_cluster_job({"name": spec["name"], "submission": k, "job_id": sub["job_id"],
                                   "scheduler": spec["scheduler"], "folder": spec["dir"], "script": sub["script"],
                                   "logs": str(JobDir(spec["dir"]).logs), "tasks": sub["tasks"],
                                   "request": sub["request"], "states": dict(counts)})


def collect(root) -> dict:
    """Fold every spooled result into the store (one writer; idempotent). A truncated or non-JSON result
    file is reported and its task marked failed; nothing else is lost. Returns counts."""
    jd = JobDir(root)
    spec = jd.spec()
    counts = {"results": 0, "ok": 0, "error": 0, "bad_files": []}
    prov_params = {**spec["key_parts"], "execution": {"scheduler": spec["scheduler"], "job": spec["name"]}}
    prov = provenance(prov_params)
    with open_store(spec["db"]) as store:
        for t in range(len(spec["chunks"])):
            records, runs = [], []
            for f in sorted((jd.task(t) / "results").glob("*.json")):
                try:
                    it = json.loads(f.read_text())
                    rec = it["record"]
                    run = item_run(it, spec["stage"], spec["resume_key"], prov_params,
                                   {**prov, "inputs": {rec["file"]: rec["file_hash"]}})
                except (ValueError, KeyError, TypeError) as exc:
                    counts["bad_files"].append(f"{f}: unreadable result ({type(exc).__name__})")
                    if jd.marker(t, "done") is not None:
                        (jd.task(t) / "done").unlink()
                    jd.mark(t, "failed", {"exit_code": None, "error": f"unreadable result file {f.name}"})
                    f.rename(f.with_suffix(".bad"))
                    continue
                records.append(rec)
                runs.append(run)
                counts["ok" if it["status"] == "ok" else "error"] += 1
            if runs:
                store.put_batch(records, runs)  # one transaction per task
            counts["results"] += len(runs)
    return counts


def cancel(jd: JobDir, sched: Scheduler | None = None) -> list[str]:
    spec = jd.spec()
    sched = sched or get_scheduler(spec["scheduler"])
    ids = sorted({s["job_id"] for s in spec["submissions"]})
    sched.cancel(ids)
    return ids
