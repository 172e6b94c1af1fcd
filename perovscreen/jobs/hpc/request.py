"""A scheduler resource request, validated before anything is written or submitted."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from perovscreen.core.errors import InputError


def minutes(text: str | float | int) -> int:
    """Slurm/PBS time: 'MM', 'HH:MM:SS', 'D-HH:MM', 'D-HH:MM:SS', '90m', '2h' or a number of minutes."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text <= 0:
            raise InputError(f"time must be positive, got {text}")
        return max(1, int(round(text)))
    s = str(text).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([mh])", s)
    if m:
        v = float(m.group(1)) * (60 if m.group(2) == "h" else 1)
    else:
        m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", s)
        if not m:
            raise InputError(f"cannot read time {text!r}: use minutes, HH:MM:SS, D-HH:MM or e.g. 90m, 2h")
        d, a, b, c = (int(x) if x else None for x in m.groups())
        if c is not None:
            v = a * 60 + b + c / 60
        elif b is not None:
            v = (a * 60 + b) if d is not None else (a + b / 60)  # D-HH:MM or MM:SS
        else:
            v = a * 60 if d is not None else a
        v += (d or 0) * 1440
    if v <= 0:
        raise InputError(f"time must be positive, got {text!r}")
    return max(1, int(round(v)))


def megabytes(text: str | int) -> int:
    """'4G', '500M', '2048' (MB) -> MB."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*", str(text), re.I)
    if not m:
        raise InputError(f"cannot read memory {text!r}: use e.g. 4G or 500M")
    v = float(m.group(1)) * {"": 1, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 ** 2}[m.group(2).upper()]
    if v <= 0:
        raise InputError(f"memory must be positive, got {text!r}")
    return max(1, int(round(v)))


@dataclass
class Request:
    cores: int = 1
    mem_mb: int = 2048
    minutes: int = 30
    gpus: int = 0
    partition: str = ""
    account: str = ""
    qos: str = ""

    def __post_init__(self):
        for name in ("cores", "gpus"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < (0 if name == "gpus" else 1):
                raise InputError(f"--{name} must be a whole number >= {0 if name == 'gpus' else 1}, got {v!r}")
        for name in ("partition", "account", "qos"):
            if not re.fullmatch(r"[\w.,-]*", getattr(self, name)):
                raise InputError(f"--{name} {getattr(self, name)!r}: letters, digits, '_', '.', ',', '-' only")

    @property
    def walltime(self) -> str:
        return f"{self.minutes // 60:02d}:{self.minutes % 60:02d}:00"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_stage(cls, resources, per_task: int = 1, **over) -> "Request":
        """The stage's declared resources for a task of `per_task` subjects; `over` (CLI flags) win."""
        req = cls(cores=resources.cores, mem_mb=int(resources.memory_gb * 1024),
                  minutes=max(1, int(round(resources.walltime_min * per_task))), gpus=resources.gpus)
        for k, v in over.items():
            if v is not None:
                setattr(req, k, v)
        req.__post_init__()
        return req
