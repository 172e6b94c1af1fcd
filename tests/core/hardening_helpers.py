"""Test stages for the runner hardening tests (a uniquely named module: pool workers import it by name).
PROBE logs every computation, and can kill its own worker or hang for one chosen id."""
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from pymatgen.io.cif import CifWriter

from perovscreen.jobs.stage import Stage, param
from perovscreen.structures.examples import get_example


@dataclass(frozen=True)
class ProbeParams:
    log: str = param("", "file that records each computed id", science=False)
    sleep: float = param(0.0, "seconds per structure", science=False)
    kill_on: str = param("", "id whose task SIGKILLs its own worker", science=False)
    hang_on: str = param("", "id whose task sleeps for a minute", science=False)


def probe_run(record, params):
    if params.log:
        with open(params.log, "a") as fh:
            fh.write(record.id + "\n")
    if record.id == params.kill_on:
        os.kill(os.getpid(), signal.SIGKILL)
    if record.id == params.hang_on:
        time.sleep(60)
    time.sleep(params.sleep)
    return {"n_sites": record.n_sites, "formula": record.formula}


PROBE = Stage("probe", 1, ProbeParams, probe_run)


def strained(folder: Path, n: int, prefix: str = "s") -> list[Path]:
    """n distinct crystals (strained Li3OCl) as folder/<prefix><k>.cif."""
    folder.mkdir(parents=True, exist_ok=True)
    base = get_example("Li3OCl")
    out = []
    for k in range(n):
        s = base.copy()
        s.scale_lattice(base.volume * (1 + 0.02 * k))
        out.append(folder / f"{prefix}{k}.cif")
        CifWriter(s).write_file(out[-1])
    return out


def calls(log) -> list[str]:
    return Path(log).read_text().split() if Path(log).exists() else []
