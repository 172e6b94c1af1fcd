"""Content hashes: files, directories of weights, JSON-able values (the resume key is built from these)."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


def canonical_json(obj) -> str:
    """JSON with sorted keys and no spaces: equal values give equal text (and equal hashes)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def value_hash(obj, length: int = 16) -> str:
    """Stable short hash of a JSON-able value (key order does not matter)."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:length]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def path_sha256(path: str | Path) -> str:
    """SHA-256 of a file, or of a directory's files (relative names and contents, in sorted order)."""
    p = Path(path)
    if p.is_file():
        return file_sha256(p)
    h = hashlib.sha256()
    for f in sorted(x for x in p.rglob("*") if x.is_file()):
        h.update(str(f.relative_to(p)).encode() + b"\0" + file_sha256(f).encode())
    return h.hexdigest()
