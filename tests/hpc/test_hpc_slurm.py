"""Array jobs on a real single-node Slurm (started by conftest.py): results, states without accounting,
failure classes, throttling, resubmission."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymatgen.io.cif import CifWriter

from perovscreen.jobs.hpc.schedulers import Slurm
from perovscreen.jobs.hpc.spool import JobDir
from perovscreen.jobs.hpc.status import collect, task_states
from perovscreen.jobs.hpc.submit import resubmit, submit
from perovscreen.jobs.runner import RunOptions, execute_batch
from perovscreen.store import open_store
from perovscreen.structures.examples import get_example

import hpc_stages

pytestmark = pytest.mark.usefixtures("slurm")
REF = "hpc_stages:WORK"


@pytest.fixture
def cifs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for n in ("Li3OCl", "LiNbO3", "LLTO_ordered", "LiTaO3", "LiFePO4"):
        CifWriter(get_example(n)).write_file(d / f"{n}.cif")
    return d


def wait(jd: JobDir, until=("done", "failed", "timeout", "out-of-memory", "cancelled", "lost", "killed"),
         timeout=240) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = task_states(jd, Slurm())
        if all(s["state"] in until for s in st.values()):
            return st
        time.sleep(1)
    raise AssertionError(f"tasks did not finish: {task_states(jd, Slurm())}")


def test_bvse_array_gives_the_local_results(tmp_path, cifs):
    from perovscreen.bvse.stage import BVSE

    params = BVSE.make(resolution=0.4)
    opts = RunOptions(db=str(tmp_path / "hpc.db"), quiet=True)
    spec = submit(BVSE, [cifs], params, opts, out=tmp_path, chunk=2, minutes=5)
    assert len(spec["chunks"]) == 3 and spec["submissions"][0]["job_id"]
    jd = JobDir(spec["dir"])
    st = wait(jd)
    assert {s["state"] for s in st.values()} == {"done"}
    assert collect(jd.root)["ok"] == 5
    local = {r["id"]: r["barriers"] for r in execute_batch(BVSE, [cifs], params,
                                                         RunOptions(db=str(tmp_path / "local.db"), quiet=True))}
    with open_store(tmp_path / "hpc.db") as store:
        remote = {r["id"]: r["result"]["barriers"] for r in store.runs("bvse")}
    assert remote == local
    with open_store(tmp_path / "hpc.db") as store:  # the store knows the job: id, script, logs, states
        (job,) = store.cluster_jobs(spec["name"])
    assert job["job_id"] == spec["submissions"][0]["job_id"] and job["states"] == {"done": 3}
    assert Path(job["script"]).is_file() and job["tasks"] == [0, 1, 2]
    # resubmitting the same work submits nothing: every file is finished under this resume key
    again = submit(BVSE, [cifs], params, opts, out=tmp_path, chunk=2, name="again")
    assert again["chunks"] == [] and again["skipped"] == 5


def test_exit_code_kill_and_state_after_leaving_the_queue(tmp_path, cifs):
    params = hpc_stages.WORK.make(exit_on="LiNbO3", kill_on="LiTaO3")
    opts = RunOptions(db=str(tmp_path / "r.db"), quiet=True)
    spec = submit(hpc_stages.WORK, [cifs], params, opts, out=tmp_path, stage_ref=REF)
    jd = JobDir(spec["dir"])
    st = wait(jd)
    time.sleep(4)  # MinJobAge=2: finished tasks have left squeue; the markers still know
    assert Slurm().queue([spec["submissions"][0]["job_id"]]) == {}
    st = task_states(jd, Slurm())
    files = {Path(c[0]).stem: t for t, c in enumerate(spec["chunks"])}
    assert st[files["LiNbO3"]]["state"] == "failed" and st[files["LiNbO3"]]["exit_code"] == 3
    killed = st[files["LiTaO3"]]
    assert killed["state"] == "killed" and killed["exit_code"] == 137
    assert all(st[files[n]]["state"] == "done" for n in ("Li3OCl", "LLTO_ordered", "LiFePO4"))
    c = collect(jd.root)
    assert c["ok"] == 3 and c["bad_files"] == []
    with open_store(tmp_path / "r.db") as store:
        ids = {r["id"] for r in store.runs("work")}
    assert ids == {"Li3OCl", "LLTO_ordered", "LiFePO4"}  # nothing partial from the killed or failed tasks
    actions = resubmit(jd, Slurm())
    assert actions[files["LiTaO3"]].startswith("resubmitted (killed)")
    assert actions[files["LiNbO3"]].startswith("not retried (failed")


def test_throttle_runs_at_most_two_at_once(tmp_path, cifs):
    log = tmp_path / "times.log"
    params = hpc_stages.WORK.make(seconds=4.0, log=str(log))
    spec = submit(hpc_stages.WORK, [cifs], params, RunOptions(db=str(tmp_path / "r.db"), quiet=True),
                  out=tmp_path, stage_ref=REF, throttle=2)
    assert "%2" in Path(spec["submissions"][0]["script"]).read_text()
    wait(JobDir(spec["dir"]))
    spans = [tuple(map(float, line.split()[1:])) for line in log.read_text().splitlines()]
    assert len(spans) == 5
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, d in events:
        running += d
        peak = max(peak, running)
    assert peak <= 2


def test_timeout_is_resubmitted_with_more_time_and_resumes(tmp_path, cifs):
    """A 1-minute limit on 130 s of checkpointed work: killed at the limit (Slurm checks limits every 30 s) (timeout, read from Slurm's log),
    resubmitted with twice the time, it continues from its checkpoint and finishes."""
    f = cifs / "Li3OCl.cif"
    params = hpc_stages.WORK.make(seconds=130.0, ckpt=str(tmp_path / "ckpt"))
    spec = submit(hpc_stages.WORK, [f], params, RunOptions(db=str(tmp_path / "r.db"), quiet=True),
                  out=tmp_path, stage_ref=REF, minutes=1)
    jd = JobDir(spec["dir"])
    st = wait(jd, timeout=200)
    assert st[0]["state"] == "timeout", st
    assert resubmit(jd, Slurm()) == {0: "resubmitted (timeout)"}
    assert JobDir(spec["dir"]).spec()["submissions"][-1]["request"]["minutes"] == 2
    st = wait(jd, timeout=200)
    assert st[0]["state"] == "done"
    assert collect(jd.root)["ok"] == 1


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "perovscreen", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_bad_input_is_refused_before_anything_is_submitted(tmp_path, cifs):
    out = tmp_path / "o"
    r = _cli("submit", "bvse", str(cifs), "--cores", "-2", "--out", str(out), "--db", str(tmp_path / "r.db"))
    assert r.returncode == 2 and "--cores must be a whole number >= 1" in r.stderr and not out.exists()
    r = _cli("submit", "bvse", str(cifs), "--time", "ten minutes", "--out", str(out))
    assert r.returncode == 2 and "cannot read time 'ten minutes'" in r.stderr and not out.exists()
    r = _cli("submit", "bvse", str(cifs), "--set", "resolution=-1", "--out", str(out))
    assert r.returncode == 2 and "bvse resolution: must be >= 0.02" in r.stderr
    env = {**os.environ, "PATH": str(tmp_path)}  # no sbatch here
    r = _cli("submit", "bvse", str(cifs), "--out", str(out), "--db", str(tmp_path / "r.db"), env=env)
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("error: sbatch not found on PATH")


def test_truncated_spool_file_is_reported_and_its_task_failed(tmp_path, cifs):
    params = hpc_stages.WORK.make()
    spec = submit(hpc_stages.WORK, [cifs / "Li3OCl.cif", cifs / "LiNbO3.cif"], params,
                  RunOptions(db=str(tmp_path / "r.db"), quiet=True), out=tmp_path, stage_ref=REF)
    jd = JobDir(spec["dir"])
    wait(jd)
    bad = next((jd.task(0) / "results").glob("*.json"))
    bad.write_text(bad.read_text()[:40])
    c = collect(jd.root)
    assert c["ok"] == 1 and len(c["bad_files"]) == 1 and "unreadable result" in c["bad_files"][0]
    assert task_states(jd, Slurm())[0]["state"] == "failed"
    st = json.loads(_cli("jobs", "status", spec["dir"], "--json").stdout.splitlines()[0])
    assert st["task"] == 0 and st["state"] == "failed"


def test_arrays_split_above_the_site_limit_and_max_queued(tmp_path, cifs, monkeypatch):
    """Five tasks with a site MaxArraySize of 2 go out as three arrays; with --max-queued 2 only two are
    queued at first and `resubmit` sends the rest as they finish."""
    monkeypatch.setattr(Slurm, "max_array_size", lambda self: 2)
    opts = RunOptions(db=str(tmp_path / "a.db"), quiet=True)
    spec = submit(hpc_stages.WORK, [cifs], hpc_stages.WORK.make(), opts, out=tmp_path, stage_ref=REF, name="split")
    assert [len(s["tasks"]) for s in spec["submissions"]] == [2, 2, 1]
    assert "--array=0-1" in Path(spec["submissions"][0]["script"]).read_text()
    wait(JobDir(spec["dir"]))
    spec = submit(hpc_stages.WORK, [cifs], hpc_stages.WORK.make(seconds=3.0), opts, out=tmp_path, stage_ref=REF,
                  name="queued", max_queued=2)
    jd = JobDir(spec["dir"])
    assert sum(len(s["tasks"]) for s in spec["submissions"]) == 2 and len(spec["unsubmitted"]) == 3
    assert sum(s["state"] == "unsubmitted" for s in task_states(jd, Slurm()).values()) == 3
    wait(jd, until=("done", "unsubmitted"))
    for _ in range(120):
        if not jd.spec()["unsubmitted"] and all(s["state"] == "done" for s in task_states(jd, Slurm()).values()):
            break
        resubmit(jd, Slurm())
        time.sleep(1)
    assert collect(jd.root)["ok"] == 5
