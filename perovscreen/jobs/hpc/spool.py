"""The job folder: job.json (what to run), scripts, scheduler logs, and per task a spool folder with the
markers `started`, `done`, `failed` (exit code) and one result file per structure, each written atomically
(temporary file + rename: a reader never sees half a file, a killed writer leaves no partial result)."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

from perovscreen.core.errors import InputError


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class JobDir:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    @property
    def spec_file(self) -> Path:
        return self.root / "job.json"

    def spec(self) -> dict:
        try:
            return json.loads(self.spec_file.read_text())
        except OSError:
            raise InputError(f"{self.root}: not a perovscreen job folder (no job.json)") from None
        except ValueError as exc:
            raise InputError(f"{self.spec_file}: not valid JSON ({exc})") from None

    def save(self, spec: dict) -> None:
        write_atomic(self.spec_file, json.dumps(spec, indent=1))

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def task(self, i: int) -> Path:
        return self.root / "spool" / str(i)

    def result_path(self, i: int, file_index: int, block: int) -> Path:
        return self.task(i) / "results" / f"{file_index}-{block}.json"

    def marker(self, i: int, name: str) -> dict | None:
        p = self.task(i) / name
        if not p.is_file():
            return None
        try:
            return json.loads(p.read_text() or "{}")
        except ValueError:
            return {"unreadable": True}

    def mark(self, i: int, name: str, data: dict) -> None:
        write_atomic(self.task(i) / name, json.dumps(data))

    def log_text(self, job_id: str, i: int) -> str:
        text = ""
        for suffix in ("out", "err"):
            p = self.logs / f"{job_id}_{i}.{suffix}"
            if p.is_file():
                text += p.read_text(errors="replace")[-20000:]
        return text


def failure_from_log(text: str) -> str | None:
    """What the scheduler wrote when it killed a task (Slurm's slurmstepd lines, PBS's messages)."""
    if re.search(r"DUE TO TIME LIMIT|walltime \d.* exceeded|PBS: job killed: walltime", text, re.I):
        return "timeout"
    if re.search(r"oom[-_ ]kill|Out Of Memory|exceeded memory limit|PBS: job killed: mem", text, re.I):
        return "out-of-memory"
    if re.search(r"DUE TO NODE FAILURE|DUE TO PREEMPTION|node fail", text, re.I):
        return "node-failure"
    if re.search(r"CANCELLED AT", text):
        return "cancelled"
    return None
