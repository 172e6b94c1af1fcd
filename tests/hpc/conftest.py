"""A real single-node Slurm for the cluster tests: installed from Debian if missing (the tests run as root on
a fresh machine), configured, started, and stopped by PID when the session ends."""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONF = """ClusterName=perovscreen
SlurmctldHost={host}
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=2
KillWait=2
InactiveLimit=0
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName={host} CPUs={cpus} RealMemory=4000
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _ok(cmd) -> bool:
    return subprocess.run(cmd, capture_output=True).returncode == 0


def _install() -> None:
    if shutil.which("sbatch") and shutil.which("slurmctld") and shutil.which("munged"):
        return
    if os.geteuid() != 0:
        pytest.skip("Slurm is not installed and the tests are not root (apt-get install slurm-wlm munge)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "slurm-wlm", "munge"], check=False,
                   capture_output=True, env=env, timeout=900)
    if not shutil.which("sbatch"):
        subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "slurm-wlm", "munge"], check=True,
                       capture_output=True, env=env, timeout=900)


def _pid(path: str):
    try:
        return int(Path(path).read_text().split()[0])
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="session")
def slurm():
    """Start munged, slurmctld and slurmd (unless a Slurm already answers); stop the ones we started."""
    _install()
    started = []
    if not _ok(["scontrol", "ping"]) or not _ok(["sinfo"]):
        host = socket.gethostname()
        for d in ("/var/spool/slurmctld", "/var/spool/slurmd", "/var/log/slurm", "/run/munge", "/etc/slurm"):
            Path(d).mkdir(parents=True, exist_ok=True)
        shutil.chown("/var/spool/slurmctld", "slurm", "slurm")
        shutil.chown("/var/log/slurm", "slurm", "slurm")
        shutil.chown("/run/munge", "munge", "munge")
        Path("/etc/slurm/slurm.conf").write_text(CONF.format(host=host, cpus=os.cpu_count() or 2))
        if not Path("/etc/munge/munge.key").exists():
            subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/mungekey", "--create"], check=False)
        subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged", "--force"], check=True)
        started.append(("munged", "/run/munge/munged.pid"))
        subprocess.run(["/usr/sbin/slurmctld"], check=True)
        started.append(("slurmctld", "/run/slurmctld.pid"))
        time.sleep(2)
        subprocess.run(["/usr/sbin/slurmd"], check=True)
        started.append(("slurmd", "/run/slurmd.pid"))
        deadline = time.time() + 60
        while time.time() < deadline and "idle" not in subprocess.run(["sinfo", "-h", "-o", "%T"],
                                                                      capture_output=True, text=True).stdout:
            time.sleep(1)
    # the test stages live beside this file; job scripts inherit the environment (sbatch --export=ALL)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    yield
    subprocess.run(["scancel", "--user", "root"], capture_output=True)
    for _, pidfile in reversed(started):
        pid = _pid(pidfile)
        if pid:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
