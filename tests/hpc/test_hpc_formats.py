"""Scheduler text without a scheduler: directives against golden files, recorded squeue/qstat/qsub output,
time and memory parsing, array compression, failure classes read from logs."""
import json
from pathlib import Path

import pytest

from perovscreen.core.errors import InputError
from perovscreen.jobs.hpc.request import Request, megabytes, minutes
from perovscreen.jobs.hpc.schedulers import PBS, Slurm, compress, parse_qstat, parse_squeue
from perovscreen.jobs.hpc.spool import failure_from_log

GOLDEN = Path(__file__).parent / "golden"
REQ = Request(cores=4, mem_mb=8192, minutes=90, gpus=1, partition="short", account="chem42", qos="normal")


@pytest.mark.parametrize("sched,name", [(Slurm(), "slurm_directives.txt"), (PBS(), "pbs_directives.txt")])
def test_directives_match_golden_files(sched, name):
    got = "\n".join(sched.directives(REQ, "bvse-1234abcd", "0-99", 8, "/scratch/job/logs")) + "\n"
    assert got == (GOLDEN / name).read_text()


def test_recorded_scheduler_outputs_are_parsed():
    squeue = "57_0|RUNNING|None\n57_1|PENDING|Priority\n57_2|PENDING|QOSMaxJobsPerUserLimit\n58_3|TIMEOUT|None\n"
    assert parse_squeue(squeue) == {("57", 0): ("running", ""), ("57", 1): ("queued", "Priority"),
                                    ("57", 2): ("queued", "QOSMaxJobsPerUserLimit"), ("58", 3): ("timeout", "")}
    qstat = json.loads((GOLDEN / "qstat_array.json").read_text())
    got = parse_qstat(json.dumps(qstat))
    assert got[("12345", 0)] == ("done", "")
    assert got[("12345", 1)][0] == "running"
    assert got[("12345", 2)] == ("queued", "Not Running: Insufficient amount of resource: ncpus")
    assert got[("12345", 3)][0] == "timeout" and got[("12345", 4)][0] == "out-of-memory"
    assert PBS().parse_job_id("12345[].pbs-server.cluster\n") == "12345"
    assert Slurm().parse_job_id("4242;cluster\n") == "4242"
    with pytest.raises(InputError, match="no job id"):
        Slurm().parse_job_id("sbatch: error: QOSMaxSubmitJobPerUserLimit\n")


def test_failure_classes_from_scheduler_logs():
    assert failure_from_log("slurmstepd: error: *** JOB 12 ON vm CANCELLED AT 2026-12-02T05:58:06 DUE TO TIME "
                            "LIMIT ***") == "timeout"
    assert failure_from_log("slurmstepd: error: Detected 1 oom-kill event(s) in StepId=12.batch") == "out-of-memory"
    assert failure_from_log("=>> PBS: job killed: walltime 3630 exceeded limit 3600") == "timeout"
    assert failure_from_log("*** JOB 9 ON n1 CANCELLED AT 2026-01-01T00:00:00 DUE TO NODE FAILURE ***") == \
        "node-failure"
    assert failure_from_log("slurmstepd: error: *** JOB 9 ON n1 CANCELLED AT 2026-01-01T00:00:00 ***") == "cancelled"
    assert failure_from_log("Traceback (most recent call last): ...") is None


def test_time_memory_and_resources_are_validated():
    assert [minutes(x) for x in ("30", "01:30:00", "1-02:00", "90m", "2h", 45)] == [30, 90, 1560, 90, 120, 45]
    assert megabytes("4G") == 4096 and megabytes("500M") == 500 and megabytes("2048") == 2048
    for bad in ("ten", "-5", "0"):
        with pytest.raises(InputError):
            minutes(bad)
    with pytest.raises(InputError, match="cannot read memory"):
        megabytes("lots")
    with pytest.raises(InputError, match="--cores must be a whole number >= 1"):
        Request(cores=-1)
    with pytest.raises(InputError, match="--partition"):
        Request(partition="debug; rm -rf /")
    assert REQ.walltime == "01:30:00"


def test_array_specs():
    assert compress([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8" and compress([3]) == "3" and compress([]) == ""
    with pytest.raises(InputError, match="one range"):
        PBS().directives(REQ, "x", "0-2,5", None, "/l")


def test_dry_run_prints_the_script_and_writes_nothing(tmp_path):
    from pymatgen.io.cif import CifWriter

    from perovscreen.bvse.stage import BVSE
    from perovscreen.jobs.hpc.submit import submit
    from perovscreen.jobs.runner import RunOptions
    from perovscreen.structures.examples import get_example

    for n in ("Li3OCl", "LiNbO3", "LiTaO3"):
        CifWriter(get_example(n)).write_file(tmp_path / f"{n}.cif")
    out = tmp_path / "out"
    spec = submit(BVSE, [tmp_path], BVSE.make(), RunOptions(db=str(tmp_path / "r.db"), quiet=True),
                  scheduler="pbs", out=out, chunk=2, dry_run=True, setup="module load python")
    (script,) = spec["dry_run_scripts"]
    assert "#PBS -J 0-1" in script and "$PBS_ARRAY_INDEX" in script and "module load python" in script
    assert "-m perovscreen worker" in script and len(spec["chunks"]) == 2
    assert not out.exists()
