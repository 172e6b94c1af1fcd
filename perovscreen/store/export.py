"""Export stored runs as CSV (flattened result fields) or JSON."""
from __future__ import annotations

import csv
import io
import json


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, (list, tuple)):
            out[key] = json.dumps(v, default=str)
        else:
            out[key] = v
    return out


def export_runs(runs: list[dict], fmt: str = "csv") -> str:
    """Runs from `Store.runs()` as CSV text (one row per run) or a JSON array."""
    if fmt == "json":
        return json.dumps(runs, indent=1, default=str)
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r} (csv or json)")
    rows = []
    for r in runs:
        row = {k: r[k] for k in ("id", "file", "formula", "identity", "stage", "status", "error", "seconds",
                                 "params_hash", "structure_key")}
        row["code_version"] = (r.get("provenance") or {}).get("code_version")
        key = r.get("params") or {}
        row["stage_version"] = key.get("version")
        row.update(_flatten(key.get("identities") or {}, "model."))  # weights, model and reference-set hashes
        row.update(_flatten(r.get("result") or {}, "result."))
        rows.append(row)
    fields = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
